#include "kernels/conv2d_f32.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu_isa.h"
#include "kernels/f32_isa.h"
#include "kernels/gemm_f32.h"

namespace neutron {
namespace {

bool has_clamp(float lo, float hi) {
  return lo > -std::numeric_limits<float>::infinity() || hi < std::numeric_limits<float>::infinity();
}
void clamp_inplace(float* y, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(y[i], lo), hi);
}

// Taps k in [*lo, *hi) with 0 <= start + k * dilation < len.
inline void valid_taps(int64_t start, int64_t dilation, int64_t kernel, int64_t len, int64_t* lo, int64_t* hi) {
  int64_t l = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  int64_t h = start > len - 1 ? 0 : std::min(kernel, (len - 1 - start) / dilation + 1);
  *lo = std::min(l, kernel);
  *hi = std::max(h, *lo);
}

// ---- im2col + GEMM ----

// Input row ih of image n, from the first channel of group g.
inline const float* x_row(const Conv2DF32Params& p, const float* x, int64_t n, int64_t ih, int64_t g) {
  return x + ((n * p.in_h + ih) * p.in_w) * p.in_c + g * p.in_c_group;
}

size_t group_packed_floats(const Conv2DF32Params& p) { return gemm_f32_packed_b_floats(p.gemm_k, p.out_c_group); }

// Columns [k0, k0 + kc) of im2col rows [m0, m0 + rows) of group g, written to dst (row stride kc).
struct Im2colFill {
  const Conv2DF32Params* p;
  const float* x;
  int64_t g;
};

inline void copy_or_zero(float* dst, const float* src, int64_t n) {
  if (n <= 0) return;
  if (n <= 16) {  // few channels (a network's first convolution): no library call per run
    for (int64_t i = 0; i < n; ++i) dst[i] = src ? src[i] : 0.0f;
    return;
  }
  if (src)
    std::memcpy(dst, src, sizeof(float) * size_t(n));
  else
    std::memset(dst, 0, sizeof(float) * size_t(n));
}

void im2col_fill(const void* ctx, int64_t m0, int64_t rows, int64_t k0, int64_t kc, float* dst) {
  const Im2colFill& f = *static_cast<const Im2colFill*>(ctx);
  const Conv2DF32Params& p = *f.p;
  const int64_t cg = p.in_c_group;
  const int64_t out_hw = p.out_h * p.out_w;
  const int64_t seg = p.kernel_w * cg;  // one kh row of taps
  const int64_t k1 = k0 + kc;
  const bool contiguous_taps = p.groups == 1 && p.dilation_w == 1;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t m = m0 + r;
    const int64_t n = m / out_hw;
    const int64_t oh = (m % out_hw) / p.out_w;
    const int64_t ow = m % p.out_w;
    const int64_t ih0 = oh * p.stride_h - p.pad_top;
    const int64_t iw0 = ow * p.stride_w - p.pad_left;
    int64_t kw_lo, kw_hi;
    valid_taps(iw0, p.dilation_w, p.kernel_w, p.in_w, &kw_lo, &kw_hi);
    float* out = dst + r * kc - k0;  // out[k] for k in [k0, k1)
    for (int64_t kh = k0 / seg; kh * seg < k1; ++kh) {
      const int64_t s0 = std::max(kh * seg, k0), s1 = std::min((kh + 1) * seg, k1);
      const int64_t ih = ih0 + kh * p.dilation_h;
      if (ih < 0 || ih >= p.in_h) {
        copy_or_zero(out + s0, nullptr, s1 - s0);
        continue;
      }
      const float* xrow = x_row(p, f.x, n, ih, f.g);
      if (contiguous_taps) {
        // Offset o in the kh row is input float iw0 * in_c + o; valid for o in [kw_lo, kw_hi) * cg.
        const int64_t v0 = std::min(std::max(kh * seg + kw_lo * cg, s0), s1);
        const int64_t v1 = std::max(std::min(kh * seg + kw_hi * cg, s1), v0);
        copy_or_zero(out + s0, nullptr, v0 - s0);
        copy_or_zero(out + v0, xrow + iw0 * p.in_c + (v0 - kh * seg), v1 - v0);
        copy_or_zero(out + v1, nullptr, s1 - v1);
        continue;
      }
      for (int64_t kw = (s0 - kh * seg) / cg; kh * seg + kw * cg < s1; ++kw) {
        const int64_t t0 = std::max(kh * seg + kw * cg, s0), t1 = std::min(kh * seg + (kw + 1) * cg, s1);
        const bool inside = kw >= kw_lo && kw < kw_hi;
        copy_or_zero(out + t0, inside ? xrow + (iw0 + kw * p.dilation_w) * p.in_c + (t0 - kh * seg - kw * cg) : nullptr,
                     t1 - t0);
      }
    }
  }
}

