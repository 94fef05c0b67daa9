// MAC counts per node (ir/op_cost.h), hand-computed.
#include "ir/op_cost.h"

#include <gtest/gtest.h>

#include "graph_builder.h"

namespace neutron {
namespace {

using testing::attrs;
using testing::GraphBuilder;

TEST(OpCost, ConvCountsOutputTimesKernelTimesInputChannelsPerGroup) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 3, 32, 32});
  const TensorId w = b.weights("w", {32, 3, 5, 5});
  b.node(OpKind::Conv, "conv", {x, w}, attrs({{"kernel_shape", std::vector<int64_t>{5, 5}}}));
  b.done();
  EXPECT_EQ(node_macs(b.g, 0), int64_t(28) * 28 * 32 * 5 * 5 * 3);  // CifarNet conv1: 1,881,600

  GraphBuilder d;  // depthwise: Cin per group 1
  const TensorId y = d.input("x", {1, 16, 8, 8});
  const TensorId dw = d.weights("w", {16, 1, 3, 3});
  d.node(OpKind::Conv, "dw", {y, dw},
         attrs({{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t(16)}}));
  d.done();
  EXPECT_EQ(node_macs(d.g, 0), int64_t(8) * 8 * 16 * 9);
}

TEST(OpCost, ConvTransposeCountsInputTimesKernelTimesOutputChannels) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 4, 6, 6});
  const TensorId w = b.weights("w", {4, 2, 3, 3}, 1);
  b.node(OpKind::ConvTranspose, "deconv", {x, w},
         attrs({{"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}}}));
  b.done();
  EXPECT_EQ(node_macs(b.g, 0), int64_t(4) * 6 * 6 * 2 * 3 * 3);
}

TEST(OpCost, GemmAndMatMulCountMNK) {
  GraphBuilder b;
  const TensorId x = b.input("x", {2, 1024});
  const TensorId w = b.weights("w", {10, 1024}, 0);
  b.node(OpKind::Gemm, "fc", {x, w}, attrs({{"transB", int64_t(1)}}));
  b.done();
  EXPECT_EQ(node_macs(b.g, 0), int64_t(2) * 10 * 1024);

  GraphBuilder m;
  const TensorId a = m.input("a", {3, 5, 8});
  const TensorId c = m.input("c", {3, 8, 4});
  m.node(OpKind::MatMul, "bmm", {a, c});
  m.done();
  EXPECT_EQ(node_macs(m.g, 0), int64_t(3) * 5 * 4 * 8);
}

TEST(OpCost, PoolsCountTheirWindowsOthersCountZero) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 32, 32, 32});
  const TensorId p = b.node(OpKind::MaxPool, "pool", {x},
                            attrs({{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}));
  const TensorId g = b.node(OpKind::GlobalAveragePool, "gap", {p});
  b.node(OpKind::Relu, "relu", {g});
  b.done();
  EXPECT_EQ(node_macs(b.g, 0), int64_t(32) * 16 * 16 * 4);
  EXPECT_EQ(node_macs(b.g, 1), int64_t(32) * 16 * 16);
  EXPECT_EQ(node_macs(b.g, 2), 0);
}

}  // namespace
}  // namespace neutron
