// Neutron NPU targets, described as data: src/target/targets/<name>.json, one file per SoC.
//
// Every parameter of a target file is an object with its value and where the value comes from:
//   "num_macs": {"value": 8, "source": "executorch backends/nxp/tests/neutron-imxrt700.ini [neutron2]"}
//   "flash_bandwidth_mb_s": {"value": 500, "assumption": "octal xSPI DDR at 250 MHz, theoretical"}
// exactly one of "source" or "assumption" (a non-empty string), nothing else. A top-level "comment"
// string is allowed. Unknown, missing, mistyped or out-of-range fields are errors naming the field
// and the file (with line:column).
//
// Limits that the facts derive from the datapath are computed here rather than stored (see the
// methods below), so a target with other pipeline/MAC counts gets consistent limits.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace neutron {

enum class NeutronKind { kNeutronC, kNeutronS };  // MCU flavour / subsystem with controller, TCM, DMA
enum class NeutronHwVersion { kN1 = 1, kN3 = 2 };  // upstream's NeutronHWVersion enum values

const char* neutron_kind_name(NeutronKind k);           // "neutron-c", "neutron-s"
const char* neutron_hw_version_name(NeutronHwVersion v);  // "N1", "N3"

// Where one parameter's value comes from, for reports and the supported-ops document.
struct TargetFieldInfo {
  std::string name;        // "num_macs"
  std::string value;       // the value as written in the file ("8", "[1,2,4,8]", "\"N3\"")
  std::string provenance;  // the source, or the assumption's justification
  bool assumption = false;
};

struct NeutronTarget {
  std::string name;         // "imxrt700": the --target name
  std::string description;  // "NXP i.MX RT700, eIQ Neutron N3-64"
  std::string file;         // the file it was loaded from

  // Datapath.
  NeutronKind kind = NeutronKind::kNeutronC;
  NeutronHwVersion hw_version = NeutronHwVersion::kN3;
  int num_pipes = 0;  // parallel dot-product pipelines
  int num_macs = 0;   // MACs per pipeline (the dot-product length; channel blocking unit)
  double clock_mhz = 0;

  // Memory system.
  int64_t sram_bytes = 0;            // on-chip SRAM the NPU can use (weights in flash are prefetched there)
  double flash_bandwidth_mb_s = 0;   // flash -> SRAM copy bandwidth, MB/s
  bool npu_reads_flash = false;      // the compute engine can read flash directly
  bool has_tcm = false;              // tightly coupled memory private to the NPU
  bool has_data_mover = false;       // a DMA engine of its own
  bool has_controller = false;       // a controller core of its own (else firmware runs on the host CPU)
  int buffer_alignment = 16;         // bytes, for microcode/weights/scratch buffers

  // Converter limits ("Neutron requirements" in upstream's converters).
  int64_t max_kernel_size = 0;             // kernel height/width
  int64_t max_stride = 0;
  int64_t max_dilation = 0;
  int64_t max_conv_weight_volume = 0;      // kH * kW * round_up(Cin, num_macs)
  int64_t max_transposed_conv_stride = 0;
  int64_t softmax_max_spatial = 0;         // product of the non-channel dims
  std::vector<int64_t> resize_scales;      // allowed integer up-scaling factors per axis
  int max_partition_inputs = 0;            // delegate payload header fields are one byte
  int max_partition_outputs = 0;

  std::vector<TargetFieldInfo> fields;  // every parameter with its provenance, in file order

  // Timing-model parameters: optional fields named "sim_*" with a number >= 0 (the simulator,
  // src/sim/sim_config_target.h, knows their names and defaults; docs/npu-model.md lists them).
  std::vector<std::pair<std::string, double>> sim_params;
  const double* sim_param(const std::string& name) const;

  int macs_per_cycle() const { return num_pipes * num_macs; }
  // Softmax limits derived from the datapath (facts §2.5: the old rules C % num_macs == 0 and
  // C < 4 * 4096 / num_pipes, C * spatial / num_macs <= 65536 are today's 2040 and 524288 for 8x8).
  int64_t softmax_max_channels() const;  // largest multiple of num_macs below 4 * 4096 / num_pipes
  int64_t softmax_max_elements() const;  // 65536 * num_macs
  const TargetFieldInfo* field(const std::string& name) const;
};

// Parses a target description. `file` names the text in errors.
StatusOr<NeutronTarget> parse_target(const std::string& json_text, const std::string& file);
StatusOr<NeutronTarget> load_target_file(const std::string& path);

// The target descriptions built into the binary (src/target/targets/*.json at build time), by name.
struct BuiltinTarget {
  const char* name;  // "imxrt700"
  const char* text;  // the file's JSON text
  size_t size;
};
const std::vector<BuiltinTarget>& builtin_targets();

// The directory searched for target names instead of the built-in targets: $NEUTRON_TARGETS_DIR,
// or "" when unset (names are the built-in targets).
std::string targets_dir();
// Target names (file stems of *.json) in `dir`, sorted; "" lists the built-in targets.
std::vector<std::string> list_targets(const std::string& dir);
// `name_or_path`: a file when it contains '/' or ends in ".json" (a folder holding one .json file
// also works), else a name: a built-in target, or one in $NEUTRON_TARGETS_DIR when set. An unknown
// name is NotFound and the message lists the known names.
StatusOr<NeutronTarget> load_target(const std::string& name_or_path);

}  // namespace neutron
