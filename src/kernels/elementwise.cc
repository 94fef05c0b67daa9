#include "kernels/elementwise.h"

#include <cmath>
#include <type_traits>

#include "kernels/cpu_isa.h"
#include "kernels/f32_isa.h"

namespace neutron {

bool prepare_broadcast(Span<const int64_t> a, Span<const int64_t> b, BroadcastParams* p) {
  const size_t r = a.size() > b.size() ? a.size() : b.size();
  if (r > size_t(kMaxBroadcastRank)) return false;
  const size_t a_off = r - a.size(), b_off = r - b.size();
  // Contiguous element strides of each operand, per aligned dim.
  int64_t a_full[kMaxBroadcastRank], b_full[kMaxBroadcastRank];
  int64_t sa = 1, sb = 1;
  for (size_t i = r; i-- > 0;) {
    const int64_t ad = i < a_off ? 1 : a[i - a_off];
    const int64_t bd = i < b_off ? 1 : b[i - b_off];
    a_full[i] = sa;
    b_full[i] = sb;
    sa *= ad;
    sb *= bd;
  }
  p->rank = 0;
  p->out_count = 1;
  int prev_pattern = -1;
  for (size_t i = 0; i < r; ++i) {
    const int64_t ad = i < a_off ? 1 : a[i - a_off];
    const int64_t bd = i < b_off ? 1 : b[i - b_off];
    if (ad < 0 || bd < 0) return false;
    if (ad != bd && ad != 1 && bd != 1) return false;
    const int64_t od = ad == 1 ? bd : ad;
    p->out_count *= od;
    if (od == 1) continue;
    const int pattern = (ad == 1 ? 1 : 0) | (bd == 1 ? 2 : 0);
    const int64_t as = ad == 1 ? 0 : a_full[i];
    const int64_t bs = bd == 1 ? 0 : b_full[i];
    if (pattern == prev_pattern) {
      // Same broadcast pattern as the previous kept dim: both are contiguous in each operand
      // (dims in between have size 1), so they merge into one dim with the inner stride.
      const int k = p->rank - 1;
      p->out_dims[k] *= od;
      p->a_strides[k] = as;
      p->b_strides[k] = bs;
    } else {
      p->out_dims[p->rank] = od;
      p->a_strides[p->rank] = as;
      p->b_strides[p->rank] = bs;
      ++p->rank;
      prev_pattern = pattern;
    }
  }
  return true;
}

namespace {

template <typename T>
using WideUnsigned = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;

// Wrapping integer arithmetic (computed in unsigned, so no signed overflow).
template <typename T>
inline T add_op(T a, T b) {
  if constexpr (std::is_integral<T>::value) {
    using W = WideUnsigned<T>;
    return T(W(a) + W(b));
  } else {
    return a + b;
  }
}
template <typename T>
inline T sub_op(T a, T b) {
  if constexpr (std::is_integral<T>::value) {
    using W = WideUnsigned<T>;
    return T(W(a) - W(b));
  } else {
    return a - b;
  }
}
template <typename T>
inline T mul_op(T a, T b) {
  if constexpr (std::is_integral<T>::value) {
    using W = WideUnsigned<T>;
    return T(W(a) * W(b));
  } else {
    return a * b;
  }
}
// Integer powers wrap like Mul (square-and-multiply in unsigned); a negative exponent gives the
// truncated 1 / a^|b| (1 for a = 1, +-1 for a = -1, else 0), so no input traps.
template <typename T>
inline T pow_op(T a, T b) {
  if constexpr (std::is_integral<T>::value) {
    if constexpr (std::is_signed<T>::value) {
      if (b < 0) return a == T(1) ? T(1) : a == T(-1) ? T((b & 1) ? -1 : 1) : T(0);
    }
    using W = WideUnsigned<T>;
    W r = 1, base = W(a);
    for (W e = W(b); e != 0; e >>= 1) {
      if (e & 1) r *= base;
      base *= base;
    }
    return T(r);
  } else {
    return std::pow(a, b);
  }
}
template <typename T>
inline T div_op(T a, T b) {
  if constexpr (std::is_integral<T>::value) {
    if (b == 0) return T(0);
    if constexpr (std::is_signed<T>::value) {
      if (b == T(-1)) return sub_op<T>(T(0), a);  // INT_MIN / -1 wraps instead of trapping
    }
    return T(a / b);
  } else {
    return a / b;
  }
}

template <typename T, typename F>
void run_broadcast(const BroadcastParams& p, const T* a, const T* b, T* out, F f) {
  if (p.out_count == 0) return;
  if (p.rank == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const int last = p.rank - 1;
  const int64_t n = p.out_dims[last];
  const bool a_vec = p.a_strides[last] != 0, b_vec = p.b_strides[last] != 0;
  const int64_t outer = p.out_count / n;
  int64_t idx[kMaxBroadcastRank] = {0};
  int64_t ao = 0, bo = 0;
  for (int64_t o = 0; o < outer; ++o) {
    const T* ap = a + ao;
    const T* bp = b + bo;
    T* op = out + o * n;
    if (a_vec && b_vec) {
      for (int64_t i = 0; i < n; ++i) op[i] = f(ap[i], bp[i]);
    } else if (a_vec) {
      const T bv = *bp;
      for (int64_t i = 0; i < n; ++i) op[i] = f(ap[i], bv);
    } else {
      const T av = *ap;
      for (int64_t i = 0; i < n; ++i) op[i] = f(av, bp[i]);
    }
    for (int d = last - 1; d >= 0; --d) {
      ao += p.a_strides[d];
      bo += p.b_strides[d];
      if (++idx[d] < p.out_dims[d]) break;
      ao -= p.a_strides[d] * p.out_dims[d];
      bo -= p.b_strides[d] * p.out_dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

template <typename T>
void binary_broadcast(BinaryOp op, const BroadcastParams& p, const T* a, const T* b, T* out) {
  switch (op) {
    case BinaryOp::Add: return run_broadcast(p, a, b, out, [](T x, T y) { return add_op<T>(x, y); });
    case BinaryOp::Sub: return run_broadcast(p, a, b, out, [](T x, T y) { return sub_op<T>(x, y); });
    case BinaryOp::Mul: return run_broadcast(p, a, b, out, [](T x, T y) { return mul_op<T>(x, y); });
    case BinaryOp::Div: return run_broadcast(p, a, b, out, [](T x, T y) { return div_op<T>(x, y); });
    case BinaryOp::Max: return run_broadcast(p, a, b, out, [](T x, T y) { return x < y ? y : x; });
    case BinaryOp::Min: return run_broadcast(p, a, b, out, [](T x, T y) { return y < x ? y : x; });
    case BinaryOp::Pow: return run_broadcast(p, a, b, out, [](T x, T y) { return pow_op<T>(x, y); });
    case BinaryOp::PRelu: return run_broadcast(p, a, b, out, [](T x, T y) { return x < T(0) ? mul_op<T>(x, y) : x; });
  }
}

void binary_f32_act(BinaryOp op, int64_t n, const float* a, const float* b, float* out, bool relu, float lo,
                    float hi) {
  const bool sub = op == BinaryOp::Sub;
  switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
    case KernelIsa::kAvx512: f32_avx512::binary_act(n, a, b, out, sub, relu, lo, hi); return;
    case KernelIsa::kAvx2: f32_avx2::binary_act(n, a, b, out, sub, relu, lo, hi); return;
#endif
    default: f32_base::binary_act(n, a, b, out, sub, relu, lo, hi); return;
  }
}

template void binary_broadcast<float>(BinaryOp, const BroadcastParams&, const float*, const float*, float*);
template void binary_broadcast<int8_t>(BinaryOp, const BroadcastParams&, const int8_t*, const int8_t*, int8_t*);
template void binary_broadcast<uint8_t>(BinaryOp, const BroadcastParams&, const uint8_t*, const uint8_t*, uint8_t*);
template void binary_broadcast<int16_t>(BinaryOp, const BroadcastParams&, const int16_t*, const int16_t*, int16_t*);
template void binary_broadcast<int32_t>(BinaryOp, const BroadcastParams&, const int32_t*, const int32_t*, int32_t*);
template void binary_broadcast<int64_t>(BinaryOp, const BroadcastParams&, const int64_t*, const int64_t*, int64_t*);

}  // namespace neutron
