// `neutron compile` (model -> partitioned program + delegation report) and `neutron supported-ops`
// (the support rule table as markdown, docs/supported-ops.md).
#include <cctype>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/memory_budget.h"
#include "core/progress.h"
#include "core/version.h"
#include "export/onnx/onnx_writer.h"
#include "ir/printer.h"
#include "import/onnx/onnx_importer.h"
#include "partition/op_support.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "target/target.h"
#include "compiler/compiler.h"
#include "compiler/program_file.h"
#include "runtime/payload.h"
#include "sim/sim_config_target.h"
#include "sim/timing.h"
#include "tools/cli.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/perf_report.h"
#include "tools/memory_verdict.h"
#include "tools/reports.h"
#include "tools/sample_model.h"

namespace neutron::cli {

StatusOr<std::vector<OpKind>> parse_op_list(const std::string& list) {
  std::vector<OpKind> ops;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!name.empty()) {
      auto k = op_kind_from_name(name);
      if (!k)
        return error(Error::InvalidArgument, "--no-delegate: unknown op type '", name,
                     "' (use IR op type names such as Conv, Gemm, Softmax, Add)");
      ops.push_back(*k);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ops;
}

namespace {

bool has_qdq(const Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const OpKind k = g.node(id).kind;
    if (k == OpKind::QuantizeLinear || k == OpKind::DequantizeLinear) return true;
  }
  return false;
}

std::string percent(double num, double den) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", den > 0 ? 100.0 * num / den : 0.0);
  return buf;
}

// Per op type: counts and the rules that kept its nodes on the CPU.
struct OpRow {
  std::string op;
  int count = 0, npu = 0, cpu = 0;
  std::vector<std::pair<std::string, int>> rules;  // rule name, count (first-seen order)
};

std::vector<OpRow> op_rows(const Graph& g, const Partitioning& p, const std::vector<NodeId>& order) {
  std::vector<OpRow> rows;
  for (NodeId id : order) {
    const std::string op = op_kind_name(g.node(id).kind);
    auto it = std::find_if(rows.begin(), rows.end(), [&](const OpRow& r) { return r.op == op; });
    if (it == rows.end()) {
      OpRow row;
      row.op = op;
      rows.push_back(row);
      it = rows.end() - 1;
    }
    ++it->count;
    if (p.on_npu(id)) {
      ++it->npu;
      continue;
    }
    ++it->cpu;
    const std::string rule = p.nodes[size_t(id)].rejection ? p.nodes[size_t(id)].rejection->rule : "?";
    auto r = std::find_if(it->rules.begin(), it->rules.end(), [&](const auto& x) { return x.first == rule; });
    if (r == it->rules.end()) it->rules.emplace_back(rule, 1);
    else ++r->second;
  }
  return rows;
}

std::string rules_cell(const OpRow& row) {
  std::string s;
  for (const auto& [rule, n] : row.rules) s += (s.empty() ? "" : "; ") + rule + (n > 1 ? str_cat(" (", n, ")") : "");
  return s;
}

void print_report(std::string* out, const Graph& g, const Partitioning& p, const std::vector<NodeId>& order,
                  const NeutronTarget& t) {
  const auto rows = op_rows(g, p, order);
  appendf(out, "%-20s %6s %6s %6s  %s\n", "Operator", "Count", "NPU", "CPU", "Reason (rules that kept nodes on the CPU)");
  for (const auto& r : rows) appendf(out, "%-20s %6d %6d %6d  %s\n", r.op.c_str(), r.count, r.npu, r.cpu, rules_cell(r).c_str());

  int npu = 0, compute = 0, compute_npu = 0;
  int64_t macs = 0, npu_macs = 0;
  for (NodeId id : order) {
    const int64_t m = p.nodes[size_t(id)].macs;
    macs += m;
    compute += m > 0;
    if (p.on_npu(id)) {
      ++npu;
      npu_macs += m;
      compute_npu += m > 0;
    }
  }
  appendf(out, "\ntarget %s (%s): %zu partition(s)\n", t.name.c_str(), t.description.c_str(), p.partitions.size());
  appendf(out, "ops on the NPU:  %d of %zu (%s); ops with MACs (conv, matmul, pools): %d of %d (%s)\n", npu, order.size(),
              percent(npu, double(order.size())).c_str(), compute_npu, compute, percent(compute_npu, compute).c_str());
  appendf(out, "MACs on the NPU: %lld of %lld (%s)\n", (long long)npu_macs, (long long)macs,
              percent(double(npu_macs), double(macs)).c_str());
  for (const Partition& part : p.partitions)
    appendf(out, "  partition %d: %zu nodes, %zu inputs, %zu outputs, %lld MACs, transposes after layout-nhwc: %d at the "
                "boundary, %d inside\n",
                part.id, part.nodes.size(), part.inputs.size(), part.outputs.size(), (long long)part.macs,
                part.boundary_transposes, part.internal_transposes);
  bool header = false;
  for (NodeId id : order) {
    const auto& rej = p.nodes[size_t(id)].rejection;
    if (p.on_npu(id) || !rej) continue;
    if (!header) appendf(out, "\nCPU nodes:\n");
    header = true;
    appendf(out, "  %s: %s: %s%s%s\n", describe(g, id).c_str(), rej->rule.c_str(), rej->reason.c_str(),
                rej->detail.empty() ? "" : " [", rej->detail.empty() ? "" : (rej->detail + "]").c_str());
  }
}

