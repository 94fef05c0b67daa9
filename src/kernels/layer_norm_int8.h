// int8 LayerNormalization over the last dimension (rows of n elements). With d = q - z_in, per row:
//   m = sum(d) / n,  var = (n * sum(d^2) - sum(d)^2) / n^2   (integer sums, exact)
//   inv = 1 / sqrt(var + eps_q)                               (eps_q = epsilon / s_in^2)
//   out[j] = clamp(nearbyint((d[j] - m) * inv * a[j] + b[j]), act_min, act_max)
// with a[j] = gamma[j] / s_out and b[j] = beta[j] / s_out + z_out precomputed by the lowering, all in
// IEEE double (basic operations and sqrt, correctly rounded: the same bits on every target).
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

struct LayerNormInt8Params {
  int64_t rows = 0, n = 0;
  int32_t in_zero_point = 0;
  int32_t act_min = -128, act_max = 127;
  double eps_q = 0;
  const double* a = nullptr;  // [n]
  const double* b = nullptr;  // [n]
};

void layer_norm_int8(const LayerNormInt8Params& p, const int8_t* x, int8_t* y);

}  // namespace neutron
