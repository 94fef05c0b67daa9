// The float GEMM micro-kernel, its blocked driver and the depthwise (multiplier 1) kernel, written
// once with GCC/Clang vector extensions and compiled once per ISA: gemm_f32.cc (baseline),
// gemm_f32_avx2.cc (-mavx2 -mfma) and gemm_f32_avx512.cc (-mavx512f ...), each defining
// NEUTRON_F32_NS first; gemm_f32()/conv2d_f32() pick one at run time (cpu_isa.h). Every helper
// here has internal linkage, so no ISA-specific copy of an inline function can leak to other code.
// Per output element the summation order is the same in every variant (k ascending, products not
// fused), so the variants agree bit for bit.
#include <cstring>
#include <limits>

#include "kernels/conv2d_f32.h"
#include "kernels/f32_isa.h"
#include "kernels/gemm_f32.h"

namespace neutron {
namespace NEUTRON_F32_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kVecLanes = 16;
constexpr int kMr = 12;  // 32 zmm registers: 12 accumulators of one vector
#elif defined(__AVX__)
constexpr int kVecLanes = 8;
constexpr int kMr = 6;
#else
constexpr int kVecLanes = 4;
constexpr int kMr = 6;
#endif
typedef float Vec __attribute__((vector_size(kVecLanes * sizeof(float))));
constexpr int kVecsPerRow = kGemmNr / kVecLanes;
static_assert(kGemmNr % kVecLanes == 0, "a tile row is a whole number of vectors");
static_assert(kGemmMc % kMr == 0, "kGemmMc must be a multiple of the row tile");
constexpr int kDwVecs = 4;  // depthwise: channels per block = kDwVecs * kVecLanes

inline float fmin_(float a, float b) { return b < a ? b : a; }
inline float fmax_(float a, float b) { return a < b ? b : a; }
inline int64_t imin_(int64_t a, int64_t b) { return b < a ? b : a; }
inline int64_t imax_(int64_t a, int64_t b) { return a < b ? b : a; }
inline Vec load_vec(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store_vec(float* p, const Vec& v) { std::memcpy(p, &v, sizeof(v)); }
bool has_clamp(float lo, float hi) {
  return lo > -std::numeric_limits<float>::infinity() || hi < std::numeric_limits<float>::infinity();
}
void clamp_inplace(float* y, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) y[i] = fmin_(fmax_(y[i], lo), hi);
}
inline void valid_taps(int64_t start, int64_t dilation, int64_t kernel, int64_t len, int64_t* lo, int64_t* hi) {
  int64_t l = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  int64_t h = start > len - 1 ? 0 : imin_(kernel, (len - 1 - start) / dilation + 1);
  *lo = imin_(l, kernel);
  *hi = imax_(h, *lo);
}

// Panels per register tile: AVX-512 has one vector per panel row, so a 12 x 16 tile would issue
// 13 loads per 12 FMAs; covering two panels (12 x 32, 24 accumulators) halves the loads per FMA
// and the passes over the A block. Narrower ISAs already hold kVecsPerRow >= 2 vectors per row.
constexpr int kPanelsPerTile = kVecsPerRow == 1 ? 2 : 1;

struct TileEpilogue {
  const float* bias;  // nullptr: add nothing (unless load_c); columns of the first panel of the tile
  bool load_c;        // add the current C
  bool relu;          // v > 0 ? v : 0 before the clamp
  bool clamp;
  float lo, hi;
};

// Adds, activates and stores the first n columns of one row (t holds the sums).
inline void store_row(const float* t, float* cr, int n, const float* bias, const TileEpilogue& ep) {
  for (int j = 0; j < n; ++j) {
    float v = t[j];
    if (ep.load_c)
      v += cr[j];
    else if (bias)
      v += bias[j];
    if (ep.relu) v = v > 0.0f ? v : 0.0f;
    if (ep.clamp) v = fmin_(fmax_(v, ep.lo), ep.hi);
    cr[j] = v;
  }
}

// Packed A (x86 vector variants): an A block copied tile by tile so that a micro tile reads its
// MR rows as one sequential stream (element (r, k) of the tile at a[k * MR + r]) instead of MR
// strided ones, which the L1 prefetchers cannot follow. The tile of rows [i, i + MR) starts at
// i * kc, whatever the tile sizes of tiles<>, so pack_a mirrors its recursion. Same products and
// summation order as unpacked A.
// Only worth its copy when the block is swept by several tiles of B panels (kPackMinPanels: up to
// 8 panels, e.g. MobileNetV2's 576 -> 96 pointwise convolutions, the unpacked rows measured
// faster), and only in the x86 vector builds (the portable build, used on embedded targets, keeps
// no buffer).
constexpr int64_t kPackMinPanels = 9;

// The next smaller row tile for the rows left over by MR-row tiles: 12 -> 8 -> 4 -> 2 -> 1 (6 -> 4),
// so a remainder takes at most one 1-row tile (which loads B once per FMA row).
template <int MR>
constexpr int next_mr() {
  return MR > 8 ? 8 : MR > 4 ? 4 : MR / 2;
}

template <int MR>
void pack_a(int64_t mc, int64_t kc, const float* a, int64_t lda, float* out) {
  int64_t i = 0;
  for (; i + MR <= mc; i += MR) {
    float* dst = out + i * kc;
    const float* src = a + i * lda;
    for (int64_t k = 0; k < kc; ++k, dst += MR)  // sequential writes; MR read streams
      for (int r = 0; r < MR; ++r) dst[r] = src[r * lda + k];
  }
  if (i < mc) {
    if constexpr (MR > 1) pack_a<next_mr<MR>()>(mc - i, kc, a + i * lda, lda, out + i * kc);
  }
}

// C tile [MR x (NP panels)] = epilogue(A[MR x kc] * B panels[kc x kGemmNr]), panel q at
// b + q * panel_stride, nr columns in the last panel (the others are full). A is packed (pack_a)
// when kPackA, else rows of stride lda.
// kPrefetch: the first row tile of a pass over a B slice, which meets the slice's lines first
// (from L3 or memory when the weights outgrow L2, e.g. ResNet-18's 512 x 4608 layers, whose 49
// output rows give the prefetchers little time): it asks for the lines kPrefetchK rows ahead.
constexpr int64_t kPrefetchK = 48;
template <int MR, int NP, bool kPackA, bool kPrefetch = false>
inline void micro_tile(int64_t kc, const float* __restrict a, int64_t lda, const float* __restrict b,
                       int64_t panel_stride, float* __restrict c, int64_t ldc, int nr, const TileEpilogue& ep) {
  constexpr int kV = NP * kVecsPerRow;
  Vec acc[MR][kV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < kV; ++v) acc[i][v] = Vec{};
  const float* ap[MR];
  for (int i = 0; i < MR; ++i) ap[i] = a + i * lda;
  for (int64_t k = 0; k < kc; ++k) {
    if (kPrefetch)
      for (int q = 0; q < NP; ++q) __builtin_prefetch(b + q * panel_stride + (k + kPrefetchK) * kGemmNr);
    Vec bv[kV];
    for (int q = 0; q < NP; ++q)
      for (int v = 0; v < kVecsPerRow; ++v)
        std::memcpy(&bv[q * kVecsPerRow + v], b + q * panel_stride + k * kGemmNr + v * kVecLanes, sizeof(Vec));
    for (int i = 0; i < MR; ++i) {
      const float av = kPackA ? a[k * MR + i] : ap[i][k];
      for (int v = 0; v < kV; ++v) acc[i][v] += bv[v] * av;
    }
  }
  // The epilogue on whole vectors of valid columns, with the scalar comparisons lane by lane (a
  // vector ?: selects per lane, NaN compares false the same way), so the same floats; the lanes
  // of a last partial vector go through store_row. The loops over v have constant bounds so that
  // acc[] stays in registers.
  const int valid = (NP - 1) * kGemmNr + nr;
  const int full = valid / kVecLanes;
  const int rem = valid - full * kVecLanes;
  const Vec zero = Vec{};
  const Vec lo = zero + ep.lo, hi = zero + ep.hi;
  for (int i = 0; i < MR; ++i) {
    float* cr = c + i * ldc;
    for (int v = 0; v < kV; ++v) {
      if (v < full) {
        Vec r = acc[i][v];
        if (ep.load_c)
          r += load_vec(cr + v * kVecLanes);
        else if (ep.bias)
          r += load_vec(ep.bias + v * kVecLanes);
        if (ep.relu) r = r > zero ? r : zero;
        if (ep.clamp) {
          r = r < lo ? lo : r;
          r = hi < r ? hi : r;
        }
        store_vec(cr + v * kVecLanes, r);
      } else if (v == full && rem > 0) {
        alignas(64) float t[kVecLanes];
        const Vec part = acc[i][v];
        std::memcpy(t, &part, sizeof(Vec));
        store_row(t, cr + v * kVecLanes, rem, ep.bias ? ep.bias + v * kVecLanes : nullptr, ep);
      }
    }
  }
}

template <int MR, int NP, bool kPackA>
void tiles(int64_t mc, int64_t kc, const float* a, int64_t lda, const float* b, int64_t panel_stride, float* c,
           int64_t ldc, int nr, const TileEpilogue& ep) {
  int64_t i = 0;
#if defined(__AVX__)
  if (MR == kMr && kc >= 2 * kPrefetchK && i + MR <= mc) {
    micro_tile<MR, NP, kPackA, true>(kc, a, lda, b, panel_stride, c, ldc, nr, ep);
    i += MR;
  }
#endif
  for (; i + MR <= mc; i += MR)
    micro_tile<MR, NP, kPackA>(kc, a + i * lda, lda, b, panel_stride, c + i * ldc, ldc, nr, ep);
  if (i < mc) {
    if constexpr (MR > 1)
      tiles<next_mr<MR>(), NP, kPackA>(mc - i, kc, a + i * lda, lda, b, panel_stride, c + i * ldc, ldc, nr, ep);
  }
}

}  // namespace

