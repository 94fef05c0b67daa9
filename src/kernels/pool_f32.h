// 2-D pooling over NHWC tensors (ONNX MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool).
//
// Output pixel (oh, ow) pools the window rows ih = oh * stride_h - pad_top + kh * dilation_h,
// kh < kernel_h (columns likewise), keeping only ih in [0, in_h):
//   max:      the maximum of the window's pixels inside the image (-inf if none).
//   average:  their sum divided by
//               count_include_pad = 0: the number of pixels inside the image;
//               count_include_pad = 1: the number of window positions inside the padded image
//                 [-pad_top, in_h + pad_bottom) x [-pad_left, in_w + pad_right): positions past
//                 pad_bottom/pad_right that ceil_mode adds are not counted (as PyTorch and
//                 onnxruntime do).
// ceil_mode only changes out_h/out_w, which the caller passes.
//
// Max pooling is a template so that the int8 kernels can reuse it (max commutes with the
// monotonic quantization when input and output share quantization parameters).
#pragma once
#include <cstdint>

#include "core/error.h"

namespace neutron {

struct Pool2DParams {
  int64_t batch = 1;
  int64_t in_h = 0, in_w = 0, channels = 0;  // x is [batch, in_h, in_w, channels]
  int64_t out_h = 0, out_w = 0;              // y is [batch, out_h, out_w, channels]
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;  // MaxPool; AveragePool since opset 19
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;  // average pooling only
};

// Validates the geometry (positive sizes, non-negative pads). Returns InvalidArgument otherwise.
Error pool2d_prepare(const Pool2DParams& p);

template <typename T>
void maxpool2d_nhwc(const Pool2DParams& p, const T* x, T* y);
void avgpool2d_nhwc_f32(const Pool2DParams& p, const float* x, float* y);

// x is [batch, pixels, channels], y is [batch, channels].
template <typename T>
void global_maxpool_nhwc(int64_t batch, int64_t pixels, int64_t channels, const T* x, T* y);
void global_avgpool_nhwc_f32(int64_t batch, int64_t pixels, int64_t channels, const float* x, float* y);

}  // namespace neutron
