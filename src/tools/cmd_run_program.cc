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

StatusOr<Graph> import_model(const std::string& path, const char* command) {
  if (looks_like_program(path))
    return error(Error::InvalidArgument, path, ": this is a compiled neutron program; `neutron ", command,
                 "` takes an ONNX model (run a program with `neutron run ", path, "`)");
  return import_onnx_file(path);
}

int run_program(const RunArgs& a) {
  const std::string &path = a.model, &outdir = a.outdir, &json_path = a.json;
  const std::vector<std::string>& inputs = a.inputs;
  const bool profile = a.profile, delegates_on_cpu = a.target == "cpu";
  const auto t0 = std::chrono::steady_clock::now();
  auto file = read_program_file(path);
  if (!file.ok()) return fail(file.status());
  DriverSession driver;
  if (Status s = driver.init(); !s.ok()) return fail(s);
  const fb::Program* prog = fb::GetProgram(file.value()->data());
  size_t need = 0;
  {
    runtime::LoadOptions load_options;
    load_options.delegates_on_cpu = delegates_on_cpu;
    runtime::ProgramStatus ps =
        runtime::ProgramRunner::arena_bytes_needed(file.value()->data(), file.value()->size(), &need, load_options);
    if (!ps.ok()) return fail(error(ps.error, path, ": ", describe_program_status(file.value()->data(), ps)));
  }

  // The simulated driver times kernels with the program's target (defaults if it is unknown).
  const std::string target_name = prog->target() ? prog->target()->str() : "";
  if (!target_name.empty() && target_name != "cpu") {
    auto t = load_target(target_name);
    auto cfg = t.ok() ? sim::sim_config_from_target(t.value()) : StatusOr<sim::SimConfig>(t.status());
    if (cfg.ok()) driver::set_sim_config(cfg.value());
    else note(str_cat("target '", target_name, "' not found (", cfg.status().message(),
                      "); NPU timing uses the default parameters"));
  }

  // One runner and arena per worker thread (runners are not thread-safe).
  std::vector<std::unique_ptr<ProgramModel>> models;
  auto m0 = ProgramModel::load(file.value(), path, delegates_on_cpu);
  if (!m0.ok()) return fail(m0.status());
  models.push_back(std::move(m0).value());
  const runtime::ProgramRunner& runner = models[0]->runner();
  if (int rc = check_outputs("run", run_inputs(path, inputs), run_outputs(outdir, runner.num_outputs(), json_path)))
    return rc;
  auto in = read_sample_inputs(path, models[0]->inputs(), inputs);
  if (!in.ok()) return fail(in.status());
  const int64_t samples = in->samples;
  TensorData labels;
  if (!a.labels.empty()) {
    if (runner.num_outputs() == 0)
      return fail(error(Error::InvalidArgument, "--labels ", a.labels, ": ", path, " has no outputs to take the predicted class from"));
    auto l = read_labels(a.labels, samples);
    if (!l.ok()) return fail(l.status());
    labels = std::move(l).value();
  }
  const int64_t workers = std::min<int64_t>(a.threads, samples);
  for (int64_t t = 1; t < workers; ++t) {
    auto m = ProgramModel::load(file.value(), path, delegates_on_cpu);
    if (!m.ok()) return fail(m.status());
    models.push_back(std::move(m).value());
  }
  std::vector<SampleModel*> w;
  for (auto& m : models) w.push_back(m.get());
  const auto t1 = std::chrono::steady_clock::now();
  SampleRun result;
  int64_t correct = 0;
  Status st = run_samples(w, in->data, in->shapes, samples, path, &result,
                          [&](int64_t s, const std::vector<TensorData>& outs) -> Status {
                            if (!a.labels.empty()) correct += argmax(outs[0], 0, outs[0].count()) == labels.get_as_int(s);
                            return Status::OK();
                          });
  if (!st.ok()) return fail(st);
  std::vector<TensorData>& outs = result.outputs;
  const std::vector<double>& sample_ms = result.wall_ms;
  const std::vector<double>& sample_cpu_ms = result.cpu_ms;
  const runtime::ProgramRunner& last = models[size_t(result.last_worker)]->runner();
  double npu_ms = 0;
  uint64_t npu_cycles = 0, npu_macs = 0;
  const auto t2 = std::chrono::steady_clock::now();

  // Simulated NPU time of the last run, per delegate call.
  std::ostringstream profile_text;
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
    if (!profile) continue;
    std::vector<NeutronKernelRecord> rec(st.kernels);
    uint32_t count = 0;
    if (neutronGetKernelRecords(backend->driver_handle(), rec.data(), uint32_t(rec.size()), &count) != ENONE) continue;
    std::string origin = last.instruction_origin(i);
    if (origin.size() > 60) origin = origin.substr(0, 57) + "...";
    profile_text << str_cat("instruction ", i, " (NPU: ", origin, "): ", count, " kernels, ", st.totalCycles,
                            " cycles, ", st.latencyMs, " ms\n");
    char line[160];
    std::snprintf(line, sizeof(line), "  %-4s %-16s %10s %10s %7s  %s\n", "#", "kernel", "cycles", "MACs", "util", "bound");
    profile_text << line;
    for (uint32_t k = 0; k < count && k < rec.size(); ++k) {
      std::snprintf(line, sizeof(line), "  %-4u %-16s %10llu %10llu %6.1f%%  %s\n", rec[k].instruction,
                    npu::opcode_name(npu::Opcode(rec[k].opcode)), (unsigned long long)rec[k].cycles,
                    (unsigned long long)rec[k].macs, 100.0 * rec[k].utilization,
                    sim::bound_name(sim::Bound(rec[k].bound)));
      profile_text << line;
    }
  }

  OutputFiles files;
  for (size_t k = 0; k < outs.size() && !outdir.empty(); ++k) {
    auto bytes = encode_npy(outs[k], run_output_file(outdir, k));
    if (!bytes.ok()) return fail(bytes.status());
    files.add(run_output_file(outdir, k), std::move(bytes).value());
  }
  const double load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double run_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  for (size_t k = 0; k < outs.size() && !quiet(); ++k)
    std::printf("output %zu '%s': %s%s\n", k, runner.output(k).name, dtype_name(outs[k].dtype),
                shape_str(outs[k].shape).c_str());
  const runtime::MemoryFigures& mem = models[0]->memory();
  if (!quiet()) std::printf("program %s: target %s%s, %zu instructions (%d on the NPU), runtime arena %zu bytes (plan arena %llu + runtime state %zu; lower bound %llu); host-only state %zu bytes\n",
              path.c_str(), target_name.c_str(), delegates_on_cpu ? " (run with --target cpu: NPU partitions on the CPU kernels)" : "",
              runner.num_instructions(), delegates, need,
              (unsigned long long)prog->plan()->arena_bytes(), mem.runtime_bytes, (unsigned long long)prog->plan()->lower_bound_bytes(),
              mem.host_bytes);
  if (!quiet()) std::printf("time: load %.2f ms, run %.2f ms for %lld sample(s) on %lld host thread(s)\n", load_ms, run_ms,
                            (long long)samples, (long long)workers);
  if (delegates && !quiet())
    std::printf("simulated NPU time per inference: %.3f ms at %s (%llu cycles, %llu MACs; timing model, docs/npu-model.md)\n",
                npu_ms, target_name.c_str(), (unsigned long long)npu_cycles, (unsigned long long)npu_macs);
  if (profile) std::fputs(profile_text.str().c_str(), stdout);
  const double n = double(samples);
  if (!a.labels.empty() && !quiet())
    std::printf("accuracy: %.2f%% top-1 (%lld of %lld labelled samples)\n", 100.0 * double(correct) / n,
                (long long)correct, (long long)samples);
  if (!json_path.empty()) {
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
    doc["threads"] = workers;
    doc["accuracy"] = a.labels.empty() ? Json(nullptr)
                                       : Json{{"labels", a.labels}, {"top1", double(correct) / n}, {"correct", correct}};
    for (size_t k = 0; k < outs.size(); ++k)
      doc["outputs"].push_back(Json{{"name", runner.output(k).name}, {"dtype", dtype_name(outs[k].dtype)}, {"shape", outs[k].shape}});
    files.add(json_path, json_text(doc));
  }
  st = commit_run_outputs(outdir, &files);
  if (!st.ok()) return fail(st);
  return kExitOk;
}

}  // namespace neutron::cli
