// Sharing ops whose members cannot share one parameter set without clamping or crushing a branch:
// inputs with different fixed sets (cat([tanh, sigmoid])), fixed members reached through a Reshape
// next to observed ones, a Max with a far-off input, a sum of Sigmoids. Each branch is measured
// against float after fold-qdq (the int8 kernels), and against what the one shared set the
// quantizer used to build would give it ("before": that set applied to the float values).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include "partition/op_support.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/qdq_params_util.h"
#include "quantize/quantizer.h"
#include "target/target.h"
#include "util/single_op.h"

namespace neutron::testing {
namespace {

constexpr int kSamples = 32;

TensorData normal_samples(int64_t width, float sigma, uint32_t seed) {
  TensorData samples(DType::F32, {kSamples, 1, width});
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, sigma);
  for (int64_t i = 0; i < samples.count(); ++i) samples.data<float>()[i] = nd(rng);
  return samples;
}



double fake_quant(double v, const QuantParams& q) {
  const double s = q.scale[0], z = q.zero_point[0];
  return (std::clamp(std::nearbyint(v / s) + z, -128.0, 127.0) - z) * s;
}

// One output element range [begin, end) of output `output`: a branch.
struct Branch {
  const char* name;
  size_t output;
  int64_t begin, end;
  QuantParams before;  // the shared set the branch had before
  double min_after_db;
};

struct BranchSqnr {
  double before = 0, after = 0;
};

// Float graph vs its quantized and folded graph on every sample, per branch; prints the numbers.
std::vector<BranchSqnr> measure(const Graph& g, const Graph& quantized, const TensorData& samples,
                                const std::vector<Branch>& branches, const char* test) {
  Graph folded = quantized;
  Status st = run_passes(folded, cpu_pipeline());
  EXPECT_TRUE(st.ok()) << st.to_string();
  Graph ref = g;
  st = run_passes(ref, cpu_pipeline());
  EXPECT_TRUE(st.ok()) << st.to_string();
  const int64_t width = samples.shape[2];
  std::vector<double> sig(branches.size()), err_before(branches.size()), err_after(branches.size());
  for (int s = 0; s < kSamples; ++s) {
    TensorData in(DType::F32, {1, width});
    std::copy_n(samples.data<float>() + s * width, width, in.data<float>());
    auto want = run_graph(ref, {in});
    auto got = run_graph(folded, {in});
    EXPECT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
    if (!want.ok() || !got.ok()) return {};
    for (size_t b = 0; b < branches.size(); ++b)
      for (int64_t i = branches[b].begin; i < branches[b].end; ++i) {
        const double w = want.value()[branches[b].output].get_as_double(i);
        const double o = got.value()[branches[b].output].get_as_double(i);
        sig[b] += w * w;
        err_after[b] += (w - o) * (w - o);
        err_before[b] += (w - fake_quant(w, branches[b].before)) * (w - fake_quant(w, branches[b].before));
      }
  }
  std::vector<BranchSqnr> r(branches.size());
  for (size_t b = 0; b < branches.size(); ++b) {
    r[b].before = 10 * std::log10(sig[b] / std::max(err_before[b], 1e-30));
    r[b].after = 10 * std::log10(sig[b] / std::max(err_after[b], 1e-30));
    std::printf("%s: branch %s SQNR vs float: before %.2f dB (one shared set), after %.2f dB\n", test,
                branches[b].name, r[b].before, r[b].after);
    EXPECT_GT(r[b].after, branches[b].min_after_db) << branches[b].name;
  }
  return r;
}

// After the compile pipeline, every node of `kinds` (the sharing op and its requantizing Clips) is
// int8 and accepted by the imxrt700 NPU rules; returns how many there are.
int expect_delegated(const Graph& quantized, std::vector<OpKind> kinds) {
  auto target = load_target("imxrt700");
  EXPECT_TRUE(target.ok()) << target.status().to_string();
  Graph g = quantized;
  Status st = run_passes(g, compile_pipeline());
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (!target.ok() || !st.ok()) return 0;
  int found = 0;
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (std::find(kinds.begin(), kinds.end(), n.kind) == kinds.end()) continue;
    ++found;
    for (TensorId in : n.inputs) EXPECT_EQ(g.tensor(in).dtype, DType::I8) << describe(g, id);
    const auto rec = check_node_support(g, id, target.value());
    EXPECT_FALSE(rec.has_value()) << describe(g, id) << ": " << rec->rule << ": " << rec->detail;
  }
  return found;
}

const QuantParams kSigmoidParams = QuantParams::per_tensor(1.0f / 256, -128);
const QuantParams kTanhParams = QuantParams::per_tensor(1.0f / 128, 0);

Attributes concat_axis1() {
  Attributes a;
  a.set("axis", int64_t(1));
  return a;
}

