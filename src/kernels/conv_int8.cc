#include "kernels/conv_int8.h"

#include <cstring>

#include "kernels/cpu_isa.h"
#include "kernels/gemm_int8.h"
#include "kernels/gemm_int8_impl.h"
#include "kernels/requantize_simd.h"

namespace neutron {
namespace {

using qgemm_detail::kTileRows;
using qgemm_detail::round4;

constexpr size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

int32_t patch_size(const Conv2DInt8Params& p) { return p.kernel_h * p.kernel_w * (p.in_c / p.groups); }
int32_t taps(const Conv2DInt8Params& p) { return p.kernel_h * p.kernel_w; }

// Writes the im2col row of output pixel (oy, ox) for group g as u8: [ky][kx][ic_in_group] + 128,
// zero padded to round4(K).
void gather_patch(const Conv2DInt8Params& p, const int8_t* in_n, int32_t oy, int32_t ox, int32_t g, uint8_t* row) {
  const int32_t cin_g = p.in_c / p.groups;
  const int8_t zp = int8_t(p.input_zero_point);
  int8_t* dst = reinterpret_cast<int8_t*>(row);
  for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
    const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
    if (iy < 0 || iy >= p.in_h) {
      std::memset(dst, zp, size_t(p.kernel_w) * size_t(cin_g));
      dst += size_t(p.kernel_w) * size_t(cin_g);
      continue;
    }
    const int8_t* src = in_n + size_t(iy) * size_t(p.in_w) * size_t(p.in_c) + size_t(g) * size_t(cin_g);
    for (int32_t kx = 0; kx < p.kernel_w; ++kx, dst += cin_g) {
      const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
      if (ix < 0 || ix >= p.in_w)
        std::memset(dst, zp, size_t(cin_g));
      else
        std::memcpy(dst, src + size_t(ix) * size_t(p.in_c), size_t(cin_g));
    }
  }
  qgemm_detail::to_u8_row(reinterpret_cast<const int8_t*>(row), row, patch_size(p));
}

void conv_general(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, uint8_t* tile) {
  const int32_t cout_g = p.out_c / p.groups;
  const int32_t K = patch_size(p), Kp = round4(K);
  const size_t group_bytes = qgemm_detail::packed_bytes(K, cout_g);
  const int8_t* weights = reinterpret_cast<const int8_t*>(p.weights);
  qgemm_detail::Job j;
  j.cols = cout_g;
  j.depth = K;
  j.output_zero_point = p.output_zero_point;
  j.qmin = p.qmin;
  j.qmax = p.qmax;
  const int32_t pixels = p.out_h * p.out_w;
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(p.in_c);
    int8_t* out_n = out + size_t(n) * size_t(pixels) * size_t(p.out_c);
    for (int32_t start = 0; start < pixels; start += kTileRows) {
      j.rows = pixels - start < kTileRows ? pixels - start : kTileRows;
      for (int32_t g = 0; g < p.groups; ++g) {
        for (int32_t i = 0; i < j.rows; ++i) {
          const int32_t pix = start + i;
          gather_patch(p, in_n, pix / p.out_w, pix % p.out_w, g, tile + size_t(i) * size_t(Kp));
        }
        j.weights = weights + size_t(g) * group_bytes;
        j.bias = p.bias + size_t(g) * size_t(cout_g);
        j.multipliers = p.multipliers + size_t(g) * size_t(cout_g);
        qgemm_detail::qgemm_u8(j, tile, size_t(Kp),
                               out_n + size_t(start) * size_t(p.out_c) + size_t(g) * size_t(cout_g), size_t(p.out_c));
      }
    }
  }
}

// ---- depthwise: one output pixel, tap rows already resolved (outside the image: a row of zi) ----

using DwPixelFn = void (*)(const Conv2DInt8Params& p, const int8_t* const* tap, const int32_t* w, int8_t* out);

