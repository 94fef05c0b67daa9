// Timing model: pinned cycle counts of small kernels (the formulas of docs/npu-model.md worked by
// hand), monotonic properties, prefetch overlap, the SimConfig from the target file, and the
// MobileNetV1-0.25 calibration against NXP's published 5 ms.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "npu/npu_test_util.h"
#include "kernel_calls/kernel_calls.h"
#include "sim/mobilenet_microcode.h"
#include "sim/sim_config_target.h"
#include "sim/timing.h"

namespace neutron::sim {
namespace {

using npu::ElemType;
using npu::MicrocodeImage;
using npu::MicrocodeView;
using npu::MicrocodeWriter;
using npu::Opcode;
using npu::Region;

MicrocodeView view_of(const MicrocodeImage& img) {
  MicrocodeView v;
  const npu::ValidationResult r = npu::validate_microcode(img.microcode.data(), img.microcode.size(),
                                                          img.weights.size(), &v);
  EXPECT_TRUE(r.ok()) << r.message;
  return v;
}

// One conv: H x W x cin -> H x W x cout (stride 1, same padding), k x k, groups.
MicrocodeImage conv_image(int hw, int cin, int cout, int k, int groups = 1) {
  MicrocodeWriter w;
  npu::ConvArgs a{};
  a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, hw, hw, cin});
  a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, hw, hw, cout});
  a.kernel_h = a.kernel_w = k;
  a.stride_h = a.stride_w = a.dilation_h = a.dilation_w = 1;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = k / 2;
  a.groups = groups;
  const int cin_g = cin / groups;
  a.in_c_padded = groups == cin && groups > 1 ? 1 : (cin_g + 7) / 8 * 8;
  a.out_c_padded = (cout + 7) / 8 * 8;
  a.act_min = -128;
  a.act_max = 127;
  a.weights_offset = w.reserve_weights(size_t(a.out_c_padded) * k * k * a.in_c_padded);
  a.bias_offset = w.reserve_weights(size_t(cout) * 4);
  a.multipliers_offset = w.reserve_weights(size_t(cout) * 8);
  w.append(groups == cin && groups > 1 ? Opcode::kDepthwiseConv2D : Opcode::kConv2D, a);
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  auto img = w.finish();
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  return std::move(img).value();
}

// The first kernel alone, its weights not prefetched: where cfg puts them (in flash on an NPU that
// cannot read flash: copied to SRAM first). A whole payload without prefetch instructions has them
// resident in SRAM instead (Timing.NoPrefetchMeansWeightsResidentInSram).
KernelTiming time_single(const SimConfig& cfg, const MicrocodeImage& img) {
  const MicrocodeView v = view_of(img);
  npu::InstructionCursor cur(v);
  npu::Instruction inst;
  EXPECT_TRUE(cur.next(&inst));
  return estimate_kernel(cfg, v, inst, false);
}

// Fixed parameters for the pinned cases, so that recalibrating the defaults does not move them.
SimConfig pinned_config() {
  SimConfig c;
  c.num_pipes = 8;
  c.num_macs = 8;
  c.clock_mhz = 325;
  c.flash_bandwidth_mb_s = 500;
  c.npu_reads_flash = false;
  c.sram_bytes_per_cycle = 8;
  c.copy_setup_cycles = 100;
  c.kernel_overhead_cycles = 2000;
  c.job_overhead_cycles = 100;
  c.prefetch_issue_cycles = 50;
  c.vector_elements_per_cycle = 8;
  c.weights_memory = WeightsMemory::kSram;
  return c;
}

