// int8 Div by a run-time tensor (BinaryInt8Op::Div) against the exact QDQ evaluation in double,
// over every int8 pair (a, b) for random scales and zero points: equal except next to a tie of the
// rounding (within 1 LSB there); b - zb = 0 saturates to the sign of a - za (0/0 gives zo).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/elementwise_int8.h"

namespace neutron {
namespace {

TEST(DivInt8, EveryPairMatchesTheExactQuotient) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto log_uniform = [&](double lo, double hi) {
      return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
    };
    const double sa = log_uniform(1e-3, 1e-1), sb = log_uniform(1e-3, 1e-1);
    // The output scale spans ratios from saturating to underflowing quotients.
    const double so = (sa / sb) * log_uniform(1e-3, 2.0);
    std::uniform_int_distribution<int> zd(-128, 127);
    const int32_t za = zd(rng), zb = zd(rng), zo = zd(rng);
    const int32_t qmin = seed % 3 == 0 ? zo : -128, qmax = 127;  // a Relu-fused clamp sometimes
    BinaryInt8Params p;
    ASSERT_TRUE(prepare_binary_int8(BinaryInt8Op::Div, sa, za, sb, zb, so, zo, qmin, qmax, &p));
    std::vector<int8_t> a(256 * 256), b(256 * 256), out(256 * 256);
    for (int i = 0; i < 256; ++i)
      for (int j = 0; j < 256; ++j) {
        a[size_t(i * 256 + j)] = int8_t(i - 128);
        b[size_t(i * 256 + j)] = int8_t(j - 128);
      }
    BroadcastParams bp;
    const int64_t dims[1] = {256 * 256};
    ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(dims, 1), Span<const int64_t>(dims, 1), &bp));
    binary_int8(p, bp, a.data(), b.data(), out.data());
    int ties = 0, exact = 0;
    for (size_t k = 0; k < out.size(); ++k) {
      const int32_t x = a[k] - za, y = b[k] - zb;
      int32_t want;
      bool near_tie = false;
      if (y == 0) {
        want = x > 0 ? qmax : x < 0 ? qmin : std::min(std::max(zo, qmin), qmax);
      } else {
        const double r = (sa * x) / (sb * y) / so;
        near_tie = std::fabs(std::fabs(r - std::floor(r)) - 0.5) < 1e-6;
        const double v = std::nearbyint(r) + zo;  // round half to even (default rounding mode)
        want = int32_t(std::min<double>(std::max<double>(v, qmin), qmax));
      }
      const int32_t got = out[k];
      if (near_tie) {
        ++ties;
        EXPECT_LE(std::abs(got - want), 1) << "a " << int(a[k]) << " b " << int(b[k]);
      } else {
        exact += got == want;
        EXPECT_EQ(got, want) << "a " << int(a[k]) << " b " << int(b[k]) << " r " << (sa * x) / (sb * y) / so;
      }
    }
    EXPECT_EQ(exact + ties, 65536);
  }
}

TEST(DivInt8, DivisionByZeroSaturatesToTheSignOfA) {
  BinaryInt8Params p;
  ASSERT_TRUE(prepare_binary_int8(BinaryInt8Op::Div, 0.05, 3, 0.02, -7, 0.1, 10, -128, 127, &p));
  const int8_t a[3] = {20, -20, 3}, b[3] = {-7, -7, -7};
  int8_t out[3];
  BroadcastParams bp;
  const int64_t dims[1] = {3};
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(dims, 1), Span<const int64_t>(dims, 1), &bp));
  binary_int8(p, bp, a, b, out);
  EXPECT_EQ(out[0], 127);
  EXPECT_EQ(out[1], -128);
  EXPECT_EQ(out[2], 10);  // 0 / 0: the output zero point (real 0)
}

}  // namespace
}  // namespace neutron
