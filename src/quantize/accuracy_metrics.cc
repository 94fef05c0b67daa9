#include "quantize/accuracy_metrics.h"

#include <cmath>
#include <limits>

namespace neutron {

int64_t argmax(const TensorData& t, int64_t begin, int64_t n) {
  int64_t best = 0;
  double best_v = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    double v = t.get_as_double(begin + i);
    if (v > best_v) {
      best_v = v;
      best = i;
    }
  }
  return best;
}

void OutputAgreement::add(const TensorData& ref, const TensorData& test) {
  ++samples_;
  const int64_t n = ref.count();
  for (int64_t i = 0; i < n; ++i) {
    const double a = ref.get_as_double(i), b = test.get_as_double(i);
    const double d = a - b;
    max_abs_ = std::max(max_abs_, std::fabs(d));
    sq_err_ += d * d;
    sq_ref_ += a * a;
    sq_test_ += b * b;
    dot_ += a * b;
  }
  count_ += n;
  const int64_t row = ref.shape.empty() ? 1 : ref.shape.back();
  if (row > 1) {
    for (int64_t r = 0; r + row <= n; r += row) {
      ++rows_;
      top1_same_ += argmax(ref, r, row) == argmax(test, r, row);
    }
  }
}

double OutputAgreement::sqnr_db() const {
  if (sq_err_ == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sq_ref_ / sq_err_);
}

double OutputAgreement::cosine() const {
  if (sq_ref_ == 0 || sq_test_ == 0) return sq_ref_ == sq_test_ ? 1.0 : 0.0;
  return dot_ / std::sqrt(sq_ref_ * sq_test_);
}

}  // namespace neutron
