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

namespace neutron::cli {
namespace {

DType to_dtype(fb::DType t) {
  switch (t) {
    case fb::DType::Float32: return DType::F32;
    case fb::DType::Int8: return DType::I8;
    case fb::DType::UInt8: return DType::U8;
    case fb::DType::Int32: return DType::I32;
  }
  return DType::Invalid;
}

Shape shape_of(const runtime::TensorInfo& t) { return Shape(t.shape, t.shape + t.rank); }

// The status with the instruction's origin and the tensor's name. Statuses that name an
// instruction or tensor come from semantic checks, after the FlatBuffers verifier accepted the
// file, so reading those fields is safe.
std::string describe_status(const uint8_t* file, const runtime::ProgramStatus& s) {
  std::string m = s.message;
  const fb::Program* p = (s.instruction >= 0 || s.tensor >= 0) ? fb::GetProgram(file) : nullptr;
  if (s.instruction >= 0) {
    m += str_cat("; instruction ", s.instruction);
    if (p && p->instructions() && uint32_t(s.instruction) < p->instructions()->size()) {
      const auto* origin = p->instructions()->Get(uint32_t(s.instruction))->origin();
      if (origin) m += str_cat(" (", origin->str(), ")");
    }
  }
  if (s.tensor >= 0) {
    m += str_cat("; tensor ", s.tensor);
    if (p && p->tensors() && uint32_t(s.tensor) < p->tensors()->size()) {
      const auto* name = p->tensors()->Get(uint32_t(s.tensor))->name();
      if (name) m += str_cat(" '", name->str(), "'");
    }
  }
  return m;
}

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

std::string printable(const char* bytes, size_t n) {
  std::string r;
  for (size_t k = 0; k < n; ++k) {
    const auto c = static_cast<unsigned char>(bytes[k]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') r += char(c);
    else r += str_cat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
  }
  return r;
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

int run_program(const std::string& path, const std::vector<std::string>& inputs, const std::string& outdir,
                const std::string& json_path, bool profile, bool delegates_on_cpu) {
  runtime::LoadOptions load_options;
  load_options.delegates_on_cpu = delegates_on_cpu;
  const auto t0 = std::chrono::steady_clock::now();
  auto bytes = read_file(path);
  if (!bytes.ok()) return fail(bytes.status());
  AlignedBuffer file(bytes->size());
  if (!bytes->empty()) std::memcpy(file.data(), bytes->data(), bytes->size());
  bytes = std::string();  // a program is small next to the budget; keep one copy
  if (file.size() < 8 || !program::is_program_file(file.data(), file.size()))
    return fail(error(Error::InvalidProgram, path, ": not a neutron program: identifier '",
                      file.size() < 8 ? printable(reinterpret_cast<const char*>(file.data()), file.size())
                                    : printable(reinterpret_cast<const char*>(file.data()) + 4, 4),
                      "' (expected NPRG)"));

  if (neutronInit() != ENONE) return fail(error(Error::DelegateFailed, "neutronInit failed: ", neutronGetLastErrorMessage()));
  struct Deinit {
    ~Deinit() { neutronDeinit(); }
  } deinit;
  size_t need = 0;
  runtime::ProgramStatus ps = runtime::ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need, load_options);
  if (!ps.ok()) return fail(error(ps.error, path, ": ", describe_status(file.data(), ps)));
  Status budget = check_memory_budget(need, path + ": the program's arena");
  if (!budget.ok()) return fail(budget);
  AlignedBuffer arena(need);
  runtime::ProgramRunner runner;  // destroyed before the arena it lives in
  const fb::Program* prog = fb::GetProgram(file.data());

  // The simulated driver times kernels with the program's target (defaults if it is unknown).
  const std::string target_name = prog->target() ? prog->target()->str() : "";
  if (!target_name.empty() && target_name != "cpu") {
    auto t = load_target(target_name);
    auto cfg = t.ok() ? sim::sim_config_from_target(t.value()) : StatusOr<sim::SimConfig>(t.status());
    if (cfg.ok()) driver::set_sim_config(cfg.value());
    else note(str_cat("target '", target_name, "' not found (", cfg.status().message(),
                      "); NPU timing uses the default parameters"));
  }

  ps = runner.load(file.data(), file.size(), arena.data(), arena.size(), load_options);
  if (!ps.ok()) return fail(error(ps.error, path, ": ", describe_status(file.data(), ps)));
  if (int rc = check_outputs("run", run_inputs(path, inputs), run_outputs(outdir, runner.num_outputs(), json_path)))
    return rc;

  if (inputs.size() != runner.num_inputs()) {
    std::string names;
    for (size_t i = 0; i < runner.num_inputs(); ++i) {
      const runtime::TensorInfo t = runner.input(i);
      names += str_cat(names.empty() ? "" : ", ", "'", t.name, "' ", program::dtype_name(t.dtype), shape_of(t));
    }
    return fail(error(Error::InvalidArgument, path, " has ", runner.num_inputs(), " input(s) (", names, "), but ",
                      inputs.size(), " -i file(s) were given"));
  }
  // Each -i file holds one sample of the input's shape, or several along a leading axis (N
  // instead of a leading 1, or an extra axis in front); every sample is run in turn.
  std::vector<TensorData> in_data;
  int64_t samples = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto d = read_npy(inputs[i]);
    if (!d.ok()) return fail(d.status());
    const runtime::TensorInfo t = runner.input(i);
    const Shape want = shape_of(t);
    if (d->dtype != to_dtype(t.dtype))
      return fail(error(Error::InvalidArgument, inputs[i], ": dtype ", dtype_name(d->dtype), ", but input '", t.name,
                        "' of ", path, " is ", program::dtype_name(t.dtype)));
    int64_t k = -1;
    const Shape& got = d->shape;
    if (got == want) k = 1;
    else if (got.size() == want.size() + 1 && Shape(got.begin() + 1, got.end()) == want) k = got[0];
    else if (!want.empty() && want[0] == 1 && got.size() == want.size() && Shape(got.begin() + 1, got.end()) == Shape(want.begin() + 1, want.end()))
      k = got[0];
    if (k < 0)
      return fail(error(Error::InvalidArgument, inputs[i], ": shape ", shape_str(got), " does not fit input '", t.name,
                        "' of shape ", shape_str(want), " (one sample, or samples along a leading axis)"));
    if (k == 0)
      return fail(error(Error::InvalidArgument, inputs[i], ": holds no samples for input '", t.name, "' (shape ",
                        shape_str(got), ")"));
    if (samples >= 0 && k != samples)
      return fail(error(Error::InvalidArgument, inputs[i], ": ", k, " samples, but the other inputs have ", samples));
    // read_npy checked the element count, so this holds; the copy loop below relies on it.
    int64_t need_bytes = 0;
    if (!checked_mul(k, int64_t(t.bytes), &need_bytes) || uint64_t(need_bytes) != d->bytes.size())
      return fail(error(Error::InvalidArgument, inputs[i], ": holds ", d->bytes.size(), " bytes, not ", k,
                        " samples of ", t.bytes, " bytes"));
    samples = k;
    in_data.push_back(std::move(d).value());
  }
  if (samples < 0) samples = 1;

  std::vector<TensorData> outs;
  for (size_t o = 0; o < runner.num_outputs(); ++o) {
    const runtime::TensorInfo t = runner.output(o);
    Shape s = shape_of(t);
    if (samples > 1) {
      if (!s.empty() && s[0] == 1) s[0] = samples;
      else s.insert(s.begin(), samples);
    }
    auto out_bytes = tensor_bytes_within_budget(to_dtype(t.dtype), s, str_cat(path, ": output '", t.name, "'"));
    if (!out_bytes.ok()) return fail(out_bytes.status());
    outs.emplace_back(to_dtype(t.dtype), s);
  }
  const auto t1 = std::chrono::steady_clock::now();
  const auto cpu_ms = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
  };
  std::vector<double> sample_ms, sample_cpu_ms;  // per sample: wall and thread CPU time
  double npu_ms = 0;
  uint64_t npu_cycles = 0, npu_macs = 0;
  for (int64_t s = 0; s < samples; ++s) {
    for (size_t i = 0; i < in_data.size(); ++i) {
      const runtime::TensorInfo t = runner.input(i);
      std::memcpy(t.data, in_data[i].bytes.data() + size_t(s) * t.bytes, t.bytes);
    }
    const auto r0 = std::chrono::steady_clock::now();
    const double c0 = cpu_ms();
    ps = runner.run();
    sample_cpu_ms.push_back(cpu_ms() - c0);
    sample_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r0).count());
    if (!ps.ok()) return fail(error(ps.error, path, ": sample ", s, ": ", describe_status(file.data(), ps)));
    for (size_t o = 0; o < outs.size(); ++o) {
      const runtime::TensorInfo t = runner.output(o);
      std::memcpy(outs[o].bytes.data() + size_t(s) * t.bytes, t.data, t.bytes);
    }
  }
  const auto t2 = std::chrono::steady_clock::now();

  // Simulated NPU time of the last run, per delegate call.
  std::ostringstream profile_text;
  Json delegates_json = Json::array();
  int delegates = 0;
  for (size_t i = 0; i < runner.num_instructions(); ++i) {
    if (runner.instruction_kind(i) != runtime::InstructionKind::kDelegate ||
        std::strcmp(runner.delegate_backend(i), "neutron") != 0)
      continue;
    auto* backend = static_cast<runtime::NeutronBackend*>(runner.delegate_handle(i));
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
    std::string origin = runner.instruction_origin(i);
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
  if (!quiet()) std::printf("program %s: target %s%s, %zu instructions (%d on the NPU), runtime arena %zu bytes (plan arena %llu, lower bound %llu)\n",
              path.c_str(), target_name.c_str(), delegates_on_cpu ? " (run with --target cpu: NPU partitions on the CPU kernels)" : "",
              runner.num_instructions(), delegates, need,
              (unsigned long long)prog->plan()->arena_bytes(), (unsigned long long)prog->plan()->lower_bound_bytes());
  if (!quiet()) std::printf("time: load %.2f ms, run %.2f ms for %lld sample(s) on the host\n", load_ms, run_ms, (long long)samples);
  if (delegates && !quiet())
    std::printf("simulated NPU time per inference: %.3f ms at %s (%llu cycles, %llu MACs; timing model, docs/npu-model.md)\n",
                npu_ms, target_name.c_str(), (unsigned long long)npu_cycles, (unsigned long long)npu_macs);
  if (profile) std::fputs(profile_text.str().c_str(), stdout);
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
    doc["npu_latency_ms"] = npu_ms;
    doc["npu_cycles"] = npu_cycles;
    doc["npu_macs"] = npu_macs;
    doc["delegates"] = delegates_json;
    for (size_t k = 0; k < outs.size(); ++k)
      doc["outputs"].push_back(Json{{"name", runner.output(k).name}, {"dtype", dtype_name(outs[k].dtype)}, {"shape", outs[k].shape}});
    files.add(json_path, json_text(doc));
  }
  const Status st = commit_run_outputs(outdir, &files);
  if (!st.ok()) return fail(st);
  return kExitOk;
}

}  // namespace neutron::cli
