// float32 pools, BatchNormalization and Resize through the executor (NHWC nodes; BatchNorm and
// Resize also in NCHW / arbitrary rank), checked against hand-computed or naive references.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;
using testing::run_single_op;

std::vector<float> iota_f(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(i + 1);
  return v;
}

TEST(ExecPoolF32, MaxAndAverageCeilMode) {
  // ONNX maxpool_2d_ceil / averagepool_2d_ceil in NHWC with 2 channels (channel 1 = -channel 0).
  std::vector<float> x(32);
  for (int i = 0; i < 16; ++i) {
    x[size_t(2 * i)] = float(i + 1);
    x[size_t(2 * i + 1)] = -float(i + 1);
  }
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("strides", std::vector<int64_t>{2, 2});
  a.set("ceil_mode", int64_t(1));
  a.set("channels_last", int64_t(1));
  auto r = run_single_op(OpKind::MaxPool, {Operand::input(TensorData::from<float>({1, 4, 4, 2}, x))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].shape, (Shape{1, 2, 2, 2}));
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{11, -1, 12, -3, 15, -9, 16, -11}));
  r = run_single_op(OpKind::AveragePool, {Operand::input(TensorData::from<float>({1, 4, 4, 2}, x))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{6, -6, 7.5, -7.5, 12, -12, 13.5, -13.5}));
}

TEST(ExecPoolF32, AverageCountIncludePadAndDilatedMax) {
  // ONNX averagepool_2d_precomputed_pads_count_include_pad (kernel 5, pads 2) in NHWC.
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{5, 5});
  a.set("pads", std::vector<int64_t>{2, 2, 2, 2});
  a.set("count_include_pad", int64_t(1));
  a.set("channels_last", int64_t(1));
  auto r = run_single_op(OpKind::AveragePool, {Operand::input(TensorData::from<float>({1, 5, 5, 1}, iota_f(25)))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto v = r.value()[0].to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], 2.52f);
  EXPECT_FLOAT_EQ(v[12], 13.0f);
  EXPECT_FLOAT_EQ(v[24], 6.84f);

  // ONNX maxpool_2d_dilations.
  Attributes d;
  d.set("kernel_shape", std::vector<int64_t>{2, 2});
  d.set("dilations", std::vector<int64_t>{2, 2});
  d.set("channels_last", int64_t(1));
  r = run_single_op(OpKind::MaxPool, {Operand::input(TensorData::from<float>({1, 4, 4, 1}, iota_f(16)))}, d);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{11, 12, 15, 16}));
}

TEST(ExecPoolF32, GlobalPools) {
  Attributes a;
  a.set("channels_last", int64_t(1));
  const auto x = iota_f(2 * 3 * 2 * 3);  // [2, 3, 2, 3]
  auto r = run_single_op(OpKind::GlobalAveragePool, {Operand::input(TensorData::from<float>({2, 3, 2, 3}, x))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].shape, (Shape{2, 1, 1, 3}));
  // Batch 0, channel c: mean of 1 + c + 3 * (0..5) = 8.5 + c.
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{8.5, 9.5, 10.5, 26.5, 27.5, 28.5}));
  r = run_single_op(OpKind::GlobalMaxPool, {Operand::input(TensorData::from<float>({2, 3, 2, 3}, x))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{16, 17, 18, 34, 35, 36}));
}

TEST(ExecPoolF32, RefusesNchw) {
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{2, 2});
  auto r = run_single_op(OpKind::MaxPool, {Operand::input(TensorData::from<float>({1, 1, 4, 4}, iota_f(16)))}, a);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("run the layout-nhwc pass first"), std::string::npos);
}

TEST(ExecBatchNormF32, NhwcAndNchw) {
  const std::vector<float> scale = {1.0f, 1.5f}, bias = {0.0f, 1.0f}, mean = {0.0f, 3.0f}, var = {1.0f, 1.5f};
  const auto x = iota_f(12);
  for (int cl = 0; cl <= 1; ++cl) {
    for (int runtime_stats = 0; runtime_stats <= 1; ++runtime_stats) {
      SCOPED_TRACE(std::string(cl ? "NHWC" : "NCHW") + (runtime_stats ? " runtime stats" : " constant stats"));
      Attributes a;
      a.set("epsilon", 1e-3);
      a.set("channels_last", int64_t(cl));
      const Shape xs = cl ? Shape{1, 3, 2, 2} : Shape{1, 2, 3, 2};
      auto stat = [&](const std::vector<float>& v) {
        TensorData t = TensorData::from<float>({2}, v);
        return runtime_stats ? Operand::input(t) : Operand::constant_of(t);
      };
      auto r = run_single_op(OpKind::BatchNormalization,
                             {Operand::input(TensorData::from<float>(xs, x)), stat(scale), stat(bias), stat(mean), stat(var)},
                             a);
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      const auto y = r.value()[0].to_vector<float>();
      for (size_t i = 0; i < 12; ++i) {
        const size_t c = cl ? i % 2 : i / 6;
        const double want = (x[i] - mean[c]) / std::sqrt(double(var[c]) + 1e-3) * scale[c] + bias[c];
        EXPECT_NEAR(y[i], want, 1e-5) << i;
      }
    }
  }
}

TEST(ExecResize, NhwcNearestAndLinear) {
  // ONNX resize_upsample_scales_linear on a 2-channel NHWC tensor (channel 1 = 10 * channel 0).
  const std::vector<float> x = {1, 10, 2, 20, 3, 30, 4, 40};
  Attributes a;
  a.set("mode", std::string("linear"));
  a.set("scales", std::vector<double>{1, 2, 2, 1});
  a.set("channels_last", int64_t(1));
  auto r = run_single_op(OpKind::Resize, {Operand::input(TensorData::from<float>({1, 2, 2, 2}, x))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].shape, (Shape{1, 4, 4, 2}));
  const float want[] = {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4};
  const auto y = r.value()[0].to_vector<float>();
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_NEAR(y[2 * i], want[i], 1e-6) << i;
    EXPECT_NEAR(y[2 * i + 1], 10 * want[i], 1e-5) << i;
  }

  // ONNX resize_upsample_sizes_nearest_floor_align_corners along H only, NCHW-like rank 3.
  Attributes n;
  n.set("mode", std::string("nearest"));
  n.set("coordinate_transformation_mode", std::string("align_corners"));
  n.set("nearest_mode", std::string("floor"));
  n.set("scales", std::vector<double>{1, 2, 1});
  r = run_single_op(OpKind::Resize, {Operand::input(TensorData::from<float>({1, 4, 1}, {1, 2, 3, 4}))}, n);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{1, 1, 1, 2, 2, 3, 3, 4}));
}

TEST(ExecResize, Int8NearestKeepsQuantization) {
  const QuantParams q = QuantParams::per_tensor(0.5f, 3);
  Attributes a;
  a.set("mode", std::string("nearest"));
  a.set("coordinate_transformation_mode", std::string("asymmetric"));
  a.set("scales", std::vector<double>{1, 2, 2, 1});
  a.set("channels_last", int64_t(1));
  auto r = run_single_op(OpKind::Resize, {Operand::input(TensorData::from<int8_t>({1, 1, 2, 1}, {-7, 9}), q)}, a,
                         {OutputSpec{q}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{-7, -7, 9, 9, -7, -7, 9, 9}));
}

}  // namespace
}  // namespace neutron
