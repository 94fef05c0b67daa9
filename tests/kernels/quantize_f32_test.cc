// quantize_real_f32 (the single-precision QuantizeLinear path of CPUs without a double FPU, the
// Cortex-M33 firmware) gives the integers of quantize_real (x / scale in double, rounded to
// nearest even) for every float: random values and scales, exact ties (k + 0.5) * scale and their
// neighbours one ulp away, huge, tiny and subnormal values, infinities, NaN, odd scales.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernels/requantize.h"

namespace neutron {
namespace {

void expect_same(float x, float s, int32_t zp, int32_t qmin, int32_t qmax) {
  ASSERT_EQ(quantize_real_f32(x, s, zp, qmin, qmax), quantize_real(double(x), double(s), zp, qmin, qmax))
      << "x " << x << " (" << std::hexfloat << x << ") scale " << s << std::defaultfloat << " zp " << zp;
}

TEST(QuantizeF32, SameIntegersAsTheDoubleDivision) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> lg(-30.f, 10.f), u(-1.f, 1.f);
  std::uniform_int_distribution<int> k(-200, 200), z(-128, 127), m(0, 15);
  int64_t checked = 0, ties = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    // Half the scales with 4-bit mantissas, so that (k + 0.5) * s is exact and x / s an exact tie.
    const float s = std::exp2(std::floor(lg(rng))) * (trial % 2 ? 1.f + 0.5f * std::fabs(u(rng)) : 1.f + float(m(rng)) / 16.f);
    const int32_t zp = z(rng);
    // Random values around the int8 range.
    for (int i = 0; i < 8; ++i) expect_same(u(rng) * 160.f * s, s, zp, -128, 127);
    // Ties and their neighbours: (k + 0.5) * s when exact in float.
    const float tie = (float(k(rng)) + 0.5f) * s;
    if (std::fmod(double(tie) / double(s), 1.0) == 0.5 || std::fmod(double(tie) / double(s), 1.0) == -0.5) ++ties;
    for (float x : {tie, std::nextafter(tie, 1e30f), std::nextafter(tie, -1e30f)}) {
      expect_same(x, s, zp, -128, 127);
      expect_same(x, s, zp, -32768, 32767);
      expect_same(x, s, 0, 0, 255);
    }
    checked += 8 + 9;
  }
  EXPECT_GT(ties, 1000) << "enough exact ties were tried";
  std::printf("%lld values, %lld exact ties\n", (long long)checked, (long long)ties);
}

TEST(QuantizeF32, EdgeValuesAndScales) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float denorm = std::numeric_limits<float>::denorm_min(), fmax = std::numeric_limits<float>::max();
  const float values[] = {0.f, -0.f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 127.5f, -128.5f, 1e-40f, -1e-40f, denorm, 3e38f,
                          -3e38f, fmax, -fmax, inf, -inf, nan, 1e30f, 4194304.f, 8388607.5f, 1e20f};
  const float scales[] = {1.f, 0.5f, 0.1f, 3.f, 1e-38f, denorm, 1e-45f, 1e38f, fmax, 0.f, -1.f, inf, nan, 7.0e-3f};
  for (float x : values)
    for (float s : scales)
      for (int32_t zp : {0, -128, 127, 5, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()}) {
        expect_same(x, s, zp, -128, 127);
        expect_same(x, s, zp, -32768, 32767);
      }
}

}  // namespace
}  // namespace neutron
