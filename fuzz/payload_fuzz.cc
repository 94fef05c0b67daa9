// libFuzzer harness: bytes -> parse_payload (a Neutron delegate payload) -> the driver:
// neutronGetModelContextSizeForModel, neutronModelPrepare in a caller context, neutronRunBlocking
// on zeroed input, output, scratch, profile and debug buffers sized from the microcode's tensor
// table (as a correct caller sizes them), neutronModelUnprepare. Models above a size or work bound
// are prepared but not run, to keep each input fast.
#include <memory>
#include <vector>

#include "driver/neutron_driver.h"
#include "fuzz_util.h"
#include "runtime/payload.h"
#include "sim/sim_config.h"
#include "sim/timing.h"

namespace {

using neutron::fuzz::AlignedBytes;
namespace npu = neutron::npu;

constexpr uint64_t kMaxBuffer = uint64_t(4) << 20;
constexpr size_t kMaxContext = size_t(16) << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neutron;
  static const bool initialized = neutronInit() == ENONE;
  FUZZ_CHECK(initialized, "neutronInit failed");
  AlignedBytes payload(size, data);
  runtime::PayloadView v;
  const runtime::PayloadStatus ps = runtime::parse_payload(payload.data(), payload.size(), &v);
  FUZZ_CHECK(ps.message != nullptr, "parse_payload gave a null message");
  if (!ps.ok()) return 0;

  NeutronModelConfig cfg = {};
  cfg.microcode = v.microcode;
  cfg.weights = v.weights;
  cfg.kernels = v.kernels_size ? v.kernels : nullptr;
  cfg.microcodeSize = v.microcode_size;
  cfg.weightsSize = v.weights_size;
  size_t context = 0;
  if (neutronGetModelContextSizeForModel(&cfg, &context) != ENONE) return 0;
  if (context > kMaxContext) return 0;
  AlignedBytes ctx(context < 16 ? 16 : context);
  cfg.contextSize = ctx.size();
  NeutronModelHandle h = ctx.data();
  if (neutronModelPrepare(&cfg, &h) != ENONE) return 0;

  const npu::MicrocodeView& mc = v.mc;
  bool too_big = mc.scratch_size() > kMaxBuffer || mc.sram_scratch_size() > kMaxBuffer ||
                 mc.profile_size() > kMaxBuffer || mc.debug_size() > kMaxBuffer;
  for (uint32_t i = 0; i < mc.num_inputs(); ++i)
    too_big |= runtime::payload_io_bytes(mc, npu::Region::kInput, i) > kMaxBuffer;
  for (uint32_t i = 0; i < mc.num_outputs(); ++i)
    too_big |= runtime::payload_io_bytes(mc, npu::Region::kOutput, i) > kMaxBuffer;
  if (!too_big) {
    // The simulator does the work the timing model counts: skip what would take seconds.
    const sim::TimingSummary t = sim::estimate_timing(sim::default_sim_config(), mc, nullptr, 0);
    too_big = t.macs > 50000000 || t.compute_cycles > 5000000;
  }
  if (!too_big) {
    std::vector<std::unique_ptr<AlignedBytes>> owned;  // inputs, then outputs
    std::vector<const void*> in_ptrs;
    std::vector<void*> out_ptrs;
    for (uint32_t i = 0; i < mc.num_inputs(); ++i) {
      owned.push_back(std::make_unique<AlignedBytes>(runtime::payload_io_bytes(mc, npu::Region::kInput, i)));
      in_ptrs.push_back(owned.back()->data());
    }
    for (uint32_t i = 0; i < mc.num_outputs(); ++i) {
      owned.push_back(std::make_unique<AlignedBytes>(runtime::payload_io_bytes(mc, npu::Region::kOutput, i)));
      out_ptrs.push_back(owned.back()->data());
    }
    AlignedBytes scratch(mc.scratch_size()), sram(mc.sram_scratch_size()), profile(mc.profile_size()),
        debug(mc.debug_size());
    out_ptrs.push_back(scratch.data());
    out_ptrs.push_back(mc.profile_size() ? profile.data() : nullptr);
    out_ptrs.push_back(mc.debug_size() ? debug.data() : nullptr);
    NeutronDataConfig d = {};
    d.inputs = in_ptrs.data();
    d.outputs = out_ptrs.data();
    d.scratch = scratch.data();
    d.scratchWeights = sram.data();
    const NeutronError e = neutronRunBlocking(h, &d);
    FUZZ_CHECK(e == ENONE || neutronGetLastErrorMessage() != nullptr, "an error without a message");
    for (uint32_t i = 0; i < mc.num_outputs(); ++i) neutron::fuzz::touch(out_ptrs[i], owned[mc.num_inputs() + i]->size());
  }
  FUZZ_CHECK(neutronModelUnprepare(h) == ENONE, "unprepare failed: %s", neutronGetLastErrorMessage());
  return 0;
}
