// The executor allocates every activation buffer up front: their total is held against the memory
// budget first (issue 13), and fold-constants reports a node too large to evaluate instead of
// skipping it silently.
#include <gtest/gtest.h>

#include "core/memory_budget.h"
#include "exec/executor.h"
#include "ir/shape_inference.h"
#include "passes/passes.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;

void expect_error(const Status& s, Error code, const std::string& text) {
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find(text), std::string::npos) << "expected '" << text << "' in: " << s.message();
}

TEST(ExecutorBudget, ActivationsAboveTheBudgetNameTheLargestTensor) {
  auto g = testing::make_single_op_graph(OpKind::Relu, {Operand::input(TensorData(DType::F32, {1, 1024}))}, {});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  {
    ScopedMemoryBudget budget(1024);
    auto ex = Executor::create(g.value());
    ASSERT_FALSE(ex.ok());
    expect_error(ex.status(), Error::OutOfMemory,
                 "the executor's activation memory claims 4.1 KiB (largest: tensor 'out0', f32 shape [1,1024], 4.1 KiB), "
                 "above the memory budget of 1.0 KiB; raise it with --max-memory");
  }
  EXPECT_TRUE(Executor::create(g.value()).ok());
}

TEST(ExecutorBudget, FoldConstantsReportsANodeTooLargeToEvaluate) {
  // c (constant) -> Relu -> r; x + r -> y. The Relu is foldable; evaluating it needs 4 KiB.
  Graph g;
  const TensorId c = g.add_constant("c", TensorData(DType::F32, {1024}));
  Tensor x;
  x.name = "x";
  x.dtype = DType::F32;
  x.shape = {1024};
  const TensorId xi = g.add_tensor(x);
  g.inputs.push_back(xi);
  Tensor r;
  r.name = "r";
  const TensorId ri = g.add_tensor(r);
  Tensor y;
  y.name = "y";
  const TensorId yi = g.add_tensor(y);
  g.outputs.push_back(yi);
  Node relu;
  relu.kind = OpKind::Relu;
  relu.name = "relu";
  relu.inputs = {c};
  relu.outputs = {ri};
  g.add_node(relu);
  Node add;
  add.kind = OpKind::Add;
  add.name = "add";
  add.inputs = {xi, ri};
  add.outputs = {yi};
  g.add_node(add);
  ASSERT_TRUE(infer_shapes(g).ok());
  {
    Graph copy = g;
    ScopedMemoryBudget budget(2048);
    expect_error(fold_constants(copy), Error::OutOfMemory, "node 'relu' (Relu): the executor's activation memory claims");
  }
  ASSERT_TRUE(fold_constants(g).ok());
  EXPECT_TRUE(g.tensor(ri).is_constant());
}

}  // namespace
}  // namespace neutron
