// Test helpers shared by tests/npu, tests/sim and tests/driver: aligned buffers, seeded random
// data, and running a microcode image through the simulated driver.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "driver/neutron_driver.h"
#include "npu/microcode_reader.h"
#include "npu/microcode_writer.h"

namespace neutron::testing {

// A 16-byte aligned byte buffer (std::vector gives no alignment promise).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n, uint8_t fill = 0) { resize(n, fill); }
  void resize(size_t n, uint8_t fill = 0) {
    size_ = n;
    mem_.reset(static_cast<uint8_t*>(std::aligned_alloc(16, (n + 15) / 16 * 16 + 16)));
    std::memset(mem_.get(), fill, (n + 15) / 16 * 16 + 16);
  }
  void assign(const void* data, size_t n) {
    resize(n);
    if (n) std::memcpy(mem_.get(), data, n);
  }
  uint8_t* data() const { return mem_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> mem_;
  size_t size_ = 0;
};

inline std::vector<int8_t> random_int8(std::mt19937& rng, size_t n, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(d(rng));
  return v;
}
inline int rand_int(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
inline double rand_real(std::mt19937& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

// Everything needed to run an image: the buffers the driver wants, with sizes from the tensor
// table (the extent each input/output index needs).
struct DriverResult {
  NeutronError prepare = ENONE;
  NeutronError run = ENONE;
  std::vector<std::vector<uint8_t>> outputs;
  NeutronRunStats stats = {};
  std::string message;
};

struct RunOptions {
  bool caller_context = true;  // neutronModelPrepare with caller memory (no heap)
  bool give_sizes = true;      // NeutronModelConfig.microcodeSize / weightsSize
  NeutronTraceConfig* trace = nullptr;
  uint8_t* profile = nullptr;
};

// Bytes input/output `index` must have for this microcode (max offset + size over its tensors).
inline size_t io_extent(const npu::MicrocodeView& mc, npu::Region region, uint32_t index) {
  size_t n = 0;
  for (uint32_t i = 0; i < mc.num_tensors(); ++i) {
    const npu::TensorDesc d = mc.tensor(i);
    if (d.region == uint8_t(region) && d.index == index && size_t(d.offset) + d.size > n) n = size_t(d.offset) + d.size;
  }
  return n;
}

inline DriverResult run_on_driver(const npu::MicrocodeImage& img, const std::vector<std::vector<uint8_t>>& inputs,
                                  const RunOptions& opt = RunOptions()) {
  DriverResult r;
  neutronInit();
  AlignedBuffer mc, w;
  mc.assign(img.microcode.data(), img.microcode.size());
  w.assign(img.weights.data(), img.weights.size());
  NeutronModelConfig cfg = {};
  cfg.microcode = mc.data();
  cfg.weights = w.data();
  cfg.kernels = nullptr;
  cfg.timeoutSeconds = 60;
  if (opt.give_sizes) {
    cfg.microcodeSize = mc.size();
    cfg.weightsSize = w.size();
  }
  AlignedBuffer ctx;
  NeutronModelHandle h = nullptr;
  if (opt.caller_context) {
    size_t need = 0;
    r.prepare = neutronGetModelContextSizeForModel(&cfg, &need);
    if (r.prepare != ENONE) {
      r.message = neutronGetLastErrorMessage();
      return r;
    }
    ctx.resize(need, 0xAB);
    cfg.contextSize = need;
    h = ctx.data();
  }
  r.prepare = neutronModelPrepare(&cfg, &h);
  if (r.prepare != ENONE) {
    r.message = neutronGetLastErrorMessage();
    return r;
  }
  npu::MicrocodeView view;
  npu::validate_microcode(mc.data(), mc.size(), w.size(), &view);
  std::vector<AlignedBuffer> ins(view.num_inputs()), outs(view.num_outputs());
  std::vector<const void*> in_ptrs;
  std::vector<void*> out_ptrs;
  for (uint32_t i = 0; i < view.num_inputs(); ++i) {
    const size_t n = io_extent(view, npu::Region::kInput, i);
    ins[i].resize(n);
    if (i < inputs.size()) std::memcpy(ins[i].data(), inputs[i].data(), std::min(n, inputs[i].size()));
    in_ptrs.push_back(ins[i].data());
  }
  for (uint32_t i = 0; i < view.num_outputs(); ++i) {
    outs[i].resize(io_extent(view, npu::Region::kOutput, i), 0x5A);
    out_ptrs.push_back(outs[i].data());
  }
  AlignedBuffer scratch(view.scratch_size(), 0x77), sram(view.sram_scratch_size());
  AlignedBuffer debug(view.debug_size());
  out_ptrs.push_back(scratch.data());
  out_ptrs.push_back(opt.profile);
  out_ptrs.push_back(view.debug_size() ? debug.data() : nullptr);
  NeutronDataConfig d = {};
  d.inputs = in_ptrs.data();
  d.outputs = out_ptrs.data();
  d.scratch = nullptr;
  d.scratchWeights = view.sram_scratch_size() ? sram.data() : nullptr;
  if (opt.trace) neutronSetTrace(h, opt.trace);
  r.run = neutronRunBlocking(h, &d);
  r.message = neutronGetLastErrorMessage();
  if (r.run == ENONE) neutronGetRunStats(h, &r.stats);
  for (uint32_t i = 0; i < view.num_outputs(); ++i)
    r.outputs.emplace_back(outs[i].data(), outs[i].data() + outs[i].size());
  neutronModelUnprepare(h);
  return r;
}

inline std::string error_text(NeutronError e) {
  return std::string(getNeutronErrorComponent(e)) + "/" + getNeutronErrorCategory(e) + " code " +
         std::to_string(GET_ERROR_CODE(e)) + ": " + neutronGetLastErrorMessage();
}

}  // namespace neutron::testing
