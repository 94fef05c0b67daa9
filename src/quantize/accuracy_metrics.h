// Agreement between a reference output and a test output, accumulated over samples
// (`neutron compare`, accuracy reports).
#pragma once
#include <cstdint>

#include "core/tensor_data.h"

namespace neutron {

class OutputAgreement {
 public:
  // Adds one sample: `ref` and `test` have the same shape; top-1 is taken over the last axis.
  void add(const TensorData& ref, const TensorData& test);

  int64_t samples() const { return samples_; }
  double max_abs_error() const { return max_abs_; }
  double mse() const { return count_ ? sq_err_ / double(count_) : 0; }
  // 10 log10(sum ref^2 / sum (ref - test)^2); +inf when identical.
  double sqnr_db() const;
  double cosine() const;
  double top1_agreement() const { return rows_ ? double(top1_same_) / double(rows_) : 0; }

 private:
  int64_t samples_ = 0, count_ = 0, rows_ = 0, top1_same_ = 0;
  double max_abs_ = 0, sq_err_ = 0, sq_ref_ = 0, sq_test_ = 0, dot_ = 0;
};

// Index of the largest element in [begin, begin + n) of a float tensor viewed flat.
int64_t argmax(const TensorData& t, int64_t begin, int64_t n);

}  // namespace neutron
