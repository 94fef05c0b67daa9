// Constants used by several nodes are stored once: a chain of MatMuls reading one weight matrix
// (an unrolled recurrence's shape) compiles to a payload whose weights section holds the matrix
// once, and the partition still equals the CPU executor bit for bit.
#include <gtest/gtest.h>

#include <random>

#include "compiler/npu_test_util.h"
#include "lowering/lowering.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace neutron {
namespace {

constexpr int64_t kK = 64;

// x [1, K] -> MatMul(W) -> ... (`steps` times, every step reads the same constant W [K, K]).
Graph shared_weight_chain(int steps) {
  Graph g;
  std::mt19937 rng(7);
  const QuantParams aq = QuantParams::per_tensor(0.05f, 3);
  Tensor xt;
  xt.name = "x";
  xt.dtype = DType::I8;
  xt.shape = {1, kK};
  xt.quant = aq;
  TensorId cur = g.add_tensor(xt);
  g.inputs.push_back(cur);
  const TensorId w = g.add_constant("W", testing::random_int8({kK, kK}, rng), QuantParams::per_tensor(0.004f, 0));
  int counter = 0;
  for (int s = 0; s < steps; ++s)
    cur = testing::add_node_with_output(g, counter, OpKind::MatMul, {cur, w}, DType::I8, aq);
  g.outputs.push_back(cur);
  EXPECT_TRUE(infer_shapes(g).ok());
  EXPECT_TRUE(verify_graph(g).ok());
  return g;
}

TEST(ConstantDedup, SharedWeightsAreStoredOnceInThePayload) {
  const Graph one = shared_weight_chain(1), eight = shared_weight_chain(8);
  auto p1 = compiler::compile_partition(one, testing::npu_target());
  auto p8 = compiler::compile_partition(eight, testing::npu_target());
  ASSERT_TRUE(p1.ok()) << p1.status().to_string();
  ASSERT_TRUE(p8.ok()) << p8.status().to_string();
  // Seven more steps add their kernel calls and tensors, not seven more 4 KiB copies of W.
  EXPECT_LT(p8->size(), p1->size() + size_t(kK * kK)) << "1 step " << p1->size() << " bytes, 8 steps " << p8->size();

  lowering::KernelProgram kp;
  ASSERT_TRUE(lowering::lower_graph(eight, lowering::LowerOptions{}, &kp).ok());
  ASSERT_TRUE(lowering::place_constants(kp).ok());
  size_t logical = 0;
  for (const auto& b : kp.blobs) logical += b.data.size();
  EXPECT_GE(logical, size_t(8 * kK * kK));
  EXPECT_LT(kp.weights_size, size_t(2 * kK * kK)) << "blobs " << logical << " bytes";
  // Deterministic: the same program places the same offsets.
  lowering::KernelProgram again;
  ASSERT_TRUE(lowering::lower_graph(eight, lowering::LowerOptions{}, &again).ok());
  ASSERT_TRUE(lowering::place_constants(again).ok());
  ASSERT_EQ(again.blobs.size(), kp.blobs.size());
  for (size_t i = 0; i < kp.blobs.size(); ++i) EXPECT_EQ(again.blobs[i].offset, kp.blobs[i].offset);

  const testing::NpuVsCpu r = testing::compare_npu_cpu(eight, 3, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
}

}  // namespace
}  // namespace neutron
