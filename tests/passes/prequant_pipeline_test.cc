#include <chrono>
#include <set>

#include "prequant_test_util.h"
#include "util/fixtures.h"

namespace neutron::testing {
namespace {

TEST(PrequantPipeline, NamesAreUniqueAndEndWithDce) {
  std::set<std::string> names;
  for (const PassInfo& p : prequant_pipeline()) EXPECT_TRUE(names.insert(p.name).second) << p.name;
  ASSERT_FALSE(prequant_pipeline().empty());
  EXPECT_STREQ(prequant_pipeline().back().name, "dce");
  for (const char* n : {"fold-batchnorm", "fold-constants", "div-to-mul", "fuse-hardswish", "split-to-slices",
                        "split-grouped-conv", "fold-linear-add", "gemm-bias", "remove-identity"})
    EXPECT_EQ(names.count(n), 1u) << n;
}

// One small network with every pattern the pipeline rewrites.
TEST(PrequantPipeline, RewritesEveryPatternAndKeepsResults) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 6, 6});
  Attributes perm;
  perm.set("perm", std::vector<int64_t>{3, 2, 0, 1});
  TensorId w = b.op(OpKind::Transpose, {b.random_constant("w_hwio", {3, 3, 2, 8})}, perm);  // folded
  TensorId c1 = b.op(OpKind::Dropout, {b.conv(x, w, kNoTensor, /*group=*/2)});            // removed
  TensorId y = b.op(OpKind::Relu, {b.batchnorm(c1, 8)});                                   // BN folded, conv split
  y = b.op(OpKind::Div, {y, b.constant("six", {1}, {6.0f})});                              // Mul
  Attributes split;
  split.set("axis", int64_t(1));
  auto halves = b.op_n(OpKind::Split, {y}, 2, split);                                      // Slices
  TensorId sum = b.op(OpKind::Add, {halves[0], halves[1]});
  TensorId gap = b.op(OpKind::GlobalAveragePool, {sum});
  Attributes flat;
  flat.set("shape", std::vector<int64_t>{1, 4});
  TensorId fc = b.op(OpKind::MatMul, {b.op(OpKind::Reshape, {gap}, flat), b.random_constant("fc_w", {4, 3})});
  TensorId out = b.op(OpKind::Identity, {b.op(OpKind::Add, {fc, b.random_constant("fc_b", {3})})});
  b.g.tensor(out).name = "logits";
  Graph before = b.finish({out});

  Graph after = before;
  std::vector<std::string> stages;
  Status s = run_passes(after, prequant_pipeline(), [&](const PassInfo& p, const Graph&) { stages.push_back(p.name); });
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(stages.size(), prequant_pipeline().size());
  EXPECT_EQ(io_names(after), io_names(before));
  for (OpKind k : {OpKind::Transpose, OpKind::Dropout, OpKind::Identity, OpKind::BatchNormalization, OpKind::Div,
                   OpKind::Split, OpKind::MatMul})
    EXPECT_EQ(count(after, k), 0) << op_kind_name(k) << "\n" << print_graph(after);
  EXPECT_EQ(count(after, OpKind::Conv), 2);
  EXPECT_EQ(count(after, OpKind::Gemm), 1);
  EXPECT_EQ(count(after, OpKind::Add), 1);  // the Add of the two halves
  for (uint32_t seed : {1u, 2u, 3u}) expect_same_results(before, after, seed);
}

// The float fixtures keep their outputs (first sample) through the pipeline.
class PrequantFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(PrequantFixture, OutputsUnchanged) {
  const std::string model = GetParam();
  auto imported = import_onnx_file(fixture_path(model, "model_f32.onnx"));
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  const Graph& before = imported.value();
  Graph after = before;
  Status s = run_passes(after, prequant_pipeline());
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(io_names(after), io_names(before));
  EXPECT_EQ(count(after, OpKind::BatchNormalization), 0);
  const TensorData input = sample(load_npy_or_die(fixture_path(model, "inputs.npy")), 0);
  const auto want = run_on_cpu(before, {input});
  const auto got = run_on_cpu(after, {input});
  ASSERT_EQ(want.size(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LE(max_relative_error(got[0], want[0]), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PrequantFixture,
                         ::testing::Values("fmnist_cnn", "cifarnet", "mobilenet_v1_025", "mobilenet_v2", "resnet18"));

}  // namespace
}  // namespace neutron::testing
