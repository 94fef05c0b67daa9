#include "kernels/layer_norm_f32.h"

#include <cmath>

namespace neutron {

void layer_norm_f32(const LayerNormParams& p, const float* x, const float* scale, const float* bias, float* y) {
  for (int64_t r = 0; r < p.rows; ++r) {
    const float* xr = x + r * p.n;
    float* yr = y + r * p.n;
    double sum = 0;
    for (int64_t i = 0; i < p.n; ++i) sum += xr[i];
    const double mean = p.n > 0 ? sum / double(p.n) : 0.0;
    double sq = 0;
    for (int64_t i = 0; i < p.n; ++i) {
      const double d = xr[i] - mean;
      sq += d * d;
    }
    const double var = p.n > 0 ? sq / double(p.n) : 0.0;
    const float inv = float(1.0 / std::sqrt(var + double(p.epsilon)));
    const float m = float(mean);
    for (int64_t i = 0; i < p.n; ++i) yr[i] = (xr[i] - m) * inv * scale[i] + (bias ? bias[i] : 0.f);
  }
}

}  // namespace neutron
