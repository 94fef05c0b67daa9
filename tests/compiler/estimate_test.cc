// The compiler's cost estimator (compiler/estimate.h) against the simulator's timing model: every
// layer of every NPU partition of the int8 fixtures within 10 % (network within 5 %), and the
// weight-streaming plan the estimator chooses never slower than no prefetch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "compiler/estimate.h"
#include "compiler/npu_test_util.h"
#include "import/onnx/onnx_importer.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "runtime/payload.h"
#include "sim/sim_config_target.h"

namespace neutron {
namespace {

struct Compiled {
  compiler::NpuProgram program;
  std::vector<sim::KernelTiming> simulated;
  sim::TimingSummary simulated_total;
};

std::vector<Graph> fixture_partitions(const std::string& model) {
  std::vector<Graph> out;
  auto g = import_onnx_file(std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/model_int8.onnx");
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return out;
  static const std::vector<PassInfo> kFold = {{"fold-qdq", "", fold_qdq}, {"dce", "", eliminate_dead_code}};
  EXPECT_TRUE(run_passes(g.value(), kFold).ok());
  auto p = partition_graph(g.value(), testing::npu_target());
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  if (!p.ok()) return out;
  for (const Partition& part : p->partitions) {
    auto sub = compiler::prepare_partition_graph(g.value(), part);
    EXPECT_TRUE(sub.ok()) << sub.status().to_string();
    if (sub.ok()) out.push_back(std::move(sub).value());
  }
  return out;
}

Compiled compile_and_simulate(const Graph& g, const compiler::CompileOptions& o, const sim::SimConfig& cfg) {
  Compiled c;
  auto p = compiler::compile_program(g, testing::npu_target(), o);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  if (!p.ok()) return c;
  c.program = std::move(p).value();
  runtime::PayloadView view;
  const runtime::PayloadStatus ps = runtime::parse_payload(c.program.payload.data(), c.program.payload.size(), &view);
  EXPECT_TRUE(ps.ok()) << ps.message;
  if (!ps.ok()) return c;
  c.simulated.resize(view.mc.num_instructions());
  c.simulated_total = sim::estimate_timing(cfg, view.mc, c.simulated.data(), uint32_t(c.simulated.size()));
  return c;
}

class EstimatorAgrees : public ::testing::TestWithParam<const char*> {};

TEST_P(EstimatorAgrees, WithTheSimulatorPerLayerOnEveryPartition) {
  auto cfg = sim::sim_config_from_target(testing::npu_target());
  ASSERT_TRUE(cfg.ok());
  for (bool forced : {false, true}) {
    compiler::CompileOptions o;
    o.fetch_constants_to_sram = forced;
    for (const Graph& g : fixture_partitions(GetParam())) {
      SCOPED_TRACE(g.name + (forced ? " (fetch_constants_to_sram)" : ""));
      const Compiled c = compile_and_simulate(g, o, cfg.value());
      ASSERT_EQ(c.simulated.size(), c.program.calls.size());
      const compiler::ProgramEstimate e = compiler::estimate_program(cfg.value(), c.program);
      const auto est = compiler::group_layers(c.program, e.calls, cfg->macs_per_cycle());
      const auto sim = compiler::group_layers(c.program, c.simulated, cfg->macs_per_cycle());
      ASSERT_EQ(est.size(), sim.size());
      for (size_t i = 0; i < est.size(); ++i) {
        SCOPED_TRACE(est[i].origin);
        EXPECT_LE(std::fabs(double(est[i].cycles) - double(sim[i].cycles)), 0.10 * double(sim[i].cycles));
        EXPECT_EQ(est[i].macs, sim[i].macs);
      }
      EXPECT_LE(std::fabs(double(e.summary.total_cycles) - double(c.simulated_total.total_cycles)),
                0.05 * double(c.simulated_total.total_cycles));
    }
  }
}

bool has_prefetch(const compiler::NpuProgram& p) {
  for (const compiler::KernelCall& c : p.calls)
    if (c.op == npu::Opcode::kPrefetch) return true;
  return false;
}

// No prefetch on an NPU that cannot read flash means the weights are resident in SRAM: the fastest
// plan, taken when the partition (weights and activations) fits the target's SRAM or the budget
// given; otherwise the fastest streaming plan within the budget (by default the double buffer of
// the largest kernel's constants).
TEST_P(EstimatorAgrees, AndTheWeightPlanIsResidentWhenItFitsElseStreamedWithinTheBudget) {
  auto cfg = sim::sim_config_from_target(testing::npu_target());
  ASSERT_TRUE(cfg.ok());
  const int64_t sram = testing::npu_target().sram_bytes;
  for (const Graph& g : fixture_partitions(GetParam())) {
    SCOPED_TRACE(g.name);
    compiler::CompileOptions o;
    const Compiled planned = compile_and_simulate(g, o, cfg.value());
    o.stream_weights = false;  // no prefetch: resident
    const Compiled resident = compile_and_simulate(g, o, cfg.value());
    EXPECT_FALSE(has_prefetch(resident.program));
    EXPECT_EQ(resident.simulated_total.flash_bytes, 0u);
    EXPECT_LE(resident.simulated_total.total_cycles, planned.simulated_total.total_cycles);
    EXPECT_FALSE(planned.program.plan_notes.empty());
    const uint64_t weights = planned.program.weights_size, acts = planned.program.scratch_size;
    if (!has_prefetch(planned.program)) {
      EXPECT_LE(weights + acts, uint64_t(sram)) << "resident only when the partition fits";
      EXPECT_EQ(planned.simulated_total.total_cycles, resident.simulated_total.total_cycles);
    } else {
      // Streaming is chosen over resident only when resident does not fit, or to save SRAM at
      // almost no cost (within 0.5 %).
      EXPECT_TRUE(weights + acts > uint64_t(sram) ||
                  double(planned.simulated_total.total_cycles) <= 1.005 * double(resident.simulated_total.total_cycles))
          << planned.simulated_total.total_cycles << " vs resident " << resident.simulated_total.total_cycles;
      EXPECT_LT(planned.program.sram_scratch_size, weights);
    }
    // A budget that holds every weight: resident, or streaming within 0.5 % of it in less SRAM.
    // A budget of 1 byte: one kernel ahead, the least SRAM streaming can use.
    o = compiler::CompileOptions();
    o.weights_sram_budget_bytes = int64_t(weights);
    const Compiled roomy = compile_and_simulate(g, o, cfg.value());
    EXPECT_LE(double(roomy.simulated_total.total_cycles), 1.005 * double(resident.simulated_total.total_cycles));
    o.weights_sram_budget_bytes = 1;
    const Compiled tight = compile_and_simulate(g, o, cfg.value());
    if (weights > 0) {
      EXPECT_TRUE(has_prefetch(tight.program));
    }
    if (planned.program.sram_scratch_size > 0) {
      // The budget: twice the largest kernel's constants (all parts its prefetches copy).
      uint64_t largest = 0, group[16] = {};
      for (const compiler::KernelCall& c : planned.program.calls) {
        if (c.op == npu::Opcode::kPrefetch) {
          const auto a = c.as<npu::PrefetchArgs>();
          group[a.channel % 16] += npu::align16(a.size);
        } else if (c.op == npu::Opcode::kWaitPrefetch) {
          const uint32_t ch = c.as<npu::WaitPrefetchArgs>().channel % 16;
          largest = std::max(largest, group[ch]);
          group[ch] = 0;
        }
      }
      EXPECT_LE(planned.program.sram_scratch_size, 2 * largest);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EstimatorAgrees,
                         ::testing::Values("cifarnet", "fmnist_cnn", "mobilenet_v1_025", "mobilenet_v2", "resnet18"));

}  // namespace
}  // namespace neutron
