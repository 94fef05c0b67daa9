#include "quantize/observers.h"

#include <algorithm>
#include <cmath>

namespace neutron {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

void merge_into(ValueRange* into, const ValueRange& r) {
  if (r.empty()) return;
  into->min = std::min(into->min, r.min);
  into->max = std::max(into->max, r.max);
}

// Python's floor division a // b on float32, as torch.div(a, b, rounding_mode='floor') computes
// it (c10::div_floor_floating): via fmod, so that a == b * (a // b) + a % b holds exactly.
float floor_divide(float a, float b) {
  if (b == 0.0f) return a / b;
  float mod = std::fmod(a, b);
  float div = (a - mod) / b;
  if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
  if (div == 0.0f) return std::copysign(0.0f, a / b);
  float floordiv = std::floor(div);
  if (div - floordiv > 0.5f) floordiv += 1.0f;
  return floordiv;
}

float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// torch.sum of a contiguous float32 CPU tensor, in torch's summation order (1.13, AVX2 kernels,
// SumKernel.cpp: 8-lane vectors summed by 4 interleaved accumulators, each a 4-level cascade whose
// levels are flushed every 2^level_power vectors; then the lanes left to right). The histogram
// search compares sums against thresholds, so the order of float32 additions matters.
float torch_sum_f32(const float* x, size_t n) {
  constexpr size_t kLanes = 8, kRows = 4, kLevels = 4;
  const size_t vec_size = n / kLanes, size_ilp = vec_size / kRows;
  float acc[kLevels][kRows][kLanes] = {};
  const auto add_group = [&](float* into, size_t group) {  // into[k][l] += vector (group * kRows + k)
    for (size_t k = 0; k < kRows; ++k)
      for (size_t l = 0; l < kLanes; ++l) into[k * kLanes + l] += x[(group * kRows + k) * kLanes + l];
  };
  int64_t ceil_log2 = 0;
  while ((size_t(1) << ceil_log2) < size_ilp) ++ceil_log2;
  const int64_t level_power = std::max<int64_t>(4, ceil_log2 / int64_t(kLevels));
  const size_t level_step = size_t(1) << level_power, level_mask = level_step - 1;
  size_t i = 0;
  while (i + level_step <= size_ilp) {
    for (size_t j = 0; j < level_step; ++j, ++i) add_group(&acc[0][0][0], i);
    for (size_t j = 1; j < kLevels; ++j) {
      for (size_t k = 0; k < kRows; ++k)
        for (size_t l = 0; l < kLanes; ++l) acc[j][k][l] += acc[j - 1][k][l], acc[j - 1][k][l] = 0.0f;
      if ((i & (level_mask << (j * size_t(level_power)))) != 0) break;
    }
  }
  for (; i < size_ilp; ++i) add_group(&acc[0][0][0], i);
  for (size_t j = 1; j < kLevels; ++j)
    for (size_t k = 0; k < kRows; ++k)
      for (size_t l = 0; l < kLanes; ++l) acc[0][k][l] += acc[j][k][l];
  float* partial = acc[0][0];  // row 0
  for (size_t v = size_ilp * kRows; v < vec_size; ++v)
    for (size_t l = 0; l < kLanes; ++l) partial[l] += x[v * kLanes + l];
  for (size_t k = 1; k < kRows; ++k)
    for (size_t l = 0; l < kLanes; ++l) partial[l] += acc[0][k][l];
  float sum = 0.0f;
  for (size_t t = vec_size * kLanes; t < n; ++t) sum += x[t];
  for (size_t l = 0; l < kLanes; ++l) sum += partial[l];
  return sum;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Scale and zero point

ScaleZeroPoint compute_scale_zero_point(float min, float max, const QuantSpec& spec) {
  if (!(min <= max)) return {};  // empty (+inf, -inf) or NaN: torch's check_min_max_valid
  // Every step is one float32 tensor op in torch; keep them separate and in the same order.
  const float min_neg = std::min(min, 0.0f);
  const float max_pos = std::max(max, 0.0f);
  ScaleZeroPoint r;
  if (spec.scheme == QScheme::kSymmetric) {
    const float m = std::max(-min_neg, max_pos);
    r.scale = std::max(m / float(double(spec.qmax - spec.qmin) / 2.0), spec.eps);
    r.zero_point = spec.qmin < 0 ? 0 : (spec.qmin + spec.qmax + 1) / 2;
  } else {
    r.scale = std::max((max_pos - min_neg) / float(spec.qmax - spec.qmin), spec.eps);
    const int64_t zp = int64_t(spec.qmin) - int64_t(std::nearbyint(min_neg / r.scale));  // half to even
    r.zero_point = int32_t(std::clamp<int64_t>(zp, spec.qmin, spec.qmax));
  }
  return r;
}

QuantParams compute_qparams(const ValueRange& range, const QuantSpec& spec) {
  ScaleZeroPoint s = compute_scale_zero_point(range.min, range.max, spec);
  return QuantParams::per_tensor(s.scale, s.zero_point);
}

ValueRange finite_min_max(const float* x, size_t n, int64_t* nonfinite) {
  // Fast pass with independent lanes so the loop vectorizes: `v < lo ? v : lo` is exactly a
  // vector min that keeps `lo` when v is NaN. NaN and infinities are detected afterwards.
  constexpr size_t kLanes = 8;
  float lo[kLanes], hi[kLanes];
  int nan[kLanes];
  for (size_t j = 0; j < kLanes; ++j) lo[j] = kInf, hi[j] = -kInf, nan[j] = 0;
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      const float v = x[i + j];
      lo[j] = v < lo[j] ? v : lo[j];
      hi[j] = v > hi[j] ? v : hi[j];
      nan[j] |= v != v;
    }
  }
  for (size_t j = 0; i < n; ++i, ++j) {
    const float v = x[i];
    lo[j] = v < lo[j] ? v : lo[j];
    hi[j] = v > hi[j] ? v : hi[j];
    nan[j] |= v != v;
  }
  ValueRange r;
  int any_nan = 0;
  for (size_t j = 0; j < kLanes; ++j) {
    r.min = std::min(r.min, lo[j]);
    r.max = std::max(r.max, hi[j]);
    any_nan |= nan[j];
  }
  const bool clean = !any_nan && (n == 0 || (std::isfinite(r.min) && std::isfinite(r.max)));
  if (clean) return r;
  // Slow path: some value is NaN or infinite.
  r = ValueRange();
  int64_t bad = 0;
  for (i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) {
      ++bad;
      continue;
    }
    r.min = std::min(r.min, v);
    r.max = std::max(r.max, v);
  }
  if (nonfinite) *nonfinite += bad;
  return r;
}

