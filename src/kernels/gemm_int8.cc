#include "kernels/gemm_int8.h"

#include <cstring>

#include "kernels/cpu_isa.h"
#include "kernels/gemm_int8_impl.h"
#include "kernels/requantize_simd.h"

namespace neutron {
namespace qgemm_detail {
namespace {

#define NEUTRON_UNROLL _Pragma("GCC unroll 16")

inline int32_t wrap_add(int32_t a, int32_t b) { return int32_t(uint32_t(a) + uint32_t(b)); }

inline int8_t finish(const Job& j, int32_t sum, int32_t n, int32_t roff) {
  return requantize_to_int8(wrap_add(wrap_add(sum, j.bias[n]), roff), j.multipliers[n], j.output_zero_point, j.qmin,
                            j.qmax);
}

inline size_t panel_bytes(const Job& j) { return size_t(round4(j.depth)) * kPanel; }

// ---- portable scalar: up to 4 rows x one panel ----
void tile_scalar(const Job& j, const uint8_t* a, size_t lda, int rows, int32_t m0, int32_t n0, int8_t* c,
                 size_t ldc) {
  const int32_t groups = round4(j.depth) / 4;
  const int8_t* w = j.weights + size_t(n0 / kPanel) * panel_bytes(j);
  const int32_t ncols = j.cols - n0 < kPanel ? j.cols - n0 : kPanel;
  uint32_t acc[4][kPanel] = {};
  for (int32_t g = 0; g < groups; ++g) {
    const int8_t* wg = w + size_t(g) * 64;
    for (int r = 0; r < rows; ++r) {
      const uint8_t* ar = a + size_t(r) * lda + size_t(g) * 4;
      const uint32_t a0 = ar[0], a1 = ar[1], a2 = ar[2], a3 = ar[3];
      for (int32_t n = 0; n < kPanel; ++n) {
        const int8_t* wn = wg + n * 4;
        acc[r][n] += a0 * uint32_t(int32_t(wn[0])) + a1 * uint32_t(int32_t(wn[1])) + a2 * uint32_t(int32_t(wn[2])) +
                     a3 * uint32_t(int32_t(wn[3]));
      }
    }
  }
  for (int r = 0; r < rows; ++r) {
    const int32_t roff = j.row_offset ? j.row_offset[m0 + r] : 0;
    for (int32_t n = 0; n < ncols; ++n) c[size_t(r) * ldc + size_t(n0 + n)] = finish(j, int32_t(acc[r][n]), n0 + n, roff);
  }
}

void run_scalar(const Job& j, const uint8_t* a, size_t lda, int8_t* c, size_t ldc) {
  for (int32_t n0 = 0; n0 < j.cols; n0 += kPanel)
    for (int32_t m = 0; m < j.rows; m += 4) {
      const int rows = j.rows - m < 4 ? j.rows - m : 4;
      tile_scalar(j, a + size_t(m) * lda, lda, rows, m, n0, c + size_t(m) * ldc, ldc);
    }
}

#if NEUTRON_X86_KERNELS

// ---- AVX2: MR rows x one panel. W widened to int16 (4 columns x 4 k per register), A as the
// int16 pattern (a0, a1, a2, a3) repeated; vpmaddwd gives two partial sums per column. ----
template <int MR>
NEUTRON_TARGET_AVX2 void tile_avx2(const Job& j, const uint8_t* a, size_t lda, int32_t m0, int32_t n0, int8_t* c,
                                   size_t ldc) {
  const int32_t groups = round4(j.depth) / 4;
  const int8_t* w = j.weights + size_t(n0 / kPanel) * panel_bytes(j);
  __m256i acc[MR][4];
  NEUTRON_UNROLL for (int r = 0; r < MR; ++r)
    NEUTRON_UNROLL for (int q = 0; q < 4; ++q) acc[r][q] = _mm256_setzero_si256();
  for (int32_t g = 0; g < groups; ++g) {
    __m256i wv[4];
    NEUTRON_UNROLL for (int q = 0; q < 4; ++q)
      wv[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + size_t(g) * 64 + q * 16)));
    NEUTRON_UNROLL for (int r = 0; r < MR; ++r) {
      int32_t av;
      std::memcpy(&av, a + size_t(r) * lda + size_t(g) * 4, 4);
      const __m256i b = _mm256_cvtepu8_epi16(_mm_set1_epi32(av));
      NEUTRON_UNROLL for (int q = 0; q < 4; ++q) acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(wv[q], b));
    }
  }
  // [c0 c1 c4 c5 | c2 c3 c6 c7] -> c0..c7
  alignas(32) int32_t sums[MR][kPanel];
  NEUTRON_UNROLL for (int r = 0; r < MR; ++r) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(&sums[r][0]),
                       _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][0], acc[r][1]), 0xD8));
    _mm256_store_si256(reinterpret_cast<__m256i*>(&sums[r][8]),
                       _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][2], acc[r][3]), 0xD8));
  }
  const int32_t ncols = j.cols - n0 < kPanel ? j.cols - n0 : kPanel;
  const Requant8 rq0 = requant8_setup(j.multipliers + n0, ncols, j.output_zero_point, j.qmin, j.qmax);
  const Requant8 rq1 = requant8_setup(j.multipliers + n0 + 8, ncols - 8, j.output_zero_point, j.qmin, j.qmax);
  alignas(32) int32_t bias[kPanel];
  for (int32_t n = 0; n < kPanel; ++n) bias[n] = n < ncols ? j.bias[n0 + n] : 0;
  for (int r = 0; r < MR; ++r) {
    __m256i lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(&sums[r][0]));
    __m256i hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(&sums[r][8]));
    const __m256i roff = _mm256_set1_epi32(j.row_offset ? j.row_offset[m0 + r] : 0);
    lo = _mm256_add_epi32(_mm256_add_epi32(lo, _mm256_load_si256(reinterpret_cast<const __m256i*>(bias))), roff);
    hi = _mm256_add_epi32(_mm256_add_epi32(hi, _mm256_load_si256(reinterpret_cast<const __m256i*>(bias + 8))), roff);
    alignas(16) int8_t out[kPanel];
    requant8_avx2(lo, rq0, out);
    requant8_avx2(hi, rq1, out + 8);
    std::memcpy(c + size_t(r) * ldc + size_t(n0), out, size_t(ncols));
  }
}

