#include "tools/perf_report.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "npu/kernel_args.h"
#include "runtime/payload.h"
#include "sim/cpu_config_target.h"
#include "sim/sim_config_target.h"
#include "sim/timing.h"
#include "target/target.h"

namespace neutron::cli {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof(b), f, v);
  return b;
}

std::vector<std::string> all_cpu_fields() {
  std::vector<std::string> v;
  for (const auto& f : sim::cpu_field_infos()) v.push_back(f.name);
  return v;
}

}  // namespace

StatusOr<ProgramTiming> program_timing(const fb::Program& p, std::string* note) {
  ProgramTiming r;
  r.target = p.target() ? p.target()->str() : "";
  NeutronTarget t;
  bool have_target = false;
  if (const fb::TimingParams* tp = p.timing()) {
    t.name = tp->target() ? tp->target()->str() : r.target;
    t.file = str_cat("the program's timing parameters (from ", tp->source() ? tp->source()->str() : "?", ")");
    t.clock_mhz = tp->clock_mhz();
    t.num_pipes = tp->num_pipes();
    t.num_macs = tp->num_macs();
    t.flash_bandwidth_mb_s = tp->flash_bandwidth_mb_s();
    t.npu_reads_flash = tp->npu_reads_flash();
    if (tp->params())
      for (const fb::TimingParam* q : *tp->params())
        if (q && q->name()) t.sim_params.emplace_back(q->name()->str(), q->value());
    r.source = "program";
    have_target = true;
  } else if (!r.target.empty() && r.target != "cpu") {
    auto lt = load_target(r.target);
    if (lt.ok()) {
      t = std::move(lt).value();
      r.source = "target " + t.file;
      have_target = true;
      if (note) *note = str_cat("the program carries no timing parameters (an older file); timed with target '", r.target, "'");
    } else if (note) {
      *note = str_cat("the program carries no timing parameters and target '", r.target, "' was not found (",
                      lt.status().message(), "); timed with the default parameters");
    }
  }
  if (r.source.empty()) r.source = "defaults";
  if (!have_target || r.target == "cpu" || t.name == "cpu") {
    // No NPU; the CPU model's defaults (the i.MX RT700's Cortex-M33) are all assumptions.
    r.assumptions = all_cpu_fields();
    return r;
  }
  ASSIGN_OR_RETURN(r.npu, sim::sim_config_from_target(t));
  ASSIGN_OR_RETURN(sim::CpuConfigFromTarget cpu, sim::cpu_config_from_target(t));
  r.cpu = cpu.config;
  // The NPU model's "sim_*" fields the target did not give take their defaults too.
  for (int i = 0; i < sim::kNumSimFields; ++i)
    if (t.sim_param(sim::kSimFieldNames[i]) == nullptr) r.assumptions.push_back(sim::kSimFieldNames[i]);
  for (const std::string& f : cpu.defaulted) r.assumptions.push_back(f);
  return r;
}

namespace {

const char* cpu_bound(const sim::CpuKernelTiming& k) {
  if (k.compute_cycles >= k.memory_cycles && k.compute_cycles >= k.overhead_cycles) return "compute";
  return k.memory_cycles >= k.overhead_cycles ? "memory" : "overhead";
}

uint64_t elements_of(const fb::Tensor* t) {
  if (t == nullptr || t->shape() == nullptr) return 0;
  uint64_t n = 1;
  for (int32_t d : *t->shape()) n *= uint64_t(d > 0 ? d : 0);
  return n;
}

class Profiler {
 public:
  Profiler(const fb::Program& p, const ProgramTiming& timing, bool delegates_on_cpu)
      : p_(p), perf_(), delegates_on_cpu_(delegates_on_cpu) {
    perf_.timing = timing;
  }

