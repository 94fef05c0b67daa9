#include "kernels/requantize.h"

namespace neutron {

bool quantize_multiplier(double real, FixedMultiplier* out) {
  if (!(real >= 0) || !std::isfinite(real)) return false;
  if (real == 0) {
    *out = FixedMultiplier{0, 1};
    return true;
  }
  int exp = 0;
  const double frac = std::frexp(real, &exp);  // real = frac * 2^exp, frac in [0.5, 1)
  int64_t m = int64_t(std::llround(frac * double(int64_t(1) << 31)));
  if (m == (int64_t(1) << 31)) {  // rounding carried into the next power of two
    m >>= 1;
    ++exp;
  }
  const int shift = 31 - exp;  // real ~= m * 2^(exp - 31)
  if (shift < kMinShift || shift > kMaxShift) return false;
  *out = FixedMultiplier{int32_t(m), shift};
  return true;
}

bool quantize_multiplier_pair(double real_a, double real_b, FixedMultiplierPair* out) {
  if (!(real_a >= 0) || !(real_b >= 0) || !std::isfinite(real_a) || !std::isfinite(real_b)) return false;
  const double big = real_a > real_b ? real_a : real_b;
  FixedMultiplier m;
  if (!quantize_multiplier(big, &m)) return false;
  if (big == 0) {
    *out = FixedMultiplierPair{0, 0, 1};
    return true;
  }
  // big * 2^shift rounds to m.multiplier < 2^31, so the smaller one cannot exceed it.
  const auto fixed = [&](double r) { return int32_t(std::llround(std::ldexp(r, m.shift))); };
  *out = FixedMultiplierPair{real_a >= real_b ? m.multiplier : fixed(real_a),
                             real_b > real_a ? m.multiplier : fixed(real_b), m.shift};
  return true;
}

}  // namespace neutron