// gemm_f32 for K > 0 (gemm_f32.h); with `fill`, A comes block by block from it (gemm_f32_filled).
void gemm_blocked(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* packed_b, float* c,
                  int64_t ldc, const GemmF32Epilogue& ep, const GemmF32AFill* fill) {
  const bool clamp = ep.min > -std::numeric_limits<float>::infinity() || ep.max < std::numeric_limits<float>::infinity();
  const int64_t panels = (N + kGemmNr - 1) / kGemmNr;
  const int64_t panel_stride = K * kGemmNr;
#if defined(__AVX__)
  alignas(64) static thread_local float a_block[kGemmMc * kGemmKc];
#endif
  for (int64_t m0 = 0; m0 < M; m0 += kGemmMc) {
    const int64_t mc = imin_(kGemmMc, M - m0);
    for (int64_t k0 = 0; k0 < K; k0 += kGemmKc) {
      const int64_t kc = imin_(kGemmKc, K - k0);
      const float* ap = fill ? fill->scratch : a + m0 * lda + k0;
      int64_t ap_ld = fill ? kc : lda;
      if (fill) fill->fill(fill->ctx, m0, mc, k0, kc, fill->scratch);
      bool packed = false;
#if defined(__AVX__)
      if (panels >= kPackMinPanels) {
        pack_a<kMr>(mc, kc, ap, ap_ld, a_block);
        ap = a_block;
        ap_ld = kc;  // tiles<> steps i rows as i * kc floats: the packed tile starts
        packed = true;
      }
#endif
      const bool first = k0 == 0;
      const bool last = k0 + kc == K;
      for (int64_t p = 0; p < panels;) {
        const int np = p + kPanelsPerTile <= panels ? kPanelsPerTile : 1;
        const int nr = int(imin_(kGemmNr, N - (p + np - 1) * kGemmNr));  // columns of the tile's last panel
        const float* bp = packed_b + (p * K + k0) * kGemmNr;
        TileEpilogue te;
        te.load_c = !first || ep.accumulate;
        te.bias = first && !ep.accumulate && ep.bias ? ep.bias + p * kGemmNr : nullptr;
        te.relu = last && ep.relu;
        te.clamp = last && clamp;
        te.lo = ep.min;
        te.hi = ep.max;
        float* cp = c + m0 * ldc + p * kGemmNr;
        if (packed) {
          if (np == 2)
            tiles<kMr, kPanelsPerTile, true>(mc, kc, ap, ap_ld, bp, panel_stride, cp, ldc, nr, te);
          else
            tiles<kMr, 1, true>(mc, kc, ap, ap_ld, bp, panel_stride, cp, ldc, nr, te);
        } else {
          if (np == 2)
            tiles<kMr, kPanelsPerTile, false>(mc, kc, ap, ap_ld, bp, panel_stride, cp, ldc, nr, te);
          else
            tiles<kMr, 1, false>(mc, kc, ap, ap_ld, bp, panel_stride, cp, ldc, nr, te);
        }
        p += np;
      }
    }
  }
}


