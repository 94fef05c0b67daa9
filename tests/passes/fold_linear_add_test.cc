#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph rewrite(const Graph& g) { return run_pass(g, fold_linear_add, "fold-linear-add"); }

Attributes trans_b() {
  Attributes a;
  a.set("transB", int64_t(1));
  return a;
}

TEST(FoldLinearAdd, GemmWithoutBiasGetsOne) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 5});
  TensorId y = b.op(OpKind::Gemm, {x, b.random_constant("w", {4, 5})}, trans_b());
  Graph before = b.finish({b.op(OpKind::Add, {y, b.random_constant("c", {4})})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Add), 0);
  ASSERT_EQ(count(after, OpKind::Gemm), 1);
  const Node& gemm = after.node(after.live_nodes()[0]);
  ASSERT_EQ(gemm.inputs.size(), 3u);
  EXPECT_EQ(after.tensor(gemm.inputs[2]).shape, (Shape{4}));
  expect_same_results(before, after);
}

TEST(FoldLinearAdd, GemmBiasWithBetaAndConstantOnTheLeft) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 5});
  Attributes a;
  a.set("alpha", 1.5);
  a.set("beta", 0.5);
  TensorId y = b.op(OpKind::Gemm, {x, b.random_constant("w", {5, 4}), b.random_constant("c", {1, 4})}, a);
  Graph before = b.finish({b.op(OpKind::Add, {b.random_constant("d", {1, 4}), y})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Add), 0);
  expect_same_results(before, after);
}

TEST(FoldLinearAdd, MatMulBecomesGemm) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 5});
  TensorId y = b.op(OpKind::MatMul, {x, b.random_constant("w", {5, 3})});
  Graph before = b.finish({b.op(OpKind::Relu, {b.op(OpKind::Add, {y, b.random_constant("c", {3})})})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Add), 0);
  EXPECT_EQ(count(after, OpKind::MatMul), 0);
  EXPECT_EQ(count(after, OpKind::Gemm), 1);
  expect_same_results(before, after);
}

TEST(FoldLinearAdd, Rank3MatMulBecomesReshapeGemmReshape) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 3, 4});
  TensorId y = b.op(OpKind::MatMul, {x, b.random_constant("w", {4, 5})});
  Graph before = b.finish({b.op(OpKind::Add, {y, b.random_constant("c", {1, 1, 5})})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Add), 0);
  EXPECT_EQ(count(after, OpKind::Gemm), 1);
  EXPECT_EQ(count(after, OpKind::Reshape), 2);
  expect_same_results(before, after);
}

TEST(FoldLinearAdd, LeavesSharedOutputsFullConstantsAndRuntimeOperands) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 5});
  TensorId r = b.input("r", {4});
  TensorId w = b.random_constant("w", {5, 4});
  TensorId shared = b.op(OpKind::Gemm, {x, w});
  TensorId add_shared = b.op(OpKind::Add, {shared, b.random_constant("c1", {4})});
  TensorId full = b.op(OpKind::Add, {b.op(OpKind::Gemm, {x, w}), b.random_constant("c2", {3, 4})});
  TensorId runtime_add = b.op(OpKind::Add, {b.op(OpKind::Gemm, {x, w}), r});
  TensorId runtime_b = b.op(OpKind::Add, {b.op(OpKind::MatMul, {x, b.input("wr", {5, 4})}), b.random_constant("c3", {4})});
  Graph before = b.finish({add_shared, shared, full, runtime_add, runtime_b});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Add), 4);
  EXPECT_EQ(print_graph(after), print_graph(before));
}

}  // namespace
}  // namespace neutron::testing
