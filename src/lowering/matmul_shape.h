// ONNX MatMul shapes (numpy matmul semantics), for the float MatMul binder and the int8 lowering:
// A [..., M, K] or [K], B [..., K, N] or [K], batch dims broadcast.
#pragma once
#include "ir/graph.h"

namespace neutron {

struct MatMulShape {
  int64_t M = 0, K = 0, N = 0;
  Shape a_batch, b_batch;  // batch dims right-aligned to out_batch's rank (1 where absent)
  Shape out_batch;

  // The A and B slice indices of output batch `i` (row-major over out_batch; broadcast dims
  // repeat their one slice).
  void slice_indices(int64_t i, int64_t* a_index, int64_t* b_index) const;
};

// InvalidModel when A `as` and B `bs` do not multiply into Y `ys`.
StatusOr<MatMulShape> matmul_shape(const Graph& g, NodeId id, const Shape& as, const Shape& bs, const Shape& ys);

}  // namespace neutron
