#include "sim/cpu_timing.h"

#include <cmath>

namespace neutron::sim {

using npu::Instruction;
using npu::Opcode;
using npu::TensorDesc;

namespace {

uint64_t pos(int64_t v) { return v > 0 ? uint64_t(v) : 0; }
uint64_t count_of(const TensorDesc& d) { return pos(d.dims[0]) * pos(d.dims[1]) * pos(d.dims[2]) * pos(d.dims[3]); }

// n * c cycles, rounded up and saturated (a double at or above 2^64 has no uint64_t value).
uint64_t times(double n, double c) {
  const double v = std::ceil(n * c);
  constexpr double kMax = 4611686018427387904.0;  // 2^62: sums of a few stay below 2^64
  if (!(v > 0)) return 0;
  return v < kMax ? uint64_t(v) : uint64_t(kMax);
}

}  // namespace

CpuKernelTiming estimate_cpu_kernel(const CpuConfig& cfg, const npu::MicrocodeView& mc, const Instruction& inst) {
  auto t = [&](uint32_t i) { return i < mc.num_tensors() ? mc.tensor(i) : TensorDesc{}; };
  CpuKernelTiming k;
  k.opcode = inst.opcode;
  k.overhead_cycles = cfg.call_overhead_cycles;
  double compute = 0;  // cycles, summed as doubles and rounded once
  switch (inst.opcode) {
    case Opcode::kConv2D:
    case Opcode::kDepthwiseConv2D: {
      const auto a = inst.as<npu::ConvArgs>();
      const TensorDesc in = t(a.input), out = t(a.output);
      const uint64_t g = pos(a.groups) ? pos(a.groups) : 1;
      const uint64_t cin = pos(in.dims[3]), cout = pos(out.dims[3]);
      const uint64_t pixels = pos(out.dims[0]) * pos(out.dims[1]) * pos(out.dims[2]);
      const uint64_t taps = pos(a.kernel_h) * pos(a.kernel_w);
      const bool depthwise = g > 1 && g == cin;
      k.macs = pixels * cout * taps * (depthwise ? 1 : cin / g);
      compute += double(k.macs) * (depthwise ? cfg.depthwise_cycles_per_mac : cfg.conv_cycles_per_mac);
      if (!depthwise) compute += double(pixels) * double(taps * cin) * cfg.im2col_cycles_per_element;
      compute += double(pixels * cout) * cfg.requant_cycles_per_output;
      k.weight_bytes = pos(a.out_c_padded) * taps * pos(a.in_c_padded) + cout * 12;
      break;
    }
    case Opcode::kFullyConnected: {
      const auto a = inst.as<npu::FullyConnectedArgs>();
      const uint64_t rows = pos(a.rows), n = pos(a.out_features), kk = pos(a.in_features);
      k.macs = rows * n * kk;
      compute += double(k.macs) * cfg.fc_cycles_per_mac + double(rows * n) * cfg.requant_cycles_per_output;
      k.weight_bytes = pos(a.out_features_padded) * pos(a.in_features_padded) + n * 4 + (a.per_channel ? n : 1) * 8;
      break;
    }
    case Opcode::kBatchMatMul: {
      // Both operands are activations: B is expanded to int16 once per batch, like im2col.
      const auto a = inst.as<npu::BatchMatMulArgs>();
      const uint64_t b = pos(a.batch), m = pos(a.m), n = pos(a.n), kk = pos(a.k);
      k.macs = b * m * n * kk;
      compute += double(k.macs) * cfg.fc_cycles_per_mac + double(b * n * kk) * cfg.im2col_cycles_per_element +
                 double(b * m * n) * cfg.requant_cycles_per_output;
      break;
    }
    case Opcode::kRecurrent: {
      // GRU / LSTM over the sequence: per step the gate matrix-vector products (FC rate), each
      // gate pre-activation requantized twice (input and recurrent parts), a table lookup per
      // gate element and the state update per hidden element.
      const auto a = inst.as<npu::RecurrentArgs>();
      const uint64_t g = a.cell == 1 ? 4 : 3, steps = pos(a.seq) * pos(a.batch), h = pos(a.hidden);
      k.macs = steps * g * h * (pos(a.input_size) + h);
      compute += double(k.macs) * cfg.fc_cycles_per_mac +
                 double(steps * g * h) * (2 * cfg.requant_cycles_per_output + cfg.table_cycles_per_element) +
                 double(steps * h) * cfg.elementwise_cycles_per_element;
      k.weight_bytes = g * h * (pos(a.input_size) + h) + g * h * 24 + 2 * 513 * 2;
      break;
    }
    case Opcode::kMaxPool2D:
    case Opcode::kAvgPool2D:
    case Opcode::kGlobalAvgPool: {
      const auto a = inst.as<npu::PoolArgs>();
      const TensorDesc in = t(a.input), out = t(a.output);
      const uint64_t outs = count_of(out);
      const uint64_t taps = inst.opcode == Opcode::kGlobalAvgPool ? pos(in.dims[1]) * pos(in.dims[2])
                                                                  : pos(a.kernel_h) * pos(a.kernel_w);
      k.macs = inst.opcode == Opcode::kMaxPool2D ? 0 : outs * taps;
      compute += double(outs * taps) * cfg.pool_cycles_per_tap;
      if (inst.opcode != Opcode::kMaxPool2D) compute += double(outs) * cfg.requant_cycles_per_output;
      if (inst.opcode == Opcode::kAvgPool2D) k.weight_bytes = (taps + 1) * 8;
      break;
    }
    case Opcode::kDiv:  // an int64 division per element: about four elementwise ops
      compute += double(count_of(t(inst.as<npu::DivArgs>().output))) * 4 * cfg.elementwise_cycles_per_element;
      break;
    case Opcode::kElementwise: {
      const auto a = inst.as<npu::ElementwiseArgs>();
      const bool table = a.op == int32_t(npu::ElementwiseOp::kMax) || a.op == int32_t(npu::ElementwiseOp::kMin);
      compute += double(count_of(t(a.output))) * (table ? 2 * cfg.table_cycles_per_element
                                                        : cfg.elementwise_cycles_per_element);
      if (table) k.weight_bytes = 512;
      break;
    }
    case Opcode::kTable: {
      const auto a = inst.as<npu::TableArgs>();
      compute += double(count_of(t(a.output))) * cfg.table_cycles_per_element;
      k.weight_bytes = 256;
      break;
    }
    case Opcode::kChannelTable: {
      const auto a = inst.as<npu::ChannelTableArgs>();
      compute += double(count_of(t(a.output))) * cfg.table_cycles_per_element;
      k.weight_bytes = pos(a.channels) * 256;
      break;
    }
    case Opcode::kMaskedFill: {
      const auto a = inst.as<npu::MaskedFillArgs>();
      const uint64_t n = count_of(t(a.output));
      compute += double(n) * cfg.table_cycles_per_element;
      k.weight_bytes = n;
      break;
    }
    case Opcode::kSoftmax: {
      const auto a = inst.as<npu::SoftmaxArgs>();
      compute += double(count_of(t(a.output))) * cfg.softmax_cycles_per_element;
      k.weight_bytes = 257 * 8;
      break;
    }
    case Opcode::kLayerNorm: {
      const auto a = inst.as<npu::LayerNormArgs>();
      const TensorDesc out = t(a.output);
      compute += double(count_of(out)) * cfg.norm_cycles_per_element;
      k.weight_bytes = (2 * pos(out.dims[3]) + 1) * 8;
      break;
    }
    case Opcode::kL2Norm: {
      const auto a = inst.as<npu::L2NormArgs>();
      compute += double(count_of(t(a.output))) * cfg.norm_cycles_per_element;
      k.weight_bytes = 16;
      break;
    }
    case Opcode::kReduce: {
      const auto a = inst.as<npu::ReduceArgs>();
      compute += double(count_of(t(a.input))) * cfg.index_cycles_per_element / 2 +
                 double(count_of(t(a.output))) * cfg.requant_cycles_per_output;
      break;
    }
    case Opcode::kTranspose:
    case Opcode::kResize: {
      const auto a = inst.as<npu::CopyArgs>();  // {input, output} lead every args struct
      const bool bilinear = inst.opcode == Opcode::kResize && inst.as<npu::ResizeArgs>().mode == 1;
      compute += double(count_of(t(a.output))) * cfg.index_cycles_per_element * (bilinear ? 4 : 1);
      break;
    }
    case Opcode::kGather: {
      // Per index: a bounds check and a row copy.
      const auto a = inst.as<npu::GatherArgs>();
      compute += double(t(a.output).size) * cfg.copy_cycles_per_byte + double(pos(a.count)) * 20;
      break;
    }
    case Opcode::kBatchMatMulF32: {
      // Float MACs at the FC rate (an assumption: the FPU's VMLA.F32 against SMLAD's two int8
      // MACs, with no requantization) and B packed per batch; flagged as not modelled on its own.
      const auto a = inst.as<npu::BatchMatMulF32Args>();
      const uint64_t b = pos(a.batch), m = pos(a.m), n = pos(a.n), kk = pos(a.k);
      k.macs = b * m * n * kk;
      compute += double(k.macs) * cfg.fc_cycles_per_mac + double(b * n * kk) * cfg.im2col_cycles_per_element;
      k.modelled = false;
      break;
    }
    case Opcode::kWhereF32:  // a select per output element
      compute += double(count_of(t(inst.as<npu::WhereF32Args>().output))) * cfg.table_cycles_per_element;
      break;
    case Opcode::kGatherF32: {  // as the int8 gather: a bounds check and a row copy per index
      const auto a = inst.as<npu::GatherArgs>();
      compute += double(t(a.output).size) * cfg.copy_cycles_per_byte + double(pos(a.count)) * 20;
      break;
    }
    case Opcode::kCast:  // a conversion per element
      compute += double(count_of(t(inst.as<npu::CastArgs>().output))) * cfg.dequantize_cycles_per_element;
      break;
    case Opcode::kExpand:
      compute += double(t(inst.as<npu::ExpandArgs>().output).size) * cfg.copy_cycles_per_byte +
                 double(count_of(t(inst.as<npu::ExpandArgs>().output))) * cfg.index_cycles_per_element;
      break;
    case Opcode::kPad:
    case Opcode::kSlice:
    case Opcode::kCopy: {
      const auto a = inst.as<npu::CopyArgs>();
      compute += double(t(a.output).size) * cfg.copy_cycles_per_byte;
      break;
    }
    case Opcode::kConcat: {
      const auto a = inst.as<npu::ConcatArgs>();
      compute += double(t(a.output).size) * cfg.copy_cycles_per_byte;
      break;
    }
    case Opcode::kPrefetch:
    case Opcode::kWaitPrefetch:
      k.overhead_cycles = 0;  // not in CPU payloads
      break;
    default: {
      // An opcode this model does not know: a generic per-output-element cost ({input, output}
      // lead every args struct), flagged so reports can say so.
      k.modelled = false;
      if (inst.arg_words >= 2) compute += double(count_of(t(inst.as<npu::CopyArgs>().output))) *
                                          cfg.elementwise_cycles_per_element;
      break;
    }
  }
  k.compute_cycles = times(compute, 1);
  if (cfg.weights_in_flash && k.weight_bytes && cfg.flash_bytes_per_cycle() > 0)
    k.memory_cycles = times(double(k.weight_bytes), 1 / cfg.flash_bytes_per_cycle());
  k.cycles = k.overhead_cycles + k.compute_cycles + k.memory_cycles;
  return k;
}

uint64_t cpu_quantize_cycles(const CpuConfig& cfg, uint64_t elements) {
  return cfg.call_overhead_cycles + times(double(elements), cfg.quantize_cycles_per_element);
}
uint64_t cpu_dequantize_cycles(const CpuConfig& cfg, uint64_t elements) {
  return cfg.call_overhead_cycles + times(double(elements), cfg.dequantize_cycles_per_element);
}
uint64_t cpu_transpose_cycles(const CpuConfig& cfg, uint64_t elements) {
  return cfg.call_overhead_cycles + times(double(elements), cfg.index_cycles_per_element);
}

}  // namespace neutron::sim