// The delegation part of the compile document (docs/json-schemas.md).
void add_delegation_json(Json* doc, const Graph& g, const Partitioning& p, const std::vector<NodeId>& order) {
  int npu = 0;
  int64_t macs = 0, npu_macs = 0;
  for (NodeId id : order) {
    macs += p.nodes[size_t(id)].macs;
    if (p.on_npu(id)) {
      ++npu;
      npu_macs += p.nodes[size_t(id)].macs;
    }
  }
  (*doc)["summary"] = Json{{"nodes", order.size()},
                           {"npu_nodes", npu},
                           {"cpu_nodes", int64_t(order.size()) - npu},
                           {"partitions", p.partitions.size()},
                           {"macs", macs},
                           {"npu_macs", npu_macs},
                           {"npu_node_share", order.empty() ? 0.0 : double(npu) / double(order.size())},
                           {"npu_mac_share", macs ? double(npu_macs) / double(macs) : 0.0}};
  Json ops = Json::array();
  for (const OpRow& r : op_rows(g, p, order)) {
    Json rules = Json::array();
    for (const auto& [rule, n] : r.rules) rules.push_back(Json{{"rule", rule}, {"count", n}});
    ops.push_back(Json{{"op", r.op}, {"count", r.count}, {"npu", r.npu}, {"cpu", r.cpu}, {"cpu_rules", rules}});
  }
  (*doc)["operators"] = ops;
  auto names = [&](const std::vector<TensorId>& ts) {
    Json a = Json::array();
    for (TensorId t : ts) a.push_back(g.tensor(t).name);
    return a;
  };
  Json parts = Json::array();
  for (const Partition& part : p.partitions)
    parts.push_back(Json{{"id", part.id},
                         {"nodes", part.nodes.size()},
                         {"macs", part.macs},
                         {"inputs", names(part.inputs)},
                         {"outputs", names(part.outputs)},
                         {"boundary_transposes", part.boundary_transposes},
                         {"internal_transposes", part.internal_transposes}});
  (*doc)["partitions"] = parts;
  Json nodes = Json::array();
  for (NodeId id : order) {
    const NodePlacement& pl = p.nodes[size_t(id)];
    Json n{{"name", g.node(id).name},
           {"op", op_kind_name(g.node(id).kind)},
           {"placement", pl.partition >= 0 ? "NPU" : "CPU"},
           {"partition", pl.partition >= 0 ? Json(pl.partition) : Json(nullptr)},
           {"macs", pl.macs},
           {"rule", nullptr},
           {"reason", nullptr},
           {"detail", nullptr}};
    if (pl.partition < 0 && pl.rejection) {
      n["rule"] = pl.rejection->rule;
      n["reason"] = pl.rejection->reason;
      n["detail"] = pl.rejection->detail;
    }
    nodes.push_back(std::move(n));
  }
  (*doc)["nodes"] = nodes;
}

struct NpuPartitionResult {
  std::vector<uint8_t> payload;
  std::string plan;  // the compiler's plan (compiler/estimate.h describe_plan)
  sim::TimingSummary timing;
  std::vector<sim::KernelTiming> kernels;
};

StatusOr<NpuPartitionResult> time_payload(const std::vector<uint8_t>& payload, const sim::SimConfig& cfg) {
  NpuPartitionResult r;
  r.payload = payload;
  runtime::PayloadView view;
  runtime::PayloadStatus ps = runtime::parse_payload(r.payload.data(), r.payload.size(), &view);
  CHECK_OR_RETURN(ps.ok(), Error::Internal, "the compiler produced a payload the runtime rejects: ", ps.message);
  r.kernels.resize(view.mc.num_instructions());
  r.timing = sim::estimate_timing(cfg, view.mc, r.kernels.data(), uint32_t(r.kernels.size()));
  return r;
}

