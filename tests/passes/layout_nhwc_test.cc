#include <gtest/gtest.h>

#include <random>

#include "exec/executor.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

// Small builder for NCHW float graphs; shapes come from shape inference.
class GraphBuilder {
 public:
  TensorId input(const std::string& name, Shape s) {
    Tensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = std::move(s);
    TensorId id = g.add_tensor(t);
    g.inputs.push_back(id);
    return id;
  }
  TensorId random_constant(const std::string& name, Shape s) {
    TensorData d(DType::F32, s);
    std::uniform_real_distribution<float> u(-1, 1);
    for (int64_t i = 0; i < d.count(); ++i) d.data<float>()[i] = u(rng);
    return g.add_constant(name, std::move(d));
  }
  TensorId op(OpKind k, std::vector<TensorId> ins, Attributes a = {}) {
    Tensor t;
    t.name = "t" + std::to_string(g.num_tensors());
    TensorId out = g.add_tensor(t);
    Node n;
    n.kind = k;
    n.name = std::string(op_kind_name(k)) + std::to_string(g.num_nodes());
    n.inputs = std::move(ins);
    n.outputs = {out};
    n.attrs = std::move(a);
    g.add_node(std::move(n));
    return out;
  }
  TensorId conv(TensorId x, int64_t cin, int64_t cout, std::string name) {
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{3, 3});
    a.set("strides", std::vector<int64_t>{1, 1});
    a.set("dilations", std::vector<int64_t>{1, 1});
    a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    a.set("group", int64_t(1));
    return op(OpKind::Conv, {x, random_constant(name + "_w", {cout, cin, 3, 3}), random_constant(name + "_b", {cout})}, a);
  }
  Graph finish(std::vector<TensorId> outs) {
    g.outputs = std::move(outs);
    Status s = infer_shapes(g);
    EXPECT_TRUE(s.ok()) << s.to_string();
    s = verify_graph(g);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return std::move(g);
  }
  Graph g;
  std::mt19937 rng{7};
};

int count(const Graph& g, OpKind k) {
  int n = 0;
  for (NodeId id : g.live_nodes()) n += g.node(id).kind == k;
  return n;
}

Graph resnet_like() {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 9, 7});
  TensorId c1 = b.op(OpKind::Relu, {b.conv(x, 3, 5, "c1")});
  TensorId c2 = b.conv(c1, 5, 5, "c2");
  TensorId sum = b.op(OpKind::Add, {c1, c2});
  TensorId biased = b.op(OpKind::Mul, {sum, b.random_constant("per_channel", {5, 1, 1})});
  Attributes pad;
  pad.set("pads", std::vector<int64_t>{0, 0, 1, 2, 0, 0, 0, 1});
  pad.set("mode", std::string("constant"));
  pad.set("value", 0.0);
  TensorId padded = b.op(OpKind::Pad, {b.op(OpKind::Relu, {biased})}, pad);
  TensorId gap = b.op(OpKind::GlobalAveragePool, {b.conv(padded, 5, 5, "c3")});
  Attributes r;
  r.set("shape", std::vector<int64_t>{1, 5});
  TensorId flat = b.op(OpKind::Reshape, {gap}, r);
  return b.finish({flat});
}

TEST(LayoutNhwc, CnnKeepsOnlyTheInputTranspose) {
  Graph g = resnet_like();
  ASSERT_TRUE(layout_nhwc(g).ok());
  g.compact();
  Status s = verify_graph(g);
  ASSERT_TRUE(s.ok()) << s.to_string() << "\n" << print_graph(g);
  EXPECT_EQ(count(g, OpKind::Transpose), 1) << print_graph(g);
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind == OpKind::Conv || n.kind == OpKind::GlobalAveragePool) {
      EXPECT_EQ(n.attrs.get_int("channels_last", 0), 1);
    }
    if (n.kind == OpKind::Transpose) {
      EXPECT_EQ(n.inputs[0], g.inputs[0]) << "the remaining transpose reads the input";
    }
  }
  // The graph interface is unchanged.
  EXPECT_EQ(g.tensor(g.inputs[0]).shape, (Shape{1, 3, 9, 7}));
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 5}));
}

TEST(LayoutNhwc, IsIdempotent) {
  Graph g = resnet_like();
  ASSERT_TRUE(layout_nhwc(g).ok());
  g.compact();
  std::string once = print_graph(g);
  ASSERT_TRUE(layout_nhwc(g).ok());
  g.compact();
  EXPECT_EQ(print_graph(g), once);
}

TEST(LayoutNhwc, SinkingAndCancellingPreserveResults) {
  Graph wrapped = resnet_like();
  Graph optimized = wrapped;
  ASSERT_TRUE(run_passes(wrapped, {{"wrap", "", wrap_spatial_ops_nhwc}}).ok());
  ASSERT_TRUE(run_passes(optimized, {{"layout-nhwc", "", layout_nhwc}}).ok());
  ASSERT_GT(count(wrapped, OpKind::Transpose), count(optimized, OpKind::Transpose));
  TensorData x(DType::F32, {1, 3, 9, 7});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-2, 2);
  for (int64_t i = 0; i < x.count(); ++i) x.data<float>()[i] = u(rng);
  std::vector<TensorData> want, got;
  auto ex_ref = Executor::create(wrapped);
  ASSERT_TRUE(ex_ref.ok()) << ex_ref.status().to_string();
  ASSERT_TRUE(ex_ref.value()->run({x}, &want).ok());
  auto ex = Executor::create(optimized);
  ASSERT_TRUE(ex.ok()) << ex.status().to_string();
  ASSERT_TRUE(ex.value()->run({x}, &got).ok());
  ASSERT_EQ(got[0].shape, (Shape{1, 5}));
  for (int64_t i = 0; i < got[0].count(); ++i)
    EXPECT_NEAR(got[0].data<float>()[i], want[0].data<float>()[i], 1e-5) << i;
}

TEST(LayoutNhwc, OutputOfSpatialOpKeepsNchwInterface) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 2, 5, 5});
  TensorId y = b.conv(x, 2, 3, "c");
  Graph g = b.finish({y});
  ASSERT_TRUE(layout_nhwc(g).ok());
  g.compact();
  ASSERT_TRUE(verify_graph(g).ok());
  EXPECT_EQ(count(g, OpKind::Transpose), 2);
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 3, 5, 5}));
}

}  // namespace
}  // namespace neutron