// ---- implicit GEMM (one group, no width dilation) ----
// The receptive field of output pixel (oh, ow) in a zero-padded copy of the image (Hp x Wp) is
// kernel_h runs of kernel_w * C adjacent floats starting at pixel (oh, ow) of the copy. Over the
// padded width, pixel v = oh * Wp + ow starts v * C floats in, so the GEMM reads A in place with
// row stride C; the Wp - out_w pixels per row past the output are computed into a dummy row.
// Same blocks, products and sums as the im2col path.

// Otherwise (strides, narrow images) one output row at a time, rows stride_w * C apart: worth it
// when the row fills whole register tiles and the weights stay in cache across the rows.
int64_t implicit_hp(const Conv2DF32Params& p) { return (p.out_h - 1) * p.stride_h + (p.kernel_h - 1) * p.dilation_h + 1; }
int64_t implicit_wp(const Conv2DF32Params& p) { return (p.out_w - 1) * p.stride_w + p.kernel_w; }
bool implicit_wide(const Conv2DF32Params& p) {
  const int64_t wp = implicit_wp(p);
  return p.stride_h == 1 && p.stride_w == 1 && (wp - p.out_w) * 12 <= wp;  // at most 1/12 of the rows dropped
}
bool implicit_by_row(const Conv2DF32Params& p) {
  return p.out_w >= 12 && p.gemm_k * p.out_c * int64_t(sizeof(float)) <= (int64_t(512) << 10);
}
// Else, with 5+ panels of output channels (gemm_blocked packs A there), A packed per cache block
// straight from the padded image (x86 vector builds).
bool implicit_packed(const Conv2DF32Params& p) {
  if (p.out_c < 80) return false;
  switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
    case KernelIsa::kAvx512: return f32_avx512::conv_implicit_packed_available();
    case KernelIsa::kAvx2: return f32_avx2::conv_implicit_packed_available();
#endif
    default: return f32_base::conv_implicit_packed_available();
  }
}
// Scratch is reserved whenever one of the forms may run (whatever the ISA).
bool implicit_shape(const Conv2DF32Params& p) {
  return p.algo == Conv2DAlgo::kIm2colGemm && p.groups == 1 && p.dilation_w == 1;
}
bool implicit_gemm(const Conv2DF32Params& p) {
  return implicit_shape(p) && (implicit_wide(p) || implicit_by_row(p) || implicit_packed(p));
}
constexpr size_t align64(size_t n) { return (n + 63) & ~size_t(63); }
size_t implicit_rows_bytes() { return align64(sizeof(float*) * size_t(kGemmMc)); }
size_t implicit_dummy_bytes(const Conv2DF32Params& p) {
  return align64(sizeof(float) * size_t((p.out_c + kGemmNr - 1) / kGemmNr * kGemmNr));
}
size_t implicit_scratch_bytes(const Conv2DF32Params& p) {
  return implicit_rows_bytes() + implicit_dummy_bytes(p) +
         sizeof(float) * size_t(implicit_hp(p) * implicit_wp(p) * p.in_c);
}

void implicit_rows(const Conv2DF32Params& p, const float* a, int64_t lda, int64_t count, int64_t seg_stride,
                   const ConvImplicitRowMap& map, const float* packed_w, const float* bias, float** crow) {
  switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
    case KernelIsa::kAvx512:
      f32_avx512::conv_implicit_rows(p, a, lda, count, seg_stride, map, packed_w, bias, crow);
      return;
    case KernelIsa::kAvx2: f32_avx2::conv_implicit_rows(p, a, lda, count, seg_stride, map, packed_w, bias, crow); return;
#endif
    default: f32_base::conv_implicit_rows(p, a, lda, count, seg_stride, map, packed_w, bias, crow); return;
  }
}

