// Quantized int8 pooling, NHWC: MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool.
//
// MaxPool: out = requant(max over the window's valid taps). Padded taps are -inf (ONNX), so
// they never win. When input and output quantization are identical the max is copied
// unchanged; otherwise out = clamp(zo + round_half_even((max - zi) * M), qmin, qmax) with
// M = s_in / s_out. Requantization is monotone, so max-then-requantize equals the QDQ meaning.
//
// AveragePool: acc = sum over the valid taps of (in - zi) in int32; padded taps are real 0.
// out = clamp(zo + round_half_even(acc * M[count]), qmin, qmax), M[count] = s_in / (s_out * count)
// held per possible divisor (1 .. kernel_h * kernel_w). The divisor of a window, as in
// PyTorch and ONNX Runtime: the window is clipped to the padded extent
// [-pad_begin, in + pad_end); count_include_pad counts that clipped window, otherwise only the
// taps inside the input.
//
// Global pools reduce over H*W per channel (one multiplier s_in / (s_out * H * W)).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/requantize.h"

namespace neutron {

struct PoolInt8Params {
  int32_t batch = 1, in_h = 0, in_w = 0, channels = 0;
  int32_t out_h = 0, out_w = 0;
  int32_t kernel_h = 1, kernel_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t dilation_h = 1, dilation_w = 1;  // MaxPool only
  int32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;  // AveragePool only
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int32_t qmin = -128, qmax = 127;
  // MaxPool / GlobalMaxPool: requantize unless input and output quantization are identical.
  bool requantize = false;
  FixedMultiplier multiplier;  // MaxPool: s_in / s_out; GlobalAveragePool: s_in / (s_out * H * W)
  // AveragePool: [kernel_h * kernel_w + 1], entry c = s_in / (s_out * c) (entry 0 unused).
  const FixedMultiplier* count_multipliers = nullptr;
};

// Scratch for the average pools: channels int32 accumulators.
inline size_t pool_int8_scratch_bytes(const PoolInt8Params& p) { return size_t(p.channels) * sizeof(int32_t); }

// in: [batch][in_h][in_w][channels], out: [batch][out_h][out_w][channels].
void max_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out);
void average_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out, void* scratch);
// out: [batch][channels] (i.e. [batch][1][1][channels]).
void global_max_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out);
void global_average_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out, void* scratch);

}  // namespace neutron
