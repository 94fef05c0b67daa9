// Test helpers of the compiler and runtime tests: compile a partition graph, run the payload
// through NeutronBackend -> driver -> simulator, and compare with the CPU executor on the same
// graph, bit for bit.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/compiler.h"
#include "driver/neutron_driver.h"
#include "exec/executor.h"
#include "runtime/neutron_backend.h"
#include "target/target.h"

namespace neutron::testing {

inline const NeutronTarget& npu_target() {
  static const NeutronTarget t = [] {
    auto r = load_target("imxrt700");
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r.value() : NeutronTarget{};
  }();
  return t;
}

// neutronInit() once per process (the application's job upstream).
inline void ensure_neutron_init() {
  static const bool done = [] {
    EXPECT_EQ(neutronInit(), ENONE);
    return true;
  }();
  (void)done;
}

// A 16-byte aligned byte buffer (payloads, allocator arenas).
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t n = 0) { resize(n); }
  void resize(size_t n) {
    storage_.assign(n + 16, 0);
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage_.data());
    offset_ = size_t((16 - p % 16) % 16);
    size_ = n;
  }
  uint8_t* data() { return storage_.data() + offset_; }
  size_t size() const { return size_; }
  void assign(const std::vector<uint8_t>& bytes) {
    resize(bytes.size());
    if (!bytes.empty()) std::memcpy(data(), bytes.data(), bytes.size());
  }

 private:
  std::vector<uint8_t> storage_;
  size_t offset_ = 0, size_ = 0;
};

inline runtime::TensorArg arg_of(TensorData& t, bool channels_last = false) {
  std::vector<int32_t> sizes(t.shape.begin(), t.shape.end());
  return runtime::make_tensor_arg(t.bytes.data(), uint32_t(dtype_size(t.dtype)), sizes.data(), uint32_t(sizes.size()),
                                  channels_last);
}

// A prepared backend over an owned copy of the payload.
struct LoadedPayload {
  AlignedBuffer payload;
  AlignedBuffer context, host;
  std::unique_ptr<runtime::MemoryAllocator> allocator, host_allocator;
  runtime::NeutronBackend backend;
};

inline Error load_payload(const std::vector<uint8_t>& bytes, LoadedPayload* lp) {
  ensure_neutron_init();
  lp->payload.assign(bytes);
  // The simulator's weights repacked for the host's kernels (host-only state), as `neutron run` does.
  size_t host = 0;
  if (runtime::NeutronBackend::host_bytes_for(lp->payload.data(), lp->payload.size(), &host) != Error::Ok) host = 0;
  lp->host.resize(host + 16);
  lp->host_allocator = std::make_unique<runtime::MemoryAllocator>(lp->host.data(), lp->host.size());
  size_t ctx = 1 << 20;
  while (true) {
    lp->context.resize(ctx);
    lp->allocator = std::make_unique<runtime::MemoryAllocator>(lp->context.data(), lp->context.size());
    lp->host_allocator->reset();
    const Error e =
        lp->backend.init(lp->payload.data(), lp->payload.size(), lp->allocator.get(), lp->host_allocator.get());
    if (e != Error::OutOfMemory || ctx > (size_t(1) << 31)) return e;
    ctx *= 4;
  }
}

// Runs the loaded payload: `inputs` in graph-input order (the delegate's args), outputs shaped like
// `outputs` (their buffers are overwritten).
inline Error run_payload(runtime::NeutronBackend& backend, std::vector<TensorData>& inputs,
                         std::vector<TensorData>& outputs, bool channels_last_args = false) {
  std::vector<runtime::TensorArg> args;
  for (TensorData& t : inputs) args.push_back(arg_of(t, channels_last_args));
  for (TensorData& t : outputs) args.push_back(arg_of(t, channels_last_args));
  AlignedBuffer temp(backend.temp_bytes_needed(args.data(), args.size()) + 64);
  runtime::MemoryAllocator alloc(temp.data(), temp.size());
  return backend.execute(&alloc, args.data(), args.size());
}

