#include "kernels/resize_int8.h"

#include <cmath>

namespace neutron {
namespace {

int64_t clamp_index(int64_t i, int64_t len) { return i < 0 ? 0 : (i >= len ? len - 1 : i); }

// One output pixel's `n` channels from its four source pixels.
inline void blend(const int8_t* __restrict a, const int8_t* __restrict b, const int8_t* __restrict c,
                  const int8_t* __restrict d, int32_t w00, int32_t w01, int32_t w10, int32_t w11, int32_t zero_sum,
                  int64_t n, FixedMultiplier m, int32_t zo, int8_t* __restrict y) {
  for (int64_t ch = 0; ch < n; ++ch) {
    const int32_t acc = w00 * a[ch] + w01 * b[ch] + w10 * c[ch] + w11 * d[ch] - zero_sum;
    y[ch] = requantize_to_int8(acc, m, zo);
  }
}

// The same when M is a power of two 2^-s, s in [1, 30] (the same quantization in and out:
// s = 22): round_shift_half_even() in int32 (|acc| < 2^30), which vectorizes. Equal to blend().
inline void blend_shift(const int8_t* __restrict a, const int8_t* __restrict b, const int8_t* __restrict c,
                        const int8_t* __restrict d, int32_t w00, int32_t w01, int32_t w10, int32_t w11,
                        int32_t zero_sum, int64_t n, int s, int32_t zo, int8_t* __restrict y) {
  const int32_t half = int32_t(1) << (s - 1), mask = (int32_t(1) << s) - 1;
  for (int64_t ch = 0; ch < n; ++ch) {
    const int32_t acc = w00 * a[ch] + w01 * b[ch] + w10 * c[ch] + w11 * d[ch] - zero_sum;
    const int32_t fl = acc >> s, rem = acc & mask;
    // Up when rem > half, or rem == half and fl is odd (ties to even).
    int32_t q = fl + (rem + (fl & 1) > half ? 1 : 0) + zo;
    q = q < -128 ? -128 : q;
    q = q > 127 ? 127 : q;
    y[ch] = int8_t(q);
  }
}

}  // namespace

void resize_linear_table_int8(ResizeCoordMode mode, int64_t in_len, int64_t out_len, double scale,
                              ResizeLinearTapInt8* taps) {
  for (int64_t o = 0; o < out_len; ++o) {
    const double c = resize_source_coord(mode, o, in_len, out_len, scale);
    const double fl = std::floor(c);
    // nearbyint: the default rounding mode, to nearest with ties to even.
    int64_t w1 = int64_t(std::nearbyint((c - fl) * double(kResizeLinearInt8One)));
    int64_t i0 = int64_t(fl), i1 = int64_t(fl) + 1;
    if (w1 >= kResizeLinearInt8One) {  // rounds up to the next sample
      i0 = i1;
      w1 = 0;
    }
    ResizeLinearTapInt8 t;
    t.i0 = int32_t(clamp_index(i0, in_len));
    t.i1 = int32_t(clamp_index(i1, in_len));
    t.w1 = int32_t(w1);
    if (t.w1 == 0 || t.i0 == t.i1) {
      t.i1 = t.i0;
      t.w1 = 0;
    }
    taps[o] = t;
  }
}

bool resize_linear_table_int8_is_identity(int64_t in_len, int64_t out_len, const ResizeLinearTapInt8* taps) {
  if (in_len != out_len) return false;
  for (int64_t o = 0; o < out_len; ++o)
    if (!(taps[o].i0 == o && (taps[o].w1 == 0 || taps[o].i1 == o))) return false;
  return true;
}

bool resize_linear_table_int8_valid(int64_t in_len, int64_t out_len, const ResizeLinearTapInt8* taps) {
  for (int64_t o = 0; o < out_len; ++o) {
    const ResizeLinearTapInt8& t = taps[o];
    if (t.i0 < 0 || t.i0 >= in_len || t.i1 < 0 || t.i1 >= in_len || t.w1 < 0 || t.w1 >= kResizeLinearInt8One)
      return false;
  }
  return true;
}

bool resize_bilinear_int8_multiplier(double input_scale, double output_scale, FixedMultiplier* out) {
  if (!(input_scale > 0) || !(output_scale > 0)) return false;
  return quantize_multiplier(std::ldexp(input_scale / output_scale, -2 * kResizeLinearInt8FracBits), out);
}

void resize_bilinear_int8(const ResizeBilinearInt8Params& p, const int8_t* x, int8_t* y) {
  const int64_t inner = p.inner;
  const int64_t in_row = p.in_w * inner;  // elements per input row
  // sum of the four weights is 2^22, so subtracting z_in once per output is sum(w * (q - z_in)).
  const int32_t zero_sum = p.input_zero_point * (kResizeLinearInt8One * kResizeLinearInt8One);
  // M = 2^30 * 2^-shift = 2^-(shift - 30): a plain rounding shift.
  const int pow2_shift =
      p.multiplier.multiplier == (int32_t(1) << 30) && p.multiplier.shift > 30 && p.multiplier.shift <= 60
          ? p.multiplier.shift - 30
          : 0;
  for (int64_t o = 0; o < p.outer; ++o) {
    const int8_t* xo = x + o * p.in_h * in_row;
    for (int64_t oy = 0; oy < p.out_h; ++oy) {
      const ResizeLinearTapInt8 ty = p.taps_h[oy];
      const int32_t wy1 = ty.w1, wy0 = kResizeLinearInt8One - ty.w1;
      const int8_t* r0 = xo + ty.i0 * in_row;
      const int8_t* r1 = xo + ty.i1 * in_row;
      for (int64_t ox = 0; ox < p.out_w; ++ox) {
        const ResizeLinearTapInt8 tx = p.taps_w[ox];
        const int32_t wx1 = tx.w1, wx0 = kResizeLinearInt8One - tx.w1;
        const int32_t w00 = wy0 * wx0, w01 = wy0 * wx1, w10 = wy1 * wx0, w11 = wy1 * wx1;
        const int8_t *a = r0 + tx.i0 * inner, *b = r0 + tx.i1 * inner, *c = r1 + tx.i0 * inner,
                     *d = r1 + tx.i1 * inner;
        if (pow2_shift > 0)
          blend_shift(a, b, c, d, w00, w01, w10, w11, zero_sum, inner, pow2_shift, p.output_zero_point, y);
        else
          blend(a, b, c, d, w00, w01, w10, w11, zero_sum, inner, p.multiplier, p.output_zero_point, y);
        y += inner;
      }
    }
  }
}

}  // namespace neutron
