// A 64-bit digest of a graph's content, for "this graph has not changed" goldens: inputs, outputs,
// every live node (kind, name, inputs, outputs) and every tensor (name, dtype, shape, quantization
// parameters, constant bytes). Attributes are not included.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace neutron::testing {

class Fnv1a {
 public:
  void add(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h_ = (h_ ^ b[i]) * 1099511628211ull;
  }
  template <typename T>
  void add_pod(const T& v) {
    add(&v, sizeof(T));
  }
  template <typename T>
  void add_vec(const std::vector<T>& v) {
    add_pod(uint64_t(v.size()));
    if (!v.empty()) add(v.data(), v.size() * sizeof(T));
  }
  void add_str(const std::string& s) {
    add_pod(uint64_t(s.size()));
    add(s.data(), s.size());
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 1469598103934665603ull;
};

// Op kinds hash as their position in the op list the goldens were made with, so that adding ops
// to op_kinds.def (which renumbers OpKind) keeps the goldens; newer ops hash by name.
inline void add_kind(Fnv1a& h, OpKind k) {
  static const char* const kGoldenOps[] = {
      "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Conv", "ConvTranspose",
      "DequantizeLinear", "Div", "Dropout", "Exp", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid",
      "HardSwish", "Identity", "LeakyRelu", "Log", "MatMul", "Max", "MaxPool", "Min", "Mul", "Neg", "Pad", "PRelu",
      "QuantizeLinear", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "Relu", "Reshape",
      "Resize", "Sigmoid", "Slice", "Softmax", "Split", "Sqrt", "Sub", "Tanh", "Transpose"};
  const std::string name = op_kind_name(k);
  for (uint32_t i = 0; i < sizeof(kGoldenOps) / sizeof(kGoldenOps[0]); ++i)
    if (name == kGoldenOps[i]) return h.add_pod(i);
  h.add_str(name);
}

inline uint64_t graph_digest(const Graph& g) {
  Fnv1a h;
  h.add_vec(g.inputs);
  h.add_vec(g.outputs);
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    add_kind(h, n.kind);
    h.add_str(n.name);
    h.add_vec(n.inputs);
    h.add_vec(n.outputs);
  }
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    const Tensor& t = g.tensor(TensorId(i));
    h.add_str(t.name);
    h.add_pod(int32_t(t.dtype));
    h.add_vec(t.shape);
    h.add_vec(t.quant.scale);
    h.add_vec(t.quant.zero_point);
    h.add_pod(t.quant.axis);
    if (t.is_constant()) h.add_vec(t.data->bytes);
  }
  return h.value();
}

}  // namespace neutron::testing
