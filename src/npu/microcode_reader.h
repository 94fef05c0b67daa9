// Embedded-grade reader of the Neutron microcode (npu/microcode_format.h): no heap, no exceptions.
//
// validate_microcode() checks everything structural once, up front: magic, format version, header
// offsets and sizes against the buffer sizes, every tensor descriptor (region, element type, dims,
// size == product(dims) * element size, offset + size within its region's declared size) and
// every instruction (head inside the stream, known opcode, argument words == the args struct's
// size, tensor indices inside the table). After it returned Error::Ok, MicrocodeView's accessors
// and InstructionCursor never read outside the buffer. Kernel-specific argument checks (shapes
// that agree with the kernel's semantics, weights offsets + sizes) belong to the executor of the
// kernel (sim/), which knows the kernel.
//
// Errors are neutron::Error plus a short static message (never freed, never formatted).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "npu/kernel_args.h"
#include "npu/microcode_format.h"

namespace neutron::npu {

// The size in 32-bit words of the args struct of `op`, or 0 for an unknown opcode.
uint32_t expected_arg_words(uint16_t opcode);
bool is_known_opcode(uint16_t opcode);
// sizeof(element) for an ElemType value, 0 when unknown.
uint32_t elem_size(uint8_t elem_type);

// Indices of the tensor-table fields of an instruction's args (for validation and tools).
// Writes up to `max` indices; returns how many the instruction has. Needs a validated head
// (argument words == expected_arg_words).
uint32_t tensor_operands(Opcode op, const uint32_t* args, uint32_t* out, uint32_t max);

struct Instruction {
  Opcode opcode;
  uint16_t arg_words;
  const uint8_t* args;  // arg_words * 4 bytes, not necessarily 4-byte aligned
  uint32_t offset;      // byte offset of the head in the microcode

  // Copies the args into the struct (memcpy: no alignment requirement).
  template <typename Args>
  Args as() const {
    Args a;
    static_assert(sizeof(Args) % 4 == 0, "args structs are whole words");
    std::memcpy(&a, args, sizeof(Args));
    return a;
  }
};

// A validated microcode. Only valid while the buffer it was built over is alive.
struct MicrocodeView {
  const uint8_t* data = nullptr;
  uint32_t size = 0;  // header word 6 (bytes of microcode actually used)
  uint32_t header[kMicrocodeHeaderWords] = {};

  uint32_t word(HeaderWord w) const { return header[w]; }
  uint32_t num_tensors() const { return header[kWordNumTensors]; }
  uint32_t num_instructions() const { return header[kWordNumInstructions]; }
  uint32_t weights_size() const { return header[kWordWeightsSize]; }
  uint32_t scratch_size() const { return header[kWordScratchSize]; }
  uint32_t sram_scratch_size() const { return header[kWordSramScratchSize]; }
  uint32_t profile_size() const { return header[kWordProfileSize]; }
  uint32_t debug_size() const { return header[kWordDebugSize]; }
  uint32_t num_inputs() const { return header[kWordNumInputs]; }
  uint32_t num_outputs() const { return header[kWordNumOutputs]; }

  // i < num_tensors(), by value (memcpy).
  TensorDesc tensor(uint32_t i) const {
    TensorDesc d;
    std::memcpy(&d, data + header[kWordTensorTableOffset] + size_t(i) * sizeof(TensorDesc), sizeof(d));
    return d;
  }
};

// Walks the instruction stream of a validated microcode.
class InstructionCursor {
 public:
  explicit InstructionCursor(const MicrocodeView& mc)
      : mc_(&mc), pos_(mc.header[kWordInstructionsOffset]), left_(mc.num_instructions()) {}
  // Fills `inst` and advances; false at the end.
  bool next(Instruction* inst) {
    if (left_ == 0) return false;
    InstructionHead h;
    std::memcpy(&h, mc_->data + pos_, sizeof(h));
    inst->opcode = static_cast<Opcode>(h.opcode);
    inst->arg_words = h.arg_words;
    inst->args = mc_->data + pos_ + sizeof(h);
    inst->offset = pos_;
    pos_ += uint32_t(sizeof(h)) + uint32_t(h.arg_words) * 4u;
    --left_;
    return true;
  }

 private:
  const MicrocodeView* mc_;
  uint32_t pos_;
  uint32_t left_;
};

struct ValidationResult {
  Error error = Error::Ok;
  const char* message = "ok";       // static string
  uint32_t instruction = 0xFFFFFFFFu;  // index of the offending instruction, if any
  uint32_t tensor = 0xFFFFFFFFu;       // index of the offending tensor descriptor, if any
  bool ok() const { return error == Error::Ok; }
};

// `microcode_size`: bytes available in the microcode buffer (>= header word 6).
// `weights_size`: bytes available in the weights buffer (>= header word 7); pass SIZE_MAX when
// the caller cannot know (upstream's driver gets only a pointer) to check against word 7 only.
// Errors: InvalidProgram for a bad magic or format version (not a microcode at all, or another
// version), InvalidModel for everything else that is inconsistent.
ValidationResult validate_microcode(const uint8_t* microcode, size_t microcode_size,
                                    size_t weights_size, MicrocodeView* out);

}  // namespace neutron::npu
