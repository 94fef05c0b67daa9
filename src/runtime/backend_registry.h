// Backends by name (ExecuTorch's backend registry): the program runner looks up each
// DelegateCall's backend here. Embedded-grade: a fixed table, no heap; backends are objects
// with static storage owned by whoever registers them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "runtime/neutron_backend.h"

namespace neutron::runtime {

class Backend {
 public:
  // Persistent bytes init() takes from its allocator for this payload (upper bound).
  virtual Error persistent_bytes(const uint8_t* payload, size_t size, size_t* bytes) const = 0;
  // Host-only bytes init() takes from its `host` allocator (state a device would not hold, such
  // as a simulator's repacked weights); 0 by default.
  virtual Error host_bytes(const uint8_t* payload, size_t size, size_t* bytes) const {
    (void)payload;
    (void)size;
    *bytes = 0;
    return Error::Ok;
  }
  // Parses and prepares one compiled partition; `*handle` identifies it afterwards. The payload
  // must stay alive and 16-byte aligned until destroy(). `host` (may be null) is for host-only state.
  virtual Error init(const uint8_t* payload, size_t size, MemoryAllocator* persistent, MemoryAllocator* host,
                     void** handle) const = 0;
  // Bytes of activation memory the partition needs at once (planned by the compiler).
  virtual Error activation_bytes(const uint8_t* payload, size_t size, size_t* bytes) const = 0;
  // InvalidProgram when the per-call working memory [working_offset, + working_bytes) overlaps
  // any activation tensor of the partition placed at `activations_offset` (offsets in one
  // arena). The working memory lives for the whole call; activations may share addresses only
  // with each other, as the compiler's liveness allows.
  virtual Error check_working_memory(const uint8_t* payload, size_t size, uint64_t activations_offset,
                                     uint64_t working_offset, uint64_t working_bytes) const = 0;
  // Runs it on `args` (inputs, then outputs): activations at `activations` (activation_bytes(),
  // 16-byte aligned; may reuse memory of args no longer read, as the compiler planned), other
  // working memory from `temp`.
  virtual Error execute(void* handle, MemoryAllocator* temp, const TensorArg* args, size_t num_args,
                        void* activations) const = 0;
  virtual void destroy(void* handle) const = 0;
  // A static description of the handle's last error.
  virtual const char* last_error(void* handle) const = 0;
  // Why persistent_bytes() or activation_bytes() refused this payload, as a static message (the
  // payload parser's or the driver's reason), for the program runner's error.
  virtual const char* payload_error(const uint8_t* payload, size_t size) const {
    (void)payload;
    (void)size;
    return "delegate payload rejected by its backend";
  }

 protected:
  ~Backend() = default;
};

constexpr size_t kMaxBackends = 8;

// Errors: InvalidArgument (null or empty name, null backend), OutOfMemory (table full);
// registering a name again replaces the backend.
Error register_backend(const char* name, const Backend* backend);
// nullptr when no backend has this name.
const Backend* find_backend(const char* name);
// Registers the backends this runtime ships: "neutron" (NeutronBackend over the Neutron driver).
// Idempotent; the program runner calls it.
void register_builtin_backends();

// The "neutron" backend: a NeutronBackend per partition, in persistent memory.
class NeutronDelegate final : public Backend {
 public:
  Error persistent_bytes(const uint8_t* payload, size_t size, size_t* bytes) const override;
  Error host_bytes(const uint8_t* payload, size_t size, size_t* bytes) const override;
  Error init(const uint8_t* payload, size_t size, MemoryAllocator* persistent, MemoryAllocator* host,
             void** handle) const override;
  Error activation_bytes(const uint8_t* payload, size_t size, size_t* bytes) const override;
  Error check_working_memory(const uint8_t* payload, size_t size, uint64_t activations_offset, uint64_t working_offset,
                             uint64_t working_bytes) const override;
  Error execute(void* handle, MemoryAllocator* temp, const TensorArg* args, size_t num_args,
                void* activations) const override;
  void destroy(void* handle) const override;
  const char* last_error(void* handle) const override;
  const char* payload_error(const uint8_t* payload, size_t size) const override;
};

}  // namespace neutron::runtime