void dw_pixel_scalar(const Conv2DInt8Params& p, const int8_t* const* tap, const int32_t* w, int8_t* out) {
  const int32_t OC = p.out_c, mult = p.out_c / p.in_c, T = taps(p);
  for (int32_t oc = 0; oc < OC; ++oc) {
    uint32_t acc = uint32_t(p.bias[oc]);
    const int32_t ic = oc / mult;
    for (int32_t t = 0; t < T; ++t) acc += uint32_t(int32_t(tap[t][ic])) * uint32_t(w[size_t(t) * size_t(OC) + size_t(oc)]);
    out[oc] = requantize_to_int8(int32_t(acc), p.multipliers[oc], p.output_zero_point, p.qmin, p.qmax);
  }
}

#if NEUTRON_X86_KERNELS
NEUTRON_TARGET_AVX2 void dw_pixel_avx2(const Conv2DInt8Params& p, const int8_t* const* tap, const int32_t* w,
                                       int8_t* out) {
  const int32_t C = p.out_c, T = taps(p);
  int32_t c = 0;
  for (; c + 8 <= C; c += 8) {
    __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.bias + c));
    for (int32_t t = 0; t < T; ++t) {
      const __m256i x = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(tap[t] + c)));
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + size_t(t) * size_t(C) + size_t(c)));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(x, wv));
    }
    requant8_avx2(acc, requant8_setup(p.multipliers + c, 8, p.output_zero_point, p.qmin, p.qmax), out + c);
  }
  for (; c < C; ++c) {
    uint32_t acc = uint32_t(p.bias[c]);
    for (int32_t t = 0; t < T; ++t) acc += uint32_t(int32_t(tap[t][c])) * uint32_t(w[size_t(t) * size_t(C) + size_t(c)]);
    out[c] = requantize_to_int8(int32_t(acc), p.multipliers[c], p.output_zero_point, p.qmin, p.qmax);
  }
}

NEUTRON_TARGET_AVX512 void dw_pixel_avx512(const Conv2DInt8Params& p, const int8_t* const* tap, const int32_t* w,
                                           int8_t* out) {
  const int32_t C = p.out_c, T = taps(p);
  for (int32_t c = 0; c < C; c += 16) {
    const int32_t n = C - c < 16 ? C - c : 16;
    const __mmask16 mask = __mmask16((1u << n) - 1);
    __m512i acc = _mm512_maskz_loadu_epi32(mask, p.bias + c);
    for (int32_t t = 0; t < T; ++t) {
      const __m512i x = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, tap[t] + c));
      const __m512i wv = _mm512_maskz_loadu_epi32(mask, w + size_t(t) * size_t(C) + size_t(c));
      acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(x, wv));
    }
    const Requant16 rq = requant16_setup(p.multipliers + c, n, p.output_zero_point, p.qmin, p.qmax);
    _mm_mask_storeu_epi8(out + c, mask, requant16_avx512(acc, rq));
  }
}
#endif

DwPixelFn pick_dw(const Conv2DInt8Params& p) {
  if (p.out_c != p.in_c) return dw_pixel_scalar;  // depth multiplier > 1: rare, portable code
  switch (kernel_isa()) {
#if NEUTRON_X86_KERNELS
    case KernelIsa::kAvx512: return dw_pixel_avx512;
    case KernelIsa::kAvx2: return dw_pixel_avx2;
#endif
    default: return dw_pixel_scalar;
  }
}