TEST(Timing, PinnedConv) {
  const SimConfig cfg = pinned_config();
  // 8x8x16 -> 8x8x16, 3x3: pixels 64, ceil(16/8) = 2 channel groups, 9 taps, ceil(16/8) = 2.
  //   compute = 64 * 2 * 9 * 2 = 2304; jobs = 8 rows * 2 groups = 16
  //   sram = 1024 in + 1024 out + weights 16*9*16 = 2304 + 16 * 12 bias/multipliers = 4544 bytes
  //   memory = 4544 / 8 = 568; overhead = 2000 + 16 * 100 = 3600; cycles = 3600 + max(2304, 568)
  KernelTiming k = time_single(cfg, conv_image(8, 16, 16, 3));
  EXPECT_EQ(k.compute_cycles, 2304u);
  EXPECT_EQ(k.jobs, 16u);
  EXPECT_EQ(k.memory_cycles, 568u);
  EXPECT_EQ(k.overhead_cycles, 3600u);
  EXPECT_EQ(k.cycles, 5904u);
  EXPECT_EQ(k.macs, 64u * 16 * 9 * 16);
  EXPECT_EQ(k.bound, Bound::kOverhead);
  EXPECT_DOUBLE_EQ(k.utilization, double(k.macs) / (5904.0 * 64));
  // Channels that are not multiples of 8 waste lanes: 9 -> 9 costs what 16 -> 16 costs.
  KernelTiming odd = time_single(cfg, conv_image(8, 9, 9, 3));
  EXPECT_EQ(odd.compute_cycles, 2304u);
  EXPECT_LT(odd.utilization, k.utilization);
  // Depthwise 3x3 on 16 channels: taps along the dot product, ceil(9/8) = 2 cycles per group.
  //   compute = 64 * 2 * 2 = 256; jobs 16
  KernelTiming dw = time_single(cfg, conv_image(8, 16, 16, 3, 16));
  EXPECT_EQ(dw.compute_cycles, 256u);
  EXPECT_EQ(dw.macs, 64u * 16 * 9);
  // A large pointwise conv is compute bound: 32x32x64 -> 64, 1x1: 1024 * 8 * 8 = 65536 cycles.
  KernelTiming pw = time_single(cfg, conv_image(32, 64, 64, 1));
  EXPECT_EQ(pw.compute_cycles, 65536u);
  EXPECT_EQ(pw.bound, Bound::kCompute);
  EXPECT_EQ(pw.cycles, 2000u + 32 * 8 * 100 + 65536);
}

TEST(Timing, PinnedFlashFetch) {
  SimConfig cfg = pinned_config();
  cfg.weights_memory = WeightsMemory::kFlash;
  cfg.kernel_overhead_cycles = 100;
  cfg.job_overhead_cycles = 0;
  // 1x1 conv 8x8x64 -> 64: weights 64*64 = 4096 bytes + 64*12 = 4864 bytes from flash.
  //   flash: 500 MB/s at 325 MHz = 1.538 bytes/cycle -> ceil(4864 / 1.5385) = 3162, + 100 setup
  KernelTiming k = time_single(cfg, conv_image(8, 64, 64, 1));
  EXPECT_EQ(k.flash_bytes, 4864u);
  const uint64_t fetch = 100 + 3162;
  EXPECT_EQ(k.memory_cycles, fetch + (4096 + 4096 + 4864) / 8);
  EXPECT_EQ(k.bound, Bound::kMemory);
  EXPECT_EQ(k.cycles, k.overhead_cycles + fetch + std::max<uint64_t>(k.compute_cycles, (4096 + 4096 + 4864) / 8));
  // The same kernel with its weights in SRAM is faster.
  cfg.weights_memory = WeightsMemory::kSram;
  EXPECT_LT(time_single(cfg, conv_image(8, 64, 64, 1)).cycles, k.cycles);
  // A flash-capable NPU streams the weights instead of copying them first.
  cfg.weights_memory = WeightsMemory::kFlash;
  cfg.npu_reads_flash = true;
  const KernelTiming streamed = time_single(cfg, conv_image(8, 64, 64, 1));
  EXPECT_LT(streamed.cycles, k.cycles);
  EXPECT_EQ(streamed.memory_cycles, 3162u);
}

TEST(Timing, MonotoneInWork) {
  const SimConfig cfg = pinned_config();
  uint64_t prev = 0;
  for (int cout : {8, 16, 32, 64, 128}) {
    const KernelTiming k = time_single(cfg, conv_image(16, 32, cout, 3));
    EXPECT_GT(k.macs, 0u);
    EXPECT_GT(k.cycles, prev) << cout;
    prev = k.cycles;
  }
  prev = 0;
  for (int hw : {2, 4, 8, 16, 32}) {
    const KernelTiming k = time_single(cfg, conv_image(hw, 16, 16, 3));
    EXPECT_GT(k.cycles, prev) << hw;
    prev = k.cycles;
  }
  // More MACs per cycle: never slower.
  SimConfig wide = cfg;
  wide.num_pipes = 16;
  EXPECT_LE(time_single(wide, conv_image(16, 64, 64, 3)).cycles, time_single(cfg, conv_image(16, 64, 64, 3)).cycles);
  // Slower flash: more cycles when weights come from flash.
  SimConfig flash = cfg, slow = cfg;
  flash.weights_memory = slow.weights_memory = WeightsMemory::kFlash;
  slow.flash_bandwidth_mb_s = 100;
  EXPECT_GT(time_single(slow, conv_image(8, 64, 64, 1)).cycles, time_single(flash, conv_image(8, 64, 64, 1)).cycles);
}

