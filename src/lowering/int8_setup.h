// The kernel parameters of the int8 BatchMatMul, ReduceMean/ReduceSum and bilinear Resize, computed
// once from the IR node by the lowering (lowering/lower.cc; defined in int8_params.cc). Every error
// names the node.
#pragma once
#include <vector>

#include "ir/graph.h"
#include "kernels/batch_matmul_int8.h"
#include "kernels/reduce_int8.h"
#include "kernels/resize_int8.h"

namespace neutron::int8 {

// MatMul of two int8 activations (ONNX broadcasting of the batch dims, rank-1 operands promoted).
struct BatchMatMulSetup {
  // batch = the output's batch count; strides as the kernel takes them when the broadcast is one
  // stride per operand (a_offset empty), else batch 1 and one kernel call per output batch with
  // the element offsets of its A and B slices.
  BatchMatMulInt8Params p;
  std::vector<int64_t> a_offset, b_offset;
};
StatusOr<BatchMatMulSetup> batch_matmul_setup(const Graph& g, NodeId id);

// ReduceMean / ReduceSum of an int8 tensor.
struct ReduceSetup {
  std::vector<int64_t> axes;  // normalized, distinct, ascending; all axes when the attribute is empty
  ReduceInt8Params p;         // p.shape from prepare_reduce() of the input shape
};
StatusOr<ReduceSetup> reduce_setup(const Graph& g, NodeId id);

// Resize mode "linear" of an int8 tensor: at most two adjacent axes change, so the tensor folds to
// [outer][H][W][inner] (kernels/resize_int8.h). `h_axis` is the IR axis taken as H (W = h_axis + 1;
// -1 for a rank-1 tensor, whose H is a unit axis in front).
struct ResizeLinearSetup {
  int h_axis = 0;
  std::vector<ResizeLinearTapInt8> taps_h, taps_w;
  ResizeBilinearInt8Params p;  // dims, zero points and multiplier; the tap pointers are not set
};
StatusOr<ResizeLinearSetup> resize_linear_setup(const Graph& g, NodeId id);

}  // namespace neutron::int8
