// Importer support for transformer exports: Gather (run-time indices into a constant table,
// constant indices into run-time data), Where, Expand, Equal on constants, Pow, Erf, Gelu,
// LayerNormalization, opset-18 Split/Pad; the LayerNorm and GELU patterns of opset-13 exports
// fused (and partial patterns left alone); every unsupported op named in one message; no crash
// on any opset from 7 to 20. Float results are checked on the executor.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "exec/executor.h"
#include "import/onnx/onnx_importer.h"
#include "ir/printer.h"
#include "onnx_builder.h"

namespace neutron {
namespace {

using testing::kFloat;
using testing::kInt64;
using testing::OnnxBuilder;
using V = std::vector<int64_t>;

Graph import_ok(const OnnxBuilder& b) {
  auto g = b.import();
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return g.ok() ? std::move(g).value() : Graph();
}

int count(const Graph& g, OpKind k) {
  int n = 0;
  for (const Node* node : testing::nodes_of(g)) n += node->kind == k;
  return n;
}

std::vector<float> run1(const Graph& g, const std::vector<TensorData>& inputs) {
  auto ex = Executor::create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().to_string();
  if (!ex.ok()) return {};
  std::vector<TensorData> outs;
  Status s = ex.value()->run(inputs, &outs);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return s.ok() ? outs[0].to_vector<float>() : std::vector<float>();
}

TensorData scalar(float v) { return TensorData::from<float>({}, {v}); }

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 2.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(ImportTransformer, EmbeddingGatherWithRunTimeIndices) {
  OnnxBuilder b;
  b.input("ids", kInt64, {1, 3}).output("y");
  b.init<float>("table", {4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  b.node("Gather", {"table", "ids"}, {"y"}, "embed");
  Graph g = import_ok(b);
  ASSERT_EQ(count(g, OpKind::Gather), 1);
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 3, 2}));
  auto y = run1(g, {TensorData::from<int64_t>({1, 3}, {3, 0, -1})});  // -1: the last row
  EXPECT_EQ(y, (std::vector<float>{30, 31, 0, 1, 30, 31}));
}

TEST(ImportTransformer, GatherWithConstantIndexOnRunTimeData) {
  OnnxBuilder b;
  b.input("x", kFloat, {3, 2, 2}).output("y");
  b.constant("i", TensorData::from<int64_t>({}, {1}));
  b.node("Gather", {"x", "i"}, {"y"}, "pick");  // qkv[1]
  Graph g = import_ok(b);
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{2, 2}));
  std::vector<float> x(12);
  for (size_t i = 0; i < 12; ++i) x[i] = float(i);
  EXPECT_EQ(run1(g, {TensorData::from<float>({3, 2, 2}, x)}), (std::vector<float>{4, 5, 6, 7}));
}

TEST(ImportTransformer, ConstantIndexOutOfRangeIsAnError) {
  OnnxBuilder b;
  b.input("x", kFloat, {3, 2}).output("y");
  b.constant("i", TensorData::from<int64_t>({}, {3}));
  b.node("Gather", {"x", "i"}, {"y"}, "pick");
  auto g = b.import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("node 'pick' (op Gather, opset 13): index 3 is out of range"), std::string::npos)
      << g.status().message();
}

TEST(ImportTransformer, MaskedFillWithConstantMaskAndExpand) {
  // A causal masked_fill(-inf) with the mask computed from a constant buffer (Equal folds).
  OnnxBuilder b;
  b.input("s", kFloat, {1, 2, 2}).output("y");
  b.init<float>("tril", {2, 2}, {1, 0, 1, 1});
  b.init<float>("zero", {}, {0.f});
  b.init<float>("ninf", {}, {-INFINITY});
  b.node("Equal", {"tril", "zero"}, {"m"}, "eq");
  b.init<int64_t>("shape", {3}, {1, 2, 2});
  b.node("Where", {"m", "ninf", "s"}, {"w"}, "where");
  b.node("Softmax", {"w"}, {"y"}, "softmax");
  Graph g = import_ok(b);
  EXPECT_EQ(count(g, OpKind::Where), 1);
  auto y = run1(g, {TensorData::from<float>({1, 2, 2}, {5, 7, 1, 1})});
  ASSERT_EQ(y.size(), 4u);
  EXPECT_FLOAT_EQ(y[0], 1.f);
  EXPECT_FLOAT_EQ(y[1], 0.f);
  EXPECT_FLOAT_EQ(y[2], 0.5f);

  OnnxBuilder e;
  e.input("x", kFloat, {2, 1}).output("y");
  e.init<int64_t>("shape", {3}, {2, 1, 3});
  e.node("Expand", {"x", "shape"}, {"y"}, "expand");
  Graph ge = import_ok(e);
  EXPECT_EQ(ge.tensor(ge.outputs[0]).shape, (Shape{2, 2, 3}));
  EXPECT_EQ(run1(ge, {TensorData::from<float>({2, 1}, {1, 2})}),
            (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}));
}

