// Parameters of the Neutron timing model (sim/timing.h). Plain data: the driver and the embedded
// build use default_sim_config(); host tools build one from a target description
// (sim/sim_config_target.h). docs/npu-model.md lists every parameter with its source or
// assumption and the formulas that use it.
#pragma once
#include <cstdint>

namespace neutron::sim {

// Where the weights section lives while the model runs.
enum class WeightsMemory : uint8_t { kSram = 0, kFlash = 1 };

struct SimConfig {
  // Datapath (target: num_pipes, num_macs, clock_mhz).
  int num_pipes = 8;          // P: parallel dot-product pipelines (output channels in parallel)
  int num_macs = 8;           // M: MACs per pipeline (dot-product length per cycle)
  double clock_mhz = 325;     // NPU clock; cycles are NPU cycles

  // Memory (target: flash_bandwidth_mb_s, npu_reads_flash; sim_* fields).
  double flash_bandwidth_mb_s = 500;  // flash -> SRAM copies (prefetch, or synchronous fetch)
  bool npu_reads_flash = false;       // false: weights in flash must be copied to SRAM first
  double sram_bytes_per_cycle = 8;    // NPU <-> SRAM bandwidth for activations and SRAM weights
  uint32_t copy_setup_cycles = 100;   // per flash copy (callback, DMA/memcpy start)

  // Firmware (the kernel library runs on the host core on Neutron-C).
  uint32_t kernel_overhead_cycles = 2000;  // per kernel call: decode, configure, start, finish
  uint32_t job_overhead_cycles = 362;      // per job (one output row x one group of P channels), calibrated
  uint32_t prefetch_issue_cycles = 50;     // a Prefetch / WaitPrefetch instruction
  double vector_elements_per_cycle = 8;    // non-MAC kernels (elementwise, table, softmax)

  WeightsMemory weights_memory = WeightsMemory::kFlash;

  int macs_per_cycle() const { return num_pipes * num_macs; }
  double flash_bytes_per_cycle() const { return flash_bandwidth_mb_s / clock_mhz; }
};

// The i.MX RT700 (N3-64) numbers of src/target/targets/imxrt700.json, compiled in (a test checks
// that they agree with the file).
inline SimConfig default_sim_config() { return SimConfig(); }

}  // namespace neutron::sim
