// Unary kernels: f32 against a double reference, integer versions exactly.
#include "kernels/unary_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/exp_f32.h"

namespace neutron {
namespace {

double reference(const UnaryParams& p, double x) {
  switch (p.op) {
    case UnaryOp::Relu: return std::max(x, 0.0);
    case UnaryOp::Clip: return std::min(std::max(x, double(p.min)), double(p.max));
    case UnaryOp::LeakyRelu: return x < 0 ? double(p.alpha) * x : x;
    case UnaryOp::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::HardSigmoid: return std::min(1.0, std::max(0.0, double(p.alpha) * x + double(p.beta)));
    case UnaryOp::HardSwish: return x * std::min(1.0, std::max(0.0, x / 6.0 + 0.5));
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::Abs: return std::fabs(x);
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Reciprocal: return 1.0 / x;
    case UnaryOp::Erf: return std::erf(x);
    case UnaryOp::Gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case UnaryOp::GeluTanh: return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    case UnaryOp::Pow: return std::pow(x, double(p.alpha));
  }
  return 0;
}

const char* name(UnaryOp op) {
  static const char* n[] = {"Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
                            "Abs",  "Neg",  "Exp",       "Log",     "Sqrt",        "Reciprocal",
                            "Erf",  "Gelu", "GeluTanh",  "Pow"};
  return n[int(op)];
}

TEST(UnaryF32, MatchesDoubleReference) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> wide(-12.f, 12.f);
  const UnaryOp ops[] = {UnaryOp::Relu,      UnaryOp::Clip, UnaryOp::LeakyRelu, UnaryOp::Sigmoid, UnaryOp::HardSigmoid,
                         UnaryOp::HardSwish, UnaryOp::Tanh, UnaryOp::Abs,       UnaryOp::Neg,     UnaryOp::Exp,
                         UnaryOp::Log,       UnaryOp::Sqrt, UnaryOp::Reciprocal, UnaryOp::Erf,   UnaryOp::Gelu,
                         UnaryOp::GeluTanh,  UnaryOp::Pow};
  for (UnaryOp op : ops) {
    UnaryParams p;
    p.op = op;
    p.alpha = op == UnaryOp::LeakyRelu ? 0.1f : (op == UnaryOp::Pow ? 3.f : 0.2f);
    p.beta = 0.5f;
    p.min = -1.5f;
    p.max = 6.f;
    const size_t n = 1000 + 3;
    std::vector<float> x(n), y(n);
    for (auto& v : x) v = wide(rng);
    x[0] = 0.f;
    x[1] = -3.f;  // HardSwish/HardSigmoid knees
    x[2] = 3.f;
    unary_f32(p, x.data(), y.data(), n);
    for (size_t i = 0; i < n; ++i) {
      const double want = reference(p, double(x[i]));
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(y[i])) << name(op) << " x=" << x[i];
        continue;
      }
      if (std::isinf(want)) {
        EXPECT_EQ(double(y[i]), want) << name(op) << " x=" << x[i];
        continue;
      }
      // A few float ulps of the result (libm float functions), plus an absolute floor near 0.
      EXPECT_NEAR(double(y[i]), want, 4e-7 * std::fabs(want) + 1e-7) << name(op) << " x=" << x[i];
    }
  }
}