  StatusOr<ProgramPerf> run() {
    const auto* ins = p_.instructions();
    perf_.attributed = ins != nullptr && p_.nodes() != nullptr;
    for (uint32_t i = 0; ins && i < ins->size(); ++i) {
      const fb::Instruction* in = ins->Get(i);
      if (in == nullptr) continue;
      if (perf_.attributed && in->calls() == nullptr) perf_.attributed = false;
      switch (in->op_type()) {
        case fb::Operation::Quantize: {
          const uint64_t n = elements_of(tensor(in->op_as_Quantize()->output()));
          add_cpu(i, -1, in, "quantize", sim::cpu_quantize_cycles(cpu(), n), 0, "compute");
          break;
        }
        case fb::Operation::Dequantize: {
          const uint64_t n = elements_of(tensor(in->op_as_Dequantize()->input()));
          add_cpu(i, -1, in, "dequantize", sim::cpu_dequantize_cycles(cpu(), n), 0, "compute");
          break;
        }
        case fb::Operation::CpuKernels:
          RETURN_IF_ERROR(cpu_kernels(i, in, in->op_as_CpuKernels()->payload()));
          break;
        case fb::Operation::DelegateCall:
          if (delegates_on_cpu_) RETURN_IF_ERROR(cpu_kernels(i, in, in->op_as_DelegateCall()->payload()));
          else RETURN_IF_ERROR(delegate(i, in));
          break;
        default:
          break;
      }
    }
    fold();
    return std::move(perf_);
  }

 private:
  const sim::CpuConfig& cpu() const { return perf_.timing.cpu; }
  const fb::Tensor* tensor(uint32_t k) const {
    return p_.tensors() && k < p_.tensors()->size() ? p_.tensors()->Get(k) : nullptr;
  }
  // The node and op of call `k` of instruction `in` (its origin for files without attribution).
  void attribution(const fb::Instruction* in, int k, const std::string& kind, std::string* node, std::string* op,
                   uint64_t* sram) const {
    *node = in->origin() ? in->origin()->str() : "";
    *op = kind;
    *sram = 0;
    const auto* calls = in->calls();
    const uint32_t c = uint32_t(k < 0 ? 0 : k);
    if (calls == nullptr || c >= calls->size() || p_.nodes() == nullptr) return;
    const fb::KernelCallInfo* info = calls->Get(c);
    *sram = info->sram_bytes();
    if (info->nodes() == nullptr || info->nodes()->size() == 0) return;
    const uint32_t n = info->nodes()->Get(0);
    if (n >= p_.nodes()->size()) return;
    const fb::NodeInfo* ni = p_.nodes()->Get(n);
    if (ni->name()) *node = ni->name()->str();
    if (ni->op()) *op = ni->op()->str();
  }
  std::string payload_error(uint32_t i, const char* what) const {
    return str_cat("instruction ", i, ": ", what);
  }
  StatusOr<runtime::PayloadView> view(uint32_t i, uint32_t payload) const {
    CHECK_OR_RETURN(p_.payloads() && payload < p_.payloads()->size() && p_.payloads()->Get(payload)->data(),
                    Error::InvalidProgram, "instruction ", i, ": payload ", payload, " missing");
    const auto* d = p_.payloads()->Get(payload)->data();
    runtime::PayloadView v;
    const runtime::PayloadStatus ps = runtime::parse_payload(d->data(), d->size(), &v);
    CHECK_OR_RETURN(ps.ok(), Error::InvalidProgram, "instruction ", i, ": payload: ", ps.message);
    return v;
  }

  void add_cpu(uint32_t i, int call, const fb::Instruction* in, const std::string& kind, uint64_t cycles,
               uint64_t macs, const char* bound, const std::string* node_override = nullptr) {
    PerfEvent e;
    e.unit = PerfEvent::Unit::kCpu;
    e.instruction = int(i);
    e.call = call;
    e.kind = kind;
    attribution(in, call, kind, &e.node, &e.op, &e.sram_bytes);
    if (node_override) {
      e.node = *node_override;
      e.op = "Transpose";
    }
    e.start_us = now_us_;
    e.cycles = cycles;
    e.dur_us = sim::cycles_to_ms(cycles, cpu().clock_mhz) * 1000.0;
    e.macs = macs;
    e.bound = bound;
    now_us_ += e.dur_us;
    perf_.cpu_cycles += cycles;
    perf_.cpu_ms += e.dur_us / 1000.0;
    perf_.macs += macs;
    perf_.events.push_back(std::move(e));
  }

