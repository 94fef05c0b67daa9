// C++ side of the simulated driver: which timing parameters it uses (default: the i.MX RT700
// numbers, sim::default_sim_config()). Host tools set them from a target description.
#pragma once
#include "sim/sim_config.h"

namespace neutron::driver {

void set_sim_config(const sim::SimConfig& config);
sim::SimConfig sim_config();

}  // namespace neutron::driver
