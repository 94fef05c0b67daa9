// Host-side builder of the Neutron microcode and weights section (npu/microcode_format.h).
//
//   MicrocodeWriter w;
//   uint32_t in = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 16, 16, 8}, -3);
//   uint32_t wo = w.add_weights(packed.data(), packed.size());   // 16-byte aligned offset
//   ConvArgs a{}; a.input = in; ...; w.append(Opcode::kConv2D, a);
//   w.set_scratch_size(4096); w.set_num_inputs(1); w.set_num_outputs(1);
//   ASSIGN_OR_RETURN(MicrocodeImage img, w.finish());
//
// Output is deterministic: the same calls give the same bytes (padding bytes are zero).
// finish() fills the structural header words (2, 3, 4, 6, 7, 8) and validates the result with
// validate_microcode(), so a finished image always passes the reader.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "npu/kernel_args.h"
#include "npu/microcode_format.h"

namespace neutron::npu {

struct MicrocodeImage {
  std::vector<uint8_t> microcode;  // header + tensor table + instructions (size = word 6)
  std::vector<uint8_t> weights;    // the weights section (size = word 7, a multiple of 16)
};

class MicrocodeWriter {
 public:
  MicrocodeWriter();

  // Tensor table. Returns the descriptor's index. `size` is computed from dims and type.
  uint32_t add_tensor(const TensorDesc& desc);
  uint32_t add_tensor(Region region, uint16_t index, uint32_t offset, ElemType type,
                      std::array<int32_t, 4> dims, int32_t zero_point = 0);
  uint32_t num_tensors() const { return uint32_t(tensors_.size()); }
  const TensorDesc& tensor(uint32_t i) const { return tensors_[i]; }

  // Appends `bytes` bytes to the weights section at an `alignment`-aligned offset (a power of
  // two, at least 16) and returns the offset. Padding is zero.
  uint32_t add_weights(const void* data, size_t bytes, size_t alignment = kAlignment);
  template <typename T>
  uint32_t add_weights(const std::vector<T>& v, size_t alignment = kAlignment) {
    return add_weights(v.data(), v.size() * sizeof(T), alignment);
  }
  // Reserves zeroed space (filled later through weights_at()).
  uint32_t reserve_weights(size_t bytes, size_t alignment = kAlignment);
  uint8_t* weights_at(uint32_t offset) { return weights_.data() + offset; }
  size_t weights_size() const { return weights_.size(); }

  // Appends one instruction; `Args` must be the args struct of `op` (checked: a mismatch makes
  // finish() fail). Returns the instruction's index.
  template <typename Args>
  uint32_t append(Opcode op, const Args& args) {
    static_assert(sizeof(Args) % 4 == 0, "args structs are whole words");
    return append_raw(op, &args, sizeof(Args));
  }
  uint32_t append_raw(Opcode op, const void* args, size_t bytes);
  uint32_t num_instructions() const { return num_instructions_; }

  // Header words the caller owns (scratch, profile, debug, SRAM scratch, inputs, outputs).
  // Structural words (magic, version, counts, offsets, sizes) are set by finish().
  void set_header_word(HeaderWord w, uint32_t value) { header_[w] = value; }
  uint32_t header_word(HeaderWord w) const { return header_[w]; }
  void set_scratch_size(uint32_t bytes) { header_[kWordScratchSize] = bytes; }
  void set_sram_scratch_size(uint32_t bytes) { header_[kWordSramScratchSize] = bytes; }
  void set_profile_size(uint32_t bytes) { header_[kWordProfileSize] = bytes; }
  void set_debug_size(uint32_t bytes) { header_[kWordDebugSize] = bytes; }
  void set_num_inputs(uint32_t n) { header_[kWordNumInputs] = n; }
  void set_num_outputs(uint32_t n) { header_[kWordNumOutputs] = n; }

  // Lays out the microcode and validates it. The writer can be finished again after more calls.
  StatusOr<MicrocodeImage> finish() const;

 private:
  uint32_t header_[kMicrocodeHeaderWords] = {};
  std::vector<TensorDesc> tensors_;
  std::vector<uint8_t> code_;  // instruction stream
  std::vector<uint8_t> weights_;
  uint32_t num_instructions_ = 0;
  std::string error_;  // first append() misuse, reported by finish()
};

// Human-readable listing of a validated microcode (header, tensors, instructions), for tools
// and test failure messages.
std::string dump_microcode(const uint8_t* microcode, size_t size);

}  // namespace neutron::npu