  Status cpu_kernels(uint32_t i, const fb::Instruction* in, uint32_t payload) {
    ASSIGN_OR_RETURN(runtime::PayloadView v, view(i, payload));
    npu::InstructionCursor cur(v.mc);
    npu::Instruction inst;
    int k = 0;
    while (cur.next(&inst)) {
      const sim::CpuKernelTiming t = sim::estimate_cpu_kernel(cpu(), v.mc, inst);
      perf_.unmodelled_cpu_kernels |= !t.modelled;
      add_cpu(i, k, in, npu::opcode_name(inst.opcode), t.cycles, t.macs, cpu_bound(t));
      ++k;
    }
    return Status::OK();
  }

  // NCHW <-> NHWC conversions the runtime does on the CPU for flagged delegate IO.
  void io_transposes(uint32_t i, const fb::Instruction* in, const runtime::PayloadView& v, bool outputs) {
    const fb::DelegateCall* d = in->op_as_DelegateCall();
    const auto* list = outputs ? d->outputs() : d->inputs();
    const int n = outputs ? v.num_outputs : v.num_inputs;
    for (int k = 0; k < n; ++k) {
      const uint8_t flag = outputs ? v.output_flags[k] : v.input_flags[k];
      const uint8_t arg = outputs ? v.output_map[k] : v.input_map[k];
      if (!flag || list == nullptr || arg >= list->size()) continue;
      const fb::Tensor* t = tensor(list->Get(arg));
      const std::string name = str_cat(t && t->name() ? t->name()->str() : "?", outputs ? " (NHWC->NCHW)" : " (NCHW->NHWC)");
      add_cpu(i, -1, in, "io_transpose", sim::cpu_transpose_cycles(cpu(), elements_of(t)), 0, "compute", &name);
    }
  }

  Status delegate(uint32_t i, const fb::Instruction* in) {
    ASSIGN_OR_RETURN(runtime::PayloadView v, view(i, in->op_as_DelegateCall()->payload()));
    io_transposes(i, in, v, false);
    const sim::SimConfig& cfg = perf_.timing.npu;
    std::vector<sim::KernelTiming> rec(v.mc.num_instructions());
    const sim::TimingSummary s = sim::estimate_timing(cfg, v.mc, rec.data(), uint32_t(rec.size()));
    const double us_per_cycle = cfg.clock_mhz > 0 ? 1.0 / cfg.clock_mhz : 0;
    for (size_t k = 0; k < rec.size(); ++k) {
      const sim::KernelTiming& r = rec[k];
      PerfEvent e;
      e.unit = PerfEvent::Unit::kNpu;
      e.instruction = int(i);
      e.call = int(k);
      e.kind = npu::opcode_name(r.opcode);
      attribution(in, int(k), e.kind, &e.node, &e.op, &e.sram_bytes);
      e.start_us = now_us_ + double(r.start_cycle) * us_per_cycle;
      e.cycles = r.cycles;
      e.dur_us = double(r.cycles) * us_per_cycle;
      e.macs = r.macs;
      e.bound = sim::bound_name(r.bound);
      const bool async = r.opcode == npu::Opcode::kPrefetch;
      e.transfer_cycles = std::min<uint64_t>(r.cycles, r.stall_cycles + (async ? 0 : r.copy_cycles));
      if (r.copy_cycles) {
        e.copy_start_us = now_us_ + double(r.copy_start_cycle) * us_per_cycle;
        e.copy_dur_us = double(r.copy_cycles) * us_per_cycle;
        e.copy_bytes = r.copy_bytes;
      }
      perf_.npu_cycles += r.cycles - e.transfer_cycles;
      perf_.transfer_cycles += e.transfer_cycles;
      perf_.macs += r.macs;
      perf_.events.push_back(std::move(e));
    }
    perf_.delegate_cycles.push_back(s.total_cycles);
    now_us_ += double(s.total_cycles) * us_per_cycle;
    io_transposes(i, in, v, true);
    return Status::OK();
  }

