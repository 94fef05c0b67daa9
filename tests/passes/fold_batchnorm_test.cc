#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph fold(const Graph& g) { return run_pass(g, fold_batchnorm, "fold-batchnorm"); }

TEST(FoldBatchnorm, ConvWithBias) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 6, 5});
  TensorId y = b.batchnorm(b.conv(x, b.random_constant("w", {4, 3, 3, 3}), b.random_constant("b", {4})), 4);
  Graph before = b.finish({b.op(OpKind::Relu, {y})});
  Graph after = fold(before);
  EXPECT_EQ(count(after, OpKind::BatchNormalization), 0) << print_graph(after);
  EXPECT_EQ(count(after, OpKind::Conv), 1);
  expect_same_results(before, after);
}

TEST(FoldBatchnorm, GroupedConvWithoutBiasGetsOne) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 5, 5});
  TensorId c = b.conv(x, b.random_constant("w", {6, 2, 3, 3}), kNoTensor, /*group=*/2);
  Graph before = b.finish({b.batchnorm(c, 6)});  // the BN output is the graph output
  Graph after = fold(before);
  ASSERT_EQ(count(after, OpKind::BatchNormalization), 0);
  for (NodeId id : after.live_nodes()) {
    ASSERT_EQ(after.node(id).inputs.size(), 3u) << "a bias is created";
    EXPECT_EQ(after.tensor(after.node(id).inputs[2]).shape, (Shape{6}));
  }
  expect_same_results(before, after);
}

TEST(FoldBatchnorm, GroupedConvTransposeScalesAxisOne) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 3, 4});
  Attributes a;
  a.set("strides", std::vector<int64_t>{2, 2});
  a.set("pads", std::vector<int64_t>{1, 0, 1, 0});
  a.set("output_padding", std::vector<int64_t>{1, 0});
  a.set("group", int64_t(2));
  // W [Cin=4, Cout/g=3, 3, 3]: 6 output channels.
  TensorId c = b.op(OpKind::ConvTranspose, {x, b.random_constant("w", {4, 3, 3, 3}), b.random_constant("b", {6})}, a);
  Graph before = b.finish({b.batchnorm(c, 6)});
  Graph after = fold(before);
  EXPECT_EQ(count(after, OpKind::BatchNormalization), 0);
  EXPECT_EQ(count(after, OpKind::ConvTranspose), 1);
  expect_same_results(before, after);
}

TEST(FoldBatchnorm, GemmWithTransBAlphaBetaAndRowBias) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 5});
  Attributes a;
  a.set("transB", int64_t(1));
  a.set("alpha", 0.5);
  a.set("beta", 2.0);
  TensorId y = b.op(OpKind::Gemm, {x, b.random_constant("w", {4, 5}), b.random_constant("c", {1, 4})}, a);
  Graph before = b.finish({b.batchnorm(y, 4)});
  Graph after = fold(before);
  EXPECT_EQ(count(after, OpKind::BatchNormalization), 0);
  expect_same_results(before, after);
}

TEST(FoldBatchnorm, GemmWithFullBias) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 5});
  TensorId y = b.op(OpKind::Gemm, {x, b.random_constant("w", {5, 4}), b.random_constant("c", {3, 4})});
  Graph before = b.finish({b.batchnorm(y, 4)});
  Graph after = fold(before);
  EXPECT_EQ(count(after, OpKind::BatchNormalization), 0);
  expect_same_results(before, after);
}

TEST(FoldBatchnorm, MatMulBecomesGemmWithBias) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 5});
  TensorId y = b.op(OpKind::MatMul, {x, b.random_constant("w", {5, 3})});
  Graph before = b.finish({b.batchnorm(y, 3)});
  Graph after = fold(before);
  EXPECT_EQ(count(after, OpKind::BatchNormalization), 0);
  EXPECT_EQ(count(after, OpKind::MatMul), 0);
  EXPECT_EQ(count(after, OpKind::Gemm), 1);
  expect_same_results(before, after);
}

TEST(FoldBatchnorm, DoesNotFoldWhenTheConvOutputHasTwoReaders) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 4, 4});
  TensorId c = b.conv(x, b.random_constant("w", {2, 3, 3, 3}), b.random_constant("b", {2}));
  Graph before = b.finish({b.batchnorm(c, 2), b.op(OpKind::Relu, {c})});
  Graph after = fold(before);
  EXPECT_EQ(count(after, OpKind::BatchNormalization), 1);
  expect_same_results(before, after);
}

TEST(FoldBatchnorm, DoesNotFoldWhenTheConvOutputIsAGraphOutput) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 4, 4});
  TensorId c = b.conv(x, b.random_constant("w", {2, 3, 3, 3}), b.random_constant("b", {2}));
  Graph before = b.finish({b.batchnorm(c, 2), c});
  EXPECT_EQ(count(fold(before), OpKind::BatchNormalization), 1);
}

TEST(FoldBatchnorm, StandaloneAndNonConstantBatchnormStay) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 4, 4});
  TensorId mean = b.input("mean", {2});  // runtime statistics: not foldable
  TensorId c = b.conv(x, b.random_constant("w", {2, 3, 3, 3}), b.random_constant("b", {2}));
  TensorId bn = b.op(OpKind::BatchNormalization, {c, b.random_constant("g", {2}), b.random_constant("be", {2}), mean,
                                                  b.random_constant("v", {2}, 0.5f, 1.0f)});
  TensorId standalone = b.batchnorm(x, 3, "bn2");
  Graph before = b.finish({bn, standalone});
  EXPECT_EQ(count(fold(before), OpKind::BatchNormalization), 2);
}

TEST(FoldBatchnorm, MatMulWithRank3OutputStays) {
  // BN's channel axis (1) is not the output-feature axis of a [B, T, N] MatMul.
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 5});
  TensorId y = b.op(OpKind::MatMul, {x, b.random_constant("w", {5, 3})});
  Graph before = b.finish({b.batchnorm(y, 3)});
  EXPECT_EQ(count(fold(before), OpKind::BatchNormalization), 1);
}

}  // namespace
}  // namespace neutron::testing