TEST(Timing, ElementwiseAndPools) {
  const SimConfig cfg = pinned_config();
  MicrocodeWriter w;
  npu::ElementwiseArgs e{};
  e.a = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 4, 4, 20});
  e.b = w.add_tensor(Region::kInput, 1, 0, ElemType::kInt8, {1, 1, 1, 20});
  e.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 4, 4, 20});
  e.shift = 31;
  e.act_min = -128;
  e.act_max = 127;
  w.append(Opcode::kElementwise, e);
  npu::PoolArgs p{};
  p.input = e.output;
  p.output = w.add_tensor(Region::kOutput, 1, 0, ElemType::kInt8, {1, 1, 1, 20});
  p.multiplier = 1 << 30;
  p.shift = 30;
  p.act_min = -128;
  p.act_max = 127;
  w.append(Opcode::kGlobalAvgPool, p);
  w.set_num_inputs(2);
  w.set_num_outputs(2);
  auto img = w.finish();
  ASSERT_TRUE(img.ok()) << img.status().to_string();
  KernelTiming rec[2];
  const TimingSummary s = estimate_timing(cfg, view_of(*img), rec, 2);
  // Elementwise: 320 elements / 8 per cycle = 40; 4 jobs (rows); sram (320 + 20 + 320) / 8 = 83.
  EXPECT_EQ(rec[0].compute_cycles, 40u);
  EXPECT_EQ(rec[0].memory_cycles, 83u);
  EXPECT_EQ(rec[0].cycles, 2000u + 4 * 100 + 83);
  EXPECT_EQ(rec[0].bound, Bound::kOverhead);
  // Global pool over 16 taps, 20 channels: ceil(20/8) * ceil(16/8) = 6 cycles, 3 jobs.
  EXPECT_EQ(rec[1].compute_cycles, 6u);
  EXPECT_EQ(rec[1].jobs, 3u);
  EXPECT_EQ(rec[1].start_cycle, rec[0].cycles);
  EXPECT_EQ(s.total_cycles, rec[0].cycles + rec[1].cycles);
  EXPECT_EQ(s.kernels, 2u);
}

TEST(Timing, PrefetchOverlapsCompute) {
  SimConfig cfg = pinned_config();
  cfg.weights_memory = WeightsMemory::kFlash;
  const MicrocodeImage none = testing::mobilenet_v1_025_microcode(testing::WeightPlacement::kFlashNoPrefetch);
  const MicrocodeImage pre = testing::mobilenet_v1_025_microcode(testing::WeightPlacement::kFlashPrefetch);
  // Every kernel copying its own weights first (what a prefetch plan's distance 0 would do).
  const MicrocodeView nv = view_of(none);
  sim::Timeline copying(cfg, false);
  {
    const MicrocodeTensors tensors(nv);
    npu::InstructionCursor cur(nv);
    npu::Instruction inst;
    while (cur.next(&inst)) copying.step(tensors, inst);
  }
  const TimingSummary a = copying.summary();
  const TimingSummary b = estimate_timing(cfg, view_of(pre), nullptr, 0);
  cfg.weights_memory = WeightsMemory::kSram;
  const TimingSummary c = estimate_timing(cfg, view_of(none), nullptr, 0);
  EXPECT_LT(b.total_cycles, a.total_cycles);  // prefetch hides flash behind compute
  EXPECT_LT(c.total_cycles, b.total_cycles);  // weights already in SRAM is the floor
  EXPECT_EQ(a.macs, b.macs);
  // The same weights cross the flash port either way (prefetch ranges include alignment padding).
  EXPECT_NEAR(double(a.flash_bytes), double(b.flash_bytes), 0.01 * double(a.flash_bytes));
  EXPECT_GT(b.stall_cycles, 0u);            // the first layer waits for its weights
}