// ---------------------------------------------------------------------------------------------
// MinMaxObserver

void MinMaxObserver::update(const float* data, size_t n) {
  merge_into(&observed_, finite_min_max(data, n, &nonfinite_));
}

// ---------------------------------------------------------------------------------------------
// HistogramObserver

HistogramObserver::HistogramObserver(const Options& options) : opt_(options) {
  opt_.bins = std::max(opt_.bins, 1);
  opt_.upsample_rate = std::max(opt_.upsample_rate, 1);
  opt_.dst_nbins = std::max(opt_.dst_nbins, 1);
}

// The bound torch 1.13 passes to torch.histc: int(tensor) truncates toward zero.
double HistogramObserver::histc_bound(float v) const {
  return opt_.flavor == Flavor::kTorch113 ? std::trunc(double(v)) : double(v);
}

// torch.histc(x, bins, min=lo, max=hi) on CPU (1.13): equal bounds fall back to the data's min and
// max, then to +-1; values outside [lo, hi] are dropped; bin = trunc((x - lo) * bins / (hi - lo))
// in float32, the last bin closed on the right.
void HistogramObserver::histc(const float* data, size_t n, double lo_d, double hi_d, const ValueRange& batch,
                              std::vector<float>* out) const {
  if (lo_d == hi_d) lo_d = batch.min, hi_d = batch.max;
  if (lo_d == hi_d) lo_d -= 1, hi_d += 1;
  const float lo = float(lo_d), hi = float(hi_d);
  const float nbins = float(opt_.bins), span = hi - lo;
  const int64_t last = opt_.bins - 1;
  std::vector<int64_t> counts(size_t(opt_.bins), 0);
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!(v >= lo && v <= hi)) continue;  // also drops NaN
    int64_t pos = int64_t((v - lo) * nbins / span);
    counts[size_t(std::clamp<int64_t>(pos, 0, last))] += 1;
  }
  out->assign(counts.begin(), counts.end());
}

