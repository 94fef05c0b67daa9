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

// dst[i] = src[i] + 128 as u8 (x ^ 0x80).
using CopyU8Fn = void (*)(uint8_t* dst, const int8_t* src, size_t n);

void copy_u8_scalar(uint8_t* dst, const int8_t* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = uint8_t(src[i]) ^ 0x80;
}

#if NEUTRON_X86_KERNELS
NEUTRON_TARGET_AVX512 void copy_u8_avx512(uint8_t* dst, const int8_t* src, size_t n) {
  const __m512i k = _mm512_set1_epi8(char(0x80));
  size_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(dst + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), k));
  if (i < n) {
    const __mmask64 m = __mmask64((uint64_t(1) << (n - i)) - 1);
    _mm512_mask_storeu_epi8(dst + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + i), k));
  }
}
NEUTRON_TARGET_AVX2 void copy_u8_avx2(uint8_t* dst, const int8_t* src, size_t n) {
  const __m256i k = _mm256_set1_epi8(char(0x80));
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                        _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)), k));
  for (; i < n; ++i) dst[i] = uint8_t(src[i]) ^ 0x80;
}
#endif

CopyU8Fn pick_copy() {
  switch (kernel_isa()) {
#if NEUTRON_X86_KERNELS
    case KernelIsa::kAvx512: return copy_u8_avx512;
    case KernelIsa::kAvx2: return copy_u8_avx2;
#endif
    default: return copy_u8_scalar;
  }
}

// Writes the im2col row of output pixel (oy, ox) for group g as u8: [ky][kx][ic_in_group] + 128,
// padding as zi + 128, zero padded from K to row_len.
void gather_patch(const Conv2DInt8Params& p, const int8_t* in_n, int32_t oy, int32_t ox, int32_t g, uint8_t* row,
                  int32_t row_len, CopyU8Fn copy) {
  const int32_t cin_g = p.in_c / p.groups;
  const uint8_t zp = uint8_t(int8_t(p.input_zero_point)) ^ 0x80;
  const size_t row_bytes = size_t(p.kernel_w) * size_t(cin_g);
  const int32_t ix0 = ox * p.stride_w - p.pad_left;
  // Taps kx in [lo, hi) are inside the image; with one group and no dilation they are adjacent.
  int32_t lo = 0, hi = p.kernel_w;
  const bool runs = p.groups == 1 && p.dilation_w == 1;
  if (runs) {
    lo = ix0 < 0 ? (-ix0 < p.kernel_w ? -ix0 : p.kernel_w) : 0;
    hi = p.in_w - ix0 < p.kernel_w ? p.in_w - ix0 : p.kernel_w;
    if (hi < lo) hi = lo;
  }
  uint8_t* dst = row;
  for (int32_t ky = 0; ky < p.kernel_h; ++ky, dst += row_bytes) {
    const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
    if (iy < 0 || iy >= p.in_h) {
      std::memset(dst, zp, row_bytes);
      continue;
    }
    const int8_t* src = in_n + size_t(iy) * size_t(p.in_w) * size_t(p.in_c) + size_t(g) * size_t(cin_g);
    if (runs) {
      std::memset(dst, zp, size_t(lo) * size_t(cin_g));
      if (hi > lo) copy(dst + size_t(lo) * size_t(cin_g), src + size_t(ix0 + lo) * size_t(p.in_c), size_t(hi - lo) * size_t(cin_g));
      std::memset(dst + size_t(hi) * size_t(cin_g), zp, size_t(p.kernel_w - hi) * size_t(cin_g));
      continue;
    }
    for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
      const int32_t ix = ix0 + kx * p.dilation_w;
      if (ix < 0 || ix >= p.in_w)
        std::memset(dst + size_t(kx) * size_t(cin_g), zp, size_t(cin_g));
      else
        copy(dst + size_t(kx) * size_t(cin_g), src + size_t(ix) * size_t(p.in_c), size_t(cin_g));
    }
  }
  const int32_t K = patch_size(p);
  std::memset(row + K, 0, size_t(row_len - K));
}

