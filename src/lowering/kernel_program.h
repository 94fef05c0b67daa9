// A lowered region (an NPU partition, a CPU group of a program, or one node on the host): the
// kernel-call records the lowering produces, laid out by the compiler's stages (NPU: channel
// padding, scratch planning, prefetch) or by place_for_cpu() (host), until emit_kernel_calls()
// turns them into microcode (npu/microcode_format.h) for the kernel-call executor.
//
//   tensors   one entry per tensor-table descriptor, in table order: boundary tensors (region
//             input/output, `io_index`), activations in the scratch region (offset set by
//             plan-scratch). Dims are the memory order of the IR shape right-aligned into 4
//             (N, H, W, C for NHWC activations; [M, K] becomes [1, 1, M, K]).
//   blobs     the constants the kernels read (weights, biases, multipliers, tables), logical until
//             pack-weights pads and places them in the weights section.
//   calls     the kernel sequence: an opcode and its args struct (npu/kernel_args.h) as words.
//             Tensor fields hold `tensors` indices; `*_offset` fields named in `blob_refs` hold a
//             blob index until pack-weights replaces it by the blob's offset in the weights section.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "npu/kernel_args.h"
#include "npu/microcode_format.h"
#include "core/status.h"

namespace neutron::lowering {

struct ProgramTensor {
  std::string name;  // the IR tensor's name, or "<node>.<purpose>" for tensors the lowering adds
  npu::Region region = npu::Region::kScratch;
  uint16_t io_index = 0;  // kInput / kOutput: the Neutron input or output number
  uint32_t offset = 0;    // byte offset in its region (scratch: set by plan-scratch)
  npu::ElemType elem = npu::ElemType::kInt8;
  std::array<int32_t, 4> dims{{1, 1, 1, 1}};
  int32_t zero_point = 0;
  // Another view of the storage of tensor `alias_of` (same region, index and offset, other dims:
  // a Reshape, or a kernel that needs the data folded differently). -1: owns its storage.
  int32_t alias_of = -1;
  // A constant in the weights section (region kWeights): its blob; the offset follows the blob's.
  int32_t blob = -1;
  // Liveness over the kernel sequence (plan-scratch): first call writing it, last call reading it.
  int first_use = -1, last_use = -1;

  uint32_t bytes() const;
};

// How pack-weights lays a blob out. Every blob starts 16-byte aligned in the weights section.
enum class BlobKind : uint8_t {
  kConvWeights,  // int8 logical [O][KH][KW][I] -> [round_up(O, pad_o)][KH][KW][round_up(I, pad_i)]
  kFcWeights,    // int8 logical [N][K] -> [round_up(N, pad_o)][round_up(K, pad_i)]
  kBias,         // int32 [C] in accumulator units
  kMultipliers,  // {int32 multiplier, int32 shift} [C] (kernels/requantize.h FixedMultiplier)
  kTable,        // int8 lookup tables (256 entries each)
  kIndexTable,   // int32 indices (Resize nearest source rows, then columns)
  kSoftmaxTable, // float64 [257]: exp(-s_in * d) for d in 0..255, then s_out (kernels/softmax_int8.h)
  kConstant,     // an int8 constant operand (a weights-region tensor), as is
  kNormTable,    // float64 [2n + 1]: LayerNorm a[n], b[n], eps_q (kernels/layer_norm_int8.h)
  kParams,       // float64 kernel parameters (L2Norm: eps / s_in, s_out)
  kFloat32,      // float32 weights, biases and constant operands of float kernel calls, as is
};
const char* blob_kind_name(BlobKind k);

struct ConstBlob {
  std::string name;  // "<node>.weights", "<node>.bias", ...
  BlobKind kind = BlobKind::kBias;
  std::vector<uint8_t> data;         // logical bytes (lower), packed bytes (after pack-weights)
  std::array<int32_t, 4> dims{};     // kConvWeights: O, KH, KW, I; kFcWeights: N, K, -, -
  int32_t pad_o = 1, pad_i = 1;      // channel padding of the packed layout
  uint32_t offset = UINT32_MAX;      // in the weights section (pack-weights)
  bool packed = false;
};

struct BlobRef {
  uint32_t word;  // index of the `*_offset` word in the args
  uint32_t blob;  // index into KernelProgram::blobs
};

struct KernelCall {
  npu::Opcode op{};
  std::string origin;            // the IR node it implements ("conv1"), for dumps and errors
  std::vector<uint32_t> args;    // the args struct, word by word
  std::vector<BlobRef> blob_refs;
  std::vector<uint32_t> reads;   // tensor indices the kernel reads
  std::vector<uint32_t> writes;  // tensor indices the kernel writes

  template <typename Args>
  Args as() const;  // the args struct back from the words
};

// Payload header fields (neutron-backend-facts.md §6.2).
struct PayloadIo {
  int num_input_args = 0;            // the delegate's user inputs; its outputs follow in `args`
  std::vector<uint8_t> input_flags;  // per Neutron input: 1 = the NPU reads NHWC, the runtime converts NCHW
  std::vector<uint8_t> output_flags;
  std::vector<uint8_t> input_map;    // Neutron input i <- delegate arg input_map[i]
  std::vector<uint8_t> output_map;   // Neutron output j -> delegate arg num_input_args + output_map[j]
};

struct KernelProgram {
  std::string name;
  std::vector<ProgramTensor> tensors;
  std::vector<ConstBlob> blobs;
  std::vector<KernelCall> calls;
  int num_inputs = 0, num_outputs = 0;
  PayloadIo io;

  // Set by the layout stages.
  uint32_t weights_size = 0;       // pack-weights
  uint32_t scratch_size = 0;       // plan-scratch
  uint64_t scratch_lower_bound = 0;  // plan-scratch: the most scratch bytes live at one call
  uint32_t sram_scratch_size = 0;  // prefetch
  std::vector<std::string> plan_notes;  // the NPU compiler's planning choices, for the listing
  // Set by emit and compose-payload.
  std::vector<uint8_t> microcode, weights, payload;
};

template <typename Args>
Args KernelCall::as() const {
  static_assert(sizeof(Args) % 4 == 0, "args structs are whole words");
  Args a{};
  if (args.size() * 4 == sizeof(Args)) std::memcpy(&a, args.data(), sizeof(Args));
  return a;
}

// Every blob packed (channel padding of its pad_o/pad_i) and placed in the weights section in call
// order, 16-byte aligned; the `*_offset` words and the weights-region tensors get their offsets.
Status place_constants(KernelProgram& p);

// Microcode and weights of a laid-out program through npu::MicrocodeWriter (p.microcode, p.weights).
Status emit_kernel_calls(KernelProgram& p);

// The host's layout of a program lowered without channel padding: constants placed, every scratch
// tensor that owns storage at its own 16-byte aligned offset (no reuse: a node's temporaries are
// few), then emitted.
Status place_for_cpu(KernelProgram& p);

}  // namespace neutron::lowering