TEST(ImportTransformer, PowWithConstantOrTensorExponent) {
  OnnxBuilder b;
  b.input("x", kFloat, {3}).output("y");
  b.init("e", scalar(3.f));
  b.node("Pow", {"x", "e"}, {"y"}, "cube");
  Graph g = import_ok(b);
  EXPECT_EQ(count(g, OpKind::Pow), 1);
  EXPECT_EQ(run1(g, {TensorData::from<float>({3}, {2, -1, 0.5f})}), (std::vector<float>{8, -1, 0.125f}));

  // A run-time exponent broadcast against the base: PowTensor.
  OnnxBuilder r;
  r.input("x", kFloat, {2, 2}).input("e", kFloat, {2}).output("y");
  r.node("Pow", {"x", "e"}, {"y"}, "pw");
  Graph gr = import_ok(r);
  EXPECT_EQ(count(gr, OpKind::PowTensor), 1) << print_graph(gr);
  const std::vector<TensorData> in = {TensorData::from<float>({2, 2}, {2, 4, -2, 9}),
                                      TensorData::from<float>({2}, {3, 0.5f})};
  EXPECT_EQ(run1(gr, in), (std::vector<float>{8, 2, -8, 3}));

  // An int32 base with float exponents is evaluated in float and cast back (ONNX's output type is
  // the base's); int64 exponents of a float base are cast to float.
  OnnxBuilder i;
  i.input("x", testing::kInt32, {3}).input("e", kFloat, {3}).output("y");
  i.node("Pow", {"x", "e"}, {"y"}, "ipow");
  Graph gi = import_ok(i);
  auto ex = Executor::create(gi);
  ASSERT_TRUE(ex.ok()) << ex.status().to_string();
  std::vector<TensorData> outs;
  ASSERT_TRUE(ex.value()
                  ->run({TensorData::from<int32_t>({3}, {2, 3, 4}), TensorData::from<float>({3}, {3, 2, 0.5f})}, &outs)
                  .ok());
  EXPECT_EQ(outs[0].dtype, DType::I32);
  EXPECT_EQ(outs[0].to_vector<int32_t>(), (std::vector<int32_t>{8, 9, 2}));
}

TEST(ImportTransformer, DivByRunTimeTensor) {
  OnnxBuilder b;
  b.input("a", kFloat, {2, 2}).input("d", kFloat, {2, 1}).output("y");
  b.node("Div", {"a", "d"}, {"y"}, "div");
  Graph g = import_ok(b);
  EXPECT_EQ(run1(g, {TensorData::from<float>({2, 2}, {2, 4, 9, 3}), TensorData::from<float>({2, 1}, {2, 3})}),
            (std::vector<float>{1, 2, 3, 1}));
}

// LayerNorm as opset 13 exports nn.LayerNorm(4): ReduceMean, Sub, Pow 2, ReduceMean, Add eps,
// Sqrt, Div, Mul gamma, Add beta. `variant` breaks one piece to check the fallback.
OnnxBuilder layer_norm_13(const std::string& variant = "") {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 3, 4}).output("y");
  b.init("two", scalar(variant == "pow3" ? 3.f : 2.f));
  b.init("eps", scalar(1e-5f));
  b.init<float>("gamma", {4}, {1.f, 2.f, 0.5f, -1.f});
  b.init<float>("beta", {4}, {0.f, 0.1f, 0.2f, 0.3f});
  OnnxBuilder::attr(b.node("ReduceMean", {"x"}, {"m"}, "mean"), "axes", V{-1});
  b.node("Sub", {"x", "m"}, {"d"}, "sub");
  b.node("Pow", {"d", "two"}, {"p"}, "pow");
  OnnxBuilder::attr(b.node("ReduceMean", {"p"}, {"v"}, "var"), "axes", V{variant == "axis" ? 1 : -1});
  b.node("Add", {"v", "eps"}, {"ve"}, "add_eps");
  b.node("Sqrt", {"ve"}, {"s"}, "sqrt");
  b.node("Div", {"d", "s"}, {"n"}, "div");
  b.node("Mul", {"n", "gamma"}, {"g"}, "mul_gamma");
  b.node("Add", {"g", "beta"}, {"y"}, "add_beta");
  if (variant == "extra_use") b.output("d");
  return b;
}