  void fold() {
    const sim::SimConfig& cfg = perf_.timing.npu;
    const double npu_clock = cfg.clock_mhz;
    perf_.npu_ms = sim::cycles_to_ms(perf_.npu_cycles, npu_clock);
    perf_.transfer_ms = sim::cycles_to_ms(perf_.transfer_cycles, npu_clock);
    perf_.total_ms = perf_.npu_ms + perf_.cpu_ms + perf_.transfer_ms;
    std::map<std::string, size_t> by_node;
    for (const PerfEvent& e : perf_.events) {
      auto [it, added] = by_node.emplace(e.node, perf_.layers.size());
      if (added) {
        PerfLayer l;
        l.index = int(perf_.layers.size());
        l.node = e.node;
        l.op = e.op;
        l.instruction = e.instruction;
        perf_.layers.push_back(l);
      }
      PerfLayer& l = perf_.layers[it->second];
      const bool npu = e.unit == PerfEvent::Unit::kNpu;
      const std::string unit = npu ? "NPU" : "CPU";
      if (l.placement.empty()) l.placement = unit;
      else if (l.placement != unit) l.placement = "NPU+CPU";
      // An event named after its kernel (a file without attribution) keeps the first op seen.
      l.time_us += e.dur_us;
      l.transfer_us += npu ? double(e.transfer_cycles) / (npu_clock > 0 ? npu_clock : 1) : 0;
      l.cycles += e.cycles;
      (npu ? l.npu_cycles : l.cpu_cycles) += e.cycles;
      l.macs += e.macs;
      l.sram_bytes = std::max(l.sram_bytes, e.sram_bytes);
      if (e.cycles >= l.dominant_cycles && e.kind != "prefetch" && e.kind != "wait_prefetch") {
        l.dominant_cycles = e.cycles;
        l.bound = e.bound;
      }
    }
    // Nodes without kernel calls of their own (views, no-ops): zero-time layers after the others
    // of their instruction, so the table names every node of the program.
    if (p_.nodes())
      for (const fb::NodeInfo* n : *p_.nodes()) {
        if (n == nullptr || n->name() == nullptr || by_node.count(n->name()->str())) continue;
        PerfLayer l;
        l.node = n->name()->str();
        l.op = n->op() ? n->op()->str() : "?";
        l.instruction = n->instruction();
        const auto* ins = p_.instructions();
        const bool npu = ins && l.instruction >= 0 && uint32_t(l.instruction) < ins->size() &&
                         ins->Get(uint32_t(l.instruction))->op_type() == fb::Operation::DelegateCall && !delegates_on_cpu_;
        l.placement = npu ? "NPU" : "CPU";
        l.bound = "none";
        size_t at = 0;
        while (at < perf_.layers.size() && perf_.layers[at].instruction <= l.instruction) ++at;
        by_node.emplace(l.node, at);
        perf_.layers.insert(perf_.layers.begin() + ptrdiff_t(at), std::move(l));
      }
    for (size_t k = 0; k < perf_.layers.size(); ++k) perf_.layers[k].index = int(k);
    const double total_us = perf_.total_ms * 1000.0;
    std::map<std::string, size_t> by_op;
    for (PerfLayer& l : perf_.layers) {
      if (l.bound.empty()) l.bound = l.transfer_us > 0 ? "memory" : "overhead";
      // Stalls waiting for weights make a layer memory bound whatever its kernel is.
      if (l.transfer_us > 0.5 * l.time_us) l.bound = "memory";
      l.share = total_us > 0 ? l.time_us / total_us : 0;
      if (l.placement == "NPU") {
        const double peak = double(cfg.macs_per_cycle() > 0 ? cfg.macs_per_cycle() : 1);
        l.utilization = l.npu_cycles ? double(l.macs) / (double(l.npu_cycles) * peak) : 0;
      } else {
        l.utilization = l.cycles ? std::min(1.0, double(l.macs) / (2.0 * double(l.cycles))) : 0;
      }
      auto [it, added] = by_op.emplace(l.op, perf_.op_types.size());
      if (added) perf_.op_types.push_back(PerfOpType{l.op, 0, 0, 0, 0});
      PerfOpType& o = perf_.op_types[it->second];
      ++o.layers;
      o.time_us += l.time_us;
      o.macs += l.macs;
    }
    for (PerfOpType& o : perf_.op_types) o.share = total_us > 0 ? o.time_us / total_us : 0;
    std::stable_sort(perf_.op_types.begin(), perf_.op_types.end(),
                     [](const PerfOpType& a, const PerfOpType& b) { return a.time_us > b.time_us; });
  }

