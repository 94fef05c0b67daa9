#include "kernels/in_place_int8.h"

namespace neutron {

namespace {

// acc[j] += sum_k (x[k] - zi) * w_j[k] for `n` (1..4) weight rows sharing one x: (x - zi) is
// computed once per element and each weight byte is loaded once (what a Cortex-M33 without SIMD
// is bound by).
inline void dot_rows(const int8_t* x, int32_t zi, const int8_t* const* w, int n, int32_t len, int32_t* acc) {
  if (n == 4) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    for (int32_t k = 0; k < len; ++k) {
      const int32_t xv = int32_t(x[k]) - zi;
      a0 += xv * w0[k];
      a1 += xv * w1[k];
      a2 += xv * w2[k];
      a3 += xv * w3[k];
    }
    acc[0] += a0;
    acc[1] += a1;
    acc[2] += a2;
    acc[3] += a3;
    return;
  }
  for (int j = 0; j < n; ++j) {
    int32_t a = 0;
    const int8_t* wj = w[j];
    for (int32_t k = 0; k < len; ++k) a += (int32_t(x[k]) - zi) * wj[k];
    acc[j] += a;
  }
}

// Taps [*k0, *k1) of a window axis that fall inside [0, in) (dilation d, first tap at `start`).
inline void valid_taps(int32_t start, int32_t d, int32_t k, int32_t in, int32_t* k0, int32_t* k1) {
  int32_t a = 0, b = k;
  while (a < b && start + a * d < 0) ++a;
  while (b > a && start + (b - 1) * d >= in) --b;
  *k0 = a;
  *k1 = b;
}

// One output pixel of a conv with one input channel per group (depthwise, any multiplier):
// per output channel, a loop over the taps inside the image.
void depthwise_pixel(const Conv2DInt8Params& p, const int8_t* w, size_t oc_stride, int32_t ic_stride,
                     const int32_t* bias, const FixedMultiplier* mult, const int8_t* in, int32_t n, int32_t oy,
                     int32_t ox, int8_t* o) {
  const int32_t iy0 = oy * p.stride_h - p.pad_top, ix0 = ox * p.stride_w - p.pad_left;
  int32_t ky0, ky1, kx0, kx1;
  valid_taps(iy0, p.dilation_h, p.kernel_h, p.in_h, &ky0, &ky1);
  valid_taps(ix0, p.dilation_w, p.kernel_w, p.in_w, &kx0, &kx1);
  const int32_t zi = p.input_zero_point, cout_g = p.out_c / p.groups;
  const size_t row = size_t(p.in_w) * size_t(p.in_c), col = size_t(p.dilation_w) * size_t(p.in_c);
  const int8_t* img = in + size_t(n) * size_t(p.in_h) * row;
  for (int32_t oc = 0; oc < p.out_c; ++oc) {
    const int32_t g = cout_g == 1 ? oc : oc / cout_g;
    const int8_t* w_oc = w + size_t(oc) * oc_stride;
    int32_t acc = bias[oc];
    for (int32_t ky = ky0; ky < ky1; ++ky) {
      const int8_t* x = img + size_t(iy0 + ky * p.dilation_h) * row + size_t(ix0 + kx0 * p.dilation_w) * p.in_c + g;
      const int8_t* wk = w_oc + (size_t(ky) * p.kernel_w + kx0) * size_t(ic_stride);
      for (int32_t kx = kx0; kx < kx1; ++kx, x += col, wk += ic_stride) acc += (int32_t(*x) - zi) * int32_t(*wk);
    }
    o[oc] = requantize_to_int8(acc, mult[oc], p.output_zero_point, p.qmin, p.qmax);
  }
}

}  // namespace

void conv2d_int8_nhwc_in_place(const Conv2DInt8Params& p, const int8_t* weights_ohwi, int32_t ic_stride,
                               const int32_t* bias, const FixedMultiplier* multipliers, const int8_t* in, int8_t* out) {
  const int32_t cin_g = p.in_c / p.groups, cout_g = p.out_c / p.groups;
  const size_t oc_stride = size_t(p.kernel_h) * size_t(p.kernel_w) * size_t(ic_stride);
  const int32_t zi = p.input_zero_point;
  for (int32_t n = 0; n < p.batch; ++n)
    for (int32_t oy = 0; oy < p.out_h; ++oy)
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        int8_t* o = out + ((size_t(n) * p.out_h + oy) * p.out_w + ox) * size_t(p.out_c);
        if (cin_g == 1) {  // depthwise: one input channel per output channel
          depthwise_pixel(p, weights_ohwi, oc_stride, ic_stride, bias, multipliers, in, n, oy, ox, o);
          continue;
        }
        for (int32_t g = 0; g < p.groups; ++g)
          for (int32_t oc0 = g * cout_g; oc0 < (g + 1) * cout_g; oc0 += 4) {
            const int nb = (g + 1) * cout_g - oc0 < 4 ? int((g + 1) * cout_g - oc0) : 4;
            int32_t acc[4] = {0, 0, 0, 0};
            for (int j = 0; j < nb; ++j) acc[j] = bias[oc0 + j];
            for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
              const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
              if (iy < 0 || iy >= p.in_h) continue;  // padding holds zi: adds nothing
              for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
                const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
                if (ix < 0 || ix >= p.in_w) continue;
                const int8_t* x = in + ((size_t(n) * p.in_h + iy) * p.in_w + ix) * size_t(p.in_c) + size_t(g) * cin_g;
                const size_t tap = (size_t(ky) * p.kernel_w + kx) * size_t(ic_stride);
                const int8_t* w[4];
                for (int j = 0; j < nb; ++j) w[j] = weights_ohwi + size_t(oc0 + j) * oc_stride + tap;
                dot_rows(x, zi, w, nb, cin_g, acc);
              }
            }
            for (int j = 0; j < nb; ++j)
              o[oc0 + j] = requantize_to_int8(acc[j], multipliers[oc0 + j], p.output_zero_point, p.qmin, p.qmax);
          }
      }
}

void fully_connected_int8_in_place(const FullyConnectedInt8InPlace& p, const int8_t* in, int8_t* out) {
  for (int32_t r = 0; r < p.rows; ++r) {
    const int8_t* x = in + size_t(r) * size_t(p.in_features);
    int8_t* y = out + size_t(r) * size_t(p.out_features);
    for (int32_t n0 = 0; n0 < p.out_features; n0 += 4) {
      const int nb = p.out_features - n0 < 4 ? int(p.out_features - n0) : 4;
      int32_t acc[4] = {0, 0, 0, 0};
      const int8_t* w[4];
      for (int j = 0; j < nb; ++j) {
        acc[j] = p.bias[n0 + j];
        w[j] = p.weights + size_t(n0 + j) * size_t(p.row_stride);
      }
      dot_rows(x, p.input_zero_point, w, nb, p.in_features, acc);
      for (int j = 0; j < nb; ++j)
        y[n0 + j] = requantize_to_int8(acc[j], p.multipliers[p.per_channel ? n0 + j : 0], p.output_zero_point,
                                       p.qmin, p.qmax);
    }
  }
}

}  // namespace neutron
