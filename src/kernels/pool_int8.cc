#include "kernels/pool_int8.h"

#include <cstring>

namespace neutron {
namespace {

inline int8_t requant_max(int32_t m, const PoolInt8Params& p) {
  if (!p.requantize) return int8_t(clamp_i32(m, p.qmin, p.qmax));
  return requantize_to_int8(m - p.input_zero_point, p.multiplier, p.output_zero_point, p.qmin, p.qmax);
}

}  // namespace

void max_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out) {
  const int32_t C = p.channels;
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(C);
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        int8_t* __restrict o = out + ((size_t(n) * size_t(p.out_h) + size_t(oy)) * size_t(p.out_w) + size_t(ox)) * size_t(C);
        bool any = false;
        for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
          const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
          if (iy < 0 || iy >= p.in_h) continue;
          for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
            const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            if (ix < 0 || ix >= p.in_w) continue;
            const int8_t* __restrict x = in_n + (size_t(iy) * size_t(p.in_w) + size_t(ix)) * size_t(C);
            if (!any) {
              std::memmove(o, x, size_t(C));
              any = true;
            } else {
              for (int32_t c = 0; c < C; ++c) o[c] = x[c] > o[c] ? x[c] : o[c];
            }
          }
        }
        // A window entirely in the padding has no valid tap; ONNX gives -inf, which saturates.
        if (!any) std::memset(o, -128, size_t(C));
        if (p.requantize || p.qmin > -128 || p.qmax < 127)
          for (int32_t c = 0; c < C; ++c) o[c] = any ? requant_max(o[c], p) : int8_t(p.qmin);
      }
    }
  }
}

void average_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out, void* scratch) {
  const int32_t C = p.channels;
  int32_t* __restrict acc = static_cast<int32_t*>(scratch);
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(C);
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      int32_t y0 = oy * p.stride_h - p.pad_top;
      int32_t y1 = y0 + p.kernel_h;
      if (y1 > p.in_h + p.pad_bottom) y1 = p.in_h + p.pad_bottom;
      const int32_t span_h = y1 - y0;
      if (y0 < 0) y0 = 0;
      if (y1 > p.in_h) y1 = p.in_h;
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        int32_t x0 = ox * p.stride_w - p.pad_left;
        int32_t x1 = x0 + p.kernel_w;
        if (x1 > p.in_w + p.pad_right) x1 = p.in_w + p.pad_right;
        const int32_t span_w = x1 - x0;
        if (x0 < 0) x0 = 0;
        if (x1 > p.in_w) x1 = p.in_w;
        const int32_t valid = (y1 > y0 && x1 > x0) ? (y1 - y0) * (x1 - x0) : 0;
        const int32_t count = p.count_include_pad ? span_h * span_w : valid;
        std::memset(acc, 0, size_t(C) * sizeof(int32_t));
        for (int32_t iy = y0; iy < y1; ++iy)
          for (int32_t ix = x0; ix < x1; ++ix) {
            const int8_t* __restrict x = in_n + (size_t(iy) * size_t(p.in_w) + size_t(ix)) * size_t(C);
            for (int32_t c = 0; c < C; ++c) acc[c] += x[c];
          }
        int8_t* o = out + ((size_t(n) * size_t(p.out_h) + size_t(oy)) * size_t(p.out_w) + size_t(ox)) * size_t(C);
        if (count <= 0) {  // no tap at all: ONNX gives NaN, QuantizeLinear maps it to the zero point
          for (int32_t c = 0; c < C; ++c) o[c] = int8_t(clamp_i32(p.output_zero_point, p.qmin, p.qmax));
          continue;
        }
        const FixedMultiplier m = p.count_multipliers[count];
        const int32_t zsum = valid * p.input_zero_point;
        for (int32_t c = 0; c < C; ++c) o[c] = requantize_to_int8(acc[c] - zsum, m, p.output_zero_point, p.qmin, p.qmax);
      }
    }
  }
}

void global_max_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out) {
  const int32_t C = p.channels;
  const size_t hw = size_t(p.in_h) * size_t(p.in_w);
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * hw * size_t(C);
    int8_t* __restrict o = out + size_t(n) * size_t(C);
    std::memmove(o, in_n, size_t(C));
    for (size_t i = 1; i < hw; ++i) {
      const int8_t* __restrict x = in_n + i * size_t(C);
      for (int32_t c = 0; c < C; ++c) o[c] = x[c] > o[c] ? x[c] : o[c];
    }
    for (int32_t c = 0; c < C; ++c) o[c] = requant_max(o[c], p);
  }
}

void global_average_pool_int8_nhwc(const PoolInt8Params& p, const int8_t* in, int8_t* out, void* scratch) {
  const int32_t C = p.channels;
  const size_t hw = size_t(p.in_h) * size_t(p.in_w);
  int32_t* __restrict acc = static_cast<int32_t*>(scratch);
  const int32_t zsum = int32_t(hw) * p.input_zero_point;
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * hw * size_t(C);
    std::memset(acc, 0, size_t(C) * sizeof(int32_t));
    for (size_t i = 0; i < hw; ++i) {
      const int8_t* __restrict x = in_n + i * size_t(C);
      for (int32_t c = 0; c < C; ++c) acc[c] += x[c];
    }
    int8_t* o = out + size_t(n) * size_t(C);
    for (int32_t c = 0; c < C; ++c)
      o[c] = requantize_to_int8(acc[c] - zsum, p.multiplier, p.output_zero_point, p.qmin, p.qmax);
  }
}

}  // namespace neutron
