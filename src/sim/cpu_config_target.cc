#include "sim/cpu_config_target.h"

namespace neutron::sim {

const std::vector<CpuFieldInfo>& cpu_field_infos() {
  static const std::vector<CpuFieldInfo> kFields = {
      {"sim_cpu_clock_mhz", &CpuConfig::clock_mhz, 0.001, 100000},
      {"sim_cpu_call_overhead_cycles", &CpuConfig::call_overhead_cycles, 0, 1e9},
      {"sim_cpu_conv_cycles_per_mac", &CpuConfig::conv_cycles_per_mac, 0, 1e6},
      {"sim_cpu_depthwise_cycles_per_mac", &CpuConfig::depthwise_cycles_per_mac, 0, 1e6},
      {"sim_cpu_fc_cycles_per_mac", &CpuConfig::fc_cycles_per_mac, 0, 1e6},
      {"sim_cpu_im2col_cycles_per_element", &CpuConfig::im2col_cycles_per_element, 0, 1e6},
      {"sim_cpu_requant_cycles_per_output", &CpuConfig::requant_cycles_per_output, 0, 1e6},
      {"sim_cpu_pool_cycles_per_tap", &CpuConfig::pool_cycles_per_tap, 0, 1e6},
      {"sim_cpu_elementwise_cycles_per_element", &CpuConfig::elementwise_cycles_per_element, 0, 1e6},
      {"sim_cpu_table_cycles_per_element", &CpuConfig::table_cycles_per_element, 0, 1e6},
      {"sim_cpu_softmax_cycles_per_element", &CpuConfig::softmax_cycles_per_element, 0, 1e6},
      {"sim_cpu_norm_cycles_per_element", &CpuConfig::norm_cycles_per_element, 0, 1e6},
      {"sim_cpu_index_cycles_per_element", &CpuConfig::index_cycles_per_element, 0, 1e6},
      {"sim_cpu_copy_cycles_per_byte", &CpuConfig::copy_cycles_per_byte, 0, 1e6},
      {"sim_cpu_quantize_cycles_per_element", &CpuConfig::quantize_cycles_per_element, 0, 1e6},
      {"sim_cpu_dequantize_cycles_per_element", &CpuConfig::dequantize_cycles_per_element, 0, 1e6},
  };
  return kFields;
}

StatusOr<CpuConfigFromTarget> cpu_config_from_target(const NeutronTarget& t) {
  CpuConfigFromTarget r;
  CpuConfig& c = r.config;
  // The M33 runs at the NPU's clock on the i.MX RT700 unless the target says otherwise.
  if (t.clock_mhz > 0 && t.clock_mhz <= 100000) c.clock_mhz = t.clock_mhz;
  c.flash_bandwidth_mb_s = t.flash_bandwidth_mb_s;
  for (const auto& [name, value] : t.sim_params) {
    if (name.rfind("sim_cpu_", 0) != 0) continue;
    const CpuFieldInfo* info = nullptr;
    for (const CpuFieldInfo& f : cpu_field_infos())
      if (name == f.name) info = &f;
    if (info == nullptr) return error(Error::InvalidArgument, t.file, ": unknown CPU timing-model field \"", name, "\"");
    if (!(value >= info->lo && value <= info->hi))
      return error(Error::InvalidArgument, t.file, ": field \"", name, "\" must be a number from ", info->lo, " to ",
                   info->hi, ", got ", value);
    c.*(info->field) = value;
  }
  for (const CpuFieldInfo& f : cpu_field_infos())
    if (t.sim_param(f.name) == nullptr) r.defaulted.push_back(f.name);
  const double* in_flash = t.sim_param("sim_weights_in_flash");
  c.weights_in_flash = (in_flash == nullptr || *in_flash != 0) && t.flash_bandwidth_mb_s > 0;
  return r;
}

}  // namespace neutron::sim
