#include "compiler/estimate.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace neutron::compiler {
namespace {

// The program's tensors as the microcode writer will describe them.
class ProgramTensors final : public sim::TensorSource {
 public:
  explicit ProgramTensors(const NpuProgram& p) : p_(p) {}
  npu::TensorDesc get(uint32_t i) const override {
    npu::TensorDesc d{};
    if (i >= p_.tensors.size()) return d;
    const ProgramTensor& t = p_.tensors[i];
    d.region = uint8_t(t.region);
    d.elem_type = uint8_t(t.elem);
    d.index = t.io_index;
    d.offset = t.offset;
    d.size = t.bytes();
    for (int k = 0; k < 4; ++k) d.dims[k] = t.dims[size_t(k)];
    d.zero_point = t.zero_point;
    return d;
  }

 private:
  const NpuProgram& p_;
};

npu::Instruction instruction_of(const KernelCall& c) {
  npu::Instruction inst{};
  inst.opcode = c.op;
  inst.arg_words = uint16_t(c.args.size());
  inst.args = reinterpret_cast<const uint8_t*>(c.args.data());
  return inst;
}

bool is_prefetch(npu::Opcode op) { return op == npu::Opcode::kPrefetch || op == npu::Opcode::kWaitPrefetch; }

}  // namespace

ProgramEstimate estimate_program(const sim::SimConfig& cfg, const NpuProgram& p) {
  ProgramEstimate e;
  const ProgramTensors tensors(p);
  bool prefetches = false;
  for (const KernelCall& c : p.calls) prefetches |= c.op == npu::Opcode::kPrefetch;
  sim::Timeline tl(cfg, sim::weights_resident(cfg, prefetches));
  e.calls.reserve(p.calls.size());
  for (const KernelCall& c : p.calls) e.calls.push_back(tl.step(tensors, instruction_of(c)));
  e.summary = tl.summary();
  return e;
}

std::vector<LayerEstimate> group_layers(const NpuProgram& p, const std::vector<sim::KernelTiming>& calls,
                                        int macs_per_cycle) {
  std::vector<LayerEstimate> out;
  std::vector<uint64_t> worst;
  const size_t n = std::min(p.calls.size(), calls.size());
  size_t pending = 0;  // prefetch/wait instructions waiting for the kernel they precede
  for (size_t i = 0; i < n; ++i) {
    const KernelCall& c = p.calls[i];
    if (is_prefetch(c.op)) {
      ++pending;
      continue;
    }
    if (out.empty() || out.back().origin != c.origin || pending > 0) {
      out.push_back(LayerEstimate{});
      out.back().origin = c.origin;
      out.back().first_call = uint32_t(i - pending);
      worst.push_back(0);
    }
    LayerEstimate& l = out.back();
    l.opcode = c.op;
    l.main_call = uint32_t(i);
    for (size_t j = i - pending; j <= i; ++j) {
      const sim::KernelTiming& k = calls[j];
      ++l.calls;
      l.cycles += k.cycles;
      l.macs += k.macs;
      l.compute += k.compute_cycles;
      l.memory += k.memory_cycles;
      l.overhead += k.overhead_cycles;
      l.stall += k.stall_cycles;
      if (k.cycles >= worst.back()) {
        worst.back() = k.cycles;
        l.bound = k.bound;
      }
    }
    pending = 0;
  }
  for (LayerEstimate& l : out)
    l.utilization = l.cycles && macs_per_cycle > 0 ? double(l.macs) / (double(l.cycles) * macs_per_cycle) : 0;
  return out;
}

std::string layer_kind(const NpuProgram& p, const LayerEstimate& l) {
  if (l.main_call >= p.calls.size()) return npu::opcode_name(l.opcode);
  const KernelCall& c = p.calls[l.main_call];
  if (c.op == npu::Opcode::kDepthwiseConv2D) return "depthwise";
  if (c.op == npu::Opcode::kConv2D || c.op == npu::Opcode::kConvAdd) {
    npu::ConvArgs a;  // conv2d_add args start with the conv's
    std::memcpy(&a, c.args.data(), std::min(sizeof(a), c.args.size() * 4));
    const int32_t cin = a.input < p.tensors.size() ? p.tensors[a.input].dims[3] : 0;
    const std::string add = c.op == npu::Opcode::kConvAdd ? "+add" : "";
    if (a.groups > 1 && a.groups == cin) return "depthwise" + add;
    return (a.kernel_h == 1 && a.kernel_w == 1 && a.groups == 1 ? "pointwise" : "conv") + add;
  }
  return npu::opcode_name(c.op);
}

std::string describe_plan(const NpuProgram& p, const sim::SimConfig& cfg) {
  const ProgramEstimate e = estimate_program(cfg, p);
  std::ostringstream os;
  os << "plan: " << p.name << "\n";
  for (const std::string& note : p.plan_notes) os << "  " << note << "\n";
  char line[256];
  std::snprintf(line, sizeof(line), "  estimate: %llu cycles, %.3f ms, MAC utilization %.1f%% (compiler estimator = timing model)\n",
                (unsigned long long)e.summary.total_cycles, e.summary.latency_ms, 100.0 * e.summary.utilization);
  os << line;
  std::snprintf(line, sizeof(line), "  %-5s %-16s %-15s %10s %11s %10s %10s %10s %7s  %-8s %s\n", "call", "kernel",
                "kind", "est_cycles", "MACs", "compute", "overhead", "mem+stall", "util", "bound", "layer");
  os << line;
  for (const LayerEstimate& l : group_layers(p, e.calls, cfg.macs_per_cycle())) {
    std::snprintf(line, sizeof(line), "  %-5u %-16s %-15s %10llu %11llu %10llu %10llu %10llu %6.1f%%  %-8s ", l.first_call,
                  npu::opcode_name(l.opcode), layer_kind(p, l).c_str(), (unsigned long long)l.cycles,
                  (unsigned long long)l.macs, (unsigned long long)l.compute,
                  (unsigned long long)l.overhead, (unsigned long long)(l.memory + l.stall), 100.0 * l.utilization,
                  sim::bound_name(l.bound));
    os << line << l.origin << "\n";
  }
  return os.str();
}

}  // namespace neutron::compiler
