// Cortex-M33 cycle model (sim/cpu_timing.h): the formulas of docs/cpu-model.md worked by hand on
// small kernel calls, monotonic properties, and the CpuConfig from a target's "sim_cpu_*" fields.
#include <gtest/gtest.h>

#include "npu/npu_test_util.h"
#include "sim/cpu_config_target.h"
#include "sim/cpu_timing.h"

namespace neutron::sim {
namespace {

using npu::ElemType;
using npu::MicrocodeImage;
using npu::MicrocodeView;
using npu::MicrocodeWriter;
using npu::Opcode;
using npu::Region;

struct Image {
  MicrocodeImage img;
  MicrocodeView view;
};

Image finish(MicrocodeWriter& w) {
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  auto img = w.finish();
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  Image r{std::move(img).value(), {}};
  const npu::ValidationResult v =
      npu::validate_microcode(r.img.microcode.data(), r.img.microcode.size(), r.img.weights.size(), &r.view);
  EXPECT_TRUE(v.ok()) << v.message;
  return r;
}

// Unpadded (CPU) conv: hw x hw x cin -> hw x hw x cout, k x k, same padding.
Image conv(int hw, int cin, int cout, int k, int groups = 1) {
  MicrocodeWriter w;
  npu::ConvArgs a{};
  a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, hw, hw, cin});
  a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, hw, hw, cout});
  a.kernel_h = a.kernel_w = k;
  a.stride_h = a.stride_w = a.dilation_h = a.dilation_w = 1;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = k / 2;
  a.groups = groups;
  a.in_c_padded = cin / groups;
  a.out_c_padded = cout;
  a.act_min = -128;
  a.act_max = 127;
  a.weights_offset = w.reserve_weights(size_t(cout) * k * k * a.in_c_padded);
  a.bias_offset = w.reserve_weights(size_t(cout) * 4);
  a.multipliers_offset = w.reserve_weights(size_t(cout) * 8);
  w.append(groups == cin && groups > 1 ? Opcode::kDepthwiseConv2D : Opcode::kConv2D, a);
  return finish(w);
}

Image fc(int rows, int k, int n) {
  MicrocodeWriter w;
  npu::FullyConnectedArgs a{};
  a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 1, rows, k});
  a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 1, rows, n});
  a.rows = rows;
  a.in_features = a.in_features_padded = k;
  a.out_features = a.out_features_padded = n;
  a.per_channel = 1;
  a.act_min = -128;
  a.act_max = 127;
  a.weights_offset = w.reserve_weights(size_t(n) * k);
  a.bias_offset = w.reserve_weights(size_t(n) * 4);
  a.multipliers_offset = w.reserve_weights(size_t(n) * 8);
  w.append(Opcode::kFullyConnected, a);
  return finish(w);
}

CpuKernelTiming time_first(const CpuConfig& cfg, const Image& im) {
  npu::InstructionCursor cur(im.view);
  npu::Instruction inst;
  EXPECT_TRUE(cur.next(&inst));
  return estimate_cpu_kernel(cfg, im.view, inst);
}

CpuConfig sram_config() {
  CpuConfig c;
  c.weights_in_flash = false;
  return c;
}

TEST(CpuTiming, ConvWorkedByHand) {
  // 8x8x16 -> 8x8x32, 3x3: 64 pixels x 32 x 9 x 16 = 294912 MACs.
  const CpuConfig c = sram_config();
  const CpuKernelTiming t = time_first(c, conv(8, 16, 32, 3));
  EXPECT_EQ(t.macs, 294912u);
  const double want = 300 + 294912 * 1.4 + 64 * 9 * 16 * 0.4 + 64 * 32 * 12.0;
  EXPECT_EQ(t.cycles, uint64_t(std::ceil(want - 300)) + 300);
  EXPECT_EQ(t.memory_cycles, 0u);
  EXPECT_TRUE(t.modelled);
}

TEST(CpuTiming, DepthwiseHasNoIm2colAndItsOwnRate) {
  const CpuConfig c = sram_config();
  const CpuKernelTiming t = time_first(c, conv(8, 16, 16, 3, 16));
  EXPECT_EQ(t.macs, 64u * 16 * 9);
  EXPECT_EQ(t.cycles, 300 + uint64_t(std::ceil(64 * 16 * 9 * 2.5 + 64 * 16 * 12.0)));
}

