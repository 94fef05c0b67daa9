// int8 ConvTranspose (lowering: zero insertion by PAD on a reshaped view, a SLICE for negative
// padding, then a stride-1 Conv2D / DepthwiseConv2D with the flipped kernel):
//   1. a QDQ ConvTranspose folds to int8 and stays within 1 output LSB of the float QDQ graph, on
//      random geometries (strides 1-5, dilation, padding above the kernel, output_padding, groups 1
//      and depthwise, per-tensor and per-channel weights);
//   2. the int8 op is delegated for any stride and its NPU partition equals the CPU bit for bit;
//   3. the rules keep other grouped ones on the CPU and name them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "compiler/npu_test_util.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "util/single_op.h"

namespace neutron {
namespace {

struct Geometry {
  int64_t n = 1, cin = 1, cout_g = 1, group = 1, h = 1, w = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  std::vector<int64_t> pads{0, 0, 0, 0}, output_padding{0, 0};
  int weight_axis = -1;  // -1 per tensor, 1 per output channel, 0 depthwise per channel

  std::string str() const {
    return str_cat("x[", n, ",", cin, ",", h, ",", w, "] k", kh, "x", kw, " s", sh, "x", sw, " d", dh, "x", dw, " pads ",
                   pads, " op ", output_padding, " group ", group, " cout/g ", cout_g, " w-axis ", weight_axis);
  }
  Attributes attrs() const {
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{kh, kw});
    a.set("strides", std::vector<int64_t>{sh, sw});
    a.set("dilations", std::vector<int64_t>{dh, dw});
    a.set("pads", pads);
    a.set("output_padding", output_padding);
    a.set("group", group);
    return a;
  }
};

Geometry random_geometry(std::mt19937& rng) {
  auto ri = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  Geometry g;
  g.n = ri(1, 2);
  const bool depthwise = ri(0, 2) == 0;
  g.cin = ri(1, 9);
  g.group = depthwise ? g.cin : 1;
  g.cout_g = depthwise ? ri(1, 2) : ri(1, 11);
  g.h = ri(1, 6);
  g.w = ri(1, 6);
  g.kh = ri(1, 5);
  g.kw = ri(1, 5);
  g.sh = ri(1, 5);
  g.sw = ri(1, 5);
  g.dh = ri(0, 3) == 0 ? 2 : 1;
  g.dw = ri(0, 3) == 0 ? 2 : 1;
  const int64_t spans[2] = {g.dh * (g.kh - 1), g.dw * (g.kw - 1)};
  for (int k = 0; k < 4; ++k) g.pads[size_t(k)] = ri(0, spans[k % 2] + 2);
  g.output_padding = {ri(0, std::max(g.sh, g.dh) - 1), ri(0, std::max(g.sw, g.dw) - 1)};
  // Keep the output non-empty.
  for (int a = 0; a < 2; ++a) {
    const int64_t in = a == 0 ? g.h : g.w, s = a == 0 ? g.sh : g.sw;
    const int64_t out = (in - 1) * s + spans[a] + 1 + g.output_padding[size_t(a)] - g.pads[size_t(a)] - g.pads[size_t(a) + 2];
    if (out < 1) g.pads[size_t(a)] = g.pads[size_t(a) + 2] = 0;
  }
  g.weight_axis = ri(0, 1) == 0 ? -1 : (depthwise ? (g.cout_g == 1 ? 0 : -1) : 1);
  return g;
}

// Weights [Cin, Cout/g, kH, kW] int8 and their quantization; bias int32 per output channel in
// s_in * s_w[c].
struct Weights {
  TensorData w, b;
  QuantParams wq, bq;
};

Weights random_weights(const Geometry& g, double s_in, std::mt19937& rng) {
  Weights r;
  r.w = TensorData(DType::I8, {g.cin, g.cout_g, g.kh, g.kw});
  std::uniform_int_distribution<int> q(-127, 127);
  for (int64_t i = 0; i < r.w.count(); ++i) r.w.data<int8_t>()[i] = int8_t(q(rng));
  const int64_t cout = g.cout_g * g.group;
  const int64_t nscales = g.weight_axis == 1 ? g.cout_g : g.weight_axis == 0 ? g.cin : 1;
  std::uniform_real_distribution<double> sd(0.002, 0.02);
  for (int64_t c = 0; c < nscales; ++c) {
    r.wq.scale.push_back(float(sd(rng)));
    r.wq.zero_point.push_back(0);
  }
  r.wq.axis = g.weight_axis < 0 ? 0 : g.weight_axis;
  r.b = TensorData(DType::I32, {cout});
  std::uniform_int_distribution<int> bd(-2000, 2000);
  for (int64_t c = 0; c < cout; ++c) {
    const int64_t k = g.weight_axis == 1 ? c % g.cout_g : g.weight_axis == 0 ? c : 0;
    r.bq.scale.push_back(float(s_in * double(r.wq.scale[size_t(k)])));
    r.bq.zero_point.push_back(0);
    r.b.data<int32_t>()[c] = bd(rng);
  }
  r.bq.axis = 0;
  return r;
}

double output_scale(const Geometry& g, const Weights& wt, double s_in) {
  const double taps = double(g.cin / g.group) * double(g.kh * g.kw) / double(g.sh * g.sw);
  return s_in * double(wt.wq.scale[0]) * 127.0 * 60.0 * std::sqrt(std::max(1.0, taps)) / 127.0;
}

TensorData random_f32(const Shape& s, double lo, double hi, std::mt19937& rng) {
  TensorData t(DType::F32, s);
  std::uniform_real_distribution<double> d(lo, hi);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = float(d(rng));
  return t;
}

// x -> Q/DQ -> ConvTranspose(DQ(W), DQ(B)) -> Q/DQ, as an exported QDQ model imports.
StatusOr<Graph> qdq_graph(const Geometry& geo, const Weights& wt, double s_in, int32_t z_in, double s_out,
                          int32_t z_out) {
  Graph g;
  int counter = 0;
  auto add = [&](OpKind k, std::vector<TensorId> ins, DType dt, QuantParams q, Attributes a = {}) {
    return testing::add_node_with_output(g, counter, k, std::move(ins), dt, std::move(q), std::move(a));
  };
  Tensor xt;
  xt.name = "x";
  xt.dtype = DType::F32;
  xt.shape = {geo.n, geo.cin, geo.h, geo.w};
  const TensorId x = g.add_tensor(xt);
  g.inputs.push_back(x);
  const TensorId xq = add(OpKind::QuantizeLinear, {x}, DType::I8, QuantParams::per_tensor(float(s_in), z_in));
  const TensorId xd = add(OpKind::DequantizeLinear, {xq}, DType::F32, {});
  const TensorId wc = g.add_constant("w", wt.w, wt.wq);
  const TensorId wd = add(OpKind::DequantizeLinear, {wc}, DType::F32, {});
  const TensorId bc = g.add_constant("b", wt.b, wt.bq);
  const TensorId bd = add(OpKind::DequantizeLinear, {bc}, DType::F32, {});
  const TensorId y = add(OpKind::ConvTranspose, {xd, wd, bd}, DType::F32, {}, geo.attrs());
  const TensorId yq = add(OpKind::QuantizeLinear, {y}, DType::I8, QuantParams::per_tensor(float(s_out), z_out));
  const TensorId yd = add(OpKind::DequantizeLinear, {yq}, DType::F32, {});
  g.outputs = {yd};
  RETURN_IF_ERROR(infer_shapes(g));
  RETURN_IF_ERROR(verify_graph(g));
  return g;
}

TEST(ConvTransposeInt8, FoldsAndStaysWithinOneLsbOfTheQdqGraph) {
  static const std::vector<PassInfo> kFold = {{"fold-qdq", "", fold_qdq}, {"dce", "", eliminate_dead_code}};
  int64_t total = 0, differing = 0;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    const Geometry geo = random_geometry(rng);
    SCOPED_TRACE(geo.str() + " seed " + std::to_string(seed));
    const double s_in = std::uniform_real_distribution<double>(0.01, 0.03)(rng);
    const int32_t z_in = std::uniform_int_distribution<int>(-30, 30)(rng);
    const Weights wt = random_weights(geo, s_in, rng);
    const double s_out = output_scale(geo, wt, s_in);
    const int32_t z_out = std::uniform_int_distribution<int>(-20, 20)(rng);
    auto g = qdq_graph(geo, wt, s_in, z_in, s_out, z_out);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    Graph folded = g.value();
    ASSERT_TRUE(run_passes(folded, kFold).ok());
    bool int8_op = false;
    for (NodeId id : folded.live_nodes())
      if (folded.node(id).kind == OpKind::ConvTranspose)
        int8_op = folded.tensor(folded.node(id).inputs[0]).dtype == DType::I8;
    ASSERT_TRUE(int8_op) << "fold-qdq left ConvTranspose in float";
    Graph reference = g.value();  // the float ConvTranspose kernel runs NHWC
    ASSERT_TRUE(layout_nhwc(reference).ok());
    ASSERT_TRUE(layout_nhwc(folded).ok());
    for (int sample = 0; sample < 2; ++sample) {
      const TensorData x = random_f32({geo.n, geo.cin, geo.h, geo.w}, -100 * s_in, 100 * s_in, rng);
      auto want = testing::run_graph(reference, {x});
      auto got = testing::run_graph(folded, {x});
      ASSERT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
      const TensorData& a = want.value()[0];
      const TensorData& b = got.value()[0];
      ASSERT_EQ(a.shape, b.shape);
      for (int64_t i = 0; i < a.count(); ++i) {
        const double d = std::fabs(double(a.data<float>()[i]) - double(b.data<float>()[i])) / s_out;
        ASSERT_LE(d, 1.0 + 1e-3) << "element " << i;
        differing += d > 0.5;
      }
      total += a.count();
    }
  }
  std::printf("int8 ConvTranspose vs float QDQ: %lld of %lld outputs 1 LSB apart\n", (long long)differing,
              (long long)total);
  EXPECT_LE(differing, total / 50);
}

