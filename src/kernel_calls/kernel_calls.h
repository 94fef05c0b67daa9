// The kernel-call executor: runs a validated kernel-call sequence (npu/microcode_format.h) on
// caller buffers by calling the CPU kernels (src/kernels). It is the one executor of int8 kernel
// calls: the runtime runs a program's CPU instructions with it, the simulator (src/sim) is this
// executor plus a timing model, and the host executor runs lowered int8 nodes with it. So NPU,
// CPU program and host results agree bit for bit.
//
// prepare() checks every kernel's arguments against its semantics (shapes agree with the kernel,
// weights ranges inside the weights section, multipliers' shifts in range, no output overlapping
// an input), computes the CPU kernels' params structs and repacks the NPU weight layouts
// (int8, channels padded to num_macs) into the CPU kernels' layouts, all in caller-supplied memory
// (required_memory() bytes). run() then only reads the prepared state: no allocation, no repacking.
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
  // Bytes prepare() needs for this microcode (validates the kernels' arguments as prepare does).
  // `weights` is the weights section (16-byte aligned, header word 7 bytes).
  static CallStatus required_memory(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                    Limits limits = Limits::kCpu);

  // `memory`: at least required_memory() bytes, 16-byte aligned; it must outlive the executor
  // (as must the microcode and the weights).
  CallStatus prepare(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                     Limits limits = Limits::kCpu);

  // The same with the workspace (the kernels' working memory: im2col tiles, accumulators, and
  // prepare()'s repacking buffer) supplied by the caller: required_memory() then reports it
  // separately (`*bytes` excludes it), prepare() repacks through `workspace`, and run() uses
  // RunBuffers::workspace, so executors that never run at the same time can share one (the host
  // executor runs one per int8 node).
  static CallStatus required_memory(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                    size_t* workspace_bytes, Limits limits = Limits::kCpu);
  CallStatus prepare(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                     uint8_t* workspace, size_t workspace_bytes, Limits limits = Limits::kCpu);

  // Runs every instruction in order. Buffers must hold what the tensor table says.
  CallStatus run(const RunBuffers& buffers, const PrefetchHooks* hooks) const;

  bool prepared() const { return plans_ != nullptr; }
  size_t workspace_bytes() const { return workspace_bytes_; }
  const npu::MicrocodeView& microcode() const { return mc_; }

 private:
  CallStatus prepare_impl(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                          uint8_t* workspace, size_t workspace_bytes, Limits limits);

  npu::MicrocodeView mc_;
  const uint8_t* weights_ = nullptr;
  const void* const* plans_ = nullptr;  // per instruction: its prepared state
  uint8_t* workspace_ = nullptr;        // kernels' working memory (im2col, accumulators); null: the caller's
  size_t workspace_bytes_ = 0;
};

}  // namespace neutron::kernel_calls