// A payload without prefetch instructions, its weights in flash, on an NPU that cannot read flash:
// nothing in the microcode could copy them, so they are resident in SRAM for the run (upstream
// without fetch_constants_to_sram; the compile's memory verdict counts them in SRAM): the time is
// that of weights in SRAM, with no flash traffic per inference.
TEST(Timing, NoPrefetchMeansWeightsResidentInSram) {
  SimConfig cfg = pinned_config();
  cfg.weights_memory = WeightsMemory::kFlash;
  const MicrocodeImage none = testing::mobilenet_v1_025_microcode(testing::WeightPlacement::kFlashNoPrefetch);
  const TimingSummary resident = estimate_timing(cfg, view_of(none), nullptr, 0);
  EXPECT_EQ(resident.flash_bytes, 0u);
  cfg.weights_memory = WeightsMemory::kSram;
  EXPECT_EQ(estimate_timing(cfg, view_of(none), nullptr, 0).total_cycles, resident.total_cycles);
  // An NPU that reads flash streams them from there instead.
  cfg.weights_memory = WeightsMemory::kFlash;
  cfg.npu_reads_flash = true;
  const TimingSummary streamed = estimate_timing(cfg, view_of(none), nullptr, 0);
  EXPECT_GT(streamed.flash_bytes, 0u);
  EXPECT_GE(streamed.total_cycles, resident.total_cycles);
}

// Absurd configurations (a NeutronTarget built in code, or a SimConfig set directly) never reach an
// out-of-range double -> integer conversion: sim_config_from_target refuses them, and the timing
// model saturates (UBSan builds would flag the conversion).
TEST(Timing, AbsurdConfigIsRefusedOrSaturates) {
  auto t = load_target("imxrt700");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto refused = [](const NeutronTarget& x, const std::string& field) {
    auto c = sim_config_from_target(x);
    ASSERT_FALSE(c.ok()) << field;
    EXPECT_NE(c.status().message().find(field), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find(x.file), std::string::npos) << c.status().message();
  };
  NeutronTarget x = *t;
  x.clock_mhz = 9223372036854775808.0;  // 2^63
  refused(x, "clock_mhz");
  x = *t;
  x.clock_mhz = std::nan("");
  refused(x, "clock_mhz");
  x = *t;
  x.flash_bandwidth_mb_s = 0;  // no flash, but weights in flash
  refused(x, "flash_bandwidth_mb_s");
  x = *t;
  x.flash_bandwidth_mb_s = 1e-300;
  refused(x, "flash_bandwidth_mb_s");
  for (auto& p : x.sim_params = t->sim_params)
    if (p.first == "sim_vector_elements_per_cycle") p.second = 1e30;
  x.flash_bandwidth_mb_s = 500;
  refused(x, "sim_vector_elements_per_cycle");
  x = *t;
  for (auto& p : x.sim_params)
    if (p.first == "sim_weights_in_flash") p.second = 0.5;
  refused(x, "sim_weights_in_flash");
  x = *t;
  for (auto& p : x.sim_params)
    if (p.first == "sim_weights_in_flash") p.second = 0;
  x.flash_bandwidth_mb_s = 0;
  EXPECT_TRUE(sim_config_from_target(x).ok());  // weights in SRAM: no flash needed

  SimConfig cfg = pinned_config();
  cfg.weights_memory = WeightsMemory::kFlash;
  cfg.clock_mhz = 9223372036854775808.0;  // flash bytes per cycle ~5e-17
  cfg.vector_elements_per_cycle = 1e30;
  const KernelTiming k = time_single(cfg, conv_image(8, 64, 64, 1));
  EXPECT_EQ(k.flash_bytes, 4864u);
  EXPECT_GE(k.memory_cycles, uint64_t(1) << 62);  // saturated, not wrapped or undefined
}

TEST(Timing, ConfigFromTargetMatchesDefaults) {
  auto t = load_target("imxrt700");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto cfg = sim_config_from_target(*t);
  ASSERT_TRUE(cfg.ok()) << cfg.status().to_string();
  const SimConfig d = default_sim_config();
  EXPECT_EQ(cfg->num_pipes, d.num_pipes);
  EXPECT_EQ(cfg->num_macs, d.num_macs);
  EXPECT_DOUBLE_EQ(cfg->clock_mhz, d.clock_mhz);
  EXPECT_DOUBLE_EQ(cfg->flash_bandwidth_mb_s, d.flash_bandwidth_mb_s);
  EXPECT_EQ(cfg->npu_reads_flash, d.npu_reads_flash);
  EXPECT_DOUBLE_EQ(cfg->sram_bytes_per_cycle, d.sram_bytes_per_cycle);
  EXPECT_EQ(cfg->copy_setup_cycles, d.copy_setup_cycles);
  EXPECT_EQ(cfg->kernel_overhead_cycles, d.kernel_overhead_cycles);
  EXPECT_EQ(cfg->job_overhead_cycles, d.job_overhead_cycles);
  EXPECT_EQ(cfg->prefetch_issue_cycles, d.prefetch_issue_cycles);
  EXPECT_DOUBLE_EQ(cfg->vector_elements_per_cycle, d.vector_elements_per_cycle);
  EXPECT_EQ(cfg->weights_memory, d.weights_memory);
  for (int i = 0; i < kNumSimFields; ++i) {
    const TargetFieldInfo* f = t->field(kSimFieldNames[i]);
    ASSERT_NE(f, nullptr) << kSimFieldNames[i];
    EXPECT_FALSE(f->provenance.empty());
  }
  // Unknown sim_ fields are errors; other targets fall back to the defaults.
  NeutronTarget bad = *t;
  bad.sim_params.emplace_back("sim_typo", 1);
  EXPECT_FALSE(sim_config_from_target(bad).ok());
  auto mcx = load_target("mcxn94x");
  ASSERT_TRUE(mcx.ok());
  auto mcfg = sim_config_from_target(*mcx);
  ASSERT_TRUE(mcfg.ok());
  EXPECT_EQ(mcfg->macs_per_cycle(), 16);
}

