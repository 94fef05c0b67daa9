#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/requantize.h"

namespace neutron {
namespace {

QuantizeParams per_tensor(const float* scale, const int32_t* zp, int64_t n, int32_t qmin, int32_t qmax) {
  QuantizeParams p;
  p.scales = scale;
  p.zero_points = zp;
  p.inner = n;
  p.qmin = qmin;
  p.qmax = qmax;
  return p;
}

TEST(QuantizeLinear, TiesRoundToEvenAndSaturate) {
  const float scale = 0.5f;
  const int32_t zp = 0;
  // x / scale = 1.5, 2.5, 3.5, -0.5, -1.5, -2.5 exactly: ties go to the even integer.
  const float x[] = {0.75f, 1.25f, 1.75f, -0.25f, -0.75f, -1.25f, 1000.f, -1000.f, NAN};
  int8_t y[9];
  auto p = per_tensor(&scale, &zp, 9, -128, 127);
  quantize_linear<int8_t>(p, x, y);
  const int8_t want[] = {2, 2, 4, 0, -2, -2, 127, -128, 0};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(y[i], want[i]) << "x=" << x[i];
  // uint8 with zero point 128 (ONNX test_quantizelinear style)
  const float s2 = 2.f;
  const int32_t z2 = 128;
  const float x2[] = {0.f, 2.f, 3.f, 1000.f, -254.f, -1000.f, 5.f};
  uint8_t y2[7];
  auto p2 = per_tensor(&s2, &z2, 7, 0, 255);
  quantize_linear<uint8_t>(p2, x2, y2);
  const uint8_t want2[] = {128, 129, 130, 255, 1, 0, 130};  // 1.5 -> 2, 2.5 -> 2
  for (int i = 0; i < 7; ++i) EXPECT_EQ(y2[i], want2[i]) << "x=" << x2[i];
}

TEST(QuantizeLinear, DivisionIsInDouble) {
  // x / scale in float can round across a .5 tie; the kernel must agree with quantize_real()
  // (double division), bit for bit, including on exact ties.
  std::mt19937 rng(101);
  std::uniform_real_distribution<float> d(-20.f, 20.f);
  for (int it = 0; it < 2000; ++it) {
    const float scale = std::exp2(float(int(rng() % 12)) - 8.f) * (1.f + float(rng() % 100) / 100.f);
    const int32_t zp = int32_t(rng() % 256) - 128;
    float x = d(rng);
    if (it % 3 == 0) x = (float(int(rng() % 200) - 100) + 0.5f) * scale;  // exact ties
    int8_t y;
    auto p = per_tensor(&scale, &zp, 1, -128, 127);
    quantize_linear<int8_t>(p, &x, &y);
    ASSERT_EQ(int(y), quantize_real(x, scale, zp, -128, 127)) << "x=" << x << " scale=" << scale << " zp=" << zp;
  }
}

TEST(QuantizeLinear, PerAxisAndInt32) {
  // [2, 3, 2] quantized along axis 1.
  const float scales[] = {0.5f, 1.f, 2.f};
  const int32_t zps[] = {0, 10, -10};
  QuantizeParams p;
  p.scales = scales;
  p.zero_points = zps;
  p.outer = 2;
  p.axis = 3;
  p.inner = 2;
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[size_t(i)] = float(i) - 5.5f;
  std::vector<int8_t> y(12);
  quantize_linear<int8_t>(p, x.data(), y.data());
  for (int i = 0; i < 12; ++i) {
    const int a = (i / 2) % 3;
    EXPECT_EQ(int(y[size_t(i)]), quantize_real(x[size_t(i)], scales[a], zps[a], -128, 127)) << i;
  }
  std::vector<float> back(12);
  dequantize_linear<int8_t>(p, y.data(), back.data());
  for (int i = 0; i < 12; ++i) {
    const int a = (i / 2) % 3;
    EXPECT_EQ(back[size_t(i)], float(int(y[size_t(i)]) - zps[a]) * scales[a]) << i;
  }
  // int32 (bias-style) quantization, saturating at the int32 range.
  const float s = 1e-3f;
  const int32_t z = 0;
  const float xb[] = {1.0005f, -2.5e-3f, 1e9f};
  int32_t yb[3];
  auto pb = per_tensor(&s, &z, 3, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  quantize_linear<int32_t>(pb, xb, yb);
  EXPECT_EQ(yb[0], quantize_real(xb[0], s, 0, pb.qmin, pb.qmax));
  EXPECT_EQ(yb[1], quantize_real(xb[1], s, 0, pb.qmin, pb.qmax));
  EXPECT_EQ(yb[2], std::numeric_limits<int32_t>::max());
}

TEST(DequantizeLinear, ExactSubtractionThenScale) {
  const float scale = 0.1f;
  const int32_t zp = -3;
  const int8_t x[] = {-128, 127, -3, 0};
  float y[4];
  auto p = per_tensor(&scale, &zp, 4, -128, 127);
  dequantize_linear<int8_t>(p, x, y);
  EXPECT_EQ(y[0], -125.f * 0.1f);
  EXPECT_EQ(y[1], 130.f * 0.1f);
  EXPECT_EQ(y[2], 0.f);
  EXPECT_EQ(y[3], 3.f * 0.1f);
  // int32 near the limits: the subtraction must not overflow.
  const int32_t zp32 = 5;
  const float one = 1.f;
  const int32_t x32[] = {std::numeric_limits<int32_t>::min()};
  float y32;
  auto p32 = per_tensor(&one, &zp32, 1, 0, 0);
  dequantize_linear<int32_t>(p32, x32, &y32);
  EXPECT_EQ(y32, float(int64_t(std::numeric_limits<int32_t>::min()) - 5));
  const uint8_t xu[] = {0, 255};
  const int32_t zpu = 128;
  float yu[2];
  auto pu = per_tensor(&one, &zpu, 2, 0, 255);
  dequantize_linear<uint8_t>(pu, xu, yu);
  EXPECT_EQ(yu[0], -128.f);
  EXPECT_EQ(yu[1], 127.f);
}

}  // namespace
}  // namespace neutron
