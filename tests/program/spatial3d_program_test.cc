// 3-D ConvTranspose, MaxPool and AveragePool through the whole chain: a float ONNX model with them
// (built here) imports as 2-D ops (tests/import/spatial3d_import_test.cc), is quantized as
// `neutron compile -i` does (prequant passes, quantize_graph), compiled for imxrt700 and for
// --target cpu, and both programs compute the host executor's int8 result bit for bit. The parts
// of the decomposition the NPU runs (ConvTranspose of group 1 or depthwise, the depthwise scatter
// and sum, the pools without ceil_mode and with count_include_pad or no padding) are delegated;
// the others stay on the CPU under the existing rules, named in the report. The int8 output stays
// close to the float model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "compiler/compiler.h"
#include "import/onnx_builder.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "util/program_util.h"

namespace neutron::testing {
namespace {

using V = std::vector<int64_t>;

TensorData random_input(const Shape& s, std::mt19937& rng) {
  TensorData t(DType::F32, s);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = nd(rng);
  return t;
}

std::vector<float> random_floats(std::mt19937& rng, int64_t n, float sd) {
  std::normal_distribution<float> nd(0.0f, sd);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = nd(rng);
  return v;
}

struct Case {
  std::string name;
  int64_t cin = 4, cout_g = 3, group = 1;
  V in = {3, 5, 5};
  V k = {2, 3, 3}, s = {2, 1, 2}, d = {1, 1, 1}, pads = {0, 1, 1, 0, 1, 0}, op = {1, 0, 1};
  // MaxPool then AveragePool.
  V mk = {2, 2, 2}, ms = {2, 2, 2}, mpads = {0, 0, 0, 0, 0, 0};
  int64_t ceil_mode = 0;
  V ak = {2, 2, 2}, as = {1, 1, 1}, apads = {0, 0, 0, 0, 0, 0};
  int64_t count_include_pad = 1;
  bool expect_all_on_npu = true;
  std::string expect_cpu;  // "node: rule" lines of the compute nodes left on the CPU, when set
  double min_sqnr = 25;  // dB; the random tiny ones (outputs of a few elements) are not judged
};

// x -> ConvTranspose 3-D (+B) -> Relu -> MaxPool 3-D -> AveragePool 3-D -> y
OnnxBuilder model(const Case& c, std::mt19937& rng) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {1, c.cin, c.in[0], c.in[1], c.in[2]}).output("y");
  const V ws = {c.cin, c.cout_g, c.k[0], c.k[1], c.k[2]};
  b.init("w", TensorData::from<float>(ws, random_floats(rng, num_elements(ws), 0.3f)));
  b.init("b", TensorData::from<float>({c.cout_g * c.group}, random_floats(rng, c.cout_g * c.group, 0.1f)));
  auto* ct = b.node("ConvTranspose", {"x", "w", "b"}, {"t"}, "deconv3d");
  OnnxBuilder::attr(ct, "strides", c.s);
  OnnxBuilder::attr(ct, "dilations", c.d);
  OnnxBuilder::attr(ct, "pads", c.pads);
  OnnxBuilder::attr(ct, "output_padding", c.op);
  OnnxBuilder::attr(ct, "group", c.group);
  b.node("Relu", {"t"}, {"r"}, "relu");
  auto* mp = b.node("MaxPool", {"r"}, {"m"}, "maxpool3d");
  OnnxBuilder::attr(mp, "kernel_shape", c.mk);
  OnnxBuilder::attr(mp, "strides", c.ms);
  OnnxBuilder::attr(mp, "pads", c.mpads);
  OnnxBuilder::attr(mp, "ceil_mode", c.ceil_mode);
  auto* ap = b.node("AveragePool", {"m"}, {"y"}, "avgpool3d");
  OnnxBuilder::attr(ap, "kernel_shape", c.ak);
  OnnxBuilder::attr(ap, "strides", c.as);
  OnnxBuilder::attr(ap, "pads", c.apads);
  OnnxBuilder::attr(ap, "count_include_pad", c.count_include_pad);
  return b;
}

using Compiled = CompiledProgram;
StatusOr<Compiled> compile(const Graph& qdq, const std::string& target) { return compile_qdq(qdq, target, "spatial3d"); }