// ---- implicit-GEMM convolution (conv_implicit): A read in place from a zero-padded image ----
namespace {

// One tile of MR output pixels: A row i (a pixel's receptive field) is kernel_h runs of seg_len
// adjacent floats, the first at a + i * lda, each next seg_stride further; columns [k0, k0 + kc)
// of it meet B (b at column k0 of the first panel). Row i of C at crow[i] + col0. Same products
// and summation order as micro_tile over the im2col matrix.
template <int MR, int NP>
inline void micro_tile_implicit(int64_t k0, int64_t kc, const float* __restrict a, int64_t lda, int64_t seg_len,
                                int64_t seg_stride, const float* __restrict b, int64_t panel_stride,
                                float* const* crow, int64_t col0, int nr, const TileEpilogue& ep) {
  constexpr int kV = NP * kVecsPerRow;
  Vec acc[MR][kV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < kV; ++v) acc[i][v] = Vec{};
  const int64_t kend = k0 + kc;
  const float* bk = b;
  for (int64_t k = k0; k < kend;) {
    const int64_t s = k / seg_len, off = k - s * seg_len;
    const int64_t len = imin_(seg_len - off, kend - k);
    const float* as = a + s * seg_stride + off;
    for (int64_t kk = 0; kk < len; ++kk) {
      Vec bv[kV];
      for (int q = 0; q < NP; ++q)
        for (int v = 0; v < kVecsPerRow; ++v)
          std::memcpy(&bv[q * kVecsPerRow + v], bk + q * panel_stride + kk * kGemmNr + v * kVecLanes, sizeof(Vec));
      for (int i = 0; i < MR; ++i) {
        const float av = as[i * lda + kk];
        for (int v = 0; v < kV; ++v) acc[i][v] += bv[v] * av;
      }
    }
    bk += len * kGemmNr;
    k += len;
  }
  const int valid = (NP - 1) * kGemmNr + nr;
  const int full = valid / kVecLanes;
  const int rem = valid - full * kVecLanes;
  const Vec zero = Vec{};
  const Vec lo = zero + ep.lo, hi = zero + ep.hi;
  for (int i = 0; i < MR; ++i) {
    float* cr = crow[i] + col0;
    for (int v = 0; v < kV; ++v) {
      if (v < full) {
        Vec r = acc[i][v];
        if (ep.load_c)
          r += load_vec(cr + v * kVecLanes);
        else if (ep.bias)
          r += load_vec(ep.bias + v * kVecLanes);
        if (ep.relu) r = r > zero ? r : zero;
        if (ep.clamp) {
          r = r < lo ? lo : r;
          r = hi < r ? hi : r;
        }
        store_vec(cr + v * kVecLanes, r);
      } else if (v == full && rem > 0) {
        alignas(64) float t[kVecLanes];
        const Vec part = acc[i][v];
        std::memcpy(t, &part, sizeof(Vec));
        store_row(t, cr + v * kVecLanes, rem, ep.bias ? ep.bias + v * kVecLanes : nullptr, ep);
      }
    }
  }
}

template <int MR, int NP>
void tiles_implicit(int64_t mc, int64_t k0, int64_t kc, const float* a, int64_t lda, int64_t seg_len,
                    int64_t seg_stride, const float* b, int64_t panel_stride, float* const* crow, int64_t col0, int nr,
                    const TileEpilogue& ep) {
  int64_t i = 0;
  for (; i + MR <= mc; i += MR)
    micro_tile_implicit<MR, NP>(k0, kc, a + i * lda, lda, seg_len, seg_stride, b, panel_stride, crow + i, col0, nr, ep);
  if (i < mc) {
    if constexpr (MR > 1)
      tiles_implicit<next_mr<MR>(), NP>(mc - i, k0, kc, a + i * lda, lda, seg_len, seg_stride, b, panel_stride,
                                        crow + i, col0, nr, ep);
  }
}

}  // namespace