  const fb::Program& p_;
  ProgramPerf perf_;
  bool delegates_on_cpu_ = false;
  double now_us_ = 0;
};

std::vector<const PerfLayer*> top_layers(const ProgramPerf& perf, size_t n) {
  std::vector<const PerfLayer*> v;
  for (const PerfLayer& l : perf.layers) v.push_back(&l);
  std::stable_sort(v.begin(), v.end(), [](const PerfLayer* a, const PerfLayer* b) { return a->time_us > b->time_us; });
  if (v.size() > n) v.resize(n);
  return v;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}

}  // namespace

StatusOr<ProgramPerf> profile_program(const fb::Program& p, const ProgramTiming& timing, bool delegates_on_cpu) {
  Profiler prof(p, timing, delegates_on_cpu);
  return prof.run();
}

const std::vector<PerfColumn>& perf_columns() {
  static const std::vector<PerfColumn> kColumns = {
      {"#", "index", 4, [](const PerfLayer& l) { return std::to_string(l.index); },
       [](const PerfLayer& l) { return Json(l.index); }},
      {"op", "op", -18, [](const PerfLayer& l) { return l.op; }, [](const PerfLayer& l) { return Json(l.op); }},
      {"unit", "placement", -7, [](const PerfLayer& l) { return l.placement; },
       [](const PerfLayer& l) { return Json(l.placement); }},
      {"time_us", "time_us", 10, [](const PerfLayer& l) { return fmt("%.2f", l.time_us); },
       [](const PerfLayer& l) { return Json(l.time_us); }},
      {"cycles", "cycles", 11, [](const PerfLayer& l) { return std::to_string(l.cycles); },
       [](const PerfLayer& l) { return Json(l.cycles); }},
      {"transfer_us", "transfer_us", 11, [](const PerfLayer& l) { return fmt("%.2f", l.transfer_us); },
       [](const PerfLayer& l) { return Json(l.transfer_us); }},
      {"MACs", "macs", 11, [](const PerfLayer& l) { return std::to_string(l.macs); },
       [](const PerfLayer& l) { return Json(l.macs); }},
      {"util", "utilization", 6, [](const PerfLayer& l) { return fmt("%.1f%%", 100.0 * l.utilization); },
       [](const PerfLayer& l) { return Json(l.utilization); }},
      {"bound", "bound", -8, [](const PerfLayer& l) { return l.bound; }, [](const PerfLayer& l) { return Json(l.bound); }},
      {"share", "share", 6, [](const PerfLayer& l) { return fmt("%.1f%%", 100.0 * l.share); },
       [](const PerfLayer& l) { return Json(l.share); }},
      {"SRAM", "sram_bytes", 9, [](const PerfLayer& l) { return std::to_string(l.sram_bytes); },
       [](const PerfLayer& l) { return Json(l.sram_bytes); }},
      {"layer", "node", 0, [](const PerfLayer& l) { return l.node; }, [](const PerfLayer& l) { return Json(l.node); }},
  };
  return kColumns;
}

