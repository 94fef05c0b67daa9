#include "sim/timing.h"

#include <cmath>

namespace neutron::sim {

using npu::Instruction;
using npu::Opcode;
using npu::TensorDesc;

const char* bound_name(Bound b) {
  switch (b) {
    case Bound::kCompute: return "compute";
    case Bound::kMemory: return "memory";
    case Bound::kOverhead: return "overhead";
  }
  return "unknown";
}

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }
uint64_t pos(int64_t v) { return v > 0 ? uint64_t(v) : 0; }
uint64_t count_of(const TensorDesc& d) { return pos(d.dims[0]) * pos(d.dims[1]) * pos(d.dims[2]) * pos(d.dims[3]); }
uint64_t rows_of(const TensorDesc& d) { return pos(d.dims[0]) * pos(d.dims[1]); }

// What one kernel does, from its shapes only.
struct Work {
  uint64_t compute = 0;       // cycles of the MAC array or vector unit
  uint64_t macs = 0;
  uint64_t jobs = 0;
  uint64_t act_bytes = 0;     // activation bytes read and written (SRAM)
  uint32_t weights_offset = 0;
  uint64_t weights_bytes = 0;  // main constant blob (weights, tables)
  uint64_t extra_bytes = 0;    // bias and multipliers, read with the weights
};

