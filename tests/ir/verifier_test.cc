// The verifier's structural and type checks, and a golden print_graph dump.
#include "ir/verifier.h"

#include <gtest/gtest.h>

#include "ir/printer.h"
#include "ir/shape_inference.h"

namespace neutron {
namespace {

TensorId add_input(Graph& g, const std::string& name, DType t, Shape s) {
  Tensor x;
  x.name = name;
  x.dtype = t;
  x.shape = std::move(s);
  TensorId id = g.add_tensor(x);
  g.inputs.push_back(id);
  return id;
}

TensorId add_value(Graph& g, const std::string& name) {
  Tensor t;
  t.name = name;
  return g.add_tensor(t);
}

NodeId add_node(Graph& g, OpKind k, const std::string& name, std::vector<TensorId> in, std::vector<TensorId> out,
                Attributes a = {}) {
  Node n;
  n.kind = k;
  n.name = name;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(a);
  return g.add_node(std::move(n));
}

// x -> Relu -> Conv(W, B) -> Reshape -> y
Graph tiny_graph() {
  Graph g;
  g.name = "tiny";
  TensorId x = add_input(g, "x", DType::F32, {1, 2, 4, 4});
  TensorData w(DType::F32, {3, 2, 3, 3});
  TensorId wi = g.add_constant("w", w);
  TensorId b = g.add_constant("b", TensorData(DType::F32, {3}));
  TensorId r = add_value(g, "r"), c = add_value(g, "c"), y = add_value(g, "y");
  add_node(g, OpKind::Relu, "relu", {x}, {r});
  Attributes ca;
  ca.set("kernel_shape", std::vector<int64_t>{3, 3});
  ca.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  add_node(g, OpKind::Conv, "conv", {r, wi, b}, {c}, ca);
  Attributes ra;
  ra.set("shape", std::vector<int64_t>{1, 48});
  add_node(g, OpKind::Reshape, "flatten", {c}, {y}, ra);
  g.outputs.push_back(y);
  EXPECT_TRUE(infer_shapes(g).ok());
  return g;
}

void expect_invalid(const Graph& g, const std::string& text) {
  Status st = verify_graph(g);
  ASSERT_FALSE(st.ok()) << "expected: " << text;
  EXPECT_EQ(st.code(), Error::InvalidModel);
  EXPECT_NE(st.message().find(text), std::string::npos) << st.message();
}

TEST(Verifier, AcceptsTinyGraph) {
  Graph g = tiny_graph();
  Status st = verify_graph(g);
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST(Verifier, RejectsCycle) {
  Graph g;
  TensorId x = add_input(g, "x", DType::F32, {2});
  TensorId a = add_value(g, "a"), b = add_value(g, "b");
  add_node(g, OpKind::Add, "add", {x, b}, {a});
  add_node(g, OpKind::Relu, "relu", {a}, {b});
  g.outputs.push_back(b);
  expect_invalid(g, "graph has a cycle through node 'add' (Add)");
}

TEST(Verifier, RejectsUndefinedInput) {
  Graph g;
  TensorId x = add_input(g, "x", DType::F32, {2});
  Tensor dangling;
  dangling.name = "ghost";
  dangling.dtype = DType::F32;
  dangling.shape = {2};
  TensorId d = g.add_tensor(dangling);
  TensorId y = add_value(g, "y");
  add_node(g, OpKind::Add, "add", {x, d}, {y});
  g.outputs.push_back(y);
  expect_invalid(g, "node 'add' (Add) reads tensor 'ghost', which is neither a graph input, a constant nor produced by a node");
}

TEST(Verifier, RejectsWrongShape) {
  Graph g = tiny_graph();
  g.tensor(*g.find_tensor("c")).shape = {1, 3, 2, 2};
  expect_invalid(g, "node 'conv' (Conv): output 'c' is f32[1,3,2,2] but the op gives f32[1,3,4,4]");
}

TEST(Verifier, RejectsTwoProducersAndUndefinedOutput) {
  Graph g;
  TensorId x = add_input(g, "x", DType::F32, {2});
  TensorId y = add_value(g, "y");
  add_node(g, OpKind::Relu, "r1", {x}, {y});
  add_node(g, OpKind::Neg, "r2", {x}, {y});
  g.outputs.push_back(y);
  ASSERT_TRUE(infer_shapes(g).ok());
  expect_invalid(g, "tensor 'y' is produced by both node 'r1' (Relu) and node 'r2' (Neg)");

  Graph h;
  add_input(h, "x", DType::F32, {2});
  h.outputs.push_back(add_value(h, "nothing"));
  expect_invalid(h, "graph output 'nothing' is never produced");
}

TEST(Verifier, RejectsBadQuantization) {
  Graph g;
  TensorId x = add_input(g, "x", DType::I8, {2, 3});
  g.tensor(x).quant = QuantParams{{0.1f, 0.2f}, {0, 0}, 1};  // 2 scales on an axis of size 3
  TensorId y = add_value(g, "y");
  add_node(g, OpKind::DequantizeLinear, "dq", {x}, {y});
  g.outputs.push_back(y);
  expect_invalid(g, "tensor 'x': per-axis quantization with 2 scales on axis 1 does not fit shape [2,3]");
}

// Clip with min > max (float, or int8 as fold-qdq leaves it) fails verification naming the node.
TEST(Verifier, RejectsClipWithMinAboveMax) {
  for (DType t : {DType::F32, DType::I8}) {
    Graph g;
    TensorId x = add_input(g, "x", t, {2, 3});
    if (t == DType::I8) g.tensor(x).quant = QuantParams{{0.1f}, {0}, 0};
    TensorId y = add_value(g, "y");
    Attributes a;
    a.set("min", 6.0);
    a.set("max", -5.0);
    add_node(g, OpKind::Clip, "clip", {x}, {y}, a);
    g.outputs.push_back(y);
    const Status s = infer_shapes(g);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("node 'clip' (Clip): min (6) is greater than max (-5)"), std::string::npos)
        << s.message();
  }
}

TEST(Printer, GoldenTinyGraph) {
  Graph g = tiny_graph();
  g.tensor(*g.find_tensor("x")).quant = {};
  const std::string expected =
      "graph tiny {\n"
      "  input %x: f32[1,2,4,4]\n"
      "  // 2 constants, 228 bytes\n"
      "  %r: f32[1,2,4,4] = Relu(%x)  // relu\n"
      "  %c: f32[1,3,4,4] = Conv(%r, $w:f32[3,2,3,3], $b:f32[3]) {kernel_shape=[3,3], pads=[1,1,1,1]}  // conv\n"
      "  %y: f32[1,48] = Reshape(%c) {shape=[1,48]}  // flatten\n"
      "  output %y\n"
      "}\n";
  EXPECT_EQ(print_graph(g), expected);
}

}  // namespace
}  // namespace neutron
