// Observers: MinMax exactness, the qparams formula's edge cases, the histogram observer's
// corner cases, the percentile definition against sorted data, per-channel errors.
// (Comparisons with torch itself are in histogram_golden_test.cc.)
#include "quantize/observers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

namespace neutron {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> normal(std::mt19937& rng, size_t n, float mean, float stddev) {
  std::normal_distribution<float> d(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// ---- finite_min_max / MinMaxObserver --------------------------------------------------------

TEST(MinMaxObserver, ExactOverSeveralUpdates) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    MinMaxObserver obs;
    float lo = kInf, hi = -kInf;
    const int updates = 1 + int(rng() % 4);
    for (int u = 0; u < updates; ++u) {
      std::vector<float> v = normal(rng, 1 + rng() % 300, float(rng() % 7) - 3.0f, 2.0f);
      for (float x : v) lo = std::min(lo, x), hi = std::max(hi, x);
      obs.update(v.data(), v.size());
    }
    EXPECT_EQ(obs.range().min, lo) << "seed " << seed;
    EXPECT_EQ(obs.range().max, hi) << "seed " << seed;
    EXPECT_EQ(obs.nonfinite_count(), 0);
  }
}

TEST(MinMaxObserver, SkipsAndCountsNonFiniteAtEveryPosition) {
  for (size_t n = 1; n <= 19; ++n) {
    for (size_t bad = 0; bad < n; ++bad) {
      for (float special : {kNaN, kInf, -kInf}) {
        std::vector<float> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = float(i) - 4.0f;
        v[bad] = special;
        MinMaxObserver obs;
        obs.update(v.data(), v.size());
        float lo = kInf, hi = -kInf;
        for (size_t i = 0; i < n; ++i)
          if (i != bad) lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
        EXPECT_EQ(obs.nonfinite_count(), 1) << "n " << n << " at " << bad;
        EXPECT_EQ(obs.range().min, lo) << "n " << n << " at " << bad << " value " << special;
        EXPECT_EQ(obs.range().max, hi) << "n " << n << " at " << bad << " value " << special;
      }
    }
  }
}

TEST(MinMaxObserver, EmptyGivesTorchsDefaultQParams) {
  MinMaxObserver obs;
  obs.update(nullptr, 0);
  const float nan = kNaN;
  obs.update(&nan, 1);
  EXPECT_TRUE(obs.empty());
  const QuantParams q = obs.qparams(QuantSpec::int8_activation());
  EXPECT_EQ(q, QuantParams::per_tensor(1.0f, 0));
}

// ---- the qparams formula --------------------------------------------------------------------

TEST(QParams, AllZerosGetEpsScale) {
  const ScaleZeroPoint a = compute_scale_zero_point(0, 0, QuantSpec::int8_activation());
  EXPECT_EQ(a.scale, 1.0f / 4096);
  EXPECT_EQ(a.zero_point, -128);
  const ScaleZeroPoint w = compute_scale_zero_point(0, 0, QuantSpec::int8_weight());
  EXPECT_EQ(w.scale, 1.0f / 4096);
  EXPECT_EQ(w.zero_point, 0);
}

TEST(QParams, AllPositiveRangeIncludesZero) {
  // [1, 9] is widened to [0, 9]: zero maps exactly to qmin.
  const ScaleZeroPoint a = compute_scale_zero_point(1, 9, QuantSpec::int8_activation());
  EXPECT_EQ(a.scale, 9.0f / 255.0f);
  EXPECT_EQ(a.zero_point, -128);
  const ScaleZeroPoint w = compute_scale_zero_point(1, 9, QuantSpec::int8_weight());
  EXPECT_EQ(w.scale, 9.0f / 127.0f);
  EXPECT_EQ(w.zero_point, 0);
}

TEST(QParams, AllNegativeRangeIncludesZero) {
  const ScaleZeroPoint a = compute_scale_zero_point(-3, -1, QuantSpec::int8_activation());
  EXPECT_EQ(a.scale, 3.0f / 255.0f);
  EXPECT_EQ(a.zero_point, 127);
}

TEST(QParams, ConstantTensor) {
  for (float c : {2.5f, -2.5f, 1e-6f, 300.0f}) {
    const ScaleZeroPoint a = compute_scale_zero_point(c, c, QuantSpec::int8_activation());
    EXPECT_EQ(a.scale, std::max(std::fabs(c) / 255.0f, 1.0f / 4096)) << c;
    EXPECT_EQ(a.zero_point, c > 0 ? -128 : 127) << c;
    // The constant itself is representable to within half a step.
    const float q = std::nearbyint(c / a.scale) + float(a.zero_point);
    EXPECT_LE(std::fabs((std::clamp(q, -128.0f, 127.0f) - float(a.zero_point)) * a.scale - c), a.scale / 2 + 1e-6f) << c;
  }
}

TEST(QParams, SymmetricUsesLargerSide) {
  const ScaleZeroPoint w = compute_scale_zero_point(-3, 1, QuantSpec::int8_weight());
  EXPECT_EQ(w.scale, 3.0f / 127.0f);
  EXPECT_EQ(w.zero_point, 0);
}

TEST(QParams, InvalidRangesGiveDefault) {
  for (auto r : {std::pair{kInf, -kInf}, std::pair{2.0f, 1.0f}, std::pair{kNaN, 1.0f}}) {
    const ScaleZeroPoint s = compute_scale_zero_point(r.first, r.second, QuantSpec::int8_activation());
    EXPECT_EQ(s.scale, 1.0f);
    EXPECT_EQ(s.zero_point, 0);
  }
}

TEST(QParams, AffineZeroIsExactlyRepresentable) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-50, 50);
  for (int t = 0; t < 1000; ++t) {
    float lo = u(rng), hi = u(rng);
    if (lo > hi) std::swap(lo, hi);
    const ScaleZeroPoint s = compute_scale_zero_point(lo, hi, QuantSpec::int8_activation());
    ASSERT_GE(s.zero_point, -128);
    ASSERT_LE(s.zero_point, 127);
    // min(lo, 0) and max(hi, 0) quantize to within one step of the int8 ends.
    EXPECT_GE(std::min(lo, 0.0f) / s.scale + float(s.zero_point), -128.5f - 1e-3f) << lo << " " << hi;
    EXPECT_LE(std::max(hi, 0.0f) / s.scale + float(s.zero_point), 127.5f + 1e-3f) << lo << " " << hi;
  }
}

