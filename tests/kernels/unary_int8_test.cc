// int8 unary ops through the 256-entry table: every input value of every op against the exact
// QDQ evaluation (which the table is, by construction), plus the fused clamp.
#include "kernels/unary_int8.h"

#include <gtest/gtest.h>

#include <limits>

#include "int8_test_util.h"

namespace neutron {
namespace {

TEST(UnaryInt8, AllOpsAllInputsMatchExactQdq) {
  const UnaryOp ops[] = {UnaryOp::Relu, UnaryOp::Clip,  UnaryOp::LeakyRelu, UnaryOp::Sigmoid, UnaryOp::HardSigmoid,
                         UnaryOp::HardSwish, UnaryOp::Tanh, UnaryOp::Abs, UnaryOp::Neg, UnaryOp::Exp,
                         UnaryOp::Log, UnaryOp::Sqrt, UnaryOp::Reciprocal, UnaryOp::Erf, UnaryOp::Gelu,
                         UnaryOp::GeluTanh, UnaryOp::Pow};
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    for (UnaryOp op : ops) {
      SCOPED_TRACE("trial " + std::to_string(trial) + " op " + std::to_string(int(op)));
      UnaryParams p;
      p.op = op;
      p.alpha = op == UnaryOp::HardSigmoid ? 0.2f : (op == UnaryOp::Pow ? 2.f : 0.1f);
      p.beta = 0.5f;
      p.min = -0.5f;
      p.max = 1.5f;
      const double sx = testing::rand_log_uniform(rng, 1e-3, 1e-1);
      const int32_t zx = testing::rand_int(rng, -128, 127);
      std::vector<int8_t> x(256);
      for (int q = -128; q < 128; ++q) x[size_t(q + 128)] = int8_t(q);
      std::vector<double> real(256);
      for (size_t i = 0; i < 256; ++i) {
        // Independent formulas for the reference.
        const double v = sx * (x[i] - zx);
        double r = 0;
        switch (op) {
          case UnaryOp::Relu: r = std::max(v, 0.0); break;
          case UnaryOp::Clip: r = std::min(std::max(v, -0.5), 1.5); break;
          case UnaryOp::LeakyRelu: r = v >= 0 ? v : double(0.1f) * v; break;
          case UnaryOp::Sigmoid: r = 0.5 * (1 + std::tanh(v / 2)); break;
          case UnaryOp::HardSigmoid: r = std::min(1.0, std::max(0.0, double(0.2f) * v + 0.5)); break;
          case UnaryOp::HardSwish: r = v * std::min(1.0, std::max(0.0, v + 3) / 6); break;
          case UnaryOp::Tanh: r = std::tanh(v); break;
          case UnaryOp::Abs: r = std::abs(v); break;
          case UnaryOp::Neg: r = -v; break;
          case UnaryOp::Exp: r = std::exp(v); break;
          case UnaryOp::Log: r = std::log(v); break;
          case UnaryOp::Sqrt: r = std::sqrt(v); break;
          case UnaryOp::Reciprocal: r = 1 / v; break;
          case UnaryOp::Erf: r = std::erf(v); break;
          case UnaryOp::Gelu: r = v * 0.5 * std::erfc(-v / std::sqrt(2.0)); break;
          case UnaryOp::GeluTanh: r = v / (1 + std::exp(-2 * 0.7978845608028654 * (v + 0.044715 * v * v * v))); break;
          case UnaryOp::Pow: r = v * v; break;
        }
        real[i] = r;
      }
      // Output range from the finite results.
      double lo = 0, hi = 0;
      for (double r : real)
        if (std::isfinite(r)) {
          lo = std::min(lo, r);
          hi = std::max(hi, r);
        }
      if (op == UnaryOp::Reciprocal || op == UnaryOp::Log) {  // keep the range useful
        lo = std::max(lo, -30.0);
        hi = std::min(hi, 30.0);
      }
      const auto yq = testing::out_quant_for_range(lo, hi);
      const auto expected = testing::quantize_all(real, yq);
      int8_t table[256];
      build_unary_int8_table(p, sx, zx, yq.scale, yq.zero_point, table);
      std::vector<int8_t> y(256);
      unary_int8_lut(table, x.data(), y.data(), 256);
      EXPECT_TRUE(testing::qdq_close(y, expected, "unary"));
    }
  }
}

TEST(UnaryInt8, FusedClampAndInPlace) {
  UnaryParams p;
  p.op = UnaryOp::Relu;
  int8_t table[256];
  build_unary_int8_table(p, 0.1, 0, 0.1, 0, table, -10, 20);
  std::vector<int8_t> x = {-128, -5, 0, 5, 19, 20, 21, 127};
  unary_int8_lut(table, x.data(), x.data(), x.size());
  EXPECT_EQ(x, (std::vector<int8_t>{0, 0, 0, 5, 19, 20, 20, 20}));
}

}  // namespace
}  // namespace neutron