void run_avx2(const Job& j, const uint8_t* a, size_t lda, int8_t* c, size_t ldc) {
  for (int32_t n0 = 0; n0 < j.cols; n0 += kPanel) {
    // Two rows: 8 accumulators + 4 weight registers + the row fit AVX2's 16 registers.
    int32_t m = 0;
    for (; m + 2 <= j.rows; m += 2) tile_avx2<2>(j, a + size_t(m) * lda, lda, m, n0, c + size_t(m) * ldc, ldc);
    if (j.rows - m == 1) tile_avx2<1>(j, a + size_t(m) * lda, lda, m, n0, c + size_t(m) * ldc, ldc);
  }
}

// ---- AVX-512 VNNI: MR rows x NP panels, one vpdpbusd per 16 columns x 4 k. ----

// acc += u8 a . s8 w per int32 lane. Inline asm: with the intrinsic, GCC 12 copies every
// accumulator through a spare register and the stack on each step (its tied-operand allocation).
NEUTRON_TARGET_AVX512 static inline void dpbusd(__m512i& acc, __m512i a, __m512i w) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
}
// MODE 0: A rows are u8 (a + lda * r); 1: A rows are int8, flipped to u8 here; 2: each row is
// j.segments runs of j.segment_groups * 4 bytes, the first at j.row_ptrs[row], the next
// j.segment_stride bytes further (implicit im2col over a padded u8 image).
template <int MR, int NP, int MODE>
NEUTRON_TARGET_AVX512 void tile_avx512(const Job& j, const uint8_t* a, size_t lda, int32_t m0, int32_t n0, int8_t* c,
                                       size_t ldc) {
  const int32_t groups = round4(j.depth) / 4;
  const size_t pb = panel_bytes(j);
  const int8_t* w = j.weights + size_t(n0 / kPanel) * pb;
  // Every index into acc is a compile-time constant after unrolling, so it lives in registers.
  __m512i acc[MR][NP];
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  NEUTRON_UNROLL for (int r = 0; r < MR; ++r)
    NEUTRON_UNROLL for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_setzero_si512();
  const uint8_t* rp[MR];
  NEUTRON_UNROLL for (int r = 0; r < MR; ++r) rp[r] = MODE == 2 ? j.row_ptrs[m0 + r] : a + size_t(r) * lda;
  const int32_t segs = MODE == 2 ? j.segments : 1;
  const int32_t seg_groups = MODE == 2 ? j.segment_groups : groups;
  const int8_t* wg = w;
  for (int32_t s = 0; s < segs; ++s) {
    for (int32_t g = 0; g < seg_groups; ++g, wg += 64) {
      __m512i wv[NP];
      NEUTRON_UNROLL for (int p = 0; p < NP; ++p) wv[p] = _mm512_loadu_si512(wg + size_t(p) * pb);
      NEUTRON_UNROLL for (int r = 0; r < MR; ++r) {
        int32_t av;
        std::memcpy(&av, rp[r] + size_t(g) * 4, 4);
        __m512i b = _mm512_set1_epi32(av);
        if (MODE == 1) b = _mm512_xor_si512(b, flip);
        NEUTRON_UNROLL for (int p = 0; p < NP; ++p) dpbusd(acc[r][p], b, wv[p]);
      }
    }
    if (MODE == 2) {
      NEUTRON_UNROLL for (int r = 0; r < MR; ++r) rp[r] += j.segment_stride;
    }
  }
  alignas(64) int32_t sums[MR][NP * kPanel];
  NEUTRON_UNROLL for (int r = 0; r < MR; ++r)
    NEUTRON_UNROLL for (int p = 0; p < NP; ++p) _mm512_store_si512(&sums[r][p * kPanel], acc[r][p]);
  for (int p = 0; p < NP; ++p) {
    const int32_t n = n0 + p * kPanel;
    const int32_t ncols = j.cols - n < kPanel ? j.cols - n : kPanel;
    const __mmask16 mask = __mmask16((1u << ncols) - 1);
    const Requant16 rq = requant16_setup(j.multipliers + n, ncols, j.output_zero_point, j.qmin, j.qmax);
    const __m512i bias = _mm512_maskz_loadu_epi32(mask, j.bias + n);
    for (int r = 0; r < MR; ++r) {
      __m512i v = _mm512_add_epi32(_mm512_load_si512(&sums[r][p * kPanel]), bias);
      if (j.row_offset) v = _mm512_add_epi32(v, _mm512_set1_epi32(j.row_offset[m0 + r]));
      _mm_mask_storeu_epi8(c + size_t(r) * ldc + size_t(n), mask, requant16_avx512(v, rq));
    }
  }
}