// ---- HistogramObserver corner cases ---------------------------------------------------------

HistogramObserver make_hist(HistogramObserver::Flavor f) {
  HistogramObserver::Options o;
  o.flavor = f;
  return HistogramObserver(o);
}

TEST(HistogramObserver, EmptyAndNonFinite) {
  for (auto f : {HistogramObserver::Flavor::kTorch113, HistogramObserver::Flavor::kFloatRange}) {
    HistogramObserver obs = make_hist(f);
    obs.update(nullptr, 0);
    EXPECT_TRUE(obs.empty());
    EXPECT_EQ(obs.qparams(QuantSpec::int8_activation()), QuantParams::per_tensor(1.0f, 0));
    const std::vector<float> v = {kNaN, 0.5f, -kInf, -0.25f, kInf};
    obs.update(v.data(), v.size());
    EXPECT_EQ(obs.nonfinite_count(), 3);
    EXPECT_EQ(obs.observed().min, -0.25f);
    EXPECT_EQ(obs.observed().max, 0.5f);
    double total = 0;
    for (float h : obs.histogram()) total += h;
    EXPECT_EQ(total, 2.0);
  }
}

TEST(HistogramObserver, ConstantInputGivesItsValue) {
  for (auto f : {HistogramObserver::Flavor::kTorch113, HistogramObserver::Flavor::kFloatRange}) {
    HistogramObserver obs = make_hist(f);
    std::vector<float> v(1000, 2.5f);
    obs.update(v.data(), v.size());
    obs.update(v.data(), v.size());
    EXPECT_EQ(obs.range().min, 2.5f);
    EXPECT_EQ(obs.range().max, 2.5f);
    const QuantParams q = obs.qparams(QuantSpec::int8_activation());
    EXPECT_EQ(q.scale[0], 2.5f / 255.0f);
    EXPECT_EQ(q.zero_point[0], -128);
  }
}