Work work_of(const SimConfig& cfg, const TensorSource& tensors, const Instruction& inst) {
  const uint64_t P = uint64_t(cfg.num_pipes > 0 ? cfg.num_pipes : 1);
  const uint64_t M = uint64_t(cfg.num_macs > 0 ? cfg.num_macs : 1);
  // Clamped before the conversion (a double at or above 2^64, or NaN, has no uint64_t value).
  const double vpc = cfg.vector_elements_per_cycle;
  const uint64_t V = uint64_t(vpc >= 1 ? (vpc < 65536 ? vpc : 65536) : 1);
  auto t = [&](uint32_t i) { return tensors.get(i); };
  Work w;
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
      if (depthwise) {
        // Channels across the pipelines, the kernel taps along the dot product.
        w.compute = pixels * ceil_div(cout, P) * ceil_div(taps, M);
        w.jobs = rows_of(out) * ceil_div(cout, P);
        w.macs = pixels * cout * taps;
      } else {
        const uint64_t cin_g = cin / g, cout_g = cout / g;
        w.compute = pixels * g * ceil_div(cout_g, P) * taps * ceil_div(cin_g, M);
        w.jobs = rows_of(out) * g * ceil_div(cout_g, P);
        w.macs = pixels * cout * taps * cin_g;
      }
      w.act_bytes = in.size + uint64_t(out.size);
      w.weights_offset = a.weights_offset;
      w.weights_bytes = pos(a.out_c_padded) * taps * pos(a.in_c_padded);
      w.extra_bytes = cout * 12;
      break;
    }
    case Opcode::kFullyConnected: {
      const auto a = inst.as<npu::FullyConnectedArgs>();
      const uint64_t rows = pos(a.rows), n = pos(a.out_features), k = pos(a.in_features);
      w.compute = rows * ceil_div(n, P) * ceil_div(k, M);
      w.jobs = rows * ceil_div(n, P);
      w.macs = rows * n * k;
      w.act_bytes = uint64_t(t(a.input).size) + t(a.output).size;
      w.weights_offset = a.weights_offset;
      w.weights_bytes = pos(a.out_features_padded) * pos(a.in_features_padded);
      w.extra_bytes = n * 4 + (a.per_channel ? n : 1) * 8;
      break;
    }
    case Opcode::kBatchMatMul: {
      const auto a = inst.as<npu::BatchMatMulArgs>();
      const uint64_t b = pos(a.batch), m = pos(a.m), n = pos(a.n), k = pos(a.k);
      w.compute = b * m * ceil_div(n, P) * ceil_div(k, M);
      w.jobs = b * m * ceil_div(n, P);
      w.macs = b * m * n * k;
      w.act_bytes = uint64_t(t(a.a).size) + t(a.b).size + t(a.output).size;
      break;
    }
    case Opcode::kMaxPool2D:
    case Opcode::kAvgPool2D:
    case Opcode::kGlobalAvgPool: {
      // On the MAC array as a depthwise kernel (upstream runs AvgPool as Conv2DDepthwiseDense).
      const auto a = inst.as<npu::PoolArgs>();
      const TensorDesc in = t(a.input), out = t(a.output);
      const uint64_t c = pos(out.dims[3]);
      const uint64_t pixels = pos(out.dims[0]) * pos(out.dims[1]) * pos(out.dims[2]);
      const uint64_t taps = inst.opcode == Opcode::kGlobalAvgPool ? pos(in.dims[1]) * pos(in.dims[2])
                                                                  : pos(a.kernel_h) * pos(a.kernel_w);
      w.compute = pixels * ceil_div(c, P) * ceil_div(taps, M);
      w.jobs = rows_of(out) * ceil_div(c, P);
      w.macs = inst.opcode == Opcode::kMaxPool2D ? 0 : pixels * c * taps;
      w.act_bytes = uint64_t(in.size) + out.size;
      if (inst.opcode == Opcode::kAvgPool2D) {
        w.weights_offset = a.multipliers_offset;
        w.weights_bytes = (taps + 1) * 8;
      }
      break;
    }
    case Opcode::kElementwise: {
      const auto a = inst.as<npu::ElementwiseArgs>();
      const TensorDesc out = t(a.output);
      w.compute = ceil_div(count_of(out), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.a).size) + t(a.b).size + out.size;
      if (a.op == int32_t(npu::ElementwiseOp::kMax) || a.op == int32_t(npu::ElementwiseOp::kMin)) {
        w.weights_offset = a.table_offset;
        w.weights_bytes = 512;
      }
      break;
    }
    case Opcode::kDiv: {
      // Assumption (no published figure): an iterative division per element, about 16 vector steps
      // (the 8-bit quotient, its rounding and the range check), on the elementwise traffic.
      const auto a = inst.as<npu::DivArgs>();
      const TensorDesc out = t(a.output);
      w.compute = ceil_div(16 * count_of(out), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.a).size) + t(a.b).size + out.size;
      break;
    }
    case Opcode::kTable: {
      const auto a = inst.as<npu::TableArgs>();
      const TensorDesc out = t(a.output);
      w.compute = ceil_div(count_of(out), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.input).size) + out.size;
      w.weights_offset = a.table_offset;
      w.weights_bytes = 256;
      break;
    }
    case Opcode::kChannelTable: {
      const auto a = inst.as<npu::ChannelTableArgs>();
      const TensorDesc out = t(a.output);
      w.compute = ceil_div(count_of(out), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.input).size) + out.size;
      w.weights_offset = a.table_offset;
      w.weights_bytes = uint64_t(a.channels > 0 ? a.channels : 0) * 256;
      break;
    }
    case Opcode::kL2Norm: {
      // Two passes over each vector: the sum of squares, then the division.
      const auto a = inst.as<npu::L2NormArgs>();
      const TensorDesc out = t(a.output);
      w.compute = 2 * ceil_div(count_of(out), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.input).size) + out.size;
      w.weights_offset = a.params_offset;
      w.weights_bytes = 16;
      break;
    }
    case Opcode::kSoftmax: {
      // Three passes over each row: max, sum of exponentials, normalization.
      const auto a = inst.as<npu::SoftmaxArgs>();
      const TensorDesc out = t(a.output);
      w.compute = 3 * ceil_div(count_of(out), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.input).size) + out.size;
      w.weights_offset = a.table_offset;
      w.weights_bytes = 257 * 8;
      break;
    }
    case Opcode::kGather: {
      // Not delegated (partition rule gather.cpu); costed as a row copy per index in case a
      // payload carries it: the indices are read, then each row moves.
      const auto a = inst.as<npu::GatherArgs>();
      const TensorDesc out = t(a.output);
      w.compute = ceil_div(count_of(out), V) + uint64_t(pos(a.count));
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.indices).size) + 2 * uint64_t(out.size);
      break;
    }
    case Opcode::kMaskedFill: {
      // One select per element; the mask (one byte per element) is read with the weights.
      const auto a = inst.as<npu::MaskedFillArgs>();
      const TensorDesc out = t(a.output);
      w.compute = ceil_div(count_of(out), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(t(a.input).size) + out.size;
      w.weights_offset = a.mask_offset;
      w.weights_bytes = uint64_t(count_of(out));
      break;
    }
    case Opcode::kLayerNorm: {
      // Two passes over each row (sums, then normalize-scale-shift) and one rsqrt per row; the
      // per-element scale and shift (2n doubles) come from the weights.
      const auto a = inst.as<npu::LayerNormArgs>();
      const TensorDesc out = t(a.output);
      const uint64_t n = pos(out.dims[3]) ? pos(out.dims[3]) : 1;
      const uint64_t rows = count_of(out) / n;
      w.compute = 2 * ceil_div(count_of(out), V) + rows * 16;
      w.jobs = rows;
      w.act_bytes = uint64_t(t(a.input).size) + out.size;
      w.weights_offset = a.table_offset;
      w.weights_bytes = (2 * n + 1) * 8;
      break;
    }
    case Opcode::kReduce: {
      const auto a = inst.as<npu::ReduceArgs>();
      const TensorDesc in = t(a.input), out = t(a.output);
      w.compute = ceil_div(count_of(in), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(in.size) + out.size;
      break;
    }
    case Opcode::kTranspose:
    case Opcode::kResize: {
      // Gathers: one element per lane per cycle, plus the traffic. Bilinear reads four taps per
      // output element and its tap tables (kernels/resize_int8.h) from the weights.
      const auto a = inst.as<npu::CopyArgs>();  // {input, output} lead every args struct
      const TensorDesc in = t(a.input), out = t(a.output);
      const bool bilinear = inst.opcode == Opcode::kResize && inst.as<npu::ResizeArgs>().mode == 1;
      w.compute = ceil_div(count_of(out) * (bilinear ? 4 : 1), V);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(in.size) + out.size;
      if (bilinear) {
        w.weights_offset = inst.as<npu::ResizeArgs>().table_offset;
        w.weights_bytes = 8 + 12 * (pos(out.dims[1]) + pos(out.dims[2]));
      }
      break;
    }
    case Opcode::kPad:
    case Opcode::kSlice:
    case Opcode::kCopy: {
      const auto a = inst.as<npu::CopyArgs>();
      const TensorDesc in = t(a.input), out = t(a.output);
      w.jobs = rows_of(out);
      w.act_bytes = uint64_t(inst.opcode == Opcode::kSlice ? out.size : in.size) + out.size;
      break;
    }
    case Opcode::kConcat: {
      const auto a = inst.as<npu::ConcatArgs>();
      const TensorDesc out = t(a.output);
      w.jobs = rows_of(out);
      w.act_bytes = 2 * uint64_t(out.size);
      break;
    }
    case Opcode::kRecurrent: {
      // Per step and batch row: the gate matrices on the MAC array (G*H rows of input + hidden
      // MACs, one job), then the gate arithmetic on the vector unit (about 8 operations per hidden
      // unit and gate: requantize, add, table lookup and interpolation, state update). The weights
      // are read once per call: the state never leaves the NPU between steps.
      const auto a = inst.as<npu::RecurrentArgs>();
      const uint64_t steps = pos(a.seq) * pos(a.batch), g = a.cell ? 4 : 3, h = pos(a.hidden), k = pos(a.input_size) + h;
      w.compute = steps * (ceil_div(g * h, P) * ceil_div(k, M) + ceil_div(8 * g * h, V));
      w.jobs = steps;
      w.macs = steps * g * h * k;
      w.act_bytes = uint64_t(t(a.input).size) + t(a.output).size;
      w.weights_offset = a.weights_offset;
      w.weights_bytes = g * h * k;
      w.extra_bytes = g * h * 24 + 2 * 513 * 2;
      break;
    }
    case Opcode::kConvAdd: {
      // Derived from the two kernels' formulas: the conv's MAC work, jobs and weights, plus the
      // Add on the vector path (one element per lane per cycle, not overlapped); the conv's result
      // is combined as each job retires its rows, so it is never written out and read back: the
      // traffic is the conv's input, the other operand and the output.
      Instruction conv = inst, add = inst;
      conv.opcode = Opcode::kConv2D;
      conv.arg_words = uint16_t(sizeof(npu::ConvArgs) / 4);
      add.opcode = Opcode::kElementwise;
      add.arg_words = uint16_t(sizeof(npu::ElementwiseArgs) / 4);
      add.args = inst.args + sizeof(npu::ConvArgs);
      w = work_of(cfg, tensors, conv);
      const auto ea = add.as<npu::ElementwiseArgs>();
      const auto ca = conv.as<npu::ConvArgs>();
      const TensorDesc out = t(ea.output);
      w.compute += ceil_div(count_of(out), V);
      w.act_bytes = uint64_t(t(ca.input).size) + t(ea.a == ca.output ? ea.b : ea.a).size + out.size;
      break;
    }
    case Opcode::kPrefetch:
    case Opcode::kWaitPrefetch:
      break;
    // Float kernel calls run on the CPU only (the NPU's executor refuses them at prepare).
    case Opcode::kQuantize:
    case Opcode::kDequantize:
    case Opcode::kElementwiseF32:
    case Opcode::kUnaryF32:
    case Opcode::kSoftmaxF32:
    case Opcode::kGemmF32:
    case Opcode::kConvF32:
    case Opcode::kRecurrentF32:
    case Opcode::kRecurrentPeepholeF32:
    case Opcode::kPoolF32:
    case Opcode::kReduceF32:
    case Opcode::kResizeF32:
    case Opcode::kLayerNormF32:
    case Opcode::kBatchMatMulF32:
    case Opcode::kWhereF32:
    case Opcode::kGatherF32:
    case Opcode::kCast:
    case Opcode::kExpand:  // CPU only (rule expand.not_yet)
      break;
  }
  return w;
}