Attributes trans_b() {
  Attributes a;
  a.set("transB", int64_t(1));
  return a;
}

// cat([tanh(x), sigmoid(x)]): two fixed sets. The Concat takes Tanh's [-1, 1), which covers
// Sigmoid's [0, 1); the Sigmoid keeps its set and is requantized on its branch. Before, the group
// took the Sigmoid's set and every negative tanh became 0.
TEST(SharedGroupSplit, TanhAndSigmoidConcatCoversBothFixedRanges) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 16});
  const TensorId t = b.op(OpKind::Tanh, {x});
  const TensorId s = b.op(OpKind::Sigmoid, {x});
  const TensorId y = b.op(OpKind::Concat, {t, s}, concat_axis1());
  const Graph g = b.finish({y});
  const TensorData samples = normal_samples(16, 1.5f, 7);
  QuantizeReport report;
  auto q = quantize(g, samples, &report);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(report.clamped_members.empty());
  EXPECT_EQ(report.own_params, std::vector<std::string>{g.tensor(s).name});
  EXPECT_EQ(params_of(q.value(), g.tensor(y).name), kTanhParams);
  EXPECT_EQ(params_of(q.value(), g.tensor(t).name), kTanhParams);
  EXPECT_EQ(params_of(q.value(), g.tensor(s).name), kSigmoidParams);
  const auto r = measure(g, q.value(), samples,
                         {{"tanh", 0, 0, 16, kSigmoidParams, 40.0}, {"sigmoid", 0, 16, 32, kSigmoidParams, 40.0}},
                         "cat([tanh, sigmoid])");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_GT(r[0].after, r[0].before + 20) << "the tanh branch keeps its negative half";
  EXPECT_EQ(expect_delegated(q.value(), {OpKind::Concat, OpKind::Clip}), 2) << "the Concat and the sigmoid's requantization";
}

// SSD-lite's head as exported with the Sigmoid before a Reshape, and a Tanh branch: the Reshape's
// output has the Sigmoid's fixed set too, so it keeps it instead of fixing the Concat (and the boxes)
// to [0, 1); the boxes and the Concat share an observed range; nothing is clamped.
TEST(SharedGroupSplit, FixedMembersThroughAReshapeNextToObservedBoxes) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId boxes = b.op(OpKind::Gemm, {x, b.random_constant("wb", {4, 8}), b.random_constant("bb", {4})}, trans_b());
  const TensorId logits =
      b.op(OpKind::Gemm, {x, b.random_constant("ws", {6, 8}), b.random_constant("bs", {6})}, trans_b());
  Attributes shape;
  shape.set("shape", std::vector<int64_t>{1, 6});
  const TensorId scores = b.op(OpKind::Reshape, {b.op(OpKind::Sigmoid, {logits})}, shape);
  const TensorId pre = b.op(OpKind::Gemm, {x, b.random_constant("wt", {3, 8}), b.random_constant("bt", {3})}, trans_b());
  const TensorId t = b.op(OpKind::Tanh, {pre});
  const TensorId y = b.op(OpKind::Concat, {boxes, scores, t}, concat_axis1());
  const Graph g = b.finish({y});
  const TensorData samples = normal_samples(8, 1.0f, 8);
  QuantizeReport report;
  auto q = quantize(g, samples, &report);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(report.clamped_members.empty());
  for (const auto& c : report.clamped_members) ADD_FAILURE() << "clamped: " << c.tensor;
  std::vector<std::string> own = report.own_params;
  std::sort(own.begin(), own.end());
  std::vector<std::string> want_own = {g.tensor(scores).name, g.tensor(t).name};
  std::sort(want_own.begin(), want_own.end());
  EXPECT_EQ(own, want_own);
  EXPECT_EQ(params_of(q.value(), g.tensor(scores).name), kSigmoidParams);
  EXPECT_EQ(params_of(q.value(), g.tensor(t).name), kTanhParams);
  EXPECT_EQ(params_of(q.value(), g.tensor(boxes).name), params_of(q.value(), g.tensor(y).name));
  const auto r = measure(g, q.value(), samples,
                         {{"boxes", 0, 0, 4, kSigmoidParams, 30.0},
                          {"sigmoid scores", 0, 4, 10, kSigmoidParams, 30.0},
                          {"tanh", 0, 10, 13, kSigmoidParams, 30.0}},
                         "cat([boxes, reshape(sigmoid), tanh])");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_GT(r[0].after, r[0].before + 10) << "negative box offsets survive";
  EXPECT_EQ(expect_delegated(q.value(), {OpKind::Concat, OpKind::Clip}), 3) << "the Concat and two requantizations";
}

