#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph rewrite(const Graph& g) { return run_pass(g, split_grouped_conv, "split-grouped-conv"); }

TEST(SplitGroupedConv, TwoGroupsWithBias) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 5, 6});
  Graph before = b.finish({b.conv(x, b.random_constant("w", {6, 2, 3, 3}), b.random_constant("b", {6}), /*group=*/2)});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Slice), 2);
  EXPECT_EQ(count(after, OpKind::Conv), 2);
  EXPECT_EQ(count(after, OpKind::Concat), 1);
  for (NodeId id : after.live_nodes()) {
    const Node& n = after.node(id);
    if (n.kind != OpKind::Conv) continue;
    EXPECT_EQ(n.attrs.get_int("group", 1), 1);
    EXPECT_EQ(after.tensor(n.inputs[1]).shape, (Shape{3, 2, 3, 3}));
    EXPECT_EQ(after.tensor(n.inputs[2]).shape, (Shape{3}));
  }
  expect_same_results(before, after);
}

TEST(SplitGroupedConv, ThreeGroupsNoBiasStridedAndChannelsLast) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 7, 6, 6});  // NHWC, 6 channels
  Attributes a;
  a.set("strides", std::vector<int64_t>{2, 1});
  a.set("pads", std::vector<int64_t>{1, 0, 1, 0});
  a.set("group", int64_t(3));
  a.set("channels_last", int64_t(1));
  Graph before = b.finish({b.op(OpKind::Conv, {x, b.random_constant("w", {9, 2, 3, 3})}, a)});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Conv), 3);
  for (NodeId id : after.live_nodes()) {
    const Node& n = after.node(id);
    if (n.kind == OpKind::Slice) {
      EXPECT_EQ(n.attrs.get_ints("axes"), (std::vector<int64_t>{3}));
    } else if (n.kind == OpKind::Concat) {
      EXPECT_EQ(n.attrs.get_int("axis", 0), 3);
    }
  }
  expect_same_results(before, after);
}

TEST(SplitGroupedConv, ChannelMultiplierIsSplitLikeUpstream) {
  // group = Cin = 4 with Cout = 8 is not a Neutron depthwise conv (Cin = Cout = group): 4 convs
  // of one input channel and two output channels each.
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 5, 5});
  Graph before = b.finish({b.conv(x, b.random_constant("w", {8, 1, 3, 3}), b.random_constant("b", {8}), /*group=*/4)});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Conv), 4);
  EXPECT_EQ(count(after, OpKind::Slice), 4);
  for (NodeId id : after.live_nodes()) {
    const Node& n = after.node(id);
    if (n.kind != OpKind::Conv) continue;
    EXPECT_EQ(n.attrs.get_int("group", 1), 1);
    EXPECT_EQ(after.tensor(n.inputs[1]).shape, (Shape{2, 1, 3, 3}));
  }
  expect_same_results(before, after);
}

TEST(SplitGroupedConv, LeavesDepthwiseManyGroupsAndRuntimeWeights) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 5, 5});
  TensorId x24 = b.input("x24", {1, 24, 3, 3});
  TensorId w_rt = b.input("w_rt", {4, 2, 3, 3});
  TensorId depthwise = b.conv(x, b.random_constant("dw", {4, 1, 3, 3}), kNoTensor, /*group=*/4);
  TensorId many = b.conv(x24, b.random_constant("w12", {12, 2, 3, 3}), kNoTensor, /*group=*/12);
  TensorId runtime = b.conv(x, w_rt, kNoTensor, /*group=*/2);
  TensorId plain = b.conv(x, b.random_constant("w1", {2, 4, 3, 3}), kNoTensor, /*group=*/1);
  Graph before = b.finish({depthwise, many, runtime, plain});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Conv), 4);
  EXPECT_EQ(count(after, OpKind::Concat), 0);
  EXPECT_EQ(print_graph(after), print_graph(before));
}

}  // namespace
}  // namespace neutron::testing