#if NEUTRON_X86_KERNELS
// gather_patch for one group, no width dilation and kernel_w * in_c <= 64 (a stem over 3 input
// channels): each kh row is one masked load merged into the zero point, flipped to u8, and one
// masked store, instead of a memset and a copy of a few bytes each.
NEUTRON_TARGET_AVX512 void gather_patch_narrow_avx512(const Conv2DInt8Params& p, const int8_t* in_n, int32_t oy,
                                                      int32_t ox, uint8_t* row, int32_t row_len) {
  const int32_t C = p.in_c, row_bytes = p.kernel_w * C;
  const int32_t ix0 = ox * p.stride_w - p.pad_left;
  const int32_t lo = ix0 < 0 ? (-ix0 < p.kernel_w ? -ix0 : p.kernel_w) : 0;
  int32_t hi = p.in_w - ix0 < p.kernel_w ? p.in_w - ix0 : p.kernel_w;
  if (hi < lo) hi = lo;
  const __m512i zp = _mm512_set1_epi8(char(p.input_zero_point));
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  const __mmask64 all_mask = row_bytes == 64 ? ~__mmask64(0) : __mmask64((uint64_t(1) << row_bytes) - 1);
  // Bytes [lo * C, hi * C) of a kh row come from the image.
  const __mmask64 inside = hi > lo ? ((hi * C == 64 ? ~__mmask64(0) : (uint64_t(1) << (hi * C)) - 1) &
                                      ~((uint64_t(1) << (lo * C)) - 1))
                                   : __mmask64(0);
  uint8_t* dst = row;
  for (int32_t ky = 0; ky < p.kernel_h; ++ky, dst += row_bytes) {
    const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
    __m512i v = zp;
    if (iy >= 0 && iy < p.in_h && inside) {
      // The load starts at pixel ix0 (possibly left of the image); masked-off bytes are not read.
      const uintptr_t base = reinterpret_cast<uintptr_t>(in_n) + uintptr_t((intptr_t(iy) * p.in_w + ix0) * C);
      v = _mm512_mask_loadu_epi8(zp, inside, reinterpret_cast<const void*>(base));
    }
    _mm512_mask_storeu_epi8(dst, all_mask, _mm512_xor_si512(v, flip));
  }
  const int32_t K = p.kernel_h * row_bytes;
  std::memset(row + K, 0, size_t(row_len - K));
}
#endif

// gather_patch, or its narrow AVX-512 form where it applies.
inline void gather(const Conv2DInt8Params& p, bool narrow, const int8_t* in_n, int32_t oy, int32_t ox, int32_t g,
                   uint8_t* row, int32_t row_len, CopyU8Fn copy) {
#if NEUTRON_X86_KERNELS
  if (narrow) return gather_patch_narrow_avx512(p, in_n, oy, ox, row, row_len);
#endif
  (void)narrow;
  gather_patch(p, in_n, oy, ox, g, row, row_len, copy);
}
bool narrow_gather(const Conv2DInt8Params& p) {
  return p.groups == 1 && p.dilation_w == 1 && p.kernel_w * p.in_c <= 64 && kernel_isa() == KernelIsa::kAvx512;
}

// 1x1, stride 1, no padding, one group, channels a multiple of 4: the input rows are A.
bool pointwise_in_place(const Conv2DInt8Params& p) {
  return p.groups == 1 && p.in_c % 4 == 0 && p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
         p.pad_top == 0 && p.pad_left == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
}

// One group, no dilation, kernel_w * in_c a multiple of 4: the im2col row of a pixel is kernel_h
// runs of a zero-point-padded u8 copy of the image, so the GEMM reads them in place.
bool implicit_im2col(const Conv2DInt8Params& p) {
  return p.groups == 1 && p.dilation_h == 1 && p.dilation_w == 1 && (p.kernel_w * p.in_c) % 4 == 0 &&
         !pointwise_in_place(p);
}
int64_t padded_h(const Conv2DInt8Params& p) { return int64_t(p.out_h - 1) * p.stride_h + p.kernel_h; }
int64_t padded_w(const Conv2DInt8Params& p) { return int64_t(p.out_w - 1) * p.stride_w + p.kernel_w; }
// The padded image, then room for the rows an AMX block reads past the last output pixel
// (qgemm_detail::kAmxBlockRows; whatever they hold reaches only dropped rows), then row pointers.
size_t implicit_image_bytes(const Conv2DInt8Params& p) {
  return align64(size_t(padded_h(p)) * size_t(padded_w(p)) * size_t(p.in_c) +
                 size_t(qgemm_detail::kAmxBlockRows) * size_t(p.stride_w) * size_t(p.in_c));
}
size_t implicit_scratch_bytes(const Conv2DInt8Params& p) {
  return implicit_image_bytes(p) + size_t(kTileRows) * sizeof(const uint8_t*);
}

