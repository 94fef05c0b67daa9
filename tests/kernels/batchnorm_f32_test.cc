// float32 BatchNormalization (inference) against the ONNX formula in double,
// y = (x - mean) / sqrt(var + epsilon) * scale + B, in NCHW ([outer, C, inner]) and NHWC
// (inner = 1) arrangements. Tolerance: 1e-5 relative to |x - mean| * |multiplier| + |B|.
#include "kernels/batchnorm_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace neutron {
namespace {

TEST(BatchNormF32, HandChecked) {
  // ONNX batchnorm_example channel 0: scale 1, B 0, mean 0, var 1, eps 1e-5: y = x / sqrt(1 + 1e-5).
  const float scale[] = {1.0f, 1.5f}, bias[] = {0.0f, 1.0f}, mean[] = {0.0f, 0.0f}, var[] = {1.0f, 1.5f};
  float mult[2];
  batchnorm_f32_fold(2, scale, var, 1e-5, mult);
  BatchNormF32Params p;
  p.outer = 1;
  p.channels = 2;
  p.inner = 3;
  p.mean = mean;
  p.multiplier = mult;
  p.bias = bias;
  const float x[] = {-1, 0, 1, 2, 3, 4};
  float y[6];
  batchnorm_f32(p, x, y);
  EXPECT_NEAR(y[0], -0.999995f, 1e-6);
  EXPECT_NEAR(y[1], 0.0f, 1e-6);
  EXPECT_NEAR(y[2], 0.999995f, 1e-6);
  EXPECT_NEAR(y[3], 2 * 1.5 / std::sqrt(1.5 + 1e-5) + 1, 1e-5);
}

TEST(BatchNormF32, RandomShapes) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
    BatchNormF32Params p;
    p.outer = pick(1, 7);
    p.channels = pick(1, 37);
    p.inner = seed % 2 ? 1 : pick(1, 13);
    const double eps = seed % 3 ? 1e-5 : 1e-3;
    SCOPED_TRACE("seed " + std::to_string(seed) + ": outer " + std::to_string(p.outer) + " channels " +
                 std::to_string(p.channels) + " inner " + std::to_string(p.inner));
    std::vector<float> scale(size_t(p.channels)), bias(scale.size()), mean(scale.size()), var(scale.size()),
        mult(scale.size());
    for (size_t c = 0; c < scale.size(); ++c) {
      scale[c] = dist(rng);
      bias[c] = dist(rng);
      mean[c] = dist(rng);
      var[c] = std::fabs(dist(rng)) + (seed % 4 == 0 ? 0.0f : 0.1f);
    }
    batchnorm_f32_fold(p.channels, scale.data(), var.data(), eps, mult.data());
    p.mean = mean.data();
    p.multiplier = mult.data();
    p.bias = bias.data();
    std::vector<float> x(size_t(p.outer * p.channels * p.inner)), y(x.size());
    for (auto& v : x) v = dist(rng);
    batchnorm_f32(p, x.data(), y.data());
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t c = 0; c < p.channels; ++c)
        for (int64_t i = 0; i < p.inner; ++i) {
          const size_t k = size_t((o * p.channels + c) * p.inner + i);
          const double m = double(scale[size_t(c)]) / std::sqrt(double(var[size_t(c)]) + eps);
          const double d = double(x[k]) - mean[size_t(c)];
          const double want = d * m + bias[size_t(c)];
          ASSERT_NEAR(y[k], want, 1e-5 * (std::fabs(d * m) + std::fabs(bias[size_t(c)])) + 1e-6) << "at " << k;
        }
  }
}

}  // namespace
}  // namespace neutron
