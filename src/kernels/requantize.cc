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

}  // namespace neutron