std::string perf_summary_text(const ProgramPerf& perf) {
  const ProgramTiming& t = perf.timing;
  std::string s = str_cat("latency per inference: ", fmt("%.3f", perf.total_ms), " ms = NPU ", fmt("%.3f", perf.npu_ms),
                          " + CPU ", fmt("%.3f", perf.cpu_ms), " + transfers ", fmt("%.3f", perf.transfer_ms),
                          " ms (NPU ", perf.npu_cycles, " cycles at ", fmt("%g", t.npu.clock_mhz), " MHz, CPU ",
                          perf.cpu_cycles, " cycles at ", fmt("%g", t.cpu.clock_mhz), " MHz Cortex-M33, waits for flash ",
                          perf.transfer_cycles, " cycles; ", perf.macs, " MACs)\n");
  s += str_cat("  timing parameters: ", t.source == "program" ? "carried by the program" : t.source,
               " (target ", t.target.empty() ? "?" : t.target, "); models: docs/npu-model.md, docs/cpu-model.md");
  s += "\n";
  if (!t.assumptions.empty()) {
    std::string names;
    for (const std::string& a : t.assumptions) names += (names.empty() ? "" : ", ") + a;
    s += str_cat("  defaults assumed (the target gives no value): ", names, "\n");
  }
  if (perf.unmodelled_cpu_kernels) s += "  note: some CPU kernel calls have no model of their own (a generic per-element cost)\n";
  return s;
}

std::string perf_table_text(const ProgramPerf& perf) {
  std::ostringstream o;
  auto row = [&](const std::vector<std::string>& cells) {
    const auto& cols = perf_columns();
    std::string line = " ";
    for (size_t c = 0; c < cols.size(); ++c) {
      const int w = cols[c].width;
      char buf[512];
      if (w == 0) std::snprintf(buf, sizeof(buf), " %s", cells[c].c_str());
      else std::snprintf(buf, sizeof(buf), w < 0 ? " %-*s" : " %*s", w < 0 ? -w : w, cells[c].c_str());
      line += buf;
    }
    o << line << "\n";
  };
  auto layer_cells = [&](const PerfLayer& l) {
    std::vector<std::string> cells;
    for (const PerfColumn& c : perf_columns()) cells.push_back(c.text(l));
    return cells;
  };
  std::vector<std::string> head;
  for (const PerfColumn& c : perf_columns()) head.push_back(c.header);
  o << "per layer (execution order; cycles at each unit's clock; prefetches folded into the layer they serve, their "
       "waits in transfer_us):\n";
  row(head);
  for (const PerfLayer& l : perf.layers) row(layer_cells(l));
  o << "\nper op type:\n";
  char line[256];
  std::snprintf(line, sizeof(line), "  %-20s %7s %12s %7s %14s\n", "op", "layers", "time_us", "share", "MACs");
  o << line;
  for (const PerfOpType& t : perf.op_types) {
    std::snprintf(line, sizeof(line), "  %-20s %7d %12.2f %6.1f%% %14llu\n", t.op.c_str(), t.layers, t.time_us,
                  100.0 * t.share, (unsigned long long)t.macs);
    o << line;
  }
  o << "\ntop 10 layers:\n";
  row(head);
  for (const PerfLayer* l : top_layers(perf, 10)) row(layer_cells(*l));
  return o.str();
}

std::string perf_csv(const ProgramPerf& perf) {
  // The name first, as Vela's per-layer CSV; then the other columns in table order.
  const auto& cols = perf_columns();
  std::string s = "node";
  for (const PerfColumn& c : cols)
    if (std::string(c.key) != "node") s += std::string(",") + c.key;
  s += "\n";
  for (const PerfLayer& l : perf.layers) {
    s += csv_cell(l.node);
    for (const PerfColumn& c : cols) {
      if (std::string(c.key) == "node") continue;
      const Json j = c.json(l);
      s += "," + csv_cell(j.is_string() ? j.get<std::string>() : j.dump());
    }
    s += "\n";
  }
  return s;
}

