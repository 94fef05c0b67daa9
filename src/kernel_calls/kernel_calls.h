// The kernel-call executor: runs a validated kernel-call sequence (npu/microcode_format.h) on
// caller buffers by calling the CPU kernels (src/kernels). It is the one executor of int8 kernel
// calls: the runtime runs a program's CPU instructions with it, the simulator (src/sim) is this
// executor plus a timing model, and the host executor runs lowered int8 nodes with it. So NPU,
// CPU program and host results agree bit for bit.
//
// prepare() checks every kernel's arguments against its semantics (shapes agree with the kernel,
// weights ranges inside the weights section, multipliers' shifts in range, no output overlapping
// an input) and computes the CPU kernels' params structs in caller-supplied memory
// (required_memory() bytes). Weights, biases, multipliers and tables are read in place from the
// weights section (in a program: flash on a device), in the kernel-call ABI's layout; conv and
// fully connected then run the portable in-place kernels (kernels/in_place_int8.h). Given host
// memory (HostMemory, host_memory_needed() bytes), prepare() instead repacks conv and FC weights
// for the host's SIMD kernels there: host-only state, apart from the device memory, whose size
// and layout do not change. run() then only reads the prepared state: no allocation, no repacking.
// A new kernel family keeps to this: its setup points into the weights section (c.weights +
// offset, checked with weights_range_ok) and, only when Arena::host is set, may repack into
// Arena::host_alloc / host_need (host-only), never into the device state.
//
// Embedded-grade: no heap, no exceptions; errors are neutron::Error with a static message and the
// index of the instruction. Depends on npu (the microcode reader) and kernels only, never on ir.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "npu/microcode_reader.h"

namespace neutron::kernel_calls {

// Whose limits prepare() checks the kernels' geometry against. kNpu: the Neutron NPU's (kernel,
// stride, dilation and padding <= 4096, kH * kW * Cin/group < 65536), for payloads the simulated
// NPU runs. kCpu: the CPU kernels' own (geometry up to the 2^24 tensor dimension limit, the int32
// accumulator bound), for CPU kernel calls: they run exactly what the partitioner kept off the NPU
// because it exceeds an NPU limit.
enum class Limits : uint8_t { kCpu, kNpu };

struct CallStatus {
  Error error = Error::Ok;
  const char* message = "ok";
  uint32_t instruction = 0xFFFFFFFFu;
  bool ok() const { return error == Error::Ok; }
};

// Weight prefetch goes through the application (upstream NeutronConfig.copy / wait). Without
// hooks the executor copies with memcpy.
struct PrefetchHooks {
  void (*copy)(void* dst, void* src, uint32_t size, uint32_t channel) = nullptr;
  void (*wait)(uint32_t channel) = nullptr;
};

// Host-only memory for repacked weights (null: read everything in place).
struct HostMemory {
  uint8_t* data = nullptr;  // 16-byte aligned
  size_t bytes = 0;
};

// What prepare() needs, measured by Executor::measure().
struct MemoryNeeds {
  size_t state = 0;           // device: plan pointers and the kernels' prepared params
  size_t workspace = 0;       // device: the in-place kernels' working memory
  size_t host = 0;            // host mode: repacked weights
  size_t host_workspace = 0;  // host mode: the working memory of all kernels (replaces `workspace`)
};

struct RunBuffers {
  const uint8_t* const* inputs = nullptr;  // num_inputs pointers (header word 13)
  uint8_t* const* outputs = nullptr;       // num_outputs pointers (header word 14)
  uint8_t* scratch = nullptr;              // header word 9 bytes
  uint8_t* sram_weights = nullptr;         // header word 12 bytes (prefetched weights)
  // The kernels' working memory, for an executor prepared with a caller workspace (else unused).
  uint8_t* workspace = nullptr;
};

class Executor {
 public:
  // The memory prepare() needs in device (host = false) or host mode; validates as prepare does.
  static CallStatus measure(const npu::MicrocodeView& mc, const uint8_t* weights, Limits limits, bool host,
                            MemoryNeeds* needs);
  // Host-only bytes prepare() takes from HostMemory with its own workspace (host mode).
  static CallStatus host_memory_needed(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                       Limits limits = Limits::kCpu);

  // Bytes prepare() needs for this microcode (validates the kernels' arguments as prepare does).
  // `weights` is the weights section (16-byte aligned, header word 7 bytes).
  static CallStatus required_memory(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                    Limits limits = Limits::kCpu);

  // `memory`: at least required_memory() bytes, 16-byte aligned; it must outlive the executor
  // (as must the microcode and the weights).
  // With `host`: conv and FC weights repacked into host.data (host_memory_needed() bytes), and the
  // executor's workspace there too.
  CallStatus prepare(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                     Limits limits = Limits::kCpu, HostMemory host = {});

  // The same with the workspace (the kernels' working memory: im2col tiles, accumulators, and
  // prepare()'s repacking buffer) supplied by the caller: required_memory() then reports it
  // separately (`*bytes` excludes it), prepare() repacks through `workspace`, and run() uses
  // RunBuffers::workspace, so executors that never run at the same time can share one (the host
  // executor runs one per int8 node). In host mode the workspace must hold MemoryNeeds::host_workspace
  // and `host` only MemoryNeeds::host bytes.
  static CallStatus required_memory(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                    size_t* workspace_bytes, Limits limits = Limits::kCpu);
  CallStatus prepare(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                     uint8_t* workspace, size_t workspace_bytes, Limits limits = Limits::kCpu, HostMemory host = {});

  // Runs every instruction in order. Buffers must hold what the tensor table says.
  CallStatus run(const RunBuffers& buffers, const PrefetchHooks* hooks) const;

  bool prepared() const { return plans_ != nullptr; }
  size_t workspace_bytes() const { return workspace_bytes_; }
  // Host-only bytes taken by prepare() (0 when everything is read in place).
  size_t host_bytes() const { return host_bytes_; }
  const npu::MicrocodeView& microcode() const { return mc_; }

 private:
  CallStatus prepare_impl(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                          uint8_t* workspace, size_t workspace_bytes, Limits limits, HostMemory host);

  npu::MicrocodeView mc_;
  const uint8_t* weights_ = nullptr;
  const void* const* plans_ = nullptr;  // per instruction: its prepared state
  uint8_t* workspace_ = nullptr;        // kernels' working memory (im2col, accumulators); null: the caller's
  size_t workspace_bytes_ = 0;
  size_t host_bytes_ = 0;
};

}  // namespace neutron::kernel_calls