// Rows left after the full tiles (fewer than MR): one tile of exactly that many rows.
template <int R, int NP, int MODE>
NEUTRON_TARGET_AVX512 void tail_avx512(const Job& j, int32_t rows, const uint8_t* a, size_t lda, int32_t m0, int32_t n0,
                                       int8_t* c, size_t ldc) {
  if constexpr (R >= 1) {
    if (rows == R)
      tile_avx512<R, NP, MODE>(j, a, lda, m0, n0, c, ldc);
    else
      tail_avx512<R - 1, NP, MODE>(j, rows, a, lda, m0, n0, c, ldc);
  }
}

// Rows per tile for NP panels: MR * NP accumulators + NP weight vectors + a broadcast in 32 zmm.
template <int NP>
constexpr int kRowsFor = NP == 4 ? 6 : NP == 3 ? 8 : NP == 2 ? 12 : 16;

template <int NP, int MODE>
NEUTRON_TARGET_AVX512 void rows_avx512(const Job& j, const uint8_t* a, size_t lda, int32_t n0, int8_t* c, size_t ldc) {
  constexpr int MR = kRowsFor<NP>;
  int32_t m = 0;
  for (; m + MR <= j.rows; m += MR)
    tile_avx512<MR, NP, MODE>(j, a + size_t(m) * lda, lda, m, n0, c + size_t(m) * ldc, ldc);
  if (m < j.rows)
    tail_avx512<MR - 1, NP, MODE>(j, j.rows - m, a + size_t(m) * lda, lda, m, n0, c + size_t(m) * ldc, ldc);
}

template <int MODE>
void run_avx512(const Job& j, const uint8_t* a, size_t lda, int8_t* c, size_t ldc) {
  const int32_t panels = (j.cols + kPanel - 1) / kPanel;
  for (int32_t p = 0; p < panels; p += 4) {
    const int32_t n0 = p * kPanel;
    switch (panels - p < 4 ? panels - p : 4) {
      case 4: rows_avx512<4, MODE>(j, a, lda, n0, c, ldc); break;
      case 3: rows_avx512<3, MODE>(j, a, lda, n0, c, ldc); break;
      case 2: rows_avx512<2, MODE>(j, a, lda, n0, c, ldc); break;
      default: rows_avx512<1, MODE>(j, a, lda, n0, c, ldc); break;
    }
  }
}

// ---- AMX: 32 rows x 32 columns per block, four int32 accumulator tiles (tmm0-3), two A tiles
// (tmm4-5: 16 rows x 64 bytes), two B tiles (tmm6-7: 16 groups of 4 k x 16 columns, which is one
// 1 KiB run of a packed panel). tdpbusd computes sum (u8 a) * (s8 w) exactly like vpdpbusd. ----

struct TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