void check(const Case& c, uint32_t seed) {
  SCOPED_TRACE(c.name);
  init_neutron_driver();
  std::mt19937 rng(seed);
  auto imported = model(c, rng).import();
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  const Graph float_graph = std::move(imported).value();
  const Shape xs = {1, c.cin, c.in[0], c.in[1], c.in[2]};

  Graph pre = float_graph;
  ASSERT_TRUE(run_passes(pre, prequant_pipeline()).ok());
  std::vector<std::vector<CalibrationArray>> arrays(1);
  Shape cs = xs;
  cs.insert(cs.begin(), 16);
  arrays[0].push_back({pre.tensor(pre.inputs[0]).name, random_input(cs, rng)});
  auto calib = make_calibration_set(model_inputs(pre), std::move(arrays));
  ASSERT_TRUE(calib.ok()) << calib.status().to_string();
  auto q = quantize_graph(pre, calib.value(), QuantizeOptions{});
  ASSERT_TRUE(q.ok()) << q.status().to_string();

  auto npu = compile(q.value(), "imxrt700");
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();

  // Where each compute node of the decomposition runs.
  int on_npu = 0, compute = 0;
  std::string cpu_rules;
  for (NodeId id : npu->graph.live_nodes()) {
    const OpKind k = npu->graph.node(id).kind;
    if (k != OpKind::ConvTranspose && k != OpKind::Conv && k != OpKind::MaxPool && k != OpKind::AveragePool) continue;
    ++compute;
    const auto& pl = npu->part.nodes[size_t(id)];
    if (pl.partition >= 0) ++on_npu;
    if (pl.rejection) cpu_rules += npu->graph.node(id).name + ": " + pl.rejection->rule + "\n";
  }
  if (c.expect_all_on_npu) EXPECT_EQ(on_npu, compute) << cpu_rules;
  if (!c.expect_cpu.empty()) EXPECT_EQ(cpu_rules, c.expect_cpu);

  double sig = 0, err = 0;
  for (int sample = 0; sample < 3; ++sample) {
    const std::vector<TensorData> in = {random_input(xs, rng)};
    const std::vector<TensorData> host = run_on_cpu(q.value(), in);
    ASSERT_EQ(host.size(), 1u);
    const auto a = run_program(npu->file, in);
    const auto b = run_program(cpu->file, in);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0].shape, host[0].shape);
    EXPECT_EQ(a[0].bytes, host[0].bytes) << "imxrt700 program differs from the host executor, sample " << sample;
    EXPECT_EQ(b[0].bytes, host[0].bytes) << "cpu program differs from the host executor, sample " << sample;
    const std::vector<TensorData> want = run_on_cpu(float_graph, in);
    ASSERT_EQ(want.size(), 1u);
    for (int64_t i = 0; i < want[0].count(); ++i) {
      const double w = want[0].data<float>()[i], o = host[0].data<float>()[i];
      sig += w * w;
      err += (w - o) * (w - o);
    }
  }
  const double sqnr = 10 * std::log10(sig / std::max(err, 1e-30));
  std::printf("%s: %d of %d compute nodes on the NPU, int8 vs float SQNR %.1f dB\n%s", c.name.c_str(), on_npu, compute,
              sqnr, cpu_rules.c_str());
  EXPECT_GT(sqnr, c.min_sqnr);
}

TEST(Spatial3dProgram, Group1ConvTransposeAndPoolsRunOnTheNpuBitExact) {
  Case c;
  c.name = "group 1, strides (2,1,2), output_padding, pools on the NPU";
  check(c, 1);
}

TEST(Spatial3dProgram, DepthwiseConvTransposeAndPaddedPoolsBitExact) {
  Case c;
  c.name = "depthwise, dilation, count_include_pad 1";
  c.group = 4, c.cout_g = 1;
  c.in = {4, 4, 3};
  c.k = {3, 2, 2}, c.s = {1, 2, 2}, c.d = {2, 1, 1}, c.pads = {1, 0, 0, 1, 0, 0}, c.op = {0, 1, 0};
  c.mk = {3, 3, 1}, c.ms = {1, 2, 1}, c.mpads = {1, 1, 0, 1, 1, 0};
  c.ak = {2, 3, 2}, c.as = {2, 1, 2}, c.apads = {1, 1, 0, 0, 1, 1};
  check(c, 2);
}

