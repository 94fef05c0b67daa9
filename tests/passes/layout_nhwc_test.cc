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

// A 1-D conv imports as Reshape [N,C,W]->[N,C,1,W], the 2-D conv, Reshape back. The layout
// transposes around consecutive 1-D convs must meet across those reshapes and cancel, so a TCN-like
// chain (with a residual Add) keeps only the transposes at its input and output.
Graph tcn_like() {
  GraphBuilder b;
  auto reshape = [&](TensorId x, Shape s) {
    Attributes r;
    r.set("shape", s);
    return b.op(OpKind::Reshape, {x}, r);
  };
  auto conv1d = [&](TensorId x, int64_t cin, int64_t cout, const std::string& name) {
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{1, 3});
    a.set("strides", std::vector<int64_t>{1, 1});
    a.set("dilations", std::vector<int64_t>{1, 2});
    a.set("pads", std::vector<int64_t>{0, 2, 0, 2});
    a.set("group", int64_t(1));
    TensorId y4 = b.op(OpKind::Conv,
                       {reshape(x, {1, cin, 1, 20}), b.random_constant(name + "_w", {cout, cin, 1, 3}),
                        b.random_constant(name + "_b", {cout})},
                       a);
    return reshape(y4, {1, cout, 20});
  };
  TensorId x = b.input("x", {1, 4, 20});
  TensorId h = b.op(OpKind::Relu, {conv1d(x, 4, 6, "c1")});
  TensorId h2 = b.op(OpKind::Relu, {conv1d(h, 6, 6, "c2")});
  TensorId sum = b.op(OpKind::Add, {h, h2});
  return b.finish({conv1d(sum, 6, 3, "c3")});
}

std::vector<TensorData> run_graph(const Graph& g, const TensorData& x) {
  std::vector<TensorData> out;
  auto ex = Executor::create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().to_string();
  if (!ex.ok()) return out;
  const Status s = ex.value()->run({x}, &out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

TensorData random_input(const Shape& s, uint32_t seed) {
  TensorData x(DType::F32, s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2, 2);
  for (int64_t i = 0; i < x.count(); ++i) x.data<float>()[i] = u(rng);
  return x;
}

TEST(LayoutNhwc, OneDimensionalConvChainKeepsOnlyBoundaryTransposes) {
  Graph wrapped = tcn_like();
  Graph optimized = wrapped;
  ASSERT_TRUE(run_passes(wrapped, {{"wrap", "", wrap_spatial_ops_nhwc}}).ok());
  ASSERT_TRUE(run_passes(optimized, {{"layout-nhwc", "", layout_nhwc}}).ok());
  EXPECT_EQ(count(wrapped, OpKind::Transpose), 6);
  EXPECT_EQ(count(optimized, OpKind::Transpose), 2) << print_graph(optimized);
  const TensorData x = random_input({1, 4, 20}, 5);
  const std::vector<TensorData> want = run_graph(wrapped, x), got = run_graph(optimized, x);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].shape, (Shape{1, 3, 20}));
  for (int64_t i = 0; i < got[0].count(); ++i)
    EXPECT_NEAR(got[0].data<float>()[i], want[0].data<float>()[i], 1e-5) << i;
}

// Transpose then a Reshape that inserts or removes size-1 dims, on random shapes and perms: moving
// the reshape above the transpose keeps every value in place.
TEST(LayoutNhwc, ReshapeOfUnitDimsSinksTransposesExactly) {
  std::mt19937 rng(11);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int rewritten = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const int rank = ri(2, 4);
    Shape s(static_cast<size_t>(rank));
    for (auto& d : s) d = ri(0, 2) == 0 ? 1 : ri(2, 4);
    std::vector<int64_t> perm(static_cast<size_t>(rank));
    for (int i = 0; i < rank; ++i) perm[size_t(i)] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    Shape t;
    for (int64_t p : perm) t.push_back(s[size_t(p)]);
    Shape r;  // t's non-unit dims in order, with random unit dims around them
    for (int64_t d : t) {
      while (ri(0, 3) == 0) r.push_back(1);
      if (d != 1) r.push_back(d);
    }
    if (r.empty() || ri(0, 1)) r.push_back(1);
    if (r.size() > 6) continue;
    GraphBuilder b;
    TensorId x = b.input("x", s);
    Attributes tp;
    tp.set("perm", perm);
    Attributes rs;
    rs.set("shape", r);
    TensorId y = b.op(OpKind::Relu, {b.op(OpKind::Reshape, {b.op(OpKind::Transpose, {x}, tp)}, rs)});
    Graph before = b.finish({y});
    Graph after = before;
    ASSERT_TRUE(run_passes(after, {{"layout-nhwc", "", layout_nhwc}}).ok());
    rewritten += count(after, OpKind::Transpose) == 0;
    SCOPED_TRACE(print_graph(before) + "\n" + print_graph(after));
    const TensorData in = random_input(s, uint32_t(trial));
    const std::vector<TensorData> want = run_graph(before, in), got = run_graph(after, in);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].shape, r);
    EXPECT_EQ(got[0].bytes, want[0].bytes);
  }
  EXPECT_GT(rewritten, 5) << "some of the transposes only moved unit dims and vanish";
}

// Two convs reading one input each get a transpose when wrapped; one of them is enough.
TEST(LayoutNhwc, TwoConvsReadingOneInputShareItsTranspose) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 6, 6});
  TensorId y = b.op(OpKind::Add, {b.conv(x, 3, 4, "a"), b.conv(x, 3, 4, "b")});
  Graph wrapped = b.finish({y});
  Graph optimized = wrapped;
  ASSERT_TRUE(run_passes(wrapped, {{"wrap", "", wrap_spatial_ops_nhwc}}).ok());
  ASSERT_TRUE(run_passes(optimized, {{"layout-nhwc", "", layout_nhwc}}).ok());
  EXPECT_EQ(count(optimized, OpKind::Transpose), 2) << print_graph(optimized);  // the input's and the output's
  const TensorData in = random_input({1, 3, 6, 6}, 9);
  const std::vector<TensorData> want = run_graph(wrapped, in), got = run_graph(optimized, in);
  ASSERT_EQ(got.size(), 1u);
  for (int64_t i = 0; i < got[0].count(); ++i)
    EXPECT_NEAR(got[0].data<float>()[i], want[0].data<float>()[i], 1e-5) << i;
}

}  // namespace
}  // namespace neutron
