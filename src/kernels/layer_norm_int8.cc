#include "kernels/layer_norm_int8.h"

#include <cmath>

namespace neutron {

void layer_norm_int8(const LayerNormInt8Params& p, const int8_t* x, int8_t* y) {
  const double n = double(p.n);
  for (int64_t r = 0; r < p.rows; ++r) {
    const int8_t* xr = x + r * p.n;
    int8_t* yr = y + r * p.n;
    int64_t s1 = 0, s2 = 0;
    for (int64_t i = 0; i < p.n; ++i) {
      const int64_t d = int64_t(xr[i]) - p.in_zero_point;
      s1 += d;
      s2 += d * d;
    }
    const double m = double(s1) / n;
    const double var = double(p.n * s2 - s1 * s1) / (n * n);
    const double inv = 1.0 / std::sqrt(var + p.eps_q);
    for (int64_t i = 0; i < p.n; ++i) {
      const double d = double(int64_t(xr[i]) - p.in_zero_point);
      double q = std::nearbyint((d - m) * inv * p.a[i] + p.b[i]);
      if (!(q == q)) q = 0;
      yr[i] = int8_t(q < p.act_min ? p.act_min : (q > p.act_max ? p.act_max : q));
    }
  }
}

}  // namespace neutron
