// Bias correction: the statistics (patch means, expected outputs) against brute force, and the
// quantizer's corrected graphs against the float model's output means.
#include "quantize/bias_correction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "graph_digest.h"
#include "passes/prequant_test_util.h"
#include "quantize/quantizer.h"
#include "util/fixtures.h"

namespace neutron::testing {
namespace {

Attributes conv_attrs(std::vector<int64_t> strides, std::vector<int64_t> dilations, std::vector<int64_t> pads,
                      int64_t group) {
  Attributes a;
  a.set("strides", strides);
  a.set("dilations", dilations);
  a.set("pads", pads);
  a.set("group", group);
  return a;
}

// `n` samples shaped like input 0 of `g`, uniform in [lo, hi).
TensorData random_samples(const Graph& g, int64_t n, uint32_t seed, float lo, float hi) {
  Shape s = g.tensor(g.inputs[0]).shape;
  s.insert(s.begin(), n);
  TensorData d(DType::F32, s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < d.count(); ++i) d.data<float>()[i] = u(rng);
  return d;
}

CalibrationSet calibration(const Graph& g, TensorData samples) {
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({"memory", std::move(samples)});
  auto c = make_calibration_set(model_inputs(g), std::move(arrays));
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return std::move(c).value();
}

// Sample `s` of an [n, <input shape>] array.
TensorData nth(const TensorData& samples, int64_t s) {
  TensorData t(samples.dtype, Shape(samples.shape.begin() + 1, samples.shape.end()));
  std::memcpy(t.bytes.data(), samples.bytes.data() + size_t(s) * t.bytes.size(), t.bytes.size());
  return t;
}

// Elementwise mean of input 0 over the samples, through TensorMean.
std::vector<double> input_mean(const TensorData& samples) {
  const int64_t per = samples.count() / samples.shape[0];
  TensorMean m(per);
  for (int64_t s = 0; s < samples.shape[0]; ++s) m.add(samples.data<float>() + s * per);
  EXPECT_EQ(m.samples(), samples.shape[0]);
  return m.mean();
}

// Per output channel (axis 1), the mean of output 0 of `g` run on the CPU over all samples.
std::vector<double> output_channel_mean(const Graph& g, const TensorData& samples) {
  std::vector<double> sum;
  int64_t count = 0;
  for (int64_t s = 0; s < samples.shape[0]; ++s) {
    auto outs = run_on_cpu(g, {nth(samples, s)});
    EXPECT_EQ(outs.size(), 1u);
    if (outs.empty()) return {};
    const TensorData& y = outs[0];
    const int64_t c = y.shape[1], inner = y.count() / (y.shape[0] * c);
    sum.resize(size_t(c), 0.0);
    for (int64_t i = 0; i < y.count(); ++i) sum[size_t((i / inner) % c)] += y.get_as_double(i);
    count += y.count() / c;
  }
  for (double& v : sum) v /= double(count);
  return sum;
}

double mean_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += std::fabs(a[i] - b[i]);
  return s / double(std::max<size_t>(1, a.size()));
}

TEST(BiasCorrection, ConvPatchMeanIsTheMeanOfEachTapsInputIncludingZeroPadding) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 4, 7, 6});
  TensorId w = b.random_constant("w", {6, 2, 3, 3});
  TensorId y = b.op(OpKind::Conv, {x, w}, conv_attrs({2, 1}, {1, 2}, {1, 0, 2, 1}, 2));
  Graph g = b.finish({y});
  const Shape ys = g.tensor(y).shape;  // [2, 6, 4, 3]
  TensorData samples = random_samples(g, 3, 5, 0.0f, 1.0f);
  auto m = layer_input_mean(g, 0, input_mean(samples));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  ASSERT_EQ(m.value().size(), size_t(4 * 3 * 3));
  // Brute force: im2col of every sample and batch item, averaged over samples, batch and positions.
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 3; ++j) {
        double s = 0;
        int64_t n = 0;
        for (int64_t smp = 0; smp < 3; ++smp)
          for (int64_t bt = 0; bt < 2; ++bt)
            for (int64_t oy = 0; oy < ys[2]; ++oy)
              for (int64_t ox = 0; ox < ys[3]; ++ox, ++n) {
                const int64_t r = oy * 2 + i * 1 - 1, col = ox * 1 + j * 2 - 0;
                if (r < 0 || r >= 7 || col < 0 || col >= 6) continue;
                s += samples.data<float>()[(((smp * 2 + bt) * 4 + c) * 7 + r) * 6 + col];
              }
        EXPECT_NEAR(m.value()[size_t((c * 3 + i) * 3 + j)], s / double(n), 1e-12) << c << " " << i << " " << j;
      }
  // A tap that reads padding at every output position of a row sees less than the channel mean.
  EXPECT_LT(m.value()[0], m.value()[4]);
}

