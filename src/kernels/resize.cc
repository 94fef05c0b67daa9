#include "kernels/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace neutron {
namespace {

int64_t clamp_index(int64_t i, int64_t len) { return i < 0 ? 0 : (i >= len ? len - 1 : i); }

// The last axis a with a table (+1), i.e. axes [0, d) hold every non-identity axis.
template <typename Table>
int leading_axes(const ResizeParams& p, const Table* const* tables) {
  int d = p.rank;
  while (d > 0 && tables[d - 1] == nullptr) --d;
  return d;
}

template <typename T>
void nearest_axis(const ResizeParams& p, int a, int d, const int64_t* in_stride, size_t inner, const T* x, T*& y) {
  const int64_t* t = p.nearest[a];
  const int64_t n = p.out_shape[a];
  if (a == d - 1) {
    if (inner == 1) {
      for (int64_t o = 0; o < n; ++o) *y++ = x[(t ? t[o] : o) * in_stride[a]];
    } else {
      for (int64_t o = 0; o < n; ++o, y += inner) std::memmove(y, x + (t ? t[o] : o) * in_stride[a], inner * sizeof(T));
    }
    return;
  }
  for (int64_t o = 0; o < n; ++o) nearest_axis(p, a + 1, d, in_stride, inner, x + (t ? t[o] : o) * in_stride[a], y);
}

}  // namespace

double resize_source_coord(ResizeCoordMode mode, int64_t x, int64_t in_len, int64_t out_len, double scale) {
  double resized = scale * double(in_len);
  if (std::fabs(resized - double(out_len)) <= 1e-9 * std::max(1.0, double(out_len))) resized = double(out_len);
  const double xd = double(x);
  switch (mode) {
    case ResizeCoordMode::kHalfPixel: return (xd + 0.5) / scale - 0.5;
    case ResizeCoordMode::kHalfPixelSymmetric: {
      const double adjustment = double(out_len) / resized;
      const double offset = double(in_len) / 2 * (1 - adjustment);
      return offset + (xd + 0.5) / scale - 0.5;
    }
    case ResizeCoordMode::kPytorchHalfPixel: return resized == 1.0 ? -0.5 : (xd + 0.5) / scale - 0.5;
    case ResizeCoordMode::kAlignCorners: return resized == 1.0 ? 0.0 : xd * double(in_len - 1) / (resized - 1);
    case ResizeCoordMode::kAsymmetric: return xd / scale;
    case ResizeCoordMode::kTfHalfPixelForNearest: return (xd + 0.5) / scale;
  }
  return 0.0;
}

void resize_nearest_table(ResizeCoordMode mode, ResizeNearestMode nearest, int64_t in_len, int64_t out_len,
                          double scale, int64_t* idx) {
  for (int64_t o = 0; o < out_len; ++o) {
    const double c = resize_source_coord(mode, o, in_len, out_len, scale);
    const double fl = std::floor(c);
    int64_t i = int64_t(fl);
    if (c != fl) {
      const double ratio = c - fl;
      bool up = false;
      switch (nearest) {
        case ResizeNearestMode::kRoundPreferFloor: up = ratio > 0.5; break;
        case ResizeNearestMode::kRoundPreferCeil: up = ratio >= 0.5; break;
        case ResizeNearestMode::kFloor: up = false; break;
        case ResizeNearestMode::kCeil: up = true; break;
      }
      i += up ? 1 : 0;
    }
    idx[o] = clamp_index(i, in_len);
  }
}

bool resize_nearest_table_is_identity(int64_t in_len, int64_t out_len, const int64_t* idx) {
  if (in_len != out_len) return false;
  for (int64_t o = 0; o < out_len; ++o)
    if (idx[o] != o) return false;
  return true;
}

void resize_linear_table(ResizeCoordMode mode, int64_t in_len, int64_t out_len, double scale, ResizeLinearTap* taps) {
  for (int64_t o = 0; o < out_len; ++o) {
    const double c = resize_source_coord(mode, o, in_len, out_len, scale);
    const double fl = std::floor(c);
    ResizeLinearTap t;
    t.i0 = clamp_index(int64_t(fl), in_len);
    if (c == fl) {
      t.i1 = t.i0;
      t.w1 = 0.0f;
    } else {
      t.i1 = clamp_index(int64_t(fl) + 1, in_len);
      t.w1 = float(c - fl);
    }
    taps[o] = t;
  }
}

