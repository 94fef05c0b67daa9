// Field names of every kernel's args struct (npu/kernel_args.h), word by word, for the compiler's
// stage dumps and the payload disassembler. One table per opcode; a static_assert in
// args_format.cc keeps each table as long as its struct.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "npu/kernel_args.h"

namespace neutron::compiler {

enum class FieldKind : uint8_t {
  kTensor,   // tensor-table index, printed "t<i>"
  kOffset,   // weights-section offset, printed "@<offset>"
  kInt,      // signed integer
  kUint,     // unsigned integer
  kOp,       // ElementwiseOp / reduce op / pad mode / resize mode: printed by name
  kFloat,    // IEEE-754 float bits (float kernel calls)
};

struct ArgField {
  const char* name;
  FieldKind kind;
  uint8_t count;  // words (arrays: pad_before[4], inputs[8], ...)
};

struct ArgsFormat {
  const ArgField* fields;
  uint32_t num_fields;
  uint32_t words;  // sizeof(args struct) / 4
};

// The format of `op`'s args, or nullptr for an unknown opcode.
const ArgsFormat* args_format(npu::Opcode op);

// "input=t0 output=t1 weights_offset=@0 ... act_min=-128 act_max=127" for `words` (which must
// have the struct's size; otherwise the raw words are printed). ConcatArgs lists only its
// num_inputs inputs.
// `word_text` (optional) may replace the text of a word: it returns true and sets `text` (the
// compiler's dumps show unplaced weights offsets as blob names).
using WordText = std::function<bool(uint32_t word, std::string* text)>;
std::string format_args(npu::Opcode op, const uint32_t* words, uint32_t num_words, const WordText& word_text = nullptr);

}  // namespace neutron::compiler