void conv_implicit(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, uint8_t* scratch, qgemm_detail::Job j,
                   CopyU8Fn copy) {
  const int64_t Hp = padded_h(p), Wp = padded_w(p), C = p.in_c;
  uint8_t* img = scratch;
  const uint8_t** rows = reinterpret_cast<const uint8_t**>(scratch + implicit_image_bytes(p));
  const uint8_t zp = uint8_t(int8_t(p.input_zero_point)) ^ 0x80;
  const int64_t lo = p.pad_left < Wp ? p.pad_left : Wp;
  const int64_t hi_raw = int64_t(p.pad_left) + p.in_w;
  const int64_t hi = hi_raw < Wp ? hi_raw : Wp;
  const int32_t pixels = p.out_h * p.out_w;
  j.weights = reinterpret_cast<const int8_t*>(p.weights);
  j.bias = p.bias;
  j.multipliers = p.multipliers;
  j.segments = p.kernel_h;
  j.segment_groups = p.kernel_w * p.in_c / 4;
  j.segment_stride = size_t(Wp * C);
  j.row_ptrs = rows;
  const bool amx = qgemm_detail::amx_accepts(j);
  if (amx) std::memset(img + Hp * Wp * C, 0, implicit_image_bytes(p) - size_t(Hp * Wp * C));
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(C);
    for (int64_t py = 0; py < Hp; ++py) {
      uint8_t* dst = img + size_t(py * Wp * C);
      const int64_t iy = py - p.pad_top;
      if (iy < 0 || iy >= p.in_h || hi <= lo) {
        std::memset(dst, zp, size_t(Wp * C));
        continue;
      }
      std::memset(dst, zp, size_t(lo * C));
      copy(dst + lo * C, in_n + size_t(iy * p.in_w + (lo - p.pad_left)) * size_t(C), size_t((hi - lo) * C));
      std::memset(dst + hi * C, zp, size_t((Wp - hi) * C));
    }
    int8_t* out_n = out + size_t(n) * size_t(pixels) * size_t(p.out_c);
    if (amx) {
      // Tile loads need equally spaced rows: with stride 1 the pixels over the padded width are
      // (the Wp - out_w extra ones per row are dropped); otherwise one output row at a time.
      qgemm_detail::AmxRows r;
      if (p.stride_h == 1 && p.stride_w == 1) {
        r.base = img;
        r.row_stride = size_t(C);
        r.count = int32_t((p.out_h - 1) * Wp + p.out_w);
        r.vwidth = int32_t(Wp);
        r.valid = p.out_w;
        qgemm_detail::qgemm_amx(j, r, out_n, size_t(p.out_c));
      } else {
        r.row_stride = size_t(p.stride_w) * size_t(C);
        r.count = r.vwidth = r.valid = p.out_w;
        for (int32_t oy = 0; oy < p.out_h; ++oy) {
          r.base = img + size_t(oy) * size_t(p.stride_h) * size_t(Wp * C);
          qgemm_detail::qgemm_amx(j, r, out_n + size_t(oy) * size_t(p.out_w) * size_t(p.out_c), size_t(p.out_c));
        }
      }
      continue;
    }
    for (int32_t start = 0; start < pixels; start += kTileRows) {
      j.rows = pixels - start < kTileRows ? pixels - start : kTileRows;
      for (int32_t i = 0; i < j.rows; ++i) {
        const int32_t oy = (start + i) / p.out_w, ox = (start + i) % p.out_w;
        rows[i] = img + (size_t(oy) * size_t(p.stride_h) * size_t(Wp) + size_t(ox) * size_t(p.stride_w)) * size_t(C);
      }
      qgemm_detail::qgemm_u8(j, nullptr, 0, out_n + size_t(start) * size_t(p.out_c), size_t(p.out_c));
    }
  }
}

