#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph rewrite(const Graph& g) { return run_pass(g, split_to_slices, "split-to-slices"); }

TEST(SplitToSlices, OneSlicePerOutput) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 6, 3});
  Attributes a;
  a.set("axis", int64_t(1));
  a.set("split", std::vector<int64_t>{1, 3, 2});
  auto parts = b.op_n(OpKind::Split, {x}, 3, a);
  // Part 0 is a graph output directly; the others are read by ops.
  Graph before = b.finish({parts[0], b.op(OpKind::Relu, {parts[1]}), b.op(OpKind::Neg, {parts[2]})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Split), 0);
  ASSERT_EQ(count(after, OpKind::Slice), 3);
  std::vector<std::vector<int64_t>> ranges;
  for (NodeId id : after.live_nodes())
    if (after.node(id).kind == OpKind::Slice) {
      EXPECT_EQ(after.node(id).attrs.get_ints("axes"), (std::vector<int64_t>{1}));
      ranges.push_back({after.node(id).attrs.get_ints("starts")[0], after.node(id).attrs.get_ints("ends")[0]});
    }
  EXPECT_EQ(ranges, (std::vector<std::vector<int64_t>>{{0, 1}, {1, 4}, {4, 6}}));
  expect_same_results(before, after, 1, 0);  // pure data movement: exact
}

TEST(SplitToSlices, EvenSplitOnLastAxis) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 2, 8});
  Attributes a;
  a.set("axis", int64_t(2));
  auto parts = b.op_n(OpKind::Split, {x}, 2, a);
  Graph before = b.finish({b.op(OpKind::Sub, {parts[0], parts[1]})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Slice), 2);
  expect_same_results(before, after, 2, 0);
}

TEST(SplitToSlices, GraphWithoutSplitIsUnchanged) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 6});
  Attributes s;
  s.set("starts", std::vector<int64_t>{1});
  s.set("ends", std::vector<int64_t>{3});
  s.set("axes", std::vector<int64_t>{1});
  s.set("steps", std::vector<int64_t>{1});
  Graph before = b.finish({b.op(OpKind::Slice, {x}, s)});
  EXPECT_EQ(print_graph(rewrite(before)), print_graph(before));
}

}  // namespace
}  // namespace neutron::testing
