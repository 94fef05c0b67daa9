// QuantizeLinear / DequantizeLinear through the executor: parameters from Tensor::quant.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/requantize.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;
using testing::run_single_op;

TEST(ExecQuantize, PerTensorInt8TiesAndSaturation) {
  const QuantParams q = QuantParams::per_tensor(0.5f, 1);
  // x / 0.5 = 2.5 -> 2, 3.5 -> 4, -2.5 -> -2 (half to even), then + zero point 1.
  auto r = run_single_op(OpKind::QuantizeLinear,
                         {Operand::input(TensorData::from<float>({5}, {1.25f, 1.75f, -1.25f, 100.f, -100.f}))}, {},
                         {OutputSpec{q}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].dtype, DType::I8);
  EXPECT_EQ(r.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{3, 5, -1, 127, -128}));
}

TEST(ExecQuantize, Uint8Output) {
  // ONNX test_quantizelinear: scale 2, zero point 128.
  auto g = testing::make_single_op_graph(OpKind::QuantizeLinear,
                                         {Operand::input(TensorData::from<float>({6}, {0, 2, 3, 1000, -254, -1000}))},
                                         {}, {OutputSpec{QuantParams::per_tensor(2.f, 128)}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  Graph graph = std::move(g).value();
  graph.tensor(graph.outputs[0]).dtype = DType::U8;
  ASSERT_TRUE(infer_shapes(graph).ok());
  ASSERT_TRUE(verify_graph(graph).ok());
  auto r = testing::run_graph(graph, {TensorData::from<float>({6}, {0, 2, 3, 1000, -254, -1000})});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<uint8_t>(), (std::vector<uint8_t>{128, 129, 130, 255, 1, 0}));
}

TEST(ExecQuantize, PerAxisRoundTrip) {
  // [1, 3, 2, 2] along axis 1 (ONNX test_quantizelinear_axis / test_dequantizelinear_axis style).
  QuantParams q;
  q.scale = {1.f, 2.f, 4.f};
  q.zero_point = {0, 10, -20};
  q.axis = 1;
  std::vector<float> x(12);
  for (size_t i = 0; i < 12; ++i) x[i] = float(int(i) * 7 % 13) - 6.f;
  auto r = run_single_op(OpKind::QuantizeLinear, {Operand::input(TensorData::from<float>({1, 3, 2, 2}, x))}, {},
                         {OutputSpec{q}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto y = r.value()[0].to_vector<int8_t>();
  for (size_t i = 0; i < 12; ++i) {
    const size_t c = i / 4;
    EXPECT_EQ(int(y[i]), quantize_real(x[i], q.scale[c], q.zero_point[c], -128, 127)) << i;
  }
  auto d = run_single_op(OpKind::DequantizeLinear, {Operand::input(r.value()[0], q)}, {});
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d.value()[0].dtype, DType::F32);
  const auto back = d.value()[0].to_vector<float>();
  for (size_t i = 0; i < 12; ++i) {
    const size_t c = i / 4;
    EXPECT_EQ(back[i], float(int(y[i]) - q.zero_point[c]) * q.scale[c]) << i;
  }
}

TEST(ExecQuantize, DequantizeInt32AndUint8) {
  auto r = run_single_op(
      OpKind::DequantizeLinear,
      {Operand::constant_of(TensorData::from<int32_t>({3}, {-1000, 0, 123456}), QuantParams::per_tensor(0.001f, 0))},
      {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto y = r.value()[0].to_vector<float>();
  EXPECT_EQ(y[0], -1000.f * 0.001f);
  EXPECT_EQ(y[2], 123456.f * 0.001f);
  // ONNX test_dequantizelinear: uint8 [0, 3, 128, 255], scale 2, zero point 128.
  auto u = run_single_op(
      OpKind::DequantizeLinear,
      {Operand::input(TensorData::from<uint8_t>({4}, {0, 3, 128, 255}), QuantParams::per_tensor(2.f, 128))}, {});
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u.value()[0].to_vector<float>(), (std::vector<float>{-256.f, -250.f, 0.f, 254.f}));
}

}  // namespace
}  // namespace neutron
