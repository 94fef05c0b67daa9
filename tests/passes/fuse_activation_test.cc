// fuse-activation: Relu/Clip after a float Conv or Gemm become the producer's output clamp, with
// bit-identical results (NaN inputs included: a fused Relu maps NaN to 0 as the Relu op does).
#include <cstring>

#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Attributes clip(double lo, double hi) {
  Attributes a;
  a.set("min", lo);
  a.set("max", hi);
  return a;
}

// cpu_pipeline() without fuse-activation: the reference that runs Relu/Clip as their own ops.
std::vector<PassInfo> unfused_pipeline() {
  std::vector<PassInfo> r;
  for (const PassInfo& p : cpu_pipeline())
    if (std::string(p.name) != "fuse-activation") r.push_back(p);
  return r;
}

std::vector<TensorData> run_with(const Graph& original, const std::vector<PassInfo>& passes,
                                 const std::vector<TensorData>& inputs, Graph* after = nullptr) {
  Graph g = original;
  Status s = run_passes(g, passes);
  EXPECT_TRUE(s.ok()) << s.to_string();
  auto ex = Executor::create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().to_string() << "\n" << print_graph(g);
  std::vector<TensorData> outs;
  if (ex.ok()) EXPECT_TRUE(ex.value()->run(inputs, &outs).ok());
  if (after) *after = g;
  return outs;
}

void expect_identical_bytes(const Graph& g, int expected_activations_left) {
  std::vector<TensorData> inputs = random_inputs(g, 3);
  for (TensorData& d : inputs)  // NaN and signed zeros reach the activations too
    for (int64_t i = 0; i < d.count(); i += 7) d.data<float>()[i] = i % 21 == 0 ? NAN : (i % 2 ? -0.0f : 0.0f);
  Graph fused;
  const auto a = run_with(g, unfused_pipeline(), inputs);
  const auto b = run_with(g, cpu_pipeline(), inputs, &fused);
  EXPECT_EQ(count(fused, OpKind::Relu) + count(fused, OpKind::Clip), expected_activations_left) << print_graph(fused);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].count(), b[i].count());
    EXPECT_EQ(std::memcmp(a[i].data<float>(), b[i].data<float>(), sizeof(float) * size_t(a[i].count())), 0)
        << "output " << i;
  }
}

TEST(FuseActivation, ConvsOfEveryAlgorithmAndGemm) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 19, 7, 6});
  TensorId c3 = b.op(OpKind::Relu, {b.conv(x, b.random_constant("w3", {33, 19, 3, 3}), b.random_constant("b3", {33}))});
  TensorId c1 = b.op(OpKind::Clip, {b.conv(c3, b.random_constant("w1", {40, 33, 1, 1}), kNoTensor, 1, 0)}, clip(0, 0.5));
  TensorId dw = b.op(OpKind::Relu, {b.conv(c1, b.random_constant("wd", {40, 1, 3, 3}), b.random_constant("bd", {40}), 40)});
  TensorId dm = b.op(OpKind::Clip, {b.conv(dw, b.random_constant("wm", {80, 1, 3, 3}), kNoTensor, 40)},
                     clip(-0.25, 0.25));
  Attributes tb;
  tb.set("transB", int64_t(1));
  TensorId v = b.input("v", {3, 17});
  TensorId gm = b.op(OpKind::Relu, {b.op(OpKind::Gemm, {v, b.random_constant("wg", {35, 17}), b.random_constant("bg", {35})}, tb)});
  TensorId gc = b.op(OpKind::Clip, {b.op(OpKind::Gemm, {v, b.random_constant("wh", {5, 17})}, tb)}, clip(-0.1, 6));
  expect_identical_bytes(b.finish({dm, gm, gc}), 0);
}

TEST(FuseActivation, LeavesSharedOutputsAndFusesOnce) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 5, 5});
  TensorId shared = b.conv(x, b.random_constant("w", {6, 4, 3, 3}), kNoTensor);
  TensorId r = b.op(OpKind::Relu, {shared});
  TensorId twice = b.op(OpKind::Relu, {b.op(OpKind::Relu, {b.conv(x, b.random_constant("w3", {6, 4, 3, 3}), kNoTensor)})});
  expect_identical_bytes(b.finish({r, shared, twice}), 2);
}

TEST(FuseActivation, ResidualAddAndSubButNotBroadcasts) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 7, 5, 5});  // 175 elements: every ISA's vector loop has a tail
  TensorId c = b.conv(x, b.random_constant("w", {7, 7, 3, 3}), b.random_constant("b", {7}), 1, 1);
  TensorId add = b.op(OpKind::Relu, {b.op(OpKind::Add, {c, x})});
  TensorId sub = b.op(OpKind::Clip, {b.op(OpKind::Sub, {add, x})}, clip(-0.5, 0.75));
  TensorId lo_only = b.op(OpKind::Clip, {b.op(OpKind::Add, {sub, c})}, clip(-INFINITY, 0.25));
  TensorId bcast = b.op(OpKind::Relu, {b.op(OpKind::Add, {lo_only, b.random_constant("k", {1, 7, 1, 1})})});
  expect_identical_bytes(b.finish({bcast}), 1);
}

}  // namespace
}  // namespace neutron::testing