void HistogramObserver::reset_with(const float* data, size_t n, const ValueRange& batch) {
  min_ = batch.min;
  max_ = batch.max;
  histc(data, n, histc_bound(min_), histc_bound(max_), batch, &hist_);
}

void HistogramObserver::update(const float* data, size_t n) {
  if (n == 0) return;
  const ValueRange batch = finite_min_max(data, n, &nonfinite_);
  if (batch.empty()) return;
  merge_into(&observed_, batch);

  const bool uninitialized = hist_.empty();
  const bool same_values = !uninitialized && min_ == max_;
  if (uninitialized || (same_values && opt_.flavor == Flavor::kTorch113)) {
    reset_with(data, n, batch);  // torch 1.13 forgets an all-equal history here
    return;
  }

  const int64_t bins = opt_.bins, up = opt_.upsample_rate;
  std::vector<float> combined;
  float cmin = std::min(batch.min, min_);
  float cmax = std::max(batch.max, max_);

  // _adjust_min_max, in float32 like torch: widen the max so that the new bin width is an
  // integer multiple (downsample_rate) of the upsampled old bin width.
  const float fine_width = (max_ - min_) / float(bins * up);
  const float old_span = float(bins) * fine_width;
  const float ratio = same_values ? kInf : (cmax - cmin) / old_span;
  if (!(ratio <= 1e12f)) {
    // Degenerate history (all earlier values equal, kFloatRange) or a range that grew by more
    // than 10^12 at once (torch would try to allocate bins * ratio floats): keep the history as a
    // point mass where it was.
    const double old_total = [&] {
      double s = 0;
      for (float h : hist_) s += h;
      return s;
    }();
    const float at = min_;
    if (cmin == cmax) {  // still all equal: same grid as the first batch
      histc(data, n, cmin, cmax, batch, &combined);
      for (size_t i = 0; i < hist_.size(); ++i) hist_[i] += combined[i];
      return;
    }
    histc(data, n, histc_bound(cmin), histc_bound(cmax), batch, &combined);
    const float pos = (at - cmin) * float(bins) / (cmax - cmin);
    combined[size_t(std::clamp<int64_t>(int64_t(pos), 0, bins - 1))] += float(old_total);
    hist_ = std::move(combined);
    min_ = cmin;
    max_ = cmax;
    return;
  }
  const int64_t downsample = int64_t(std::ceil(ratio));
  const float e = float(downsample) * old_span - (cmax - cmin);
  cmax = cmax + e;
  const int64_t start_idx = int64_t(std::nearbyint((min_ - cmin) / fine_width));

  histc(data, n, histc_bound(cmin), histc_bound(cmax), batch, &combined);
  if (cmin == min_ && cmax == max_) {
    for (size_t i = 0; i < combined.size(); ++i) combined[i] += hist_[i];
  } else {
    // _combine_histograms without materializing the bins * downsample fine grid: the old
    // histogram, each count repeated `up` times, sits at fine positions [start_idx,
    // start_idx + bins * up); integral[k] is the float64 running sum up to fine position
    // (k + 1) * downsample - 1, accumulated in the same order as torch.cumsum.
    const int64_t total_fine = bins * downsample;
    const int64_t p_end = std::min(start_idx + bins * up, total_fine);
    std::vector<double> integral(static_cast<size_t>(bins));
    double acc = 0;
    int64_t k = 0;
    for (int64_t p = start_idx; p < p_end; ++p) {
      while (k < bins && (k + 1) * downsample - 1 < p) integral[size_t(k++)] = acc;
      acc += double(hist_[size_t((p - start_idx) / up)]);
    }
    while (k < bins) integral[size_t(k++)] = acc;
    // torch stores the shifted integral in a float32 tensor before subtracting in float64.
    for (int64_t b = 0; b < bins; ++b) {
      const double shifted = b == 0 ? 0.0 : double(float(integral[size_t(b - 1)]));
      combined[size_t(b)] = combined[size_t(b)] + float((integral[size_t(b)] - shifted) / double(up));
    }
  }
  hist_ = std::move(combined);
  min_ = cmin;
  max_ = cmax;
}