// The AMX tiles over explicit A rows (qgemm_detail::kAmxChunkRows at a time, round64(K) bytes
// each): pointwise rows copied as u8, other shapes gathered by gather_patch().
void conv_amx_explicit(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, uint8_t* tile, qgemm_detail::Job j) {
  const int32_t cout_g = p.out_c / p.groups;
  const int32_t K = patch_size(p), Kp = qgemm_detail::round64(K);
  const size_t group_bytes = qgemm_detail::packed_bytes(K, cout_g);
  const int8_t* weights = reinterpret_cast<const int8_t*>(p.weights);
  const CopyU8Fn copy = pick_copy();
  const bool pointwise = pointwise_in_place(p);
  const bool narrow = narrow_gather(p);
  const int32_t pixels = p.out_h * p.out_w;
  constexpr int32_t kChunk = qgemm_detail::kAmxChunkRows;
  // Rows past the last pixel of a chunk are read by the last tile and dropped; the pointwise
  // copy leaves the bytes past K zero.
  std::memset(tile, 0, size_t(kChunk) * size_t(Kp));
  qgemm_detail::AmxRows r;
  r.base = tile;
  r.row_stride = size_t(Kp);
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(p.in_c);
    int8_t* out_n = out + size_t(n) * size_t(pixels) * size_t(p.out_c);
    for (int32_t start = 0; start < pixels; start += kChunk) {
      r.count = r.vwidth = r.valid = pixels - start < kChunk ? pixels - start : kChunk;
      for (int32_t g = 0; g < p.groups; ++g) {
        for (int32_t i = 0; i < r.count; ++i) {
          const int32_t pix = start + i;
          if (pointwise)
            copy(tile + size_t(i) * size_t(Kp), in_n + size_t(pix) * size_t(K), size_t(K));
          else
            gather(p, narrow, in_n, pix / p.out_w, pix % p.out_w, g, tile + size_t(i) * size_t(Kp), Kp, copy);
        }
        j.weights = weights + size_t(g) * group_bytes;
        j.bias = p.bias + size_t(g) * size_t(cout_g);
        j.multipliers = p.multipliers + size_t(g) * size_t(cout_g);
        qgemm_detail::qgemm_amx(j, r, out_n + size_t(start) * size_t(p.out_c) + size_t(g) * size_t(cout_g),
                                size_t(p.out_c));
      }
    }
  }
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
  // AMX: the implicit im2col where its runs are whole tiles, else explicit rows.
  const bool implicit_amx = implicit_im2col(p) && kernel_amx() && (p.kernel_w * p.in_c) % 64 == 0;
  j.segments = 1;
  j.segment_groups = qgemm_detail::round64(K) / 4;
  // Below 64 (a tile's depth) the zero padding costs the tiles more than they gain over VNNI.
  if (!implicit_amx && K >= 64 && qgemm_detail::amx_accepts(j)) {
    conv_amx_explicit(p, in, out, tile, j);
    return;
  }
  j.segment_groups = 0;
  if (pointwise_in_place(p) && qgemm_detail::accepts_signed_a()) {
    // Pointwise: the input rows are the GEMM's A as they are (no im2col copy).
    j.weights = weights;
    j.bias = p.bias;
    j.multipliers = p.multipliers;
    j.rows = p.batch * pixels;
    j.a_signed = true;
    qgemm_detail::qgemm_u8(j, reinterpret_cast<const uint8_t*>(in), size_t(p.in_c), out, size_t(p.out_c));
    return;
  }
  const CopyU8Fn copy = pick_copy();
  const bool narrow = narrow_gather(p);
  if (implicit_im2col(p) && qgemm_detail::accepts_signed_a()) {
    conv_implicit(p, in, out, tile, j, copy);
    return;
  }
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(p.in_c);
    int8_t* out_n = out + size_t(n) * size_t(pixels) * size_t(p.out_c);
    for (int32_t start = 0; start < pixels; start += kTileRows) {
      j.rows = pixels - start < kTileRows ? pixels - start : kTileRows;
      for (int32_t g = 0; g < p.groups; ++g) {
        for (int32_t i = 0; i < j.rows; ++i) {
          const int32_t pix = start + i;
          gather(p, narrow, in_n, pix / p.out_w, pix % p.out_w, g, tile + size_t(i) * size_t(Kp), Kp, copy);
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

// A whole output row, 32 channels and two taps per step: the two taps' bytes are interleaved
// (vpunpck[lh]bw), widened to int16 pairs and multiplied with int16 weight pairs by vpdpwssd.
// Within 128-bit lanes the interleave orders channels as [0-7, 16-23] and [8-15, 24-31], so the
// pair weights are packed in that order (dw_pair_weights) and the sums permuted back at the end.
// tap[x * T + t] is pixel x's tap t; an odd last tap pairs with the zero-point row and weight 0.
NEUTRON_TARGET_AVX512 void dw_row_avx512(const Conv2DInt8Params& p, const int8_t* const* tap, const int16_t* wp,
                                         const int8_t* zrow, int8_t* out) {
  const int32_t C = p.out_c, T = taps(p), W = p.out_w, pairs = (T + 1) / 2;
  const int32_t blocks = (C + 31) / 32;
  const __m512i idx0 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const __m512i idx1 = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  for (int32_t cb = 0; cb < blocks; ++cb) {
    const int32_t c = cb * 32;
    const int32_t n = C - c < 32 ? C - c : 32;
    const __mmask32 mask = n == 32 ? __mmask32(0xFFFFFFFFu) : __mmask32((1u << n) - 1);
    const __mmask16 m0 = __mmask16(mask), m1 = __mmask16(mask >> 16);
    const __m512i bias0 = _mm512_maskz_loadu_epi32(m0, p.bias + c);
    const __m512i bias1 = _mm512_maskz_loadu_epi32(m1, p.bias + c + 16);
    const Requant16 rq0 = requant16_setup(p.multipliers + c, n, p.output_zero_point, p.qmin, p.qmax);
    const Requant16 rq1 = requant16_setup(p.multipliers + c + 16, n - 16, p.output_zero_point, p.qmin, p.qmax);
    const int16_t* wb = wp + size_t(cb) * 64;
    for (int32_t x = 0; x < W; ++x) {
      const int8_t* const* tp = tap + size_t(x) * size_t(T);
      __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
      for (int32_t q = 0; q < pairs; ++q) {
        const int8_t* t0 = tp[2 * q];
        const int8_t* t1 = 2 * q + 1 < T ? tp[2 * q + 1] : zrow;
        const __m256i a = _mm256_maskz_loadu_epi8(mask, t0 + c), b = _mm256_maskz_loadu_epi8(mask, t1 + c);
        const __m512i xl = _mm512_cvtepi8_epi16(_mm256_unpacklo_epi8(a, b));
        const __m512i xh = _mm512_cvtepi8_epi16(_mm256_unpackhi_epi8(a, b));
        const int16_t* w = wb + size_t(q) * size_t(blocks) * 64;
        lo = _mm512_dpwssd_epi32(lo, xl, _mm512_loadu_si512(w));
        hi = _mm512_dpwssd_epi32(hi, xh, _mm512_loadu_si512(w + 32));
      }
      const __m512i s0 = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, idx0, hi), bias0);
      const __m512i s1 = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, idx1, hi), bias1);
      int8_t* o = out + size_t(x) * size_t(C) + size_t(c);
      _mm_mask_storeu_epi8(o, m0, requant16_avx512(s0, rq0));
      if (n > 16) _mm_mask_storeu_epi8(o + 16, m1, requant16_avx512(s1, rq1));
    }
  }
}
#endif

