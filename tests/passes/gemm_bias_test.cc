#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph rewrite(const Graph& g) { return run_pass(g, gemm_bias, "gemm-bias"); }

TEST(GemmBias, SingleValueBecomesPerFeatureVector) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 11});
  Attributes a;
  a.set("beta", 0.5);
  Graph before = b.finish({b.op(OpKind::Gemm, {x, b.random_constant("w", {11, 7}), b.constant("c", {1}, {2.0f})}, a)});
  Graph after = rewrite(before);
  const Node& gemm = after.node(after.live_nodes()[0]);
  EXPECT_EQ(after.tensor(gemm.inputs[2]).shape, (Shape{7}));
  EXPECT_EQ(after.tensor(gemm.inputs[2]).data->to_vector<float>(), std::vector<float>(7, 1.0f));
  EXPECT_EQ(gemm.attrs.get_float("beta", 1.0), 1.0);
  expect_same_results(before, after);
}

TEST(GemmBias, RowsBecomeAnAddAfterTheGemm) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 11});
  Graph before = b.finish({b.op(OpKind::Gemm, {x, b.random_constant("w", {11, 7}), b.random_constant("c", {3, 7})})});
  const std::string out = before.tensor(before.outputs[0]).name;
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Gemm), 1);
  EXPECT_EQ(count(after, OpKind::Add), 1);
  for (NodeId id : after.live_nodes())
    if (after.node(id).kind == OpKind::Gemm) EXPECT_EQ(after.node(id).inputs.size(), 2u);
  EXPECT_EQ(after.tensor(after.outputs[0]).name, out);
  expect_same_results(before, after);
}

TEST(GemmBias, LeavesVectorBiasesAndRuntimeBiases) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 11});
  TensorId c = b.input("c", {3, 7});
  TensorId vec = b.op(OpKind::Gemm, {x, b.random_constant("w", {11, 7}), b.random_constant("b", {1, 7})});
  TensorId rt = b.op(OpKind::Gemm, {x, b.random_constant("w2", {11, 7}), c});
  Graph before = b.finish({vec, rt});
  Graph after = rewrite(before);
  EXPECT_EQ(print_graph(after), print_graph(before));
}

}  // namespace
}  // namespace neutron::testing
