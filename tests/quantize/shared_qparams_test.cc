// The quantizer gives the ops upstream quantizes with shared input/output parameters (Clip with
// non-RELU bounds, ReduceMean, ReduceSum, pools, data movement) one parameter set, so the NPU rules
// (quant.shared_qparams, clip.qparams) accept them; and sharing never clamps a tensor that another
// reader sees to a range it did not observe.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "exec/executor.h"
#include "partition/op_support.h"
#include "passes/pipeline.h"
#include "quantize/quantizer.h"
#include "target/target.h"

namespace neutron::testing {
namespace {

const NeutronTarget& imxrt700() {
  static const NeutronTarget t = [] {
    auto r = load_target("imxrt700");
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r.value() : NeutronTarget{};
  }();
  return t;
}

// A float graph built node by node (shapes given by the caller).
struct FloatGraph {
  Graph g;
  TensorId value(const std::string& name, Shape s) {
    Tensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = std::move(s);
    return g.add_tensor(std::move(t));
  }
  TensorId input(const std::string& name, Shape s) {
    const TensorId t = value(name, std::move(s));
    g.inputs.push_back(t);
    return t;
  }
  TensorId constant(const std::string& name, Shape s, std::mt19937& rng, float scale) {
    TensorData d(DType::F32, std::move(s));
    std::normal_distribution<float> nd(0.f, scale);
    for (int64_t i = 0; i < d.count(); ++i) d.data<float>()[i] = nd(rng);
    return g.add_constant(name, std::move(d));
  }
  TensorId op(OpKind kind, const std::string& name, std::vector<TensorId> in, Shape out, Attributes a = {}) {
    const TensorId y = value(name + "_out", std::move(out));
    Node n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(in);
    n.outputs = {y};
    n.attrs = std::move(a);
    g.add_node(std::move(n));
    return y;
  }
};

Attributes clip_attrs(double lo, double hi) {
  Attributes a;
  a.set("min", lo);
  a.set("max", hi);
  return a;
}

// Quantizes `g` with 32 N(0, 2^2) samples and folds the QDQ clusters (the graph the partitioner sees).
Graph quantize_and_fold(const Graph& g) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 2.f);
  std::vector<std::vector<CalibrationArray>> arrays;
  for (TensorId in : g.inputs) {
    Shape s = g.tensor(in).shape;
    s.insert(s.begin(), 32);
    TensorData d(DType::F32, s);
    for (int64_t i = 0; i < d.count(); ++i) d.data<float>()[i] = nd(rng);
    arrays.push_back({{"random", std::move(d)}});
  }
  auto calib = make_calibration_set(model_inputs(g), std::move(arrays));
  EXPECT_TRUE(calib.ok()) << calib.status().to_string();
  if (!calib.ok()) return Graph();
  auto q = quantize_graph(g, calib.value(), QuantizeOptions());
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  if (!q.ok()) return Graph();
  Graph folded = q.value();
  Status st = run_passes(folded, compile_pipeline());
  EXPECT_TRUE(st.ok()) << st.to_string();
  return folded;
}

NodeId find_kind(const Graph& g, OpKind k) {
  for (NodeId id : g.live_nodes())
    if (g.node(id).kind == k) return id;
  ADD_FAILURE() << "no " << op_kind_name(k);
  return 0;
}

// The real value range a tensor's int8 parameters represent.
std::pair<double, double> range_of(const Tensor& t) {
  const double s = t.quant.scale[0], z = t.quant.zero_point[0];
  return {(-128 - z) * s, (127 - z) * s};
}

