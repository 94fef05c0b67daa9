// Quantized int8 ReduceMean and ReduceSum over any axes (reduce.h's collapsed ReduceParams):
//
//   acc = sum over the reduced elements of (q - z_in)          exact in int32
//   y   = clamp(z_out + round_half_even(acc * M), -128, 127)   one rounding (requantize.h)
//   M   = s_in / (s_out * count) for Mean, s_in / s_out for Sum
//
// which is the QDQ meaning (dequantize, sum or mean in real numbers, quantize half to even) up to
// the 31-bit multiplier. ReduceMax/ReduceMin need no int8 kernel of their own: with the same
// quantization in and out they are reduce<int8_t> on the raw values (requantization is monotone).
//
// count (ReduceParams::reduce_count) is at most kReduceInt8MaxCount, so |acc| <= 255 * 2^23 < 2^31.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/reduce.h"
#include "kernels/requantize.h"

namespace neutron {

constexpr int64_t kReduceInt8MaxCount = int64_t(1) << 23;

struct ReduceInt8Params {
  ReduceParams shape;  // prepare_reduce() of the input shape and axes
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  FixedMultiplier multiplier;  // Mean: s_in / (s_out * count); Sum: s_in / s_out
};

// The accumulators: out_count int32.
inline size_t reduce_sum_int8_scratch_bytes(const ReduceInt8Params& p) {
  return size_t(p.shape.out_count) * sizeof(int32_t);
}

// Mean and Sum (they differ only in the multiplier). `scratch` holds the accumulators.
void reduce_sum_int8(const ReduceInt8Params& p, const int8_t* x, int8_t* y, void* scratch);

// L2 normalization along one axis of [outer, n, inner] (LpNormalization p = 2, F.normalize):
//   ss = sum_k (q_k - z_in)^2                                   exact in int64
//   y  = quantize_real((q - z_in) / max(sqrt(ss), eps / s_in), s_out, z_out)   in double
// which is x / max(||x||, eps) of the dequantized x, quantized half to even; a zero divisor gives
// the zero point. Usual output parameters: s_out = 1/128, z_out = 0 (the result is in [-1, 1]).
struct L2NormInt8Params {
  int64_t outer = 1, n = 1, inner = 1;
  int32_t input_zero_point = 0, output_zero_point = 0;
  double eps_over_in_scale = 0;  // eps / s_in
  double out_scale = 1;          // s_out
};
void l2_normalize_int8(const L2NormInt8Params& p, const int8_t* x, int8_t* y);

}  // namespace neutron
