// float32 2-D convolution and transposed convolution, NHWC activations.
//
// Conv2D (ONNX Conv, NHWC):
//   y[n, oh, ow, g*Cout_g + co] = bias[..] + sum_{kh, kw, ci} x[n, ih, iw, g*Cin_g + ci] * w[g*Cout_g + co, ci, kh, kw]
//   with ih = oh * stride_h - pad_top + kh * dilation_h (likewise iw); x outside the image is 0.
//   Algorithms (chosen by conv2d_f32_prepare):
//     kGemmDirect  1x1, stride 1, no padding: the NHWC input is already the GEMM's A matrix.
//     kIm2colGemm  otherwise: per block of kGemmMc output pixels, gather the receptive fields
//                  (kh, kw, ci order) into scratch, then one cache-blocked GEMM per group.
//     kDepthwise   groups == in_c (any depth multiplier): a direct NHWC kernel vectorized over
//                  channels, weights repacked as [kh][kw][out_c].
//
// ConvTranspose2D (ONNX ConvTranspose, NHWC): every input pixel scatters x . w into the output:
//   y[n, ih*stride_h - pad_top + kh*dilation_h, iw*..., g*Cout_g + co] += x[n, ih, iw, g*Cin_g + ci] * w[g*Cin_g + ci, co, kh, kw]
//   computed as a GEMM (input pixels x [Cin_g] by [Cin_g] x [kh*kw*Cout_g]) into scratch, then a
//   scatter-add (col2im). output_padding and pad_bottom/right only shape the output (out_h, out_w).
//
// Usage: fill the geometry, call *_prepare once, pack the weights once into a buffer of
// *_packed_weights_floats floats, give run() *_scratch_bytes of scratch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/error.h"

namespace neutron {

enum class Conv2DAlgo : uint8_t { kGemmDirect, kIm2colGemm, kDepthwise };

struct Conv2DF32Params {
  // Geometry (filled by the caller).
  int64_t batch = 1;
  int64_t in_h = 0, in_w = 0, in_c = 0;     // x is [batch, in_h, in_w, in_c]
  int64_t out_h = 0, out_w = 0, out_c = 0;  // y is [batch, out_h, out_w, out_c]
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;  // bottom/right padding is implied by out_h/out_w
  int64_t groups = 1;
  float act_min = -std::numeric_limits<float>::infinity();  // output clamp (fused activation)
  float act_max = std::numeric_limits<float>::infinity();
  bool act_relu = false;  // before the clamp, v > 0 ? v : 0 (a fused Relu, exactly as the Relu op)
  // Derived by conv2d_f32_prepare.
  Conv2DAlgo algo = Conv2DAlgo::kIm2colGemm;
  int64_t in_c_group = 0, out_c_group = 0;  // channels per group
  int64_t gemm_k = 0;                       // kernel_h * kernel_w * in_c_group
};

// Validates the geometry (positive sizes, channels divisible by groups) and picks the algorithm.
// Returns InvalidArgument for inconsistent parameters.
Error conv2d_f32_prepare(Conv2DF32Params* p);
size_t conv2d_f32_packed_weights_floats(const Conv2DF32Params& p);
// Repacks ONNX weights w[out_c, in_c_group, kernel_h, kernel_w] for run().
void conv2d_f32_pack_weights(const Conv2DF32Params& p, const float* w_oihw, float* packed);
size_t conv2d_f32_scratch_bytes(const Conv2DF32Params& p);
// bias may be nullptr. scratch must hold conv2d_f32_scratch_bytes bytes (float-aligned).
void conv2d_f32(const Conv2DF32Params& p, const float* x, const float* packed_w, const float* bias, float* y,
                float* scratch);

struct ConvTranspose2DF32Params {
  int64_t batch = 1;
  int64_t in_h = 0, in_w = 0, in_c = 0;
  int64_t out_h = 0, out_w = 0, out_c = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t groups = 1;
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
  // Derived by conv_transpose2d_f32_prepare.
  int64_t in_c_group = 0, out_c_group = 0;
  int64_t gemm_n = 0;  // kernel_h * kernel_w * out_c_group
};

Error conv_transpose2d_f32_prepare(ConvTranspose2DF32Params* p);
size_t conv_transpose2d_f32_packed_weights_floats(const ConvTranspose2DF32Params& p);
// Repacks ONNX weights w[in_c, out_c_group, kernel_h, kernel_w].
void conv_transpose2d_f32_pack_weights(const ConvTranspose2DF32Params& p, const float* w_iohw, float* packed);
size_t conv_transpose2d_f32_scratch_bytes(const ConvTranspose2DF32Params& p);
void conv_transpose2d_f32(const ConvTranspose2DF32Params& p, const float* x, const float* packed_w, const float* bias,
                          float* y, float* scratch);

}  // namespace neutron
