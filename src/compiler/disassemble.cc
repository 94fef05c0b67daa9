// The payload disassembler: what the runtime reads (runtime/payload.h) and what every instruction
// asks the NPU to do, with the args named field by field (compiler/args_format.h).
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "compiler/args_format.h"
#include "compiler/compiler.h"
#include "runtime/payload.h"

namespace neutron::compiler {
namespace {

const char* region_text(uint8_t r) {
  static const char* k[] = {"input", "output", "scratch", "weights", "sram"};
  return r < 5 ? k[r] : "?";
}
const char* elem_text(uint8_t e) {
  static const char* k[] = {"i8", "i32", "i16", "u8", "i64", "f32"};
  return e < 6 ? k[e] : "?";
}
std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof(b), "%08x", v);
  return b;
}
uint32_t fnv1a(const uint8_t* d, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ d[i]) * 16777619u;
  return h;
}

// Loads `n` int32 words at `offset` of the weights, or false when outside.
bool load_words(const runtime::PayloadView& v, uint32_t offset, size_t n, std::vector<int32_t>* out) {
  if (uint64_t(offset) + n * 4 > v.weights_size) return false;
  out->resize(n);
  if (n) std::memcpy(out->data(), v.weights + offset, n * 4);
  return true;
}

// The requantization constants of Conv and FullyConnected calls (up to 16 channels shown).
void print_constants(std::ostringstream& os, const runtime::PayloadView& v, npu::Opcode op,
                     const std::vector<uint32_t>& w) {
  uint32_t bias_off, mult_off;
  size_t channels, mults;
  if ((op == npu::Opcode::kConv2D || op == npu::Opcode::kDepthwiseConv2D) && w.size() * 4 == sizeof(npu::ConvArgs)) {
    npu::ConvArgs a;
    std::memcpy(&a, w.data(), sizeof(a));
    const npu::TensorDesc out = v.mc.tensor(a.output);
    bias_off = a.bias_offset;
    mult_off = a.multipliers_offset;
    channels = mults = size_t(out.dims[3]);
  } else if (op == npu::Opcode::kFullyConnected && w.size() * 4 == sizeof(npu::FullyConnectedArgs)) {
    npu::FullyConnectedArgs a;
    std::memcpy(&a, w.data(), sizeof(a));
    bias_off = a.bias_offset;
    mult_off = a.multipliers_offset;
    channels = size_t(a.out_features < 0 ? 0 : a.out_features);
    mults = a.per_channel ? channels : 1;
  } else {
    return;
  }
  constexpr size_t kShown = 16;
  std::vector<int32_t> bias, mult;
  if (!load_words(v, bias_off, std::min(channels, kShown), &bias) ||
      !load_words(v, mult_off, 2 * std::min(mults, kShown), &mult)) {
    os << "      (constants outside the weights section)\n";
    return;
  }
  os << "      bias[" << channels << "]={";
  for (size_t i = 0; i < bias.size(); ++i) os << (i ? "," : "") << bias[i];
  os << (channels > kShown ? ",..." : "") << "}\n      multipliers[" << mults << "]={";
  for (size_t i = 0; i + 1 < mult.size(); i += 2) os << (i ? "," : "") << mult[i] << ">>" << mult[i + 1];
  os << (mults > kShown ? ",..." : "") << "}\n";
}

}  // namespace

std::string disassemble_payload(const uint8_t* data, size_t size) {
  std::ostringstream os;
  // parse_payload() wants 16-byte aligned memory; disassemble from an aligned copy.
  std::vector<uint64_t> aligned((size + 7) / 8 + 2, 0);
  uint8_t* buf = reinterpret_cast<uint8_t*>(aligned.data());
  if (reinterpret_cast<uintptr_t>(buf) % 16 != 0) buf += 8;
  if (size) std::memcpy(buf, data, size);
  os << "payload: " << size << " bytes\n";
  runtime::PayloadView v;
  const runtime::PayloadStatus st = runtime::parse_payload(buf, size, &v);
  if (size >= 3) {
    os << "header: " << int(buf[0]) << " inputs, " << int(buf[1]) << " outputs, " << int(buf[2]) << " input args";
    if (st.ok()) os << ", version " << int(v.version) << ", " << v.header_size << " bytes";
    os << "\n";
  }
  if (!st.ok()) {
    os << "error: " << to_string(st.error) << ": " << st.message << "\n";
    return os.str();
  }
  for (int i = 0; i < v.num_inputs; ++i)
    os << "  input " << i << " <- arg " << int(v.input_map[i]) << (v.input_flags[i] ? ", channels-last (NCHW arg converted on the CPU)" : "")
       << "\n";
  for (int j = 0; j < v.num_outputs; ++j)
    os << "  output " << j << " -> arg " << int(v.num_input_args) + int(v.output_map[j]) << " (output "
       << int(v.output_map[j]) << ")" << (v.output_flags[j] ? ", channels-last (converted to NCHW on the CPU)" : "") << "\n";
  const npu::MicrocodeView& mc = v.mc;
  os << "microcode: " << v.microcode_size << " bytes at " << v.header_size << ", format v" << mc.header[npu::kWordFormatVersion]
     << ", magic " << hex32(mc.header[npu::kWordMagic]) << "\n";
  os << "  scratch " << mc.scratch_size() << ", sram scratch " << mc.sram_scratch_size() << ", profile "
     << mc.profile_size() << ", debug " << mc.debug_size() << ", inputs " << mc.num_inputs() << ", outputs "
     << mc.num_outputs() << "\n";
  os << "weights: " << v.weights_size << " bytes at " << (v.weights - buf) << ", fnv1a " << hex32(fnv1a(v.weights, v.weights_size))
     << "\n";
  os << "kernels: " << v.kernels_size << " bytes\n";
  os << "tensors: " << mc.num_tensors() << "\n";
  for (uint32_t i = 0; i < mc.num_tensors(); ++i) {
    const npu::TensorDesc d = mc.tensor(i);
    os << "  t" << i << " " << region_text(d.region);
    if (d.region == uint8_t(npu::Region::kInput) || d.region == uint8_t(npu::Region::kOutput)) os << "[" << d.index << "]";
    os << "+" << d.offset << " " << elem_text(d.elem_type) << "[" << d.dims[0] << "," << d.dims[1] << "," << d.dims[2]
       << "," << d.dims[3] << "] " << d.size << " bytes, zp " << d.zero_point << "\n";
  }
  os << "instructions: " << mc.num_instructions() << "\n";
  npu::InstructionCursor cur(mc);
  npu::Instruction inst;
  uint32_t k = 0;
  while (cur.next(&inst)) {
    std::vector<uint32_t> words(inst.arg_words);
    if (!words.empty()) std::memcpy(words.data(), inst.args, words.size() * 4);
    os << "  " << k++ << " " << npu::opcode_name(inst.opcode) << " " << format_args(inst.opcode, words.data(), inst.arg_words)
       << "\n";
    print_constants(os, v, inst.opcode, words);
  }
  return os.str();
}

}  // namespace neutron::compiler
