#include "npu/microcode_reader.h"

namespace neutron::npu {

namespace {

template <typename Args>
constexpr uint32_t words_of() {
  return uint32_t(sizeof(Args) / 4);
}

ValidationResult fail(Error e, const char* message, uint32_t instruction = 0xFFFFFFFFu,
                      uint32_t tensor = 0xFFFFFFFFu) {
  ValidationResult r;
  r.error = e;
  r.message = message;
  r.instruction = instruction;
  r.tensor = tensor;
  return r;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

uint32_t expected_arg_words(uint16_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::kConv2D:
    case Opcode::kDepthwiseConv2D:
      return words_of<ConvArgs>();
    case Opcode::kFullyConnected:
      return words_of<FullyConnectedArgs>();
    case Opcode::kBatchMatMul:
      return words_of<BatchMatMulArgs>();
    case Opcode::kMaxPool2D:
    case Opcode::kAvgPool2D:
    case Opcode::kGlobalAvgPool:
      return words_of<PoolArgs>();
    case Opcode::kElementwise:
      return words_of<ElementwiseArgs>();
    case Opcode::kDiv:
      return words_of<DivArgs>();
    case Opcode::kTable:
      return words_of<TableArgs>();
    case Opcode::kChannelTable:
      return words_of<ChannelTableArgs>();
    case Opcode::kL2Norm:
      return words_of<L2NormArgs>();
    case Opcode::kSoftmax:
      return words_of<SoftmaxArgs>();
    case Opcode::kPad:
      return words_of<PadArgs>();
    case Opcode::kSlice:
      return words_of<SliceArgs>();
    case Opcode::kConcat:
      return words_of<ConcatArgs>();
    case Opcode::kTranspose:
      return words_of<TransposeArgs>();
    case Opcode::kResize:
      return words_of<ResizeArgs>();
    case Opcode::kReduce:
      return words_of<ReduceArgs>();
    case Opcode::kLayerNorm:
      return words_of<LayerNormArgs>();
    case Opcode::kMaskedFill:
      return words_of<MaskedFillArgs>();
    case Opcode::kGather:
      return words_of<GatherArgs>();
    case Opcode::kRecurrent:
      return words_of<RecurrentArgs>();
    case Opcode::kCopy:
      return words_of<CopyArgs>();
    case Opcode::kConvAdd:
      return words_of<ConvAddArgs>();
    case Opcode::kPrefetch:
      return words_of<PrefetchArgs>();
    case Opcode::kWaitPrefetch:
      return words_of<WaitPrefetchArgs>();
    case Opcode::kQuantize:
    case Opcode::kDequantize:
      return words_of<QuantizeArgs>();
    case Opcode::kElementwiseF32:
      return words_of<ElementwiseF32Args>();
    case Opcode::kUnaryF32:
      return words_of<UnaryF32Args>();
    case Opcode::kSoftmaxF32:
      return words_of<SoftmaxF32Args>();
    case Opcode::kGemmF32:
      return words_of<GemmF32Args>();
    case Opcode::kConvF32:
      return words_of<ConvF32Args>();
    case Opcode::kRecurrentF32:
      return words_of<RecurrentF32Args>();
    case Opcode::kRecurrentPeepholeF32:
      return words_of<RecurrentPeepholeF32Args>();
    case Opcode::kPoolF32:
      return words_of<PoolF32Args>();
    case Opcode::kReduceF32:
      return words_of<ReduceF32Args>();
    case Opcode::kResizeF32:
      return words_of<ResizeF32Args>();
    case Opcode::kLayerNormF32:
      return words_of<LayerNormF32Args>();
    case Opcode::kBatchMatMulF32:
      return words_of<BatchMatMulF32Args>();
    case Opcode::kWhereF32:
      return words_of<WhereF32Args>();
    case Opcode::kGatherF32:
      return words_of<GatherArgs>();
    case Opcode::kCast:
      return words_of<CastArgs>();
  }
  return 0;
}

bool is_known_opcode(uint16_t opcode) { return expected_arg_words(opcode) != 0; }

uint32_t elem_size(uint8_t elem_type) {
  switch (static_cast<ElemType>(elem_type)) {
    case ElemType::kInt8:
    case ElemType::kUint8:
      return 1;
    case ElemType::kInt16:
      return 2;
    case ElemType::kInt32:
    case ElemType::kFloat32:
      return 4;
    case ElemType::kInt64:
      return 8;
  }
  return 0;
}

uint32_t tensor_operands(Opcode op, const uint32_t* a, uint32_t* out, uint32_t max) {
  // out[0] is the operand the kernel writes; the rest are read.
  uint32_t tmp[9];
  uint32_t n = 0;
  switch (op) {
    case Opcode::kConv2D:
    case Opcode::kDepthwiseConv2D:
    case Opcode::kFullyConnected:
    case Opcode::kMaxPool2D:
    case Opcode::kAvgPool2D:
    case Opcode::kGlobalAvgPool:
    case Opcode::kTable:
    case Opcode::kChannelTable:
    case Opcode::kL2Norm:
    case Opcode::kSoftmax:
    case Opcode::kPad:
    case Opcode::kSlice:
    case Opcode::kTranspose:
    case Opcode::kResize:
    case Opcode::kReduce:
    case Opcode::kCopy:
    case Opcode::kLayerNorm:
    case Opcode::kMaskedFill:
    case Opcode::kQuantize:
    case Opcode::kDequantize:
    case Opcode::kUnaryF32:
    case Opcode::kSoftmaxF32:
    case Opcode::kGemmF32:
    case Opcode::kConvF32:
    case Opcode::kPoolF32:
    case Opcode::kReduceF32:
    case Opcode::kResizeF32:
    case Opcode::kLayerNormF32:
    case Opcode::kCast:
      // Every one of these structs starts with {input, output}.
      tmp[n++] = a[1];
      tmp[n++] = a[0];
      break;
    case Opcode::kRecurrent:
      // {input, output, output_c}: output_c (optional) is written too; setup checks its region.
      tmp[n++] = a[1];
      tmp[n++] = a[0];
      if (a[2] != 0xFFFFFFFFu) tmp[n++] = a[2];
      break;
    case Opcode::kGather:
    case Opcode::kGatherF32:
      // {input, output, indices}
      tmp[n++] = a[1];
      tmp[n++] = a[0];
      tmp[n++] = a[2];
      break;
    case Opcode::kRecurrentF32:
    case Opcode::kRecurrentPeepholeF32: {  // the same leading words
      // {input, y, y_h, y_c, initial_h, initial_c}: the first output present is out[0]; absent
      // optional operands (kNoOperand) are skipped. The executor checks every written one.
      const uint32_t outs[3] = {a[1], a[2], a[3]};
      uint32_t first = kNoOperand;
      for (uint32_t v : outs)
        if (v != kNoOperand && first == kNoOperand) first = v;
      tmp[n++] = first;  // kNoOperand (no output at all) fails the index check
      tmp[n++] = a[0];
      for (uint32_t v : outs)
        if (v != kNoOperand && v != first) tmp[n++] = v;
      if (a[4] != kNoOperand) tmp[n++] = a[4];
      if (a[5] != kNoOperand) tmp[n++] = a[5];
      break;
    }
    case Opcode::kWhereF32:
      // {condition, x, y, output}
      tmp[n++] = a[3];
      tmp[n++] = a[0];
      tmp[n++] = a[1];
      tmp[n++] = a[2];
      break;
    case Opcode::kBatchMatMul:
    case Opcode::kBatchMatMulF32:
    case Opcode::kElementwise:
    case Opcode::kElementwiseF32:
    case Opcode::kDiv:
      // {a, b, output}
      tmp[n++] = a[2];
      tmp[n++] = a[0];
      tmp[n++] = a[1];
      break;
    case Opcode::kConvAdd: {
      // {conv {input, output, ...}, add {a, b, output, ...}}: writes add.output (conv.output is the
      // same storage, checked by the executor), reads the conv input and the add's operands.
      constexpr uint32_t k = sizeof(ConvArgs) / 4;
      tmp[n++] = a[k + 2];
      tmp[n++] = a[0];
      tmp[n++] = a[1];
      tmp[n++] = a[k + 0];
      tmp[n++] = a[k + 1];
      break;
    }
    case Opcode::kConcat: {
      // {output, axis, num_inputs, inputs[8]}
      tmp[n++] = a[0];
      uint32_t k = a[2] > 8 ? 8 : a[2];
      for (uint32_t i = 0; i < k; ++i) tmp[n++] = a[3 + i];
      break;
    }
    case Opcode::kPrefetch:
    case Opcode::kWaitPrefetch:
      break;
  }
  for (uint32_t i = 0; i < n && i < max; ++i) out[i] = tmp[i];
  return n;
}

ValidationResult validate_microcode(const uint8_t* mc, size_t mc_size, size_t weights_size,
                                    MicrocodeView* out) {
  if (mc == nullptr) return fail(Error::InvalidArgument, "microcode is null");
  if (mc_size < kMicrocodeHeaderWords * 4) return fail(Error::InvalidModel, "microcode shorter than its header");
  MicrocodeView v;
  v.data = mc;
  for (size_t i = 0; i < kMicrocodeHeaderWords; ++i) v.header[i] = load_u32(mc + 4 * i);
  const uint32_t* h = v.header;
  if (h[kWordMagic] != kMicrocodeMagic) return fail(Error::InvalidProgram, "bad microcode magic");
  if (h[kWordFormatVersion] != kMicrocodeFormatVersion)
    return fail(Error::InvalidProgram, "unsupported microcode format version");
  if (h[5] != 0 || h[15] != 0) return fail(Error::InvalidModel, "reserved header words are not zero");
  const uint64_t size = h[kWordMicrocodeSize];
  if (size < kMicrocodeHeaderWords * 4) return fail(Error::InvalidModel, "microcode size below header size");
  if (size > mc_size) return fail(Error::InvalidModel, "microcode size exceeds the buffer");
  v.size = uint32_t(size);
  if (uint64_t(h[kWordWeightsSize]) > uint64_t(weights_size))
    return fail(Error::InvalidModel, "weights size exceeds the weights buffer");
  if (h[kWordNumInputs] > 255 || h[kWordNumOutputs] > 255)
    return fail(Error::InvalidModel, "too many inputs or outputs");

  // Tensor table.
  const uint64_t table = h[kWordTensorTableOffset];
  const uint64_t n_tensors = h[kWordNumTensors];
  const uint64_t table_end = table + n_tensors * sizeof(TensorDesc);
  if (table < kMicrocodeHeaderWords * 4 || table % 4 != 0 || table_end > size)
    return fail(Error::InvalidModel, "tensor table outside the microcode");
  // Instruction stream.
  const uint64_t code = h[kWordInstructionsOffset];
  if (code < kMicrocodeHeaderWords * 4 || code % 4 != 0 || code > size)
    return fail(Error::InvalidModel, "instruction stream outside the microcode");
  if (n_tensors != 0 && code < table_end && code >= table)
    return fail(Error::InvalidModel, "instruction stream overlaps the tensor table");

  for (uint32_t i = 0; i < n_tensors; ++i) {
    TensorDesc d = v.tensor(i);
    const uint32_t es = elem_size(d.elem_type);
    if (es == 0) return fail(Error::InvalidModel, "tensor has an unknown element type", 0xFFFFFFFFu, i);
    uint64_t count = 1;
    for (int k = 0; k < 4; ++k) {
      if (d.dims[k] < 1 || d.dims[k] > (1 << 24))
        return fail(Error::InvalidModel, "tensor dimension out of range", 0xFFFFFFFFu, i);
      count *= uint64_t(d.dims[k]);
      if (count > (uint64_t(1) << 31))
        return fail(Error::InvalidModel, "tensor too large", 0xFFFFFFFFu, i);
    }
    if (count * es != d.size)
      return fail(Error::InvalidModel, "tensor size does not match its dims", 0xFFFFFFFFu, i);
    const int32_t zp = d.zero_point;
    const bool zp_ok = d.elem_type == uint8_t(ElemType::kInt8)    ? (zp >= -128 && zp <= 127)
                       : d.elem_type == uint8_t(ElemType::kUint8) ? (zp >= 0 && zp <= 255)
                       : d.elem_type == uint8_t(ElemType::kInt16) ? (zp >= -32768 && zp <= 32767)
                                                                  : true;
    if (!zp_ok) return fail(Error::InvalidModel, "tensor zero point outside its element type", 0xFFFFFFFFu, i);
    if (d.offset % es != 0)
      return fail(Error::InvalidModel, "tensor offset not aligned to its element", 0xFFFFFFFFu, i);
    const uint64_t end = uint64_t(d.offset) + d.size;
    uint64_t limit = 0;
    switch (static_cast<Region>(d.region)) {
      case Region::kInput:
        if (d.index >= h[kWordNumInputs])
          return fail(Error::InvalidModel, "tensor refers to a missing input", 0xFFFFFFFFu, i);
        limit = uint64_t(1) << 32;
        break;
      case Region::kOutput:
        if (d.index >= h[kWordNumOutputs])
          return fail(Error::InvalidModel, "tensor refers to a missing output", 0xFFFFFFFFu, i);
        limit = uint64_t(1) << 32;
        break;
      case Region::kScratch:
        limit = h[kWordScratchSize];
        break;
      case Region::kWeights:
        limit = h[kWordWeightsSize];
        break;
      case Region::kSramWeights:
        limit = h[kWordSramScratchSize];
        break;
      default:
        return fail(Error::InvalidModel, "tensor has an unknown region", 0xFFFFFFFFu, i);
    }
    if (end > limit) return fail(Error::InvalidModel, "tensor outside its region", 0xFFFFFFFFu, i);
  }

  uint64_t pos = code;
  for (uint32_t i = 0; i < h[kWordNumInstructions]; ++i) {
    if (pos + sizeof(InstructionHead) > size)
      return fail(Error::InvalidModel, "instruction head outside the microcode", i);
    InstructionHead head;
    std::memcpy(&head, mc + pos, sizeof(head));
    const uint32_t want = expected_arg_words(head.opcode);
    if (want == 0) return fail(Error::InvalidModel, "unknown opcode", i);
    if (head.arg_words != want) return fail(Error::InvalidModel, "argument size does not match the opcode", i);
    const uint64_t args = pos + sizeof(head);
    if (args + uint64_t(want) * 4 > size)
      return fail(Error::InvalidModel, "instruction arguments outside the microcode", i);
    uint32_t words[48];
    static_assert(sizeof(ConcatArgs) / 4 <= 48 && sizeof(ConvAddArgs) / 4 <= 48, "arg buffer");
    if (want > 48) return fail(Error::Internal, "args struct larger than the reader's buffer", i);
    std::memcpy(words, mc + args, size_t(want) * 4);
    const Opcode op = static_cast<Opcode>(head.opcode);
    if (op == Opcode::kConcat && (words[2] < 1 || words[2] > 8))
      return fail(Error::InvalidModel, "concat input count out of range", i);
    uint32_t operands[9];
    const uint32_t n_ops = tensor_operands(op, words, operands, 9);
    for (uint32_t k = 0; k < n_ops; ++k)
      if (operands[k] >= n_tensors) return fail(Error::InvalidModel, "tensor index out of range", i);
    if (n_ops > 0) {
      const TensorDesc o = v.tensor(operands[0]);
      if (o.region != uint8_t(Region::kOutput) && o.region != uint8_t(Region::kScratch))
        return fail(Error::InvalidModel, "kernel writes outside the outputs and scratch", i);
    }
    pos = args + uint64_t(want) * 4;
  }
  if (out != nullptr) *out = v;
  return ValidationResult();
}

}  // namespace neutron::npu
