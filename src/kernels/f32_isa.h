// Entry points of f32_simd_impl.h, one set per ISA (not a public API).
#pragma once
#include <cstdint>

#include "kernels/conv2d_f32.h"
#include "kernels/gemm_f32.h"
#include "kernels/pool_f32.h"

namespace neutron {
// Output rows of the implicit-GEMM convolution: virtual row v is C row (v / vwidth) * valid +
// v % vwidth (row stride out_c) when v % vwidth < valid, else it goes to `dummy` (out_c floats
// rounded up to whole panels), whose contents are never used.
struct ConvImplicitRowMap {
  float* y = nullptr;
  float* dummy = nullptr;
  int64_t vwidth = 1, valid = 1;
};
#define NEUTRON_F32_DECLARE(ns)                                                                                    \
  namespace ns {                                                                                                   \
  void gemm_blocked(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* packed_b, float* c, \
                    int64_t ldc, const GemmF32Epilogue& ep, const GemmF32AFill* fill = nullptr);                   \
  void depthwise_m1(const Conv2DF32Params& p, const float* x, const float* w, const float* bias, float* y);       \
  void conv_implicit_rows(const Conv2DF32Params& p, const float* a, int64_t lda, int64_t count, int64_t seg_stride, \
                          const ConvImplicitRowMap& map, const float* packed_w, const float* bias, float** crow);  \
  bool conv_implicit_packed_available();                                                                        \
  void conv_implicit_packed(const Conv2DF32Params& p, const float* img, int64_t Wp, const float* packed_w,        \
                            const float* bias, float* y);                                                       \
  void binary_act(int64_t n, const float* a, const float* b, float* out, bool sub, bool relu, float lo, float hi); \
  void maxpool_nhwc(const Pool2DParams& p, const float* x, float* y);                                             \
  }
NEUTRON_F32_DECLARE(f32_base)
NEUTRON_F32_DECLARE(f32_avx2)
NEUTRON_F32_DECLARE(f32_avx512)
#undef NEUTRON_F32_DECLARE
}  // namespace neutron
