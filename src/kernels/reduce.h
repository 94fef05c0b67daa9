// ReduceSum, ReduceMean, ReduceMax, ReduceMin over a set of axes.
//
// prepare_reduce() drops dims of size 1 and merges adjacent dims that are both reduced or both
// kept, so the input becomes alternating kept/reduced groups, e.g. NHWC mean over H,W becomes
// [N kept, H*W reduced, C kept]. The kernel runs an odometer over all but the innermost group:
// an innermost reduced group folds a contiguous row into one output, an innermost kept group
// accumulates a contiguous row into a contiguous output row. keepdims only changes the output
// shape, never the data, so it is not a kernel parameter.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/span.h"

namespace neutron {

enum class ReduceOp : uint8_t { Sum, Mean, Max, Min };

constexpr int kMaxReduceRank = 8;

struct ReduceParams {
  int rank = 0;                         // collapsed rank (0: a single element, nothing reduced)
  int64_t dims[kMaxReduceRank];         // collapsed input dims
  int64_t in_strides[kMaxReduceRank];   // contiguous input strides, elements
  int64_t out_strides[kMaxReduceRank];  // output strides per collapsed dim, 0 for reduced dims
  bool reduced[kMaxReduceRank];
  int64_t in_count = 0;
  int64_t out_count = 0;
  int64_t reduce_count = 1;  // input elements folded into each output (the Mean divisor)
};

// `axes` are non-negative and distinct; empty means all axes. Returns false on a bad axis or a
// rank above kMaxReduceRank.
bool prepare_reduce(Span<const int64_t> shape, Span<const int64_t> axes, ReduceParams* p);

// T = float for every op; Sum, Max and Min also for int8_t, uint8_t, int16_t, int32_t, int64_t
// (integer Sum wraps around). Mean of zero elements is NaN, Max/Min of zero elements give the
// identity (-inf / +inf, or the type's lowest / highest value).
template <typename T>
void reduce(ReduceOp op, const ReduceParams& p, const T* x, T* y);

// ReduceL2: sqrt of the sum of squares; `scratch` holds in_count floats (the squares).
void reduce_l2_f32(const ReduceParams& p, const float* x, float* y, float* scratch);

// L2 normalization along one axis of [outer, n, inner]: y = x / max(||x||_2, eps), with the norm
// accumulated in double; a vector whose divisor is 0 (all zeros, eps 0) gives 0.
void l2_normalize_f32(int64_t outer, int64_t n, int64_t inner, double eps, const float* x, float* y);

}  // namespace neutron
