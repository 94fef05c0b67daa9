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

}  // namespace neutron
