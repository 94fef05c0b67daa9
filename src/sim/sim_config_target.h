// SimConfig from a target description (host side): the datapath and memory fields of the target,
// plus its optional "sim_*" timing-model fields. Unknown "sim_*" names are errors.
#pragma once
#include "core/status.h"
#include "sim/sim_config.h"
#include "target/target.h"

namespace neutron::sim {

// The "sim_*" field names this model reads, in the order docs/npu-model.md lists them.
extern const char* const kSimFieldNames[];
extern const int kNumSimFields;

StatusOr<SimConfig> sim_config_from_target(const NeutronTarget& t);

}  // namespace neutron::sim