uint64_t cycles_for(double bytes, double bytes_per_cycle) {
  if (!(bytes > 0)) return 0;
  if (!(bytes_per_cycle > 0)) return 0;
  // Saturate at 2^62 (absurd bandwidth or clock): a double at or above 2^64 has no uint64_t value,
  // and the headroom keeps the sums of a few such times from wrapping.
  constexpr double kMax = 4611686018427387904.0;  // 2^62
  const double c = std::ceil(bytes / bytes_per_cycle);
  return c < kMax ? uint64_t(c) : uint64_t(kMax);
}

// Times one kernel starting at `now` (prefetch state may be null: no prefetch).
KernelTiming time_kernel(const SimConfig& cfg, const TensorSource& tensors, const Instruction& inst, uint64_t now,
                         PrefetchState* pf, bool force_sram) {
  KernelTiming k;
  k.opcode = inst.opcode;
  k.start_cycle = now;
  const Work w = work_of(cfg, tensors, inst);
  k.macs = w.macs;
  k.jobs = w.jobs;
  k.compute_cycles = w.compute;
  k.overhead_cycles = uint64_t(cfg.kernel_overhead_cycles) + w.jobs * cfg.job_overhead_cycles;

  uint64_t sram = w.act_bytes;
  uint64_t fetch = 0;  // synchronous flash fetch, not overlapped
  const uint64_t wbytes = w.weights_bytes + (w.weights_bytes ? w.extra_bytes : 0);
  if (wbytes > 0) {
    const int64_t ready = pf ? pf->covered(w.weights_offset, uint64_t(w.weights_offset) + w.weights_bytes) : -1;
    if (force_sram || cfg.weights_memory == WeightsMemory::kSram || ready >= 0) {
      sram += wbytes;
      if (ready > int64_t(now)) k.stall_cycles = uint64_t(ready) - now;
    } else if (cfg.npu_reads_flash) {
      k.flash_bytes = wbytes;  // streamed; overlaps compute like SRAM traffic
    } else {
      // Neutron-C: copy to SRAM first, after any copy in flight on the flash port.
      k.flash_bytes = wbytes;
      if (pf && pf->flash_free > now) k.stall_cycles = pf->flash_free - now;
      fetch = cfg.copy_setup_cycles + cycles_for(double(wbytes), cfg.flash_bytes_per_cycle());
      sram += wbytes;  // the kernel then reads the copy
    }
  }
  k.sram_bytes = sram;
  uint64_t mem = cycles_for(double(sram), cfg.sram_bytes_per_cycle);
  if (k.flash_bytes && cfg.npu_reads_flash) {
    const uint64_t f = cycles_for(double(k.flash_bytes), cfg.flash_bytes_per_cycle());
    mem = mem > f ? mem : f;
  }
  k.memory_cycles = mem + fetch;
  const uint64_t busy = k.compute_cycles > mem ? k.compute_cycles : mem;
  k.cycles = k.stall_cycles + k.overhead_cycles + fetch + busy;
  if (pf && fetch) pf->flash_free = now + k.stall_cycles + fetch;
  if (fetch) {  // for traces: the synchronous copy, after any stall
    k.copy_start_cycle = now + k.stall_cycles;
    k.copy_cycles = fetch;
    k.copy_bytes = wbytes;
  }
  const double peak = double(cfg.macs_per_cycle() > 0 ? cfg.macs_per_cycle() : 1);
  k.utilization = k.cycles ? double(k.macs) / (double(k.cycles) * peak) : 0;
  if (k.compute_cycles >= k.memory_cycles && k.compute_cycles >= k.overhead_cycles)
    k.bound = Bound::kCompute;
  else if (k.memory_cycles >= k.overhead_cycles)
    k.bound = Bound::kMemory;
  else
    k.bound = Bound::kOverhead;
  return k;
}

}  // namespace