Json perf_json(const ProgramPerf& perf) {
  const ProgramTiming& t = perf.timing;
  Json layers = Json::array();
  for (const PerfLayer& l : perf.layers) {
    Json j = Json::object();
    for (const PerfColumn& c : perf_columns()) j[c.key] = c.json(l);
    layers.push_back(std::move(j));
  }
  Json ops = Json::array();
  for (const PerfOpType& o : perf.op_types)
    ops.push_back(Json{{"op", o.op}, {"layers", o.layers}, {"time_us", o.time_us}, {"share", o.share}, {"macs", o.macs}});
  Json top = Json::array();
  for (const PerfLayer* l : top_layers(perf, 10)) top.push_back(l->index);
  return Json{{"latency_ms", perf.total_ms},
              {"npu_ms", perf.npu_ms},
              {"cpu_ms", perf.cpu_ms},
              {"transfer_ms", perf.transfer_ms},
              {"npu_cycles", perf.npu_cycles},
              {"cpu_cycles", perf.cpu_cycles},
              {"transfer_cycles", perf.transfer_cycles},
              {"macs", perf.macs},
              {"npu_clock_mhz", t.npu.clock_mhz},
              {"cpu_clock_mhz", t.cpu.clock_mhz},
              {"timing_source", t.source},
              {"assumptions", t.assumptions},
              {"layers", layers},
              {"op_types", ops},
              {"top_layers", top}};
}

Status check_report_path(const char* option, const std::string& path) {
  if (path.empty() || path == "-") return Status::OK();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return error(Error::InvalidArgument, option, " ", path, ": is a folder, not a file");
    if (!S_ISREG(st.st_mode)) return Status::OK();  // a device or pipe, written directly
  }
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return error(Error::NotFound, option, " ", path, ": folder '", dir, "' does not exist");
  if (::access(dir.c_str(), W_OK) != 0)
    return error(Error::IoError, option, " ", path, ": folder '", dir, "' is not writable");
  return Status::OK();
}

Json call_attribution_json(const fb::Program& p, uint32_t index) {
  Json calls = Json::array();
  const fb::Instruction* in = p.instructions() && index < p.instructions()->size() ? p.instructions()->Get(index) : nullptr;
  if (in == nullptr || in->calls() == nullptr) return calls;
  // The kernels, from the payload's microcode (Quantize/Dequantize have none).
  std::vector<std::string> kernels;
  uint32_t payload = UINT32_MAX;
  if (const auto* d = in->op_as_DelegateCall()) payload = d->payload();
  if (const auto* c = in->op_as_CpuKernels()) payload = c->payload();
  if (in->op_type() == fb::Operation::Quantize) kernels.push_back("quantize");
  if (in->op_type() == fb::Operation::Dequantize) kernels.push_back("dequantize");
  if (payload != UINT32_MAX && p.payloads() && payload < p.payloads()->size() && p.payloads()->Get(payload)->data()) {
    const auto* d = p.payloads()->Get(payload)->data();
    runtime::PayloadView v;
    if (runtime::parse_payload(d->data(), d->size(), &v).ok()) {
      npu::InstructionCursor cur(v.mc);
      npu::Instruction inst;
      while (cur.next(&inst)) kernels.push_back(npu::opcode_name(inst.opcode));
    }
  }
  for (uint32_t k = 0; k < in->calls()->size(); ++k) {
    const fb::KernelCallInfo* c = in->calls()->Get(k);
    Json nodes = Json::array();
    std::string op;
    if (c->nodes() && p.nodes())
      for (uint32_t n : *c->nodes())
        if (n < p.nodes()->size() && p.nodes()->Get(n)->name()) {
          nodes.push_back(p.nodes()->Get(n)->name()->str());
          if (op.empty() && p.nodes()->Get(n)->op()) op = p.nodes()->Get(n)->op()->str();
        }
    calls.push_back(Json{{"call", k},
                         {"kernel", k < kernels.size() ? kernels[k] : std::string("?")},
                         {"nodes", nodes},
                         {"op", op},
                         {"sram_bytes", c->sram_bytes()}});
  }
  return calls;
}

