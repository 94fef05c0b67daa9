// Observers: streaming statistics over the values a tensor takes during calibration, turned into
// int8 quantization parameters at the end. Host code; every activation of every calibration
// sample goes through update(), so update() is written for speed.
//
//   Observer                    range it proposes                              PyTorch counterpart
//   MinMaxObserver              [min, max] of everything seen                  MinMaxObserver
//   HistogramObserver           [min, max] shrunk to minimize an L2 estimate   HistogramObserver (1.13)
//                               of the quantization error (see below)
//   PercentileObserver          percentiles of x (or of |x|), see below        (none)
//   PerChannelMinMaxObserver    per-channel [min, max] along one axis          PerChannelMinMaxObserver
//
// The range becomes (scale, zero point) with compute_qparams(), which is torch's
// UniformQuantizationObserverBase._calculate_qparams evaluated in float32 like torch does, so the
// parameters are bit-identical to torch's for the same range:
//
//   affine     min' = min(min, 0), max' = max(max, 0)       (the range always contains 0)
//              scale = max((max' - min') / (qmax - qmin), eps)
//              zero_point = clamp(qmin - round_half_even(min' / scale), qmin, qmax)
//   symmetric  scale = max(max(-min', max') / ((qmax - qmin) / 2), eps)
//              zero_point = 0 for a signed range (qmin < 0), else (qmin + qmax + 1) / 2
//
// The Neutron scheme (docs: neutron-backend-facts.md section 4) uses
//   activations  QuantSpec::int8_activation()  affine    [-128, 127]  eps 2^-12
//   weights      QuantSpec::int8_weight()      symmetric [-127, 127]  eps 2^-12
// per tensor, or per channel (axis 0 for Conv, 1 for ConvTranspose) with PerChannelMinMaxObserver.
//
// Non-finite values (NaN, +-Inf) are skipped by every observer and counted in nonfinite_count();
// torch 1.13 lets them poison the range instead. An observer that saw no finite value is empty()
// and yields scale 1, zero point 0, as torch does for an observer that never ran.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/quant_params.h"
#include "core/shape.h"
#include "core/status.h"
#include "core/tensor_data.h"

namespace neutron {

// The Neutron quantizer's eps: the smallest scale it produces.
constexpr float kNeutronQuantEps = 1.0f / 4096.0f;  // 2^-12

enum class QScheme : uint8_t { kAffine, kSymmetric };

struct QuantSpec {
  QScheme scheme = QScheme::kAffine;
  int32_t qmin = -128;
  int32_t qmax = 127;
  float eps = kNeutronQuantEps;

  // Neutron activations: int8 per-tensor affine [-128, 127], eps 2^-12.
  static QuantSpec int8_activation() { return {QScheme::kAffine, -128, 127, kNeutronQuantEps}; }
  // Neutron weights: int8 symmetric [-127, 127] (zero point 0), eps 2^-12.
  static QuantSpec int8_weight() { return {QScheme::kSymmetric, -127, 127, kNeutronQuantEps}; }
};

// A closed value range. Empty (min = +inf, max = -inf) until a finite value is seen.
struct ValueRange {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool empty() const { return !(min <= max); }
};

// torch's _calculate_qparams for one [min, max] (see the header comment). An empty or invalid range
// (min > max, NaN) gives scale 1, zero point 0 like torch's check_min_max_valid.
struct ScaleZeroPoint {
  float scale = 1.0f;
  int32_t zero_point = 0;
};
ScaleZeroPoint compute_scale_zero_point(float min, float max, const QuantSpec& spec);
QuantParams compute_qparams(const ValueRange& range, const QuantSpec& spec);

// Finite min and max of data[0, n) in one pass; counts the non-finite values it skipped.
ValueRange finite_min_max(const float* data, size_t n, int64_t* nonfinite = nullptr);

class Observer {
 public:
  virtual ~Observer() = default;
  // Folds n values into the statistics (n = 0 is a no-op). NaN and +-Inf are skipped and counted.
  virtual void update(const float* data, size_t n) = 0;
  // The range proposed for quantization. May be expensive (HistogramObserver runs its search):
  // call it once, after calibration.
  virtual ValueRange range() const = 0;
  virtual const char* name() const = 0;

  // Exact min and max of all finite values seen.
  const ValueRange& observed() const { return observed_; }
  bool empty() const { return observed_.empty(); }
  int64_t nonfinite_count() const { return nonfinite_; }
  QuantParams qparams(const QuantSpec& spec) const { return compute_qparams(range(), spec); }

