#include "npu/microcode_writer.h"

#include <cstring>
#include <sstream>

#include "npu/microcode_reader.h"

namespace neutron::npu {

MicrocodeWriter::MicrocodeWriter() {
  header_[kWordMagic] = kMicrocodeMagic;
  header_[kWordFormatVersion] = kMicrocodeFormatVersion;
}

uint32_t MicrocodeWriter::add_tensor(const TensorDesc& desc) {
  tensors_.push_back(desc);
  return uint32_t(tensors_.size() - 1);
}

uint32_t MicrocodeWriter::add_tensor(Region region, uint16_t index, uint32_t offset, ElemType type,
                                     std::array<int32_t, 4> dims, int32_t zero_point) {
  TensorDesc d;
  std::memset(&d, 0, sizeof(d));
  d.region = uint8_t(region);
  d.elem_type = uint8_t(type);
  d.index = index;
  d.offset = offset;
  uint64_t count = 1;
  for (int k = 0; k < 4; ++k) {
    d.dims[k] = dims[k];
    count *= uint64_t(dims[k] < 0 ? 0 : dims[k]);
  }
  d.size = uint32_t(count * elem_size(uint8_t(type)));
  d.zero_point = zero_point;
  return add_tensor(d);
}

uint32_t MicrocodeWriter::reserve_weights(size_t bytes, size_t alignment) {
  if (alignment < kAlignment) alignment = kAlignment;
  size_t off = (weights_.size() + alignment - 1) & ~(alignment - 1);
  weights_.resize(off + bytes, 0);
  return uint32_t(off);
}

uint32_t MicrocodeWriter::add_weights(const void* data, size_t bytes, size_t alignment) {
  uint32_t off = reserve_weights(bytes, alignment);
  if (bytes > 0) std::memcpy(weights_.data() + off, data, bytes);
  return off;
}

uint32_t MicrocodeWriter::append_raw(Opcode op, const void* args, size_t bytes) {
  const uint32_t want = expected_arg_words(uint16_t(op));
  if (error_.empty() && (want == 0 || bytes != size_t(want) * 4)) {
    error_ = str_cat("instruction ", num_instructions_, " (", opcode_name(op), "): args of ", bytes,
                     " bytes, the opcode takes ", want * 4);
  }
  InstructionHead head{uint16_t(op), uint16_t(bytes / 4)};
  const size_t at = code_.size();
  code_.resize(at + sizeof(head) + (bytes / 4) * 4, 0);
  std::memcpy(code_.data() + at, &head, sizeof(head));
  std::memcpy(code_.data() + at + sizeof(head), args, (bytes / 4) * 4);
  return num_instructions_++;
}

StatusOr<MicrocodeImage> MicrocodeWriter::finish() const {
  if (!error_.empty()) return error(Error::Internal, "microcode writer: ", error_);
  MicrocodeImage img;
  uint32_t h[kMicrocodeHeaderWords];
  std::memcpy(h, header_, sizeof(h));
  const size_t table = kMicrocodeHeaderWords * 4;
  const size_t code = table + tensors_.size() * sizeof(TensorDesc);
  const size_t size = align16(code + code_.size());
  if (size > UINT32_MAX || weights_.size() > UINT32_MAX - kAlignment)
    return error(Error::InvalidModel, "microcode writer: microcode or weights larger than 4 GiB");
  h[kWordNumTensors] = uint32_t(tensors_.size());
  h[kWordTensorTableOffset] = uint32_t(table);
  h[kWordNumInstructions] = num_instructions_;
  h[kWordMicrocodeSize] = uint32_t(size);
  h[kWordInstructionsOffset] = uint32_t(code);
  img.weights = weights_;
  img.weights.resize(align16(weights_.size()), 0);
  h[kWordWeightsSize] = uint32_t(img.weights.size());
  img.microcode.assign(size, 0);
  std::memcpy(img.microcode.data(), h, sizeof(h));
  if (!tensors_.empty())
    std::memcpy(img.microcode.data() + table, tensors_.data(), tensors_.size() * sizeof(TensorDesc));
  if (!code_.empty()) std::memcpy(img.microcode.data() + code, code_.data(), code_.size());

  MicrocodeView view;
  ValidationResult r = validate_microcode(img.microcode.data(), img.microcode.size(), img.weights.size(), &view);
  if (!r.ok()) {
    std::string where;
    if (r.instruction != 0xFFFFFFFFu) where = str_cat(" (instruction ", r.instruction, ")");
    if (r.tensor != 0xFFFFFFFFu) where = str_cat(" (tensor ", r.tensor, ")");
    return error(r.error, "microcode writer: ", r.message, where);
  }
  return img;
}

std::string dump_microcode(const uint8_t* microcode, size_t size) {
  MicrocodeView v;
  ValidationResult r = validate_microcode(microcode, size, SIZE_MAX, &v);
  std::ostringstream os;
  if (!r.ok()) {
    os << "invalid microcode: " << r.message << "\n";
    return os.str();
  }
  os << "microcode v" << v.header[kWordFormatVersion] << ": " << v.size << " bytes, weights "
     << v.weights_size() << ", scratch " << v.scratch_size() << ", sram scratch "
     << v.sram_scratch_size() << ", inputs " << v.num_inputs() << ", outputs " << v.num_outputs()
     << "\n";
  static const char* kRegions[] = {"input", "output", "scratch", "weights", "sram"};
  static const char* kTypes[] = {"i8", "i32", "i16", "u8", "i64", "f32"};
  for (uint32_t i = 0; i < v.num_tensors(); ++i) {
    TensorDesc d = v.tensor(i);
    os << "  t" << i << ": " << kRegions[d.region] << "[" << d.index << "]+" << d.offset << " "
       << kTypes[d.elem_type] << " [" << d.dims[0] << "," << d.dims[1] << "," << d.dims[2] << ","
       << d.dims[3] << "] zp " << d.zero_point << "\n";
  }
  InstructionCursor cur(v);
  Instruction inst;
  uint32_t k = 0;
  while (cur.next(&inst)) {
    os << "  i" << k++ << ": " << opcode_name(inst.opcode) << " {";
    for (uint32_t w = 0; w < inst.arg_words; ++w) {
      int32_t x;
      std::memcpy(&x, inst.args + 4 * w, 4);
      os << (w ? " " : "") << x;
    }
    os << "}\n";
  }
  return os.str();
}

}  // namespace neutron::npu
