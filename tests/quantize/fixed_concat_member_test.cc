// A Concat whose inputs include a fixed-parameter op (SSD-lite's cat([boxes, sigmoid(scores)])):
// the Sigmoid keeps its (1/256, -128), the Concat gets the range of everything it concatenates, so
// negative box offsets survive; after fold-qdq the Sigmoid's branch is requantized into the
// Concat's parameters and the int8 graph stays close to the float one.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "passes/passes.h"
#include "passes/pipeline.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "util/single_op.h"

namespace neutron::testing {
namespace {

const Tensor* quantized_input_of(const Graph& g, OpKind kind, size_t input) {
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind != kind || n.inputs.size() <= input) continue;
    NodeId p = g.tensor(n.inputs[input]).producer;  // DequantizeLinear <- QuantizeLinear
    if (p < 0 || g.node(p).kind != OpKind::DequantizeLinear) return nullptr;
    return &g.tensor(g.node(p).inputs[0]);
  }
  return nullptr;
}

TEST(FixedConcatMember, SigmoidKeepsItsParametersAndBoxesKeepTheirSign) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId boxes = b.op(OpKind::Gemm, {x, b.random_constant("wb", {4, 8}), b.random_constant("bb", {4})},
                              [] { Attributes a; a.set("transB", int64_t(1)); return a; }());
  const TensorId logits = b.op(OpKind::Gemm, {x, b.random_constant("ws", {3, 8}), b.random_constant("bs", {3})},
                               [] { Attributes a; a.set("transB", int64_t(1)); return a; }());
  const TensorId scores = b.op(OpKind::Sigmoid, {logits});
  Attributes cat;
  cat.set("axis", int64_t(1));
  const TensorId y = b.op(OpKind::Concat, {boxes, scores}, cat);
  Graph g = b.finish({y});
  TensorData samples(DType::F32, {32, 1, 8});
  std::mt19937 rng(4);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  for (int64_t i = 0; i < samples.count(); ++i) samples.data<float>()[i] = nd(rng);
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({"memory", samples});
  auto calib = make_calibration_set(model_inputs(g), std::move(arrays));
  ASSERT_TRUE(calib.ok()) << calib.status().to_string();
  auto q = quantize_graph(g, calib.value(), QuantizeOptions{});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  const Tensor* sig = quantized_input_of(q.value(), OpKind::Concat, 1);
  const Tensor* box = quantized_input_of(q.value(), OpKind::Concat, 0);
  ASSERT_TRUE(sig && box);
  EXPECT_EQ(sig->quant, QuantParams::per_tensor(1.0f / 256, -128));
  EXPECT_GT(box->quant.zero_point[0], -128) << "the boxes' negative values must be representable";
  // Fold to int8 and compare with the float graph on the calibration samples: boxes within a few
  // steps of their own scale.
  Graph folded = q.value();
  ASSERT_TRUE(run_passes(folded, cpu_pipeline()).ok());
  Graph ref = g;
  ASSERT_TRUE(run_passes(ref, cpu_pipeline()).ok());
  double err = 0, sig_pow = 0;
  for (int s = 0; s < 32; ++s) {
    TensorData in(DType::F32, {1, 8});
    for (int i = 0; i < 8; ++i) in.data<float>()[i] = samples.data<float>()[s * 8 + i];
    auto want = run_graph(ref, {in});
    auto got = run_graph(folded, {in});
    ASSERT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
    for (int i = 0; i < 4; ++i) {
      const double w = want.value()[0].data<float>()[i], o = got.value()[0].data<float>()[i];
      err += (w - o) * (w - o);
      sig_pow += w * w;
    }
  }
  EXPECT_GT(10 * std::log10(sig_pow / err), 25.0) << "box SQNR";
}

}  // namespace
}  // namespace neutron::testing
