// Evaluators for constant subgraphs at import time: the shape arithmetic and constant
// preprocessing exporters emit (PyTorch builds Pad's pads with ConstantOfShape, Concat, Reshape,
// Slice, Transpose and Cast). They work on TensorData, are written for clarity (these tensors are
// tiny), and follow ONNX semantics for the normalized operands of ir/op_attrs.h.
#pragma once
#include <optional>
#include <vector>

#include "ir/graph.h"

namespace neutron {

// x converted to `to` (float -> integer truncates toward zero and saturates; -> bool is x != 0).
TensorData fold_cast(const TensorData& x, DType to);
// perm: a permutation of x's axes.
TensorData fold_transpose(const TensorData& x, const std::vector<int64_t>& perm);
// One (start, end, step) per axis of x, clamped as in ir/op_attrs.h.
TensorData fold_slice(const TensorData& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                      const std::vector<int64_t>& steps);
// Same dtype and rank; axis non-negative.
TensorData fold_concat(const std::vector<const TensorData*>& xs, int axis);
// ONNX Gather (indices may be negative); errors name the offending index.
StatusOr<TensorData> fold_gather(const TensorData& data, const TensorData& indices, int axis);
// Where / Expand / Equal with numpy broadcasting to `out` (checked by the caller's shape rule);
// Equal gives bool.
TensorData fold_where(const TensorData& cond, const TensorData& x, const TensorData& y, const Shape& out);
TensorData fold_expand(const TensorData& x, const Shape& out);
TensorData fold_equal(const TensorData& a, const TensorData& b, const Shape& out);
// Add, Sub, Mul, Div, Max, Min with numpy broadcasting; a and b have the same dtype.
StatusOr<TensorData> fold_binary(OpKind kind, const TensorData& a, const TensorData& b);

// Evaluates node `id` when its kind is a cheap one (Identity, Dropout, Cast, Reshape, Transpose,
// Slice, Concat, Add, Sub, Mul, Div, Max, Min, Neg, Abs, Expand, Gather, Where) and every input is an unquantized
// constant. Returns nullopt when the node is not folded. Its output types must be inferred already.
StatusOr<std::optional<TensorData>> try_fold_node(const Graph& g, NodeId id);

}  // namespace neutron
