#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph rewrite(const Graph& g) { return run_pass(g, div_to_mul, "div-to-mul"); }

TEST(DivToMul, DivByConstantBecomesMulByReciprocal) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 2, 2});
  Graph before = b.finish({b.op(OpKind::Div, {x, b.constant("d", {3, 1, 1}, {2.0f, -0.25f, 3.0f})})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Div), 0);
  ASSERT_EQ(count(after, OpKind::Mul), 1);
  const Node& mul = after.node(after.live_nodes()[0]);
  EXPECT_EQ(after.tensor(mul.inputs[1]).shape, (Shape{3, 1, 1}));
  EXPECT_EQ(after.tensor(mul.inputs[1]).data->to_vector<float>(), (std::vector<float>{0.5f, -4.0f, 1.0f / 3.0f}));
  expect_same_results(before, after);
}

TEST(DivToMul, ScalarDivisor) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 7});
  Graph before = b.finish({b.op(OpKind::Div, {x, b.constant("d", {}, {6.0f})})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Mul), 1);
  expect_same_results(before, after);
}

TEST(DivToMul, LeavesNearZeroDivisorsRuntimeDivisorsAndConstantDividends) {
  GraphBuilder b;
  TensorId x = b.input("x", {3});
  TensorId y = b.input("y", {3});
  TensorId near_zero = b.op(OpKind::Div, {x, b.constant("d", {3}, {1.0f, 1e-13f, 2.0f})});
  TensorId runtime = b.op(OpKind::Div, {x, y});
  TensorId reversed = b.op(OpKind::Div, {b.constant("n", {3}, {1, 2, 3}), x});
  Graph before = b.finish({near_zero, runtime, reversed});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Div), 3);
  EXPECT_EQ(count(after, OpKind::Mul), 0);
}

}  // namespace
}  // namespace neutron::testing
