#include "runtime/neutron_backend.h"

#include <cstring>

#include "driver/neutron_driver.h"
#include "kernels/layout_int8.h"

namespace neutron::runtime {
namespace {

constexpr uint32_t kTimeoutSeconds = 60;  // upstream sets the driver timeout explicitly

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// The memory order of `t`'s dims with size-1 dims dropped equals that of `order`.
bool same_memory_order(const TensorArg& t, const uint8_t* order) {
  uint32_t i = 0, j = 0;
  while (true) {
    while (i < t.rank && t.sizes[t.dim_order[i]] == 1) ++i;
    while (j < t.rank && t.sizes[order[j]] == 1) ++j;
    if (i == t.rank || j == t.rank) return i == t.rank && j == t.rank;
    if (t.dim_order[i] != order[j]) return false;
    ++i;
    ++j;
  }
}
bool is_contiguous(const TensorArg& t) {
  uint8_t order[kMaxTensorRank];
  for (uint32_t k = 0; k < t.rank; ++k) order[k] = uint8_t(k);
  return same_memory_order(t, order);
}
bool is_channels_last(const TensorArg& t) {
  if (t.rank < 3) return false;
  uint8_t order[kMaxTensorRank];
  order[0] = 0;
  for (uint32_t k = 2; k < t.rank; ++k) order[k - 1] = uint8_t(k);
  order[t.rank - 1] = 1;
  return same_memory_order(t, order);
}
bool valid_arg(const TensorArg& t) {
  if (t.rank > kMaxTensorRank) return false;
  bool seen[kMaxTensorRank] = {};
  for (uint32_t k = 0; k < t.rank; ++k) {
    if (t.sizes[k] < 0 || t.dim_order[k] >= t.rank || seen[t.dim_order[k]]) return false;
    seen[t.dim_order[k]] = true;
  }
  return true;
}

// How one IO reaches the NPU.
enum class IoPath { kDirect, kStaged };
struct IoPlan {
  IoPath path = IoPath::kDirect;
  const char* error = nullptr;  // static message when the arg cannot be used
};

IoPlan plan_io(const TensorArg& t, bool flag, uint64_t expected_bytes) {
  IoPlan p;
  if (!valid_arg(t)) {
    p.error = "tensor arg has a rank above 8, a negative size or a dim order that is not a permutation";
    return p;
  }
  if (t.data == nullptr && expected_bytes > 0) {
    p.error = "tensor arg has no data";
    return p;
  }
  if (t.elem_size != 1) {
    p.error = "tensor arg element size is not 1 (the NPU runs int8)";
    return p;
  }
  if (t.nbytes() != expected_bytes) {
    p.error = "tensor arg size differs from the payload's tensor";
    return p;
  }
  const bool multi_channel = t.rank < 3 || t.sizes[t.rank - 3] != 1;
  if (flag && multi_channel) {
    if (t.rank < 3) {
      p.error = "channels-last IO needs a tensor of rank 3 or more";
    } else if (is_channels_last(t)) {
      p.path = IoPath::kDirect;
    } else if (is_contiguous(t)) {
      p.path = IoPath::kStaged;
    } else {
      p.error = "channels-last IO: dim order is neither contiguous nor channels-last";
    }
    return p;
  }
  if (!is_contiguous(t)) p.error = "tensor arg dim order is not contiguous";
  return p;
}

// N (all leading dims), C, H*W of a rank >= 3 arg in logical (NCHW) order.
void nchw_extent(const TensorArg& t, int64_t* n, int64_t* c, int64_t* hw) {
  *n = 1;
  for (uint32_t k = 0; k + 3 < t.rank; ++k) *n *= t.sizes[k];
  *c = t.sizes[t.rank - 3];
  *hw = int64_t(t.sizes[t.rank - 2]) * t.sizes[t.rank - 1];
}

}  // namespace

void* MemoryAllocator::allocate(size_t bytes, size_t alignment) {
  if (base_ == nullptr || alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(base_) + used_;
  const uintptr_t aligned = (start + alignment - 1) & ~uintptr_t(alignment - 1);
  const size_t offset = size_t(aligned - reinterpret_cast<uintptr_t>(base_));
  if (offset > size_ || bytes > size_ - offset) return nullptr;
  used_ = offset + bytes;
  return base_ + offset;
}

size_t TensorArg::nbytes() const {
  size_t n = elem_size;
  for (uint32_t k = 0; k < rank && k < kMaxTensorRank; ++k) n *= size_t(sizes[k] < 0 ? 0 : sizes[k]);
  return n;
}

TensorArg make_tensor_arg(void* data, uint32_t elem_size, const int32_t* sizes, uint32_t rank, bool channels_last) {
  TensorArg t;
  t.data = data;
  t.elem_size = elem_size;
  t.rank = rank > kMaxTensorRank ? kMaxTensorRank : rank;
  for (uint32_t k = 0; k < t.rank; ++k) {
    t.sizes[k] = sizes[k];
    t.dim_order[k] = uint8_t(k);
  }
  if (channels_last && t.rank >= 3) {
    t.dim_order[0] = 0;
    for (uint32_t k = 2; k < t.rank; ++k) t.dim_order[k - 1] = uint8_t(k);
    t.dim_order[t.rank - 1] = 1;
  }
  return t;
}

Error NeutronBackend::init(const uint8_t* payload, size_t size, MemoryAllocator* allocator, MemoryAllocator* host) {
  if (handle_ != nullptr) return fail(Error::InvalidArgument, "backend already initialized");
  if (allocator == nullptr) return fail(Error::InvalidArgument, "no allocator for the model context");
  PayloadView v;
  const PayloadStatus st = parse_payload(payload, size, &v);
  if (!st.ok()) return fail(st.error, st.message);

  NeutronModelConfig mcfg;
  std::memset(&mcfg, 0, sizeof(mcfg));
  mcfg.microcode = v.microcode;
  mcfg.weights = v.weights;
  mcfg.kernels = v.kernels_size ? v.kernels : nullptr;
  mcfg.timeoutSeconds = kTimeoutSeconds;
  mcfg.microcodeSize = v.microcode_size;
  mcfg.weightsSize = v.weights_size;
  size_t context = 0;
  NeutronError ne = neutronGetModelContextSizeForModel(&mcfg, &context);
  if (ne != ENONE) return fail(Error::InvalidProgram, neutronGetLastErrorMessage(), ne);
  void* memory = allocator->allocate(context < 16 ? 16 : context, 16);
  if (memory == nullptr) return fail(Error::OutOfMemory, "allocator cannot hold the driver's model context");
  mcfg.contextSize = context;
  if (host != nullptr) {  // the simulator's weights repacked for the host's SIMD kernels
    size_t host_bytes = 0;
    ne = neutronGetModelHostStateSize(&mcfg, &host_bytes);
    if (ne != ENONE) return fail(Error::InvalidProgram, neutronGetLastErrorMessage(), ne);
    mcfg.hostState = host->allocate(host_bytes, 16);
    mcfg.hostStateSize = host_bytes;
    if (mcfg.hostState == nullptr) return fail(Error::OutOfMemory, "host allocator cannot hold the repacked weights");
  }
  NeutronModelHandle h = memory;
  ne = neutronModelPrepare(&mcfg, &h);
  if (ne != ENONE) return fail(Error::InvalidProgram, neutronGetLastErrorMessage(), ne);
  handle_ = h;
  view_ = v;
  return fail(Error::Ok, "ok");
}

Error NeutronBackend::host_bytes_for(const uint8_t* payload, size_t size, size_t* bytes) {
  PayloadView v;
  const PayloadStatus st = parse_payload(payload, size, &v);
  if (!st.ok()) return st.error;
  NeutronModelConfig mcfg;
  std::memset(&mcfg, 0, sizeof(mcfg));
  mcfg.microcode = v.microcode;
  mcfg.weights = v.weights;
  mcfg.kernels = v.kernels_size ? v.kernels : nullptr;
  mcfg.microcodeSize = v.microcode_size;
  mcfg.weightsSize = v.weights_size;
  size_t n = 0;
  if (neutronGetModelHostStateSize(&mcfg, &n) != ENONE) return neutronIsInitialized() ? Error::InvalidProgram : Error::DelegateFailed;
  *bytes = align_up(n, 16) + 16;
  return Error::Ok;
}

size_t NeutronBackend::temp_bytes_needed(const TensorArg* args, size_t num_args) const {
  return temp_bytes_for(view_, args, num_args);
}

size_t NeutronBackend::temp_bytes_for(const PayloadView& v, const TensorArg* args, size_t num_args,
                                      bool with_activations) {
  const npu::MicrocodeView& mc = v.mc;
  size_t n = 0;
  auto add = [&](size_t bytes) { n = align_up(n, 16) + bytes + 16; };
  // A flagged multi-channel IO passed contiguous (NCHW) goes through a staging buffer.
  auto staged = [](const TensorArg& t) {
    return valid_arg(t) && t.rank >= 3 && t.sizes[t.rank - 3] != 1 && !is_channels_last(t) && is_contiguous(t);
  };
  add(sizeof(void*) * v.num_inputs);
  add(sizeof(void*) * (size_t(v.num_outputs) + 3));
  if (with_activations) add(mc.scratch_size() ? mc.scratch_size() : 16);
  add(mc.profile_size());
  add(mc.debug_size());
  add(mc.sram_scratch_size());
  for (uint32_t i = 0; i < v.num_inputs; ++i) {
    const size_t a = v.input_map[i];
    if (a < num_args && v.input_flags[i] && staged(args[a])) add(args[a].nbytes());
  }
  for (uint32_t j = 0; j < v.num_outputs; ++j) {
    const size_t a = size_t(v.num_input_args) + v.output_map[j];
    if (a < num_args && v.output_flags[j] && staged(args[a])) add(args[a].nbytes());
  }
  return n;
}

Error NeutronBackend::execute(MemoryAllocator* temp, const TensorArg* args, size_t num_args) {
  return execute(temp, args, num_args, nullptr);
}

Error NeutronBackend::execute(MemoryAllocator* temp, const TensorArg* args, size_t num_args, void* activations) {
  if (activations != nullptr && (reinterpret_cast<uintptr_t>(activations) & 15) != 0)
    return fail(Error::InvalidArgument, "activation memory must be 16-byte aligned");
  if (handle_ == nullptr) return fail(Error::InvalidProgram, "backend not initialized");
  if (temp == nullptr) return fail(Error::InvalidArgument, "no temp allocator");
  const PayloadView& v = view_;
  const npu::MicrocodeView& mc = v.mc;
  if (num_args < v.num_input_args) return fail(Error::InvalidArgument, "fewer args than the payload's inputs");
  if (args == nullptr && num_args > 0) return fail(Error::InvalidArgument, "args is null");
  for (uint32_t j = 0; j < v.num_outputs; ++j)
    if (size_t(v.num_input_args) + v.output_map[j] >= num_args)
      return fail(Error::InvalidArgument, "fewer args than the payload's outputs");

  auto inputs = static_cast<const void**>(temp->allocate(sizeof(void*) * (v.num_inputs ? v.num_inputs : 1), 16));
  auto outputs = static_cast<void**>(temp->allocate(sizeof(void*) * (size_t(v.num_outputs) + 3), 16));
  if (inputs == nullptr || outputs == nullptr) return fail(Error::OutOfMemory, "temp allocator cannot hold the IO tables");

  // Inputs: direct, or NCHW -> NHWC into a staging buffer.
  for (uint32_t i = 0; i < v.num_inputs; ++i) {
    const TensorArg& t = args[v.input_map[i]];
    const IoPlan p = plan_io(t, v.input_flags[i] != 0, payload_io_bytes(mc, npu::Region::kInput, i));
    if (p.error) return fail(Error::InvalidArgument, p.error);
    if (p.path == IoPath::kDirect) {
      inputs[i] = t.data;
      continue;
    }
    auto staged = static_cast<int8_t*>(temp->allocate(t.nbytes(), 16));
    if (staged == nullptr) return fail(Error::OutOfMemory, "temp allocator cannot hold an input's NHWC copy");
    int64_t n, c, hw;
    nchw_extent(t, &n, &c, &hw);
    nchw_to_nhwc_int8(static_cast<const int8_t*>(t.data), staged, n, c, hw);
    inputs[i] = staged;
  }
  // Outputs: direct, or the NPU writes NHWC into a staging buffer transposed afterwards.
  int8_t* staged_out[256] = {};
  for (uint32_t j = 0; j < v.num_outputs; ++j) {
    const TensorArg& t = args[size_t(v.num_input_args) + v.output_map[j]];
    const IoPlan p = plan_io(t, v.output_flags[j] != 0, payload_io_bytes(mc, npu::Region::kOutput, j));
    if (p.error) return fail(Error::InvalidArgument, p.error);
    if (p.path == IoPath::kDirect) {
      outputs[j] = t.data;
      continue;
    }
    staged_out[j] = static_cast<int8_t*>(temp->allocate(t.nbytes(), 16));
    if (staged_out[j] == nullptr) return fail(Error::OutOfMemory, "temp allocator cannot hold an output's NHWC copy");
    outputs[j] = staged_out[j];
  }
  void* scratch = activations ? activations : temp->allocate(mc.scratch_size() ? mc.scratch_size() : 16, 16);
  void* profile = mc.profile_size() ? temp->allocate(mc.profile_size(), 16) : nullptr;
  void* debug = mc.debug_size() ? temp->allocate(mc.debug_size(), 16) : nullptr;
  void* sram = mc.sram_scratch_size() ? temp->allocate(mc.sram_scratch_size(), 16) : nullptr;
  if (scratch == nullptr || (mc.profile_size() && profile == nullptr) || (mc.debug_size() && debug == nullptr) ||
      (mc.sram_scratch_size() && sram == nullptr))
    return fail(Error::OutOfMemory, "temp allocator cannot hold the scratch, profile, debug or SRAM buffers");
  outputs[v.num_outputs] = scratch;
  outputs[v.num_outputs + 1] = profile;
  outputs[v.num_outputs + 2] = debug;

  NeutronDataConfig dcfg;
  dcfg.inputs = inputs;
  dcfg.outputs = outputs;
  dcfg.scratch = scratch;
  dcfg.scratchWeights = sram;
  const NeutronError ne = neutronRunBlocking(handle_, &dcfg);
  if (ne != ENONE) return fail(Error::DelegateFailed, neutronGetLastErrorMessage(), ne);

  for (uint32_t j = 0; j < v.num_outputs; ++j) {
    if (staged_out[j] == nullptr) continue;
    const TensorArg& t = args[size_t(v.num_input_args) + v.output_map[j]];
    int64_t n, c, hw;
    nchw_extent(t, &n, &c, &hw);
    nhwc_to_nchw_int8(staged_out[j], static_cast<int8_t*>(t.data), n, c, hw);
  }
  return fail(Error::Ok, "ok");
}

void NeutronBackend::destroy() {
  if (handle_ != nullptr) neutronModelUnprepare(handle_);
  handle_ = nullptr;
  view_ = PayloadView();
}

}  // namespace neutron::runtime
