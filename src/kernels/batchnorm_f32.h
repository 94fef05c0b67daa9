// float32 BatchNormalization (inference): y = (x - mean[c]) * multiplier[c] + bias[c], with
// multiplier = scale / sqrt(var + epsilon) folded once by batchnorm_f32_fold.
//
// x and y are [outer, channels, inner]: NCHW has outer = N, inner = H * W; NHWC (channels last) has
// outer = N * H * W, inner = 1.
#pragma once
#include <cstdint>

namespace neutron {

struct BatchNormF32Params {
  int64_t outer = 1, channels = 0, inner = 1;
  const float* mean = nullptr;        // [channels]
  const float* multiplier = nullptr;  // [channels]: scale / sqrt(var + epsilon)
  const float* bias = nullptr;        // [channels]: B
};

// multiplier[c] = scale[c] / sqrt(var[c] + epsilon), computed in double and rounded once.
void batchnorm_f32_fold(int64_t channels, const float* scale, const float* var, double epsilon, float* multiplier);

void batchnorm_f32(const BatchNormF32Params& p, const float* x, float* y);

}  // namespace neutron
