// Whole-model latency and per-layer attribution of a program file, for `compile` and `run`
// (--profile, --perf-csv, --trace, and the `performance` key of their JSON documents).
//
// A program is timed instruction by instruction on one timeline: Neutron payloads by the NPU
// timing model (sim/timing.h), CPU kernel calls, the edge Quantize/Dequantize and a delegate's
// NCHW<->NHWC conversions by the Cortex-M33 model (sim/cpu_timing.h), both with the timing
// parameters the program carries (or, for older files, its target's). Latency = NPU + CPU +
// transfers: NPU is the NPU's kernel time without waits for weights, transfers the flash -> SRAM
// copies nothing hid (waits for prefetches, synchronous fetches), CPU everything on the M33.
//
// Every event carries the model node it came from (Instruction.calls in the program); a layer is
// one node, its events folded together (a Prefetch or WaitPrefetch belongs to the layer whose
// weights it copies; what it stalls shows as that layer's transfer time). The table's columns are
// one list (perf_columns()) shared by the text table, the CSV and the JSON.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "program/program_format.h"
#include "sim/cpu_timing.h"
#include "sim/sim_config.h"
#include "tools/reports.h"

namespace neutron::cli {

// The configurations a program is timed with, and where they came from.
struct ProgramTiming {
  sim::SimConfig npu;
  sim::CpuConfig cpu;
  std::string target;  // target name ("cpu": no NPU)
  std::string source;  // "program" (its TimingParams), "target <file>", or "defaults"
  std::vector<std::string> assumptions;  // timing fields the target did not give (defaults used)
};

// From the program's TimingParams; a file without them uses its target by name (`note` says so);
// a target that cannot be found gives the defaults.
StatusOr<ProgramTiming> program_timing(const fb::Program& p, std::string* note);

// One timed step on the timeline.
struct PerfEvent {
  enum class Unit : uint8_t { kNpu, kCpu };
  Unit unit = Unit::kCpu;
  int instruction = 0;
  int call = -1;         // microcode instruction of the payload, -1 for edge and layout conversions
  std::string kind;      // kernel ("conv2d", "prefetch", "quantize", "io_transpose")
  std::string node, op;  // the model node (layer) and its op type
  double start_us = 0, dur_us = 0;
  uint64_t cycles = 0;          // at its unit's clock
  uint64_t transfer_cycles = 0; // NPU: waits for flash copies and synchronous fetches (in cycles)
  uint64_t macs = 0;
  uint64_t sram_bytes = 0;      // arena bytes live during it (memory plan)
  std::string bound;            // "compute", "memory", "overhead"
  // A flash -> SRAM copy the event started (NPU prefetch or fetch), on its own track.
  double copy_start_us = 0, copy_dur_us = 0;
  uint64_t copy_bytes = 0;
};

struct PerfLayer {
  int index = 0;  // execution order of its first event
  std::string node, op, placement;  // placement: "NPU", "CPU" or "NPU+CPU"
  int instruction = 0;
  double time_us = 0, transfer_us = 0;
  uint64_t cycles = 0, cpu_cycles = 0, npu_cycles = 0;
  uint64_t macs = 0, sram_bytes = 0;
  double utilization = 0;  // NPU: MACs / (NPU cycles * pipes * MACs); CPU: MACs / (2 * CPU cycles), SMLAD's peak
  std::string bound;
  double share = 0;  // of the model's latency
  uint64_t dominant_cycles = 0;  // the longest event's cycles (which gives `bound`)
};

struct PerfOpType {
  std::string op;
  int layers = 0;
  double time_us = 0, share = 0;
  uint64_t macs = 0;
};

struct ProgramPerf {
  ProgramTiming timing;
  std::vector<PerfEvent> events;
  std::vector<PerfLayer> layers;  // in execution order
  std::vector<PerfOpType> op_types;  // by time, longest first
  double npu_ms = 0, cpu_ms = 0, transfer_ms = 0, total_ms = 0;
  uint64_t npu_cycles = 0, cpu_cycles = 0, transfer_cycles = 0, macs = 0;
  std::vector<uint64_t> delegate_cycles;  // per delegate instruction, in order (to check the driver's)
  bool attributed = false;  // the program carries per-call node names (else instruction origins)
  bool unmodelled_cpu_kernels = false;
};

// Times `p` (a verified program) with `timing`. `delegates_on_cpu` (run --target cpu): the NPU
// payloads run as CPU kernel calls and are timed by the CPU model.
StatusOr<ProgramPerf> profile_program(const fb::Program& p, const ProgramTiming& timing, bool delegates_on_cpu = false);

// A column of the per-layer table (text, CSV and JSON from one definition: add columns here).
struct PerfColumn {
  const char* header;  // text table and CSV header
  const char* key;     // JSON key of performance.layers[]
  int width;           // text width (negative: left-aligned)
  std::function<std::string(const PerfLayer&)> text;
  std::function<Json(const PerfLayer&)> json;
};
const std::vector<PerfColumn>& perf_columns();

// "latency: 1.234 ms = NPU 0.9 + CPU 0.3 + transfers 0.03 ms" and the timing source.
std::string perf_summary_text(const ProgramPerf& perf);
// The per-layer table, the per-op-type summary and the top 10 layers.
std::string perf_table_text(const ProgramPerf& perf);
// The per-layer table as CSV (header line, one row per layer).
std::string perf_csv(const ProgramPerf& perf);
// The `performance` object of the compile and run documents (docs/json-schemas.md).
Json perf_json(const ProgramPerf& perf);
// Fails early (before compiling or running) when `path`, given to `option` (--trace, --perf-csv),
// cannot be written: a folder, or a folder that does not exist or is not writable. "" is fine.
Status check_report_path(const char* option, const std::string& path);

// Instruction `index`'s kernel calls with the model nodes they implement (Instruction.calls):
// [{"call", "kernel", "nodes", "op", "sram_bytes"}] for `inspect`, and as listing text. Empty for
// files without attribution.
Json call_attribution_json(const fb::Program& p, uint32_t index);
std::string call_attribution_text(const fb::Program& p, uint32_t index, const std::string& indent);

// Chrome trace-event JSON: tracks NPU, flash -> SRAM, CPU; events named by layer.
std::string perf_chrome_trace(const ProgramPerf& perf, const std::string& program_name);

}  // namespace neutron::cli