TEST(ExpF32, WithinTwoUlpsOfLibm) {
  double worst = 0;
  float worst_x = 0;
  int checked = 0;
  for (float x = -110.f; x < 92.f; x += 0.000731f * (1.f + std::fabs(x))) {
    const double want = std::exp(double(x));
    const float got = exp_f32(x);
    if (want > double(std::numeric_limits<float>::max())) {
      ASSERT_EQ(got, INFINITY) << "x=" << x;
    } else if (want < double(std::numeric_limits<float>::min())) {
      ASSERT_NEAR(double(got), want, 3e-45) << "x=" << x;  // subnormal range: absolute
    } else {
      const double rel = std::fabs(double(got) - want) / want;
      if (rel > worst) {
        worst = rel;
        worst_x = x;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000);
  EXPECT_LT(worst, 2 * 1.1920929e-7) << "at x=" << worst_x;  // 2 ulps
  EXPECT_EQ(exp_f32(0.f), 1.f);
  EXPECT_EQ(exp_f32(INFINITY), INFINITY);
  EXPECT_EQ(exp_f32(-INFINITY), 0.f);
  EXPECT_TRUE(std::isnan(exp_f32(NAN)));
}

TEST(UnaryF32, InPlaceAndEdgeValues) {
  UnaryParams p;
  p.op = UnaryOp::Sigmoid;
  std::vector<float> x = {-100.f, 100.f, 0.f, -INFINITY, INFINITY};
  unary_f32(p, x.data(), x.data(), x.size());
  EXPECT_GE(x[0], 0.f);
  EXPECT_LT(x[0], 1e-40f);
  EXPECT_EQ(x[1], 1.f);
  EXPECT_EQ(x[2], 0.5f);
  EXPECT_EQ(x[3], 0.f);
  EXPECT_EQ(x[4], 1.f);
  // Clip: absent bounds are infinite; min > max gives max (ONNX); NaN passes through.
  p.op = UnaryOp::Clip;
  p.min = -INFINITY;
  p.max = 2.f;
  std::vector<float> c = {-1e30f, 5.f, NAN};
  unary_f32(p, c.data(), c.data(), c.size());
  EXPECT_EQ(c[0], -1e30f);
  EXPECT_EQ(c[1], 2.f);
  EXPECT_TRUE(std::isnan(c[2]));
  p.min = 3.f;
  p.max = 1.f;
  std::vector<float> d = {0.f, 2.f, 5.f};
  unary_f32(p, d.data(), d.data(), d.size());
  EXPECT_EQ(d[0], 1.f);
  EXPECT_EQ(d[1], 1.f);
  EXPECT_EQ(d[2], 1.f);
}

template <typename T>
void integer_case() {
  std::mt19937 rng(sizeof(T) * 7 + std::is_signed<T>::value);
  // Braces: clang reads d(int64_t(std::numeric_limits<T>::lowest()), ...) as a function declaration.
  std::uniform_int_distribution<int64_t> d{int64_t(std::numeric_limits<T>::lowest()),
                                           int64_t(std::numeric_limits<T>::max())};
  std::vector<T> x(257);
  for (auto& v : x) v = T(d(rng));
  x[0] = std::numeric_limits<T>::lowest();
  x[1] = std::numeric_limits<T>::max();
  x[2] = 0;
  std::vector<T> y(x.size());
  const UnaryOp ops[] = {UnaryOp::Relu, UnaryOp::Clip, UnaryOp::Abs, UnaryOp::Neg};
  for (UnaryOp op : ops) {
    ASSERT_TRUE(unary_op_has_integer_version(op));
    UnaryIntParams<T> p;
    p.op = op;
    p.min = std::is_signed<T>::value ? T(-5) : T(3);
    p.max = T(100);
    unary_int<T>(p, x.data(), y.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const int64_t v = int64_t(x[i]);
      int64_t want = 0;
      switch (op) {
        case UnaryOp::Relu: want = std::max<int64_t>(v, 0); break;
        case UnaryOp::Clip: want = std::min<int64_t>(std::max<int64_t>(v, p.min), p.max); break;
        // Two's complement: -lowest wraps to lowest.
        case UnaryOp::Abs:
          want = v == int64_t(std::numeric_limits<T>::lowest()) && std::is_signed<T>::value ? v : (v < 0 ? -v : v);
          break;
        case UnaryOp::Neg:
          want = std::is_signed<T>::value ? (v == int64_t(std::numeric_limits<T>::lowest()) ? v : -v)
                                          : int64_t(T(uint64_t(0) - uint64_t(v)));
          break;
        default: break;
      }
      ASSERT_EQ(int64_t(y[i]), want) << name(op) << " x=" << v << " sizeof=" << sizeof(T);
    }
  }
}

TEST(UnaryInt, ReluClipAbsNeg) {
  integer_case<int8_t>();
  integer_case<uint8_t>();
  integer_case<int16_t>();
  integer_case<int32_t>();
  integer_case<int64_t>();
  EXPECT_FALSE(unary_op_has_integer_version(UnaryOp::Sigmoid));
}

}  // namespace
}  // namespace neutron
