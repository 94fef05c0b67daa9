// int8 PRelu (a 256-entry table per slope value: Table for one slope, ChannelTable for PyTorch's
// per-channel [C, 1, 1] slopes) and LeakyRelu (Table):
//   1. a QDQ PRelu / LeakyRelu folds to int8 and stays within 1 output LSB of the float QDQ graph;
//   2. the int8 op is delegated and its NPU partition equals the CPU bit for bit;
//   3. a slope that is not constant stays on the CPU with the rule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "compiler/npu_test_util.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "util/single_op.h"

namespace neutron {
namespace {

TensorData random_slopes(const Shape& s, std::mt19937& rng) {
  TensorData t(DType::I8, s);
  std::uniform_int_distribution<int> d(-127, 127);
  for (int64_t i = 0; i < t.count(); ++i) t.data<int8_t>()[i] = int8_t(d(rng));
  return t;
}

// x -> Q/DQ -> op(x, DQ(slope)?) -> Q/DQ.
StatusOr<Graph> qdq_graph(OpKind kind, const Shape& xs, const TensorData* slope, const QuantParams& sq, double s_in,
                          int32_t z_in, double s_out, int32_t z_out, const Attributes& attrs) {
  Graph g;
  int counter = 0;
  auto add = [&](OpKind k, std::vector<TensorId> ins, DType dt, QuantParams q, Attributes a = {}) {
    return testing::add_node_with_output(g, counter, k, std::move(ins), dt, std::move(q), std::move(a));
  };
  Tensor xt;
  xt.name = "x";
  xt.dtype = DType::F32;
  xt.shape = xs;
  const TensorId x = g.add_tensor(xt);
  g.inputs.push_back(x);
  const TensorId xq = add(OpKind::QuantizeLinear, {x}, DType::I8, QuantParams::per_tensor(float(s_in), z_in));
  std::vector<TensorId> ins = {add(OpKind::DequantizeLinear, {xq}, DType::F32, {})};
  if (slope) ins.push_back(add(OpKind::DequantizeLinear, {g.add_constant("slope", *slope, sq)}, DType::F32, {}));
  const TensorId y = add(kind, ins, DType::F32, {}, attrs);
  const TensorId yq = add(OpKind::QuantizeLinear, {y}, DType::I8, QuantParams::per_tensor(float(s_out), z_out));
  g.outputs = {add(OpKind::DequantizeLinear, {yq}, DType::F32, {})};
  RETURN_IF_ERROR(infer_shapes(g));
  RETURN_IF_ERROR(verify_graph(g));
  return g;
}

struct Case {
  OpKind kind;
  Shape x, slope;  // slope empty: LeakyRelu
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {OpKind::PRelu, {1, 8, 5, 6}, {8, 1, 1}},  // nn.PReLU(8) on NCHW
      {OpKind::PRelu, {2, 3, 4, 4}, {1}},        // nn.PReLU() : one slope
      {OpKind::PRelu, {4, 16}, {16}},            // after a Linear
      {OpKind::PRelu, {1, 5, 7}, {5, 1}},        // 1-D conv features
      {OpKind::PRelu, {1, 3, 4, 5}, {5}},        // along the last axis
      {OpKind::LeakyRelu, {1, 6, 4, 4}, {}},
  };
  return c;
}

TEST(PreluInt8, FoldsAndStaysWithinOneLsbOfTheQdqGraph) {
  static const std::vector<PassInfo> kFold = {{"fold-qdq", "", fold_qdq}, {"dce", "", eliminate_dead_code}};
  uint32_t seed = 0;
  for (const Case& c : cases()) {
    std::mt19937 rng(++seed);
    SCOPED_TRACE(str_cat(op_kind_name(c.kind), " x", shape_str(c.x), " slope ", shape_str(c.slope)));
    const TensorData slope = random_slopes(c.slope.empty() ? Shape{1} : c.slope, rng);
    const QuantParams sq = QuantParams::per_tensor(0.004f, 0);
    Attributes a;
    if (c.kind == OpKind::LeakyRelu) a.set("alpha", 0.13);
    auto g = qdq_graph(c.kind, c.x, c.slope.empty() ? nullptr : &slope, sq, 0.02, 7, 0.015, -40, a);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    Graph folded = g.value();
    ASSERT_TRUE(run_passes(folded, kFold).ok());
    bool int8_op = false;
    for (NodeId id : folded.live_nodes())
      if (folded.node(id).kind == c.kind) int8_op = folded.tensor(folded.node(id).inputs[0]).dtype == DType::I8;
    ASSERT_TRUE(int8_op) << "fold-qdq left the op in float";
    TensorData x(DType::F32, c.x);
    std::uniform_real_distribution<double> d(-2.7, 2.7);
    for (int64_t i = 0; i < x.count(); ++i) x.data<float>()[i] = float(d(rng));
    auto want = testing::run_graph(g.value(), {x});
    auto got = testing::run_graph(folded, {x});
    ASSERT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
    int64_t differing = 0;
    for (int64_t i = 0; i < x.count(); ++i) {
      const double e = std::fabs(double(want.value()[0].data<float>()[i]) - double(got.value()[0].data<float>()[i])) / 0.015;
      ASSERT_LE(e, 1.0 + 1e-3) << "element " << i;
      differing += e > 0.5;
    }
    EXPECT_LE(differing, x.count() / 50 + 1);
  }
}

TEST(PreluInt8, DelegatedAndBitExactWithTheCpu) {
  uint32_t seed = 10;
  int channel_tables = 0;
  for (const Case& c : cases()) {
    std::mt19937 rng(++seed);
    SCOPED_TRACE(str_cat(op_kind_name(c.kind), " x", shape_str(c.x), " slope ", shape_str(c.slope)));
    using testing::Operand;
    std::vector<Operand> ops = {Operand::input(testing::random_int8(c.x, rng), QuantParams::per_tensor(0.02f, 5))};
    if (!c.slope.empty())
      ops.push_back(Operand::constant_of(random_slopes(c.slope, rng), QuantParams::per_tensor(0.004f, 0)));
    Attributes a;
    if (c.kind == OpKind::LeakyRelu) a.set("alpha", 0.2);
    auto g = testing::make_single_op_graph(c.kind, ops, a, {testing::OutputSpec{QuantParams::per_tensor(0.013f, -30)}});
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    auto p = partition_graph(g.value(), testing::npu_target());
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    ASSERT_EQ(p->partitions.size(), 1u) << print_partitioned_graph(g.value(), p.value());
    auto sub = compiler::prepare_partition_graph(g.value(), p->partitions[0]);
    ASSERT_TRUE(sub.ok()) << sub.status().to_string();
    auto program = compiler::compile_program(sub.value(), testing::npu_target());
    ASSERT_TRUE(program.ok()) << program.status().to_string();
    for (const compiler::KernelCall& k : program->calls) channel_tables += k.op == npu::Opcode::kChannelTable;
    const testing::NpuVsCpu r = testing::compare_npu_cpu(sub.value(), 3, seed, {}, &g.value());
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
    EXPECT_EQ(r.runs, 3);
  }
  EXPECT_EQ(channel_tables, 4);  // the per-channel slopes
}

TEST(PreluInt8, SlopeFromAnActivationStaysOnTheCpu) {
  std::mt19937 rng(3);
  using testing::Operand;
  auto g = testing::make_single_op_graph(
      OpKind::PRelu,
      {Operand::input(testing::random_int8({1, 4, 3, 3}, rng), QuantParams::per_tensor(0.02f, 0)),
       Operand::input(testing::random_int8({4, 1, 1}, rng), QuantParams::per_tensor(0.01f, 0))},
      {}, {testing::OutputSpec{QuantParams::per_tensor(0.02f, 0)}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto p = partition_graph(g.value(), testing::npu_target());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->nodes[0].rejection.has_value());
  EXPECT_EQ(p->nodes[0].rejection->rule, "prelu.slope");
}

}  // namespace
}  // namespace neutron