void conv_implicit(const Conv2DF32Params& p, const float* x, const float* packed_w, const float* bias, float* y,
                   float* scratch) {
  uint8_t* base = reinterpret_cast<uint8_t*>(scratch);
  float** crow = reinterpret_cast<float**>(base);
  float* dummy = reinterpret_cast<float*>(base + implicit_rows_bytes());
  float* img = reinterpret_cast<float*>(base + implicit_rows_bytes() + implicit_dummy_bytes(p));
  const int64_t Hp = implicit_hp(p), Wp = implicit_wp(p), C = p.in_c;
  const int64_t lo = std::min(p.pad_left, Wp), hi = std::max(lo, std::min(p.pad_left + p.in_w, Wp));
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* xn = x + n * p.in_h * p.in_w * C;
    const float* a = img;
    if (p.pad_top == 0 && p.pad_left == 0 && Hp <= p.in_h && Wp == p.in_w) {
      a = xn;  // the image needs no padding
    } else {
      for (int64_t py = 0; py < Hp; ++py) {
        float* dst = img + py * Wp * C;
        const int64_t iy = py - p.pad_top;
        if (iy < 0 || iy >= p.in_h || hi == lo) {
          std::memset(dst, 0, sizeof(float) * size_t(Wp * C));
          continue;
        }
        std::memset(dst, 0, sizeof(float) * size_t(lo * C));
        std::memcpy(dst + lo * C, xn + (iy * p.in_w + lo - p.pad_left) * C, sizeof(float) * size_t((hi - lo) * C));
        std::memset(dst + hi * C, 0, sizeof(float) * size_t((Wp - hi) * C));
      }
    }
    float* yn = y + n * p.out_h * p.out_w * p.out_c;
    const int64_t seg_stride = p.dilation_h * Wp * C;
    ConvImplicitRowMap map;
    map.dummy = dummy;
    if (implicit_wide(p)) {
      map.y = yn;
      map.vwidth = Wp;
      map.valid = p.out_w;
      implicit_rows(p, a, C, (p.out_h - 1) * Wp + p.out_w, seg_stride, map, packed_w, bias, crow);
      continue;
    }
    if (!implicit_by_row(p)) {
      switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
        case KernelIsa::kAvx512: f32_avx512::conv_implicit_packed(p, a, Wp, packed_w, bias, yn); break;
        case KernelIsa::kAvx2: f32_avx2::conv_implicit_packed(p, a, Wp, packed_w, bias, yn); break;
#endif
        default: f32_base::conv_implicit_packed(p, a, Wp, packed_w, bias, yn); break;
      }
      continue;
    }
    map.vwidth = map.valid = p.out_w;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      map.y = yn + oh * p.out_w * p.out_c;
      implicit_rows(p, a + oh * p.stride_h * Wp * C, p.stride_w * C, p.out_w, seg_stride, map, packed_w, bias, crow);
    }
  }
}

void conv_gemm(const Conv2DF32Params& p, const float* x, const float* packed_w, const float* bias, float* y,
               float* scratch) {
  const int64_t M = p.batch * p.out_h * p.out_w;
  const size_t group_floats = group_packed_floats(p);
  GemmF32Epilogue ep;
  ep.min = p.act_min;
  ep.max = p.act_max;
  ep.relu = p.act_relu;
  for (int64_t g = 0; g < p.groups; ++g) {
    ep.bias = bias ? bias + g * p.out_c_group : nullptr;
    const float* wg = packed_w + size_t(g) * group_floats;
    float* yg = y + g * p.out_c_group;
    if (p.algo == Conv2DAlgo::kGemmDirect) {
      gemm_f32(M, p.out_c_group, p.in_c_group, x + g * p.in_c_group, p.in_c, wg, yg, p.out_c, ep);
      continue;
    }
    if (p.gemm_k == 0) {
      gemm_f32(M, p.out_c_group, 0, nullptr, 0, wg, yg, p.out_c, ep);
      continue;
    }
    const Im2colFill ctx{&p, x, g};
    GemmF32AFill fill;
    fill.fill = im2col_fill;
    fill.ctx = &ctx;
    fill.scratch = scratch;
    gemm_f32_filled(M, p.out_c_group, p.gemm_k, fill, wg, yg, p.out_c, ep);
  }
}

// ---- depthwise ----

// Depth multiplier 1: the vector kernel of the ISA in use (f32_simd_impl.h).
void depthwise_m1(const Conv2DF32Params& p, const float* x, const float* w, const float* bias, float* y) {
  switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
    case KernelIsa::kAvx512: f32_avx512::depthwise_m1(p, x, w, bias, y); return;
    case KernelIsa::kAvx2: f32_avx2::depthwise_m1(p, x, w, bias, y); return;
#endif
    default: f32_base::depthwise_m1(p, x, w, bias, y); return;
  }
}

