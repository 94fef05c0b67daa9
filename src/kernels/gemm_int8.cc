#include "kernels/gemm_int8.h"

namespace neutron {
namespace {

// One binary, the best of AVX2 and baseline x86-64 chosen at load time; other targets compile
// the plain loops once.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define NEUTRON_DOT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NEUTRON_DOT_CLONES
#endif

inline int8_t finish(int32_t acc, const QGemmInt8Params& p, int32_t n) {
  return requantize_to_int8(acc, p.multipliers[n], p.output_zero_point, p.qmin, p.qmax);
}

// Four rows of A against one packed row of W.
NEUTRON_DOT_CLONES
void dot_4x1(const int16_t* __restrict a0, const int16_t* __restrict a1, const int16_t* __restrict a2,
             const int16_t* __restrict a3, const int16_t* __restrict w, int32_t K, int32_t* s) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int32_t k = 0; k < K; ++k) {
    const int32_t wk = w[k];
    s0 += int32_t(a0[k]) * wk;
    s1 += int32_t(a1[k]) * wk;
    s2 += int32_t(a2[k]) * wk;
    s3 += int32_t(a3[k]) * wk;
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}

// One row of A against four packed rows of W.
NEUTRON_DOT_CLONES
void dot_1x4(const int16_t* __restrict a, const int16_t* __restrict w0, const int16_t* __restrict w1,
             const int16_t* __restrict w2, const int16_t* __restrict w3, int32_t K, int32_t* s) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int32_t k = 0; k < K; ++k) {
    const int32_t ak = a[k];
    s0 += ak * int32_t(w0[k]);
    s1 += ak * int32_t(w1[k]);
    s2 += ak * int32_t(w2[k]);
    s3 += ak * int32_t(w3[k]);
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}

NEUTRON_DOT_CLONES
int32_t dot_1x1(const int16_t* __restrict a, const int16_t* __restrict w, int32_t K) {
  int32_t s = 0;
  for (int32_t k = 0; k < K; ++k) s += int32_t(a[k]) * int32_t(w[k]);
  return s;
}

inline void widen(const int8_t* __restrict src, int16_t* __restrict dst, int32_t K) {
  for (int32_t k = 0; k < K; ++k) dst[k] = src[k];
}

}  // namespace

void pack_weights_nk_int8(const int8_t* b, int32_t K, int32_t N, bool b_is_kn, int16_t* packed) {
  for (int32_t n = 0; n < N; ++n)
    for (int32_t k = 0; k < K; ++k)
      packed[size_t(n) * size_t(K) + size_t(k)] =
          b_is_kn ? b[size_t(k) * size_t(N) + size_t(n)] : b[size_t(n) * size_t(K) + size_t(k)];
}

void fold_zero_point_into_bias(const int16_t* packed, int32_t K, int32_t N, const int32_t* bias, int32_t a_zero_point,
                               int32_t* bias_out) {
  for (int32_t n = 0; n < N; ++n) {
    int32_t sum = 0;
    for (int32_t k = 0; k < K; ++k) sum += packed[size_t(n) * size_t(K) + size_t(k)];
    bias_out[n] = (bias ? bias[n] : 0) - a_zero_point * sum;
  }
}

void qgemm_int8(const QGemmInt8Params& p, const int8_t* a, size_t lda, int8_t* c, size_t ldc) {
  const int32_t M = p.rows, N = p.cols, K = p.depth;
  const int16_t* W = p.weights;
  int16_t* a16 = p.scratch;
  int32_t m = 0;
  int32_t s[4];
  for (; m + 4 <= M; m += 4) {
    for (int r = 0; r < 4; ++r) widen(a + size_t(m + r) * lda, a16 + size_t(r) * size_t(K), K);
    int8_t* c0 = c + size_t(m) * ldc;
    for (int32_t n = 0; n < N; ++n) {
      dot_4x1(a16, a16 + K, a16 + 2 * size_t(K), a16 + 3 * size_t(K), W + size_t(n) * size_t(K), K, s);
      for (int r = 0; r < 4; ++r) c0[size_t(r) * ldc + size_t(n)] = finish(s[r] + p.bias[n], p, n);
    }
  }
  for (; m < M; ++m) {
    widen(a + size_t(m) * lda, a16, K);
    int8_t* cr = c + size_t(m) * ldc;
    int32_t n = 0;
    for (; n + 4 <= N; n += 4) {
      const int16_t* w0 = W + size_t(n) * size_t(K);
      dot_1x4(a16, w0, w0 + K, w0 + 2 * size_t(K), w0 + 3 * size_t(K), K, s);
      for (int r = 0; r < 4; ++r) cr[n + r] = finish(s[r] + p.bias[n + r], p, n + r);
    }
    for (; n < N; ++n) cr[n] = finish(dot_1x1(a16, W + size_t(n) * size_t(K), K) + p.bias[n], p, n);
  }
}

}  // namespace neutron
