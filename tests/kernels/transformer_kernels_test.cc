// Kernels of the transformer ops: int8 LayerNorm against the float formula on the dequantized
// input (within one output step), f32 LayerNorm, and the byte-moving Gather / Expand / Where.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/index_ops.h"
#include "kernels/layer_norm_f32.h"
#include "kernels/layer_norm_int8.h"

namespace neutron {
namespace {

TEST(LayerNormInt8, WithinOneStepOfTheFloatFormula) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t n = std::uniform_int_distribution<int64_t>(1, 100)(rng), rows = 3;
    const double s_in = std::uniform_real_distribution<double>(0.005, 0.1)(rng);
    const int32_t z_in = std::uniform_int_distribution<int32_t>(-30, 30)(rng);
    const double s_out = std::uniform_real_distribution<double>(0.01, 0.05)(rng);
    const int32_t z_out = std::uniform_int_distribution<int32_t>(-20, 20)(rng);
    const double eps = 1e-5;
    std::vector<int8_t> x(static_cast<size_t>(n * rows)), y(x.size());
    for (auto& v : x) v = int8_t(std::uniform_int_distribution<int>(-128, 127)(rng));
    std::vector<double> gamma(static_cast<size_t>(n)), beta(static_cast<size_t>(n)), table(static_cast<size_t>(2 * n));
    for (int64_t i = 0; i < n; ++i) {
      gamma[size_t(i)] = std::uniform_real_distribution<double>(-1.5, 1.5)(rng);
      beta[size_t(i)] = std::uniform_real_distribution<double>(-0.5, 0.5)(rng);
      table[size_t(i)] = gamma[size_t(i)] / s_out;
      table[size_t(n + i)] = beta[size_t(i)] / s_out + z_out;
    }
    LayerNormInt8Params p;
    p.rows = rows;
    p.n = n;
    p.in_zero_point = z_in;
    p.eps_q = eps / (s_in * s_in);
    p.a = table.data();
    p.b = table.data() + n;
    layer_norm_int8(p, x.data(), y.data());
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += s_in * (x[size_t(r * n + i)] - z_in) / double(n);
      for (int64_t i = 0; i < n; ++i) var += std::pow(s_in * (x[size_t(r * n + i)] - z_in) - mean, 2) / double(n);
      for (int64_t i = 0; i < n; ++i) {
        const double real = (s_in * (x[size_t(r * n + i)] - z_in) - mean) / std::sqrt(var + eps) * gamma[size_t(i)] +
                            beta[size_t(i)];
        const double want = std::min(127.0, std::max(-128.0, std::nearbyint(real / s_out) + z_out));
        EXPECT_LE(std::fabs(double(y[size_t(r * n + i)]) - want), 1.0) << "trial " << trial << " n " << n;
      }
    }
  }
}

TEST(LayerNormF32, NormalizesEachRow) {
  const std::vector<float> x = {1, 2, 3, 4, -1, -1, -1, -1};
  const std::vector<float> g = {1, 1, 2, 2}, b = {0, 0, 0, 1};
  std::vector<float> y(8);
  LayerNormParams p;
  p.rows = 2;
  p.n = 4;
  p.epsilon = 0;
  layer_norm_f32(p, x.data(), g.data(), b.data(), y.data());
  const float k = 1.f / std::sqrt(1.25f);
  EXPECT_NEAR(y[0], -1.5f * k, 1e-6);
  EXPECT_NEAR(y[3], 2 * 1.5f * k + 1, 1e-6);
  p.epsilon = 1e-5f;
  layer_norm_f32(p, x.data(), g.data(), b.data(), y.data());
  EXPECT_EQ(y[4], 0.f);  // a constant row: 0 * (1/sqrt(eps)) * gamma + beta
  EXPECT_EQ(y[7], 1.f);
}

TEST(IndexOps, GatherExpandWhere) {
  const std::vector<int16_t> table = {0, 1, 10, 11, 20, 21};  // [3, 2]
  GatherParams gp;
  gp.axis_dim = 3;
  gp.inner = 2;
  gp.count = 3;
  gp.elem_size = 2;
  const std::vector<int64_t> idx = {2, -3, 7};  // -3: row 0; 7: out of range -> zeros
  std::vector<int16_t> out(6, 99);
  gather(gp, table.data(), idx.data(), true, out.data());
  EXPECT_EQ(out, (std::vector<int16_t>{20, 21, 0, 1, 0, 0}));

  SelectParams sp;
  const std::vector<int64_t> shape_out = {2, 3}, shape_x = {2, 1};
  const Span<const int64_t> ops[1] = {Span<const int64_t>(shape_x)};
  ASSERT_TRUE(prepare_select(Span<const int64_t>(shape_out), ops, 1, 1, &sp));
  const std::vector<int8_t> xs = {5, -7};
  std::vector<int8_t> ex(6);
  expand(sp, xs.data(), ex.data());
  EXPECT_EQ(ex, (std::vector<int8_t>{5, 5, 5, -7, -7, -7}));

  const std::vector<int64_t> shape_c = {3}, shape_y = {};
  const Span<const int64_t> wops[3] = {Span<const int64_t>(shape_c), Span<const int64_t>(shape_x),
                                       Span<const int64_t>(shape_y)};
  ASSERT_TRUE(prepare_select(Span<const int64_t>(shape_out), wops, 3, 1, &sp));
  const std::vector<uint8_t> cond = {1, 0, 1};
  const int8_t fill = -128;
  std::vector<int8_t> w(6);
  where(sp, cond.data(), xs.data(), &fill, w.data());
  EXPECT_EQ(w, (std::vector<int8_t>{5, -128, 5, -7, -128, -7}));
  const std::vector<int64_t> bad = {4};
  const Span<const int64_t> bops[1] = {Span<const int64_t>(bad)};
  EXPECT_FALSE(prepare_select(Span<const int64_t>(shape_out), bops, 1, 1, &sp));
}

}  // namespace
}  // namespace neutron