// Depth multiplier m > 1: output channel c * m + j reads input channel c.
void depthwise_multiplier(const Conv2DF32Params& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t C = p.out_c;
  const int64_t mult = p.out_c_group;
  const bool clamp = has_clamp(p.act_min, p.act_max);
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* xb = x + n * p.in_h * p.in_w * p.in_c;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const int64_t ih0 = oh * p.stride_h - p.pad_top;
      int64_t kh_lo, kh_hi;
      valid_taps(ih0, p.dilation_h, p.kernel_h, p.in_h, &kh_lo, &kh_hi);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_left;
        int64_t kw_lo, kw_hi;
        valid_taps(iw0, p.dilation_w, p.kernel_w, p.in_w, &kw_lo, &kw_hi);
        float* yp = y + ((n * p.out_h + oh) * p.out_w + ow) * C;
        for (int64_t c = 0; c < C; ++c) yp[c] = bias ? bias[c] : 0.0f;
        for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
          for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
            const float* xp = xb + ((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * p.in_c;
            const float* wp = w + (kh * p.kernel_w + kw) * C;
            for (int64_t c = 0; c < p.in_c; ++c) {
              const float xv = xp[c];
              for (int64_t j = 0; j < mult; ++j) yp[c * mult + j] += xv * wp[c * mult + j];
            }
          }
        if (p.act_relu)
          for (int64_t c = 0; c < C; ++c) yp[c] = yp[c] > 0.0f ? yp[c] : 0.0f;
        if (clamp) clamp_inplace(yp, C, p.act_min, p.act_max);
      }
    }
  }
}

}  // namespace

Error conv2d_f32_prepare(Conv2DF32Params* p) {
  if (p->batch < 0 || p->in_h < 1 || p->in_w < 1 || p->in_c < 1 || p->out_h < 1 || p->out_w < 1 || p->out_c < 1 ||
      p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 ||
      p->dilation_w < 1 || p->pad_top < 0 || p->pad_left < 0 || p->groups < 1 || p->in_c % p->groups != 0 ||
      p->out_c % p->groups != 0)
    return Error::InvalidArgument;
  p->in_c_group = p->in_c / p->groups;
  p->out_c_group = p->out_c / p->groups;
  p->gemm_k = p->kernel_h * p->kernel_w * p->in_c_group;
  if (p->groups > 1 && p->in_c_group == 1)
    p->algo = Conv2DAlgo::kDepthwise;
  else if (p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
           p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w)
    p->algo = Conv2DAlgo::kGemmDirect;
  else
    p->algo = Conv2DAlgo::kIm2colGemm;
  return Error::Ok;
}

size_t conv2d_f32_packed_weights_floats(const Conv2DF32Params& p) {
  if (p.algo == Conv2DAlgo::kDepthwise) return size_t(p.kernel_h * p.kernel_w * p.out_c);
  return size_t(p.groups) * group_packed_floats(p);
}

void conv2d_f32_pack_weights(const Conv2DF32Params& p, const float* w, float* packed) {
  const int64_t khw = p.kernel_h * p.kernel_w;
  if (p.algo == Conv2DAlgo::kDepthwise) {
    // [out_c, 1, kh, kw] -> [kh][kw][out_c]
    for (int64_t oc = 0; oc < p.out_c; ++oc)
      for (int64_t t = 0; t < khw; ++t) packed[t * p.out_c + oc] = w[oc * khw + t];
    return;
  }
  const size_t group_floats = group_packed_floats(p);
  for (int64_t g = 0; g < p.groups; ++g) {
    // B[k = (kh, kw, ci)][co] = w[g * Cout_g + co, ci, kh, kw]
    const float* wg = w + g * p.out_c_group * p.in_c_group * khw;
    const int64_t cg = p.in_c_group;
    gemm_f32_pack_b_with(
        p.gemm_k, p.out_c_group,
        [&](int64_t k, int64_t co) {
          const int64_t tap = k / cg, ci = k % cg;
          return wg[(co * cg + ci) * khw + tap];
        },
        packed + size_t(g) * group_floats);
  }
}

size_t conv2d_f32_scratch_bytes(const Conv2DF32Params& p) {
  if (p.algo != Conv2DAlgo::kIm2colGemm) return 0;
  const int64_t M = p.batch * p.out_h * p.out_w;
  const size_t fill = sizeof(float) * gemm_f32_fill_scratch_floats(M, p.gemm_k);
  return implicit_shape(p) ? std::max(fill, implicit_scratch_bytes(p)) : fill;
}

void conv2d_f32(const Conv2DF32Params& p, const float* x, const float* packed_w, const float* bias, float* y,
                float* scratch) {
  switch (p.algo) {
    case Conv2DAlgo::kDepthwise:
      if (p.out_c_group == 1)
        depthwise_m1(p, x, packed_w, bias, y);
      else
        depthwise_multiplier(p, x, packed_w, bias, y);
      return;
    case Conv2DAlgo::kGemmDirect:
    case Conv2DAlgo::kIm2colGemm:
      if (implicit_gemm(p) && p.gemm_k > 0)
        conv_implicit(p, x, packed_w, bias, y, scratch);
      else
        conv_gemm(p, x, packed_w, bias, y, scratch);
      return;
  }
}