double HistogramObserver::quantization_error(int next_start_bin, int next_end_bin) const {
  const int bins = opt_.bins;
  // Python floats (float64) in torch, then mixed with float32 tensors (which casts them).
  const double bin_width_d = (double(max_) - double(min_)) / bins;
  const double dst_bin_width_d = bin_width_d * (next_end_bin - next_start_bin + 1) / opt_.dst_nbins;
  if (dst_bin_width_d == 0.0) return 0.0;
  const float bin_width = float(bin_width_d);
  const float dst_bin_width = float(dst_bin_width_d);
  const float half = float(dst_bin_width_d / 2);
  const float neg_half = float(-dst_bin_width_d / 2);
  const float last_dst = float(opt_.dst_nbins - 1);
  const float half_cubed = half * half * half;
  const float neg_half_cubed = neg_half * neg_half * neg_half;
  // norm of one whole destination bin: _get_norm(-dst_bin_width / 2, dst_bin_width / 2)
  const float full_bin = (half_cubed - neg_half_cubed) / 3.0f;
  std::vector<float> norms(static_cast<size_t>(bins));
  for (int i = 0; i < bins; ++i) {
    const float src_begin = float(int64_t(i) - next_start_bin) * bin_width;
    const float src_end = src_begin + bin_width;
    const float dst_of_begin = clampf(floor_divide(src_begin, dst_bin_width), 0.0f, last_dst);
    const float dst_of_begin_center = (dst_of_begin + 0.5f) * dst_bin_width;
    const float dst_of_end = clampf(floor_divide(src_end, dst_bin_width), 0.0f, last_dst);
    const float density = hist_[size_t(i)] / bin_width;
    // part of the source bin in the destination bin of its begin
    const float db = src_begin - dst_of_begin_center;
    float norm = density * ((half_cubed - db * db * db) / 3.0f);
    // whole destination bins in between
    norm = norm + (dst_of_end - dst_of_begin - 1.0f) * (density * full_bin);
    // part in the destination bin of its end
    const float dst_of_end_center = dst_of_end * dst_bin_width + half;
    const float de = src_end - dst_of_end_center;
    norm = norm + density * ((de * de * de - neg_half_cubed) / 3.0f);
    norms[size_t(i)] = norm;
  }
  return torch_sum_f32(norms.data(), norms.size());
}

ValueRange HistogramObserver::range() const {
  if (hist_.empty()) return {};
  const int bins = opt_.bins;
  const float bin_width = (max_ - min_) / float(bins);
  const double total = torch_sum_f32(hist_.data(), hist_.size());
  // torch.cumsum on float32 accumulates in float64 and stores float32
  std::vector<float> csum(static_cast<size_t>(bins));
  double acc = 0;
  for (int i = 0; i < bins; ++i) csum[size_t(i)] = float(acc += hist_[size_t(i)]);

  const double stepsize = 1e-5;
  double alpha = 0.0, beta = 1.0;
  int start_bin = 0, end_bin = bins - 1;
  double norm_min = std::numeric_limits<double>::infinity();
  while (alpha < beta) {
    const double next_alpha = alpha + stepsize;
    const double next_beta = beta - stepsize;
    // Comparing a float32 tensor element with a Python float compares in float32.
    const float lower = float(next_alpha * total);
    const float upper = float(next_beta * total);
    int l = start_bin, r = end_bin;
    while (l < end_bin && csum[size_t(l)] < lower) ++l;
    while (r > start_bin && csum[size_t(r)] > upper) --r;
    int next_start_bin = start_bin, next_end_bin = end_bin;
    if ((l - start_bin) > (end_bin - r)) {
      next_start_bin = l;
      alpha = next_alpha;
    } else {
      next_end_bin = r;
      beta = next_beta;
    }
    if (next_start_bin == start_bin && next_end_bin == end_bin) continue;
    const double norm = quantization_error(next_start_bin, next_end_bin);
    if (norm > norm_min) break;
    norm_min = norm;
    start_bin = next_start_bin;
    end_bin = next_end_bin;
  }
  return {min_ + bin_width * float(start_bin), min_ + bin_width * float(end_bin + 1)};
}