// One output row from its tap pointers.
void dw_row(const Conv2DInt8Params& p, const int8_t* const* tap, const int32_t* w, const int8_t* zrow, int8_t* out) {
  const int32_t T = taps(p);
  const bool same_c = p.out_c == p.in_c;  // depth multiplier 1: vector code
#if NEUTRON_X86_KERNELS
  const KernelIsa isa = kernel_isa();
  if (same_c && isa == KernelIsa::kAvx512)
    return dw_row_avx512(p, tap, reinterpret_cast<const int16_t*>(w + size_t(T) * size_t(p.out_c)), zrow, out);
  if (same_c && isa == KernelIsa::kAvx2) {
    for (int32_t x = 0; x < p.out_w; ++x) dw_pixel_avx2(p, tap + size_t(x) * size_t(T), w, out + size_t(x) * size_t(p.out_c));
    return;
  }
#endif
  (void)same_c;
  for (int32_t x = 0; x < p.out_w; ++x) dw_pixel_scalar(p, tap + size_t(x) * size_t(T), w, out + size_t(x) * size_t(p.out_c));
}

void conv_depthwise(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, uint8_t* scratch) {
  const int32_t C = p.in_c, OC = p.out_c, T = taps(p);
  const int8_t** tap = reinterpret_cast<const int8_t**>(scratch);
  int8_t* zrow = reinterpret_cast<int8_t*>(scratch + align64(size_t(p.out_w) * size_t(T) * sizeof(const int8_t*)));
  std::memset(zrow, int8_t(p.input_zero_point), size_t(C));
  const int32_t* w = reinterpret_cast<const int32_t*>(p.weights);
  for (int32_t n = 0; n < p.batch; ++n) {
    const int8_t* in_n = in + size_t(n) * size_t(p.in_h) * size_t(p.in_w) * size_t(C);
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        const int8_t** tp = tap + size_t(ox) * size_t(T);
        int32_t t = 0;
        for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
          const int32_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
          for (int32_t kx = 0; kx < p.kernel_w; ++kx, ++t) {
            const int32_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            tp[t] = (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w)
                        ? zrow
                        : in_n + (size_t(iy) * size_t(p.in_w) + size_t(ix)) * size_t(C);
          }
        }
      }
      dw_row(p, tap, w, zrow, out + (size_t(n) * size_t(p.out_h) + size_t(oy)) * size_t(p.out_w) * size_t(OC));
    }
  }
}

}  // namespace

