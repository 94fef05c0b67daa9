// Entry points of f32_simd_impl.h, one set per ISA (not a public API).
#pragma once
#include <cstdint>

#include "kernels/conv2d_f32.h"
#include "kernels/gemm_f32.h"

namespace neutron {
#define NEUTRON_F32_DECLARE(ns)                                                                                    \
  namespace ns {                                                                                                   \
  void gemm_blocked(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* packed_b, float* c, \
                    int64_t ldc, const GemmF32Epilogue& ep, const GemmF32AFill* fill = nullptr);                   \
  void depthwise_m1(const Conv2DF32Params& p, const float* x, const float* w, const float* bias, float* y);       \
  }
NEUTRON_F32_DECLARE(f32_base)
NEUTRON_F32_DECLARE(f32_avx2)
NEUTRON_F32_DECLARE(f32_avx512)
#undef NEUTRON_F32_DECLARE
}  // namespace neutron