TEST(ImportTransformer, LayerNormOpset13IsOneNodeAndMatchesOpset17) {
  Graph g = import_ok(layer_norm_13());
  ASSERT_EQ(testing::nodes_of(g).size(), 1u) << print_graph(g);
  const Node& ln = *testing::nodes_of(g)[0];
  EXPECT_EQ(ln.kind, OpKind::LayerNormalization);
  EXPECT_EQ(ln.attrs.get_int("axis", 0), 2);
  EXPECT_FLOAT_EQ(float(ln.attrs.get_float("epsilon", 0)), 1e-5f);
  const auto xv = random_floats(12, 1);
  const TensorData x = TensorData::from<float>({1, 3, 4}, xv);
  auto y = run1(g, {x});

  OnnxBuilder b17(17);
  b17.input("x", kFloat, {1, 3, 4}).output("y");
  b17.init<float>("gamma", {4}, {1.f, 2.f, 0.5f, -1.f});
  b17.init<float>("beta", {4}, {0.f, 0.1f, 0.2f, 0.3f});
  b17.node("LayerNormalization", {"x", "gamma", "beta"}, {"y"}, "ln");
  Graph g17 = import_ok(b17);
  EXPECT_EQ(run1(g17, {x}), y);
  // Against a direct evaluation.
  ASSERT_EQ(y.size(), 12u);
  for (int r = 0; r < 3; ++r) {
    double mean = 0, var = 0;
    for (int i = 0; i < 4; ++i) mean += xv[size_t(r * 4 + i)] / 4.0;
    for (int i = 0; i < 4; ++i) var += std::pow(xv[size_t(r * 4 + i)] - mean, 2) / 4.0;
    const double gamma[4] = {1, 2, 0.5, -1}, beta[4] = {0, 0.1, 0.2, 0.3};
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(y[size_t(r * 4 + i)], (xv[size_t(r * 4 + i)] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i], 1e-5);
  }
}

// The training outputs Mean and InvStdDev, when a model asks for them, come from the reference's
// own float steps; an inference export (output 0 only) stays one LayerNormalization node.
TEST(ImportTransformer, LayerNormalizationStatisticsOutputs) {
  OnnxBuilder b(17);
  b.input("x", kFloat, {2, 3, 4}).output("y").output("mean").output("inv");
  b.init<float>("gamma", {4}, {1.f, 2.f, 0.5f, -1.f});
  b.node("LayerNormalization", {"x", "gamma"}, {"y", "mean", "inv"}, "ln");
  Graph g = import_ok(b);
  EXPECT_EQ(count(g, OpKind::LayerNormalization), 0) << print_graph(g);
  EXPECT_EQ(count(g, OpKind::ReduceMean), 2) << print_graph(g);
  const std::vector<float> xv = random_floats(24, 7);
  auto ex = Executor::create(g);
  ASSERT_TRUE(ex.ok()) << ex.status().to_string();
  std::vector<TensorData> outs;
  ASSERT_TRUE(ex.value()->run({TensorData::from<float>({2, 3, 4}, xv)}, &outs).ok());
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[1].shape, (Shape{2, 3, 1}));
  EXPECT_EQ(outs[2].shape, (Shape{2, 3, 1}));
  const std::vector<float> y = outs[0].to_vector<float>(), mean = outs[1].to_vector<float>(),
                           inv = outs[2].to_vector<float>();
  const double gamma[4] = {1, 2, 0.5, -1};
  for (int r = 0; r < 6; ++r) {
    double m = 0, v = 0;
    for (int i = 0; i < 4; ++i) m += xv[size_t(r * 4 + i)] / 4.0;
    for (int i = 0; i < 4; ++i) v += std::pow(xv[size_t(r * 4 + i)] - m, 2) / 4.0;
    EXPECT_NEAR(mean[size_t(r)], m, 1e-6);
    EXPECT_NEAR(inv[size_t(r)], 1 / std::sqrt(v + 1e-5), 1e-4 / std::sqrt(v + 1e-5));
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(y[size_t(r * 4 + i)], (xv[size_t(r * 4 + i)] - m) / std::sqrt(v + 1e-5) * gamma[i], 1e-5);
  }

  OnnxBuilder inference(17);
  inference.input("x", kFloat, {2, 3, 4}).output("y");
  inference.init<float>("gamma", {4}, {1.f, 2.f, 0.5f, -1.f});
  inference.node("LayerNormalization", {"x", "gamma"}, {"y", "mean", "inv"}, "ln");
  EXPECT_EQ(count(import_ok(inference), OpKind::LayerNormalization), 1);
}

