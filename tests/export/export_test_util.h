// Helpers for the ONNX writer tests: the ONNX reference checker, a small IR graph builder and the
// export -> check -> import round trip.
#pragma once
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <string>
#include <vector>

#include "export/onnx/onnx_writer.h"
#include "import/onnx/onnx_importer.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace neutron::testing {

// onnx.checker.check_model(model, full_check=True) of onnx 1.12: the structural checker, then
// strict, type-checking shape inference (which must agree with every declared shape). Returns the
// error text, empty when the model passes.
inline std::string onnx_check(const std::string& bytes) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) return "protobuf parsing failed";
  try {
    onnx::checker::check_model(m);
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

inline onnx::ModelProto parse_model(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

// Builds IR graphs the way the importer does: each node's output types are inferred as it is
// added, so later nodes see them.
class IrBuilder {
 public:
  struct Out {
    Out(std::string n = "", DType d = DType::Invalid, QuantParams q = {})
        : name(std::move(n)), dtype(d), quant(std::move(q)) {}
    std::string name;
    DType dtype;        // preset (QuantizeLinear)
    QuantParams quant;  // preset (QuantizeLinear)
  };

  TensorId input(const std::string& name, DType dt, Shape shape, QuantParams q = {}) {
    Tensor t;
    t.name = name;
    t.dtype = dt;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    TensorId id = g.add_tensor(std::move(t));
    g.inputs.push_back(id);
    return id;
  }
  TensorId constant(const std::string& name, TensorData d, QuantParams q = {}) {
    return g.add_constant(name, std::move(d), std::move(q));
  }
  std::vector<TensorId> node(OpKind kind, const std::string& name, std::vector<TensorId> inputs, Attributes attrs,
                             std::vector<Out> outs) {
    Node n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    for (auto& o : outs) {
      Tensor t;
      t.name = o.name;
      t.dtype = o.dtype;
      t.quant = o.quant;
      n.outputs.push_back(g.add_tensor(std::move(t)));
    }
    const NodeId id = g.add_node(std::move(n));
    std::vector<TensorType> types;
    Status s = infer_node_types(g, id, &types);
    EXPECT_TRUE(s.ok()) << s.to_string();
    for (size_t i = 0; s.ok() && i < types.size(); ++i) {
      g.tensor(g.node(id).outputs[i]).dtype = types[i].dtype;
      g.tensor(g.node(id).outputs[i]).shape = types[i].shape;
    }
    return g.node(id).outputs;
  }
  // Single output named `out`.
  TensorId op(OpKind kind, const std::string& out, std::vector<TensorId> inputs, Attributes attrs = {},
              DType dt = DType::Invalid, QuantParams q = {}) {
    return node(kind, out + "_node", std::move(inputs), std::move(attrs), {Out(out, dt, std::move(q))})[0];
  }
  void output(TensorId t) { g.outputs.push_back(t); }

  Graph g;
};

// Attribute list literal: attrs({{"axis", int64_t(1)}, ...}).
inline Attributes attrs(std::initializer_list<std::pair<std::string, AttrValue>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

// Exports g, checks the file with the ONNX checker, imports it again. Fails the test on any error.
inline StatusOr<Graph> export_check_import(const Graph& g, std::string* bytes_out = nullptr,
                                           const OnnxExportOptions& opts = {}) {
  Status v = verify_graph(g);
  EXPECT_TRUE(v.ok()) << "the test graph itself is invalid: " << v.to_string();
  auto bytes = export_onnx(g, opts);
  if (!bytes.ok()) return bytes.status();
  const std::string err = onnx_check(bytes.value());
  EXPECT_EQ(err, "") << "onnx checker rejects the exported model of\n" << print_graph(g);
  if (bytes_out) *bytes_out = bytes.value();
  return import_onnx_bytes(bytes.value(), "exported.onnx");
}

// Export -> check -> import gives a graph that prints identically.
inline void expect_round_trip(const Graph& g, std::string* bytes_out = nullptr) {
  auto g2 = export_check_import(g, bytes_out);
  ASSERT_TRUE(g2.ok()) << g2.status().to_string() << "\nof\n" << print_graph(g);
  EXPECT_EQ(print_graph(g2.value()), print_graph(g));
}

}  // namespace neutron::testing
