#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace neutron {

bool prepare_reduce(Span<const int64_t> shape, Span<const int64_t> axes, ReduceParams* p) {
  const size_t r = shape.size();
  if (r > size_t(kMaxReduceRank)) return false;
  bool red[kMaxReduceRank] = {};
  for (int64_t a : axes) {
    if (a < 0 || a >= int64_t(r) || red[a]) return false;
    red[a] = true;
  }
  if (axes.empty())
    for (size_t i = 0; i < r; ++i) red[i] = true;
  p->rank = 0;
  p->in_count = 1;
  p->out_count = 1;
  p->reduce_count = 1;
  for (size_t i = 0; i < r; ++i) {
    const int64_t d = shape[i];
    if (d < 0) return false;
    p->in_count *= d;
    if (red[i])
      p->reduce_count *= d;
    else
      p->out_count *= d;
    if (d == 1) continue;
    if (p->rank > 0 && p->reduced[p->rank - 1] == red[i]) {
      p->dims[p->rank - 1] *= d;
    } else {
      p->dims[p->rank] = d;
      p->reduced[p->rank] = red[i];
      ++p->rank;
    }
  }
  int64_t si = 1, so = 1;
  for (int k = p->rank - 1; k >= 0; --k) {
    p->in_strides[k] = si;
    si *= p->dims[k];
    p->out_strides[k] = p->reduced[k] ? 0 : so;
    if (!p->reduced[k]) so *= p->dims[k];
  }
  return true;
}

namespace {

template <typename T>
struct SumOp {
  static T identity() { return T(0); }
  static T apply(T a, T b) {
    if constexpr (std::is_integral<T>::value) {
      using W = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;
      return T(W(a) + W(b));
    } else {
      return a + b;
    }
  }
  static T row(const T* x, int64_t n) {
    if constexpr (std::is_floating_point<T>::value) {
      // Eight partial sums: vectorizes without reassociation flags and loses less precision.
      T s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) s[k] += x[i + k];
      T t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
      for (; i < n; ++i) t += x[i];
      return t;
    } else {
      T t = 0;
      for (int64_t i = 0; i < n; ++i) t = apply(t, x[i]);
      return t;
    }
  }
};

template <typename T>
struct MaxOp {
  static T identity() {
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                : std::numeric_limits<T>::lowest();
  }
  static T apply(T a, T b) { return b > a ? b : a; }
  static T row(const T* x, int64_t n) {
    T m = identity();
    for (int64_t i = 0; i < n; ++i) m = apply(m, x[i]);
    return m;
  }
};

template <typename T>
struct MinOp {
  static T identity() {
    return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  }
  static T apply(T a, T b) { return b < a ? b : a; }
  static T row(const T* x, int64_t n) {
    T m = identity();
    for (int64_t i = 0; i < n; ++i) m = apply(m, x[i]);
    return m;
  }
};

template <typename T, typename Op>
void run_reduce(const ReduceParams& p, const T* x, T* y) {
  for (int64_t i = 0; i < p.out_count; ++i) y[i] = Op::identity();
  if (p.in_count == 0) return;
  if (p.rank == 0) {
    y[0] = Op::apply(y[0], x[0]);
    return;
  }
  const int last = p.rank - 1;
  const int64_t n = p.dims[last];
  const bool row_reduced = p.reduced[last];
  const int64_t outer = p.in_count / n;
  int64_t idx[kMaxReduceRank] = {0};
  int64_t yo = 0;
  for (int64_t o = 0; o < outer; ++o) {
    const T* xr = x + o * n;
    if (row_reduced) {
      y[yo] = Op::apply(y[yo], Op::row(xr, n));
    } else {
      T* yr = y + yo;
      for (int64_t j = 0; j < n; ++j) yr[j] = Op::apply(yr[j], xr[j]);
    }
    for (int d = last - 1; d >= 0; --d) {
      yo += p.out_strides[d];
      if (++idx[d] < p.dims[d]) break;
      yo -= p.out_strides[d] * p.dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

template <typename T>
void reduce(ReduceOp op, const ReduceParams& p, const T* x, T* y) {
  switch (op) {
    case ReduceOp::Sum: return run_reduce<T, SumOp<T>>(p, x, y);
    case ReduceOp::Max: return run_reduce<T, MaxOp<T>>(p, x, y);
    case ReduceOp::Min: return run_reduce<T, MinOp<T>>(p, x, y);
    case ReduceOp::Mean:
      if constexpr (std::is_floating_point<T>::value) {
        run_reduce<T, SumOp<T>>(p, x, y);
        const T count = T(p.reduce_count);
        for (int64_t i = 0; i < p.out_count; ++i)
          y[i] = p.reduce_count ? y[i] / count : std::numeric_limits<T>::quiet_NaN();
      }
      return;
  }
}

void reduce_l2_f32(const ReduceParams& p, const float* x, float* y, float* scratch) {
  for (int64_t i = 0; i < p.in_count; ++i) scratch[i] = x[i] * x[i];
  run_reduce<float, SumOp<float>>(p, scratch, y);
  for (int64_t i = 0; i < p.out_count; ++i) y[i] = std::sqrt(y[i]);
}

void l2_normalize_f32(int64_t outer, int64_t n, int64_t inner, double eps, const float* x, float* y) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* xr = x + o * n * inner + i;
      float* yr = y + o * n * inner + i;
      double ss = 0;
      for (int64_t k = 0; k < n; ++k) ss += double(xr[k * inner]) * double(xr[k * inner]);
      const double d = std::max(std::sqrt(ss), eps);
      for (int64_t k = 0; k < n; ++k) yr[k * inner] = d > 0 ? float(double(xr[k * inner]) / d) : 0.0f;
    }
}

template void reduce<float>(ReduceOp, const ReduceParams&, const float*, float*);
template void reduce<int8_t>(ReduceOp, const ReduceParams&, const int8_t*, int8_t*);
template void reduce<uint8_t>(ReduceOp, const ReduceParams&, const uint8_t*, uint8_t*);
template void reduce<int16_t>(ReduceOp, const ReduceParams&, const int16_t*, int16_t*);
template void reduce<int32_t>(ReduceOp, const ReduceParams&, const int32_t*, int32_t*);
template void reduce<int64_t>(ReduceOp, const ReduceParams&, const int64_t*, int64_t*);

}  // namespace neutron