// Appends a node of kind `k` whose one output is a new tensor "t<counter>" (dtype, quantization;
// shape left to shape inference) and returns that output; counter numbers tensors and nodes.
inline TensorId add_node_with_output(Graph& g, int& counter, OpKind k, std::vector<TensorId> ins, DType dt,
                                     QuantParams q, Attributes a = {}) {
    Tensor t;
    t.name = "t" + std::to_string(counter);
    t.dtype = dt;
    t.quant = std::move(q);
    const TensorId out = g.add_tensor(t);
    Node n;
    n.kind = k;
    n.name = std::string(op_kind_name(k)) + "_" + std::to_string(counter++);
    n.inputs = std::move(ins);
    n.outputs = {out};
    n.attrs = std::move(a);
    g.add_node(std::move(n));
    return out;
}

inline TensorData random_int8(const Shape& s, std::mt19937& rng) {
  TensorData t(DType::I8, s);
  std::uniform_int_distribution<int> d(-128, 127);
  for (int64_t i = 0; i < t.count(); ++i) t.data<int8_t>()[i] = int8_t(d(rng));
  return t;
}

// The first index where two int8 tensors differ, for messages ("" if none).
inline std::string first_difference(const TensorData& a, const TensorData& b) {
  if (a.shape != b.shape) return "shapes " + shape_str(a.shape) + " vs " + shape_str(b.shape);
  for (int64_t i = 0; i < a.count(); ++i)
    if (a.data<int8_t>()[i] != b.data<int8_t>()[i])
      return str_cat("element ", i, ": npu ", int(a.data<int8_t>()[i]), ", cpu ", int(b.data<int8_t>()[i]));
  return "";
}

struct NpuVsCpu {
  bool compiled = false;
  std::string error;           // compile or run error
  std::string mismatch;        // first difference
  size_t payload_bytes = 0;
  int runs = 0;
};

// Compiles `g` (a partition graph, channels-last after layout-nhwc) and runs `samples` random int8
// inputs through the backend and the CPU executor on `reference` (default: `g`). Bit-exact.
inline NpuVsCpu compare_npu_cpu(const Graph& g, int samples, uint32_t seed,
                                const compiler::CompileOptions& options = {}, const Graph* reference = nullptr) {
  NpuVsCpu r;
  auto payload = compiler::compile_partition(g, npu_target(), options);
  if (!payload.ok()) {
    r.error = payload.status().to_string();
    return r;
  }
  r.compiled = true;
  r.payload_bytes = payload->size();
  auto ex = Executor::create(reference ? *reference : g);
  if (!ex.ok()) {
    r.error = "cpu: " + ex.status().to_string();
    return r;
  }
  LoadedPayload lp;
  const Error e = load_payload(payload.value(), &lp);
  if (e != Error::Ok) {
    r.error = str_cat("backend init: ", to_string(e), ": ", lp.backend.last_error());
    return r;
  }
  std::mt19937 rng(seed);
  for (int s = 0; s < samples; ++s) {
    std::vector<TensorData> inputs;
    for (TensorId t : g.inputs) inputs.push_back(random_int8(g.tensor(t).shape, rng));
    std::vector<TensorData> want;
    Status st = ex.value()->run(inputs, &want);
    if (!st.ok()) {
      r.error = "cpu run: " + st.to_string();
      return r;
    }
    std::vector<TensorData> got;
    for (TensorId t : g.outputs) got.emplace_back(DType::I8, g.tensor(t).shape);
    const Error re = run_payload(lp.backend, inputs, got);
    if (re != Error::Ok) {
      r.error = str_cat("backend execute: ", to_string(re), ": ", lp.backend.last_error(), " (driver error ",
                        lp.backend.last_driver_error(), ")");
      return r;
    }
    for (size_t k = 0; k < got.size(); ++k) {
      const std::string d = first_difference(got[k], want[k]);
      if (!d.empty()) {
        r.mismatch = str_cat("sample ", s, ", output ", k, ": ", d);
        return r;
      }
    }
    ++r.runs;
  }
  return r;
}

}  // namespace neutron::testing
