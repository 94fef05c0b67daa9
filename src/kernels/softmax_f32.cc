// See unary_f32.cc: lets GCC vectorize the exp_f32() loops.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "kernels/softmax_f32.h"

#include <cmath>

#include "kernels/exp_f32.h"

namespace neutron {

namespace {

// Max and sum of a row with eight independent lanes: vectorizes without reassociation flags.
inline float row_max(const float* x, int64_t n) {
  float m[8];
  for (int k = 0; k < 8; ++k) m[k] = x[0];
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
  for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
  float r = m[0];
  for (int k = 1; k < 8; ++k) r = m[k] > r ? m[k] : r;
  return r;
}

inline float row_sum(const float* x, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += x[i + k];
  float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i) r += x[i];
  return r;
}

}  // namespace

void softmax_f32(const SoftmaxParams& p, const float* x, float* y, float* scratch) {
  const int64_t n = p.axis, inner = p.inner;
  if (n == 0 || inner == 0) return;
  if (inner == 1) {
    for (int64_t o = 0; o < p.outer; ++o) {
      const float* xr = x + o * n;
      float* yr = y + o * n;
      const float m = row_max(xr, n);
      for (int64_t i = 0; i < n; ++i) yr[i] = exp_f32(xr[i] - m);
      const float inv = 1.f / row_sum(yr, n);
      for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
    }
    return;
  }
  float* mx = scratch;
  float* sum = scratch + inner;
  for (int64_t o = 0; o < p.outer; ++o) {
    const float* xp = x + o * n * inner;
    float* yp = y + o * n * inner;
    for (int64_t j = 0; j < inner; ++j) mx[j] = xp[j];
    for (int64_t i = 1; i < n; ++i) {
      const float* xr = xp + i * inner;
      for (int64_t j = 0; j < inner; ++j) mx[j] = xr[j] > mx[j] ? xr[j] : mx[j];
    }
    for (int64_t j = 0; j < inner; ++j) sum[j] = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float* xr = xp + i * inner;
      float* yr = yp + i * inner;
      for (int64_t j = 0; j < inner; ++j) {
        const float e = exp_f32(xr[j] - mx[j]);
        yr[j] = e;
        sum[j] += e;
      }
    }
    for (int64_t j = 0; j < inner; ++j) sum[j] = 1.f / sum[j];
    for (int64_t i = 0; i < n; ++i) {
      float* yr = yp + i * inner;
      for (int64_t j = 0; j < inner; ++j) yr[j] *= sum[j];
    }
  }
}

}  // namespace neutron