TEST(HistogramObserver, FloatRangeKeepsAConstantHistory) {
  std::mt19937 rng(5);
  std::vector<float> constant(3000, 9.0f), data = normal(rng, 1000, 0.0f, 1.0f);
  HistogramObserver kept = make_hist(HistogramObserver::Flavor::kFloatRange);
  kept.update(constant.data(), constant.size());
  kept.update(data.data(), data.size());
  double total = 0;
  for (float h : kept.histogram()) total += h;
  EXPECT_EQ(total, 4000.0);
  EXPECT_EQ(kept.histogram_range().max, 9.0f);
  // Three quarters of the values are 9: the search keeps them.
  EXPECT_GT(kept.range().max, 8.9f);
  // torch 1.13 forgets them.
  HistogramObserver forgot = make_hist(HistogramObserver::Flavor::kTorch113);
  forgot.update(constant.data(), constant.size());
  forgot.update(data.data(), data.size());
  EXPECT_LT(forgot.histogram_range().max, 9.0f);
}

TEST(HistogramObserver, Torch113DropsValuesOutsideTheTruncatedBounds) {
  // The documented torch 1.13 defect: histc(min=int(-2.7)=-2, max=int(3.9)=3).
  std::vector<float> v;
  for (int i = 0; i <= 66; ++i) v.push_back(-2.7f + 0.1f * float(i));
  HistogramObserver t = make_hist(HistogramObserver::Flavor::kTorch113);
  HistogramObserver f = make_hist(HistogramObserver::Flavor::kFloatRange);
  t.update(v.data(), v.size());
  f.update(v.data(), v.size());
  double tt = 0, ft = 0;
  for (float h : t.histogram()) tt += h;
  for (float h : f.histogram()) ft += h;
  EXPECT_EQ(ft, double(v.size()));
  EXPECT_LT(tt, double(v.size()));
}

TEST(HistogramObserver, HugeRangeGrowthStaysBounded) {
  for (auto f : {HistogramObserver::Flavor::kTorch113, HistogramObserver::Flavor::kFloatRange}) {
    HistogramObserver obs = make_hist(f);
    const std::vector<float> tiny = {1e-30f, 2e-30f, 3e-30f}, huge = {-1e20f, 5e19f};
    obs.update(tiny.data(), tiny.size());
    obs.update(huge.data(), huge.size());
    EXPECT_EQ(obs.histogram().size(), 2048u);
    EXPECT_LE(obs.histogram_range().min, -1e20f);
    EXPECT_GE(obs.histogram_range().max, 5e19f);
    double total = 0;
    for (float h : obs.histogram()) total += h;
    EXPECT_NEAR(total, 5.0, 1e-3);
    const ValueRange r = obs.range();
    EXPECT_LE(r.min, r.max);
  }
}

TEST(HistogramObserver, GrowingRangesKeepTheTotalCount) {
  std::mt19937 rng(11);
  HistogramObserver obs = make_hist(HistogramObserver::Flavor::kFloatRange);
  double n = 0;
  for (int u = 0; u < 8; ++u) {
    std::vector<float> v = normal(rng, 500, 0.0f, 0.5f * float(u + 1));
    obs.update(v.data(), v.size());
    n += double(v.size());
  }
  double total = 0;
  for (float h : obs.histogram()) total += h;
  EXPECT_NEAR(total, n, 1e-3 * n * 1e-3);
  const ValueRange r = obs.range();
  EXPECT_LT(r.min, 0.0f);
  EXPECT_GT(r.max, 0.0f);
  EXPECT_GE(r.min, obs.histogram_range().min);
  EXPECT_LE(r.max, obs.histogram_range().max);
}

