#include "kernels/conv_int8.h"

#include <cstring>

#include "kernels/gemm_int8.h"

namespace neutron {
namespace {

constexpr int32_t kTilePixels = 32;  // output pixels gathered per im2col tile

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define NEUTRON_CONV_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NEUTRON_CONV_CLONES
#endif

constexpr size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

bool is_pointwise(const Conv2DInt8Params& p) {
  return p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
         p.pad_left == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
}

int32_t patch_size(const Conv2DInt8Params& p) { return p.kernel_h * p.kernel_w * (p.in_c / p.groups); }

// Writes the im2col row of output pixel (oy, ox) for group g: [ky][kx][ic_in_group].
void gather_patch(const Conv2DInt8Params& p, const int8_t* in_n, int32_t oy, int32_t ox, int32_t g, int8_t* dst) {
  const int32_t cin_g = p.in_c / p.groups;
  const int8_t zp = int8_t(p.input_zero_point);
  for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
    const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
    if (iy < 0 || iy >= p.in_h) {
      std::memset(dst, zp, size_t(p.kernel_w) * size_t(cin_g));
      dst += size_t(p.kernel_w) * size_t(cin_g);
      continue;
    }
    const int8_t* row = in_n + size_t(iy) * size_t(p.in_w) * size_t(p.in_c) + size_t(g) * size_t(cin_g);
    for (int32_t kx = 0; kx < p.kernel_w; ++kx, dst += cin_g) {
      const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
      if (ix < 0 || ix >= p.in_w)
        std::memset(dst, zp, size_t(cin_g));
      else
        std::memcpy(dst, row + size_t(ix) * size_t(p.in_c), size_t(cin_g));
    }
  }
}

void conv_general(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, uint8_t* scratch_bytes) {
  const int32_t cout_g = p.out_c / p.groups;
  const int32_t cin_g = p.in_c / p.groups;
  const int32_t K = patch_size(p);
  int8_t* scratch = reinterpret_cast<int8_t*>(scratch_bytes);
  QGemmInt8Params gp;
  gp.scratch = reinterpret_cast<int16_t*>(
      scratch_bytes + (is_pointwise(p) ? 0 : align64(size_t(kTilePixels) * size_t(K))));
  gp.cols = cout_g;
  gp.depth = K;
  gp.output_zero_point = p.output_zero_point;
  gp.qmin = p.qmin;
  gp.qmax = p.qmax;
  const auto set_group = [&](int32_t g) {
    gp.weights = p.weights + size_t(g) * size_t(cout_g) * size_t(K);
    gp.bias = p.bias + size_t(g) * size_t(cout_g);
    gp.multipliers = p.multipliers + size_t(g) * size_t(cout_g);
  };
  if (is_pointwise(p)) {
    gp.rows = p.batch * p.in_h * p.in_w;
    for (int32_t g = 0; g < p.groups; ++g) {
      set_group(g);
      qgemm_int8(gp, in + size_t(g) * size_t(cin_g), size_t(p.in_c), out + size_t(g) * size_t(cout_g), size_t(p.out_c));
    }
    return;
  }
  const int32_t pixels = p.out_h * p.out_w;
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(p.in_c);
    int8_t* out_n = out + size_t(n) * size_t(pixels) * size_t(p.out_c);
    for (int32_t start = 0; start < pixels; start += kTilePixels) {
      const int32_t count = pixels - start < kTilePixels ? pixels - start : kTilePixels;
      gp.rows = count;
      for (int32_t g = 0; g < p.groups; ++g) {
        for (int32_t i = 0; i < count; ++i) {
          const int32_t pix = start + i;
          gather_patch(p, in_n, pix / p.out_w, pix % p.out_w, g, scratch + size_t(i) * size_t(K));
        }
        set_group(g);
        qgemm_int8(gp, scratch, size_t(K), out_n + size_t(start) * size_t(p.out_c) + size_t(g) * size_t(cout_g),
                   size_t(p.out_c));
      }
    }
  }
}

// acc[c] += xs[c / mult] * w[c] over one tap; xs holds the input minus its zero point.
NEUTRON_CONV_CLONES
void depthwise_tap(const int16_t* __restrict xs, const int16_t* __restrict w, int32_t* __restrict acc, int32_t C,
                   int32_t mult) {
  if (mult == 1) {
    for (int32_t c = 0; c < C; ++c) acc[c] += int32_t(xs[c]) * int32_t(w[c]);
  } else {
    for (int32_t c = 0; c < C; ++c)
      for (int32_t j = 0; j < mult; ++j) acc[c * mult + j] += int32_t(xs[c]) * int32_t(w[c * mult + j]);
  }
}

