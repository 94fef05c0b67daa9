// Small helpers shared by the rewriting passes (internal to src/passes/).
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace neutron::rewrite {

// The live node producing `t`, or -1 (graph input, constant, absent).
inline NodeId live_producer(const Graph& g, TensorId t) {
  if (t == kNoTensor) return -1;
  const NodeId p = g.tensor(t).producer;
  return (p >= 0 && !g.node(p).dead) ? p : -1;
}

// True when `t` is read by exactly one live node (once or several times) and is no graph output.
inline bool has_single_consumer(const Graph& g, const std::vector<std::vector<NodeId>>& consumers, TensorId t) {
  return consumers[size_t(t)].size() == 1 && !g.is_graph_output(t);
}

// A constant f32 tensor without quantization parameters.
inline bool is_float_constant(const Graph& g, TensorId t) {
  return t != kNoTensor && g.tensor(t).is_constant() && g.tensor(t).dtype == DType::F32 && !g.tensor(t).is_quantized();
}

// An f32 tensor without quantization parameters (constant or not).
inline bool is_plain_float(const Graph& g, TensorId t) {
  return t != kNoTensor && g.tensor(t).dtype == DType::F32 && !g.tensor(t).is_quantized();
}

// True when the node carries a fused activation (act_min / act_max, set by fold-qdq): its output is
// clamped, so nothing can be folded in after it.
inline bool has_fused_activation(const Node& n) {
  return n.attrs.has("act_min") || n.attrs.has("act_max") || n.attrs.has("act_relu");
}

// Adds an f32 constant named after `base` (made unique).
inline TensorId add_float_constant(Graph& g, const std::string& base, Shape shape, const std::vector<float>& values) {
  return g.add_constant(g.unique_tensor_name(base), TensorData::from<float>(std::move(shape), values));
}

// Adds a non-constant tensor (to be produced by a new node) of the given type.
inline TensorId add_value(Graph& g, const std::string& base, DType dtype, Shape shape) {
  Tensor t;
  t.name = g.unique_tensor_name(base);
  t.dtype = dtype;
  t.shape = std::move(shape);
  return g.add_tensor(std::move(t));
}

// Adds a node; returns its id.
inline NodeId add_op(Graph& g, OpKind kind, const std::string& name, std::vector<TensorId> inputs,
                     std::vector<TensorId> outputs, Attributes attrs = {}) {
  Node n;
  n.kind = kind;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.attrs = std::move(attrs);
  return g.add_node(std::move(n));
}

// Makes `node` the producer of `tensor` in place of its output `slot` (the old output tensor is left
// unreferenced; compact() drops it). Used to let a rewritten op write the tensor of the op it absorbed,
// so that tensor's name (possibly a graph output) survives.
inline void retarget_output(Graph& g, NodeId node, size_t slot, TensorId tensor) {
  g.node(node).outputs[slot] = tensor;
  g.tensor(tensor).producer = node;
}

}  // namespace neutron::rewrite
