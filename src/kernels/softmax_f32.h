// Float32 Softmax along one axis (ONNX opset-13 meaning), numerically stable:
//   y = exp(x - max(x)) / sum(exp(x - max(x)))   over the axis, for every other index.
// The tensor is viewed as [outer, axis, inner]. inner == 1 (the last axis, the common case) runs
// row by row; otherwise whole [axis, inner] planes are processed with contiguous inner loops,
// keeping the running max and sum of each inner position in scratch.
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

struct SoftmaxParams {
  int64_t outer = 1;  // product of dims before the axis
  int64_t axis = 1;   // size of the softmax axis
  int64_t inner = 1;  // product of dims after the axis
};

// Bytes of scratch softmax_f32 needs (0 when inner == 1).
inline size_t softmax_f32_scratch_bytes(const SoftmaxParams& p) {
  return p.inner > 1 ? size_t(p.inner) * 2 * sizeof(float) : 0;
}

// `scratch` must hold softmax_f32_scratch_bytes(p) bytes (may be null when that is 0).
void softmax_f32(const SoftmaxParams& p, const float* x, float* y, float* scratch);

}  // namespace neutron