NEUTRON_TARGET_AMX void amx_configure() {
  alignas(64) TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

// Bias and requantization of the (up to) two panels of a block, set up once per panel pair.
struct AmxEpilogue {
  Requant16 rq[2];
  __m512i bias[2];
  __mmask16 mask[2];
};

NEUTRON_TARGET_AVX512 void amx_epilogue_setup(const Job& j, int32_t n0, int nb, AmxEpilogue* e) {
  for (int b = 0; b < nb; ++b) {
    const int32_t n = n0 + b * kPanel;
    const int32_t ncols = j.cols - n < kPanel ? j.cols - n : kPanel;
    e->mask[b] = __mmask16((1u << ncols) - 1);
    e->rq[b] = requant16_setup(j.multipliers + n, ncols, j.output_zero_point, j.qmin, j.qmax);
    e->bias[b] = _mm512_maskz_loadu_epi32(e->mask[b], j.bias + n);
  }
}

template <int NB>
NEUTRON_TARGET_AMX void amx_block(const Job& j, const AmxRows& r, const AmxEpilogue& e, int32_t v0, int32_t n0,
                                  int8_t* c, size_t ldc) {
  const size_t pb = panel_bytes(j);
  const int8_t* w = j.weights + size_t(n0 / kPanel) * pb;
  const uint8_t* a = r.base + size_t(v0) * r.row_stride;
  const long sa = long(r.row_stride);
  const uint8_t* a1 = a + 16 * r.row_stride;
  const int32_t chunks = j.segment_groups / 16;
  _tile_zero(0);
  _tile_zero(1);
  if (NB == 2) {
    _tile_zero(2);
    _tile_zero(3);
  }
  for (int32_t s = 0; s < j.segments; ++s) {
    const size_t seg = size_t(s) * j.segment_stride;
    for (int32_t ch = 0; ch < chunks; ++ch, w += 1024) {
      const size_t off = seg + size_t(ch) * 64;
      _tile_loadd(4, a + off, sa);
      _tile_loadd(6, w, 64);
      _tile_loadd(5, a1 + off, sa);
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 5, 6);
      if (NB == 2) {
        _tile_loadd(7, w + pb, 64);
        _tile_dpbusd(2, 4, 7);
        _tile_dpbusd(3, 5, 7);
      }
    }
  }
  // acc[h + 2 * b]: rows 16 h.. of panel b, 16 int32 per row.
  alignas(64) int32_t acc[4][16 * 16];
  _tile_stored(0, acc[0], 64);
  _tile_stored(1, acc[1], 64);
  if (NB == 2) {
    _tile_stored(2, acc[2], 64);
    _tile_stored(3, acc[3], 64);
  }
  // Virtual row v -> row q * valid + col of C, stepped without a division per row.
  int32_t v = v0;
  int32_t q = v / r.vwidth, col = v - q * r.vwidth;
  for (int32_t i = 0; i < kAmxBlockRows && v < r.count; ++i, ++v) {
    if (col < r.valid) {
      int8_t* crow = c + (size_t(q) * size_t(r.valid) + size_t(col)) * ldc + size_t(n0);
      const int32_t* ai = acc[i / 16] + size_t(i % 16) * 16;
      for (int b = 0; b < NB; ++b) {
        const __m512i sum = _mm512_add_epi32(_mm512_load_si512(ai + size_t(b) * 2 * 256), e.bias[b]);
        _mm_mask_storeu_epi8(crow + b * kPanel, e.mask[b], requant16_avx512(sum, e.rq[b]));
      }
    }
    if (++col == r.vwidth) {
      col = 0;
      ++q;
    }
  }
}

NEUTRON_TARGET_AMX void run_amx(const Job& j, const AmxRows& r, int8_t* c, size_t ldc) {
  amx_configure();
  const int32_t panels = (j.cols + kPanel - 1) / kPanel;
  AmxEpilogue e;
  for (int32_t p = 0; p < panels; p += 2) {
    const int32_t n0 = p * kPanel;
    const int nb = panels - p >= 2 ? 2 : 1;
    amx_epilogue_setup(j, n0, nb, &e);
    for (int32_t v0 = 0; v0 < r.count; v0 += kAmxBlockRows) {
      if (nb == 2)
        amx_block<2>(j, r, e, v0, n0, c, ldc);
      else
        amx_block<1>(j, r, e, v0, n0, c, ldc);
    }
  }
  _tile_release();
}

#endif  // NEUTRON_X86_KERNELS

}  // namespace