namespace {

// pack_a's layout from implicit rows: row r of the block is kernel_h runs of seg_len floats, the
// first at rows[r], each next seg_stride further; columns [k0, k0 + kc).
template <int MR>
void pack_a_implicit(int64_t mc, int64_t k0, int64_t kc, const float* const* rows, int64_t seg_len,
                     int64_t seg_stride, float* out) {
  int64_t i = 0;
  for (; i + MR <= mc; i += MR) {
    float* dst = out + i * kc;
    for (int64_t k = k0; k < k0 + kc;) {
      const int64_t s = k / seg_len, off = k - s * seg_len;
      const int64_t len = imin_(seg_len - off, k0 + kc - k);
      const float* src[MR];
      for (int r = 0; r < MR; ++r) src[r] = rows[i + r] + s * seg_stride + off;
      for (int64_t kk = 0; kk < len; ++kk, dst += MR)  // sequential writes; MR read streams
        for (int r = 0; r < MR; ++r) dst[r] = src[r][kk];
      k += len;
    }
  }
  if (i < mc) {
    if constexpr (MR > 1)
      pack_a_implicit<next_mr<MR>()>(mc - i, k0, kc, rows + i, seg_len, seg_stride, out + i * kc);
  }
}

}  // namespace

bool conv_implicit_packed_available() {
#if defined(__AVX__)
  return true;
#else
  return false;
#endif
}