void conv_depthwise(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, uint8_t* scratch) {
  const int32_t C = p.in_c, OC = p.out_c, mult = p.out_c / p.in_c;
  const int32_t zi = p.input_zero_point;
  int32_t* acc = reinterpret_cast<int32_t*>(scratch);
  int16_t* xs = reinterpret_cast<int16_t*>(scratch + align64(size_t(OC) * sizeof(int32_t)));
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(C);
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        for (int32_t oc = 0; oc < OC; ++oc) acc[oc] = p.bias[oc];
        for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
          const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
          if (iy < 0 || iy >= p.in_h) continue;
          for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
            const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            if (ix < 0 || ix >= p.in_w) continue;
            const int8_t* __restrict x = in_n + (size_t(iy) * size_t(p.in_w) + size_t(ix)) * size_t(C);
            for (int32_t c = 0; c < C; ++c) xs[c] = int16_t(int32_t(x[c]) - zi);
            depthwise_tap(xs, p.weights + size_t(ky * p.kernel_w + kx) * size_t(OC), acc, C, mult);
          }
        }
        int8_t* o = out + ((size_t(n) * size_t(p.out_h) + size_t(oy)) * size_t(p.out_w) + size_t(ox)) * size_t(OC);
        for (int32_t oc = 0; oc < OC; ++oc)
          o[oc] = requantize_to_int8(acc[oc], p.multipliers[oc], p.output_zero_point, p.qmin, p.qmax);
      }
    }
  }
}

}  // namespace

void conv2d_int8_choose_path(Conv2DInt8Params* p) {
  p->depthwise = p->groups > 1 && p->groups == p->in_c && p->out_c % p->in_c == 0;
}

size_t conv2d_int8_packed_weights_size(const Conv2DInt8Params& p) {
  return size_t(p.out_c) * size_t(patch_size(p));
}

void conv2d_int8_pack(const Conv2DInt8Params& p, const int8_t* w, const int32_t* bias, int16_t* packed,
                      int32_t* bias_out) {
  const int32_t cin_g = p.in_c / p.groups, kh = p.kernel_h, kw = p.kernel_w;
  const auto w_at = [&](int32_t oc, int32_t ic, int32_t ky, int32_t kx) {
    return w[((size_t(oc) * size_t(cin_g) + size_t(ic)) * size_t(kh) + size_t(ky)) * size_t(kw) + size_t(kx)];
  };
  if (p.depthwise) {
    for (int32_t ky = 0; ky < kh; ++ky)
      for (int32_t kx = 0; kx < kw; ++kx)
        for (int32_t oc = 0; oc < p.out_c; ++oc)
          packed[size_t(ky * kw + kx) * size_t(p.out_c) + size_t(oc)] = w_at(oc, 0, ky, kx);
    for (int32_t oc = 0; oc < p.out_c; ++oc) bias_out[oc] = bias ? bias[oc] : 0;
    return;
  }
  const int32_t K = patch_size(p);
  for (int32_t oc = 0; oc < p.out_c; ++oc)
    for (int32_t ky = 0; ky < kh; ++ky)
      for (int32_t kx = 0; kx < kw; ++kx)
        for (int32_t ic = 0; ic < cin_g; ++ic)
          packed[size_t(oc) * size_t(K) + size_t(ky * kw + kx) * size_t(cin_g) + size_t(ic)] = w_at(oc, ic, ky, kx);
  fold_zero_point_into_bias(packed, K, p.out_c, bias, p.input_zero_point, bias_out);
}

size_t conv2d_int8_scratch_bytes(const Conv2DInt8Params& p) {
  if (p.depthwise) return align64(size_t(p.out_c) * sizeof(int32_t)) + size_t(p.in_c) * sizeof(int16_t);
  const size_t gemm = qgemm_int8_scratch_bytes(patch_size(p));
  if (is_pointwise(p)) return gemm;
  return align64(size_t(kTilePixels) * size_t(patch_size(p))) + gemm;
}

void conv2d_int8_nhwc(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, void* scratch) {
  if (p.depthwise)
    conv_depthwise(p, in, out, static_cast<uint8_t*>(scratch));
  else
    conv_general(p, in, out, static_cast<uint8_t*>(scratch));
}

}  // namespace neutron