void column_sums(const int8_t* packed, int32_t K, int32_t N, int32_t* sums) {
  const int32_t Kp = round4(K);
  for (int32_t n = 0; n < N; ++n) {
    const int8_t* w = packed + size_t(n / kPanel) * size_t(Kp) * kPanel + size_t(n % kPanel) * 4;
    uint32_t s = 0;
    for (int32_t g = 0; g < Kp / 4; ++g)
      for (int t = 0; t < 4; ++t) s += uint32_t(int32_t(w[size_t(g) * 64 + size_t(t)]));
    sums[n] = int32_t(s);
  }
}

void to_u8_row(const int8_t* src, uint8_t* dst, int32_t K) {
  for (int32_t k = 0; k < K; ++k) dst[k] = uint8_t(src[k]) ^ 0x80;
  for (int32_t k = K; k < round4(K); ++k) dst[k] = 0;
}

bool amx_accepts(const Job& j) {
  return kernel_amx() && !j.row_offset && j.segments >= 1 && j.segment_groups > 0 && j.segment_groups % 16 == 0;
}

void qgemm_amx(const Job& j, const AmxRows& r, int8_t* c, size_t ldc) {
  if (r.count <= 0 || j.cols <= 0) return;
#if NEUTRON_X86_KERNELS
  run_amx(j, r, c, ldc);
#else
  (void)j, (void)r, (void)c, (void)ldc;
#endif
}

bool accepts_signed_a() { return kernel_isa() == KernelIsa::kAvx512; }

void qgemm_u8(const Job& j, const uint8_t* a, size_t lda, int8_t* c, size_t ldc) {
  if (j.rows <= 0 || j.cols <= 0) return;
  switch (kernel_isa()) {
#if NEUTRON_X86_KERNELS
    case KernelIsa::kAvx512:
      if (j.row_ptrs)
        run_avx512<2>(j, a, lda, c, ldc);
      else if (j.a_signed)
        run_avx512<1>(j, a, lda, c, ldc);
      else
        run_avx512<0>(j, a, lda, c, ldc);
      return;
    case KernelIsa::kAvx2: run_avx2(j, a, lda, c, ldc); return;
#endif
    default: run_scalar(j, a, lda, c, ldc); return;
  }
}

}  // namespace qgemm_detail

using namespace qgemm_detail;

size_t qgemm_int8_packed_size(int32_t K, int32_t N) { return packed_bytes(K, N) / sizeof(int16_t); }

size_t qgemm_int8_scratch_bytes(int32_t K) { return size_t(kTileRows) * size_t(round4(K)) + 64; }

void pack_weights_nk_int8(const int8_t* b, int32_t K, int32_t N, bool b_is_kn, int16_t* packed) {
  int8_t* dst = reinterpret_cast<int8_t*>(packed);
  if (b_is_kn)
    pack_panels(K, N, [&](int32_t n, int32_t k) { return b[size_t(k) * size_t(N) + size_t(n)]; }, dst);
  else
    pack_panels(K, N, [&](int32_t n, int32_t k) { return b[size_t(n) * size_t(K) + size_t(k)]; }, dst);
}

void fold_zero_point_into_bias(const int16_t* packed, int32_t K, int32_t N, const int32_t* bias, int32_t a_zero_point,
                               int32_t* bias_out) {
  column_sums(reinterpret_cast<const int8_t*>(packed), K, N, bias_out);
  const uint32_t z = uint32_t(a_zero_point + 128);
  for (int32_t n = 0; n < N; ++n) bias_out[n] = int32_t(uint32_t(bias ? bias[n] : 0) - z * uint32_t(bias_out[n]));
}

void qgemm_int8(const QGemmInt8Params& p, const int8_t* a, size_t lda, int8_t* c, size_t ldc) {
  const int32_t Kp = round4(p.depth);
  uint8_t* tile = reinterpret_cast<uint8_t*>(p.scratch);
  Job j;
  j.cols = p.cols;
  j.depth = p.depth;
  j.weights = reinterpret_cast<const int8_t*>(p.weights);
  j.bias = p.bias;
  j.multipliers = p.multipliers;
  j.output_zero_point = p.output_zero_point;
  j.qmin = p.qmin;
  j.qmax = p.qmax;
  for (int32_t m0 = 0; m0 < p.rows; m0 += kTileRows) {
    j.rows = p.rows - m0 < kTileRows ? p.rows - m0 : kTileRows;
    for (int32_t r = 0; r < j.rows; ++r) to_u8_row(a + size_t(m0 + r) * lda, tile + size_t(r) * size_t(Kp), p.depth);
    qgemm_u8(j, tile, size_t(Kp), c + size_t(m0) * ldc, ldc);
  }
}

}  // namespace neutron
