#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph rewrite(const Graph& g) { return run_pass(g, fuse_hardswish, "fuse-hardswish"); }

Attributes gate(double alpha, double beta) {
  Attributes a;
  a.set("alpha", alpha);
  a.set("beta", beta);
  return a;
}

TEST(FuseHardSwish, Opset13ExportBecomesHardSwish) {
  // PyTorch's opset-13 hardswish: Mul(x, HardSigmoid(x, alpha = f32(1/6))), either operand order.
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 4, 4});
  TensorId a = b.op(OpKind::Mul, {x, b.op(OpKind::HardSigmoid, {x}, gate(double(1.0f / 6.0f), 0.5))});
  TensorId c = b.op(OpKind::Mul, {b.op(OpKind::HardSigmoid, {a}, gate(double(1.0f / 6.0f), 0.5)), a});
  Graph before = b.finish({c});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::HardSigmoid), 0);
  EXPECT_EQ(count(after, OpKind::Mul), 0);
  EXPECT_EQ(count(after, OpKind::HardSwish), 2);
  expect_same_results(before, after);
}

TEST(FuseHardSwish, LeavesOtherGatesSharedGatesAndOtherOperands) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 5});
  TensorId y = b.input("y", {2, 5});
  TensorId onnx_default = b.op(OpKind::Mul, {x, b.op(OpKind::HardSigmoid, {x}, gate(0.2, 0.5))});
  TensorId shared_gate = b.op(OpKind::HardSigmoid, {x}, gate(1.0 / 6.0, 0.5));
  TensorId shared = b.op(OpKind::Mul, {x, shared_gate});
  TensorId other = b.op(OpKind::Mul, {y, b.op(OpKind::HardSigmoid, {x}, gate(1.0 / 6.0, 0.5))});
  Graph before = b.finish({onnx_default, shared, shared_gate, other});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::HardSwish), 0);
  EXPECT_EQ(count(after, OpKind::HardSigmoid), 3);
}

}  // namespace
}  // namespace neutron::testing