void print_program_summary(std::string* out, const compiler::ProgramFile& pf, const std::string& path) {
  appendf(out, "\nprogram %s: %zu bytes, %zu instructions\n", path.c_str(), pf.bytes.size(), pf.instructions.size());
  for (size_t i = 0; i < pf.instructions.size(); ++i) {
    const auto& in = pf.instructions[i];
    std::string origin = in.origin;
    if (origin.size() > 70) origin = origin.substr(0, 67) + "...";
    appendf(out, "  %3zu %-12s payload %8zu B, scratch %8llu B  %s\n", i, in.kind.c_str(), in.payload_bytes,
                (unsigned long long)in.scratch_bytes, origin.c_str());
  }
  appendf(out, "memory plan: arena %llu bytes (greedy by size); lower bound %llu bytes (most bytes live at one kernel "
              "call); ratio %.3f\n",
              (unsigned long long)pf.arena_bytes, (unsigned long long)pf.lower_bound_bytes,
              pf.lower_bound_bytes ? double(pf.arena_bytes) / double(pf.lower_bound_bytes) : 1.0);
}

Json program_json(const compiler::ProgramFile& pf, const std::string& path) {
  Json ins = Json::array();
  for (const auto& in : pf.instructions)
    ins.push_back(Json{{"kind", in.kind}, {"origin", in.origin}, {"payload_bytes", in.payload_bytes},
                       {"scratch_bytes", in.scratch_bytes}});
  return Json{{"file", path.empty() ? Json(nullptr) : Json(path)},
              {"bytes", pf.bytes.size()},
              {"arena_bytes", pf.arena_bytes},
              {"lower_bound_bytes", pf.lower_bound_bytes},
              {"instructions", ins}};
}

Json npu_json(const std::vector<NpuPartitionResult>& npu) {
  double ms = 0;
  uint64_t macs = 0, cycles = 0;
  Json parts = Json::array();
  for (const auto& r : npu) {
    ms += r.timing.latency_ms;
    macs += r.timing.macs;
    cycles += r.timing.total_cycles;
    parts.push_back(Json{{"payload_bytes", r.payload.size()},
                         {"latency_ms", r.timing.latency_ms},
                         {"cycles", r.timing.total_cycles},
                         {"macs", r.timing.macs},
                         {"utilization", r.timing.utilization}});
  }
  return Json{{"latency_ms", ms}, {"cycles", cycles}, {"macs", macs}, {"partitions", parts}};
}

// The compile document's common head.
Json compile_document(const std::string& model, const std::string& target, const std::vector<OpKind>& deny) {
  Json doc = json_document("compile");
  doc["model"] = model;
  doc["target"] = target;
  Json nd = Json::array();
  for (OpKind k : deny) nd.push_back(op_kind_name(k));
  doc["no_delegate"] = nd;
  return doc;
}

// The program's whole-model latency and per-layer attribution (tools/perf_report.h), from the
// bytes just written: what `run` will report for the same file.
StatusOr<ProgramPerf> program_perf(const std::vector<uint8_t>& bytes) {
  const fb::Program* p = fb::GetProgram(bytes.data());
  ASSIGN_OR_RETURN(ProgramTiming timing, program_timing(*p, nullptr));
  return profile_program(*p, timing);
}

void print_npu_summary(std::string* out, const std::vector<NpuPartitionResult>& npu, const NeutronTarget& t,
                       bool per_kernel) {
  double ms = 0;
  uint64_t macs = 0, cycles = 0;
  for (const auto& r : npu) {
    ms += r.timing.latency_ms;
    macs += r.timing.macs;
    cycles += r.timing.total_cycles;
  }
  appendf(out, "\nsimulated NPU time (timing model, docs/npu-model.md): %.3f ms at %s, %llu cycles, %llu MACs",
              ms, t.name.c_str(), (unsigned long long)cycles, (unsigned long long)macs);
  if (cycles)
    appendf(out, ", MAC utilization %.1f%%", 100.0 * double(macs) / (double(cycles) * double(t.num_pipes * t.num_macs)));
  appendf(out, "\n");
  for (size_t k = 0; k < npu.size(); ++k) {
    appendf(out, "  partition %zu: payload %zu bytes, %.3f ms, utilization %.1f%%, %zu kernels\n", k,
                npu[k].payload.size(), npu[k].timing.latency_ms, 100.0 * npu[k].timing.utilization,
                npu[k].kernels.size());
    if (!per_kernel) continue;
    // The plan's choices (weight streaming); its per-layer estimate is in the listing, the
    // per-layer times in the table below (--profile).
    for (size_t at = 0; at < npu[k].plan.size();) {
      size_t end = npu[k].plan.find('\n', at);
      if (end == std::string::npos) end = npu[k].plan.size();
      const std::string line = npu[k].plan.substr(at, end - at);
      if (line.rfind("  weights: ", 0) == 0) appendf(out, "    plan: %s\n", line.c_str() + 2);
      at = end + 1;
    }
  }
}

}  // namespace

