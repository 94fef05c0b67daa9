// `neutron run PROGRAM.nprg`: runs a compiled program through the portable runtime
// (runtime/program_runner.h) — CPU kernel calls on the host, Neutron partitions through
// NeutronBackend -> driver -> simulator — and prints the simulated NPU latency.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/aligned_buffer.h"
#include "core/memory_budget.h"
#include "core/npy.h"
#include "core/read_file.h"
#include "driver/neutron_driver.h"
#include "import/onnx/onnx_importer.h"
#include "driver/neutron_driver_sim.h"
#include "npu/kernel_args.h"
#include "runtime/program_runner.h"
#include "sim/sim_config_target.h"
#include "sim/timing.h"
#include "target/target.h"
#include "tools/cli.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/perf_report.h"
#include "tools/reports.h"
#include "tools/sample_model.h"
#include "quantize/accuracy_metrics.h"

namespace neutron::cli {
namespace {

}  // namespace

namespace {

// `n` bytes at `at` of the file, or false.
bool read_at(std::ifstream& f, uint64_t at, void* out, size_t n) {
  f.clear();
  f.seekg(std::streamoff(at));
  f.read(static_cast<char*>(out), std::streamsize(n));
  return f.gcount() == std::streamsize(n);
}

// A FlatBuffer's shape: the root offset (bytes 0..3) points to a 4-aligned table inside the file
// whose vtable lies inside the file and is well formed. An ONNX (protobuf) file does not have it.
bool flatbuffer_like(std::ifstream& f, uint64_t size, const uint8_t* head) {
  const uint32_t root = program::load_le32(head);
  if (root % 4 != 0 || root < 8 || uint64_t(root) + 4 > size) return false;
  uint8_t s[4];
  if (!read_at(f, root, s, 4)) return false;
  const int64_t vtable = int64_t(root) - int32_t(program::load_le32(s));
  if (vtable < 8 || vtable % 2 != 0 || uint64_t(vtable) + 4 > size) return false;
  uint8_t vt[4];
  if (!read_at(f, uint64_t(vtable), vt, 4)) return false;
  const uint32_t vt_bytes = uint32_t(vt[0]) | uint32_t(vt[1]) << 8, table_bytes = uint32_t(vt[2]) | uint32_t(vt[3]) << 8;
  return vt_bytes >= 4 && vt_bytes % 2 == 0 && uint64_t(vtable) + vt_bytes <= size && table_bytes >= 4;
}

}  // namespace

// A program by its identifier, its .nprg extension, its checksum trailer or a FlatBuffer's shape:
// a program with a damaged identifier is still reported as a program, not as a bad ONNX model.
bool looks_like_program(const std::string& path) {
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".nprg") == 0) return true;
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return false;
  const std::streamoff end = f.tellg();
  if (end < 8) return false;
  const uint64_t size = uint64_t(end);
  uint8_t head[8] = {};
  if (!read_at(f, 0, head, 8)) return false;
  if (program::is_program_file(head, 8)) return true;
  uint8_t tail[program::kTrailerBytes];
  if (size >= 8 + program::kTrailerBytes && read_at(f, size - program::kTrailerBytes, tail, sizeof(tail)) &&
      program::has_trailer(tail, sizeof(tail)))
    return true;
  return flatbuffer_like(f, size, head);
}

StatusOr<Graph> import_model(const std::string& path, const char* command, const std::string* bytes) {
  if (bytes ? program::is_program_file(bytes->data(), bytes->size()) : looks_like_program(path))
    return error(Error::InvalidArgument, path, ": this is a compiled neutron program; `neutron ", command,
                 "` takes an ONNX model (run a program with `neutron run ", path, "`)");
  return bytes ? import_onnx_bytes(*bytes, path) : import_onnx_file(path);
}

