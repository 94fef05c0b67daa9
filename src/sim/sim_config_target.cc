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
  // The target loader checks these ranges for files; a NeutronTarget built in code gets the same
  // checks here, so no value below reaches an integer conversion out of range.
  if (t.num_pipes < 1 || t.num_pipes > 1024 || t.num_macs < 1 || t.num_macs > 1024)
    return error(Error::InvalidArgument, t.file, ": num_pipes and num_macs must be from 1 to 1024");
  if (!(t.clock_mhz > 0 && t.clock_mhz <= 100000))
    return error(Error::InvalidArgument, t.file, ": field \"clock_mhz\" must be above 0 and at most 100000, got ",
                 t.clock_mhz);
  if (!(t.flash_bandwidth_mb_s == 0 || (t.flash_bandwidth_mb_s >= 0.001 && t.flash_bandwidth_mb_s <= 1e7)))
    return error(Error::InvalidArgument, t.file,
                 ": field \"flash_bandwidth_mb_s\" must be 0 (no flash) or from 0.001 to 1e+07, got ",
                 t.flash_bandwidth_mb_s);
  c.num_pipes = t.num_pipes;
  c.num_macs = t.num_macs;
  c.clock_mhz = t.clock_mhz;
  c.flash_bandwidth_mb_s = t.flash_bandwidth_mb_s;
  c.npu_reads_flash = t.npu_reads_flash;
  for (const auto& [name, value] : t.sim_params) {
    bool known = name.rfind("sim_cpu_", 0) == 0;  // the CPU model's (sim/cpu_config_target.h)
    for (int i = 0; i < kNumSimFields; ++i) known |= name == kSimFieldNames[i];
    if (!known) return error(Error::InvalidArgument, t.file, ": unknown timing-model field \"", name, "\"");
  }
  // Each "sim_*" field within its range [lo, hi] (NaN fails too).
  Status bad = Status::OK();
  auto get = [&](const char* name, double fallback, double lo, double hi) {
    const double* v = t.sim_param(name);
    if (v == nullptr) return fallback;
    if (!(*v >= lo && *v <= hi) && bad.ok())
      bad = error(Error::InvalidArgument, t.file, ": field \"", name, "\" must be a number from ", lo, " to ", hi,
                  ", got ", *v);
    return bad.ok() ? *v : fallback;
  };
  auto cycles = [&](const char* name, uint32_t fallback) {
    return uint32_t(std::llround(get(name, fallback, 0, 1e9)));
  };
  c.sram_bytes_per_cycle = get("sim_sram_bytes_per_cycle", c.sram_bytes_per_cycle, 1.0 / 64, 65536);
  c.copy_setup_cycles = cycles("sim_copy_setup_cycles", c.copy_setup_cycles);
  c.kernel_overhead_cycles = cycles("sim_kernel_overhead_cycles", c.kernel_overhead_cycles);
  c.job_overhead_cycles = cycles("sim_job_overhead_cycles", c.job_overhead_cycles);
  c.prefetch_issue_cycles = cycles("sim_prefetch_issue_cycles", c.prefetch_issue_cycles);
  c.vector_elements_per_cycle = get("sim_vector_elements_per_cycle", c.vector_elements_per_cycle, 1, 65536);
  const double in_flash = get("sim_weights_in_flash", 1, 0, 1);
  RETURN_IF_ERROR(bad);
  if (in_flash != 0 && in_flash != 1)
    return error(Error::InvalidArgument, t.file, ": field \"sim_weights_in_flash\" must be 0 or 1, got ", in_flash);
  c.weights_memory = in_flash != 0 ? WeightsMemory::kFlash : WeightsMemory::kSram;
  if (c.weights_memory == WeightsMemory::kFlash && t.flash_bandwidth_mb_s == 0)
    return error(Error::InvalidArgument, t.file,
                 ": field \"flash_bandwidth_mb_s\" is 0 (no flash), but the timing model keeps weights in flash "
                 "(\"sim_weights_in_flash\" is 1 or absent)");
  return c;
}

}  // namespace neutron::sim