// Max(wide, narrow) and Min(wide, narrow), the narrow one also read by a Relu: it keeps its own
// parameters (before, it shared the wide range and its other reader saw a few steps of it); the
// folded graph requantizes it on its branch so Max/Min run with one parameter set (Neutron's
// MAXIMUM/MINIMUM need that).
TEST(SharedGroupSplit, MaxAndMinWithAFarOffInput) {
  for (OpKind kind : {OpKind::Max, OpKind::Min}) {
    SCOPED_TRACE(op_kind_name(kind));
    GraphBuilder b;
    const TensorId x = b.input("x", {1, 8});
    const TensorId wide = b.op(OpKind::Mul, {x, b.constant("gw", {1}, {100.0f})});
    const TensorId narrow = b.op(OpKind::Mul, {x, b.constant("gn", {1}, {0.01f})});
    const TensorId y = b.op(kind, {wide, narrow});
    const TensorId z = b.op(OpKind::Relu, {narrow});
    const Graph g = b.finish({y, z});
    const TensorData samples = normal_samples(8, 1.0f, 9);
    QuantizeReport report;
    auto q = quantize(g, samples, &report);
    ASSERT_TRUE(q.ok()) << q.status().to_string();
    EXPECT_TRUE(report.clamped_members.empty());
    EXPECT_EQ(report.own_params, std::vector<std::string>{g.tensor(narrow).name});
    const auto py = params_of(q.value(), g.tensor(y).name), pn = params_of(q.value(), g.tensor(narrow).name);
    ASSERT_TRUE(py && pn);
    EXPECT_LT(pn->scale[0] * 1000, py->scale[0]);
    // Before: every member shared the range covering wide and narrow (the output's, here).
    const auto r = measure(g, q.value(), samples, {{"output", 0, 0, 8, *py, 30.0}, {"narrow (relu)", 1, 0, 8, *py, 30.0}},
                           kind == OpKind::Max ? "Max(wide, narrow)" : "Min(wide, narrow)");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_GT(r[0].after, r[0].before - 1.0) << "the output is no worse";
    EXPECT_GT(r[1].after, r[1].before + 20) << "the narrow branch keeps its precision";
    // After fold-qdq the op reads one parameter set (the narrow input through a requantizing
    // Clip), so the NPU takes both (max_min.shared_qparams).
    EXPECT_EQ(expect_delegated(q.value(), {kind, OpKind::Clip}), 2);
  }
}

// A sum of Sigmoids leaves the Sigmoid's [0, 1): the ReduceSum's input keeps the fixed set and
// its output gets its own observed range instead of being clamped to 1.
TEST(SharedGroupSplit, SumOfSigmoidsGetsItsOwnRange) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 16});
  const TensorId s = b.op(OpKind::Sigmoid, {x});
  Attributes a;
  a.set("axes", std::vector<int64_t>{1});
  a.set("keepdims", int64_t(1));
  const TensorId y = b.op(OpKind::ReduceSum, {s}, a);
  const Graph g = b.finish({y});
  const TensorData samples = normal_samples(16, 1.0f, 10);
  QuantizeReport report;
  auto q = quantize(g, samples, &report);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(report.clamped_members.empty());
  EXPECT_EQ(report.own_params, std::vector<std::string>{g.tensor(s).name});
  EXPECT_EQ(params_of(q.value(), g.tensor(s).name), kSigmoidParams);
  const auto r = measure(g, q.value(), samples, {{"sum", 0, 0, 1, kSigmoidParams, 30.0}}, "ReduceSum(sigmoid)");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GT(r[0].after, r[0].before + 20);
}

// A constant Pad of a Sigmoid with a value outside [0, 1) (-1 marks the border): the Pad's output
// gets its own range, the Sigmoid keeps its set and is requantized before the Pad.
TEST(SharedGroupSplit, PadValueOutsideTheFixedRangeGetsItsOwnRange) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 16});
  const TensorId s = b.op(OpKind::Sigmoid, {x});
  Attributes a;
  a.set("pads", std::vector<int64_t>{0, 2, 0, 2});
  a.set("mode", std::string("constant"));
  a.set("value", -1.0);
  const TensorId y = b.op(OpKind::Pad, {s}, a);
  const Graph g = b.finish({y});
  const TensorData samples = normal_samples(16, 1.0f, 11);
  QuantizeReport report;
  auto q = quantize(g, samples, &report);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(report.clamped_members.empty());
  EXPECT_EQ(report.own_params, std::vector<std::string>{g.tensor(s).name});
  EXPECT_EQ(params_of(q.value(), g.tensor(s).name), kSigmoidParams);
  const auto r = measure(g, q.value(), samples, {{"padded", 0, 0, 20, kSigmoidParams, 35.0}}, "Pad(sigmoid, -1)");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GT(r[0].after, r[0].before + 10);
  EXPECT_EQ(expect_delegated(q.value(), {OpKind::Pad, OpKind::Clip}), 2) << "the Pad and the sigmoid's requantization";
}

}  // namespace
}  // namespace neutron::testing
