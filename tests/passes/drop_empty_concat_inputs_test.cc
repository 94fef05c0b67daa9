#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

TEST(DropEmptyConcatInputs, EmptySliceIsDroppedAndResultsKept) {
  // cat([x[:, 0:0], x, x[:, 3:3]], 1): the empty slices go, DCE removes them.
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 3, 3});
  auto slice = [&](int64_t at) {
    Attributes a;
    a.set("starts", std::vector<int64_t>{at});
    a.set("ends", std::vector<int64_t>{at});
    a.set("axes", std::vector<int64_t>{1});
    return b.op(OpKind::Slice, {x}, a);
  };
  Attributes cat;
  cat.set("axis", int64_t(1));
  Graph before = b.finish({b.op(OpKind::Concat, {slice(0), x, slice(3)}, cat)});
  Graph after = run_pass(before, drop_empty_concat_inputs, "drop-empty-concat-inputs");
  ASSERT_TRUE(run_passes(after, {{"dce", "", eliminate_dead_code}}).ok());
  EXPECT_EQ(count(after, OpKind::Slice), 0);
  ASSERT_EQ(count(after, OpKind::Concat), 1);
  for (NodeId id : after.live_nodes()) EXPECT_EQ(after.node(id).inputs.size(), 1u);
  expect_same_results(before, after);
}

}  // namespace
}  // namespace neutron::testing
