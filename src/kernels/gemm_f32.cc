#include "kernels/gemm_f32.h"

#include <algorithm>
#include <cstring>

namespace neutron {
namespace {

// A native SIMD register: 4 floats (SSE2, NEON) or 8 (AVX). Vectors wider than the target's
// registers are lowered through memory by GCC, so a tile row is kVecsPerRow native vectors.
#if defined(__AVX__)
constexpr int kVecLanes = 8;
#else
constexpr int kVecLanes = 4;
#endif
typedef float Vec __attribute__((vector_size(kVecLanes * sizeof(float))));
constexpr int kVecsPerRow = kGemmNr / kVecLanes;
static_assert(kGemmNr % kVecLanes == 0, "a tile row is a whole number of vectors");

struct TileEpilogue {
  const float* bias;  // nullptr: add nothing (unless load_c)
  bool load_c;        // add the current C
  bool clamp;
  float lo, hi;
};

// C tile [MR x nr] = epilogue(A[MR x kc] * Bpanel[kc x kGemmNr]).
template <int MR>
inline void micro_tile(int64_t kc, const float* __restrict a, int64_t lda, const float* __restrict b,
                       float* __restrict c, int64_t ldc, int nr, const TileEpilogue& ep) {
  Vec acc[MR][kVecsPerRow];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < kVecsPerRow; ++v) acc[i][v] = Vec{};
  const float* ap[MR];
  for (int i = 0; i < MR; ++i) ap[i] = a + i * lda;
  for (int64_t k = 0; k < kc; ++k) {
    Vec bv[kVecsPerRow];
    for (int v = 0; v < kVecsPerRow; ++v) std::memcpy(&bv[v], b + k * kGemmNr + v * kVecLanes, sizeof(Vec));
    for (int i = 0; i < MR; ++i) {
      const float av = ap[i][k];
      for (int v = 0; v < kVecsPerRow; ++v) acc[i][v] += bv[v] * av;
    }
  }
  for (int i = 0; i < MR; ++i) {
    float* cr = c + i * ldc;
    // Copy the row out by value: taking the address of acc[] would keep it in memory.
    alignas(64) float t[kGemmNr];
    for (int v = 0; v < kVecsPerRow; ++v) {
      const Vec part = acc[i][v];
      std::memcpy(t + v * kVecLanes, &part, sizeof(Vec));
    }
    if (nr == kGemmNr) {
      if (ep.load_c)
        for (int j = 0; j < kGemmNr; ++j) t[j] += cr[j];
      else if (ep.bias)
        for (int j = 0; j < kGemmNr; ++j) t[j] += ep.bias[j];
      if (ep.clamp)
        for (int j = 0; j < kGemmNr; ++j) t[j] = std::min(std::max(t[j], ep.lo), ep.hi);
      std::memcpy(cr, t, sizeof(float) * kGemmNr);
    } else {
      for (int j = 0; j < nr; ++j) {
        float v = t[j];
        if (ep.load_c)
          v += cr[j];
        else if (ep.bias)
          v += ep.bias[j];
        if (ep.clamp) v = std::min(std::max(v, ep.lo), ep.hi);
        cr[j] = v;
      }
    }
  }
}

void tile_dispatch(int mr, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, int nr,
                   const TileEpilogue& ep) {
  switch (mr) {
    case 6: micro_tile<6>(kc, a, lda, b, c, ldc, nr, ep); break;
    case 5: micro_tile<5>(kc, a, lda, b, c, ldc, nr, ep); break;
    case 4: micro_tile<4>(kc, a, lda, b, c, ldc, nr, ep); break;
    case 3: micro_tile<3>(kc, a, lda, b, c, ldc, nr, ep); break;
    case 2: micro_tile<2>(kc, a, lda, b, c, ldc, nr, ep); break;
    default: micro_tile<1>(kc, a, lda, b, c, ldc, nr, ep); break;
  }
}
static_assert(kGemmMr == 6, "tile_dispatch handles up to 6 rows");
static_assert(kGemmMc % kGemmMr == 0, "kGemmMc must be a multiple of kGemmMr");

}  // namespace

void gemm_f32_pack_b(const float* b, int64_t ldb, bool trans, int64_t K, int64_t N, float scale, float* packed) {
  if (trans)
    gemm_f32_pack_b_with(K, N, [&](int64_t k, int64_t n) { return scale * b[n * ldb + k]; }, packed);
  else
    gemm_f32_pack_b_with(K, N, [&](int64_t k, int64_t n) { return scale * b[k * ldb + n]; }, packed);
}

void gemm_f32(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* packed_b, float* c,
              int64_t ldc, const GemmF32Epilogue& ep) {
  const bool clamp = ep.min > -std::numeric_limits<float>::infinity() || ep.max < std::numeric_limits<float>::infinity();
  if (K == 0) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        float v = ep.accumulate ? c[m * ldc + n] : (ep.bias ? ep.bias[n] : 0.0f);
        c[m * ldc + n] = clamp ? std::min(std::max(v, ep.min), ep.max) : v;
      }
    return;
  }
  const int64_t panels = (N + kGemmNr - 1) / kGemmNr;
  for (int64_t m0 = 0; m0 < M; m0 += kGemmMc) {
    const int64_t mc = std::min<int64_t>(kGemmMc, M - m0);
    for (int64_t k0 = 0; k0 < K; k0 += kGemmKc) {
      const int64_t kc = std::min<int64_t>(kGemmKc, K - k0);
      const bool first = k0 == 0;
      const bool last = k0 + kc == K;
      for (int64_t p = 0; p < panels; ++p) {
        const int nr = int(std::min<int64_t>(kGemmNr, N - p * kGemmNr));
        const float* bp = packed_b + (p * K + k0) * kGemmNr;
        TileEpilogue te;
        te.load_c = !first || ep.accumulate;
        te.bias = first && !ep.accumulate && ep.bias ? ep.bias + p * kGemmNr : nullptr;
        te.clamp = last && clamp;
        te.lo = ep.min;
        te.hi = ep.max;
        for (int64_t i = 0; i < mc; i += kGemmMr) {
          const int mr = int(std::min<int64_t>(kGemmMr, mc - i));
          tile_dispatch(mr, kc, a + (m0 + i) * lda + k0, lda, bp, c + (m0 + i) * ldc + p * kGemmNr, ldc, nr, te);
        }
      }
    }
  }
}

}  // namespace neutron
