// float32 matrix multiplication C = A * B (+ per-column bias | + C), with an optional output clamp.
//
// B is packed once (at bind time for constant weights) into column panels of kGemmNr floats:
//
//   packed[(p * K + k) * kGemmNr + j] = scale * op(B)[k][p * kGemmNr + j]   (0 past column N)
//
// so that the microkernel streams one panel contiguously. A is read in place (row-major with a
// leading dimension, no packing). The driver blocks M by kGemmMc rows and K by kGemmKc so that a
// kGemmKc x kGemmNr slice of a B panel stays in L1 while the register tiles (kGemmMr x kGemmNr)
// of an A block (kGemmMc x kGemmKc, in L2) sweep over it.
//
// The microkernel uses GCC/Clang vector extensions (f32_simd_impl.h), built for baseline x86-64 /
// other targets, AVX2+FMA and AVX-512, one chosen at run time (cpu_isa.h): tiles of 6 x 16
// (SSE2: 6 x 4 vectors; AVX2: 6 x 2) or 12 x 16 (AVX-512: 12 zmm accumulators).
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

namespace neutron {

// The packed-B format is shared with code built without the kernels' ISA flags (binders pack
// weights), so it must not depend on the ISA: 16 columns per panel everywhere (4 SSE vectors or
// 2 AVX vectors per tile row).
constexpr int kGemmNr = 16;  // columns of a register tile (= width of a packed B panel)
constexpr int kGemmMr = 6;      // rows of a register tile
constexpr int kGemmMc = 120;    // rows of A per cache block (a multiple of kGemmMr)
constexpr int kGemmKc = 256;    // depth of a cache block

// Floats needed by gemm_f32_pack_b for a K x N matrix.
inline size_t gemm_f32_packed_b_floats(int64_t K, int64_t N) {
  return size_t((N + kGemmNr - 1) / kGemmNr) * size_t(K) * kGemmNr;
}

// Packs op(B) scaled by `scale`, where op(B)[k][n] = trans ? b[n * ldb + k] : b[k * ldb + n].
void gemm_f32_pack_b(const float* b, int64_t ldb, bool trans, int64_t K, int64_t N, float scale, float* packed);

// Packs a K x N matrix given elementwise: b_at(k, n) for k < K, n < N (used to repack weights from
// layouts that are not a strided matrix, e.g. conv kernels).
template <typename F>
void gemm_f32_pack_b_with(int64_t K, int64_t N, F&& b_at, float* packed) {
  const int64_t panels = (N + kGemmNr - 1) / kGemmNr;
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < kGemmNr; ++j) {
        const int64_t n = p * kGemmNr + j;
        packed[(p * K + k) * kGemmNr + j] = n < N ? float(b_at(k, n)) : 0.0f;
      }
}

// What is added to A * B, and the clamp applied to the sum.
struct GemmF32Epilogue {
  const float* bias = nullptr;  // [N], added to every row (ignored when accumulate)
  bool accumulate = false;      // true: C += A * B (C holds an initial value), false: C = A * B + bias
  // relu: first v > 0 ? v : 0 (a fused Relu: NaN and -0 give +0, as the Relu op does), then the clamp.
  bool relu = false;
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

// C[M, N] (row stride ldc) = epilogue(A[M, K] (row stride lda) * B), B packed by gemm_f32_pack_b.
// K may be 0 (C = bias, or C unchanged when accumulating; then clamped).
void gemm_f32(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* packed_b, float* c,
              int64_t ldc, const GemmF32Epilogue& ep);

// A supplied block by block instead of as a matrix (a convolution's im2col, made one cache block
// at a time so it stays in L2): fill(ctx, m0, rows, k0, kc, dst) writes A[m0 + r][k0 + k] to
// dst[r * kc + k] for r < rows, k < kc. Same blocks, products and sums as gemm_f32.
struct GemmF32AFill {
  void (*fill)(const void* ctx, int64_t m0, int64_t rows, int64_t k0, int64_t kc, float* dst) = nullptr;
  const void* ctx = nullptr;
  float* scratch = nullptr;  // gemm_f32_fill_scratch_floats(M, K) floats
};
inline size_t gemm_f32_fill_scratch_floats(int64_t M, int64_t K) {
  return size_t(M < kGemmMc ? M : kGemmMc) * size_t(K < kGemmKc ? K : kGemmKc);
}
// K > 0.
void gemm_f32_filled(int64_t M, int64_t N, int64_t K, const GemmF32AFill& a, const float* packed_b, float* c,
                     int64_t ldc, const GemmF32Epilogue& ep);

}  // namespace neutron