TEST(SharedQParams, ClipReduceMeanReduceSumShareAndAreDelegated) {
  struct Case {
    OpKind kind;
    Attributes attrs;
    Shape out;
  };
  Attributes mean_a;
  mean_a.set("axes", std::vector<int64_t>{2, 3});
  Attributes sum_a;
  sum_a.set("axes", std::vector<int64_t>{1});
  const Case cases[] = {
      {OpKind::Clip, clip_attrs(-0.5, 0.7), {1, 8, 6, 6}},
      {OpKind::Clip, clip_attrs(-3.0, 1.5), {1, 8, 6, 6}},
      {OpKind::ReduceMean, mean_a, {1, 8, 1, 1}},
      {OpKind::ReduceSum, sum_a, {1, 1, 6, 6}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(op_kind_name(c.kind));
    FloatGraph fg;
    const TensorId x = fg.input("x", {1, 8, 6, 6});
    fg.g.outputs.push_back(fg.op(c.kind, "op", {x}, c.out, c.attrs));
    Graph q = quantize_and_fold(fg.g);
    const NodeId id = find_kind(q, c.kind);
    const Node& n = q.node(id);
    EXPECT_EQ(q.tensor(n.inputs[0]).quant, q.tensor(n.outputs[0]).quant);
    const auto rec = check_node_support(q, id, imxrt700());
    EXPECT_FALSE(rec.has_value()) << rec->rule << ": " << rec->detail;
  }
}

TEST(SharedQParams, ReduceSumRangeCoversTheSum) {
  // Shared with the input, the sum of 8 channels must still fit: the observer sees both tensors.
  FloatGraph fg;
  const TensorId x = fg.input("x", {1, 8, 6, 6});
  Attributes a;
  a.set("axes", std::vector<int64_t>{1});
  fg.g.outputs.push_back(fg.op(OpKind::ReduceSum, "sum", {x}, {1, 1, 6, 6}, a));
  Graph q = quantize_and_fold(fg.g);
  const auto [lo, hi] = range_of(q.tensor(q.node(find_kind(q, OpKind::ReduceSum)).outputs[0]));
  // N(0, 4) inputs: |x| stays below ~10, sums of 8 reach well beyond.
  EXPECT_GT(hi - lo, 30.0);
}

TEST(SharedQParams, ClipAloneReaderNarrowsItsProducerToTheClipRange) {
  // Conv -> Clip(-0.5, 0.7): the conv's output is read only by the clamp, so the shared range is
  // the clamp's output range (saturating the conv output there is exact), not the conv's range.
  // (Upstream's shared spec keeps the conv's range: measured on a conv3x3 + hardtanh(-0.5, 0.7),
  // SQNR 31.98 dB that way, 34.89 dB this way, 33.62 dB with separate parameters on the CPU.)
  std::mt19937 rng(3);
  FloatGraph fg;
  const TensorId x = fg.input("x", {1, 4, 6, 6});
  Attributes ca;
  ca.set("kernel_shape", std::vector<int64_t>{3, 3});
  const TensorId w = fg.constant("w", {8, 4, 3, 3}, rng, 0.5f);
  const TensorId c = fg.op(OpKind::Conv, "conv", {x, w}, {1, 8, 4, 4}, ca);
  fg.g.outputs.push_back(fg.op(OpKind::Clip, "clip", {c}, {1, 8, 4, 4}, clip_attrs(-0.5, 0.7)));
  Graph q = quantize_and_fold(fg.g);
  // fold-qdq then fuses the clamp into the conv (its act_min/act_max), on the clamp's range.
  int clips = 0;
  for (NodeId id : q.live_nodes()) clips += q.node(id).kind == OpKind::Clip;
  EXPECT_EQ(clips, 0);
  const Node& conv = q.node(find_kind(q, OpKind::Conv));
  EXPECT_NEAR(conv.attrs.get_float("act_min", 0), -0.5, 1e-6);
  EXPECT_NEAR(conv.attrs.get_float("act_max", 0), 0.7, 1e-6);
  const auto [lo, hi] = range_of(q.tensor(conv.outputs[0]));
  EXPECT_NEAR(lo, -0.5, 0.02);
  EXPECT_NEAR(hi, 0.7, 0.02);
  EXPECT_FALSE(check_node_support(q, find_kind(q, OpKind::Conv), imxrt700()).has_value());
}

TEST(SharedQParams, ClipNeverClampsABranchItShares) {
  // x -> Conv -> {Clip(-0.5, 0.7), Relu}: the conv output has another reader, so the shared range
  // is the conv's observed range, wide enough for the Relu branch.
  std::mt19937 rng(3);
  FloatGraph fg;
  const TensorId x = fg.input("x", {1, 4, 6, 6});
  Attributes ca;
  ca.set("kernel_shape", std::vector<int64_t>{3, 3});
  const TensorId w = fg.constant("w", {8, 4, 3, 3}, rng, 0.5f);
  const TensorId c = fg.op(OpKind::Conv, "conv", {x, w}, {1, 8, 4, 4}, ca);
  fg.g.outputs.push_back(fg.op(OpKind::Clip, "clip", {c}, {1, 8, 4, 4}, clip_attrs(-0.5, 0.7)));
  fg.g.outputs.push_back(fg.op(OpKind::Relu, "relu", {c}, {1, 8, 4, 4}));
  Graph q = quantize_and_fold(fg.g);
  const Node& clip = q.node(find_kind(q, OpKind::Clip));
  EXPECT_EQ(q.tensor(clip.inputs[0]).quant, q.tensor(clip.outputs[0]).quant);
  const auto [lo, hi] = range_of(q.tensor(clip.inputs[0]));
  EXPECT_LT(lo, -2.0);
  EXPECT_GT(hi, 2.0);
}

TEST(SharedQParams, ReluFamilyClipKeepsItsOwnOutputParameters) {
  // (-1, 1) runs as RELU_N1_TO_1 with its own output parameters (upstream's SingleInputBasicPattern).
  FloatGraph fg;
  const TensorId x = fg.input("x", {1, 8, 6, 6});
  fg.g.outputs.push_back(fg.op(OpKind::Clip, "clip", {x}, {1, 8, 6, 6}, clip_attrs(-1.0, 1.0)));
  Graph q = quantize_and_fold(fg.g);
  const Node& clip = q.node(find_kind(q, OpKind::Clip));
  EXPECT_NE(q.tensor(clip.inputs[0]).quant, q.tensor(clip.outputs[0]).quant);
  const auto [lo, hi] = range_of(q.tensor(clip.outputs[0]));
  EXPECT_NEAR(hi - lo, 2.0, 0.05);
}

}  // namespace
}  // namespace neutron::testing
