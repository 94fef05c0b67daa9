// Phase-decomposed int8 ConvTranspose (lowering::LowerOptions::conv_transpose_phases): a stride s
// becomes the s_h * s_w output phases, each a stride-1 convolution of the input with its taps:
// with group 1, one convolution with the phases stacked as output channels and a transpose that
// interleaves them; depthwise, one convolution per phase and an interleave by concatenations;
// instead of one convolution over the zero-inserted input. The same bytes as the zero-insertion path on random geometries (1-D, dilation,
// output_padding, padding above the kernel, depthwise), with about s_h * s_w times fewer MACs; the
// vocoder and U-Net fixtures compile and stay bit-exact (tests/compiler/fixtures_test.cc and
// tests/tools/issue16_models_cli_test.cc run them end to end).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/aligned_buffer.h"
#include "kernel_calls/kernel_calls.h"
#include "lowering/lowering.h"
#include "npu/microcode_reader.h"
#include "util/single_op.h"

namespace neutron {
namespace {

struct Geo {
  int64_t n = 1, cin = 1, cout_g = 1, group = 1, h = 1, w = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  std::vector<int64_t> pads{0, 0, 0, 0}, op{0, 0};
  std::string str() const {
    return str_cat("x[", n, ",", cin, ",", h, ",", w, "] k", kh, "x", kw, " s", sh, "x", sw, " d", dh, "x", dw, " pads ",
                   pads, " op ", op, " group ", group, " cout/g ", cout_g);
  }
};

Geo random_geo(std::mt19937& rng, bool one_d) {
  auto ri = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  Geo g;
  g.n = ri(1, 2);
  const bool depthwise = ri(0, 2) == 0;
  g.cin = ri(1, 9);
  g.group = depthwise ? g.cin : 1;
  g.cout_g = depthwise ? ri(1, 2) : ri(1, 11);
  g.h = one_d ? 1 : ri(1, 7);
  g.w = ri(1, 9);
  g.kh = one_d ? 1 : ri(1, 5);
  g.kw = ri(1, 8);
  g.sh = one_d ? 1 : ri(1, 4);
  g.sw = ri(2, 5);
  g.dh = !one_d && ri(0, 3) == 0 ? 2 : 1;
  g.dw = ri(0, 3) == 0 ? 2 : 1;
  const int64_t spans[2] = {g.dh * (g.kh - 1), g.dw * (g.kw - 1)};
  for (int k = 0; k < 4; ++k) g.pads[size_t(k)] = (one_d && k % 2 == 0) ? 0 : ri(0, spans[k % 2] + 2);
  g.op = {one_d ? 0 : ri(0, std::max(g.sh, g.dh) - 1), ri(0, std::max(g.sw, g.dw) - 1)};
  for (int a = 0; a < 2; ++a) {
    const int64_t in = a == 0 ? g.h : g.w, s = a == 0 ? g.sh : g.sw;
    const int64_t out = (in - 1) * s + spans[a] + 1 + g.op[size_t(a)] - g.pads[size_t(a)] - g.pads[size_t(a) + 2];
    if (out < 1) g.pads[size_t(a)] = g.pads[size_t(a) + 2] = 0;
  }
  return g;
}

TensorData random_i8(const Shape& s, std::mt19937& rng, int lo = -128, int hi = 127) {
  TensorData t(DType::I8, s);
  std::uniform_int_distribution<int> d(lo, hi);
  for (int64_t i = 0; i < t.count(); ++i) t.data<int8_t>()[i] = int8_t(d(rng));
  return t;
}

// Lowers the graph as a CPU group would and runs it on the kernel-call executor; MACs of its convs.
struct Run {
  std::vector<uint8_t> out;
  int64_t macs = 0;
  int convs = 0;
  std::string error;
};
Run lower_and_run(const Graph& g, bool phases, const TensorData& x, bool depthwise_phases = true) {
  Run r;
  lowering::KernelProgram p;
  lowering::LowerOptions o;
  o.conv_transpose_phases = phases;
  o.conv_transpose_depthwise_phases = depthwise_phases;
  Status st = lowering::lower_graph(g, o, &p);
  if (st.ok()) st = lowering::place_for_cpu(p);
  if (!st.ok()) {
    r.error = st.to_string();
    return r;
  }
  for (const lowering::KernelCall& c : p.calls) {
    if (c.op != npu::Opcode::kConv2D && c.op != npu::Opcode::kDepthwiseConv2D) continue;
    const npu::ConvArgs a = c.as<npu::ConvArgs>();
    const auto& od = p.tensors[a.output].dims;
    r.macs += int64_t(od[0]) * od[1] * od[2] * od[3] * a.kernel_h * a.kernel_w *
              (c.op == npu::Opcode::kDepthwiseConv2D ? 1 : p.tensors[a.input].dims[3] / a.groups);
    ++r.convs;
  }
  npu::MicrocodeView mc;
  const npu::ValidationResult v = npu::validate_microcode(p.microcode.data(), p.microcode.size(), p.weights.size(), &mc);
  if (!v.ok()) {
    r.error = v.message;
    return r;
  }
  AlignedBuffer weights(p.weights.size());
  if (!p.weights.empty()) std::memcpy(weights.data(), p.weights.data(), p.weights.size());
  size_t bytes = 0;
  kernel_calls::CallStatus cs = kernel_calls::Executor::required_memory(mc, weights.data(), &bytes);
  if (!cs.ok()) {
    r.error = cs.message;
    return r;
  }
  AlignedBuffer memory(bytes), scratch(mc.scratch_size() + 16);
  kernel_calls::Executor ex;
  cs = ex.prepare(mc, weights.data(), memory.data(), bytes);
  if (!cs.ok()) {
    r.error = cs.message;
    return r;
  }
  const Tensor& yt = g.tensor(g.outputs[0]);
  r.out.assign(size_t(num_elements(yt.shape)), 0);
  const uint8_t* ins[1] = {x.bytes.data()};
  uint8_t* outs[1] = {r.out.data()};
  kernel_calls::RunBuffers b;
  b.inputs = ins;
  b.outputs = outs;
  b.scratch = scratch.data();
  cs = ex.run(b, nullptr);
  if (!cs.ok()) r.error = cs.message;
  return r;
}

void check(const Geo& geo, uint32_t seed, double* ratio_sum = nullptr) {
  SCOPED_TRACE(geo.str() + " seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t cout = geo.cout_g * geo.group;
  TensorData w = random_i8({geo.cin, geo.cout_g, geo.kh, geo.kw}, rng, -127, 127);
  TensorData b(DType::I32, {cout});
  for (int64_t c = 0; c < cout; ++c) b.data<int32_t>()[c] = std::uniform_int_distribution<int>(-3000, 3000)(rng);
  const float s_in = 0.02f, s_w = 0.01f;
  QuantParams bq;
  for (int64_t c = 0; c < cout; ++c) {
    bq.scale.push_back(s_in * s_w);
    bq.zero_point.push_back(0);
  }
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{geo.kh, geo.kw});
  a.set("strides", std::vector<int64_t>{geo.sh, geo.sw});
  a.set("dilations", std::vector<int64_t>{geo.dh, geo.dw});
  a.set("pads", geo.pads);
  a.set("output_padding", geo.op);
  a.set("group", geo.group);
  const int32_t z_in = std::uniform_int_distribution<int>(-30, 30)(rng);
  const QuantParams yq = QuantParams::per_tensor(0.05f + 0.01f * float(geo.kh * geo.kw), -7);
  using testing::Operand;
  const TensorData x = random_i8({geo.n, geo.cin, geo.h, geo.w}, rng);
  auto g = testing::make_single_op_graph(
      OpKind::ConvTranspose,
      {Operand::input(x, QuantParams::per_tensor(s_in, z_in)), Operand::constant_of(w, QuantParams::per_tensor(s_w, 0)),
       Operand::constant_of(b, bq)},
      a, {testing::OutputSpec{yq}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  const Run zero = lower_and_run(g.value(), false, x);
  const Run ph = lower_and_run(g.value(), true, x);
  const Run npu = lower_and_run(g.value(), true, x, false);  // as the NPU compiler lowers it
  ASSERT_TRUE(zero.error.empty()) << zero.error;
  ASSERT_TRUE(ph.error.empty()) << ph.error;
  ASSERT_TRUE(npu.error.empty()) << npu.error;
  EXPECT_EQ(ph.out, zero.out);
  EXPECT_EQ(npu.out, zero.out);
  if (geo.group > 1 && geo.group == geo.cin) {
    EXPECT_EQ(npu.convs, 1) << "a depthwise ConvTranspose on the NPU is one call over the zero-inserted input";
  } else {
    EXPECT_EQ(npu.macs, ph.macs);
  }
  EXPECT_LE(ph.macs, zero.macs);
  if (geo.sh * geo.sw > 1 && ratio_sum) *ratio_sum += double(zero.macs) / double(std::max<int64_t>(1, ph.macs));
}

TEST(ConvTransposePhases, BitExactWithZeroInsertionOnRandomGeometries) {
  double ratio = 0;
  int cases = 0;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    check(random_geo(rng, seed % 3 == 0), 100 + seed, &ratio);
    ++cases;
  }
  std::printf("zero-insertion MACs / phase MACs: %.2f on average over %d random geometries\n", ratio / cases, cases);
  EXPECT_GT(ratio / cases, 1.5);
}

TEST(ConvTransposePhases, VocoderAndUNetShapes) {
  Geo voc;  // ConvTranspose1d(32 -> 16, k=8, s=4, p=2) as 2-D on H = 1
  voc.cin = 32;
  voc.cout_g = 16;
  voc.w = 24;
  voc.kw = 8;
  voc.sw = 4;
  voc.pads = {0, 2, 0, 2};
  double r = 0;
  check(voc, 7, &r);
  // One convolution of the 4 phases stacked as output channels over their union window of 3 taps
  // (2 each, offset by one between phases): 8 / 3 fewer MACs than the 8 taps of zero insertion.
  EXPECT_NEAR(r, 8.0 / 3, 0.2);
  Geo unet;  // ConvTranspose2d(16 -> 8, k=2, s=2)
  unet.cin = 16;
  unet.cout_g = 8;
  unet.h = unet.w = 8;
  unet.kh = unet.kw = unet.sh = unet.sw = 2;
  r = 0;
  check(unet, 8, &r);
  EXPECT_NEAR(r, 4.0, 0.5);  // one 1x1 convolution with 4 * Cout channels and a transpose
  Geo dw = unet;  // depthwise, output_padding
  dw.group = dw.cin;
  dw.cout_g = 1;
  dw.kh = dw.kw = 3;
  dw.pads = {1, 1, 1, 1};
  dw.op = {1, 1};
  check(dw, 9);
}

}  // namespace
}  // namespace neutron
