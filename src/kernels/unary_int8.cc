#include "kernels/unary_int8.h"

#include <algorithm>
#include <cmath>

#include "kernels/requantize.h"

namespace neutron {

double unary_reference_f64(const UnaryParams& p, double x) {
  switch (p.op) {
    case UnaryOp::Relu: return x > 0 ? x : 0.0;
    case UnaryOp::Clip: {
      const double lo = p.min, hi = p.max;
      return x < lo ? lo : (x > hi ? hi : x);
    }
    case UnaryOp::LeakyRelu: return x < 0 ? double(p.alpha) * x : x;
    case UnaryOp::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::HardSigmoid: {
      const double v = double(p.alpha) * x + double(p.beta);
      return v < 0 ? 0.0 : (v > 1 ? 1.0 : v);
    }
    case UnaryOp::HardSwish: {
      const double v = x / 6.0 + 0.5;
      return x * (v < 0 ? 0.0 : (v > 1 ? 1.0 : v));
    }
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::Abs: return std::fabs(x);
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Reciprocal: return 1.0 / x;
    case UnaryOp::Erf: return std::erf(x);
    case UnaryOp::Gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case UnaryOp::GeluTanh: return 0.5 * x * (1.0 + std::tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case UnaryOp::Pow: return std::pow(x, double(p.alpha));
  }
  return x;
}

void build_unary_int8_table(const UnaryParams& p, double in_scale, int32_t in_zero_point, double out_scale,
                            int32_t out_zero_point, int8_t table[256], int32_t qmin, int32_t qmax) {
  for (int q = -128; q < 128; ++q) {
    const double y = unary_reference_f64(p, in_scale * double(q - in_zero_point));
    table[q + 128] = int8_t(quantize_real(y, out_scale, out_zero_point, qmin, qmax));
  }
}

void unary_int8_lut(const int8_t table[256], const int8_t* x, int8_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = table[uint8_t(x[i] + 128)];
}

void channel_int8_lut(const int8_t* tables, int64_t channels, int64_t inner, const int8_t* x, int8_t* y, size_t n) {
  size_t i = 0;
  while (i < n) {  // runs of `inner` elements share one table
    for (int64_t c = 0; c < channels && i < n; ++c) {
      const int8_t* t = tables + c * 256;
      const size_t end = std::min(n, i + size_t(inner));
      for (; i < end; ++i) y[i] = t[uint8_t(x[i] + 128)];
    }
  }
}

}  // namespace neutron