// The int8 single-op graph; `delegated` says whether the rules put it on the NPU.
void check_npu(const Geometry& geo, uint32_t seed, bool expect_delegated) {
  SCOPED_TRACE(geo.str() + " seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const QuantParams xq = QuantParams::per_tensor(0.02f, std::uniform_int_distribution<int>(-30, 30)(rng));
  const Weights wt = random_weights(geo, 0.02, rng);
  const QuantParams yq =
      QuantParams::per_tensor(float(output_scale(geo, wt, 0.02)), std::uniform_int_distribution<int>(-20, 20)(rng));
  using testing::Operand;
  auto g = testing::make_single_op_graph(
      OpKind::ConvTranspose,
      {Operand::input(testing::random_int8({geo.n, geo.cin, geo.h, geo.w}, rng), xq), Operand::constant_of(wt.w, wt.wq),
       Operand::constant_of(wt.b, wt.bq)},
      geo.attrs(), {testing::OutputSpec{yq}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto p = partition_graph(g.value(), testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(!p->partitions.empty(), expect_delegated) << print_partitioned_graph(g.value(), p.value());
  if (p->partitions.empty()) return;
  auto sub = compiler::prepare_partition_graph(g.value(), p->partitions[0]);
  ASSERT_TRUE(sub.ok()) << sub.status().to_string();
  const testing::NpuVsCpu r = testing::compare_npu_cpu(sub.value(), 2, seed, {}, &g.value());
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
  EXPECT_EQ(r.runs, 2);
}

TEST(ConvTransposeInt8, AnyStrideIsDelegatedAndBitExactWithTheCpu) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(1000 + seed);
    check_npu(random_geometry(rng), seed, true);
  }
  // The vocoder's ConvTranspose1d(k=8, s=4, p=2) as 2-D on H = 1, and a U-Net's k=2, s=2.
  Geometry voc;
  voc.cin = 32;
  voc.cout_g = 16;
  voc.w = 24;
  voc.kw = 8;
  voc.sw = 4;
  voc.pads = {0, 2, 0, 2};
  voc.weight_axis = 1;
  check_npu(voc, 7, true);
  Geometry unet;
  unet.cin = 16;
  unet.cout_g = 8;
  unet.h = unet.w = 8;
  unet.kh = unet.kw = unet.sh = unet.sw = 2;
  unet.weight_axis = 1;
  check_npu(unet, 8, true);
}

TEST(ConvTransposeInt8, GroupedOnesStayOnTheCpuWithTheRule) {
  Geometry geo;
  geo.cin = 4;
  geo.group = 2;
  geo.cout_g = 3;
  geo.h = geo.w = 3;
  geo.kh = geo.kw = geo.sh = geo.sw = 2;
  check_npu(geo, 3, false);
  // Still runs on the CPU in int8, within the QDQ semantics (the same lowering).
  std::mt19937 rng(5);
  const Weights wt = random_weights(geo, 0.02, rng);
  using testing::Operand;
  auto g = testing::make_single_op_graph(
      OpKind::ConvTranspose,
      {Operand::input(testing::random_int8({1, 4, 3, 3}, rng), QuantParams::per_tensor(0.02f, 3)),
       Operand::constant_of(wt.w, wt.wq), Operand::constant_of(wt.b, wt.bq)},
      geo.attrs(), {testing::OutputSpec{QuantParams::per_tensor(0.05f, -2)}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto p = partition_graph(g.value(), testing::npu_target());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->nodes[0].rejection.has_value());
  EXPECT_EQ(p->nodes[0].rejection->rule, "conv_transpose.groups");
  EXPECT_TRUE(testing::run_graph(g.value(), {testing::random_int8({1, 4, 3, 3}, rng)}).ok());
}

TEST(ConvTransposeInt8, OutputPaddingNotBelowTheStrideIsRejected) {
  Geometry geo;
  geo.cin = 2;
  geo.h = geo.w = 3;
  geo.kh = geo.kw = 3;
  geo.sh = geo.sw = 2;
  geo.output_padding = {2, 0};
  std::mt19937 rng(1);
  const Weights wt = random_weights(geo, 0.02, rng);
  using testing::Operand;
  auto g = testing::make_single_op_graph(
      OpKind::ConvTranspose,
      {Operand::input(testing::random_int8({1, 2, 3, 3}, rng), QuantParams::per_tensor(0.02f, 0)),
       Operand::constant_of(wt.w, wt.wq), Operand::constant_of(wt.b, wt.bq)},
      geo.attrs(), {testing::OutputSpec{QuantParams::per_tensor(0.05f, 0)}});
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().to_string().find("output_padding"), std::string::npos) << g.status().to_string();
}

}  // namespace
}  // namespace neutron
