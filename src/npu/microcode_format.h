// The Neutron delegate payload and microcode format, shared by the compiler (writer), the driver
// and simulator (readers) and the runtime backend. Embedded-grade: plain structs, no heap, every
// reader checks offsets and sizes before use (see microcode_reader.h).
//
// Payload (upstream layout, neutron-backend-facts.md section 6.2), each section 16-byte aligned:
//
//   offset 0                      header: n_in, n_out, n_input_args, channels-last flag per input
//                                 and output, input map, output map, payload version
//                                 (4 + 2 n_in + 2 n_out bytes, zero padded to 16)
//   + align16(header)             microcode
//   + align16(microcode size)     weights (packed constants: weights, biases, multipliers, tables)
//   + align16(weights size)       kernels (empty on Neutron-C: the kernel library is in firmware)
//
// Microcode = a 64-byte header of 16 little-endian uint32 words, then a tensor table, then the
// instruction stream:
//
//   word  0  magic 0x64434D6E ("nMCd")            word  8  instruction stream offset (bytes)
//   word  1  microcode format version (1)         word  9  scratch size (activation memory, bytes)
//   word  2  number of tensor descriptors         word 10  profile buffer size (v1)
//   word  3  tensor table offset (bytes)          word 11  debug buffer size (v1)
//   word  4  number of instructions               word 12  SRAM scratch for weight prefetch (v1)
//   word  5  reserved (0)                         word 13  number of inputs (v1)
//   word  6  microcode size (bytes)               word 14  number of outputs (v1)
//   word  7  weights size (bytes)                 word 15  reserved (0)
//
// Words 0, 6, 7, 9 and 10-14 sit where upstream's runtime reads them (payload version 1).
//
// An instruction is a 4-byte head {uint16 opcode, uint16 argument words} followed by that many
// uint32 argument words: the kernel's args struct (npu/kernel_args.h), whose tensor fields are
// indices into the tensor table. Weight prefetch instructions copy weights from flash to the
// SRAM scratch region ahead of the kernels that read them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron::npu {

constexpr uint32_t kMicrocodeMagic = 0x64434D6E;
constexpr uint32_t kMicrocodeFormatVersion = 1;
constexpr uint8_t kPayloadVersion = 1;
constexpr size_t kMicrocodeHeaderWords = 16;
constexpr size_t kAlignment = 16;

constexpr size_t align16(size_t n) { return (n + kAlignment - 1) & ~(kAlignment - 1); }

enum HeaderWord : uint32_t {
  kWordMagic = 0,
  kWordFormatVersion = 1,
  kWordNumTensors = 2,
  kWordTensorTableOffset = 3,
  kWordNumInstructions = 4,
  kWordMicrocodeSize = 6,
  kWordWeightsSize = 7,
  kWordInstructionsOffset = 8,
  kWordScratchSize = 9,
  kWordProfileSize = 10,
  kWordDebugSize = 11,
  kWordSramScratchSize = 12,
  kWordNumInputs = 13,
  kWordNumOutputs = 14,
};

// Where a tensor lives while the microcode runs.
enum class Region : uint8_t {
  kInput = 0,     // the `index`-th input buffer of neutronRunBlocking
  kOutput = 1,    // the `index`-th output buffer
  kScratch = 2,   // activation scratch (word 9 bytes), at `offset`
  kWeights = 3,   // the weights section (flash or SRAM), at `offset`
  kSramWeights = 4,  // the SRAM copy of prefetched weights, at `offset`
};

enum class ElemType : uint8_t { kInt8 = 0, kInt32 = 1, kInt16 = 2, kUint8 = 3, kInt64 = 4 /* gather indices */,
                               kFloat32 = 5 /* float kernel calls (opcodes 48-63, 76-83) */ };

// One entry of the tensor table (32 bytes). Activations are NHWC; `dims` are N, H, W, C (unused
// leading dims are 1). Quantization of int8 activations is carried here; per-channel data
// (weights, multipliers) lives in the weights section and is referenced by kernel args.
struct TensorDesc {
  uint8_t region;      // Region
  uint8_t elem_type;   // ElemType
  uint16_t index;      // input/output index for kInput/kOutput
  uint32_t offset;     // byte offset in the region
  uint32_t size;       // bytes
  int32_t dims[4];     // N, H, W, C
  int32_t zero_point;  // int8 activations
};
static_assert(sizeof(TensorDesc) == 32, "tensor descriptors are 32 bytes");

struct InstructionHead {
  uint16_t opcode;
  uint16_t arg_words;
};
static_assert(sizeof(InstructionHead) == 4, "instruction heads are 4 bytes");

}  // namespace neutron::npu
