// GCC treats FP operations as possibly trapping by default and then will not vectorize the
// branch-free selects of exp_f32(); we never rely on FP exceptions. (Clang's default already.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "kernels/unary_f32.h"

#include <cmath>
#include <type_traits>

#include "kernels/exp_f32.h"

namespace neutron {
namespace {

template <typename F>
inline void map(const float* x, float* y, size_t n, F f) {
  for (size_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// min(max(v, lo), hi): gives hi when lo > hi (ONNX Clip), keeps NaN.
inline float clampf(float v, float lo, float hi) {
  const float t = v < lo ? lo : v;
  return t > hi ? hi : t;
}

}  // namespace

void unary_f32(const UnaryParams& p, const float* x, float* y, size_t n) {
  const float alpha = p.alpha, beta = p.beta, lo = p.min, hi = p.max;
  switch (p.op) {
    case UnaryOp::Relu: return map(x, y, n, [](float v) { return v > 0.f ? v : 0.f; });
    case UnaryOp::Clip: return map(x, y, n, [=](float v) { return clampf(v, lo, hi); });
    case UnaryOp::LeakyRelu: return map(x, y, n, [=](float v) { return v < 0.f ? alpha * v : v; });
    case UnaryOp::Sigmoid:
      // exp(-v) overflows to inf for v < -89, which still gives the correct limit 0.
      return map(x, y, n, [](float v) { return 1.f / (1.f + exp_f32(-v)); });
    case UnaryOp::HardSigmoid: return map(x, y, n, [=](float v) { return clampf(alpha * v + beta, 0.f, 1.f); });
    case UnaryOp::HardSwish: return map(x, y, n, [](float v) { return v * clampf(v * (1.f / 6.f) + 0.5f, 0.f, 1.f); });
    case UnaryOp::Tanh: return map(x, y, n, [](float v) { return std::tanh(v); });
    case UnaryOp::Abs: return map(x, y, n, [](float v) { return std::fabs(v); });
    case UnaryOp::Neg: return map(x, y, n, [](float v) { return -v; });
    case UnaryOp::Exp: return map(x, y, n, [](float v) { return exp_f32(v); });
    case UnaryOp::Log: return map(x, y, n, [](float v) { return std::log(v); });
    case UnaryOp::Sqrt: return map(x, y, n, [](float v) { return std::sqrt(v); });
    case UnaryOp::Reciprocal: return map(x, y, n, [](float v) { return 1.f / v; });
    case UnaryOp::Erf: return map(x, y, n, [](float v) { return std::erf(v); });
    // erfc and the sigmoid form avoid the cancellation of 1 + erf / 1 + tanh for negative x.
    case UnaryOp::Gelu: return map(x, y, n, [](float v) { return 0.5f * v * std::erfc(v * -0.70710678118654752f); });
    case UnaryOp::GeluTanh:
      return map(x, y, n, [](float v) {
        const float u = 0.79788456080286536f * (v + 0.044715f * v * v * v);
        return v / (1.f + std::exp(-2.f * u));
      });
    case UnaryOp::Pow:
      if (alpha == 2.f) return map(x, y, n, [](float v) { return v * v; });
      return map(x, y, n, [=](float v) { return std::pow(v, alpha); });
  }
}

template <typename T>
void unary_int(const UnaryIntParams<T>& p, const T* x, T* y, size_t n) {
  using W = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;
  const T lo = p.min, hi = p.max;
  switch (p.op) {
    case UnaryOp::Relu:
      for (size_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
      return;
    case UnaryOp::Clip:
      for (size_t i = 0; i < n; ++i) {
        const T t = x[i] < lo ? lo : x[i];
        y[i] = t > hi ? hi : t;
      }
      return;
    case UnaryOp::Abs:
      for (size_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(W(0) - W(x[i])) : x[i];
      return;
    case UnaryOp::Neg:
      for (size_t i = 0; i < n; ++i) y[i] = T(W(0) - W(x[i]));
      return;
    default: return;  // no integer version; the binder rejects these
  }
}

template void unary_int<int8_t>(const UnaryIntParams<int8_t>&, const int8_t*, int8_t*, size_t);
template void unary_int<uint8_t>(const UnaryIntParams<uint8_t>&, const uint8_t*, uint8_t*, size_t);
template void unary_int<int16_t>(const UnaryIntParams<int16_t>&, const int16_t*, int16_t*, size_t);
template void unary_int<int32_t>(const UnaryIntParams<int32_t>&, const int32_t*, int32_t*, size_t);
template void unary_int<int64_t>(const UnaryIntParams<int64_t>&, const int64_t*, int64_t*, size_t);

}  // namespace neutron
