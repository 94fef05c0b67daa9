// Quantized int8 batched matrix product of two runtime tensors (ONNX MatMul with both operands
// activations; Neutron BATCH_MATMUL):
//
//   Y[b][m][n] = clamp(zo + round_half_even(acc * M), qmin, qmax)
//   acc        = sum_k (A[b][m][k] - za) * (B[b][k][n] - zb)       exact in int32
//   M          = s_a * s_b / s_out as a FixedMultiplier (requantize.h), rounded once
//
// Both zero points may be nonzero (upstream's Neutron rule requires 0 for both; the CPU kernel
// does not need it). Per batch, B is packed raw into the int8 GEMM's panels (gemm_int8_impl.h) and
// the GEMM computes sum_k (A + 128) * B; the zero points enter as a per-column term
// (K * zb - sum_k B) * (za + 128) and a per-row term -zb * sum_k (A + 128), so
//   acc = sum_k (A - za) * (B - zb)   exactly (wrapping int32 arithmetic).
// Every partial sum of the int32 accumulator is bounded by K * (128 + |za|) * (128 + |zb|), so K
// is limited to batch_matmul_int8_max_depth(za, zb): 131071 with zero points 0 (upstream's
// case), 32767 in the worst case.
//
// A batch stride of 0 broadcasts that operand over the batches (B packed once).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/requantize.h"

namespace neutron {

constexpr int32_t batch_matmul_int8_max_depth(int32_t a_zero_point, int32_t b_zero_point) {
  const int64_t za = a_zero_point < 0 ? -int64_t(a_zero_point) : int64_t(a_zero_point);
  const int64_t zb = b_zero_point < 0 ? -int64_t(b_zero_point) : int64_t(b_zero_point);
  return int32_t(((int64_t(1) << 31) - 1) / ((128 + za) * (128 + zb)));
}

struct BatchMatMulInt8Params {
  int32_t batch = 1, m = 0, k = 0, n = 0;
  int64_t a_batch_stride = 0;  // elements between A[b] and A[b + 1]; 0 = A broadcast
  int64_t b_batch_stride = 0;  // elements between B[b] and B[b + 1]; 0 = B broadcast
  int32_t a_zero_point = 0, b_zero_point = 0, output_zero_point = 0;
  FixedMultiplier multiplier;  // s_a * s_b / s_out
  int32_t qmin = -128, qmax = 127;
};

// Working memory of batch_matmul_int8: packed B, the folded bias, the multiplier row and the GEMM's
// row scratch.
size_t batch_matmul_int8_scratch_bytes(const BatchMatMulInt8Params& p);

// A: [batch][m][k], B: [batch][k][n] (row-major, strides above), Y: [batch][m][n] contiguous.
// `scratch` is 16-byte aligned and batch_matmul_int8_scratch_bytes(p) long.
void batch_matmul_int8(const BatchMatMulInt8Params& p, const int8_t* a, const int8_t* b, int8_t* y, void* scratch);

}  // namespace neutron
