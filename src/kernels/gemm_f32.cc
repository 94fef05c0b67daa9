#include "kernels/gemm_f32.h"

#include <cstring>

#include "kernels/cpu_isa.h"
#include "kernels/f32_isa.h"

#define NEUTRON_F32_NS f32_base
#include "kernels/f32_simd_impl.h"

namespace neutron {

void gemm_f32_pack_b(const float* b, int64_t ldb, bool trans, int64_t K, int64_t N, float scale, float* packed) {
  if (trans)
    gemm_f32_pack_b_with(K, N, [&](int64_t k, int64_t n) { return scale * b[n * ldb + k]; }, packed);
  else
    gemm_f32_pack_b_with(K, N, [&](int64_t k, int64_t n) { return scale * b[k * ldb + n]; }, packed);
}

void gemm_f32(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* packed_b, float* c,
              int64_t ldc, const GemmF32Epilogue& ep) {
  const bool clamp = ep.min > -std::numeric_limits<float>::infinity() || ep.max < std::numeric_limits<float>::infinity();
  if (K == 0) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        float v = ep.accumulate ? c[m * ldc + n] : (ep.bias ? ep.bias[n] : 0.0f);
        if (ep.relu) v = v > 0.0f ? v : 0.0f;
        c[m * ldc + n] = clamp ? (v < ep.min ? ep.min : (v > ep.max ? ep.max : v)) : v;
      }
    return;
  }
  switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
    case KernelIsa::kAvx512: f32_avx512::gemm_blocked(M, N, K, a, lda, packed_b, c, ldc, ep); return;
    case KernelIsa::kAvx2: f32_avx2::gemm_blocked(M, N, K, a, lda, packed_b, c, ldc, ep); return;
#endif
    default: f32_base::gemm_blocked(M, N, K, a, lda, packed_b, c, ldc, ep); return;
  }
}

void gemm_f32_filled(int64_t M, int64_t N, int64_t K, const GemmF32AFill& a, const float* packed_b, float* c,
                     int64_t ldc, const GemmF32Epilogue& ep) {
  switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
    case KernelIsa::kAvx512: f32_avx512::gemm_blocked(M, N, K, nullptr, 0, packed_b, c, ldc, ep, &a); return;
    case KernelIsa::kAvx2: f32_avx2::gemm_blocked(M, N, K, nullptr, 0, packed_b, c, ldc, ep, &a); return;
#endif
    default: f32_base::gemm_blocked(M, N, K, nullptr, 0, packed_b, c, ldc, ep, &a); return;
  }
}

}  // namespace neutron
