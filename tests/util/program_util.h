// Test helpers for program files (src/compiler/program_file.h) and the portable runtime
// (src/runtime/program_runner.h): build a fixture's program the way `neutron compile` does, load it
// into a ProgramRunner with an arena of the size it asks for, run samples.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "compiler/compiler.h"
#include "compiler/program_file.h"
#include "core/status.h"
#include "core/strcat.h"
#include "driver/neutron_driver.h"
#include "import/onnx/onnx_importer.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "runtime/program_runner.h"
#include "target/target.h"
#include "util/fixtures.h"

namespace neutron::testing {

// AddressSanitizer builds (NEUTRON_SANITIZE) run fewer samples and mutations.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// neutronInit() once per process (the application's job; idempotent in the simulated driver).
inline void init_neutron_driver() {
  static const bool done = [] {
    EXPECT_EQ(neutronInit(), ENONE);
    return true;
  }();
  (void)done;
}

// The int8 graph `neutron compile` builds a program from: import, fold-qdq, quantize-before-pad, dce.
inline StatusOr<Graph> compile_ready_graph(const std::string& model_path) {
  ASSIGN_OR_RETURN(Graph g, import_onnx_file(model_path));
  RETURN_IF_ERROR(run_passes(g, compile_pipeline()));
  return g;
}

// build_program_file as `neutron compile --target TARGET` calls it: "cpu" runs every op as CPU
// kernel calls (no partitioning, compiler::cpu_kernel_target()); any other name is a Neutron target.
inline StatusOr<compiler::ProgramFile> build_program(const Graph& g, const std::string& target,
                                                     const std::string& model_name) {
  compiler::ProgramFileOptions opts;
  opts.model_name = model_name;
  if (target == "cpu") return compiler::build_program_file(g, nullptr, compiler::cpu_kernel_target(), opts);
  ASSIGN_OR_RETURN(NeutronTarget t, load_target(target));
  ASSIGN_OR_RETURN(Partitioning p, partition_graph(g, t));
  RETURN_IF_ERROR(analyze_partition_layout(g, &p));
  return compiler::build_program_file(g, &p, t, opts);
}

struct FixtureProgram {
  Graph graph;  // the graph the program was built from
  compiler::ProgramFile file;
  std::string error;  // set when import or build failed
  double build_seconds = 0;
};

// fixtures/<fixture>/model_int8.onnx built for `target`, once per process.
inline const FixtureProgram& fixture_program(const std::string& fixture, const std::string& target) {
  static std::map<std::string, std::unique_ptr<FixtureProgram>> cache;
  std::unique_ptr<FixtureProgram>& slot = cache[fixture + "@" + target];
  if (slot) return *slot;
  slot = std::make_unique<FixtureProgram>();
  const auto t0 = std::chrono::steady_clock::now();
  auto g = compile_ready_graph(fixture_path(fixture, "model_int8.onnx"));
  if (!g.ok()) {
    slot->error = g.status().to_string();
    return *slot;
  }
  slot->graph = std::move(g).value();
  auto pf = build_program(slot->graph, target, "model_int8.onnx");
  if (!pf.ok())
    slot->error = pf.status().to_string();
  else
    slot->file = std::move(pf).value();
  slot->build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return *slot;
}

// Exactly `size` bytes on the heap, 16-byte aligned, no slack: AddressSanitizer sees any read past
// the end. `skew` shifts the start by that many bytes (misaligned on purpose).
class ExactBuffer {
 public:
  ExactBuffer() = default;
  explicit ExactBuffer(size_t size, size_t skew = 0) : size_(size), skew_(skew) {
    raw_ = static_cast<uint8_t*>(::operator new[](size + skew, std::align_val_t(16)));
    std::memset(raw_, 0, size + skew);
  }
  ExactBuffer(const void* bytes, size_t size, size_t skew = 0) : ExactBuffer(size, skew) {
    if (size) std::memcpy(data(), bytes, size);
  }
  ExactBuffer(const ExactBuffer&) = delete;
  ExactBuffer& operator=(const ExactBuffer&) = delete;
  ExactBuffer(ExactBuffer&& o) noexcept { *this = std::move(o); }
  ExactBuffer& operator=(ExactBuffer&& o) noexcept {
    std::swap(raw_, o.raw_);
    std::swap(size_, o.size_);
    std::swap(skew_, o.skew_);
    return *this;
  }
  ~ExactBuffer() {
    if (raw_) ::operator delete[](raw_, std::align_val_t(16));
  }
  uint8_t* data() { return raw_ + skew_; }
  const uint8_t* data() const { return raw_ + skew_; }
  size_t size() const { return size_; }

