// Helpers of the int8 kernel tests. Every int8 kernel is checked against the exact evaluation of
// its QDQ meaning: dequantize the inputs, compute in double, quantize with round-half-to-even
// (quantize_real). The int8 kernel may differ by 1 LSB, and only at rounding ties.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/requantize.h"

namespace neutron::testing {

// Max |actual - expected| must be <= 1 and the fraction of differing elements < 1%.
inline ::testing::AssertionResult qdq_close(const std::vector<int8_t>& actual, const std::vector<int32_t>& expected,
                                            const std::string& context) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << context << ": size " << actual.size() << " vs " << expected.size();
  int max_diff = 0;
  size_t diffs = 0, worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const int d = std::abs(int(actual[i]) - expected[i]);
    if (d > 0) ++diffs;
    if (d > max_diff) {
      max_diff = d;
      worst = i;
    }
  }
  if (max_diff <= 1 && (diffs == 0 || double(diffs) < 0.01 * double(actual.size())))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << context << ": max diff " << max_diff << " at element " << worst << " (got "
                                       << int(actual[worst]) << ", exact QDQ " << expected[worst] << "), " << diffs
                                       << " of " << actual.size() << " elements differ";
}

inline std::vector<int8_t> random_int8(std::mt19937& rng, size_t n, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(d(rng));
  return v;
}

struct OutQuant {
  double scale = 1;
  int32_t zero_point = 0;
};

// Output parameters that map [lo, hi] of the real results onto the int8 range (as XNNPACK's
// testers derive them from the accumulators), so the requantization covers the whole range.
inline OutQuant out_quant_for_range(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo < 1e-12) hi = lo + 1;
  OutQuant q;
  // The small irrational-looking stretch keeps s_in / s_out from being a ratio of small integers:
  // otherwise exact .5 ties would be frequent, and at an exact tie the double reference itself
  // rounds either way depending on its own rounding errors.
  q.scale = (hi - lo) / 255.0 * 1.0013579;
  q.zero_point = int32_t(std::clamp(std::lround(-128 - lo / q.scale), -128L, 127L));
  return q;
}
inline OutQuant out_quant_for(const std::vector<double>& real) {
  const auto mm = std::minmax_element(real.begin(), real.end());
  return out_quant_for_range(*mm.first, *mm.second);
}

inline std::vector<int32_t> quantize_all(const std::vector<double>& real, OutQuant q, int32_t qmin = -128,
                                         int32_t qmax = 127) {
  std::vector<int32_t> r(real.size());
  for (size_t i = 0; i < real.size(); ++i) r[i] = quantize_real(real[i], q.scale, q.zero_point, qmin, qmax);
  return r;
}

inline int rand_int(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
inline double rand_log_uniform(std::mt19937& rng, double lo, double hi) {
  return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
}

}  // namespace neutron::testing