// NXP: MobileNetV1-0.25-128 int8 on the RT700 NPU, "inference time 5 (ms)" (anchors §1.1).
// Reference deployment: weights in flash, prefetched one layer ahead.
TEST(Timing, MobileNetCalibration) {
  const SimConfig cfg = default_sim_config();
  const MicrocodeImage img = testing::mobilenet_v1_025_microcode(testing::WeightPlacement::kFlashPrefetch);
  const MicrocodeView v = view_of(img);
  std::vector<KernelTiming> rec(v.num_instructions());
  const TimingSummary s = estimate_timing(cfg, v, rec.data(), uint32_t(rec.size()));
  EXPECT_EQ(s.macs, 13314048u + 256000u + 4096u);  // 27 convolutions, classifier, global pool
  std::printf("MobileNetV1-0.25-128: %.3f ms (%llu cycles), utilization %.1f%%, compute %llu, memory %llu, "
              "overhead %llu, stall %llu cycles, %u kernels\n",
              s.latency_ms, (unsigned long long)s.total_cycles, 100 * s.utilization,
              (unsigned long long)s.compute_cycles, (unsigned long long)s.memory_cycles,
              (unsigned long long)s.overhead_cycles, (unsigned long long)s.stall_cycles, s.kernels);
  if (std::getenv("NEUTRON_PRINT_LAYERS"))
    for (const KernelTiming& k : rec)
      std::printf("  %2u %-16s cycles %7llu compute %7llu memory %7llu overhead %7llu stall %6llu util %5.1f%% %s\n",
                  k.instruction, npu::opcode_name(k.opcode), (unsigned long long)k.cycles,
                  (unsigned long long)k.compute_cycles, (unsigned long long)k.memory_cycles,
                  (unsigned long long)k.overhead_cycles, (unsigned long long)k.stall_cycles, 100 * k.utilization,
                  bound_name(k.bound));
  EXPECT_NEAR(s.latency_ms, 5.0, 0.25);  // within 5% of the published number
  // Other placements, for the record (docs/npu-model.md).
  for (auto placement : {testing::WeightPlacement::kFlashNoPrefetch, testing::WeightPlacement::kSram}) {
    SimConfig c = cfg;
    if (placement == testing::WeightPlacement::kSram) c.weights_memory = WeightsMemory::kSram;
    const TimingSummary o = estimate_timing(c, view_of(testing::mobilenet_v1_025_microcode(placement)), nullptr, 0);
    std::printf("  %s: %.3f ms\n",
                placement == testing::WeightPlacement::kSram ? "weights in SRAM" : "flash, no prefetch (resident in SRAM)",
                o.latency_ms);
    EXPECT_GT(o.latency_ms, 0);
  }
}

// The same microcode runs functionally through the driver (a whole network's prepare and run).
TEST(Timing, MobileNetRunsThroughTheDriver) {
  const MicrocodeImage img = testing::mobilenet_v1_025_microcode(testing::WeightPlacement::kFlashPrefetch);
  std::vector<uint8_t> input(128 * 128 * 3, 7);
  const testing::DriverResult r = testing::run_on_driver(img, {input});
  ASSERT_EQ(r.prepare, ENONE) << testing::error_text(r.prepare);
  ASSERT_EQ(r.run, ENONE) << testing::error_text(r.run);
  const TimingSummary s = estimate_timing(default_sim_config(), view_of(img), nullptr, 0);
  EXPECT_EQ(r.stats.totalCycles, s.total_cycles);
  EXPECT_EQ(r.outputs[0].size(), 1000u);
}

}  // namespace
}  // namespace neutron::sim