 protected:
  ValueRange observed_;
  int64_t nonfinite_ = 0;
};

class MinMaxObserver final : public Observer {
 public:
  void update(const float* data, size_t n) override;
  ValueRange range() const override { return observed_; }
  const char* name() const override { return "minmax"; }
};

// PyTorch's HistogramObserver (torch/ao/quantization/observer.py, torch 1.13), reimplemented with
// the same float32/float64 arithmetic so that it picks the same range as torch on the same data.
//
// State: `bins` counts over [min, max] (the observed range, possibly relaxed upwards, see 3).
//  1. First batch: histogram of the batch over its own [min, max].
//  2. A later batch inside the current range: its histogram over the same grid is added.
//  3. A batch that widens the range: the new range is [min(min, batch min), max(max, batch max) + e],
//     with e >= 0 chosen so that the new bin width is an integer multiple `d` (the downsample rate)
//     of old width / upsample_rate. The old histogram is upsampled `upsample_rate` times (each count
//     spread evenly), shifted to where the old min falls, and every `d` consecutive fine bins are
//     summed into one new bin; the batch's own histogram over the new grid is added.
//  Range search (range()): torch's _non_linear_param_search, a port of caffe2's
//  NormMinimization::NonlinearQuantizationParamsSearch. Starting from all bins, move either the
//  first or the last bin inwards, whichever side the next 1e-5 quantile step (of the cumulative
//  count) moves further, while the estimated L2 quantization error keeps decreasing. The error
//  estimate (_compute_quantization_error) treats each source bin as a uniform density and
//  integrates (x - nearest destination bin center)^2 over it, for `dst_nbins` (256) destination
//  bins spread evenly over the candidate range; clipped values count with the error of the edge
//  bin they are clamped into.
class HistogramObserver final : public Observer {
 public:
  enum class Flavor : uint8_t {
    // Bit-for-bit torch 1.13, including two defects of that version:
    //  * it calls torch.histc(x, min=int(lo), max=int(hi)): the bounds are truncated toward zero,
    //    so values outside [trunc(lo), trunc(hi)] are dropped and the counts sit on a grid that
    //    differs from the [lo, hi] the observer assumes (when trunc(lo) == trunc(hi), histc falls
    //    back to the batch's own min and max);
    //  * after a batch whose values were all equal, the next batch restarts the histogram from
    //    that batch alone (the earlier values are forgotten).
    kTorch113,
    // The same algorithm with the histogram over the exact float [lo, hi]; after an all-equal
    // batch, its values are kept as a point mass in the bin that contains them.
    kFloatRange,
  };
  struct Options {
    int bins = 2048;
    int upsample_rate = 128;
    int dst_nbins = 256;  // 2^bits of the quantized type
    Flavor flavor = Flavor::kTorch113;
  };

  HistogramObserver() : HistogramObserver(Options{}) {}
  explicit HistogramObserver(const Options& options);

  void update(const float* data, size_t n) override;
  ValueRange range() const override;
  const char* name() const override { return "histogram"; }

  // The histogram and the range it covers (the observed range, the max possibly relaxed upwards).
  const std::vector<float>& histogram() const { return hist_; }
  ValueRange histogram_range() const { return {min_, max_}; }
  const Options& options() const { return opt_; }

  // torch's _compute_quantization_error for destination range [start_bin, end_bin] of the current
  // histogram (exposed for tests).
  double quantization_error(int start_bin, int end_bin) const;

 private:
  void reset_with(const float* data, size_t n, const ValueRange& batch);
  void histc(const float* data, size_t n, double lo, double hi, const ValueRange& batch, std::vector<float>* out) const;
  double histc_bound(float v) const;

  Options opt_;
  float min_ = std::numeric_limits<float>::infinity();
  float max_ = -std::numeric_limits<float>::infinity();
  std::vector<float> hist_;
};

// Percentile range. With `percentile` p (e.g. 99.99):
//   kPerSide:  [P(100 - p), P(p)] of the values x
//   kAbs:      a = P(p) of |x|, range [max(-a, min x), min(a, max x)]  (symmetric unless a side
//              has fewer values: for ReLU outputs it is [0, a])
// P(q) is NumPy's default percentile, np.percentile(x, q): linear interpolation between the order
// statistics around rank q / 100 * (N - 1) of the N finite values seen. The order statistics are
// read from a histogram, not from sorted values: the t-th of the c values in bin [a, a + w) is
// taken at a + (t + 0.5) / c * w, the largest value seen (and, per side, the smallest) exactly. So
// P is within one bin width w of NumPy's, P(100) and P(0) are exact, and the result is clamped to
// the observed [min, max]. The bins have width w = 2^k and are anchored at 0 (bin i = [i w,
// (i + 1) w)); w is chosen from the first batch so that it spans 4096 to 8192 bins, and doubled
// (adjacent bins merged, exactly) whenever the observed range would need more than `max_bins`.
// Memory: max_bins 64-bit counters.
class PercentileObserver final : public Observer {
 public:
  enum class Mode : uint8_t { kPerSide, kAbs };
  struct Options {
    double percentile = 99.99;
    Mode mode = Mode::kPerSide;
    int max_bins = 16384;
  };
  PercentileObserver() : PercentileObserver(Options{}) {}
  explicit PercentileObserver(const Options& options);

  void update(const float* data, size_t n) override;
  ValueRange range() const override;
  const char* name() const override { return "percentile"; }

  // P(q) of x (kAbs: of |x| when abs = true) as defined above; NaN when empty.
  double value_at_percentile(double q, bool abs = false) const;
  double bin_width() const { return width_; }

 private:
  void grow_to(int64_t lo_bin, int64_t hi_bin);
  Options opt_;
  double width_ = 0;           // w, a power of two
  int64_t first_bin_ = 0;      // index (in units of w) of counts_[0]
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
};

// Per-channel min/max along `axis` (weights: 0 for Conv/Gemm, 1 for ConvTranspose).
class PerChannelMinMaxObserver {
 public:
  explicit PerChannelMinMaxObserver(int axis = 0) : axis_(axis) {}
  // Errors (InvalidArgument) when the axis is out of range or the channel count changes.
  Status update(const float* data, const Shape& shape);
  Status update(const TensorData& t);  // f32 only

  int axis() const { return axis_; }
  int64_t channels() const { return int64_t(ranges_.size()); }
  const std::vector<ValueRange>& ranges() const { return ranges_; }
  int64_t nonfinite_count() const { return nonfinite_; }
  // One scale and zero point per channel; QuantParams::axis = the normalized axis.
  QuantParams qparams(const QuantSpec& spec) const;

 private:
  int axis_;
  int normalized_axis_ = 0;
  std::vector<ValueRange> ranges_;
  int64_t nonfinite_ = 0;
};

}  // namespace neutron