TEST(HistogramObserver, UpdateIsFast) {
  // An activation of 1M values: a handful of milliseconds (printed; not a hard limit beyond 1 s).
  std::mt19937 rng(2);
  std::vector<float> v = normal(rng, 1 << 20, 0.0f, 1.0f);
  HistogramObserver obs;
  obs.update(v.data(), v.size());
  const auto t0 = std::chrono::steady_clock::now();
  for (float& x : v) x *= 1.5f;  // widen: exercises the re-binning path
  obs.update(v.data(), v.size());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const auto t1 = std::chrono::steady_clock::now();
  (void)obs.range();
  const double search_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
  std::printf("histogram update of 1M values: %.1f ms, range search: %.1f ms\n", ms, search_ms);
  EXPECT_LT(ms, 1000);
  EXPECT_LT(search_ms, 1000);
}

// ---- PercentileObserver ---------------------------------------------------------------------

// NumPy's default percentile (linear interpolation between order statistics).
double exact_percentile(std::vector<float> v, double q) {
  std::sort(v.begin(), v.end());
  const double rank = q / 100.0 * double(v.size() - 1);
  const size_t j = size_t(std::floor(rank));
  const double frac = rank - double(j);
  return j + 1 < v.size() ? double(v[j]) + frac * (double(v[j + 1]) - double(v[j])) : double(v[j]);
}

TEST(PercentileObserver, MatchesSortedPercentilesWithinOneBin) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    std::mt19937 rng(seed);
    PercentileObserver obs;
    std::vector<float> all;
    const float scale = std::pow(10.0f, float(int(seed % 5)) - 2.0f);
    for (int u = 0; u < 4; ++u) {
      // Growing batches force bin merges.
      std::vector<float> v = normal(rng, 2000, scale * 0.3f, scale * float(1 << u));
      obs.update(v.data(), v.size());
      all.insert(all.end(), v.begin(), v.end());
    }
    const double w = obs.bin_width();
    for (double q : {0.0, 0.01, 1.0, 25.0, 50.0, 99.0, 99.99, 100.0}) {
      EXPECT_NEAR(obs.value_at_percentile(q), exact_percentile(all, q), w) << "seed " << seed << " q " << q;
      std::vector<float> abs_all(all.size());
      std::transform(all.begin(), all.end(), abs_all.begin(), [](float x) { return std::fabs(x); });
      EXPECT_NEAR(obs.value_at_percentile(q, true), exact_percentile(abs_all, q), w) << "abs seed " << seed << " q " << q;
    }
    // The grid is fine: at most max_bins over the observed span (and at least 4096 at the start).
    EXPECT_LE(w, 2.0 * (double(obs.observed().max) - obs.observed().min) / 16384 * 2);
  }
}