std::string call_attribution_text(const fb::Program& p, uint32_t index, const std::string& indent) {
  std::string s;
  for (const Json& c : call_attribution_json(p, index)) {
    std::string nodes;
    for (const Json& n : c["nodes"]) nodes += (nodes.empty() ? "" : ", ") + n.get<std::string>();
    char line[96];
    std::snprintf(line, sizeof(line), "%4u %-16s", c["call"].get<unsigned>(), c["kernel"].get<std::string>().c_str());
    s += indent + line + " " + nodes + " (" + c["op"].get<std::string>() + "), SRAM " +
         std::to_string(c["sram_bytes"].get<uint64_t>()) + " B\n";
  }
  return s;
}

std::string perf_chrome_trace(const ProgramPerf& perf, const std::string& program_name) {
  // Times in microseconds, rounded to nanoseconds once per edge so that back-to-back events on a
  // track meet exactly.
  auto ns = [](double us) { return std::llround(us * 1000.0); };
  auto us = [](long long n) { return double(n) / 1000.0; };
  enum { kNpuTrack = 1, kCopyTrack = 2, kCpuTrack = 3 };
  Json events = Json::array();
  events.push_back(Json{{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 0},
                        {"args", {{"name", "neutron " + program_name}}}});
  const std::pair<int, const char*> tracks[] = {
      {kNpuTrack, "NPU"}, {kCopyTrack, "flash -> SRAM copies"}, {kCpuTrack, "CPU (Cortex-M33)"}};
  for (const auto& [tid, name] : tracks) {
    events.push_back(Json{{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"args", {{"name", name}}}});
    events.push_back(Json{{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"args", {{"sort_index", tid}}}});
  }
  for (const PerfEvent& e : perf.events) {
    const bool npu = e.unit == PerfEvent::Unit::kNpu;
    const long long b = ns(e.start_us), end = ns(e.start_us + e.dur_us);
    if (end > b)
      events.push_back(Json{{"name", e.node},
                            {"cat", npu ? "npu" : "cpu"},
                            {"ph", "X"},
                            {"pid", 1},
                            {"tid", npu ? kNpuTrack : kCpuTrack},
                            {"ts", us(b)},
                            {"dur", us(end - b)},
                            {"args",
                             {{"kernel", e.kind},
                              {"op", e.op},
                              {"instruction", e.instruction},
                              {"call", e.call},
                              {"cycles", e.cycles},
                              {"macs", e.macs},
                              {"transfer_cycles", e.transfer_cycles},
                              {"bound", e.bound}}}});
    if (e.copy_dur_us > 0) {
      const long long cb = ns(e.copy_start_us), ce = ns(e.copy_start_us + e.copy_dur_us);
      if (ce > cb)
        events.push_back(Json{{"name", e.node},
                              {"cat", "copy"},
                              {"ph", "X"},
                              {"pid", 1},
                              {"tid", kCopyTrack},
                              {"ts", us(cb)},
                              {"dur", us(ce - cb)},
                              {"args", {{"bytes", e.copy_bytes}, {"kind", e.kind == "prefetch" ? "prefetch" : "fetch"}}}});
    }
  }
  Json doc{{"traceEvents", events},
           {"displayTimeUnit", "ns"},
           {"otherData",
            {{"program", program_name},
             {"latency_ms", perf.total_ms},
             {"npu_ms", perf.npu_ms},
             {"cpu_ms", perf.cpu_ms},
             {"transfer_ms", perf.transfer_ms}}}};
  return doc.dump(1) + "\n";
}

}  // namespace neutron::cli
