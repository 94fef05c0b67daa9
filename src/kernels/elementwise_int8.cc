#include "kernels/elementwise_int8.h"

#include "kernels/cpu_isa.h"
#include "kernels/requantize_simd.h"

namespace neutron {
namespace {

// Add/Sub over contiguous a and b with vector code: (a - za) * ma + (b - zb) * mb = a * ma + b * mb
// + c0 exactly, c0 = -(za * ma + zb * mb); the rounding and clamp are those of AddSubFn.
#if NEUTRON_X86_KERNELS
NEUTRON_TARGET_AVX512 void add_sub_row_avx512(const BinaryInt8Params& p, const int8_t* a, const int8_t* b, int8_t* out,
                                              int64_t n) {
  const __m512i ma = _mm512_set1_epi64(p.multiplier_a);
  const __m512i mb = _mm512_set1_epi64(p.multiplier_b);
  const int64_t c0 = -(int64_t(p.a_zero_point) * p.multiplier_a + int64_t(p.b_zero_point) * p.multiplier_b);
  const __m512i s = _mm512_set1_epi64(p.shift);
  const __m512i one = _mm512_set1_epi64(1);
  // c0 + 2^(s-1) - 1: the constant and the rounding offset in one add.
  const __m512i c = _mm512_set1_epi64(c0 + ((int64_t(1) << (p.shift - 1)) - 1));
  const __m512i lo = _mm512_set1_epi64(int64_t(p.qmin) - p.output_zero_point);
  const __m512i hi = _mm512_set1_epi64(int64_t(p.qmax) - p.output_zero_point);
  const __m512i zo = _mm512_set1_epi64(p.output_zero_point);
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t left = n - i;
    const __mmask8 mask = left >= 8 ? __mmask8(0xFF) : __mmask8((1u << left) - 1);
    const __m512i av = _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(mask, a + i));
    const __m512i bv = _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(mask, b + i));
    const __m512i v = _mm512_add_epi64(_mm512_mul_epi32(av, ma), _mm512_mul_epi32(bv, mb));
    // bit s of v + c0 decides ties; it is bit s of (v + c0), computed before the offset.
    const __m512i exact = _mm512_add_epi64(v, _mm512_set1_epi64(c0));
    const __m512i bit = _mm512_and_si512(_mm512_srlv_epi64(exact, s), one);
    __m512i r = _mm512_srav_epi64(_mm512_add_epi64(_mm512_add_epi64(v, c), bit), s);
    r = _mm512_add_epi64(_mm512_min_epi64(_mm512_max_epi64(r, lo), hi), zo);
    _mm_mask_storeu_epi8(out + i, mask, _mm512_cvtepi64_epi8(r));
  }
}
#endif

// True when the row was done with vector code.
bool add_sub_row(const BinaryInt8Params& p, const int8_t* a, const int8_t* b, int8_t* out, int64_t n) {
#if NEUTRON_X86_KERNELS
  if (kernel_isa() == KernelIsa::kAvx512) {
    add_sub_row_avx512(p, a, b, out, n);
    return true;
  }
#endif
  (void)p, (void)a, (void)b, (void)out, (void)n;
  return false;
}

struct AddSubFn {
  const BinaryInt8Params& p;
  inline int8_t operator()(int8_t a, int8_t b) const {
    const int64_t v = round_shift_half_even(
        int64_t(int32_t(a) - p.a_zero_point) * p.multiplier_a + int64_t(int32_t(b) - p.b_zero_point) * p.multiplier_b,
        p.shift);
    return int8_t(clamp_i32(v + p.output_zero_point, p.qmin, p.qmax));
  }
};
struct MulFn {
  const BinaryInt8Params& p;
  inline int8_t operator()(int8_t a, int8_t b) const {
    const int32_t acc = (int32_t(a) - p.a_zero_point) * (int32_t(b) - p.b_zero_point);
    return requantize_to_int8(acc, p.multiplier, p.output_zero_point, p.qmin, p.qmax);
  }
};
// Exact: |m * (a - za)| < 2^39 and (b - zb) << shift fits int64 for shift <= 54; beyond that
// the quotient is below 2^-15 and rounds to 0.
inline int64_t div_round_half_even(int64_t num, int32_t den, int shift) {
  if (shift > 54) return 0;
  const bool neg = (num < 0) != (den < 0);
  const uint64_t n = uint64_t(num < 0 ? -num : num), d = uint64_t(den < 0 ? -int64_t(den) : int64_t(den)) << shift;
  uint64_t q = n / d;
  const uint64_t r = n % d;
  if (2 * r > d || (2 * r == d && (q & 1))) ++q;
  return neg ? -int64_t(q) : int64_t(q);
}
struct DivFn {
  const BinaryInt8Params& p;
  inline int8_t operator()(int8_t a, int8_t b) const {
    const int32_t x = int32_t(a) - p.a_zero_point, y = int32_t(b) - p.b_zero_point;
    if (y == 0) return int8_t(x > 0 ? p.qmax : x < 0 ? p.qmin : clamp_i32(p.output_zero_point, p.qmin, p.qmax));
    const int64_t q = div_round_half_even(int64_t(x) * p.multiplier.multiplier, y, p.multiplier.shift);
    const int64_t v = q + p.output_zero_point;
    return int8_t(v < p.qmin ? p.qmin : v > p.qmax ? p.qmax : v);
  }
};
struct MaxFn {
  const BinaryInt8Params& p;
  inline int8_t operator()(int8_t a, int8_t b) const {
    const int64_t x = p.table_a[a + 128], y = p.table_b[b + 128];
    return int8_t(clamp_i32(x > y ? x : y, p.qmin, p.qmax));
  }
};
struct MinFn {
  const BinaryInt8Params& p;
  inline int8_t operator()(int8_t a, int8_t b) const {
    const int64_t x = p.table_a[a + 128], y = p.table_b[b + 128];
    return int8_t(clamp_i32(x < y ? x : y, p.qmin, p.qmax));
  }
};

