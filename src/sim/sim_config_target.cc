#include "sim/sim_config_target.h"

#include <cmath>
#include <cstring>

namespace neutron::sim {

const char* const kSimFieldNames[] = {
    "sim_sram_bytes_per_cycle",  "sim_copy_setup_cycles",    "sim_kernel_overhead_cycles",
    "sim_job_overhead_cycles",   "sim_prefetch_issue_cycles", "sim_vector_elements_per_cycle",
    "sim_weights_in_flash",
};
const int kNumSimFields = int(sizeof(kSimFieldNames) / sizeof(kSimFieldNames[0]));

StatusOr<SimConfig> sim_config_from_target(const NeutronTarget& t) {
  SimConfig c;
  c.num_pipes = t.num_pipes;
  c.num_macs = t.num_macs;
  c.clock_mhz = t.clock_mhz;
  c.flash_bandwidth_mb_s = t.flash_bandwidth_mb_s;
  c.npu_reads_flash = t.npu_reads_flash;
  for (const auto& [name, value] : t.sim_params) {
    bool known = false;
    for (int i = 0; i < kNumSimFields; ++i) known |= name == kSimFieldNames[i];
    if (!known) return error(Error::InvalidArgument, t.file, ": unknown timing-model field \"", name, "\"");
  }
  auto get = [&](const char* name, double fallback) {
    const double* v = t.sim_param(name);
    return v ? *v : fallback;
  };
  auto cycles = [&](const char* name, uint32_t fallback) -> uint32_t {
    const double v = get(name, fallback);
    return v > 4e9 ? 4000000000u : uint32_t(std::llround(v));
  };
  c.sram_bytes_per_cycle = get("sim_sram_bytes_per_cycle", c.sram_bytes_per_cycle);
  c.copy_setup_cycles = cycles("sim_copy_setup_cycles", c.copy_setup_cycles);
  c.kernel_overhead_cycles = cycles("sim_kernel_overhead_cycles", c.kernel_overhead_cycles);
  c.job_overhead_cycles = cycles("sim_job_overhead_cycles", c.job_overhead_cycles);
  c.prefetch_issue_cycles = cycles("sim_prefetch_issue_cycles", c.prefetch_issue_cycles);
  c.vector_elements_per_cycle = get("sim_vector_elements_per_cycle", c.vector_elements_per_cycle);
  c.weights_memory = get("sim_weights_in_flash", 1) != 0 ? WeightsMemory::kFlash : WeightsMemory::kSram;
  if (!(c.sram_bytes_per_cycle > 0) || !(c.vector_elements_per_cycle >= 1))
    return error(Error::InvalidArgument, t.file,
                 ": sim_sram_bytes_per_cycle must be > 0 and sim_vector_elements_per_cycle >= 1");
  return c;
}

}  // namespace neutron::sim