CommandResult<CompileResult> compile_command(const CompileArgs& a, const InMemory& inmem) {
  const std::string &model = a.model, &target_name = a.target, &out_path = a.output,
                    &calib_path = a.inputs, &no_delegate = a.no_delegate, &listing_path = a.listing;
  const bool profile = a.profile;
  compiler::CompileOptions copts;
  copts.fetch_constants_to_sram = a.fetch_constants_to_sram;
  if (!a.weights_sram_budget.empty()) {
    uint64_t bytes = 0;
    if (!parse_byte_size(a.weights_sram_budget, &bytes) || bytes > (uint64_t(1) << 40))
      return UsageError{"compile: --weights-sram-budget takes a positive size in bytes with an optional K, M, G or T "
                        "suffix (at most 1T), got '" + a.weights_sram_budget + "'"};
    copts.weights_sram_budget_bytes = int64_t(bytes);
  }
  const bool calibrate = !calib_path.empty() || inmem.samples;
  QuantizeOptions qo;
  if (Status s = quantize_options(a.quant, "compile", &qo); !s.ok()) return UsageError{s.message()};
  if (!a.save_quantized.empty() && !calibrate)
    return UsageError{"compile: --save-quantized writes the model quantized with -i CALIB (a float model)"};
  auto deny = parse_op_list(no_delegate);
  if (!deny.ok()) return UsageError{"compile: --no-delegate: " + deny.status().message()};

  // --target cpu: no delegation, every op as CPU kernel calls (the comparison program).
  const bool cpu_only = target_name == "cpu";
  auto target = cpu_only ? StatusOr<NeutronTarget>(compiler::cpu_kernel_target()) : load_target(target_name);
  if (!target.ok()) return target.status();
  Status st = cpu_only ? Status::OK() : check_target_supported(target.value());
  if (!st.ok()) return st;

  step("importing " + model);
  auto g = import_model(model, "compile", inmem.model);
  if (!g.ok()) return g.status();
  Graph graph = std::move(g).value();
  std::string quantized_onnx;  // --save-quantized
  if (!has_qdq(graph)) {
    if (!calibrate)
      return error(Error::InvalidArgument, model,
                        " is a float model (no QuantizeLinear/DequantizeLinear): the Neutron NPU runs only int8 ops, "
                        "so nothing would be delegated. Quantize it: add -i CALIB.npy|DIR (calibration samples) to this "
                        "command, or run `neutron quantize ",
                        model, " -i CALIB -o MODEL_int8.onnx` first");
    st = run_passes(graph, prequant_pipeline());
    if (!st.ok()) return st.with_context(model);
    auto calib = inmem.samples ? make_calibration_set(model_inputs(graph), *inmem.samples)
                             : load_calibration_data(calib_path, model_inputs(graph));
    if (!calib.ok()) return calib.status();
    ProgressReporter progress;
    if (show_progress()) qo.progress = progress.callback();
    step(str_cat("quantizing on ", calib->size(), " calibration samples"));
    auto q = quantize_graph(graph, calib.value(), qo);
    progress.finish();
    if (!q.ok()) return q.status().with_context(model);
    graph = std::move(q).value();
    if (!a.save_quantized.empty()) {
      // The QDQ model as `neutron quantize` writes it, before the compile passes change it.
      OnnxExportOptions export_options;
      export_options.producer_version = tool_version();
      auto bytes = export_onnx(graph, export_options);
      if (!bytes.ok()) return bytes.status().with_context(a.save_quantized);
      quantized_onnx = std::move(bytes).value();
    }
  } else if (calibrate) {
    note(model + " is already quantized; -i is not used");
  }
  if (!qo.keep_float.empty() && calib_path.empty())
    note("--keep-float applies when quantizing a float model (-i CALIB); " + model +
         " is quantized already: its float ops stay float as they are");
  if (!a.save_quantized.empty() && quantized_onnx.empty())
    return UsageError{"compile: --save-quantized: " + model + " is already quantized (nothing to save)"};
  st = run_passes(graph, compile_pipeline());
  if (!st.ok()) return st.with_context(model);

  compiler::ProgramFileOptions popts;
  popts.npu = copts;
  popts.generator = str_cat("neutron ", tool_version());
  popts.model_name = model.substr(model.find_last_of('/') == std::string::npos ? 0 : model.find_last_of('/') + 1);
  if (cpu_only) {
    if (!no_delegate.empty()) note("--target cpu delegates nothing; --no-delegate is not used");
    auto pf = compiler::build_program_file(graph, nullptr, target.value(), popts);
    if (!pf.ok()) return pf.status().with_context(model);
    auto perf = program_perf(pf->bytes);
    if (!perf.ok()) return perf.status().with_context(out_path);
    DriverSession driver;
    if (Status ds = driver.init(); !ds.ok()) return ds;
    auto mem = memory_verdict(pf->bytes, nullptr);
    if (!mem.ok()) return mem.status().with_context(model);
    CompileResult r;
    r.program.assign(pf->bytes.begin(), pf->bytes.end());
    r.quantized_onnx = std::move(quantized_onnx);
    if (!a.perf_csv.empty()) r.perf_csv = perf_csv(perf.value());
    // Same keys as a delegating compile; nothing is partitioned.
    Json doc = compile_document(model, "cpu", {});
    doc["summary"] = nullptr;
    doc["operators"] = Json::array();
    doc["partitions"] = Json::array();
    doc["nodes"] = Json::array();
    doc["program"] = program_json(pf.value(), out_path);
    doc["npu"] = npu_json({});
    doc["performance"] = perf_json(perf.value());
    doc["memory"] = memory_json(mem.value(), "cpu");
    r.report = std::move(doc);
    if (!listing_path.empty()) {
      std::string text = "# neutron program listing: target cpu\n" + print_graph(graph);
      for (size_t k = 0; k < pf->instructions.size(); ++k)
        if (!pf->instructions[k].payload.empty())
          text += str_cat("\n# instruction ", k, " ", pf->instructions[k].kind, " payload\n",
                          compiler::disassemble_payload(pf->instructions[k].payload), "# kernel calls and their nodes\n",
                          call_attribution_text(*fb::GetProgram(pf->bytes.data()), uint32_t(k), ""));
      r.listing = std::move(text);
    }
    if (!quiet()) {
      print_program_summary(&r.text, pf.value(), out_path);
      print_memory_verdict(&r.text, mem.value(), "cpu");
      appendf(&r.text, "\n%s", perf_summary_text(perf.value()).c_str());
      if (profile) appendf(&r.text, "\n%s", perf_table_text(perf.value()).c_str());
    }
    return r;
  }

  PartitionOptions options;
  options.no_delegate = deny.value();
  options.keep_float = qo.keep_float;
  step("partitioning for " + target->name);
  auto part = partition_graph(graph, target.value(), options);
  if (!part.ok()) return part.status().with_context(model);
  st = analyze_partition_layout(graph, &part.value());
  if (!st.ok()) return st.with_context(model);
  auto order = graph.topological_order();
  if (!order.ok()) return order.status();

  step(str_cat("compiling ", part->partitions.size(), " partition(s) into a program"));
  auto pf = compiler::build_program_file(graph, &part.value(), target.value(), popts);
  if (!pf.ok()) return pf.status().with_context(model);
  // The timing model's estimate of each Neutron payload.
  auto sim_cfg = sim::sim_config_from_target(target.value());
  if (!sim_cfg.ok()) return sim_cfg.status();
  std::vector<NpuPartitionResult> npu;
  for (const auto& in : pf->instructions) {
    if (in.kind != "delegate") continue;
    auto pr = time_payload(in.payload, sim_cfg.value());
    if (!pr.ok()) return pr.status().with_context(str_cat(model, ": partition ", in.partition));
    pr->plan = in.plan;
    npu.push_back(std::move(pr).value());
  }
  auto perf = program_perf(pf->bytes);
  if (!perf.ok()) return perf.status().with_context(out_path);
  // The memory verdict against the target's SRAM: too big is an error unless --allow-oversize.
  DriverSession driver;
  if (Status ds = driver.init(); !ds.ok()) return ds;
  auto mem = memory_verdict(pf->bytes, &target.value());
  if (!mem.ok()) return mem.status().with_context(model);
  if (!mem->fits) {
    const std::string why = oversize_message(mem.value(), model, target->name, !a.allow_oversize);
    if (!a.allow_oversize) return error(Error::InvalidArgument, why);
    std::fprintf(stderr, "neutron: warning: %s\n", why.c_str());  // even with -q: the program may not run
  }
  CompileResult r;
  r.program.assign(pf->bytes.begin(), pf->bytes.end());
  r.quantized_onnx = std::move(quantized_onnx);
  if (!a.perf_csv.empty()) r.perf_csv = perf_csv(perf.value());
  if (!listing_path.empty()) {
    std::string text = "# neutron program listing: the partitioned graph and each payload\n";
    text += "target " + target->name + "\n";
    text += "no-delegate " + (no_delegate.empty() ? std::string("-") : no_delegate) + "\n";
    text += print_partitioned_graph(graph, part.value());
    for (size_t k = 0; k < pf->instructions.size(); ++k)
      if (!pf->instructions[k].payload.empty())
        text += str_cat("\n# instruction ", k, " ", pf->instructions[k].kind, " payload (",
                        pf->instructions[k].payload.size(), " bytes)\n",
                        compiler::disassemble_payload(pf->instructions[k].payload), pf->instructions[k].plan,
                        "# kernel calls and their nodes\n",
                        call_attribution_text(*fb::GetProgram(pf->bytes.data()), uint32_t(k), ""));
    r.listing = std::move(text);
  }
  Json doc = compile_document(model, target->name, deny.value());
  add_delegation_json(&doc, graph, part.value(), order.value());
  doc["program"] = program_json(pf.value(), out_path);
  doc["npu"] = npu_json(npu);
  doc["performance"] = perf_json(perf.value());
  doc["memory"] = memory_json(mem.value(), target->name);
  r.report = std::move(doc);
  if (quiet()) return r;
  print_report(&r.text, graph, part.value(), order.value(), target.value());
  print_npu_summary(&r.text, npu, target.value(), profile);
  print_program_summary(&r.text, pf.value(), out_path);
  print_memory_verdict(&r.text, mem.value(), target->name);
  appendf(&r.text, "\n%s", perf_summary_text(perf.value()).c_str());
  if (profile) appendf(&r.text, "\n%s", perf_table_text(perf.value()).c_str());
  return r;
}