KernelTiming estimate_kernel(const SimConfig& cfg, const npu::MicrocodeView& mc, const Instruction& inst,
                             bool weights_in_sram) {
  return time_kernel(cfg, MicrocodeTensors(mc), inst, 0, nullptr, weights_in_sram);
}

KernelTiming estimate_kernel(const SimConfig& cfg, const TensorSource& tensors, const Instruction& inst,
                             bool weights_in_sram) {
  return time_kernel(cfg, tensors, inst, 0, nullptr, weights_in_sram);
}

namespace {
struct ArraySink {
  KernelTiming* records;
  uint32_t max;
};
void store(void* context, const KernelTiming& k) {
  auto* a = static_cast<ArraySink*>(context);
  if (a->records && k.instruction < a->max) a->records[k.instruction] = k;
}
}  // namespace

TimingSummary estimate_timing(const SimConfig& cfg, const npu::MicrocodeView& mc, KernelTiming* records,
                              uint32_t max_records) {
  ArraySink a{records, max_records};
  return estimate_timing_each(cfg, mc, &store, &a);
}

TimingSummary estimate_timing_each(const SimConfig& cfg, const npu::MicrocodeView& mc, TimingSink sink, void* context) {
  const MicrocodeTensors tensors(mc);
  Timeline tl(cfg, weights_resident(cfg, mc.sram_scratch_size() > 0));
  npu::InstructionCursor cur(mc);
  Instruction inst;
  while (cur.next(&inst)) {
    const KernelTiming k = tl.step(tensors, inst);
    if (sink) sink(context, k);
  }
  return tl.summary();
}

