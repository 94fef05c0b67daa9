// Resize (ONNX Resize, modes "nearest" and "linear") over a dense row-major tensor of any rank and
// layout: every axis is resized independently (NHWC just has an identity channel axis).
//
// Per axis, output index x maps to a source coordinate (coordinate_transformation_mode), with
// scale = out/in as given by the model and length_resized = scale * in_len (as the ONNX reference;
// snapped to the integer output length when within 1e-9 of it):
//   half_pixel              (x + 0.5) / scale - 0.5
//   half_pixel_symmetric    in_len/2 * (1 - out_len/length_resized) + (x + 0.5) / scale - 0.5
//   pytorch_half_pixel      length_resized > 1 ? (x + 0.5) / scale - 0.5 : -0.5
//   align_corners           length_resized == 1 ? 0 : x * (in_len - 1) / (length_resized - 1)
//   asymmetric              x / scale
//   tf_half_pixel_for_nn    (x + 0.5) / scale
// computed in double. Then:
//   nearest: an integer coordinate is taken as is; otherwise nearest_mode rounds it
//            (round_prefer_floor: frac <= 0.5 -> floor; round_prefer_ceil: frac >= 0.5 -> ceil;
//            floor; ceil); the index is clamped to [0, in_len).
//   linear:  y = (1 - w) * x[i0] + w * x[i1], i0 = floor(c), w = c - i0, indices clamped to
//            [0, in_len) (edge replication); an integer c reads x[c] only.
// Linear resizes axis by axis (separable, last axis first like the reference), which needs
// scratch for the intermediate tensors.
//
// Per-axis tables are computed once (resize_*_table) into caller-owned arrays; nearest is a
// template so that int8 tensors (with unchanged quantization) reuse it. The linear tables
// (ResizeLinearTap) are what an integer linear resize needs as well.
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

enum class ResizeCoordMode : uint8_t {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNearest,
};
enum class ResizeNearestMode : uint8_t { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

// The source coordinate of output index x along one axis (see above).
double resize_source_coord(ResizeCoordMode mode, int64_t x, int64_t in_len, int64_t out_len, double scale);

// idx[o] for o < out_len: the input index that output o copies.
void resize_nearest_table(ResizeCoordMode mode, ResizeNearestMode nearest, int64_t in_len, int64_t out_len,
                          double scale, int64_t* idx);
// True when the table is the identity (the axis needs no work).
bool resize_nearest_table_is_identity(int64_t in_len, int64_t out_len, const int64_t* idx);

// One output index of a linear resize: y = x[i0] * (1 - w1) + x[i1] * w1.
struct ResizeLinearTap {
  int64_t i0 = 0, i1 = 0;
  float w1 = 0.0f;
};
void resize_linear_table(ResizeCoordMode mode, int64_t in_len, int64_t out_len, double scale, ResizeLinearTap* taps);
bool resize_linear_table_is_identity(int64_t in_len, int64_t out_len, const ResizeLinearTap* taps);

constexpr int kResizeMaxRank = 8;

struct ResizeParams {
  int rank = 0;
  int64_t in_shape[kResizeMaxRank] = {};
  int64_t out_shape[kResizeMaxRank] = {};
  // Per-axis tables of out_shape[a] entries; nullptr for an identity axis (in == out, no change).
  const int64_t* nearest[kResizeMaxRank] = {};          // mode nearest
  const ResizeLinearTap* linear[kResizeMaxRank] = {};  // mode linear
};

template <typename T>
void resize_nearest(const ResizeParams& p, const T* x, T* y);

// Scratch floats resize_linear_f32 needs (two ping-pong intermediates; 0 for one resized axis).
size_t resize_linear_f32_scratch_floats(const ResizeParams& p);
void resize_linear_f32(const ResizeParams& p, const float* x, float* y, float* scratch);

}  // namespace neutron
