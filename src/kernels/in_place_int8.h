// int8 conv and fully connected kernels that read their weights in place, in the kernel-call
// ABI's layout (npu/kernel_args.h) as a program stores them: no packing, no copy, no scratch. This
// is the portable path a Cortex-M33 runs with the weights left in flash; the packed paths
// (conv_int8.h, gemm_int8.h: int16 panels for AVX2 / AVX-512 VNNI) need a repacked copy, which
// only the host makes (docs/architecture.md, runtime memory model). Same bits as the packed paths:
// the int32 sums are exact (the kernel-call executor checks the accumulator bound at prepare) and
// requantization is requantize_to_int8().
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/conv_int8.h"
#include "kernels/requantize.h"

namespace neutron {

// Conv2DInt8Params `p` (weights / bias / multipliers fields unused) with
//   weights_ohwi  [out_c][kernel_h][kernel_w][ic_stride] int8, ic_stride >= in_c / groups
//   bias          [out_c] int32 in accumulator units (not folded with the input zero point)
//   multipliers   [out_c]
// Direct loops over each output pixel and channel; taps outside the image are skipped (they hold
// the input zero point, i.e. add nothing).
void conv2d_int8_nhwc_in_place(const Conv2DInt8Params& p, const int8_t* weights_ohwi, int32_t ic_stride,
                               const int32_t* bias, const FixedMultiplier* multipliers, const int8_t* in, int8_t* out);

struct FullyConnectedInt8InPlace {
  int32_t rows = 0, in_features = 0, out_features = 0;
  const int8_t* weights = nullptr;  // [out_features][row_stride]
  int32_t row_stride = 0;           // >= in_features
  const int32_t* bias = nullptr;    // [out_features], accumulator units
  const FixedMultiplier* multipliers = nullptr;  // [out_features], or [1] when !per_channel
  bool per_channel = true;
  int32_t input_zero_point = 0, output_zero_point = 0;
  int32_t qmin = -128, qmax = 127;
};

// out[r][n] = requantize(bias[n] + sum_k (in[r][k] - zi) * W[n][k]); in [rows][in_features].
void fully_connected_int8_in_place(const FullyConnectedInt8InPlace& p, const int8_t* in, int8_t* out);

}  // namespace neutron
