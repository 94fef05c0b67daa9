#include "kernels/in_place_int8.h"

namespace neutron {

void conv2d_int8_nhwc_in_place(const Conv2DInt8Params& p, const int8_t* weights_ohwi, int32_t ic_stride,
                               const int32_t* bias, const FixedMultiplier* multipliers, const int8_t* in, int8_t* out) {
  const int32_t cin_g = p.in_c / p.groups, cout_g = p.out_c / p.groups;
  const size_t oc_stride = size_t(p.kernel_h) * size_t(p.kernel_w) * size_t(ic_stride);
  const int32_t zi = p.input_zero_point;
  for (int32_t n = 0; n < p.batch; ++n)
    for (int32_t oy = 0; oy < p.out_h; ++oy)
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        int8_t* o = out + ((size_t(n) * p.out_h + oy) * p.out_w + ox) * size_t(p.out_c);
        for (int32_t oc = 0; oc < p.out_c; ++oc) {
          const int32_t g = oc / cout_g;
          const int8_t* w_oc = weights_ohwi + size_t(oc) * oc_stride;
          int32_t acc = bias[oc];
          for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
            const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
            if (iy < 0 || iy >= p.in_h) continue;
            for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
              const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
              if (ix < 0 || ix >= p.in_w) continue;
              const int8_t* x = in + ((size_t(n) * p.in_h + iy) * p.in_w + ix) * size_t(p.in_c) + size_t(g) * cin_g;
              const int8_t* w = w_oc + (size_t(ky) * p.kernel_w + kx) * size_t(ic_stride);
              // sum (x - zi) * w as sum x * w - zi * sum w: a plain dot product the compiler vectorizes.
              int32_t s = 0, sw = 0;
              for (int32_t ic = 0; ic < cin_g; ++ic) {
                s += int32_t(x[ic]) * int32_t(w[ic]);
                sw += int32_t(w[ic]);
              }
              acc += s - zi * sw;
            }
          }
          o[oc] = requantize_to_int8(acc, multipliers[oc], p.output_zero_point, p.qmin, p.qmax);
        }
      }
}

void fully_connected_int8_in_place(const FullyConnectedInt8InPlace& p, const int8_t* in, int8_t* out) {
  const int32_t zi = p.input_zero_point;
  for (int32_t r = 0; r < p.rows; ++r) {
    const int8_t* x = in + size_t(r) * size_t(p.in_features);
    int8_t* y = out + size_t(r) * size_t(p.out_features);
    for (int32_t n = 0; n < p.out_features; ++n) {
      const int8_t* w = p.weights + size_t(n) * size_t(p.row_stride);
      int32_t acc = p.bias[n];
      int32_t s = 0, sw = 0;
      for (int32_t k = 0; k < p.in_features; ++k) {
        s += int32_t(x[k]) * int32_t(w[k]);
        sw += int32_t(w[k]);
      }
      acc += s - zi * sw;
      y[n] = requantize_to_int8(acc, p.multipliers[p.per_channel ? n : 0], p.output_zero_point, p.qmin, p.qmax);
    }
  }
}

}  // namespace neutron