int cmd_compile(const CompileArgs& a) {
  if (int rc = check_outputs("compile", {{"the input model", a.model}, {"-i", a.inputs}, {"--target", a.target}},
                             {{"-o", a.output}, {"--json", a.json}, {"--listing", a.listing},
                              {"--save-quantized", a.save_quantized}, {"--perf-csv", a.perf_csv}}))
    return rc;
  if (Status s = check_report_path("--perf-csv", a.perf_csv); !s.ok()) return fail(s);
  auto r = compile_command(a);
  if (!r.ok()) return report_failure(r);
  // All outputs are committed together once everything succeeded: a failed run leaves no new program.
  OutputFiles outputs;
  outputs.add(a.output, std::move(r->program));
  if (!a.perf_csv.empty()) outputs.add(a.perf_csv, std::move(r->perf_csv));
  if (!a.save_quantized.empty()) outputs.add(a.save_quantized, std::move(r->quantized_onnx));
  // (the order the files are committed in, as before: --target cpu wrote the JSON before the listing)
  if (a.target == "cpu" && !a.json.empty()) outputs.add(a.json, json_text(r->report));
  if (!a.listing.empty()) outputs.add(a.listing, std::move(r->listing));
  if (a.target != "cpu" && !a.json.empty()) outputs.add(a.json, json_text(r->report));
  const Status st = outputs.commit();
  if (!st.ok()) return fail(st);
  std::fputs(r->text.c_str(), stdout);
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string md_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '|') r += '\\';
    r += c;
  }
  return r;
}

