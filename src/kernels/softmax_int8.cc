#include "kernels/softmax_int8.h"

#include <cmath>

#include "kernels/requantize.h"

namespace neutron {

void prepare_softmax_int8(double in_scale, double out_scale, int32_t out_zero_point, double* table,
                          SoftmaxInt8Params* p) {
  p->out_scale = out_scale;
  p->out_zero_point = out_zero_point;
  for (int d = 0; d < 256; ++d) table[d] = std::exp(-in_scale * double(d));
  p->exp_table = table;
}

void softmax_int8(const SoftmaxInt8Params& p, const int8_t* in, int8_t* out) {
  const int64_t n = p.axis, s = p.inner;
  for (int64_t o = 0; o < p.outer; ++o) {
    for (int64_t i = 0; i < s; ++i) {
      const int8_t* x = in + o * n * s + i;
      int8_t* y = out + o * n * s + i;
      int32_t mx = -128;
      for (int64_t k = 0; k < n; ++k) mx = x[k * s] > mx ? x[k * s] : mx;
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) sum += p.exp_table[mx - x[k * s]];
      const double denom = sum * p.out_scale;
      for (int64_t k = 0; k < n; ++k) {
        // quantize_real(e / sum, s_out, z_out), with the division folded into one.
        double q = std::nearbyint(p.exp_table[mx - x[k * s]] / denom) + p.out_zero_point;
        y[k * s] = int8_t(q < -128 ? -128 : (q > 127 ? 127 : q));
      }
    }
  }
}

}  // namespace neutron