TEST(PercentileObserver, PerSideAndAbsRanges) {
  std::mt19937 rng(9);
  std::vector<float> v = normal(rng, 20000, 1.0f, 2.0f);
  v.push_back(80.0f);  // one outlier
  PercentileObserver::Options o;
  o.percentile = 99.9;
  PercentileObserver per_side(o);
  per_side.update(v.data(), v.size());
  const ValueRange r = per_side.range();
  EXPECT_NEAR(r.min, exact_percentile(v, 0.1), per_side.bin_width());
  EXPECT_NEAR(r.max, exact_percentile(v, 99.9), per_side.bin_width());
  EXPECT_LT(r.max, 20.0f);  // the outlier is clipped

  o.mode = PercentileObserver::Mode::kAbs;
  PercentileObserver abs_obs(o);
  abs_obs.update(v.data(), v.size());
  std::vector<float> a(v.size());
  std::transform(v.begin(), v.end(), a.begin(), [](float x) { return std::fabs(x); });
  const double p = exact_percentile(a, 99.9);
  EXPECT_NEAR(abs_obs.range().max, p, abs_obs.bin_width());
  // The low side is clamped to what was observed.
  EXPECT_EQ(abs_obs.range().min, std::max(float(-p), abs_obs.observed().min));
  EXPECT_GT(abs_obs.range().min, -p);

  // ReLU-like data: the abs range is one-sided.
  std::vector<float> relu(v);
  for (float& x : relu) x = std::max(x, 0.0f);
  PercentileObserver relu_obs(o);
  relu_obs.update(relu.data(), relu.size());
  EXPECT_EQ(relu_obs.range().min, 0.0f);
  EXPECT_GT(relu_obs.range().max, 0.0f);
}

TEST(PercentileObserver, HundredIsTheExactRangeAndConstantsWork) {
  std::mt19937 rng(4);
  std::vector<float> v = normal(rng, 999, -3.0f, 1.0f);
  PercentileObserver::Options o;
  o.percentile = 100;
  PercentileObserver obs(o);
  obs.update(v.data(), v.size());
  EXPECT_EQ(obs.range().min, *std::min_element(v.begin(), v.end()));
  EXPECT_EQ(obs.range().max, *std::max_element(v.begin(), v.end()));

  PercentileObserver c;
  std::vector<float> k(100, -7.0f);
  c.update(k.data(), k.size());
  EXPECT_EQ(c.range().min, -7.0f);
  EXPECT_EQ(c.range().max, -7.0f);
  PercentileObserver e;
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.qparams(QuantSpec::int8_activation()), QuantParams::per_tensor(1.0f, 0));
}

// ---- PerChannelMinMaxObserver ---------------------------------------------------------------

TEST(PerChannelMinMaxObserver, Axis1OfAConvTransposeWeight) {
  // [in=2, out=3, 1, 2]: channel c along axis 1.
  TensorData w = TensorData::from<float>({2, 3, 1, 2}, {1, -2, 3, 4, 0, 0, -5, 6, 0.5f, 0.25f, 7, -8});
  PerChannelMinMaxObserver obs(1);
  ASSERT_TRUE(obs.update(w).ok());
  ASSERT_EQ(obs.channels(), 3);
  EXPECT_EQ(obs.ranges()[0].min, -5.0f);
  EXPECT_EQ(obs.ranges()[0].max, 6.0f);
  EXPECT_EQ(obs.ranges()[1].min, 0.25f);
  EXPECT_EQ(obs.ranges()[1].max, 4.0f);
  EXPECT_EQ(obs.ranges()[2].min, -8.0f);
  EXPECT_EQ(obs.ranges()[2].max, 7.0f);
  const QuantParams q = obs.qparams(QuantSpec::int8_weight());
  EXPECT_EQ(q.axis, 1);
  EXPECT_EQ(q.scale, (std::vector<float>{6.0f / 127, 4.0f / 127, 8.0f / 127}));
  EXPECT_EQ(q.zero_point, (std::vector<int32_t>{0, 0, 0}));
}

TEST(PerChannelMinMaxObserver, Errors) {
  PerChannelMinMaxObserver obs(2);
  TensorData w(DType::F32, {4, 3});
  Status s = obs.update(w);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("axis 2 is out of range for shape [4,3]"), std::string::npos) << s.message();

  PerChannelMinMaxObserver obs0(0);
  ASSERT_TRUE(obs0.update(w).ok());
  s = obs0.update(TensorData(DType::F32, {5, 3}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("5 channels along axis 0, earlier tensors had 4"), std::string::npos) << s.message();
  s = obs0.update(TensorData(DType::I8, {4, 3}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expected an f32 tensor, got i8"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace neutron