bool weights_resident(const SimConfig& cfg, bool prefetches) {
  return cfg.weights_memory == WeightsMemory::kFlash && !cfg.npu_reads_flash && !prefetches;
}

Timeline::Timeline(const SimConfig& cfg, bool weights_resident) : cfg_(cfg), resident_(weights_resident) {}

KernelTiming Timeline::step(const TensorSource& tensors, const Instruction& inst) {
  const SimConfig& cfg = cfg_;
  PrefetchState& pf = pf_;
  TimingSummary& s = s_;
  const uint64_t now = s.total_cycles;
  const double copy_bpc =
      cfg.weights_memory == WeightsMemory::kFlash ? cfg.flash_bytes_per_cycle() : cfg.sram_bytes_per_cycle;
  KernelTiming k;
  if (inst.opcode == Opcode::kPrefetch) {
    const auto a = inst.as<npu::PrefetchArgs>();
    k.opcode = inst.opcode;
    k.start_cycle = now;
    k.overhead_cycles = cfg.prefetch_issue_cycles;
    k.cycles = k.overhead_cycles;
    k.bound = Bound::kOverhead;
    const uint64_t start = (pf.flash_free > now ? pf.flash_free : now) + cfg.prefetch_issue_cycles;
    const uint64_t done = start + cfg.copy_setup_cycles + cycles_for(double(a.size), copy_bpc);
    pf.flash_free = done;
    k.copy_start_cycle = start;  // for traces
    k.copy_cycles = done - start;
    k.copy_bytes = a.size;
    const uint32_t ch = a.channel % PrefetchState::kChannels;
    if (done > pf.channel_done[ch]) pf.channel_done[ch] = done;
    pf.add(a.weights_offset, uint32_t(uint64_t(a.weights_offset) + a.size), done);
    if (cfg.weights_memory == WeightsMemory::kFlash) s.flash_bytes += a.size;
  } else if (inst.opcode == Opcode::kWaitPrefetch) {
    const uint32_t ch = inst.as<npu::WaitPrefetchArgs>().channel % PrefetchState::kChannels;
    k.opcode = inst.opcode;
    k.start_cycle = now;
    k.overhead_cycles = cfg.prefetch_issue_cycles;
    k.stall_cycles = pf.channel_done[ch] > now + k.overhead_cycles ? pf.channel_done[ch] - now - k.overhead_cycles : 0;
    k.cycles = k.overhead_cycles + k.stall_cycles;
    k.bound = k.stall_cycles > k.overhead_cycles ? Bound::kMemory : Bound::kOverhead;
  } else {
    k = time_kernel(cfg, tensors, inst, now, &pf, resident_);
    s.flash_bytes += k.flash_bytes;
    ++s.kernels;
  }
  k.instruction = instructions_++;
  s.total_cycles = now + k.cycles;
  s.macs += k.macs;
  s.compute_cycles += k.compute_cycles;
  s.memory_cycles += k.memory_cycles;
  s.overhead_cycles += k.overhead_cycles;
  s.stall_cycles += k.stall_cycles;
  return k;
}

TimingSummary Timeline::summary() const {
  TimingSummary s = s_;
  s.latency_ms = cfg_.clock_mhz > 0 ? double(s.total_cycles) / (cfg_.clock_mhz * 1000.0) : 0;
  const double peak = double(cfg_.macs_per_cycle() > 0 ? cfg_.macs_per_cycle() : 1);
  s.utilization = s.total_cycles ? double(s.macs) / (double(s.total_cycles) * peak) : 0;
  return s;
}

void PrefetchState::add(uint32_t b, uint32_t e, uint64_t at) {
  const int i = n < kMaxRanges ? n++ : next;
  next = (i + 1) % kMaxRanges;
  begin[i] = b;
  end[i] = e;
  ready[i] = at;
}

int64_t PrefetchState::covered(uint32_t b, uint64_t e) const {
  for (int i = 0; i < n; ++i)
    if (begin[i] <= b && e <= end[i]) return int64_t(ready[i]);
  return -1;
}

npu::TensorDesc MicrocodeTensors::get(uint32_t i) const { return i < mc_.num_tensors() ? mc_.tensor(i) : npu::TensorDesc{}; }

}  // namespace neutron::sim