// Odometer over the collapsed outer dims around one contiguous inner loop.
template <typename F>
void run_broadcast(const BroadcastParams& bp, const int8_t* a, const int8_t* b, int8_t* out, F f,
                   bool vector_add_sub = false, const BinaryInt8Params* params = nullptr) {
  if (bp.out_count == 0) return;
  if (bp.rank == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const int last = bp.rank - 1;
  const int64_t n = bp.out_dims[last];
  const int64_t as = bp.a_strides[last], bs = bp.b_strides[last];
  int64_t idx[kMaxBroadcastRank] = {};
  int64_t ao = 0, bo = 0;
  const int64_t outer = bp.out_count / n;
  for (int64_t o = 0; o < outer; ++o) {
    const int8_t* ap = a + ao;
    const int8_t* bq = b + bo;
    int8_t* op = out + o * n;
    if (as == 1 && bs == 1) {
      if (!vector_add_sub || !add_sub_row(*params, ap, bq, op, n))
        for (int64_t i = 0; i < n; ++i) op[i] = f(ap[i], bq[i]);
    } else if (as == 1) {
      const int8_t bv = bq[0];
      for (int64_t i = 0; i < n; ++i) op[i] = f(ap[i], bv);
    } else {
      const int8_t av = ap[0];
      for (int64_t i = 0; i < n; ++i) op[i] = f(av, bq[bs * i]);
    }
    for (int d = last - 1; d >= 0; --d) {
      ao += bp.a_strides[d];
      bo += bp.b_strides[d];
      if (++idx[d] < bp.out_dims[d]) break;
      ao -= bp.a_strides[d] * bp.out_dims[d];
      bo -= bp.b_strides[d] * bp.out_dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

bool prepare_binary_int8(BinaryInt8Op op, double a_scale, int32_t a_zero_point, double b_scale, int32_t b_zero_point,
                         double out_scale, int32_t out_zero_point, int32_t qmin, int32_t qmax, BinaryInt8Params* p) {
  p->op = op;
  p->a_zero_point = a_zero_point;
  p->b_zero_point = b_zero_point;
  p->output_zero_point = out_zero_point;
  p->qmin = qmin;
  p->qmax = qmax;
  switch (op) {
    case BinaryInt8Op::Add:
    case BinaryInt8Op::Sub: {
      FixedMultiplierPair m;
      if (!quantize_multiplier_pair(a_scale / out_scale, b_scale / out_scale, &m)) return false;
      p->multiplier_a = m.multiplier_a;
      p->multiplier_b = (op == BinaryInt8Op::Sub ? -1 : 1) * int64_t(m.multiplier_b);
      p->shift = m.shift;
      return true;
    }
    case BinaryInt8Op::Mul:
      return quantize_multiplier(a_scale * b_scale / out_scale, &p->multiplier);
    case BinaryInt8Op::Div:
      return quantize_multiplier(a_scale / (b_scale * out_scale), &p->multiplier);
    case BinaryInt8Op::Max:
    case BinaryInt8Op::Min:
      for (int q = -128; q < 128; ++q) {
        p->table_a[q + 128] =
            int8_t(quantize_real(double(q - a_zero_point) * a_scale, out_scale, out_zero_point, -128, 127));
        p->table_b[q + 128] =
            int8_t(quantize_real(double(q - b_zero_point) * b_scale, out_scale, out_zero_point, -128, 127));
      }
      return true;
  }
  return false;
}

void binary_int8(const BinaryInt8Params& p, const BroadcastParams& bp, const int8_t* a, const int8_t* b, int8_t* out) {
  switch (p.op) {
    case BinaryInt8Op::Add:
    case BinaryInt8Op::Sub: run_broadcast(bp, a, b, out, AddSubFn{p}, true, &p); break;
    case BinaryInt8Op::Mul: run_broadcast(bp, a, b, out, MulFn{p}); break;
    case BinaryInt8Op::Max: run_broadcast(bp, a, b, out, MaxFn{p}); break;
    case BinaryInt8Op::Min: run_broadcast(bp, a, b, out, MinFn{p}); break;
    case BinaryInt8Op::Div: run_broadcast(bp, a, b, out, DivFn{p}); break;
  }
}

}  // namespace neutron
