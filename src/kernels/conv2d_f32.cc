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

size_t group_packed_floats(const Conv2DF32Params& p) { return gemm_f32_packed_b_floats(p.gemm_k, p.out_c_group); }

// Rows [m0, m0 + rows) of the im2col matrix of group g: row = output pixel, column = (kh, kw, ci).
void im2col_rows(const Conv2DF32Params& p, const float* x, int64_t g, int64_t m0, int64_t rows, float* col) {
  const int64_t cg = p.in_c_group;
  const int64_t out_hw = p.out_h * p.out_w;
  const bool contiguous_taps = p.groups == 1 && p.dilation_w == 1;  // kw taps are adjacent in memory
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t m = m0 + r;
    const int64_t n = m / out_hw;
    const int64_t oh = (m % out_hw) / p.out_w;
    const int64_t ow = m % p.out_w;
    const int64_t ih0 = oh * p.stride_h - p.pad_top;
    const int64_t iw0 = ow * p.stride_w - p.pad_left;
    int64_t kw_lo, kw_hi;
    valid_taps(iw0, p.dilation_w, p.kernel_w, p.in_w, &kw_lo, &kw_hi);
    float* dst = col + r * p.gemm_k;
    for (int64_t kh = 0; kh < p.kernel_h; ++kh, dst += p.kernel_w * cg) {
      const int64_t ih = ih0 + kh * p.dilation_h;
      if (ih < 0 || ih >= p.in_h) {
        std::memset(dst, 0, sizeof(float) * size_t(p.kernel_w * cg));
        continue;
      }
      const float* xrow = x + ((n * p.in_h + ih) * p.in_w) * p.in_c + g * cg;
      std::memset(dst, 0, sizeof(float) * size_t(kw_lo * cg));
      if (kw_hi == kw_lo) {
        // no tap of this row is inside the image
      } else if (contiguous_taps) {
        std::memcpy(dst + kw_lo * cg, xrow + (iw0 + kw_lo) * p.in_c, sizeof(float) * size_t((kw_hi - kw_lo) * cg));
      } else {
        for (int64_t kw = kw_lo; kw < kw_hi; ++kw)
          std::memcpy(dst + kw * cg, xrow + (iw0 + kw * p.dilation_w) * p.in_c, sizeof(float) * size_t(cg));
      }
      std::memset(dst + kw_hi * cg, 0, sizeof(float) * size_t((p.kernel_w - kw_hi) * cg));
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
    for (int64_t m0 = 0; m0 < M; m0 += kGemmMc) {
      const int64_t rows = std::min<int64_t>(kGemmMc, M - m0);
      im2col_rows(p, x, g, m0, rows, scratch);
      gemm_f32(rows, p.out_c_group, p.gemm_k, scratch, p.gemm_k, wg, yg + m0 * p.out_c, p.out_c, ep);
    }
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
  return sizeof(float) * size_t(std::min<int64_t>(M, kGemmMc) * p.gemm_k);
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
    case Conv2DAlgo::kIm2colGemm: conv_gemm(p, x, packed_w, bias, y, scratch); return;
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