TEST(Spatial3dProgram, CpuRulesKeepCeilModeAndCountExcludingPadAndGroupsOnTheCpuBitExact) {
  // Grouped (2 groups of 2 channels): conv_transpose.groups; ceil_mode on an axis where it adds a
  // window: max_pool.ceil_mode; padded AveragePool with count_include_pad 0.
  Case c;
  c.name = "group 2, ceil_mode, count_include_pad 0";
  c.group = 2, c.cout_g = 2;
  c.in = {2, 4, 4};
  c.k = {2, 2, 3}, c.s = {3, 2, 1}, c.pads = {0, 0, 1, 0, 0, 1}, c.op = {2, 0, 0};
  c.mk = {2, 2, 2}, c.ms = {2, 2, 2}, c.ceil_mode = 1;
  c.apads = {1, 0, 1, 0, 1, 0}, c.count_include_pad = 0;
  c.expect_all_on_npu = false;
  c.expect_cpu =
      "deconv3d: conv_transpose.groups\n"
      "maxpool3d/pool_d: max_pool.ceil_mode\n"
      "avgpool3d/pool_hw: average_pool.count_include_pad\n"
      "avgpool3d/pool_d: average_pool.count_include_pad\n";
  check(c, 3);
}

// Random geometries (group 1, depthwise or 2 groups; strides, dilations, pads, output_padding;
// pools with pads, ceil_mode, count_include_pad): always bit-exact, wherever each node runs
// (checked on 60 seeds while writing this; 8 run here).
TEST(Spatial3dProgram, RandomGeometriesBitExact) {
  std::mt19937 rng(316);
  auto ri = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int i = 0; i < 8; ++i) {
    Case c;
    c.name = str_cat("random ", i);
    const int64_t kind = ri(0, 2);
    c.group = kind == 0 ? 1 : kind == 1 ? 3 : 2;
    c.cin = kind == 1 ? 3 : kind == 2 ? 4 : ri(1, 4);
    c.cout_g = kind == 1 ? 1 : ri(1, 3);
    V out(3);
    for (size_t a = 0; a < 3; ++a) {
      c.in[a] = ri(1, 4);
      c.k[a] = ri(1, 3);
      c.s[a] = ri(1, c.k[a]);  // every output position gets taps (as in real networks), not only B
      c.d[a] = c.s[a] == 1 && ri(0, 3) == 0 ? 2 : 1;
      c.op[a] = ri(0, std::max(c.s[a], c.d[a]) - 1);
      const int64_t natural = c.s[a] * (c.in[a] - 1) + c.op[a] + (c.k[a] - 1) * c.d[a] + 1;
      c.pads[a] = natural > 4 ? ri(0, 1) : 0;
      c.pads[a + 3] = natural > 4 ? ri(0, 1) : 0;
      out[a] = natural - c.pads[a] - c.pads[a + 3];
      // MaxPool: kernel <= the size, pads below the kernel; then AveragePool on its output.
      c.mk[a] = std::min<int64_t>(out[a], ri(1, 2));
      c.ms[a] = ri(1, 2);
      c.mpads[a] = ri(0, c.mk[a] - 1);
      c.mpads[a + 3] = ri(0, c.mk[a] - 1);
    }
    c.ceil_mode = ri(0, 1);
    for (size_t a = 0; a < 3; ++a) {
      const int64_t span = out[a] + c.mpads[a] + c.mpads[a + 3] - c.mk[a];
      int64_t m = (c.ceil_mode ? (span + c.ms[a] - 1) / c.ms[a] : span / c.ms[a]) + 1;
      if (c.ceil_mode && (m - 1) * c.ms[a] >= out[a] + c.mpads[a]) --m;
      c.ak[a] = std::min<int64_t>(m, ri(1, 2));
      c.as[a] = ri(1, 2);
      c.apads[a] = ri(0, c.ak[a] - 1);
      c.apads[a + 3] = ri(0, c.ak[a] - 1);
    }
    c.count_include_pad = ri(0, 1);
    c.expect_all_on_npu = false;
    c.min_sqnr = -1e9;
    c.name += str_cat(" cin ", c.cin, " g ", c.group, " cout_g ", c.cout_g, " in ", c.in, " k ", c.k, " s ", c.s, " d ", c.d,
                      " pads ", c.pads, " op ", c.op, " mk ", c.mk, " ms ", c.ms, " mp ", c.mpads, " ceil ", c.ceil_mode,
                      " ak ", c.ak, " as ", c.as, " ap ", c.apads, " cip ", c.count_include_pad);
    check(c, uint32_t(100 + i));
  }
}

