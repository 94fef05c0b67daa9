// Quantized int8 bilinear Resize (ONNX Resize mode "linear" over two adjacent axes; Neutron
// RESIZE_BILINEAR), in fixed point so that the CPU and the NPU compute the same integers.
//
// The tensor is seen as [outer][H][W][inner] (NHWC: outer = N, inner = C; NCHW: outer = N*C,
// inner = 1). Per resized axis, output index o reads source indices i0, i1 with weight w1 for i1:
// the source coordinate c = resize_source_coord(mode, o, ...) (resize.h, every
// coordinate_transformation_mode: half_pixel, pytorch_half_pixel, align_corners, asymmetric, ...),
// computed in double, then
//   i0 = clamp(floor(c)), i1 = clamp(floor(c) + 1)       clamped to [0, len) (edge replication)
//   w1 = round_half_even((c - floor(c)) * 2^11)           in [0, 2^11]; w0 = 2^11 - w1
// (w1 = 2^11 moves both taps to i1 with w1 = 0; i0 == i1 gives w1 = 0). Then
//   acc = sum over the four taps of wy * wx * (q - z_in)   exact in int32 (weights sum to 2^22)
//   y   = clamp(z_out + round_half_even(acc * M), -128, 127),   M = s_in / (s_out * 2^22)
// rounded once (requantize.h). With the same quantization in and out this is
// round_half_even(sum of w * q) in the input's integers.
//
// Accuracy against the QDQ meaning (dequantize, interpolate with the exact weights in real
// numbers, quantize half to even): the weights are exact when every source coordinate is a
// multiple of 2^-11 (power-of-two scales up to 2^10 with half_pixel, pytorch_half_pixel or
// asymmetric coordinates, align_corners with (out - 1) / (in - 1) a power of two: every case
// upstream delegates), and then only the 31-bit multiplier differs. Otherwise each axis' weight is off by at most
// 2^-12, so the real result moves by at most (s_in / s_out) * 255 * 2^-11 output steps: below
// 1 LSB for s_in / s_out < 8, where the result is within 1 LSB of the exact one.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/requantize.h"
#include "kernels/resize.h"

namespace neutron {

constexpr int kResizeLinearInt8FracBits = 11;                            // per axis
constexpr int32_t kResizeLinearInt8One = int32_t(1) << kResizeLinearInt8FracBits;  // weight 1.0

// One output index along one axis: y = x[i0] * (2^11 - w1) / 2^11 + x[i1] * w1 / 2^11.
// Stored as three int32 words (the NPU weights-section layout).
struct ResizeLinearTapInt8 {
  int32_t i0 = 0, i1 = 0;
  int32_t w1 = 0;  // in [0, 2^11)
};
static_assert(sizeof(ResizeLinearTapInt8) == 12, "three int32 words");

// taps[o] for o < out_len, as described above.
void resize_linear_table_int8(ResizeCoordMode mode, int64_t in_len, int64_t out_len, double scale,
                              ResizeLinearTapInt8* taps);
// True when the table is the identity (in == out and every output reads its own index).
bool resize_linear_table_int8_is_identity(int64_t in_len, int64_t out_len, const ResizeLinearTapInt8* taps);
// True when every tap is inside [0, in_len) and w1 in [0, 2^11) (for tables read from a file).
bool resize_linear_table_int8_valid(int64_t in_len, int64_t out_len, const ResizeLinearTapInt8* taps);

// M = s_in / (s_out * 2^22); false when quantize_multiplier() cannot hold it.
bool resize_bilinear_int8_multiplier(double input_scale, double output_scale, FixedMultiplier* out);

struct ResizeBilinearInt8Params {
  int64_t outer = 1, in_h = 1, in_w = 1, out_h = 1, out_w = 1, inner = 1;
  const ResizeLinearTapInt8* taps_h = nullptr;  // [out_h]
  const ResizeLinearTapInt8* taps_w = nullptr;  // [out_w]
  int32_t input_zero_point = 0, output_zero_point = 0;
  FixedMultiplier multiplier;  // resize_bilinear_int8_multiplier()
};

// x: [outer][in_h][in_w][inner], y: [outer][out_h][out_w][inner].
void resize_bilinear_int8(const ResizeBilinearInt8Params& p, const int8_t* x, int8_t* y);

}  // namespace neutron