// expected_output(W, layer_input_mean(E[x])) + bias is the mean of the float layer's output.
void expect_expected_output_is_output_mean(const Graph& g, const TensorData& samples, const std::vector<double>& bias) {
  auto m = layer_input_mean(g, 0, input_mean(samples));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto e = expected_output(g, 0, *g.tensor(g.node(0).inputs[1]).data, m.value());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  ASSERT_EQ(e.value().size(), size_t(output_channels(g, 0)));
  const auto want = output_channel_mean(g, samples);
  ASSERT_EQ(want.size(), e.value().size());
  for (size_t c = 0; c < want.size(); ++c) EXPECT_NEAR(e.value()[c] + bias[c], want[c], 1e-5) << "channel " << c;
}

TEST(BiasCorrection, ExpectedOutputOfGroupedStridedPaddedConvIsItsOutputMean) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 9, 8});
  TensorId y = b.op(OpKind::Conv, {x, b.random_constant("w", {6, 2, 3, 3})}, conv_attrs({2, 2}, {1, 1}, {1, 1, 0, 2}, 2));
  Graph g = b.finish({y});
  expect_expected_output_is_output_mean(g, random_samples(g, 4, 3, -0.5f, 1.5f), std::vector<double>(6, 0.0));
}

TEST(BiasCorrection, ExpectedOutputOfDepthwiseConvIsItsOutputMean) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 5, 6, 6});
  TensorId y = b.op(OpKind::Conv, {x, b.random_constant("w", {5, 1, 3, 3})}, conv_attrs({1, 1}, {1, 1}, {1, 1, 1, 1}, 5));
  Graph g = b.finish({y});
  expect_expected_output_is_output_mean(g, random_samples(g, 4, 4, 0.0f, 2.0f), std::vector<double>(5, 0.0));
}

TEST(BiasCorrection, ExpectedOutputOfGemmWithTransposedBAndAlphaIsItsOutputMean) {
  GraphBuilder b;
  TensorId x = b.input("x", {3, 8});
  Attributes a;
  a.set("transB", int64_t(1));
  a.set("alpha", 0.5);
  a.set("beta", 2.0);
  TensorId y = b.op(OpKind::Gemm, {x, b.random_constant("w", {5, 8}), b.constant("c", {5}, {1, 2, 3, 4, 5})}, a);
  Graph g = b.finish({y});
  expect_expected_output_is_output_mean(g, random_samples(g, 4, 6, 0.0f, 1.0f), {2, 4, 6, 8, 10});
}

TEST(BiasCorrection, ExpectedOutputOfMatMulIsItsOutputMean) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 6});
  TensorId y = b.op(OpKind::MatMul, {x, b.random_constant("w", {6, 4})});
  Graph g = b.finish({y});
  expect_expected_output_is_output_mean(g, random_samples(g, 5, 7, -1.0f, 3.0f), std::vector<double>(4, 0.0));
}

TEST(BiasCorrection, RejectsLayersItDoesNotApplyTo) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4});
  TensorId w = b.input("w", {4, 3});  // weights that are not constant
  TensorId y = b.op(OpKind::MatMul, {x, w});
  Graph g = b.finish({y});
  EXPECT_FALSE(bias_correctable(g, 0));
  auto m = layer_input_mean(g, 0, std::vector<double>(4, 0.0));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("MatMul"), std::string::npos) << m.status().to_string();
}

// Weights whose rounding error has a mean: every value but one per channel (the maximum, 127 steps
// of 0.01) sits 0.45 steps above a grid point, so W - Wq is +0.45 steps everywhere and (W - Wq) E[x]
// is large for an input with a positive mean. One maximum every `inner` values along the flat order.
TensorId biased_rounding_weights(GraphBuilder& b, const std::string& name, Shape shape, int64_t inner) {
  TensorData d(DType::F32, shape);
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> q(-20, 20);
  const float step = 0.01f;
  for (int64_t i = 0; i < d.count(); ++i) d.data<float>()[i] = i % inner == 0 ? 127 * step : (float(q(rng)) + 0.45f) * step;
  return b.g.add_constant(name, std::move(d));
}

struct MeanErrors {
  double off = 0, float_stats = 0, empirical = 0;
};

