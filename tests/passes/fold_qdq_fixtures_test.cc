// fold-qdq on the real int8 QDQ models exported by PyTorch (fixtures/<name>/model_int8.onnx,
// onednn engine, uint8 activations): after the CPU pipeline every compute op runs in int8 (the
// only float ops left are the QuantizeLinear of the float input and the DequantizeLinear of the
// output), and the outputs equal the exact QDQ evaluation (ref_int8_qdq.npy) up to 1 output LSB.
//
// How often they differ: the int8 Conv/Gemm add the int32 bias in accumulator units s_in * s_w[c]
// (TFLite semantics, kernels/requantize.h), while the exported bias scale is the float32 rounding
// of that product (~3e-8 relative apart). So an accumulator within ~1e-7 relative of a .5 tie can
// round the other way: about 1 element in 10^4 of one layer per image in MobileNetV2 (e.g.
// x / s = -15.4999995). Such a 1-LSB difference then propagates through the following layers, so
// up to ~10% of MobileNetV2's final outputs differ by 1 step; the other models match exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "util/fixtures.h"

namespace neutron {
namespace {

struct FixtureResult {
  int64_t total = 0, diffs = 0;
  double max_steps = 0;
};

void check_fixture(const std::string& name) {
  SCOPED_TRACE(name);
  const std::string path = testing::fixture_path(name, "model_int8.onnx");
  auto imported = import_onnx_file(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Graph g = std::move(imported).value();
  // The output step: the scale the final DequantizeLinear reads.
  const NodeId last = g.tensor(g.outputs[0]).producer;
  ASSERT_GE(last, 0);
  ASSERT_EQ(g.node(last).kind, OpKind::DequantizeLinear);
  const double step = g.tensor(g.node(last).inputs[0]).quant.scale[0];

  ASSERT_TRUE(run_passes(g, cpu_pipeline()).ok());
  int float_ops = 0, q = 0, dq = 0;
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind == OpKind::QuantizeLinear) {
      ++q;
      continue;
    }
    if (n.kind == OpKind::DequantizeLinear) {
      ++dq;
      continue;
    }
    const Tensor& x = g.tensor(n.inputs[0]);
    if (x.dtype == DType::F32) {
      // Only layout or padding glue on the float input may stay float (CifarNet pads the input).
      const bool glue = n.kind == OpKind::Transpose || n.kind == OpKind::Reshape || n.kind == OpKind::Pad;
      EXPECT_TRUE(glue) << describe(g, id) << " stayed float";
      ++float_ops;
    }
  }
  EXPECT_EQ(q, 1) << "QuantizeLinear nodes left";
  EXPECT_EQ(dq, 1) << "DequantizeLinear nodes left";

  auto ex = Executor::create(g);
  ASSERT_TRUE(ex.ok()) << ex.status().to_string();
  const TensorData inputs = testing::load_npy_or_die(testing::fixture_path(name, "inputs.npy"));
  const TensorData want = testing::load_npy_or_die(testing::fixture_path(name, "ref_int8_qdq.npy"));
  const TensorData got = testing::run_all(*ex.value(), inputs);
  ASSERT_EQ(got.count(), want.count());
  FixtureResult r;
  for (int64_t i = 0; i < got.count(); ++i) {
    const double d = std::fabs(got.get_as_double(i) - want.get_as_double(i)) / step;
    r.max_steps = std::max(r.max_steps, d);
    r.diffs += d > 0.5;
    ++r.total;
  }
  std::printf("%s: fold-qdq leaves %d float glue op(s); vs exact QDQ: max %.3g steps, %lld of %lld outputs differ\n",
              name.c_str(), float_ops, r.max_steps, (long long)r.diffs, (long long)r.total);
  EXPECT_LE(r.max_steps, 1.001);
  EXPECT_LE(double(r.diffs), 0.1 * double(r.total));
}

TEST(FoldQdqFixtures, CifarNet) { check_fixture("cifarnet"); }
TEST(FoldQdqFixtures, FashionMnistCnn) { check_fixture("fmnist_cnn"); }
TEST(FoldQdqFixtures, MobileNetV1_025) { check_fixture("mobilenet_v1_025"); }
TEST(FoldQdqFixtures, MobileNetV2) { check_fixture("mobilenet_v2"); }
TEST(FoldQdqFixtures, ResNet18) { check_fixture("resnet18"); }

}  // namespace
}  // namespace neutron
