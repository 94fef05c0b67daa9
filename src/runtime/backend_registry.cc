#include "runtime/backend_registry.h"

#include <cstring>
#include <new>

#include "driver/neutron_driver.h"

namespace neutron::runtime {
namespace {

struct Entry {
  const char* name;
  const Backend* backend;
};
Entry g_backends[kMaxBackends];
size_t g_num_backends = 0;

}  // namespace

Error register_backend(const char* name, const Backend* backend) {
  if (name == nullptr || name[0] == '\0' || backend == nullptr) return Error::InvalidArgument;
  for (size_t i = 0; i < g_num_backends; ++i)
    if (std::strcmp(g_backends[i].name, name) == 0) {
      g_backends[i].backend = backend;
      return Error::Ok;
    }
  if (g_num_backends == kMaxBackends) return Error::OutOfMemory;
  g_backends[g_num_backends++] = Entry{name, backend};
  return Error::Ok;
}

const Backend* find_backend(const char* name) {
  if (name == nullptr) return nullptr;
  for (size_t i = 0; i < g_num_backends; ++i)
    if (std::strcmp(g_backends[i].name, name) == 0) return g_backends[i].backend;
  return nullptr;
}

void register_builtin_backends() {
  static const NeutronDelegate neutron;
  if (find_backend("neutron") == nullptr) register_backend("neutron", &neutron);
}

namespace {

// Parses the payload and asks the driver for its model context size; `*message` (static) says why
// when it fails.
Error check_payload(const uint8_t* payload, size_t size, size_t* context, const char** message) {
  PayloadView v;
  const PayloadStatus st = parse_payload(payload, size, &v);
  if (!st.ok()) {
    *message = st.message;
    return st.error;
  }
  NeutronModelConfig mcfg;
  std::memset(&mcfg, 0, sizeof(mcfg));
  mcfg.microcode = v.microcode;
  mcfg.weights = v.weights;
  mcfg.kernels = v.kernels_size ? v.kernels : nullptr;
  mcfg.microcodeSize = v.microcode_size;
  mcfg.weightsSize = v.weights_size;
  if (neutronGetModelContextSizeForModel(&mcfg, context) != ENONE) {
    *message = neutronGetLastErrorMessage();
    return neutronIsInitialized() ? Error::InvalidProgram : Error::DelegateFailed;
  }
  *message = "ok";
  return Error::Ok;
}

}  // namespace

Error NeutronDelegate::persistent_bytes(const uint8_t* payload, size_t size, size_t* bytes) const {
  size_t context = 0;
  const char* message = nullptr;
  const Error e = check_payload(payload, size, &context, &message);
  if (e != Error::Ok) return e;
  // The NeutronBackend object, then the context (both 16-byte aligned, as init allocates them).
  *bytes = (sizeof(NeutronBackend) + 15) / 16 * 16 + 16 + (context < 16 ? 16 : context) + 16;
  return Error::Ok;
}

const char* NeutronDelegate::payload_error(const uint8_t* payload, size_t size) const {
  size_t context = 0;
  const char* message = nullptr;
  return check_payload(payload, size, &context, &message) != Error::Ok ? message : "ok";
}

Error NeutronDelegate::host_bytes(const uint8_t* payload, size_t size, size_t* bytes) const {
  return NeutronBackend::host_bytes_for(payload, size, bytes);
}

Error NeutronDelegate::init(const uint8_t* payload, size_t size, MemoryAllocator* persistent, MemoryAllocator* host,
                            void** handle) const {
  void* mem = persistent->allocate(sizeof(NeutronBackend), 16);
  if (mem == nullptr) return Error::OutOfMemory;
  auto* b = new (mem) NeutronBackend();
  *handle = b;
  return b->init(payload, size, persistent, host);
}

Error NeutronDelegate::activation_bytes(const uint8_t* payload, size_t size, size_t* bytes) const {
  PayloadView v;
  const PayloadStatus st = parse_payload(payload, size, &v);
  if (!st.ok()) return st.error;
  *bytes = v.mc.scratch_size();
  return Error::Ok;
}

Error NeutronDelegate::check_working_memory(const uint8_t* payload, size_t size, uint64_t activations_offset,
                                            uint64_t working_offset, uint64_t working_bytes) const {
  PayloadView v;
  const PayloadStatus st = parse_payload(payload, size, &v);
  if (!st.ok()) return st.error;
  if (working_bytes == 0) return Error::Ok;
  for (uint32_t i = 0; i < v.mc.num_tensors(); ++i) {
    const npu::TensorDesc d = v.mc.tensor(i);
    if (d.region != uint8_t(npu::Region::kScratch) || d.size == 0) continue;
    const uint64_t at = activations_offset + d.offset;
    if (at < working_offset + working_bytes && working_offset < at + d.size) return Error::InvalidProgram;
  }
  return Error::Ok;
}

Error NeutronDelegate::execute(void* handle, MemoryAllocator* temp, const TensorArg* args, size_t num_args,
                               void* activations) const {
  return static_cast<NeutronBackend*>(handle)->execute(temp, args, num_args, activations);
}

void NeutronDelegate::destroy(void* handle) const {
  if (handle == nullptr) return;
  auto* b = static_cast<NeutronBackend*>(handle);
  b->~NeutronBackend();
}

const char* NeutronDelegate::last_error(void* handle) const {
  return handle ? static_cast<NeutronBackend*>(handle)->last_error() : "backend not initialized";
}

}  // namespace neutron::runtime