std::string supported_ops_markdown(const NeutronTarget& t) {
  std::ostringstream md;
  md << "<!-- Generated by `neutron supported-ops --target " << t.name
     << "` from src/partition/rules/*.cc and src/target/targets/" << t.name << ".json. Do not edit. -->\n\n";
  md << "# Operators on the Neutron NPU: " << t.name << "\n\n";
  md << t.description << ": " << neutron_kind_name(t.kind) << ", " << neutron_hw_version_name(t.hw_version) << ", "
     << t.num_pipes << " pipelines x " << t.num_macs << " MACs = " << t.macs_per_cycle() << " MACs/cycle at "
     << t.clock_mhz << " MHz.\n\n";
  const Status supported = check_target_supported(t);
  if (!supported.ok()) md << "**Not a delegation target:** " << supported.message() << ".\n\n";
  md << "The rules are those of ExecuTorch's NXP backend (its partitioner and node converters), applied to this "
        "project's IR after fold-qdq, before layout-nhwc (tensors NCHW). A node is delegated when it passes its op's "
        "rules in order; the first failing rule is the reason reported by `neutron compile`. Limits come from the "
        "target description.\n\n";
  md << "## Partitioning\n\n";
  md << "* `quant.int8_io` (every delegated op first, after the few rules listed before it that keep a node in float): " << md_escape(int8_io_rule(QuantInputs::kAll).reason(t))
     << ". Ops whose weights are separate inputs (Conv, ConvTranspose, Gemm, MatMul) check only the data input here.\n";
  md << "* `npu.payload` (every delegated op last): " << md_escape(npu_payload_rule().reason(t))
     << "; the node is lowered as the compiler lowers it and its kernel calls get the check the NPU runs on a payload "
        "at load, so the partitioner never delegates what the NPU would refuse (e.g. a max pool wider than 4096). "
        "Such a node runs as CPU kernel calls, checked against the CPU kernels' own limits.\n";
  md << "* `user.no_delegate`: op types listed in `--no-delegate` stay on the CPU.\n";
  md << "* `user.keep_float`: op types or node names listed in `--keep-float` (with `-i CALIB`) stay in float; the "
        "program runs them as float CPU kernel calls with quantize / dequantize calls at their edges.\n";
  md << "* `float.no_int8_kernel`: a node reading dequantized tensors that is still float after fold-qdq (no int8 "
        "kernel took it) runs as float CPU kernel calls too; `compile` never fails because one node cannot be "
        "quantized.\n";
  md << "* Partitions are maximal connected groups of delegated nodes that keep the graph acyclic.\n";
  md << "* `partition.all_no_op`: a partition made only of ops that are no-ops on Neutron (Reshape, Identity, "
        "Dropout, single-input Concat, Transpose of a constant or identity permutation, Add/Sub of zero, Mul by one, "
        "ReduceMax/Min/Sum over size-1 dims) is not emitted.\n";
  md << "* Context rules (below, per op) are checked on the proposed partitions; rejected nodes go to the CPU and "
        "partitioning repeats until stable.\n\n";

  md << "## Target parameters\n\n| parameter | value | source or assumption |\n|---|---|---|\n";
  for (const auto& f : t.fields)
    md << "| `" << f.name << "` | " << md_escape(f.value) << " | " << (f.assumption ? "*assumption:* " : "")
       << md_escape(f.provenance) << " |\n";
  md << "| softmax max channels (derived) | " << t.softmax_max_channels()
     << " | largest multiple of num_macs below 4 * 4096 / num_pipes |\n";
  md << "| softmax max elements (derived) | " << t.softmax_max_elements() << " | 65536 * num_macs |\n\n";

  md << "## Delegated operators\n\n| IR op | upstream op | Neutron (LiteRT) op |\n|---|---|---|\n";
  for (const OpSupport& s : op_support_table())
    if (s.delegable)
      md << "| [" << op_kind_name(s.kind) << "](#" << lower(op_kind_name(s.kind)) << ") | `" << md_escape(s.upstream) << "` | "
         << md_escape(s.neutron_op) << " |\n";
  md << "\n";
  for (const OpSupport& s : op_support_table()) {
    if (!s.delegable) continue;
    md << "### " << op_kind_name(s.kind) << "\n\n";
    md << "| rule | requirement |\n|---|---|\n";
    const Rule common = int8_io_rule(s.quant_inputs);
    for (const Rule& r : s.rules)
      if (r.before_quant) md << "| `" << r.name << "` | " << md_escape(r.reason(t)) << " |\n";
    md << "| `" << common.name << "` | " << md_escape(common.reason(t)) << " |\n";
    for (const Rule& r : s.rules)
      if (!r.before_quant) md << "| `" << r.name << "` | " << md_escape(r.reason(t)) << " |\n";
    for (const ContextRule& r : s.context_rules)
      md << "| `" << r.name << "` (partition context) | " << md_escape(r.reason(t)) << " |\n";
    if (s.is_noop)
      md << "\n" << (s.noop_when == "always" ? "Always a no-op" : "A no-op") << " on Neutron (for `partition.all_no_op`)"
         << (s.noop_when == "always" ? "" : " when " + s.noop_when) << ".\n";
    for (const std::string& n : s.notes) md << "\n* " << n;
    md << (s.notes.empty() ? "\n" : "\n\n");
  }
  md << "## Not delegated\n\n| IR op | rule | reason | upstream |\n|---|---|---|---|\n";
  for (const OpSupport& s : op_support_table())
    if (!s.delegable)
      md << "| " << op_kind_name(s.kind) << " | `" << s.rules.front().name << "` | " << md_escape(s.rules.front().reason(t))
         << " | " << md_escape(s.upstream) << " |\n";
  return md.str();
}

