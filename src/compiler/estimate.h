// The compiler's cost estimator: the simulator's timing model (sim/timing.h) run over a program
// before it is emitted. It reads shapes, regions, weight placement and the prefetch instructions,
// never values, and costs each call with the same per-kernel formulas and the same flash-port
// timeline as the simulator, so a plan's estimate equals what the simulated NPU will report
// (tests/compiler/estimate_test.cc checks every layer of every fixture). The stages use it to
// choose between plans (prefetch distance, weight buffer); the listing shows the chosen plan with
// each layer's estimate.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/program.h"
#include "sim/timing.h"

namespace neutron::compiler {

struct ProgramEstimate {
  std::vector<sim::KernelTiming> calls;  // one per call, in order
  sim::TimingSummary summary;
};

// Every call of `p` in order (needs pack-weights: prefetch coverage compares weight offsets).
ProgramEstimate estimate_program(const sim::SimConfig& cfg, const NpuProgram& p);

// One layer: the calls of one IR node (its kernel and the prefetch/wait instructions before it).
struct LayerEstimate {
  std::string origin;
  uint32_t first_call = 0, calls = 0;
  uint64_t cycles = 0, macs = 0, compute = 0, memory = 0, overhead = 0, stall = 0;
  sim::Bound bound = sim::Bound::kOverhead;  // of the layer's most expensive call
  npu::Opcode opcode = npu::Opcode::kCopy;   // the layer's main kernel (not prefetch/wait)
  uint32_t main_call = 0;                    // its index
  double utilization = 0;
};
// Layers in call order: each kernel with the prefetch/wait instructions just before it; consecutive
// kernels of the same node (no prefetch between them) make one layer.
std::vector<LayerEstimate> group_layers(const NpuProgram& p, const std::vector<sim::KernelTiming>& calls,
                                        int macs_per_cycle);

// What a layer is, for tables: "pointwise", "depthwise", "conv", "fully_connected", or the opcode's name.
std::string layer_kind(const NpuProgram& p, const LayerEstimate& l);

// Text for the listing: the plan's choices and one line per layer with its estimate.
std::string describe_plan(const NpuProgram& p, const sim::SimConfig& cfg);

}  // namespace neutron::compiler
