#include "runtime/payload.h"

#include "npu/microcode_format.h"

namespace neutron::runtime {
namespace {

PayloadStatus fail(Error e, const char* message) {
  PayloadStatus s;
  s.error = e;
  s.message = message;
  return s;
}

}  // namespace

PayloadStatus parse_payload(const uint8_t* data, size_t size, PayloadView* out) {
  if (data == nullptr || out == nullptr) return fail(Error::InvalidArgument, "payload is null");
  if (reinterpret_cast<uintptr_t>(data) % npu::kAlignment != 0)
    return fail(Error::InvalidArgument, "payload is not 16-byte aligned");
  if (size < 4) return fail(Error::InvalidModel, "payload shorter than its header");
  PayloadView v;
  v.num_inputs = data[0];
  v.num_outputs = data[1];
  v.num_input_args = data[2];
  const size_t header_bytes = 4 + 2 * size_t(v.num_inputs) + 2 * size_t(v.num_outputs);
  v.header_size = npu::align16(header_bytes);
  if (v.header_size > size) return fail(Error::InvalidModel, "payload header longer than the payload");
  v.input_flags = data + 3;
  v.output_flags = v.input_flags + v.num_inputs;
  v.input_map = v.output_flags + v.num_outputs;
  v.output_map = v.input_map + v.num_inputs;
  v.version = v.output_map[v.num_outputs];
  if (v.version != npu::kPayloadVersion) return fail(Error::InvalidProgram, "unknown payload version");
  for (size_t i = header_bytes; i < v.header_size; ++i)
    if (data[i] != 0) return fail(Error::InvalidModel, "payload header padding is not zero");
  for (uint8_t i = 0; i < v.num_inputs; ++i) {
    if (v.input_flags[i] > 1) return fail(Error::InvalidModel, "payload input flag is neither 0 nor 1");
    if (v.input_map[i] >= v.num_input_args) return fail(Error::InvalidModel, "payload input map points past the inputs");
  }
  for (uint8_t j = 0; j < v.num_outputs; ++j) {
    if (v.output_flags[j] > 1) return fail(Error::InvalidModel, "payload output flag is neither 0 nor 1");
    for (uint8_t k = 0; k < j; ++k)
      if (v.output_map[k] == v.output_map[j]) return fail(Error::InvalidModel, "two payload outputs map to one arg");
  }

  // Microcode: validated against what is left of the payload, then the weights and kernels.
  v.microcode = data + v.header_size;
  const size_t rest = size - v.header_size;
  npu::ValidationResult r = npu::validate_microcode(v.microcode, rest, SIZE_MAX, &v.mc);
  if (!r.ok()) return fail(r.error, r.message);
  v.microcode_size = v.mc.size;
  const size_t weights_at = npu::align16(v.microcode_size);
  if (weights_at > rest) return fail(Error::InvalidModel, "microcode padding runs past the payload");
  v.weights = v.microcode + weights_at;
  v.weights_size = v.mc.weights_size();
  if (v.weights_size > rest - weights_at) return fail(Error::InvalidModel, "weights run past the payload");
  const size_t kernels_at = weights_at + npu::align16(v.weights_size);
  if (kernels_at > rest) return fail(Error::InvalidModel, "weights padding runs past the payload");
  v.kernels = v.microcode + kernels_at;
  v.kernels_size = rest - kernels_at;
  // Zero points inside their element's range (the reader does not check them; the kernels' int32
  // arithmetic assumes it).
  for (uint32_t i = 0; i < v.mc.num_tensors(); ++i) {
    const npu::TensorDesc d = v.mc.tensor(i);
    const int32_t z = d.zero_point;
    bool ok = true;
    switch (static_cast<npu::ElemType>(d.elem_type)) {
      case npu::ElemType::kInt8: ok = z >= -128 && z <= 127; break;
      case npu::ElemType::kUint8: ok = z >= 0 && z <= 255; break;
      case npu::ElemType::kInt16: ok = z >= -32768 && z <= 32767; break;
      case npu::ElemType::kInt32:
      case npu::ElemType::kInt64:
      case npu::ElemType::kFloat32: ok = z == 0; break;
    }
    if (!ok) return fail(Error::InvalidModel, "tensor zero point outside its element's range");
  }
  if (v.mc.num_inputs() != v.num_inputs)
    return fail(Error::InvalidModel, "microcode input count differs from the payload header");
  if (v.mc.num_outputs() != v.num_outputs)
    return fail(Error::InvalidModel, "microcode output count differs from the payload header");
  *out = v;
  return PayloadStatus();
}

uint64_t payload_io_bytes(const npu::MicrocodeView& mc, npu::Region region, uint32_t index) {
  uint64_t end = 0;
  for (uint32_t i = 0; i < mc.num_tensors(); ++i) {
    const npu::TensorDesc d = mc.tensor(i);
    if (d.region == uint8_t(region) && d.index == index && uint64_t(d.offset) + d.size > end) end = uint64_t(d.offset) + d.size;
  }
  return end;
}

}  // namespace neutron::runtime