// The same rule table as a JSON document (docs/json-schemas.md).
Json supported_ops_json(const NeutronTarget& t) {
  Json doc = json_document("supported-ops");
  const Status supported = check_target_supported(t);
  doc["target"] = Json{{"name", t.name},
                       {"description", t.description},
                       {"kind", neutron_kind_name(t.kind)},
                       {"hw_version", neutron_hw_version_name(t.hw_version)},
                       {"num_pipes", t.num_pipes},
                       {"num_macs", t.num_macs},
                       {"macs_per_cycle", t.macs_per_cycle()},
                       {"clock_mhz", t.clock_mhz},
                       {"delegation_supported", supported.ok()},
                       {"not_supported_reason", supported.ok() ? Json(nullptr) : Json(supported.message())}};
  Json params = Json::array();
  for (const auto& f : t.fields)
    params.push_back(Json{{"name", f.name}, {"value", f.value}, {"provenance", f.provenance}, {"assumption", f.assumption}});
  doc["parameters"] = params;
  Json delegated = Json::array(), not_delegated = Json::array();
  for (const OpSupport& s : op_support_table()) {
    if (!s.delegable) {
      not_delegated.push_back(Json{{"op", op_kind_name(s.kind)},
                                   {"rule", s.rules.front().name},
                                   {"reason", s.rules.front().reason(t)},
                                   {"upstream", s.upstream}});
      continue;
    }
    Json rules = Json::array();
    const Rule common = int8_io_rule(s.quant_inputs);
    for (const Rule& r : s.rules)  // in evaluation order (op_support.h)
      if (r.before_quant) rules.push_back(Json{{"rule", r.name}, {"requirement", r.reason(t)}, {"context", false}});
    rules.push_back(Json{{"rule", common.name}, {"requirement", common.reason(t)}, {"context", false}});
    for (const Rule& r : s.rules)
      if (!r.before_quant) rules.push_back(Json{{"rule", r.name}, {"requirement", r.reason(t)}, {"context", false}});
    for (const ContextRule& r : s.context_rules)
      rules.push_back(Json{{"rule", r.name}, {"requirement", r.reason(t)}, {"context", true}});
    delegated.push_back(Json{{"op", op_kind_name(s.kind)},
                             {"upstream", s.upstream},
                             {"neutron_op", s.neutron_op},
                             {"rules", rules},
                             {"noop_when", s.is_noop ? Json(s.noop_when) : Json(nullptr)},
                             {"notes", s.notes}});
  }
  doc["delegated"] = delegated;
  doc["not_delegated"] = not_delegated;
  return doc;
}

}  // namespace

CommandResult<SupportedOpsResult> supported_ops_command(const SupportedOpsArgs& a) {
  auto target = load_target(a.target);
  if (!target.ok()) return target.status();
  SupportedOpsResult r;
  r.markdown = supported_ops_markdown(target.value());
  r.report = supported_ops_json(target.value());
  return r;
}

int cmd_supported_ops(const SupportedOpsArgs& a) {
  const std::string &target_name = a.target, &out_path = a.output;
  if (int rc = check_outputs("supported-ops", {{"--target", target_name}}, {{"-o", out_path}, {"--json", a.json}}))
    return rc;
  auto r = supported_ops_command(a);
  if (!r.ok()) return report_failure(r);
  const std::string& md = r->markdown;
  OutputFiles outputs;
  if (!out_path.empty()) outputs.add(out_path, md);
  if (!a.json.empty()) outputs.add(a.json, json_text(r->report));
  Status st = outputs.commit();
  if (!st.ok()) return fail(st);
  // Markdown on stdout unless it went to -o (or only the JSON was asked for).
  if (out_path.empty() && a.json.empty()) std::fputs(md.c_str(), stdout);
  return kExitOk;
}

}  // namespace neutron::cli