bool resize_linear_table_is_identity(int64_t in_len, int64_t out_len, const ResizeLinearTap* taps) {
  if (in_len != out_len) return false;
  for (int64_t o = 0; o < out_len; ++o)
    if (!(taps[o].i0 == o && (taps[o].w1 == 0.0f || taps[o].i1 == o))) return false;
  return true;
}

template <typename T>
void resize_nearest(const ResizeParams& p, const T* x, T* y) {
  const int d = leading_axes(p, p.nearest);
  int64_t in_stride[kResizeMaxRank];
  int64_t s = 1;
  for (int a = p.rank - 1; a >= 0; --a) {
    in_stride[a] = s;
    s *= p.in_shape[a];
  }
  if (d == 0) {
    std::memmove(y, x, size_t(s) * sizeof(T));
    return;
  }
  size_t inner = 1;
  for (int a = d; a < p.rank; ++a) inner *= size_t(p.out_shape[a]);
  for (int a = 0; a < d; ++a)
    if (p.out_shape[a] == 0) return;
  nearest_axis(p, 0, d, in_stride, inner, x, y);
}
template void resize_nearest<float>(const ResizeParams&, const float*, float*);
template void resize_nearest<int8_t>(const ResizeParams&, const int8_t*, int8_t*);
template void resize_nearest<uint8_t>(const ResizeParams&, const uint8_t*, uint8_t*);
template void resize_nearest<int32_t>(const ResizeParams&, const int32_t*, int32_t*);
template void resize_nearest<int64_t>(const ResizeParams&, const int64_t*, int64_t*);

size_t resize_linear_f32_scratch_floats(const ResizeParams& p) {
  int64_t cur[kResizeMaxRank];
  std::copy(p.in_shape, p.in_shape + p.rank, cur);
  int passes = 0;
  int64_t largest = 0;
  for (int a = p.rank - 1; a >= 0; --a) {
    if (!p.linear[a]) continue;
    if (passes > 0) {  // the previous pass wrote an intermediate
      int64_t n = 1;
      for (int i = 0; i < p.rank; ++i) n *= cur[i];
      largest = std::max(largest, n);
    }
    cur[a] = p.out_shape[a];
    ++passes;
  }
  if (passes <= 1) return 0;
  return size_t(largest) * (passes >= 3 ? 2 : 1);
}

void resize_linear_f32(const ResizeParams& p, const float* x, float* y, float* scratch) {
  int passes = 0;
  for (int a = 0; a < p.rank; ++a) passes += p.linear[a] ? 1 : 0;
  if (passes == 0) {
    int64_t n = 1;
    for (int a = 0; a < p.rank; ++a) n *= p.in_shape[a];
    std::memmove(y, x, size_t(n) * sizeof(float));
    return;
  }
  const size_t half = passes >= 3 ? resize_linear_f32_scratch_floats(p) / 2 : 0;
  int64_t cur[kResizeMaxRank];
  std::copy(p.in_shape, p.in_shape + p.rank, cur);
  const float* src = x;
  int done = 0;
  for (int a = p.rank - 1; a >= 0; --a) {
    const ResizeLinearTap* taps = p.linear[a];
    if (!taps) continue;
    float* dst = done == passes - 1 ? y : scratch + (done % 2) * half;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < a; ++i) outer *= cur[i];
    for (int i = a + 1; i < p.rank; ++i) inner *= cur[i];
    const int64_t in_len = cur[a], out_len = p.out_shape[a];
    for (int64_t oo = 0; oo < outer; ++oo) {
      const float* sb = src + oo * in_len * inner;
      float* db = dst + oo * out_len * inner;
      for (int64_t o = 0; o < out_len; ++o) {
        const ResizeLinearTap t = taps[o];
        const float* s0 = sb + t.i0 * inner;
        const float* s1 = sb + t.i1 * inner;
        float* d = db + o * inner;
        const float w1 = t.w1, w0 = 1.0f - t.w1;
        for (int64_t i = 0; i < inner; ++i) d[i] = w0 * s0[i] + w1 * s1[i];
      }
    }
    cur[a] = out_len;
    src = dst;
    ++done;
  }
}

}  // namespace neutron
