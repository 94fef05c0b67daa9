// Test helper: builds small int8 graphs (as fold-qdq leaves them) node by node, with output types
// from the IR's shape rules.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "partition/op_support.h"
#include "target/target.h"

namespace neutron::testing {

inline QuantParams q8(float scale = 0.05f, int32_t zp = 0) { return QuantParams::per_tensor(scale, zp); }

inline const NeutronTarget& imxrt700() {
  static const NeutronTarget t = [] {
    auto r = load_target("imxrt700");
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r.value() : NeutronTarget{};
  }();
  return t;
}

class GraphBuilder {
 public:
  // A runtime graph input (int8 with q8() unless told otherwise).
  TensorId input(const std::string& name, Shape shape, QuantParams q = q8(), DType dtype = DType::I8) {
    Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    const TensorId id = g.add_tensor(std::move(t));
    g.inputs.push_back(id);
    return id;
  }
  // A constant of zeros (int8 weights, int32 bias, ...), optionally filled with `value`.
  TensorId constant(const std::string& name, DType dtype, Shape shape, QuantParams q = {}, int64_t value = 0) {
    TensorData d(dtype, std::move(shape));
    for (int64_t i = 0; i < d.count(); ++i) {
      switch (dtype) {
        case DType::I8: d.data<int8_t>()[i] = int8_t(value); break;
        case DType::I32: d.data<int32_t>()[i] = int32_t(value); break;
        case DType::F32: d.data<float>()[i] = float(value); break;
        default: break;
      }
    }
    return g.add_constant(name, std::move(d), std::move(q));
  }
  TensorId weights(const std::string& name, Shape shape, int axis = 0) {
    const int64_t channels = shape[size_t(axis)];
    QuantParams q;
    q.scale.assign(size_t(channels), 0.01f);
    q.zero_point.assign(size_t(channels), 0);
    q.axis = axis;
    if (channels == 1) q = q8(0.01f, 0);
    return constant(name, DType::I8, std::move(shape), std::move(q));
  }
  // Adds a node; its outputs get the shape rule's types and the given quantization.
  std::vector<TensorId> node_n(OpKind kind, const std::string& name, std::vector<TensorId> inputs, Attributes attrs,
                               std::vector<QuantParams> out_q) {
    Node n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    for (size_t i = 0; i < out_q.size(); ++i) {
      Tensor t;
      t.name = name + (out_q.size() > 1 ? "_out" + std::to_string(i) : "_out");
      t.quant = out_q[i];
      n.outputs.push_back(g.add_tensor(std::move(t)));
    }
    const NodeId id = g.add_node(std::move(n));
    std::vector<TensorType> types;
    Status st = infer_node_types(g, id, &types);
    EXPECT_TRUE(st.ok()) << st.to_string();
    for (size_t i = 0; i < types.size() && i < g.node(id).outputs.size(); ++i) {
      Tensor& t = g.tensor(g.node(id).outputs[i]);
      t.dtype = types[i].dtype;
      t.shape = types[i].shape;
    }
    return g.node(id).outputs;
  }
  TensorId node(OpKind kind, const std::string& name, std::vector<TensorId> inputs, Attributes attrs = {},
                QuantParams out_q = q8()) {
    return node_n(kind, name, std::move(inputs), std::move(attrs), {std::move(out_q)})[0];
  }
  void output(TensorId t) { g.outputs.push_back(t); }
  NodeId last_node() const { return NodeId(g.num_nodes() - 1); }
  NodeId node_id(const std::string& name) const {
    for (size_t i = 0; i < g.num_nodes(); ++i)
      if (g.node(NodeId(i)).name == name) return NodeId(i);
    ADD_FAILURE() << "no node " << name;
    return 0;
  }
  // Verifies the graph (outputs default to every unconsumed tensor).
  Graph& done() {
    if (g.outputs.empty()) {
      const auto cons = g.consumers();
      for (NodeId id : g.live_nodes())
        for (TensorId t : g.node(id).outputs)
          if (cons[size_t(t)].empty()) g.outputs.push_back(t);
    }
    Status st = verify_graph(g);
    EXPECT_TRUE(st.ok()) << st.to_string();
    return g;
  }

  Graph g;
};

inline Attributes attrs(std::initializer_list<std::pair<const char*, AttrValue>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

}  // namespace neutron::testing
