// F.normalize as one LpNormalization:
//   1. fuse-l2-normalize turns ReduceL2 -> Clip(min=eps) -> Div(x, .) into LpNormalization with the
//      same float outputs, and leaves a pattern alone whose norm is read elsewhere;
//   2. a QDQ LpNormalization folds to int8 (the l2_norm kernel) within 1 output LSB of the float
//      QDQ graph;
//   3. it is delegated and its NPU partition equals the CPU bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/npu_test_util.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "util/single_op.h"

namespace neutron {
namespace {

struct Builder {
  Graph g;
  int counter = 0;
  TensorId input(const Shape& s) {
    Tensor t;
    t.name = "x";
    t.dtype = DType::F32;
    t.shape = s;
    const TensorId id = g.add_tensor(t);
    g.inputs.push_back(id);
    return id;
  }
  TensorId op(OpKind k, std::vector<TensorId> ins, Attributes a = {}, DType dt = DType::F32, QuantParams q = {}) {
    return testing::add_node_with_output(g, counter, k, std::move(ins), dt, std::move(q), std::move(a));
  }
  Status finish(std::vector<TensorId> outs) {
    g.outputs = std::move(outs);
    RETURN_IF_ERROR(infer_shapes(g));
    return verify_graph(g);
  }
};

TensorData random_f32(const Shape& s, std::mt19937& rng, double lo = -3, double hi = 3) {
  TensorData t(DType::F32, s);
  std::uniform_real_distribution<double> d(lo, hi);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = float(d(rng));
  return t;
}

Attributes reduce_attrs(int64_t axis) {
  Attributes a;
  a.set("axes", std::vector<int64_t>{axis});
  a.set("keepdims", int64_t(1));
  return a;
}

int count_kind(const Graph& g, OpKind k) {
  int c = 0;
  for (NodeId id : g.live_nodes()) c += g.node(id).kind == k;
  return c;
}

TEST(L2Normalize, FusePassKeepsTheFloatOutputs) {
  std::mt19937 rng(1);
  for (const auto& [shape, axis] : std::vector<std::pair<Shape, int64_t>>{{{2, 32}, 1}, {{1, 8, 3, 5}, 1}, {{3, 4, 6}, -1}}) {
    Builder b;
    const TensorId x = b.input(shape);
    const TensorId n = b.op(OpKind::ReduceL2, {x}, reduce_attrs(axis));
    Attributes clip;
    clip.set("min", 1e-12);
    const TensorId c = b.op(OpKind::Clip, {n}, clip);
    const TensorId y = b.op(OpKind::Div, {x, c});
    ASSERT_TRUE(b.finish({y}).ok());
    Graph fused = b.g;
    ASSERT_TRUE(fuse_l2_normalize(fused).ok());
    ASSERT_TRUE(eliminate_dead_code(fused).ok());
    fused.compact();
    ASSERT_TRUE(verify_graph(fused).ok());
    EXPECT_EQ(count_kind(fused, OpKind::LpNormalization), 1);
    EXPECT_EQ(count_kind(fused, OpKind::ReduceL2) + count_kind(fused, OpKind::Div), 0);
    const TensorData in = random_f32(shape, rng);
    auto want = testing::run_graph(b.g, {in});
    auto got = testing::run_graph(fused, {in});
    ASSERT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
    for (int64_t i = 0; i < in.count(); ++i)
      EXPECT_NEAR(want.value()[0].data<float>()[i], got.value()[0].data<float>()[i], 1e-6) << i;
  }
  // The norm is also a graph output: left alone.
  Builder b;
  const TensorId x = b.input({2, 16});
  const TensorId n = b.op(OpKind::ReduceL2, {x}, reduce_attrs(1));
  const TensorId y = b.op(OpKind::Div, {x, n});
  ASSERT_TRUE(b.finish({y, n}).ok());
  ASSERT_TRUE(fuse_l2_normalize(b.g).ok());
  EXPECT_EQ(count_kind(b.g, OpKind::LpNormalization), 0);
}

StatusOr<Graph> qdq_l2norm(const Shape& s, int64_t axis, double s_in, int32_t z_in) {
  Builder b;
  const TensorId x = b.input(s);
  const TensorId xq = b.op(OpKind::QuantizeLinear, {x}, {}, DType::I8, QuantParams::per_tensor(float(s_in), z_in));
  const TensorId xd = b.op(OpKind::DequantizeLinear, {xq});
  Attributes a;
  a.set("axis", axis);
  a.set("p", int64_t(2));
  a.set("eps", 1e-12);
  const TensorId y = b.op(OpKind::LpNormalization, {xd}, a);
  const TensorId yq = b.op(OpKind::QuantizeLinear, {y}, {}, DType::I8, QuantParams::per_tensor(1.0f / 128, 0));
  RETURN_IF_ERROR(b.finish({b.op(OpKind::DequantizeLinear, {yq})}));
  return b.g;
}

TEST(L2Normalize, Int8WithinOneLsbOfTheQdqGraph) {
  static const std::vector<PassInfo> kFold = {{"fold-qdq", "", fold_qdq}, {"dce", "", eliminate_dead_code}};
  std::mt19937 rng(2);
  int64_t total = 0, differing = 0;
  for (const auto& [shape, axis] :
       std::vector<std::pair<Shape, int64_t>>{{{2, 128}, 1}, {{1, 8, 3, 5}, 1}, {{3, 4, 6}, 2}, {{5, 7}, 0}}) {
    auto g = qdq_l2norm(shape, axis, 0.03, -11);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    Graph folded = g.value();
    ASSERT_TRUE(run_passes(folded, kFold).ok());
    bool int8_op = false;
    for (NodeId id : folded.live_nodes())
      if (folded.node(id).kind == OpKind::LpNormalization)
        int8_op = folded.tensor(folded.node(id).inputs[0]).dtype == DType::I8;
    ASSERT_TRUE(int8_op) << shape_str(shape);
    for (int sample = 0; sample < 3; ++sample) {
      // Sample 0 holds an all-zero vector: 0 / max(0, eps) = 0 on both.
      TensorData in = random_f32(shape, rng);
      if (sample == 0)
        for (int64_t i = 0; i < in.count(); ++i) in.data<float>()[i] = 0;
      auto want = testing::run_graph(g.value(), {in});
      auto got = testing::run_graph(folded, {in});
      ASSERT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
      for (int64_t i = 0; i < in.count(); ++i) {
        const double d = std::fabs(double(want.value()[0].data<float>()[i]) - double(got.value()[0].data<float>()[i])) * 128;
        ASSERT_LE(d, 1.0 + 1e-3) << shape_str(shape) << " element " << i;
        differing += d > 0.5;
      }
      total += in.count();
    }
  }
  EXPECT_LE(differing, total / 50);
}

TEST(L2Normalize, DelegatedAndBitExactWithTheCpu) {
  uint32_t seed = 0;
  for (const auto& [shape, axis] :
       std::vector<std::pair<Shape, int64_t>>{{{1, 64}, 1}, {{2, 8, 3, 5}, 1}, {{3, 4, 6}, 2}, {{5, 7}, 0}}) {
    std::mt19937 rng(++seed);
    Attributes a;
    a.set("axis", axis);
    a.set("p", int64_t(2));
    a.set("eps", 1e-12);
    using testing::Operand;
    auto g = testing::make_single_op_graph(
        OpKind::LpNormalization, {Operand::input(testing::random_int8(shape, rng), QuantParams::per_tensor(0.05f, 3))},
        a, {testing::OutputSpec{QuantParams::per_tensor(1.0f / 128, 0)}});
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    auto p = partition_graph(g.value(), testing::npu_target());
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    ASSERT_EQ(p->partitions.size(), 1u) << print_partitioned_graph(g.value(), p.value());
    auto sub = compiler::prepare_partition_graph(g.value(), p->partitions[0]);
    ASSERT_TRUE(sub.ok()) << sub.status().to_string();
    const testing::NpuVsCpu r = testing::compare_npu_cpu(sub.value(), 3, seed, {}, &g.value());
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
    EXPECT_EQ(r.runs, 3);
  }
}

}  // namespace
}  // namespace neutron