// int16 units of the tap-pair weights (depth multiplier 1 only).
static size_t dw_pair_weights(const Conv2DInt8Params& p) {
  if (p.out_c != p.in_c) return 0;
  return size_t((taps(p) + 1) / 2) * size_t((p.out_c + 31) / 32) * 64;
}

void conv2d_int8_choose_path(Conv2DInt8Params* p) {
  p->depthwise = p->groups > 1 && p->groups == p->in_c && p->out_c % p->in_c == 0;
}

size_t conv2d_int8_packed_weights_size(const Conv2DInt8Params& p) {
  if (p.depthwise) return size_t(taps(p)) * size_t(p.out_c) * (sizeof(int32_t) / sizeof(int16_t)) + dw_pair_weights(p);
  return (size_t(p.groups) * qgemm_detail::packed_bytes(patch_size(p), p.out_c / p.groups) +
          qgemm_detail::kAmxWeightSlack) /
         sizeof(int16_t);
}

namespace {

// The GEMM panels of one group (qgemm_detail::pack_panels' layout, gemm_int8_impl.h) over
// k = (ky, kx, ic): k is split into taps once per k, not once per element.
template <typename W>
void pack_gemm_panels(int32_t K, int32_t N, int32_t cin_g, int32_t kw, int32_t oc0, W& w_at, int8_t* packed) {
  using qgemm_detail::kPanel;
  const int32_t Kp = round4(K);
  const int32_t panels = (N + kPanel - 1) / kPanel;
  for (int32_t pn = 0; pn < panels; ++pn) {
    int8_t* dst = packed + size_t(pn) * size_t(Kp) * kPanel;
    for (int32_t k = 0; k < Kp; ++k) {
      const int32_t tap = k / cin_g, ic = k % cin_g, ky = tap / kw, kx = tap % kw;
      int8_t* d = dst + size_t(k / 4) * 64 + size_t(k % 4);
      for (int32_t j = 0; j < kPanel; ++j) {
        const int32_t n = pn * kPanel + j;
        d[size_t(j) * 4] = (n < N && k < K) ? w_at(oc0 + n, ic, ky, kx) : int8_t(0);
      }
    }
  }
}

// Packs weights given by w_at(oc, ic_in_group, ky, kx) (conv2d_int8_pack, conv2d_int8_pack_ohwi).
template <typename W>
void pack_conv(const Conv2DInt8Params& p, W&& w_at, const int32_t* bias, int16_t* packed, int32_t* bias_out) {
  const int32_t cin_g = p.in_c / p.groups, kh = p.kernel_h, kw = p.kernel_w;
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
    // Then the int16 tap-pair layout of dw_row_avx512: [pair][32-channel block][lo 16 x 2 | hi 16 x 2].
    if (dw_pair_weights(p) > 0) {
      int16_t* pw = reinterpret_cast<int16_t*>(dst + size_t(taps(p)) * size_t(p.out_c));
      const int32_t T = taps(p), blocks = (p.out_c + 31) / 32;
      for (int32_t q = 0; q < (T + 1) / 2; ++q)
        for (int32_t cb = 0; cb < blocks; ++cb)
          for (int32_t i = 0; i < 32; ++i) {  // i < 16: the lo register, else hi
            const int32_t lane = i % 16;
            const int32_t ch = cb * 32 + (i < 16 ? (lane < 8 ? lane : lane + 8) : (lane < 8 ? lane + 8 : lane + 16));
            for (int32_t k = 0; k < 2; ++k) {
              const int32_t t = 2 * q + k;
              pw[((size_t(q) * size_t(blocks) + size_t(cb)) * 32 + size_t(i)) * 2 + size_t(k)] =
                  int16_t(ch < p.out_c && t < T ? w_at(ch, 0, t / kw, t % kw) : 0);
            }
          }
    }
    return;
  }
  const int32_t K = patch_size(p), cout_g = p.out_c / p.groups;
  const size_t group_bytes = qgemm_detail::packed_bytes(K, cout_g);
  int8_t* dst = reinterpret_cast<int8_t*>(packed);
  std::memset(dst + size_t(p.groups) * group_bytes, 0, qgemm_detail::kAmxWeightSlack);
  for (int32_t g = 0; g < p.groups; ++g) {
    int8_t* pg = dst + size_t(g) * group_bytes;
    pack_gemm_panels(K, cout_g, cin_g, kw, g * cout_g, w_at, pg);
    fold_zero_point_into_bias(reinterpret_cast<const int16_t*>(pg), K, cout_g, bias ? bias + size_t(g) * size_t(cout_g) : nullptr,
                              p.input_zero_point, bias_out + size_t(g) * size_t(cout_g));
  }
}

}  // namespace