// The implicit GEMM of one image over its padded copy img (row width Wp), A packed per block
// straight from img: the products, blocks and sums of gemm_blocked's packed path over the im2col
// matrix. Only in the x86 vector builds.
void conv_implicit_packed(const Conv2DF32Params& p, const float* img, int64_t Wp, const float* packed_w,
                          const float* bias, float* y) {
#if defined(__AVX__)
  const int64_t N = p.out_c, K = p.gemm_k, C = p.in_c, seg_len = p.kernel_w * C;
  const int64_t seg_stride = p.dilation_h * Wp * C, count = p.out_h * p.out_w;
  const float* rows[kGemmMc];
  const bool clamp = has_clamp(p.act_min, p.act_max);
  const int64_t panels = (N + kGemmNr - 1) / kGemmNr;
  const int64_t panel_stride = K * kGemmNr;
  alignas(64) static thread_local float a_block[kGemmMc * kGemmKc];
  for (int64_t m0 = 0; m0 < count; m0 += kGemmMc) {
    const int64_t mc = imin_(kGemmMc, count - m0);
    for (int64_t i = 0; i < mc; ++i) {
      const int64_t oh = (m0 + i) / p.out_w, ow = (m0 + i) - oh * p.out_w;
      rows[i] = img + (oh * p.stride_h * Wp + ow * p.stride_w) * C;
    }
    for (int64_t k0 = 0; k0 < K; k0 += kGemmKc) {
      const int64_t kc = imin_(kGemmKc, K - k0);
      pack_a_implicit<kMr>(mc, k0, kc, rows, seg_len, seg_stride, a_block);
      for (int64_t pn = 0; pn < panels;) {
        const int np = pn + kPanelsPerTile <= panels ? kPanelsPerTile : 1;
        const int nr = int(imin_(kGemmNr, N - (pn + np - 1) * kGemmNr));
        TileEpilogue te;
        te.load_c = k0 != 0;
        te.bias = k0 == 0 && bias ? bias + pn * kGemmNr : nullptr;
        te.relu = k0 + kc == K && p.act_relu;
        te.clamp = k0 + kc == K && clamp;
        te.lo = p.act_min;
        te.hi = p.act_max;
        const float* bp = packed_w + (pn * K + k0) * kGemmNr;
        float* cp = y + m0 * N + pn * kGemmNr;
        if (np == 2)
          tiles<kMr, kPanelsPerTile, true>(mc, kc, a_block, kc, bp, panel_stride, cp, N, nr, te);
        else
          tiles<kMr, 1, true>(mc, kc, a_block, kc, bp, panel_stride, cp, N, nr, te);
        pn += np;
      }
    }
  }
#else
  (void)p, (void)img, (void)Wp, (void)packed_w, (void)bias, (void)y;
#endif
}

