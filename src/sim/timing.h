// Timing model of the Neutron N3 NPU (Neutron-C flavour: firmware on the host core, no data
// mover, weights prefetched from flash by application callbacks). It reads shapes, sizes, regions
// and kernel geometry from the microcode, never tensor values, and never runs a kernel: the
// functional simulator (kernel_calls/kernel_calls.h) and this model are independent. docs/npu-model.md
// states every formula and parameter; in short, per kernel:
//
//   compute   = the P x M mapping: P pipelines each take one output channel, each cycle a
//               pipeline does an M-long dot product over input channels (or kernel taps for
//               depthwise and pools); channel counts round up to P and M (padding waste)
//   memory    = SRAM bytes / sram_bytes_per_cycle (activations in and out, weights when in SRAM)
//   overhead  = kernel_overhead + jobs * job_overhead (firmware on the host core; a job is one
//               output row of one group of P output channels)
//   fetch     = weights in flash that were not prefetched are copied synchronously (Neutron-C
//               cannot read flash): copy_setup + bytes / flash bandwidth
//   cycles    = stall (waiting for a prefetch) + overhead + fetch + max(compute, memory)
//
// Prefetch instructions start asynchronous flash -> SRAM copies on one flash port; they overlap
// the kernels that follow until a WaitPrefetch (or the first kernel that reads those weights).
#pragma once
#include <cstddef>
#include <cstdint>

#include "npu/microcode_reader.h"
#include "sim/sim_config.h"

namespace neutron::sim {

enum class Bound : uint8_t { kCompute = 0, kMemory = 1, kOverhead = 2 };
const char* bound_name(Bound b);  // "compute", "memory", "overhead"

struct KernelTiming {
  uint32_t instruction = 0;
  npu::Opcode opcode = npu::Opcode::kCopy;
  uint64_t start_cycle = 0;
  uint64_t cycles = 0;           // total, including stalls
  uint64_t compute_cycles = 0;   // MAC array / vector unit busy
  uint64_t memory_cycles = 0;    // SRAM traffic plus synchronous flash fetches
  uint64_t overhead_cycles = 0;  // firmware: per kernel and per job
  uint64_t stall_cycles = 0;     // waiting for prefetches
  uint64_t macs = 0;             // useful multiply-accumulates
  uint64_t jobs = 0;
  uint64_t sram_bytes = 0;
  uint64_t flash_bytes = 0;      // weights fetched from flash by this kernel (not prefetched)
  double utilization = 0;        // macs / (cycles * P * M)
  Bound bound = Bound::kOverhead;
  // The flash -> SRAM copy this record started (a Prefetch's asynchronous copy, or a kernel's
  // synchronous fetch), for traces; copy_cycles 0: none. Not part of the formulas above.
  uint64_t copy_start_cycle = 0, copy_cycles = 0, copy_bytes = 0;
};

struct TimingSummary {
  uint64_t total_cycles = 0;
  uint64_t macs = 0;
  uint64_t compute_cycles = 0, memory_cycles = 0, overhead_cycles = 0, stall_cycles = 0;
  uint64_t flash_bytes = 0;  // all weights read from flash (prefetched or fetched)
  uint32_t kernels = 0;      // compute/data kernels (prefetch instructions excluded)
  double latency_ms = 0;
  double utilization = 0;    // macs / (total_cycles * P * M)
};

// Where the cost model reads tensor descriptors (shapes, sizes): a payload's microcode, or the
// compiler's program before it is emitted (compiler/estimate.h), so both cost the same way.
class TensorSource {
 public:
  virtual npu::TensorDesc get(uint32_t index) const = 0;  // a zero descriptor when out of range

 protected:
  ~TensorSource() = default;
};

class MicrocodeTensors final : public TensorSource {
 public:
  explicit MicrocodeTensors(const npu::MicrocodeView& mc) : mc_(mc) {}
  npu::TensorDesc get(uint32_t index) const override;

 private:
  const npu::MicrocodeView& mc_;
};

// The prefetched weight ranges and when each is in SRAM (one flash port, 16 channels).
struct PrefetchState {
  static constexpr int kMaxRanges = 64;
  static constexpr uint32_t kChannels = 16;
  uint32_t begin[kMaxRanges] = {}, end[kMaxRanges] = {};
  uint64_t ready[kMaxRanges] = {};
  int n = 0, next = 0;
  uint64_t flash_free = 0;
  uint64_t channel_done[kChannels] = {};

  void add(uint32_t b, uint32_t e, uint64_t at);
  int64_t covered(uint32_t b, uint64_t e) const;  // when [b, e) is in SRAM, or -1 if not prefetched
};

// Whether a payload's weights are resident in SRAM during its run (see Timeline): in flash on an
// NPU that cannot read it, and no prefetch instruction (`prefetches`) to bring them in.
bool weights_resident(const SimConfig& cfg, bool prefetches);

// The timeline of one payload run: each instruction in order, prefetches overlapping the kernels
// that follow. estimate_timing() runs it over a microcode; the compiler's estimator runs the same
// steps over its program, so their numbers agree by construction.
class Timeline {
 public:
  // `weights_resident`: the payload's weights were placed in SRAM before the run (weights in flash,
  // an NPU that cannot read flash, no prefetch: upstream without fetch_constants_to_sram needs
  // the model in SRAM), so kernels read them at SRAM speed and nothing is copied per inference.
  explicit Timeline(const SimConfig& cfg, bool weights_resident = false);
  KernelTiming step(const TensorSource& tensors, const npu::Instruction& inst);
  uint64_t now() const { return s_.total_cycles; }
  TimingSummary summary() const;

 private:
  SimConfig cfg_;
  bool resident_ = false;
  PrefetchState pf_;
  TimingSummary s_;
  uint32_t instructions_ = 0;
};

// Times every instruction in order. Writes up to `max_records` records (one per instruction,
// prefetch instructions included); `records` may be null.
TimingSummary estimate_timing(const SimConfig& cfg, const npu::MicrocodeView& mc, KernelTiming* records,
                              uint32_t max_records);

// The same, handing each record to `sink` (no storage needed: the driver's trace path).
using TimingSink = void (*)(void* context, const KernelTiming& record);
TimingSummary estimate_timing_each(const SimConfig& cfg, const npu::MicrocodeView& mc, TimingSink sink, void* context);

// One kernel in isolation, its weights in SRAM (`weights_in_sram`) or where cfg says, no
// prefetch state: for a compiler choosing tilings, and for tests.
KernelTiming estimate_kernel(const SimConfig& cfg, const npu::MicrocodeView& mc, const npu::Instruction& inst,
                             bool weights_in_sram);
KernelTiming estimate_kernel(const SimConfig& cfg, const TensorSource& tensors, const npu::Instruction& inst,
                             bool weights_in_sram);

}  // namespace neutron::sim