// Quantizes `g` with each bias correction and measures, per output channel, |E[y_int8] - E[y]|
// over the calibration samples (the int8 model run by our kernels).
MeanErrors output_mean_errors(const Graph& g, const TensorData& samples) {
  const auto want = output_channel_mean(g, samples);
  MeanErrors r;
  for (BiasCorrection bc : {BiasCorrection::kOff, BiasCorrection::kFloat, BiasCorrection::kEmpirical}) {
    QuantizeOptions o;
    o.bias_correction = bc;
    QuantizeReport rep;
    auto q = quantize_graph(g, calibration(g, samples), o, &rep);
    EXPECT_TRUE(q.ok()) << q.status().to_string();
    if (!q.ok()) return r;
    EXPECT_EQ(rep.bias_correction, bc);
    const double e = mean_abs_difference(output_channel_mean(q.value(), samples), want);
    (bc == BiasCorrection::kOff ? r.off : bc == BiasCorrection::kFloat ? r.float_stats : r.empirical) = e;
  }
  std::printf("output mean error per channel: off %.3g, float statistics %.3g, empirical %.3g\n", r.off, r.float_stats,
              r.empirical);
  return r;
}

TEST(BiasCorrection, ConvOutputMeanMatchesTheFloatModel) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 8, 6, 6});
  TensorId w = biased_rounding_weights(b, "w", {16, 8, 3, 3}, 72);
  TensorId y = b.op(OpKind::Conv, {x, w, b.random_constant("bias", {16}, -0.1f, 0.1f)},
                    conv_attrs({1, 1}, {1, 1}, {1, 1, 1, 1}, 1));
  Graph g = b.finish({y});
  const MeanErrors e = output_mean_errors(g, random_samples(g, 16, 1, 0.0f, 1.0f));
  EXPECT_GT(e.off, 0.01);  // the uncorrected error is far above the output's rounding (about 0.005)
  EXPECT_LT(e.float_stats, 0.1 * e.off);
  EXPECT_LT(e.empirical, 0.1 * e.off);
}

TEST(BiasCorrection, DepthwiseConvWithoutBiasGetsOneAndMatchesTheFloatMean) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 8, 8, 8});
  TensorId w = biased_rounding_weights(b, "w", {8, 1, 3, 3}, 9);
  TensorId y = b.op(OpKind::Conv, {x, w}, conv_attrs({2, 2}, {1, 1}, {1, 1, 1, 1}, 8));
  Graph g = b.finish({y});
  const TensorData samples = random_samples(g, 16, 2, 0.0f, 1.0f);
  auto q = quantize_graph(g, calibration(g, samples), QuantizeOptions());
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  bool has_bias = false;
  for (NodeId id : q.value().live_nodes())
    if (q.value().node(id).kind == OpKind::Conv) has_bias = q.value().node(id).input(2) != kNoTensor;
  EXPECT_TRUE(has_bias) << "the correction needs a bias";
  const MeanErrors e = output_mean_errors(g, samples);
  EXPECT_LT(e.float_stats, 0.1 * e.off);
  EXPECT_LT(e.empirical, 0.1 * e.off);
}

TEST(BiasCorrection, GemmAndMatMulOutputMeansMatchTheFloatModel) {
  for (bool matmul : {false, true}) {
    GraphBuilder b;
    TensorId x = b.input("x", {4, 32});
    TensorId y;
    if (matmul) {
      y = b.op(OpKind::MatMul, {x, biased_rounding_weights(b, "w", {32, 10}, 320)});
    } else {
      Attributes a;
      a.set("transB", int64_t(1));
      y = b.op(OpKind::Gemm, {x, biased_rounding_weights(b, "w", {10, 32}, 320), b.random_constant("c", {10})}, a);
    }
    Graph g = b.finish({y});
    const TensorData samples = random_samples(g, 8, 3, 0.0f, 1.0f);
    const MeanErrors e = output_mean_errors(g, samples);
    EXPECT_LT(e.float_stats, 0.1 * e.off) << (matmul ? "MatMul" : "Gemm");
    if (matmul) {  // a MatMul carries the correction as a Gemm with a bias
      auto q = quantize_graph(g, calibration(g, samples), QuantizeOptions());
      ASSERT_TRUE(q.ok());
      EXPECT_EQ(count(q.value(), OpKind::MatMul), 0);
      EXPECT_EQ(count(q.value(), OpKind::Gemm), 1);
    }
  }
}