TEST(CpuTiming, FullyConnectedAndWeightsFromFlash) {
  CpuConfig c = sram_config();
  const CpuKernelTiming sram = time_first(c, fc(1, 256, 10));
  EXPECT_EQ(sram.macs, 2560u);
  EXPECT_EQ(sram.cycles, 300 + uint64_t(std::ceil(2560 * 1.7 + 10 * 12.0)));
  c.weights_in_flash = true;  // 500 MB/s at 325 MHz: 1.538 bytes per cycle
  const CpuKernelTiming flash = time_first(c, fc(1, 256, 10));
  const uint64_t bytes = 2560 + 10 * 4 + 10 * 8;
  EXPECT_EQ(flash.weight_bytes, bytes);
  EXPECT_EQ(flash.memory_cycles, uint64_t(std::ceil(double(bytes) / (500.0 / 325.0))));
  EXPECT_EQ(flash.cycles, sram.cycles + flash.memory_cycles);
}

TEST(CpuTiming, MoreWorkNeverCostsLess) {
  const CpuConfig c;
  uint64_t last = 0;
  for (int cout : {8, 16, 32, 64}) {
    const uint64_t cyc = time_first(c, conv(8, 16, cout, 3)).cycles;
    EXPECT_GT(cyc, last) << cout;
    last = cyc;
  }
  // The CPU is far slower than the NPU's 64 MACs per cycle: above 1 cycle per MAC here.
  const CpuKernelTiming t = time_first(c, conv(16, 32, 32, 3));
  EXPECT_GT(double(t.cycles) / double(t.macs), 1.0);
}

TEST(CpuTiming, RecurrentWorkedByHand) {
  // A GRU (3 gates), 5 steps, batch 1, 8 inputs, hidden 16.
  MicrocodeWriter w;
  npu::RecurrentArgs a{};
  a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 5, 1, 8});
  a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 5, 1, 16});
  a.output_c = a.output;
  a.cell = 0;
  a.seq = 5;
  a.batch = 1;
  a.input_size = 8;
  a.hidden = 16;
  a.weights_offset = w.reserve_weights(48 * (8 + 16));
  a.params_offset = w.reserve_weights(48 * 24 + 12);
  a.tables_offset = w.reserve_weights(2 * 513 * 2);
  a.initial_h_offset = a.initial_c_offset = UINT32_MAX;
  w.append(Opcode::kRecurrent, a);
  const Image im = finish(w);
  const CpuKernelTiming t = time_first(sram_config(), im);
  EXPECT_TRUE(t.modelled);
  EXPECT_EQ(t.macs, 5u * 48 * 24);
  EXPECT_EQ(t.cycles, 300 + uint64_t(std::ceil(5 * 48 * 24 * 1.7 + 5 * 48 * (2 * 12.0 + 3) + 5 * 16 * 10.0)));
}

TEST(CpuTiming, EdgeConversions) {
  const CpuConfig c;
  EXPECT_EQ(cpu_quantize_cycles(c, 100), 300u + 1500);
  EXPECT_EQ(cpu_dequantize_cycles(c, 100), 300u + 600);
  EXPECT_EQ(cpu_transpose_cycles(c, 100), 300u + 400);
  EXPECT_DOUBLE_EQ(cycles_to_ms(325000, 325), 1.0);
}

NeutronTarget target_with(std::vector<std::pair<std::string, double>> params) {
  NeutronTarget t;
  t.name = "t";
  t.file = "t.json";
  t.clock_mhz = 200;
  t.flash_bandwidth_mb_s = 100;
  t.sim_params = std::move(params);
  return t;
}

TEST(CpuConfigTarget, FieldsDefaultsAndErrors) {
  auto r = cpu_config_from_target(target_with({{"sim_cpu_conv_cycles_per_mac", 2}, {"sim_cpu_clock_mhz", 150}}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->config.conv_cycles_per_mac, 2);
  EXPECT_EQ(r->config.clock_mhz, 150);
  EXPECT_EQ(r->config.flash_bandwidth_mb_s, 100);
  EXPECT_TRUE(r->config.weights_in_flash);
  EXPECT_EQ(r->defaulted.size(), cpu_field_infos().size() - 2);
  // Without sim_cpu_clock_mhz the M33 runs at the target's clock.
  auto d = cpu_config_from_target(target_with({{"sim_weights_in_flash", 0}}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.clock_mhz, 200);
  EXPECT_FALSE(d->config.weights_in_flash);

  auto unknown = cpu_config_from_target(target_with({{"sim_cpu_bogus", 1}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("sim_cpu_bogus"), std::string::npos);
  auto range = cpu_config_from_target(target_with({{"sim_cpu_clock_mhz", 0}}));
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("t.json"), std::string::npos);
}

TEST(CpuConfigTarget, BuiltInTargetNamesItsCpuFields) {
  auto t = load_target("imxrt700");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto r = cpu_config_from_target(t.value());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->defaulted.empty()) << "imxrt700.json gives every sim_cpu_* field with its source or assumption";
  const CpuConfig def;
  EXPECT_EQ(r->config.conv_cycles_per_mac, def.conv_cycles_per_mac);
  EXPECT_EQ(r->config.clock_mhz, 325);
}

}  // namespace
}  // namespace neutron::sim
