// requantize_to_int8() (requantize.h) for 8 (AVX2) or 16 (AVX-512) accumulators at once, bit for
// bit: acc * m exact in int64 lanes, round half to even at the shift, clamp, add the zero point.
//   round_half_even(v / 2^s) = (v + 2^(s-1) - 1 + bit_s(v)) >> s   (arithmetic shift)
// Only for kernel .cc files; every function has internal linkage and a target attribute, so nothing
// here leaks into code that runs on CPUs without the instructions.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/cpu_isa.h"
#include "kernels/requantize.h"

#if NEUTRON_X86_KERNELS
// GCC 12's AVX-512 headers start masked intrinsics from _mm512_undefined_*() and then warn that
// it is uninitialized (a false positive); the rest of the including kernel file is clean.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace neutron {
namespace {

// Lanes of 4 columns: FixedMultiplier {m, shift} read as one int64 is m | shift << 32.
struct Requant8 {
  __m256i m[2], s[2], h[2], off[2];  // per 4 columns: multiplier, shift, 2^(s-1) - 1, 2^(62-s)
  __m256i lo, hi;                    // clamp bounds qmin - zp, qmax - zp (int64)
  __m256i zp;                        // int32
};

NEUTRON_TARGET_AVX2 static inline Requant8 requant8_setup(const FixedMultiplier* mult, int32_t count, int32_t zp,
                                                          int32_t qmin, int32_t qmax) {
  FixedMultiplier tmp[8] = {};
  for (int32_t i = 0; i < 8 && i < count; ++i) tmp[i] = mult[i];
  Requant8 q;
  const __m256i one = _mm256_set1_epi64x(1);
  for (int h = 0; h < 2; ++h) {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tmp + 4 * h));
    q.m[h] = raw;
    q.s[h] = _mm256_srli_epi64(raw, 32);
    q.h[h] = _mm256_sub_epi64(_mm256_sllv_epi64(one, _mm256_sub_epi64(q.s[h], one)), one);
    q.off[h] = _mm256_srlv_epi64(_mm256_set1_epi64x(int64_t(1) << 62), q.s[h]);
  }
  q.lo = _mm256_set1_epi64x(int64_t(qmin) - zp);
  q.hi = _mm256_set1_epi64x(int64_t(qmax) - zp);
  q.zp = _mm256_set1_epi32(zp);
  return q;
}

NEUTRON_TARGET_AVX2 static inline __m256i requant4_avx2(__m128i acc, const Requant8& q, int h) {
  const __m256i one = _mm256_set1_epi64x(1);
  __m256i v = _mm256_mul_epi32(_mm256_cvtepi32_epi64(acc), q.m[h]);
  const __m256i bit = _mm256_and_si256(_mm256_srlv_epi64(v, q.s[h]), one);
  v = _mm256_add_epi64(_mm256_add_epi64(v, q.h[h]), bit);
  // Arithmetic shift without vpsravq: bias by 2^62 (a multiple of 2^s), shift logically, unbias.
  v = _mm256_sub_epi64(_mm256_srlv_epi64(_mm256_add_epi64(v, _mm256_set1_epi64x(int64_t(1) << 62)), q.s[h]), q.off[h]);
  v = _mm256_blendv_epi8(v, q.lo, _mm256_cmpgt_epi64(q.lo, v));
  v = _mm256_blendv_epi8(v, q.hi, _mm256_cmpgt_epi64(v, q.hi));
  return v;
}

// 8 int32 accumulators -> 8 int8 at out.
NEUTRON_TARGET_AVX2 static inline void requant8_avx2(__m256i acc, const Requant8& q, int8_t* out) {
  const __m256i a = requant4_avx2(_mm256_castsi256_si128(acc), q, 0);
  const __m256i b = requant4_avx2(_mm256_extracti128_si256(acc, 1), q, 1);
  const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const __m128i a32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(a, idx));
  const __m128i b32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b, idx));
  __m256i v = _mm256_add_epi32(_mm256_set_m128i(b32, a32), q.zp);
  const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i b8 = _mm_packs_epi16(w16, w16);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), b8);
}

// 16 columns, kept as even and odd columns in the 64-bit lanes, so that vpmuldq reads the int32
// accumulators where they are (even: low dword of a lane, odd: high dword shifted down) and the
// results go back by one shift and blend, with no widening or narrowing shuffles.
struct Requant16 {
  __m512i m[2], s[2], h[2];  // [0]: columns 0, 2, .., 14; [1]: columns 1, 3, .., 15
  __m512i lo, hi;            // int64 bounds qmin - zp, qmax - zp
  __m512i zp;                // int32
};

NEUTRON_TARGET_AVX512 static inline Requant16 requant16_setup(const FixedMultiplier* mult, int32_t count, int32_t zp,
                                                              int32_t qmin, int32_t qmax) {
  Requant16 q;
  const __m512i one = _mm512_set1_epi64(1);
  __m512i raw[2];  // columns 0-7 and 8-15 as {multiplier, shift} int64 lanes (0 past count)
  for (int h = 0; h < 2; ++h) {
    const int32_t n = count - 8 * h;
    const __mmask8 mask = n >= 8 ? __mmask8(0xFF) : (n <= 0 ? __mmask8(0) : __mmask8((1u << n) - 1));
    raw[h] = _mm512_maskz_loadu_epi64(mask, reinterpret_cast<const int64_t*>(mult + 8 * h));
  }
  const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  for (int e = 0; e < 2; ++e) {
    const __m512i v = _mm512_permutex2var_epi64(raw[0], e == 0 ? even : odd, raw[1]);
    q.m[e] = v;  // vpmuldq reads the low dword: the multiplier
    q.s[e] = _mm512_srli_epi64(v, 32);
    q.h[e] = _mm512_sub_epi64(_mm512_sllv_epi64(one, _mm512_sub_epi64(q.s[e], one)), one);
  }
  q.lo = _mm512_set1_epi64(int64_t(qmin) - zp);
  q.hi = _mm512_set1_epi64(int64_t(qmax) - zp);
  q.zp = _mm512_set1_epi32(zp);
  return q;
}

// round_half_even(v * m / 2^s) clamped, for the int32 in the low dword of each 64-bit lane.
NEUTRON_TARGET_AVX512 static inline __m512i requant_lanes_avx512(__m512i v, const Requant16& q, int e) {
  v = _mm512_mul_epi32(v, q.m[e]);
  const __m512i bit = _mm512_and_si512(_mm512_srlv_epi64(v, q.s[e]), _mm512_set1_epi64(1));
  v = _mm512_srav_epi64(_mm512_add_epi64(_mm512_add_epi64(v, q.h[e]), bit), q.s[e]);
  return _mm512_min_epi64(_mm512_max_epi64(v, q.lo), q.hi);
}

// 16 int32 accumulators -> 16 int8.
NEUTRON_TARGET_AVX512 static inline __m128i requant16_avx512(__m512i acc, const Requant16& q) {
  const __m512i ev = requant_lanes_avx512(acc, q, 0);
  const __m512i od = requant_lanes_avx512(_mm512_srli_epi64(acc, 32), q, 1);
  // Both fit int32 after the clamp: even results stay in the low dwords, odd ones move up.
  const __m512i v = _mm512_mask_blend_epi32(__mmask16(0xAAAA), ev, _mm512_slli_epi64(od, 32));
  return _mm512_cvtepi32_epi8(_mm512_add_epi32(v, q.zp));
}

}  // namespace
}  // namespace neutron

#endif  // NEUTRON_X86_KERNELS