CommandResult<RunResult> run_program(const RunArgs& a, const InMemory& inmem,
                                     const std::function<Status(size_t)>& check_outputs) {
  const std::string& path = a.model;
  const bool profile = a.profile, delegates_on_cpu = a.target == "cpu", has_labels = !a.labels.empty() || inmem.labels;
  const auto t0 = std::chrono::steady_clock::now();
  auto file = inmem.model ? program_from_bytes(*inmem.model, path) : read_program_file(path);
  if (!file.ok()) return file.status();
  DriverSession driver;
  if (Status s = driver.init(); !s.ok()) return s;
  const fb::Program* prog = fb::GetProgram(file.value()->data());
  size_t need = 0;
  {
    runtime::LoadOptions load_options;
    load_options.delegates_on_cpu = delegates_on_cpu;
    runtime::ProgramStatus ps =
        runtime::ProgramRunner::arena_bytes_needed(file.value()->data(), file.value()->size(), &need, load_options);
    if (!ps.ok()) return error(ps.error, path, ": ", describe_program_status(file.value()->data(), ps));
  }

  // The simulated driver times kernels with the timing parameters the program carries (older
  // files: its target by name; defaults if that is unknown), as compile did.
  const std::string target_name = prog->target() ? prog->target()->str() : "";
  std::string timing_note;
  auto timing = program_timing(*prog, &timing_note);
  if (!timing.ok()) return timing.status().with_context(path);
  if (!timing_note.empty()) note(timing_note);
  if (!target_name.empty() && target_name != "cpu") driver::set_sim_config(timing->npu);

  // One runner and arena per worker thread (runners are not thread-safe).
  std::vector<std::unique_ptr<ProgramModel>> models;
  auto m0 = ProgramModel::load(file.value(), path, delegates_on_cpu);
  if (!m0.ok()) return m0.status();
  models.push_back(std::move(m0).value());
  const runtime::ProgramRunner& runner = models[0]->runner();
  if (check_outputs) {
    if (Status s = check_outputs(runner.num_outputs()); !s.ok()) return UsageError{"run: " + s.message()};
  }
  auto in = inmem.inputs ? sample_inputs(path, models[0]->inputs(), *inmem.inputs)
                       : read_sample_inputs(path, models[0]->inputs(), a.inputs);
  if (!in.ok()) return in.status();
  const int64_t samples = in->samples;
  TensorData labels;
  if (has_labels) {
    if (runner.num_outputs() == 0)
      return error(Error::InvalidArgument, "--labels ", a.labels, ": ", path, " has no outputs to take the predicted class from");
    auto l = inmem.labels ? check_labels(inmem.labels->origin, inmem.labels->data, samples) : read_labels(a.labels, samples);
    if (!l.ok()) return l.status();
    labels = std::move(l).value();
  }
  const int64_t workers = std::min<int64_t>(a.threads, samples);
  for (int64_t t = 1; t < workers; ++t) {
    auto m = ProgramModel::load(file.value(), path, delegates_on_cpu);
    if (!m.ok()) return m.status();
    models.push_back(std::move(m).value());
  }
  std::vector<SampleModel*> w;
  for (auto& m : models) w.push_back(m.get());
  const auto t1 = std::chrono::steady_clock::now();
  SampleRun result;
  int64_t correct = 0;
  Status st = run_samples(w, in->data, in->shapes, samples, path, &result,
                          [&](int64_t s, const std::vector<TensorData>& outs) -> Status {
                            if (has_labels) correct += argmax(outs[0], 0, outs[0].count()) == labels.get_as_int(s);
                            return Status::OK();
                          });
  if (!st.ok()) return st;
  std::vector<TensorData>& outs = result.outputs;
  const std::vector<double>& sample_ms = result.wall_ms;
  const std::vector<double>& sample_cpu_ms = result.cpu_ms;
  const runtime::ProgramRunner& last = models[size_t(result.last_worker)]->runner();
  double npu_ms = 0;
  uint64_t npu_cycles = 0, npu_macs = 0;
  const auto t2 = std::chrono::steady_clock::now();

  // Simulated NPU time of the last run, per delegate call.
  std::ostringstream profile_text;
  std::vector<uint64_t> driver_cycles;
  Json delegates_json = Json::array();
  int delegates = 0;
  for (size_t i = 0; i < last.num_instructions(); ++i) {
    if (last.instruction_kind(i) != runtime::InstructionKind::kDelegate ||
        std::strcmp(last.delegate_backend(i), "neutron") != 0)
      continue;
    auto* backend = static_cast<runtime::NeutronBackend*>(last.delegate_handle(i));
    NeutronRunStats st;
    if (neutronGetRunStats(backend->driver_handle(), &st) != ENONE) continue;
    npu_ms += st.latencyMs;
    npu_cycles += st.totalCycles;
    npu_macs += st.macs;
    delegates_json.push_back(Json{{"instruction", i},
                                  {"latency_ms", st.latencyMs},
                                  {"cycles", st.totalCycles},
                                  {"macs", st.macs},
                                  {"utilization", st.utilization}});
    ++delegates;
    driver_cycles.push_back(st.totalCycles);
    if (!profile) continue;
    std::string origin = last.instruction_origin(i);
    if (origin.size() > 60) origin = origin.substr(0, 57) + "...";
    profile_text << str_cat("instruction ", i, " (NPU: ", origin, "): ", st.kernels, " kernels, ", st.totalCycles,
                            " cycles, ", st.latencyMs, " ms (the driver's trace records)\n");
  }
  // Whole-model latency and per-layer attribution: the NPU from the same timing model the driver
  // ran (its totals must agree), the CPU from the Cortex-M33 model.
  auto perf = profile_program(*prog, timing.value(), delegates_on_cpu);
  if (!perf.ok()) return perf.status().with_context(path);
  if (!delegates_on_cpu && driver_cycles != perf->delegate_cycles)
    note("the per-layer NPU times differ from the driver's trace records (timing parameters changed?)");

  const double load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double run_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  RunResult r;
  std::string& text = r.text;
  for (size_t k = 0; k < outs.size(); ++k) r.output_names.push_back(runner.output(k).name);
  for (size_t k = 0; k < outs.size() && !quiet(); ++k)
    appendf(&text, "output %zu '%s': %s%s\n", k, runner.output(k).name, dtype_name(outs[k].dtype),
                shape_str(outs[k].shape).c_str());
  const runtime::MemoryFigures& mem = models[0]->memory();
  if (!quiet()) appendf(&text, "program %s: target %s%s, %zu instructions (%d on the NPU), runtime arena %zu bytes (plan arena %llu + runtime state %zu; lower bound %llu); host-only state %zu bytes\n",
              path.c_str(), target_name.c_str(), delegates_on_cpu ? " (run with --target cpu: NPU partitions on the CPU kernels)" : "",
              runner.num_instructions(), delegates, need,
              (unsigned long long)prog->plan()->arena_bytes(), mem.runtime_bytes, (unsigned long long)prog->plan()->lower_bound_bytes(),
              mem.host_bytes);
  if (!quiet()) appendf(&text, "time: load %.2f ms, run %.2f ms for %lld sample(s) on %lld host thread(s)\n", load_ms, run_ms,
                            (long long)samples, (long long)workers);
  if (delegates && !quiet())
    appendf(&text, "simulated NPU time per inference: %.3f ms at %s (%llu cycles, %llu MACs; timing model, docs/npu-model.md)\n",
                npu_ms, target_name.c_str(), (unsigned long long)npu_cycles, (unsigned long long)npu_macs);
  if (!quiet()) appendf(&text, "%s", perf_summary_text(perf.value()).c_str());
  if (profile) appendf(&text, "%s\n%s", profile_text.str().c_str(), perf_table_text(perf.value()).c_str());
  if (!a.perf_csv.empty()) r.perf_csv = perf_csv(perf.value());
  if (!a.trace.empty()) r.trace = perf_chrome_trace(perf.value(), path);
  const double n = double(samples);
  if (has_labels && !quiet())
    appendf(&text, "accuracy: %.2f%% top-1 (%lld of %lld labelled samples)\n", 100.0 * double(correct) / n,
                (long long)correct, (long long)samples);
  {
    Json doc = run_document(path, "program");
    doc["target"] = target_name;
    doc["delegates_on_cpu"] = delegates_on_cpu;
    doc["samples"] = samples;
    doc["load_ms"] = load_ms;
    doc["run_ms"] = run_ms;
    doc["latency_ms"] = latency_json(sample_ms, sample_cpu_ms, 1, 0);
    doc["arena_bytes"] = prog->plan()->arena_bytes();
    doc["lower_bound_bytes"] = prog->plan()->lower_bound_bytes();
    doc["runtime_arena_bytes"] = need;  // what the runtime asked for, as inspect reports
    doc["runtime_state_bytes"] = mem.runtime_bytes;  // runtime_arena_bytes - arena_bytes
    doc["host_only_bytes"] = mem.host_bytes;         // the host's repacked weights, not device memory
    doc["npu_latency_ms"] = npu_ms;
    doc["npu_cycles"] = npu_cycles;
    doc["npu_macs"] = npu_macs;
    doc["delegates"] = delegates_json;
    doc["performance"] = perf_json(perf.value());
    doc["threads"] = workers;
    doc["accuracy"] = !has_labels ? Json(nullptr)
                                       : Json{{"labels", a.labels}, {"top1", double(correct) / n}, {"correct", correct}};
    for (size_t k = 0; k < outs.size(); ++k)
      doc["outputs"].push_back(Json{{"name", runner.output(k).name}, {"dtype", dtype_name(outs[k].dtype)}, {"shape", outs[k].shape}});
    r.report = std::move(doc);
  }
  r.outputs = std::move(outs);
  return r;
}

}  // namespace neutron::cli