void conv_depthwise(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, uint8_t* scratch) {
  const int32_t C = p.in_c, OC = p.out_c, T = taps(p);
  const int8_t** tap = reinterpret_cast<const int8_t**>(scratch);
  int8_t* zrow = reinterpret_cast<int8_t*>(scratch + align64(size_t(T) * sizeof(const int8_t*)));
  std::memset(zrow, int8_t(p.input_zero_point), size_t(C));
  const int32_t* w = reinterpret_cast<const int32_t*>(p.weights);
  const DwPixelFn pixel = pick_dw(p);
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(C);
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        int32_t t = 0;
        for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
          const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
          for (int32_t kx = 0; kx < p.kernel_w; ++kx, ++t) {
            const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            tap[t] = (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w)
                         ? zrow
                         : in_n + (size_t(iy) * size_t(p.in_w) + size_t(ix)) * size_t(C);
          }
        }
        pixel(p, tap, w, out + ((size_t(n) * size_t(p.out_h) + size_t(oy)) * size_t(p.out_w) + size_t(ox)) * size_t(OC));
      }
    }
  }
}

}  // namespace

void conv2d_int8_choose_path(Conv2DInt8Params* p) {
  p->depthwise = p->groups > 1 && p->groups == p->in_c && p->out_c % p->in_c == 0;
}

size_t conv2d_int8_packed_weights_size(const Conv2DInt8Params& p) {
  if (p.depthwise) return size_t(taps(p)) * size_t(p.out_c) * (sizeof(int32_t) / sizeof(int16_t));
  return size_t(p.groups) * qgemm_detail::packed_bytes(patch_size(p), p.out_c / p.groups) / sizeof(int16_t);
}

void conv2d_int8_pack(const Conv2DInt8Params& p, const int8_t* w, const int32_t* bias, int16_t* packed,
                      int32_t* bias_out) {
  const int32_t cin_g = p.in_c / p.groups, kh = p.kernel_h, kw = p.kernel_w;
  const auto w_at = [&](int32_t oc, int32_t ic, int32_t ky, int32_t kx) {
    return w[((size_t(oc) * size_t(cin_g) + size_t(ic)) * size_t(kh) + size_t(ky)) * size_t(kw) + size_t(kx)];
  };
  if (p.depthwise) {
    int32_t* dst = reinterpret_cast<int32_t*>(packed);
    const uint32_t zi = uint32_t(p.input_zero_point);
    for (int32_t oc = 0; oc < p.out_c; ++oc) {
      uint32_t sum = 0;
      for (int32_t ky = 0; ky < kh; ++ky)
        for (int32_t kx = 0; kx < kw; ++kx) {
          const int32_t v = w_at(oc, 0, ky, kx);
          dst[size_t(ky * kw + kx) * size_t(p.out_c) + size_t(oc)] = v;
          sum += uint32_t(v);
        }
      bias_out[oc] = int32_t(uint32_t(bias ? bias[oc] : 0) - zi * sum);
    }
    return;
  }
  const int32_t K = patch_size(p), cout_g = p.out_c / p.groups;
  const size_t group_bytes = qgemm_detail::packed_bytes(K, cout_g);
  int8_t* dst = reinterpret_cast<int8_t*>(packed);
  for (int32_t g = 0; g < p.groups; ++g) {
    int8_t* pg = dst + size_t(g) * group_bytes;
    qgemm_detail::pack_panels(
        K, cout_g,
        [&](int32_t n, int32_t k) {
          const int32_t tap = k / cin_g, ic = k % cin_g;
          return w_at(g * cout_g + n, ic, tap / kw, tap % kw);
        },
        pg);
    fold_zero_point_into_bias(reinterpret_cast<const int16_t*>(pg), K, cout_g, bias ? bias + size_t(g) * size_t(cout_g) : nullptr,
                              p.input_zero_point, bias_out + size_t(g) * size_t(cout_g));
  }
}

size_t conv2d_int8_scratch_bytes(const Conv2DInt8Params& p) {
  if (p.depthwise) return align64(size_t(taps(p)) * sizeof(const int8_t*)) + size_t(p.in_c);
  return size_t(kTileRows) * size_t(round4(patch_size(p)));
}

void conv2d_int8_nhwc(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, void* scratch) {
  if (p.depthwise)
    conv_depthwise(p, in, out, static_cast<uint8_t*>(scratch));
  else
    conv_general(p, in, out, static_cast<uint8_t*>(scratch));
}

}  // namespace neutron
