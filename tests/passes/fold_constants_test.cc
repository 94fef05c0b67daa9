#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph fold(const Graph& g) { return run_pass(g, fold_constants, "fold-constants"); }

Attributes perm(std::vector<int64_t> p) {
  Attributes a;
  a.set("perm", std::move(p));
  return a;
}

TEST(FoldConstants, ChainsOfConstantOpsBecomeConstants) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 5, 5});
  // Weights stored as [kH, kW, Cin, Cout], transposed to OIHW and scaled: all constant.
  TensorId w = b.op(OpKind::Transpose, {b.random_constant("w_hwio", {3, 3, 3, 4})}, perm({3, 2, 0, 1}));
  w = b.op(OpKind::Mul, {w, b.constant("half", {1}, {0.5f})});
  TensorId bias = b.op(OpKind::Neg, {b.random_constant("b", {4})});
  Graph before = b.finish({b.conv(x, w, bias)});
  Graph after = fold(before);
  EXPECT_EQ(after.live_nodes().size(), 1u) << print_graph(after);
  EXPECT_EQ(count(after, OpKind::Conv), 1);
  const Node& conv = after.node(after.live_nodes()[0]);
  EXPECT_TRUE(after.tensor(conv.inputs[1]).is_constant());
  EXPECT_TRUE(after.tensor(conv.inputs[2]).is_constant());
  expect_same_results(before, after);
}

TEST(FoldConstants, FoldedValuesAreTheOpsResults) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 3});
  TensorId c = b.op(OpKind::Transpose, {b.constant("c", {3, 2}, {1, 2, 3, 4, 5, 6})}, perm({1, 0}));
  c = b.op(OpKind::Sub, {c, b.constant("one", {1}, {1})});
  Graph before = b.finish({b.op(OpKind::Add, {x, c})});
  Graph after = fold(before);
  ASSERT_EQ(after.live_nodes().size(), 1u);
  const Tensor& folded = after.tensor(after.node(after.live_nodes()[0]).inputs[1]);
  ASSERT_TRUE(folded.is_constant());
  EXPECT_EQ(folded.shape, (Shape{2, 3}));
  EXPECT_EQ(folded.data->to_vector<float>(), (std::vector<float>{0, 2, 4, 1, 3, 5}));
}

TEST(FoldConstants, SpatialOpsRunChannelsLast) {
  // A Conv and a MaxPool on constant NCHW data: the CPU kernels are NHWC only.
  GraphBuilder b;
  TensorId x = b.input("x", {1, 2, 2, 2});
  TensorId feat = b.conv(b.random_constant("img", {1, 3, 4, 4}), b.random_constant("w", {2, 3, 3, 3}),
                         b.random_constant("b", {2}));
  Attributes pool;
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.set("strides", std::vector<int64_t>{2, 2});
  feat = b.op(OpKind::MaxPool, {feat}, pool);
  Graph before = b.finish({b.op(OpKind::Add, {x, feat})});
  Graph after = fold(before);
  EXPECT_EQ(after.live_nodes().size(), 1u) << print_graph(after);
  EXPECT_EQ(count(after, OpKind::Add), 1);
  expect_same_results(before, after, 1, 0);  // the same kernels computed it: exact
}

TEST(FoldConstants, LeavesRuntimeOpsGraphOutputsAndDequantize) {
  GraphBuilder b;
  TensorId x = b.input("x", {4});
  TensorId runtime = b.op(OpKind::Relu, {x});
  TensorId out_const = b.op(OpKind::Neg, {b.constant("c", {4}, {1, 2, 3, 4})});  // a graph output: stays
  TensorData q = TensorData::from<int8_t>({4}, {1, -2, 3, -4});
  TensorId qc = b.g.add_constant("q", q, QuantParams::per_tensor(0.5f, 0));
  TensorId dq = b.op(OpKind::DequantizeLinear, {qc});  // a quantized weight: stays
  Graph before = b.finish({runtime, out_const, b.op(OpKind::Add, {x, dq})});
  Graph after = fold(before);
  EXPECT_EQ(count(after, OpKind::Relu), 1);
  EXPECT_EQ(count(after, OpKind::Neg), 1);
  EXPECT_EQ(count(after, OpKind::DequantizeLinear), 1);
  EXPECT_EQ(print_graph(after), print_graph(before));
}

}  // namespace
}  // namespace neutron::testing