TEST(ImportTransformer, PartialLayerNormPatternsStayPlainOps) {
  for (const char* variant : {"pow3", "axis", "extra_use"}) {
    SCOPED_TRACE(variant);
    Graph g = import_ok(layer_norm_13(variant));
    EXPECT_EQ(count(g, OpKind::LayerNormalization), 0) << print_graph(g);
    EXPECT_EQ(count(g, OpKind::Sqrt), 1);
  }
}

// GELU as opset 13 exports nn.GELU() (exact) and nn.GELU(approximate="tanh").
OnnxBuilder gelu_13(bool tanh, float half = 0.5f) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 8}).output("y");
  b.init("half", scalar(half));
  b.init("one", scalar(1.f));
  if (!tanh) {
    b.init("sqrt2", scalar(1.4142135f));
    b.node("Div", {"x", "sqrt2"}, {"a"}, "div");
    b.node("Erf", {"a"}, {"e"}, "erf");
    b.node("Add", {"e", "one"}, {"p"}, "add");
    b.node("Mul", {"x", "p"}, {"xp"}, "mul");
    b.node("Mul", {"xp", "half"}, {"y"}, "mul_half");
  } else {
    b.init("c3", scalar(0.044715f));
    b.init("k", scalar(0.7978846f));
    b.node("Mul", {"x", "x"}, {"x2"}, "sq");
    b.node("Mul", {"x", "x2"}, {"x3"}, "cube");
    b.node("Mul", {"c3", "x3"}, {"cx3"}, "mul_c3");
    b.node("Add", {"x", "cx3"}, {"s"}, "sum");
    b.node("Mul", {"k", "s"}, {"u"}, "mul_k");
    b.node("Tanh", {"u"}, {"t"}, "tanh");
    b.node("Add", {"one", "t"}, {"p"}, "add");
    b.node("Mul", {"x", "p"}, {"xp"}, "mul");
    b.node("Mul", {"half", "xp"}, {"y"}, "mul_half");
  }
  return b;
}

TEST(ImportTransformer, GeluPatternsAreOneNode) {
  const auto xv = random_floats(8, 2);
  const TensorData x = TensorData::from<float>({1, 8}, xv);
  for (bool tanh : {false, true}) {
    SCOPED_TRACE(tanh ? "tanh" : "erf");
    Graph g = import_ok(gelu_13(tanh));
    ASSERT_EQ(testing::nodes_of(g).size(), 1u) << print_graph(g);
    const Node& n = *testing::nodes_of(g)[0];
    EXPECT_EQ(n.kind, OpKind::Gelu);
    EXPECT_EQ(n.attrs.get_string("approximate", ""), tanh ? "tanh" : "none");
    auto y = run1(g, {x});
    ASSERT_EQ(y.size(), 8u);
    for (size_t i = 0; i < 8; ++i) {
      const double v = xv[i];
      const double want = tanh ? 0.5 * v * (1 + std::tanh(0.7978845608 * (v + 0.044715 * v * v * v)))
                               : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      EXPECT_NEAR(y[i], want, 1e-5) << v;
    }
    // A different constant: no fusion, the plain ops compute 0.6 x (1 + ...).
    Graph g6 = import_ok(gelu_13(tanh, 0.6f));
    EXPECT_EQ(count(g6, OpKind::Gelu), 0) << print_graph(g6);
  }
  OnnxBuilder b20(20);
  b20.input("x", kFloat, {1, 8}).output("y");
  OnnxBuilder::attr(b20.node("Gelu", {"x"}, {"y"}, "gelu"), "approximate", std::string("tanh"));
  Graph g20 = import_ok(b20);
  ASSERT_EQ(count(g20, OpKind::Gelu), 1);
  EXPECT_EQ(run1(g20, {x}), run1(import_ok(gelu_13(true)), {x}));
}

