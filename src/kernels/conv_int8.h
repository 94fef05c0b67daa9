// Quantized int8 2-D convolution, NHWC activations.
//
//   out[n][y][x][oc] = clamp(zo + round_half_even(acc * M[oc]), qmin, qmax)
//   acc = bias[oc] + sum_{ky,kx,ic in group} (in[n][iy][ix][ic] - zi) * W[oc][ic][ky][kx]
//   iy = y * stride_h - pad_top + ky * dilation_h   (likewise ix)
//
// Input: int8 asymmetric (zi). Weights: int8 symmetric per output channel (zero point 0).
// Bias: int32 in accumulator units (s_in * s_w[oc]). M[oc] = s_in * s_w[oc] / s_out. Padded
// positions hold the input zero point, i.e. the real value 0, so they add nothing to acc.
//
// Two paths, chosen at pack time:
//  * general (any groups): im2col of a tile of output pixels into scratch as u8 (x + 128, padding
//    written as zi), then the int8 GEMM (gemm_int8_impl.h) per group against W packed in its
//    panel layout over k = (ky, kx, ic_in_group); (zi + 128) * sum(W[oc]) is folded into the bias.
//  * depthwise (groups == in_c > 1, out_c = in_c * depth_multiplier): per output pixel, a
//    channel-vector accumulation over the taps, W packed as int32 [ky][kx][oc]; taps outside the
//    image read a row of zi, and zi * sum(W[oc]) is folded into the bias.
// Both run AVX-512 / AVX2 / scalar code chosen at run time (cpu_isa.h), with identical results.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/requantize.h"

namespace neutron {

struct Conv2DInt8Params {
  int32_t batch = 1, in_h = 0, in_w = 0, in_c = 0;
  int32_t out_h = 0, out_w = 0, out_c = 0;
  int32_t kernel_h = 1, kernel_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t dilation_h = 1, dilation_w = 1;
  int32_t pad_top = 0, pad_left = 0;  // bottom/right padding follows from out_h/out_w
  int32_t groups = 1;
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int32_t qmin = -128, qmax = 127;  // fused activation range in the int8 domain
  bool depthwise = false;           // set by conv2d_int8_choose_path()

  // Filled by the caller from conv2d_int8_pack() outputs.
  const int16_t* weights = nullptr;              // packed by conv2d_int8_pack (opaque)
  const int32_t* bias = nullptr;                 // [out_c], as conv2d_int8_pack() wrote it
  const FixedMultiplier* multipliers = nullptr;  // [out_c]
};

// Sets p->depthwise from the geometry. Call before the functions below.
void conv2d_int8_choose_path(Conv2DInt8Params* p);

// Number of int16 elements of the packed weights (an opaque buffer in int16 units).
size_t conv2d_int8_packed_weights_size(const Conv2DInt8Params& p);

// Packs OIHW weights [out_c][in_c/groups][kh][kw] and the optional int32 bias (accumulator
// units) into the path's layouts. `packed` has conv2d_int8_packed_weights_size() elements and
// `bias_out` out_c entries.
void conv2d_int8_pack(const Conv2DInt8Params& p, const int8_t* weights_oihw, const int32_t* bias, int16_t* packed,
                      int32_t* bias_out);

// The same from weights laid out [out_c][kh][kw][ic], input channels ic_stride apart (>= in_c /
// groups; the NPU's padded layout), without an OIHW copy.
void conv2d_int8_pack_ohwi(const Conv2DInt8Params& p, const int8_t* weights_ohwi, int32_t ic_stride,
                           const int32_t* bias, int16_t* packed, int32_t* bias_out);

size_t conv2d_int8_scratch_bytes(const Conv2DInt8Params& p);

// in: [batch][in_h][in_w][in_c], out: [batch][out_h][out_w][out_c].
void conv2d_int8_nhwc(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, void* scratch);

}  // namespace neutron