// ---- transposed convolution ----

Error conv_transpose2d_f32_prepare(ConvTranspose2DF32Params* p) {
  if (p->batch < 0 || p->in_h < 1 || p->in_w < 1 || p->in_c < 1 || p->out_h < 1 || p->out_w < 1 || p->out_c < 1 ||
      p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 ||
      p->dilation_w < 1 || p->pad_top < 0 || p->pad_left < 0 || p->groups < 1 || p->in_c % p->groups != 0 ||
      p->out_c % p->groups != 0)
    return Error::InvalidArgument;
  p->in_c_group = p->in_c / p->groups;
  p->out_c_group = p->out_c / p->groups;
  p->gemm_n = p->kernel_h * p->kernel_w * p->out_c_group;
  return Error::Ok;
}

size_t conv_transpose2d_f32_packed_weights_floats(const ConvTranspose2DF32Params& p) {
  return size_t(p.groups) * gemm_f32_packed_b_floats(p.in_c_group, p.gemm_n);
}

void conv_transpose2d_f32_pack_weights(const ConvTranspose2DF32Params& p, const float* w, float* packed) {
  const int64_t khw = p.kernel_h * p.kernel_w;
  const size_t group_floats = gemm_f32_packed_b_floats(p.in_c_group, p.gemm_n);
  for (int64_t g = 0; g < p.groups; ++g) {
    // B[ci][(kh, kw, co)] = w[g * Cin_g + ci, co, kh, kw]
    const float* wg = w + g * p.in_c_group * p.out_c_group * khw;
    const int64_t cg = p.out_c_group;
    gemm_f32_pack_b_with(
        p.in_c_group, p.gemm_n,
        [&](int64_t ci, int64_t n) {
          const int64_t tap = n / cg, co = n % cg;
          return wg[(ci * cg + co) * khw + tap];
        },
        packed + size_t(g) * group_floats);
  }
}

size_t conv_transpose2d_f32_scratch_bytes(const ConvTranspose2DF32Params& p) {
  const int64_t M = p.batch * p.in_h * p.in_w;
  return sizeof(float) * size_t(std::min<int64_t>(M, kGemmMc) * p.gemm_n);
}

void conv_transpose2d_f32(const ConvTranspose2DF32Params& p, const float* x, const float* packed_w, const float* bias,
                          float* y, float* scratch) {
  const int64_t pixels_out = p.batch * p.out_h * p.out_w;
  for (int64_t i = 0; i < pixels_out; ++i) {
    float* yp = y + i * p.out_c;
    if (bias)
      std::memcpy(yp, bias, sizeof(float) * size_t(p.out_c));
    else
      std::memset(yp, 0, sizeof(float) * size_t(p.out_c));
  }
  const int64_t M = p.batch * p.in_h * p.in_w;
  const int64_t in_hw = p.in_h * p.in_w;
  const int64_t cg = p.out_c_group;
  const size_t group_floats = gemm_f32_packed_b_floats(p.in_c_group, p.gemm_n);
  for (int64_t g = 0; g < p.groups; ++g) {
    const float* wg = packed_w + size_t(g) * group_floats;
    for (int64_t m0 = 0; m0 < M; m0 += kGemmMc) {
      const int64_t rows = std::min<int64_t>(kGemmMc, M - m0);
      gemm_f32(rows, p.gemm_n, p.in_c_group, x + m0 * p.in_c + g * p.in_c_group, p.in_c, wg, scratch, p.gemm_n,
               GemmF32Epilogue{});
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t m = m0 + r;
        const int64_t n = m / in_hw;
        const int64_t ih = (m % in_hw) / p.in_w;
        const int64_t iw = m % p.in_w;
        const float* colr = scratch + r * p.gemm_n;
        for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
          const int64_t oh = ih * p.stride_h - p.pad_top + kh * p.dilation_h;
          if (oh < 0 || oh >= p.out_h) continue;
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const int64_t ow = iw * p.stride_w - p.pad_left + kw * p.dilation_w;
            if (ow < 0 || ow >= p.out_w) continue;
            float* yp = y + ((n * p.out_h + oh) * p.out_w + ow) * p.out_c + g * cg;
            const float* cp = colr + (kh * p.kernel_w + kw) * cg;
            for (int64_t co = 0; co < cg; ++co) yp[co] += cp[co];
          }
        }
      }
    }
  }
  if (has_clamp(p.act_min, p.act_max)) clamp_inplace(y, pixels_out * p.out_c, p.act_min, p.act_max);
}

}  // namespace neutron
