// CpuConfig (sim/cpu_timing.h) from a target description: its optional "sim_cpu_*" fields, the
// target's flash bandwidth and "sim_weights_in_flash". Unknown "sim_cpu_*" names are errors.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/cpu_timing.h"
#include "target/target.h"

namespace neutron::sim {

struct CpuConfigFromTarget {
  CpuConfig config;
  // The "sim_cpu_*" fields the target did not give: their defaults are assumptions of this model
  // (docs/cpu-model.md), named in reports.
  std::vector<std::string> defaulted;
};

// Every "sim_cpu_*" field name with its default, in the order docs/cpu-model.md lists them.
struct CpuFieldInfo {
  const char* name;
  double CpuConfig::*field;
  double lo, hi;
};
const std::vector<CpuFieldInfo>& cpu_field_infos();

StatusOr<CpuConfigFromTarget> cpu_config_from_target(const NeutronTarget& t);

}  // namespace neutron::sim
