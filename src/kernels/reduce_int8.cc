#include "kernels/reduce_int8.h"

#include <cmath>

namespace neutron {

// The odometer of reduce.cc's run_reduce, accumulating int8 into int32: sum(q) per output, then
// minus count * z_in (the same integer as sum(q - z_in), with one multiply per output).
void reduce_sum_int8(const ReduceInt8Params& p, const int8_t* x, int8_t* y, void* scratch) {
  const ReduceParams& r = p.shape;
  int32_t* acc = static_cast<int32_t*>(scratch);
  for (int64_t i = 0; i < r.out_count; ++i) acc[i] = 0;
  if (r.in_count > 0) {
    if (r.rank == 0) {
      acc[0] = x[0];
    } else {
      const int last = r.rank - 1;
      const int64_t n = r.dims[last];
      const bool row_reduced = r.reduced[last];
      const int64_t outer = r.in_count / n;
      int64_t idx[kMaxReduceRank] = {0};
      int64_t yo = 0;
      for (int64_t o = 0; o < outer; ++o) {
        const int8_t* xr = x + o * n;
        if (row_reduced) {
          int32_t s = 0;
          for (int64_t j = 0; j < n; ++j) s += xr[j];
          acc[yo] += s;
        } else {
          int32_t* ar = acc + yo;
          for (int64_t j = 0; j < n; ++j) ar[j] += xr[j];
        }
        for (int d = last - 1; d >= 0; --d) {
          yo += r.out_strides[d];
          if (++idx[d] < r.dims[d]) break;
          yo -= r.out_strides[d] * r.dims[d];
          idx[d] = 0;
        }
      }
    }
  }
  const int32_t zero_sum = int32_t(r.reduce_count) * p.input_zero_point;
  for (int64_t i = 0; i < r.out_count; ++i)
    y[i] = requantize_to_int8(acc[i] - zero_sum, p.multiplier, p.output_zero_point);
}

void l2_normalize_int8(const L2NormInt8Params& p, const int8_t* x, int8_t* y) {
  const int64_t zi = p.input_zero_point;
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t i = 0; i < p.inner; ++i) {
      const int8_t* xr = x + o * p.n * p.inner + i;
      int8_t* yr = y + o * p.n * p.inner + i;
      int64_t ss = 0;
      for (int64_t k = 0; k < p.n; ++k) {
        const int64_t v = int64_t(xr[k * p.inner]) - zi;
        ss += v * v;
      }
      double d = std::sqrt(double(ss));
      if (d < p.eps_over_in_scale) d = p.eps_over_in_scale;
      for (int64_t k = 0; k < p.n; ++k) {
        const double v = d > 0 ? double(int64_t(xr[k * p.inner]) - zi) / d : 0.0;
        yr[k * p.inner] = int8_t(quantize_real(v, p.out_scale, p.output_zero_point, -128, 127));
      }
    }
}

}  // namespace neutron