// A model quantized elsewhere (QDQ around the 3-D ConvTranspose only, an int32 per-channel bias
// as PyTorch exports it): the decomposition's inner tensors have no quantization parameters, so
// it runs in float inside the program (dequantize-constants turns the int8 weights and the int32
// bias into the floats the host computes), bit for bit equal to the host, for both targets.
TEST(Spatial3dProgram, QdqConvTransposeRunsInFloatInsideTheProgramBitExact) {
  init_neutron_driver();
  std::mt19937 rng(11);
  const int64_t cin = 3, cout = 4;
  const Shape xs = {1, cin, 2, 4, 4};
  std::vector<int8_t> wq(size_t(cin * cout * 2 * 2 * 2));
  for (int8_t& v : wq) v = int8_t(std::uniform_int_distribution<int>(-100, 100)(rng));
  std::vector<float> ws = {0.004f, 0.003f, 0.005f, 0.002f}, bs(4);
  const float x_scale = 0.03f;
  for (size_t i = 0; i < 4; ++i) bs[i] = x_scale * ws[i];
  OnnxBuilder b(13);
  b.input("x", kFloat, xs).output("y");
  b.init("xs", TensorData::from<float>({}, {x_scale}));
  b.init("xz", TensorData(DType::I8, {}));
  b.init("ys", TensorData::from<float>({}, {0.02f}));
  b.init("wq", TensorData::from<int8_t>({cin, cout, 2, 2, 2}, wq));
  b.init("ws", TensorData::from<float>({cout}, ws));
  b.init("wz", TensorData(DType::I8, {cout}));
  b.init("bq", TensorData::from<int32_t>({cout}, {300, -200, 100, 50}));
  b.init("bs", TensorData::from<float>({cout}, bs));
  b.init("bz", TensorData(DType::I32, {cout}));
  b.node("QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  b.node("DequantizeLinear", {"xq", "xs", "xz"}, {"xd"});
  OnnxBuilder::attr(b.node("DequantizeLinear", {"wq", "ws", "wz"}, {"wd"}), "axis", int64_t(1));
  OnnxBuilder::attr(b.node("DequantizeLinear", {"bq", "bs", "bz"}, {"bd"}), "axis", int64_t(0));
  OnnxBuilder::attr(b.node("ConvTranspose", {"xd", "wd", "bd"}, {"t"}, "deconv3d"), "strides", V{2, 2, 2});
  b.node("QuantizeLinear", {"t", "ys", "xz"}, {"tq"});
  b.node("DequantizeLinear", {"tq", "ys", "xz"}, {"y"});
  auto g = b.import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto npu = compile(g.value(), "imxrt700");
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(g.value(), "cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  for (int sample = 0; sample < 2; ++sample) {
    const std::vector<TensorData> in = {random_input(xs, rng)};
    const std::vector<TensorData> host = run_on_cpu(g.value(), in);
    ASSERT_EQ(host.size(), 1u);
    EXPECT_EQ(host[0].shape, (Shape{1, cout, 4, 8, 8}));
    EXPECT_EQ(run_program(npu->file, in)[0].bytes, host[0].bytes) << "imxrt700, sample " << sample;
    EXPECT_EQ(run_program(cpu->file, in)[0].bytes, host[0].bytes) << "cpu, sample " << sample;
  }
}

// QDQ around 3-D pools (as a quantizer elsewhere writes them): the tensors inside each pool get
// the input's parameters, so every op of the decomposition is int8 and on the NPU; bit-exact with
// the host for both targets; MaxPool exact, the average within 1 LSB of ONNX's QDQ meaning (one
// more rounding, at the intermediate).
TEST(Spatial3dProgram, QdqPoolsAreInt8OnTheNpuBitExact) {
  init_neutron_driver();
  const float s = 0.03f;
  const Shape xs = {1, 3, 4, 6, 6};
  OnnxBuilder b(13);
  b.input("x", kFloat, xs).output("y");
  b.init("s", TensorData::from<float>({}, {s}));
  b.init("z", TensorData(DType::I8, {}));
  b.node("QuantizeLinear", {"x", "s", "z"}, {"xq"});
  b.node("DequantizeLinear", {"xq", "s", "z"}, {"xd"});
  auto* mp = b.node("MaxPool", {"xd"}, {"m"}, "maxpool3d");
  OnnxBuilder::attr(mp, "kernel_shape", V{2, 2, 2});
  OnnxBuilder::attr(mp, "strides", V{2, 2, 2});
  b.node("QuantizeLinear", {"m", "s", "z"}, {"mq"});
  b.node("DequantizeLinear", {"mq", "s", "z"}, {"md"});
  auto* ap = b.node("AveragePool", {"md"}, {"a"}, "avgpool3d");
  OnnxBuilder::attr(ap, "kernel_shape", V{2, 3, 3});
  OnnxBuilder::attr(ap, "pads", V{0, 1, 1, 0, 1, 1});
  OnnxBuilder::attr(ap, "count_include_pad", int64_t(1));
  b.node("QuantizeLinear", {"a", "s", "z"}, {"aq"});
  b.node("DequantizeLinear", {"aq", "s", "z"}, {"y"});
  auto g = b.import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto npu = compile(g.value(), "imxrt700");
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(g.value(), "cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  int pools = 0;
  for (NodeId id : npu->graph.live_nodes()) {
    const OpKind k = npu->graph.node(id).kind;
    if (k != OpKind::MaxPool && k != OpKind::AveragePool) continue;
    ++pools;
    EXPECT_GE(npu->part.nodes[size_t(id)].partition, 0) << npu->graph.node(id).name;
    EXPECT_EQ(npu->graph.tensor(npu->graph.node(id).outputs[0]).dtype, DType::I8) << npu->graph.node(id).name;
  }
  EXPECT_EQ(pools, 4);

  std::mt19937 rng(12);
  auto q = [&](double v) { return s * std::min(127.0, std::max(-128.0, std::nearbyint(v / s))); };
  for (int sample = 0; sample < 2; ++sample) {
    const std::vector<TensorData> in = {random_input(xs, rng)};
    const std::vector<TensorData> host = run_on_cpu(g.value(), in);
    ASSERT_EQ(host.size(), 1u);
    ASSERT_EQ(host[0].shape, (Shape{1, 3, 1, 3, 3}));
    EXPECT_EQ(run_program(npu->file, in)[0].bytes, host[0].bytes) << "imxrt700, sample " << sample;
    EXPECT_EQ(run_program(cpu->file, in)[0].bytes, host[0].bytes) << "cpu, sample " << sample;
    // ONNX's meaning: max of the dequantized input, quantized; the average of that, quantized.
    const float* x = in[0].data<float>();
    std::vector<double> m(3 * 2 * 3 * 3);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t d = 0; d < 2; ++d)
        for (int64_t h = 0; h < 3; ++h)
          for (int64_t w = 0; w < 3; ++w) {
            double v = -1e30;
            for (int64_t i = 0; i < 8; ++i)
              v = std::max(v, q(x[((c * 4 + 2 * d + i / 4) * 6 + 2 * h + i / 2 % 2) * 6 + 2 * w + i % 2]));
            m[size_t(((c * 2 + d) * 3 + h) * 3 + w)] = q(v);
          }
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t w = 0; w < 3; ++w) {
          double sum = 0;
          for (int64_t d = 0; d < 2; ++d)
            for (int64_t i = h - 1; i <= h + 1; ++i)
              for (int64_t j = w - 1; j <= w + 1; ++j)
                if (i >= 0 && i < 3 && j >= 0 && j < 3) sum += m[size_t(((c * 2 + d) * 3 + i) * 3 + j)];
          const double want = q(sum / 18.0);  // count_include_pad: 2 * 3 * 3 window positions
          EXPECT_LE(std::fabs(host[0].data<float>()[(c * 3 + h) * 3 + w] - want), s * 1.001) << c << h << w;
        }
  }
}

}  // namespace
}  // namespace neutron::testing