// Rows v in [0, count) of the implicit A: v at a + v * lda; C row of v from row_of(v), or the
// dummy row when it is dropped. Blocked like gemm_blocked (kGemmMc rows, kGemmKc depth).
void conv_implicit_rows(const Conv2DF32Params& p, const float* a, int64_t lda, int64_t count, int64_t seg_stride,
                        const ConvImplicitRowMap& map, const float* packed_w, const float* bias, float** crow) {
  const int64_t N = p.out_c, K = p.gemm_k, seg_len = p.kernel_w * p.in_c;
  const bool clamp = has_clamp(p.act_min, p.act_max);
  const int64_t panels = (N + kGemmNr - 1) / kGemmNr;
  const int64_t panel_stride = K * kGemmNr;
  for (int64_t m0 = 0; m0 < count; m0 += kGemmMc) {
    const int64_t mc = imin_(kGemmMc, count - m0);
    for (int64_t i = 0; i < mc; ++i) {
      const int64_t v = m0 + i;
      const int64_t q = v / map.vwidth, col = v - q * map.vwidth;
      crow[i] = col < map.valid ? map.y + (q * map.valid + col) * N : map.dummy;
    }
    for (int64_t k0 = 0; k0 < K; k0 += kGemmKc) {
      const int64_t kc = imin_(kGemmKc, K - k0);
      for (int64_t pn = 0; pn < panels;) {
        const int np = pn + kPanelsPerTile <= panels ? kPanelsPerTile : 1;
        const int nr = int(imin_(kGemmNr, N - (pn + np - 1) * kGemmNr));
        TileEpilogue te;
        te.load_c = k0 != 0;
        te.bias = k0 == 0 && bias ? bias + pn * kGemmNr : nullptr;
        te.relu = k0 + kc == K && p.act_relu;
        te.clamp = k0 + kc == K && clamp;
        te.lo = p.act_min;
        te.hi = p.act_max;
        const float* bp = packed_w + (pn * K + k0) * kGemmNr;
        if (np == 2)
          tiles_implicit<kMr, kPanelsPerTile>(mc, k0, kc, a + m0 * lda, lda, seg_len, seg_stride, bp, panel_stride, crow,
                                             pn * kGemmNr, nr, te);
        else
          tiles_implicit<kMr, 1>(mc, k0, kc, a + m0 * lda, lda, seg_len, seg_stride, bp, panel_stride, crow,
                                 pn * kGemmNr, nr, te);
        pn += np;
      }
    }
  }
}