// ---------------------------------------------------------------------------------------------
// PercentileObserver

PercentileObserver::PercentileObserver(const Options& options) : opt_(options) {
  opt_.percentile = std::clamp(opt_.percentile, 0.0, 100.0);
  opt_.max_bins = std::max(opt_.max_bins, 16);
}

// Makes counts_ cover bins [lo_bin, hi_bin] (in units of the current width), doubling the width
// (merging pairs of bins, exact because the grid is anchored at 0) until that fits in max_bins.
void PercentileObserver::grow_to(int64_t lo_bin, int64_t hi_bin) {
  lo_bin = std::min(lo_bin, first_bin_);
  hi_bin = std::max(hi_bin, first_bin_ + int64_t(counts_.size()) - 1);
  while (hi_bin - lo_bin + 1 > opt_.max_bins) {
    const int64_t new_first = first_bin_ >> 1;  // floor(k / 2), also for negative k
    std::vector<uint64_t> merged(size_t(((first_bin_ + int64_t(counts_.size()) - 1) >> 1) - new_first + 1), 0);
    for (size_t i = 0; i < counts_.size(); ++i) merged[size_t(((first_bin_ + int64_t(i)) >> 1) - new_first)] += counts_[i];
    counts_ = std::move(merged);
    first_bin_ = new_first;
    width_ *= 2;
    lo_bin >>= 1;
    hi_bin >>= 1;
  }
  if (lo_bin < first_bin_) {
    counts_.insert(counts_.begin(), size_t(first_bin_ - lo_bin), 0);
    first_bin_ = lo_bin;
  }
  const int64_t last = first_bin_ + int64_t(counts_.size()) - 1;
  if (hi_bin > last) counts_.resize(counts_.size() + size_t(hi_bin - last), 0);
}

void PercentileObserver::update(const float* data, size_t n) {
  if (n == 0) return;
  const ValueRange batch = finite_min_max(data, n, &nonfinite_);
  if (batch.empty()) return;
  merge_into(&observed_, batch);
  if (counts_.empty()) {
    // w = 2^k with the first batch spanning 4096..8192 bins (a constant batch: |v| / 1024).
    double span = double(batch.max) - double(batch.min);
    if (span == 0) span = std::max(std::fabs(double(batch.max)) / 1024.0, 1e-30);
    int exp2;
    std::frexp(span / 8192.0, &exp2);  // span / 8192 = m * 2^exp2, m in [0.5, 1)
    width_ = std::ldexp(1.0, exp2);
    first_bin_ = int64_t(std::floor(double(batch.min) / width_));
    counts_.assign(1, 0);
  }
  grow_to(int64_t(std::floor(double(batch.min) / width_)), int64_t(std::floor(double(batch.max) / width_)));
  const double inv_width = 1.0 / width_;  // exact: the width is a power of two
  const int64_t first = first_bin_, last = int64_t(counts_.size()) - 1;
  uint64_t* counts = counts_.data();
  uint64_t added = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) continue;
    const int64_t k = int64_t(std::floor(double(v) * inv_width)) - first;
    counts[std::clamp<int64_t>(k, 0, last)] += 1;
    ++added;
  }
  total_ += added;
}

