#include "kernels/requantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace neutron {
namespace {

TEST(Requantize, RoundShiftIsHalfToEven) {
  EXPECT_EQ(round_shift_half_even(5, 1), 2);    // 2.5 -> 2
  EXPECT_EQ(round_shift_half_even(7, 1), 4);    // 3.5 -> 4
  EXPECT_EQ(round_shift_half_even(-5, 1), -2);  // -2.5 -> -2
  EXPECT_EQ(round_shift_half_even(-7, 1), -4);  // -3.5 -> -4
  EXPECT_EQ(round_shift_half_even(9, 2), 2);    // 2.25 -> 2
  EXPECT_EQ(round_shift_half_even(11, 2), 3);   // 2.75 -> 3
  EXPECT_EQ(round_shift_half_even(-11, 2), -3);
}

TEST(Requantize, MultiplierDomain) {
  FixedMultiplier m;
  EXPECT_TRUE(quantize_multiplier(0.5, &m));
  EXPECT_EQ(m.multiplier, 1 << 30);
  EXPECT_EQ(m.shift, 31);
  EXPECT_TRUE(quantize_multiplier(1.0, &m));
  EXPECT_TRUE(quantize_multiplier(1000.0, &m));
  EXPECT_TRUE(quantize_multiplier(1e-9, &m));
  EXPECT_FALSE(quantize_multiplier(-1.0, &m));
  EXPECT_FALSE(quantize_multiplier(1e-30, &m));
  EXPECT_FALSE(quantize_multiplier(1e12, &m));
  EXPECT_FALSE(quantize_multiplier(std::nan(""), &m));
}

// The fixed-point result equals exact rounding of acc * M except within ~2^-31 of a tie.
TEST(Requantize, MatchesExactRoundingAwayFromTies) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> log_scale(-20, 5);
  std::uniform_int_distribution<int32_t> acc_dist(-(1 << 24), 1 << 24);
  int near_ties = 0;
  for (int i = 0; i < 200000; ++i) {
    double real = std::exp2(log_scale(rng));
    FixedMultiplier m;
    ASSERT_TRUE(quantize_multiplier(real, &m));
    // Realistic: results within the int16 range, as for every int8 kernel output.
    int32_t acc = int32_t(acc_dist(rng) % int64_t(std::min(double(1 << 24), 32768.0 / real) + 1));
    long double exact = (long double)acc * (long double)real;
    long double frac = exact - std::floor(exact);
    // The multiplier has 31 significant bits: results are exact except within |exact| * 2^-30
    // of a tie.
    if (std::fabs(double(frac - 0.5L)) < std::fabs(double(exact)) * 1e-9 + 1e-12) {
      ++near_ties;
      continue;
    }
    EXPECT_EQ(apply_multiplier(acc, m), int64_t(std::llround(double(exact)))) << "acc=" << acc << " M=" << real;
  }
  EXPECT_LT(near_ties, 20);
}

TEST(Requantize, QuantizeRealRoundsHalfToEvenAndSaturates) {
  EXPECT_EQ(quantize_real(2.5, 1.0, 0, -128, 127), 2);
  EXPECT_EQ(quantize_real(3.5, 1.0, 0, -128, 127), 4);
  EXPECT_EQ(quantize_real(-2.5, 1.0, 0, -128, 127), -2);
  EXPECT_EQ(quantize_real(1000, 1.0, 0, -128, 127), 127);
  EXPECT_EQ(quantize_real(-1000, 1.0, 3, -128, 127), -128);
  EXPECT_EQ(quantize_real(1.0, 0.5, -128, 0, 255), 0);
}

}  // namespace
}  // namespace neutron