// kDwPixels adjacent output pixels of one row whose kw taps are all inside the image: each weight
// vector is loaded once for all of them. Per output the same sum in the same order (bias, then kh,
// kw ascending) as the per-pixel loop in depthwise_m1, and the same activation.
constexpr int kDwPixels = 4;
void depthwise_m1_pixels(const Conv2DF32Params& p, const float* xb, const float* w, const float* bias, int64_t ih0,
                         int64_t iw0, int64_t kh_lo, int64_t kh_hi, float* yp) {
  const int64_t C = p.out_c;
  const int64_t xstep = p.stride_w * C;  // between the pixels' input windows
  int64_t c = 0;
  for (; c + kVecLanes <= C; c += kVecLanes) {
    Vec acc[kDwPixels];
    for (int j = 0; j < kDwPixels; ++j) acc[j] = bias ? load_vec(bias + c) : Vec{};
    for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
      const float* xr = xb + ((ih0 + kh * p.dilation_h) * p.in_w + iw0) * C + c;
      const float* wr = w + kh * p.kernel_w * C + c;
      for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
        const Vec wv = load_vec(wr + kw * C);
        const float* xp = xr + kw * p.dilation_w * C;
        for (int j = 0; j < kDwPixels; ++j) acc[j] += load_vec(xp + j * xstep) * wv;
      }
    }
    for (int j = 0; j < kDwPixels; ++j) store_vec(yp + j * C + c, acc[j]);
  }
  for (; c < C; ++c)
    for (int j = 0; j < kDwPixels; ++j) {
      float acc = bias ? bias[c] : 0.0f;
      for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
        for (int64_t kw = 0; kw < p.kernel_w; ++kw)
          acc += xb[((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C + j * xstep + c] *
                 w[(kh * p.kernel_w + kw) * C + c];
      yp[j * C + c] = acc;
    }
  const bool clamp = has_clamp(p.act_min, p.act_max);
  for (int j = 0; j < kDwPixels; ++j) {
    float* yj = yp + j * C;
    if (p.act_relu)
      for (int64_t i = 0; i < C; ++i) yj[i] = yj[i] > 0.0f ? yj[i] : 0.0f;
    if (clamp) clamp_inplace(yj, C, p.act_min, p.act_max);
  }
}

// Depth multiplier 1: y[c] = bias[c] + sum over taps of x[c] * w[tap][c], kDwVecs vectors at a time.
void depthwise_m1(const Conv2DF32Params& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t C = p.out_c;
  constexpr int64_t kBlock = kDwVecs * kVecLanes;
  const bool clamp = has_clamp(p.act_min, p.act_max);
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* xb = x + n * p.in_h * p.in_w * C;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const int64_t ih0 = oh * p.stride_h - p.pad_top;
      int64_t kh_lo, kh_hi;
      valid_taps(ih0, p.dilation_h, p.kernel_h, p.in_h, &kh_lo, &kh_hi);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_left;
        int64_t kw_lo, kw_hi;
        valid_taps(iw0, p.dilation_w, p.kernel_w, p.in_w, &kw_lo, &kw_hi);
        float* yp = y + ((n * p.out_h + oh) * p.out_w + ow) * C;
        if (kw_lo == 0 && kw_hi == p.kernel_w && ow + kDwPixels <= p.out_w && C >= kVecLanes) {
          int64_t last_lo, last_hi;  // interior pixels form one run: the first and last decide
          valid_taps(iw0 + (kDwPixels - 1) * p.stride_w, p.dilation_w, p.kernel_w, p.in_w, &last_lo, &last_hi);
          if (last_lo == 0 && last_hi == p.kernel_w) {
            depthwise_m1_pixels(p, xb, w, bias, ih0, iw0, kh_lo, kh_hi, yp);
            ow += kDwPixels - 1;
            continue;
          }
        }
        int64_t c = 0;
        for (; c + kBlock <= C; c += kBlock) {
          Vec acc[kDwVecs];
          for (int v = 0; v < kDwVecs; ++v) acc[v] = bias ? load_vec(bias + c + v * kVecLanes) : Vec{};
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
            const float* xr = xb + (ih0 + kh * p.dilation_h) * p.in_w * C + c;
            const float* wr = w + kh * p.kernel_w * C + c;
            for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
              const float* xp = xr + (iw0 + kw * p.dilation_w) * C;
              const float* wp = wr + kw * C;
              for (int v = 0; v < kDwVecs; ++v) acc[v] += load_vec(xp + v * kVecLanes) * load_vec(wp + v * kVecLanes);
            }
          }
          for (int v = 0; v < kDwVecs; ++v) store_vec(yp + c + v * kVecLanes, acc[v]);
        }
        for (; c + kVecLanes <= C; c += kVecLanes) {
          Vec acc = bias ? load_vec(bias + c) : Vec{};
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
            for (int64_t kw = kw_lo; kw < kw_hi; ++kw)
              acc += load_vec(xb + ((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C + c) *
                     load_vec(w + (kh * p.kernel_w + kw) * C + c);
          store_vec(yp + c, acc);
        }
        for (; c < C; ++c) {
          float acc = bias ? bias[c] : 0.0f;
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
            for (int64_t kw = kw_lo; kw < kw_hi; ++kw)
              acc += xb[((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C + c] *
                     w[(kh * p.kernel_w + kw) * C + c];
          yp[c] = acc;
        }
        if (p.act_relu)
          for (int64_t c = 0; c < C; ++c) yp[c] = yp[c] > 0.0f ? yp[c] : 0.0f;
        if (clamp) clamp_inplace(yp, C, p.act_min, p.act_max);
      }
    }
  }
}