 private:
  uint8_t* raw_ = nullptr;
  size_t size_ = 0, skew_ = 0;
};

// The FlatBuffer of a program file: the bytes before its checksum trailer (all of them if it has none).
inline std::vector<uint8_t> program_content(const std::vector<uint8_t>& file) {
  const size_t n = program::has_trailer(file.data(), file.size()) ? file.size() - program::kTrailerBytes : file.size();
  return std::vector<uint8_t>(file.begin(), file.begin() + std::ptrdiff_t(n));
}
// `content` (a FlatBuffer) with a fresh checksum trailer, as the writer appends it.
inline std::vector<uint8_t> seal_program(std::vector<uint8_t> content) {
  uint8_t trailer[program::kTrailerBytes];
  program::make_trailer(content.data(), content.size(), trailer);
  content.insert(content.end(), trailer, trailer + program::kTrailerBytes);
  return content;
}
// A program file edited in place (e.g. one field mutated) with its trailer recomputed, so the
// edit reaches the runtime's structural checks instead of stopping at the checksum.
inline std::vector<uint8_t> reseal_program(const std::vector<uint8_t>& file) {
  return seal_program(program_content(file));
}

inline std::string describe(const runtime::ProgramStatus& s) {
  return str_cat(to_string(s.error), ": ", s.message, " (instruction ", s.instruction, ", tensor ", s.tensor, ")");
}

// A program file copy, an arena of arena_bytes_needed() bytes and the runner over both.
struct LoadedProgram {
  ExactBuffer file, arena, host;  // host: host-only state (repacked weights), as `neutron run` gives
  runtime::ProgramRunner runner;  // declared last: unloaded before the buffers go
  runtime::ProgramStatus status;  // of arena_bytes_needed, then load
  size_t need = 0;
};

// `max_arena`: a file asking for more than this is loaded with `max_arena` bytes instead (fuzzed
// files can ask for a lot); load() must then say OutOfMemory.
inline std::unique_ptr<LoadedProgram> load_program(const uint8_t* bytes, size_t size,
                                                   size_t max_arena = size_t(1) << 30,
                                                   const runtime::LoadOptions& options = {}, bool host_state = true) {
  init_neutron_driver();
  auto lp = std::make_unique<LoadedProgram>();
  lp->file = ExactBuffer(bytes, size);
  runtime::MemoryFigures fig;
  lp->status = runtime::ProgramRunner::memory_needed(lp->file.data(), size, &fig, options);
  if (!lp->status.ok()) return lp;
  lp->need = fig.arena_bytes;
  lp->arena = ExactBuffer(std::min(lp->need, max_arena));
  runtime::LoadOptions o = options;
  if (host_state && o.host_state == nullptr && fig.host_bytes <= max_arena) {
    lp->host = ExactBuffer(fig.host_bytes);
    o.host_state = lp->host.data();
    o.host_state_bytes = lp->host.size();
  }
  lp->status = lp->runner.load(lp->file.data(), size, lp->arena.data(), lp->arena.size(), o);
  return lp;
}
inline std::unique_ptr<LoadedProgram> load_program(const std::vector<uint8_t>& bytes,
                                                   const runtime::LoadOptions& options = {}) {
  return load_program(bytes.data(), bytes.size(), size_t(1) << 30, options);
}

inline DType to_dtype(fb::DType t) {
  switch (t) {
    case fb::DType::Float32:
      return DType::F32;
    case fb::DType::Int8:
      return DType::I8;
    case fb::DType::UInt8:
      return DType::U8;
    case fb::DType::Int32:
      return DType::I32;
    case fb::DType::Int64:
      return DType::I64;
  }
  return DType::Invalid;
}

inline Shape shape_of(const runtime::TensorInfo& t) { return Shape(t.shape, t.shape + t.rank); }

// Runs one sample: copies `inputs` into the runner's inputs, runs, copies the outputs out.
inline runtime::ProgramStatus run_sample(runtime::ProgramRunner& r, const std::vector<TensorData>& inputs,
                                         std::vector<TensorData>* outputs) {
  for (size_t i = 0; i < inputs.size() && i < r.num_inputs(); ++i) {
    const runtime::TensorInfo t = r.input(i);
    EXPECT_EQ(inputs[i].bytes.size(), t.bytes) << "input " << i;
    std::memcpy(t.data, inputs[i].bytes.data(), std::min(t.bytes, inputs[i].bytes.size()));
  }
  const runtime::ProgramStatus s = r.run();
  outputs->clear();
  for (size_t o = 0; o < r.num_outputs(); ++o) {
    const runtime::TensorInfo t = r.output(o);
    TensorData d(to_dtype(t.dtype), shape_of(t));
    if (d.bytes.size() == t.bytes) std::memcpy(d.bytes.data(), t.data, t.bytes);
    outputs->push_back(std::move(d));
  }
  return s;
}

// A quantized (QDQ) graph compiled as `neutron compile` builds it: the compile pipeline, then for
// "cpu" every op as CPU kernel calls, else the named target's partitions (`partition` options).
struct CompiledProgram {
  Graph graph;
  Partitioning part;
  compiler::ProgramFile file;
};
inline StatusOr<CompiledProgram> compile_qdq(const Graph& qdq, const std::string& target, const std::string& model_name,
                                             const PartitionOptions& partition = PartitionOptions{}) {
  CompiledProgram c;
  c.graph = qdq;
  RETURN_IF_ERROR(run_passes(c.graph, compile_pipeline()));
  compiler::ProgramFileOptions opts;
  opts.model_name = model_name;
  if (target == "cpu") {
    ASSIGN_OR_RETURN(c.file, compiler::build_program_file(c.graph, nullptr, compiler::cpu_kernel_target(), opts));
    return c;
  }
  ASSIGN_OR_RETURN(NeutronTarget t, load_target(target));
  ASSIGN_OR_RETURN(c.part, partition_graph(c.graph, t, partition));
  RETURN_IF_ERROR(analyze_partition_layout(c.graph, &c.part));
  ASSIGN_OR_RETURN(c.file, compiler::build_program_file(c.graph, &c.part, t, opts));
  return c;
}

// One sample through a program file: a load failure is a test failure; the run's status is
// returned (a run may be meant to fail).
inline runtime::ProgramStatus run_program(const compiler::ProgramFile& f, const std::vector<TensorData>& inputs,
                                          std::vector<TensorData>* outs) {
  auto lp = load_program(f.bytes);
  EXPECT_TRUE(lp->status.ok()) << describe(lp->status);
  if (!lp->status.ok()) return lp->status;
  return run_sample(lp->runner, inputs, outs);
}
// The same, the run expected to succeed.
inline std::vector<TensorData> run_program(const compiler::ProgramFile& f, const std::vector<TensorData>& inputs) {
  std::vector<TensorData> outs;
  const runtime::ProgramStatus s = run_program(f, inputs, &outs);
  EXPECT_TRUE(s.ok()) << describe(s);
  return outs;
}

// The disassembly of a program's CPU kernel calls (its cpu_kernels payloads).
inline std::string cpu_kernel_listing(const compiler::ProgramFile& f) {
  std::string all;
  for (const auto& in : f.instructions)
    if (in.kind == "cpu_kernels") all += compiler::disassemble_payload(in.payload);
  return all;
}

}  // namespace neutron::testing
