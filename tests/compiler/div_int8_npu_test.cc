// int8 Div by a run-time tensor on the NPU: delegated with Mul's rule, one `div` kernel call per
// node, its partition bit-exact with the CPU on random shapes and broadcasts (the same exact
// integer division, kernels/elementwise_int8.h), costed by the timing model.
#include <gtest/gtest.h>

#include <random>

#include "compiler/estimate.h"
#include "compiler/npu_test_util.h"
#include "partition/partitioner.h"
#include "sim/sim_config_target.h"
#include "util/single_op.h"

namespace neutron {
namespace {

TEST(DivInt8Npu, DelegatedAndBitExactWithTheCpuOnRandomShapes) {
  std::mt19937 rng(21);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto cfg = sim::sim_config_from_target(testing::npu_target());
  ASSERT_TRUE(cfg.ok());
  for (int trial = 0; trial < 24; ++trial) {
    const Shape a = {1, ri(1, 24), ri(1, 9), ri(1, 9)};
    Shape b = a;  // same shape, or broadcast along some axes (a divisor per channel, per row, one value)
    for (size_t k = 1; k < b.size(); ++k)
      if (ri(0, 2) == 0) b[k] = 1;
    SCOPED_TRACE(str_cat("a ", shape_str(a), " b ", shape_str(b)));
    using testing::Operand;
    auto g = testing::make_single_op_graph(
        OpKind::Div,
        {Operand::input(testing::random_int8(a, rng), QuantParams::per_tensor(0.03f, ri(-20, 20))),
         Operand::input(testing::random_int8(b, rng), QuantParams::per_tensor(0.01f * float(ri(1, 9)), ri(-128, 127)))},
        {}, {testing::OutputSpec{QuantParams::per_tensor(0.05f, ri(-10, 10))}});
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    auto p = partition_graph(g.value(), testing::npu_target());
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    ASSERT_EQ(p->partitions.size(), 1u) << print_partitioned_graph(g.value(), p.value());
    auto sub = compiler::prepare_partition_graph(g.value(), p->partitions[0]);
    ASSERT_TRUE(sub.ok()) << sub.status().to_string();
    auto program = compiler::compile_program(sub.value(), testing::npu_target());
    ASSERT_TRUE(program.ok()) << program.status().to_string();
    int divs = 0;
    for (const compiler::KernelCall& k : program->calls) divs += k.op == npu::Opcode::kDiv;
    EXPECT_EQ(divs, 1);
    // Its cost: more than an elementwise op over the same output, one job per output row.
    const compiler::ProgramEstimate e = compiler::estimate_program(cfg.value(), program.value());
    for (size_t i = 0; i < program->calls.size(); ++i)
      if (program->calls[i].op == npu::Opcode::kDiv) {
        EXPECT_GT(e.calls[i].compute_cycles, 0u);
        EXPECT_GT(e.calls[i].jobs, 0u);
      }
    const testing::NpuVsCpu r = testing::compare_npu_cpu(sub.value(), 3, uint32_t(100 + trial), {}, &g.value());
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
    EXPECT_EQ(r.runs, 3);
  }
}

}  // namespace
}  // namespace neutron