TEST(ImportTransformer, Opset18SplitAndPad) {
  OnnxBuilder b(18);
  b.input("x", kFloat, {1, 5}).output("a").output("b").output("c");
  auto* split = b.node("Split", {"x"}, {"a", "b", "c"}, "split");
  OnnxBuilder::attr(split, "num_outputs", int64_t(3));
  OnnxBuilder::attr(split, "axis", int64_t(1));
  b.node("Relu", {"x"}, {"r"});
  Graph g = import_ok(b);
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 2}));
  EXPECT_EQ(g.tensor(g.outputs[2]).shape, (Shape{1, 1}));

  OnnxBuilder p(18);
  p.input("x", kFloat, {1, 2, 3}).output("y");
  p.init<int64_t>("pads", {2}, {1, 2});
  p.init<int64_t>("axes", {1}, {-1});
  p.node("Pad", {"x", "pads", "", "axes"}, {"y"}, "pad");
  Graph gp = import_ok(p);
  EXPECT_EQ(gp.tensor(gp.outputs[0]).shape, (Shape{1, 2, 6}));
}

TEST(ImportTransformer, EveryUnsupportedOpIsNamedInOneMessage) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 4}).output("y");
  b.node("Relu", {"x"}, {"a"}, "relu");
  b.node("Celu", {"a"}, {"b"}, "celu_1");
  b.node("NonZero", {"b"}, {"c"}, "nz");
  b.node("Celu", {"c"}, {"y"}, "celu_2");
  auto g = b.import();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Error::NotSupported);
  const std::string& m = g.status().message();
  EXPECT_NE(m.find("3 nodes are not supported"), std::string::npos) << m;
  for (const char* s : {"node 'celu_1' (op Celu", "node 'nz' (op NonZero", "node 'celu_2' (op Celu"})
    EXPECT_NE(m.find(s), std::string::npos) << s << " in " << m;
}

// Every new op at every opset from 7 to 20 imports or fails with a message; nothing crashes.
TEST(ImportTransformer, NoCrashOnOpsets7To20) {
  for (int opset = 7; opset <= 20; ++opset) {
    SCOPED_TRACE(opset);
    OnnxBuilder b(opset);
    b.input("x", kFloat, {2, 3, 4}).input("ids", kInt64, {2}).output("y");
    b.init<float>("table", {5, 4}, std::vector<float>(20, 1.f));
    b.init("two", scalar(2.f));
    b.init<float>("gamma", {4}, {1, 1, 1, 1});
    b.init<int64_t>("shape", {3}, {2, 3, 4});
    b.init<int64_t>("split", {2}, {2, 2});
    b.node("Gather", {"table", "ids"}, {"e"});
    b.node("Pow", {"x", "two"}, {"p"});
    b.node("Erf", {"p"}, {"f"});
    b.node("Expand", {"e", "shape"}, {"ex"});
    b.node("Add", {"f", "ex"}, {"s"});
    b.node("LayerNormalization", {"s", "gamma"}, {"l"});
    b.node("Gelu", {"l"}, {"gl"});
    auto* sp = b.node("Split", {"gl", "split"}, {"s0", "s1"});
    OnnxBuilder::attr(sp, "axis", int64_t(-1));
    b.node("Concat", {"s0", "s1"}, {"c"});
    OnnxBuilder::attr(b.node("ReduceMean", {"c"}, {"y"}), "axes", V{-1});
    auto g = b.import();
    if (!g.ok()) {
      EXPECT_FALSE(g.status().message().empty());
    }
  }
}

}  // namespace
}  // namespace neutron
