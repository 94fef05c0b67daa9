#include "kernels/softmax_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace neutron {
namespace {

std::vector<double> reference(const SoftmaxParams& p, const std::vector<float>& x) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t j = 0; j < p.inner; ++j) {
      auto at = [&](int64_t i) { return size_t((o * p.axis + i) * p.inner + j); };
      double m = -INFINITY, s = 0;
      for (int64_t i = 0; i < p.axis; ++i) m = std::max(m, double(x[at(i)]));
      for (int64_t i = 0; i < p.axis; ++i) s += std::exp(double(x[at(i)]) - m);
      for (int64_t i = 0; i < p.axis; ++i) y[at(i)] = std::exp(double(x[at(i)]) - m) / s;
    }
  return y;
}

TEST(SoftmaxF32, RandomShapesAndAxes) {
  std::mt19937 rng(21);
  for (int it = 0; it < 200; ++it) {
    SoftmaxParams p;
    p.outer = 1 + rng() % 5;
    p.axis = 1 + rng() % 40;
    p.inner = rng() % 2 ? 1 : 1 + rng() % 20;
    const float spread = rng() % 4 == 0 ? 1000.f : 10.f;  // large logits must not overflow
    std::uniform_real_distribution<float> d(-spread, spread);
    std::vector<float> x(size_t(p.outer * p.axis * p.inner)), y(x.size());
    for (auto& v : x) v = d(rng);
    std::vector<float> scratch(softmax_f32_scratch_bytes(p) / sizeof(float) + 1);
    softmax_f32(p, x.data(), y.data(), scratch.data());
    const auto want = reference(p, x);
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_NEAR(double(y[i]), want[i], 2e-6 * want[i] + 1e-7)
          << "outer=" << p.outer << " axis=" << p.axis << " inner=" << p.inner << " seed=21 it=" << it << " i=" << i;
  }
}

TEST(SoftmaxF32, LargeNumbersAndEmpty) {
  SoftmaxParams p;
  p.axis = 4;
  const float x[] = {10000.f, 10001.f, 10002.f, 10003.f};  // ONNX test_softmax_large_number
  float y[4];
  softmax_f32(p, x, y, nullptr);
  const double e[] = {std::exp(-3.0), std::exp(-2.0), std::exp(-1.0), 1.0};
  const double s = e[0] + e[1] + e[2] + e[3];
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], e[i] / s, 1e-7);
  p.outer = 0;
  softmax_f32(p, x, y, nullptr);  // nothing to do, must not crash
  EXPECT_EQ(softmax_f32_scratch_bytes(p), 0u);
}

}  // namespace
}  // namespace neutron