// Same-shape float Add/Sub with a fused Relu/Clip (binary_f32_act, elementwise.h): per element
// the sum (or difference) of the Add/Sub kernel, then v > 0 ? v : 0 as the Relu op, then the Clip
// op's comparisons, so the same floats as the three separate passes.
namespace {
template <bool kSub, bool kRelu, bool kClamp>
void binary_act_impl(int64_t n, const float* a, const float* b, float* out, float lo, float hi) {
  const Vec zero = Vec{};
  const Vec vlo = zero + lo, vhi = zero + hi;
  int64_t i = 0;
  for (; i + kVecLanes <= n; i += kVecLanes) {
    Vec r = kSub ? load_vec(a + i) - load_vec(b + i) : load_vec(a + i) + load_vec(b + i);
    if (kRelu) r = r > zero ? r : zero;
    if (kClamp) {
      r = r < vlo ? vlo : r;
      r = vhi < r ? vhi : r;
    }
    store_vec(out + i, r);
  }
  for (; i < n; ++i) {
    float v = kSub ? a[i] - b[i] : a[i] + b[i];
    if (kRelu) v = v > 0.0f ? v : 0.0f;
    if (kClamp) {
      v = v < lo ? lo : v;
      v = hi < v ? hi : v;
    }
    out[i] = v;
  }
}
template <bool kSub>
void binary_act_op(int64_t n, const float* a, const float* b, float* out, bool relu, float lo, float hi) {
  const bool clamp = has_clamp(lo, hi);
  if (relu)
    clamp ? binary_act_impl<kSub, true, true>(n, a, b, out, lo, hi)
          : binary_act_impl<kSub, true, false>(n, a, b, out, lo, hi);
  else
    clamp ? binary_act_impl<kSub, false, true>(n, a, b, out, lo, hi)
          : binary_act_impl<kSub, false, false>(n, a, b, out, lo, hi);
}
}  // namespace

void binary_act(int64_t n, const float* a, const float* b, float* out, bool sub, bool relu, float lo, float hi) {
  if (sub)
    binary_act_op<true>(n, a, b, out, relu, lo, hi);
  else
    binary_act_op<false>(n, a, b, out, relu, lo, hi);
}

// Float max pooling (pool_f32.h), NHWC: per output pixel, kDwVecs vectors of channels at a time
// held in registers over the window's taps. Per element the same comparisons as the scalar
// kernel (m < v ? v : m from -inf, so a NaN tap is skipped), hence the same floats.
void maxpool_nhwc(const Pool2DParams& p, const float* x, float* y) {
  const int64_t C = p.channels;
  constexpr int64_t kBlock = kDwVecs * kVecLanes;
  const Vec neg_inf = Vec{} - std::numeric_limits<float>::infinity();
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* xb = x + n * p.in_h * p.in_w * C;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const int64_t ih0 = oh * p.stride_h - p.pad_top;
      int64_t kh_lo, kh_hi;
      valid_taps(ih0, p.dilation_h, p.kernel_h, p.in_h, &kh_lo, &kh_hi);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_left;
        int64_t kw_lo, kw_hi;
        valid_taps(iw0, p.dilation_w, p.kernel_w, p.in_w, &kw_lo, &kw_hi);
        float* yp = y + ((n * p.out_h + oh) * p.out_w + ow) * C;
        int64_t c = 0;
        for (; c + kBlock <= C; c += kBlock) {
          Vec m[kDwVecs];
          for (int v = 0; v < kDwVecs; ++v) m[v] = neg_inf;
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
            for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
              const float* xp = xb + ((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C + c;
              for (int v = 0; v < kDwVecs; ++v) {
                const Vec t = load_vec(xp + v * kVecLanes);
                m[v] = m[v] < t ? t : m[v];
              }
            }
          for (int v = 0; v < kDwVecs; ++v) store_vec(yp + c + v * kVecLanes, m[v]);
        }
        for (; c + kVecLanes <= C; c += kVecLanes) {
          Vec m = neg_inf;
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
            for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
              const Vec t = load_vec(xb + ((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C + c);
              m = m < t ? t : m;
            }
          store_vec(yp + c, m);
        }
        for (; c < C; ++c) {
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
            for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
              const float t = xb[((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C + c];
              m = m < t ? t : m;
            }
          yp[c] = m;
        }
      }
    }
  }
}

}  // namespace NEUTRON_F32_NS
}  // namespace neutron