double PercentileObserver::value_at_percentile(double q, bool abs) const {
  if (total_ == 0) return std::nan("");
  // The distribution to walk: bins of x, or of |x| (bin k < 0 folds onto bin -k - 1).
  std::vector<uint64_t> folded;
  const uint64_t* counts = counts_.data();
  size_t nbins = counts_.size();
  int64_t first = first_bin_;
  if (abs) {
    int64_t top = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      const int64_t k = first_bin_ + int64_t(i);
      top = std::max(top, k < 0 ? -k - 1 : k);
    }
    folded.assign(size_t(top + 1), 0);
    for (size_t i = 0; i < counts_.size(); ++i) {
      const int64_t k = first_bin_ + int64_t(i);
      folded[size_t(k < 0 ? -k - 1 : k)] += counts_[i];
    }
    counts = folded.data();
    nbins = folded.size();
    first = 0;
  }
  const double lo = abs ? 0.0 : double(observed_.min);
  const double hi = abs ? std::max(-double(observed_.min), double(observed_.max)) : double(observed_.max);
  // Value of the j-th smallest (0-based): inside a bin with c values they sit at (t + 0.5) / c;
  // the largest is the observed max (and without abs, the smallest is the observed min).
  const auto value_of_rank = [&](uint64_t j) {
    if (j + 1 == total_) return hi;
    if (j == 0 && !abs) return lo;
    uint64_t before = 0;
    for (size_t i = 0; i < nbins; ++i) {
      if (j < before + counts[i]) {
        const double t = (double(j - before) + 0.5) / double(counts[i]);
        return (double(first + int64_t(i)) + t) * width_;
      }
      before += counts[i];
    }
    return double(first + int64_t(nbins)) * width_;
  };
  const double rank = std::clamp(q, 0.0, 100.0) / 100.0 * double(total_ - 1);
  const uint64_t j = uint64_t(std::floor(rank));
  const double frac = rank - double(j);
  double v = value_of_rank(j);
  if (frac > 0 && j + 1 < total_) v += frac * (value_of_rank(j + 1) - v);
  return std::clamp(v, lo, hi);
}

ValueRange PercentileObserver::range() const {
  if (empty()) return {};
  const double p = opt_.percentile;
  if (opt_.mode == Mode::kAbs) {
    const double a = value_at_percentile(p, /*abs=*/true);
    return {float(std::max(-a, double(observed_.min))), float(std::min(a, double(observed_.max)))};
  }
  const double lo = value_at_percentile(100.0 - p), hi = value_at_percentile(p);
  return {float(std::min(lo, hi)), float(std::max(lo, hi))};
}

// ---------------------------------------------------------------------------------------------
// PerChannelMinMaxObserver

Status PerChannelMinMaxObserver::update(const float* data, const Shape& shape) {
  const int axis = normalize_axis(axis_, shape.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidArgument, "per-channel observer: axis ", axis_, " is out of range for shape ",
                  shape_str(shape));
  const int64_t channels = shape[size_t(axis)];
  if (ranges_.empty()) {
    ranges_.resize(size_t(channels));
    normalized_axis_ = axis;
  }
  CHECK_OR_RETURN(channels == int64_t(ranges_.size()), Error::InvalidArgument, "per-channel observer: shape ",
                  shape_str(shape), " has ", channels, " channels along axis ", axis_, ", earlier tensors had ",
                  ranges_.size());
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= shape[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      merge_into(&ranges_[size_t(c)], finite_min_max(data + (o * channels + c) * inner, size_t(inner), &nonfinite_));
  return Status::OK();
}

Status PerChannelMinMaxObserver::update(const TensorData& t) {
  CHECK_OR_RETURN(t.dtype == DType::F32, Error::InvalidArgument, "per-channel observer: expected an f32 tensor, got ",
                  dtype_name(t.dtype));
  return update(t.data<float>(), t.shape);
}

QuantParams PerChannelMinMaxObserver::qparams(const QuantSpec& spec) const {
  QuantParams q;
  q.axis = normalized_axis_;
  for (const ValueRange& r : ranges_) {
    ScaleZeroPoint s = compute_scale_zero_point(r.min, r.max, spec);
    q.scale.push_back(s.scale);
    q.zero_point.push_back(s.zero_point);
  }
  return q;
}

}  // namespace neutron
