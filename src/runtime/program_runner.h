// Loads and runs a Neutron program file (src/program/program.fbs) — the portable runtime, as
// TFLite Micro's MicroInterpreter or ExecuTorch's Method: C++17, no exceptions, no RTTI, no heap.
// The caller supplies one arena; load() takes the planned activation memory (the program's
// memory plan) and the runtime state (tensor table, delegate handles, prepared CPU kernels) from
// it, and run() allocates nothing.
//
//   ProgramRunner r;
//   size_t need = 0;
//   ProgramRunner::arena_bytes_needed(file, size, &need);   // or a fixed budget
//   ProgramStatus s = r.load(file, size, arena, arena_size); // verify everything, init backends
//   std::memcpy(r.input(0).data, image, r.input(0).bytes);
//   s = r.run();                                             // instruction by instruction
//   read r.output(0).data
//
// Every offset, size and index in the file is checked in load() before anything is used: a bad
// file gives an error naming the instruction or tensor, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "program/program_format.h"
#include "runtime/backend_registry.h"
#include "runtime/neutron_backend.h"

namespace neutron::kernel_calls {
class Executor;
}

namespace neutron::runtime {

struct ProgramStatus {
  Error error = Error::Ok;
  const char* message = "ok";  // static text
  int32_t instruction = -1;    // the instruction it concerns, or -1
  int32_t tensor = -1;         // the tensor it concerns, or -1
  bool ok() const { return error == Error::Ok; }
};

struct TensorInfo {
  const char* name = "";  // points into the file
  fb::DType dtype = fb::DType::Int8;
  uint32_t rank = 0;
  int32_t shape[program::kMaxRank] = {};
  void* data = nullptr;
  size_t bytes = 0;
  float scale = 0;  // per-tensor quantization, if any (else 0)
  int32_t zero_point = 0;
};

enum class InstructionKind : uint8_t { kDelegate, kCpuKernels, kQuantize, kDequantize };

struct LoadOptions {
  // Run delegate payloads as CPU kernel calls instead of through their backend (`neutron run
  // PROGRAM --target cpu`): the same kernel calls on the CPU kernels, for comparison with the NPU.
  bool delegates_on_cpu = false;
  // Check the file's CRC-32 (its checksum trailer, src/program/program_format.h) before anything
  // else: a flipped bit in weights or microcode is then an error ("program checksum mismatch"),
  // never a different answer. One pass over the file (about 16 ms per MB on a 325 MHz Cortex-M33,
  // docs/architecture.md). A device that verifies its flash image itself (secure boot, a CRC
  // engine) may set it false; the trailer's shape is checked either way.
  bool verify_checksum = true;
  // Host-only memory (16-byte aligned, memory_needed().host_bytes): the host repacks conv and FC
  // weights there for its SIMD kernels (CPU kernel calls and the simulated NPU's). Null: every
  // kernel reads its weights in place from the program, as on a device. Never part of the arena.
  void* host_state = nullptr;
  size_t host_state_bytes = 0;
};

// The memory a program needs (ProgramRunner::memory_needed()).
struct MemoryFigures {
  size_t plan_bytes = 0;     // the compile-time memory plan (activations, scratch, delegate working memory)
  size_t runtime_bytes = 0;  // runtime state after it: tensor table, instruction steps, the kernels'
                             // prepared params, delegate contexts, alignment slack
  size_t arena_bytes = 0;    // plan_bytes + runtime_bytes = arena_bytes_needed(): what a device needs
  size_t host_bytes = 0;     // host-only state for LoadOptions::host_state (not device memory)
};

class ProgramRunner {
 public:
  ProgramRunner() = default;
  ProgramRunner(const ProgramRunner&) = delete;
  ProgramRunner& operator=(const ProgramRunner&) = delete;
  ~ProgramRunner() { unload(); }

  // Checks the whole file without running anything (as load() does). `data` 16-byte aligned.
  static ProgramStatus verify(const void* data, size_t size, const LoadOptions& options = {});
  // Arena bytes load() needs: the memory plan's arena plus the runtime state.
  // Weights are read in place from the program, so this is the plan plus a small runtime state.
  static ProgramStatus arena_bytes_needed(const void* data, size_t size, size_t* bytes, const LoadOptions& options = {});
  // The arena split into plan and runtime state, and the host-only state (arena_bytes_needed()
  // skips measuring that).
  static ProgramStatus memory_needed(const void* data, size_t size, MemoryFigures* figures,
                                     const LoadOptions& options = {});

  // The file and the arena must outlive the runner (it keeps pointers into both).
  ProgramStatus load(const void* data, size_t size, void* arena, size_t arena_size, const LoadOptions& options = {});
  ProgramStatus run();
  void unload();
  bool loaded() const { return program_ != nullptr; }

  size_t num_inputs() const;
  size_t num_outputs() const;
  TensorInfo input(size_t i) const;
  TensorInfo output(size_t i) const;

  size_t num_instructions() const { return num_instructions_; }
  InstructionKind instruction_kind(size_t i) const;
  const char* instruction_origin(size_t i) const;
  // For delegate calls: the backend name and its handle (a NeutronBackend* for "neutron").
  const char* delegate_backend(size_t i) const;
  void* delegate_handle(size_t i) const;
  const char* tensor_name(int32_t t) const;
  const fb::Program* program() const { return program_; }
  size_t arena_used() const { return arena_used_; }
  // Host-only bytes load() took from LoadOptions::host_state.
  size_t host_used() const { return host_used_; }

 private:
  struct Step;
  TensorInfo info(uint32_t t) const;
  static ProgramStatus figures_impl(const void* data, size_t size, MemoryFigures* figures, const LoadOptions& options,
                                    bool want_host);
  ProgramStatus load_steps(const void* data, size_t size, void* arena, size_t arena_size, const LoadOptions& options);
  ProgramStatus prepare_kernel_calls(Step* st, const fb::Payload* pl, const flatbuffers::Vector<uint32_t>* ins,
                                     const flatbuffers::Vector<uint32_t>* outs, uint8_t* activations, uint8_t* sram,
                                     MemoryAllocator* persistent, MemoryAllocator* host, int32_t ii);

  const fb::Program* program_ = nullptr;
  uint8_t* arena_ = nullptr;
  void** tensor_data_ = nullptr;  // per tensor: its storage
  Step* steps_ = nullptr;
  size_t num_instructions_ = 0;
  size_t arena_used_ = 0;
  size_t host_used_ = 0;
};

}  // namespace neutron::runtime