// Conv -> ReLU -> Conv: the second layer's input mean shifts with the first layer's quantization
// (clipping, rounding); the empirical correction measures it on the quantized graph.
TEST(BiasCorrection, EmpiricalCorrectionFollowsTheQuantizedInputOfTheNextLayer) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 4, 8, 8});
  TensorId h = b.op(OpKind::Conv, {x, b.random_constant("w1", {8, 4, 3, 3}), b.random_constant("b1", {8})},
                    conv_attrs({1, 1}, {1, 1}, {1, 1, 1, 1}, 1));
  h = b.op(OpKind::Relu, {h});
  TensorId y = b.op(OpKind::Conv, {h, biased_rounding_weights(b, "w2", {8, 8, 3, 3}, 72), b.random_constant("b2", {8})},
                    conv_attrs({1, 1}, {1, 1}, {1, 1, 1, 1}, 1));
  Graph g = b.finish({y});
  const TensorData samples = random_samples(g, 16, 4, -1.0f, 1.0f);
  QuantizeOptions o;
  o.bias_correction = BiasCorrection::kEmpirical;
  QuantizeReport rep;
  ASSERT_TRUE(quantize_graph(g, calibration(g, samples), o, &rep).ok());
  EXPECT_EQ(rep.bias_correction_passes, 2);  // two levels: each conv measured after the one above it
  ASSERT_EQ(rep.corrected_biases.size(), 2u);
  const MeanErrors e = output_mean_errors(g, samples);
  EXPECT_LT(e.float_stats, 0.2 * e.off);
  EXPECT_LT(e.empirical, 0.2 * e.off);
  EXPECT_LE(e.empirical, e.float_stats * 1.05);
}

TEST(BiasCorrection, WeightsWithoutRoundingErrorLeaveTheGraphAsItWas) {
  GraphBuilder b;
  TensorId x = b.input("x", {1, 3, 5, 5});
  std::vector<float> w(6 * 3 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i % 255) - 127) / 64.0f;  // on the grid: max 127 steps
  for (int64_t c = 0; c < 6; ++c) w[size_t(c * 27)] = 127.0f / 64.0f;
  TensorId y = b.op(OpKind::Conv, {x, b.constant("w", {6, 3, 3, 3}, w), b.random_constant("bias", {6})},
                    conv_attrs({1, 1}, {1, 1}, {1, 1, 1, 1}, 1));
  Graph g = b.finish({y});
  const TensorData samples = random_samples(g, 4, 5, 0.0f, 1.0f);
  QuantizeOptions off, on;
  off.bias_correction = BiasCorrection::kOff;
  auto a = quantize_graph(g, calibration(g, samples), off);
  auto c = quantize_graph(g, calibration(g, samples), on);
  ASSERT_TRUE(a.ok() && c.ok());
  EXPECT_EQ(graph_digest(a.value()), graph_digest(c.value()));
}

// With bias correction off the quantizer writes what it wrote before bias correction existed:
// digests of its output produced by that version (src/quantize as of git e2a4fef) on the same
// inputs. Regenerate them only for a deliberate change of the quantizer's output.
TEST(BiasCorrection, OffGivesTheOutputOfTheQuantizerBeforeBiasCorrection) {
  const std::pair<const char*, uint64_t> golden[] = {{"fmnist_cnn", 0xc40b2b64313b8c87ull},
                                                     {"cifarnet", 0xbf2c31aff29aa41cull}};
  for (auto [model, digest] : golden) {
    auto g = import_onnx_file(fixture_path(model, "model_f32.onnx"));
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    ASSERT_TRUE(run_passes(g.value(), prequant_pipeline()).ok());
    // 4 samples from a fixed LCG, in [0, 1).
    Shape s = g.value().tensor(g.value().inputs[0]).shape;
    s.insert(s.begin(), 4);
    TensorData d(DType::F32, s);
    uint32_t x = 12345;
    for (int64_t i = 0; i < d.count(); ++i) {
      x = x * 1664525u + 1013904223u;
      d.data<float>()[i] = float(x >> 8) / 16777216.0f;
    }
    QuantizeOptions o;
    o.bias_correction = BiasCorrection::kOff;
    auto q = quantize_graph(g.value(), calibration(g.value(), std::move(d)), o);
    ASSERT_TRUE(q.ok()) << q.status().to_string();
    EXPECT_EQ(graph_digest(q.value()), digest) << model;
  }
}

TEST(BiasCorrection, ParsesItsNames) {
  for (auto bc : {BiasCorrection::kOff, BiasCorrection::kFloat, BiasCorrection::kEmpirical}) {
    auto p = parse_bias_correction(bias_correction_name(bc));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.value(), bc);
  }
  auto bad = parse_bias_correction("sequential");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("off, float and empirical"), std::string::npos);
}

}  // namespace
}  // namespace neutron::testing
