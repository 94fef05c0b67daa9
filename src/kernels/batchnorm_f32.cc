#include "kernels/batchnorm_f32.h"

#include <cmath>

namespace neutron {

void batchnorm_f32_fold(int64_t channels, const float* scale, const float* var, double epsilon, float* multiplier) {
  for (int64_t c = 0; c < channels; ++c) multiplier[c] = float(double(scale[c]) / std::sqrt(double(var[c]) + epsilon));
}

void batchnorm_f32(const BatchNormF32Params& p, const float* x, float* y) {
  const int64_t C = p.channels;
  if (p.inner == 1) {  // channels last: vectorize over channels
    for (int64_t o = 0; o < p.outer; ++o) {
      const float* xp = x + o * C;
      float* yp = y + o * C;
      for (int64_t c = 0; c < C; ++c) yp[c] = (xp[c] - p.mean[c]) * p.multiplier[c] + p.bias[c];
    }
    return;
  }
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t c = 0; c < C; ++c) {
      const float m = p.mean[c], k = p.multiplier[c], b = p.bias[c];
      const float* xp = x + (o * C + c) * p.inner;
      float* yp = y + (o * C + c) * p.inner;
      for (int64_t i = 0; i < p.inner; ++i) yp[i] = (xp[i] - m) * k + b;
    }
}

}  // namespace neutron
