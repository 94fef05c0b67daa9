// Quantized int8 GEMM: the core of FullyConnected/Gemm/MatMul int8 and of the int8 Conv2D.
//
//   C[m][n] = clamp(zero_point_out + round_half_even(acc[m][n] * M[n]), qmin, qmax)
//   acc[m][n] = sum_k (A[m][k] - za) * W[n][k] + bias[n]
//            = sum_k A[m][k] * W[n][k] + (bias[n] - za * sum_k W[n][k])     <- folded at pack time
//
// A is int8 asymmetric (zero point za), W int8 symmetric (zero point 0, per-tensor or per-output-
// channel scale), bias int32 in accumulator units (scale s_a * s_w[n], zero point 0). M[n] is the
// fixed-point form of s_a * s_w[n] / s_out (requantize.h). Accumulation is exact in int32 for
// K < 2^16 (|A * W| <= 2^15).
//
// Weights are packed once as W[N][K] (K contiguous), widened to int16, so every output is one
// contiguous int16 dot product (pmaddwd: 8 or 16 multiply-adds per instruction); rows of A are
// widened to int16 into scratch, four at a time. The micro-kernels compute 4 rows x 1 column or
// 1 row x 4 columns per pass so that a loaded row of A or W is reused four times. On x86-64 with
// GCC they are also compiled for AVX2 and picked at load time (target_clones).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/requantize.h"

namespace neutron {

struct QGemmInt8Params {
  int32_t rows = 0;   // M
  int32_t cols = 0;   // N
  int32_t depth = 0;  // K
  const int16_t* weights = nullptr;             // packed [N][K], int8 values widened to int16
  const int32_t* bias = nullptr;                // [N], already minus za * sum_k W[n][k]
  const FixedMultiplier* multipliers = nullptr; // [N]
  int32_t output_zero_point = 0;
  int32_t qmin = -128;  // fused activation range in the int8 domain
  int32_t qmax = 127;
  int16_t* scratch = nullptr;  // qgemm_int8_scratch_bytes(depth) bytes
};

// Packs B into [N][K] int16: `b` is [K][N] when `b_is_kn`, [N][K] (already transposed) otherwise.
void pack_weights_nk_int8(const int8_t* b, int32_t K, int32_t N, bool b_is_kn, int16_t* packed);

// bias_out[n] = (bias ? bias[n] : 0) - a_zero_point * sum_k packed[n][k].
void fold_zero_point_into_bias(const int16_t* packed, int32_t K, int32_t N, const int32_t* bias,
                               int32_t a_zero_point, int32_t* bias_out);

// Scratch of qgemm_int8 for depth K: four int16 rows.
inline size_t qgemm_int8_scratch_bytes(int32_t K) { return 4 * size_t(K) * sizeof(int16_t) + 64; }

// C[m][n] for A with row stride lda and C with row stride ldc (elements).
void qgemm_int8(const QGemmInt8Params& p, const int8_t* a, size_t lda, int8_t* c, size_t ldc);

}  // namespace neutron
