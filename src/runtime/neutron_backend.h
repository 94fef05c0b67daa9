// The Neutron delegate's runtime backend (upstream ExecuTorch backends/nxp/runtime/NeutronBackend.cpp,
// neutron-backend-facts.md §6.4-6.5), embedded-grade: no exceptions, no heap, no compiler code.
// Memory comes from caller-supplied allocators: the model context from the one given to init(),
// everything an execution needs (scratch, profile and debug buffers, NCHW<->NHWC staging buffers,
// the driver's pointer arrays) from the one given to execute(), which the caller resets between
// executions (ExecuTorch's per-execution temp allocator).
//
//   NeutronBackend b;
//   Error e = b.init(payload, payload_size, &method_allocator);  // parse, validate, neutronModelPrepare
//   e = b.execute(&temp_allocator, args, num_args);              // map IO, convert layouts, neutronRunBlocking
//   b.destroy();                                                  // neutronModelUnprepare
//
// The application calls neutronInit() before init() and neutronDeinit() after destroy(), as
// upstream requires.
//
// args (ExecuTorch's delegate args): the delegate's payload-header byte 2 inputs, then its
// outputs. Each is a TensorArg: data, element size, sizes in the logical (NCHW) order and the
// dim order (outermost memory dim first; contiguous = 0,1,...,r-1; channels-last = 0,2,..,r-1,1).
// For an IO whose payload flag is set (the NPU reads/writes NHWC) and whose channel dim (size at
// rank - 3) is not 1: a channels-last arg is passed as is, a contiguous (NCHW) one is transposed
// on the CPU through a staging buffer (leading dims folded into N; element size 1); any other dim
// order is an error. Every other arg must be contiguous in memory (dims of size 1 ignored).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "runtime/payload.h"

namespace neutron::runtime {

// A bump allocator over caller memory (ExecuTorch's MemoryAllocator): allocate() returns null
// when the request does not fit; reset() frees everything at once.
class MemoryAllocator {
 public:
  MemoryAllocator(void* base, size_t size) : base_(static_cast<uint8_t*>(base)), size_(base ? size : 0) {}
  void* allocate(size_t bytes, size_t alignment = 16);
  void reset() { used_ = 0; }
  size_t used() const { return used_; }
  size_t size() const { return size_; }

 private:
  uint8_t* base_;
  size_t size_;
  size_t used_ = 0;
};

constexpr uint32_t kMaxTensorRank = 8;

struct TensorArg {
  void* data = nullptr;
  uint32_t elem_size = 1;  // bytes per element
  uint32_t rank = 0;
  int32_t sizes[kMaxTensorRank] = {};
  uint8_t dim_order[kMaxTensorRank] = {};

  size_t nbytes() const;
};

// Fills a TensorArg (dim order contiguous unless `channels_last`, which needs rank >= 3).
TensorArg make_tensor_arg(void* data, uint32_t elem_size, const int32_t* sizes, uint32_t rank, bool channels_last = false);

class NeutronBackend {
 public:
  NeutronBackend() = default;
  NeutronBackend(const NeutronBackend&) = delete;
  NeutronBackend& operator=(const NeutronBackend&) = delete;
  ~NeutronBackend() { destroy(); }

  // Parses and validates the payload (which must stay alive, 16-byte aligned), allocates the
  // driver's model context from `allocator` and prepares the model. With `host`, the simulator's
  // conv and FC weights are repacked for the host's SIMD kernels into memory from it (host-only
  // state, host_bytes_for() bytes); without, they are read in place. Errors: InvalidArgument,
  // InvalidModel / InvalidProgram (payload), OutOfMemory (allocator), DelegateFailed (driver;
  // last_driver_error() has its code).
  Error init(const uint8_t* payload, size_t size, MemoryAllocator* allocator, MemoryAllocator* host = nullptr);
  // Host-only bytes init() takes from `host` for this payload (upper bound, alignment included).
  static Error host_bytes_for(const uint8_t* payload, size_t size, size_t* bytes);

  // Runs one inference. Errors: InvalidArgument (args that do not match the payload), OutOfMemory
  // (temp allocator), DelegateFailed (driver), InvalidProgram when not initialized.
  Error execute(MemoryAllocator* temp, const TensorArg* args, size_t num_args);
  // The same with the microcode's activation scratch (header word 9 bytes, 16-byte aligned) at
  // `activations` instead of from `temp` (a program's memory plan places it; null = from temp).
  Error execute(MemoryAllocator* temp, const TensorArg* args, size_t num_args, void* activations);

  // Releases the driver's model (idempotent). The memory belongs to the caller's allocators.
  void destroy();

  bool initialized() const { return handle_ != nullptr; }
  // A static description of the last error ("ok" if none) and the driver's error code (0 if none).
  const char* last_error() const { return message_; }
  int32_t last_driver_error() const { return driver_error_; }
  const PayloadView& payload() const { return view_; }
  // Bytes execute() takes from the temp allocator for `args` (upper bound, alignment included).
  size_t temp_bytes_needed(const TensorArg* args, size_t num_args) const;
  // The same for a parsed payload before init() (the compiler plans this memory; args' data
  // pointers are not read).
  static size_t temp_bytes_for(const PayloadView& payload, const TensorArg* args, size_t num_args,
                               bool with_activations = true);
  // The driver's model handle (NeutronModelHandle) for neutronGetRunStats and friends.
  void* driver_handle() const { return handle_; }

 private:
  Error fail(Error e, const char* message, int32_t driver_error = 0) {
    message_ = message;
    driver_error_ = driver_error;
    return e;
  }

  PayloadView view_;
  void* handle_ = nullptr;  // NeutronModelHandle
  const char* message_ = "ok";
  int32_t driver_error_ = 0;
};

}  // namespace neutron::runtime