void conv2d_int8_pack(const Conv2DInt8Params& p, const int8_t* w, const int32_t* bias, int16_t* packed,
                      int32_t* bias_out) {
  const size_t cin_g = size_t(p.in_c / p.groups), kh = size_t(p.kernel_h), kw = size_t(p.kernel_w);
  pack_conv(
      p,
      [&](int32_t oc, int32_t ic, int32_t ky, int32_t kx) {
        return w[((size_t(oc) * cin_g + size_t(ic)) * kh + size_t(ky)) * kw + size_t(kx)];
      },
      bias, packed, bias_out);
}

void conv2d_int8_pack_ohwi(const Conv2DInt8Params& p, const int8_t* w, int32_t ic_stride, const int32_t* bias,
                           int16_t* packed, int32_t* bias_out) {
  const size_t kh = size_t(p.kernel_h), kw = size_t(p.kernel_w), cs = size_t(ic_stride);
  pack_conv(
      p,
      [&](int32_t oc, int32_t ic, int32_t ky, int32_t kx) {
        return w[((size_t(oc) * kh + size_t(ky)) * kw + size_t(kx)) * cs + size_t(ic)];
      },
      bias, packed, bias_out);
}

size_t conv2d_int8_scratch_bytes(const Conv2DInt8Params& p) {
  if (p.depthwise) return align64(size_t(p.out_w) * size_t(taps(p)) * sizeof(const int8_t*)) + size_t(p.in_c);
  const size_t tile_vnni = size_t(kTileRows) * size_t(round4(patch_size(p)));
  const size_t tile_amx = size_t(qgemm_detail::kAmxChunkRows) * size_t(qgemm_detail::round64(patch_size(p)));
  const size_t tile = tile_vnni > tile_amx ? tile_vnni : tile_amx;
  if (implicit_im2col(p)) {
    const size_t implicit = implicit_scratch_bytes(p);
    return implicit > tile ? implicit : tile;
  }
  return tile;
}

void conv2d_int8_nhwc(const Conv2DInt8Params& p, const int8_t* in, int8_t* out, void* scratch) {
  if (p.depthwise)
    conv_depthwise(p, in, out, static_cast<uint8_t*>(scratch));
  else
    conv_general(p, in, out, static_cast<uint8_t*>(scratch));
}

}  // namespace neutron
