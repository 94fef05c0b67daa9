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
// Weights are packed once (pack_weights_nk_int8) into panels of 16 columns with K in groups of 4
// (gemm_int8_impl.h); the buffer is opaque to callers, sized by qgemm_int8_packed_size(). Rows of
// A are converted to u8 (a + 128) in scratch, and the kernel is picked at run time (cpu_isa.h):
// AVX-512 VNNI (vpdpbusd), AVX2 (int16 pairs, vpmaddwd) or portable scalar. All give the same
// bits: int32 sums are exact in any order and requantization is requantize_to_int8().
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/requantize.h"

namespace neutron {

struct QGemmInt8Params {
  int32_t rows = 0;   // M
  int32_t cols = 0;   // N
  int32_t depth = 0;  // K
  const int16_t* weights = nullptr;             // packed by pack_weights_nk_int8 (opaque)
  const int32_t* bias = nullptr;                // [N], as fold_zero_point_into_bias() wrote it
  const FixedMultiplier* multipliers = nullptr; // [N]
  int32_t output_zero_point = 0;
  int32_t qmin = -128;  // fused activation range in the int8 domain
  int32_t qmax = 127;
  int16_t* scratch = nullptr;  // qgemm_int8_scratch_bytes(depth) bytes
};

// Size of the packed weights for depth K and N columns, in int16 units (the buffer is opaque).
size_t qgemm_int8_packed_size(int32_t K, int32_t N);

// Packs B (int8): `b` is [K][N] when `b_is_kn`, [N][K] (already transposed) otherwise. `packed`
// has qgemm_int8_packed_size(K, N) elements.
void pack_weights_nk_int8(const int8_t* b, int32_t K, int32_t N, bool b_is_kn, int16_t* packed);

// bias_out[n] = (bias ? bias[n] : 0) - (a_zero_point + 128) * sum_k W[n][k] (wrapping int32; the
// kernels compute sum_k (A + 128) * W).
void fold_zero_point_into_bias(const int16_t* packed, int32_t K, int32_t N, const int32_t* bias,
                               int32_t a_zero_point, int32_t* bias_out);

// Scratch of qgemm_int8 for depth K: a tile of rows of A as u8.
size_t qgemm_int8_scratch_bytes(int32_t K);

// C[m][n] for A with row stride lda and C with row stride ldc (elements).
void qgemm_int8(const QGemmInt8Params& p, const int8_t* a, size_t lda, int8_t* c, size_t ldc);

}  // namespace neutron
