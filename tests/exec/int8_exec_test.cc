// int8 nodes through the executor, i.e. the shared lowering (lowering/lowering.h) run as kernel
// calls (bind_lowered_int8): validation with NotSupported and a message naming the node and the
// numbers (also through lowering::can_lower, fold-qdq's question); NCHW and NHWC layouts; bias requantization when the
// bias scale is not s_in * s_w; Gemm alpha/beta/transB; MatMul on rank-3 input; fused activation
// attributes. Results are compared with the exact QDQ evaluation in double.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/int8_test_util.h"
#include "lowering/lowering.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;

TensorData random_i8(std::mt19937& rng, Shape s, int lo = -128, int hi = 127) {
  TensorData t(DType::I8, std::move(s));
  std::uniform_int_distribution<int> d(lo, hi);
  for (int64_t i = 0; i < t.count(); ++i) t.data<int8_t>()[i] = int8_t(d(rng));
  return t;
}

std::vector<int8_t> as_vec(const TensorData& t) { return t.to_vector<int8_t>(); }

// Exact QDQ Conv in double, NCHW, output quantized with `yq`.
std::vector<int32_t> conv_reference(const TensorData& x, const QuantParams& xq, const TensorData& w,
                                    const QuantParams& wq, const TensorData* b, const QuantParams& bq, int stride,
                                    int pad, const QuantParams& yq, Shape* out_shape, double act_min = -INFINITY,
                                    double act_max = INFINITY) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t O = w.shape[0], K = w.shape[2];
  const int64_t OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
  *out_shape = {N, O, OH, OW};
  std::vector<int32_t> out;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          const double sw = wq.scale[wq.per_axis() ? size_t(o) : 0];
          double acc = b ? double(b->data<int32_t>()[o]) * bq.scale[bq.per_axis() ? size_t(o) : 0] : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t ky = 0; ky < K; ++ky)
              for (int64_t kx = 0; kx < K; ++kx) {
                const int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const double xv = xq.scale[0] * (x.data<int8_t>()[((n * C + c) * H + iy) * W + ix] - xq.zero_point[0]);
                acc += xv * sw * w.data<int8_t>()[((o * C + c) * K + ky) * K + kx];
              }
          acc = std::min(std::max(acc, act_min), act_max);
          out.push_back(quantize_real(acc, yq.scale[0], yq.zero_point[0], -128, 127));
        }
  return out;
}

Attributes conv_attrs(int64_t k, int64_t stride, int64_t pad) {
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{k, k});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  a.set("group", int64_t(1));
  return a;
}

QuantParams per_channel(std::mt19937& rng, int64_t n, int32_t axis) {
  QuantParams q;
  std::uniform_real_distribution<float> d(0.002f, 0.01f);
  for (int64_t i = 0; i < n; ++i) {
    q.scale.push_back(d(rng));
    q.zero_point.push_back(0);
  }
  q.axis = axis;
  return q;
}

// NCHW Conv (no layout pass), bias with exact and with mismatched scale, fused activation.
TEST(Int8Exec, ConvNchwBiasScalesAndFusedActivation) {
  std::mt19937 rng(3);
  const QuantParams xq = QuantParams::per_tensor(0.0213f, 7);
  const QuantParams yq = QuantParams::per_tensor(0.0517f, -11);
  TensorData x = random_i8(rng, {2, 5, 7, 6});
  TensorData w = random_i8(rng, {4, 5, 3, 3}, -127, 127);
  QuantParams wq = per_channel(rng, 4, 0);
  TensorData b(DType::I32, {4});
  for (int i = 0; i < 4; ++i) b.data<int32_t>()[i] = int32_t(rng() % 4001) - 2000;
  for (double mismatch : {1.0, 1.0 + 1e-7, 2.5}) {
    for (bool fused : {false, true}) {
      SCOPED_TRACE("bias scale x" + std::to_string(mismatch) + (fused ? " fused [0, 1.5]" : ""));
      QuantParams bq = wq;
      for (auto& s : bq.scale) s = float(double(s) * xq.scale[0] * mismatch);
      Attributes a = conv_attrs(3, 2, 1);
      if (fused) {
        a.set("act_min", 0.0);
        a.set("act_max", 1.5);
      }
      auto r = testing::run_single_op(OpKind::Conv,
                                      {Operand::input(x, xq), Operand::constant_of(w, wq), Operand::constant_of(b, bq)}, a,
                                      {OutputSpec{yq}});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      Shape s;
      const auto want = conv_reference(x, xq, w, wq, &b, bq, 2, 1, yq, &s, fused ? 0.0 : -INFINITY,
                                       fused ? 1.5 : INFINITY);
      EXPECT_EQ(r.value()[0].shape, s);
      // A requantized bias (x2.5) is off by up to 0.5 accumulator units: ties become 1e-2 wide.
      EXPECT_TRUE(testing::qdq_close(as_vec(r.value()[0]), want, "conv"));
    }
  }
}

// NHWC (channels_last=1) and NCHW give the same int8 result.
TEST(Int8Exec, ConvChannelsLastMatchesNchw) {
  std::mt19937 rng(4);
  const QuantParams xq = QuantParams::per_tensor(0.0213f, 7), yq = QuantParams::per_tensor(0.0517f, -11);
  TensorData x = random_i8(rng, {1, 3, 5, 4});
  TensorData w = random_i8(rng, {6, 3, 3, 3}, -127, 127);
  const QuantParams wq = per_channel(rng, 6, 0);
  auto nchw = testing::run_single_op(OpKind::Conv, {Operand::input(x, xq), Operand::constant_of(w, wq)},
                                     conv_attrs(3, 1, 1), {OutputSpec{yq}});
  ASSERT_TRUE(nchw.ok()) << nchw.status().to_string();
  TensorData xt(DType::I8, {1, 5, 4, 3});
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 20; ++i) xt.data<int8_t>()[i * 3 + c] = x.data<int8_t>()[c * 20 + i];
  Attributes a = conv_attrs(3, 1, 1);
  a.set("channels_last", int64_t(1));
  auto nhwc = testing::run_single_op(OpKind::Conv, {Operand::input(xt, xq), Operand::constant_of(w, wq)}, a,
                                     {OutputSpec{yq}});
  ASSERT_TRUE(nhwc.ok()) << nhwc.status().to_string();
  const TensorData& y0 = nchw.value()[0];
  const TensorData& y1 = nhwc.value()[0];
  ASSERT_EQ(y1.shape, (Shape{1, 5, 4, 6}));
  for (int c = 0; c < 6; ++c)
    for (int i = 0; i < 20; ++i) ASSERT_EQ(y0.data<int8_t>()[c * 20 + i], y1.data<int8_t>()[i * 6 + c]);
}

TEST(Int8Exec, ConvRejectsAsymmetricOrVariableWeights) {
  std::mt19937 rng(5);
  const QuantParams xq = QuantParams::per_tensor(0.02f, 0), yq = QuantParams::per_tensor(0.05f, 0);
  TensorData x = random_i8(rng, {1, 2, 4, 4});
  TensorData w = random_i8(rng, {2, 2, 1, 1});
  auto r = testing::run_single_op(OpKind::Conv, {Operand::input(x, xq), Operand::constant_of(w, QuantParams::per_tensor(0.01f, 3))},
                                  conv_attrs(1, 1, 0), {OutputSpec{yq}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("zero point 3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'op' (Conv)"), std::string::npos) << r.status().message();

  r = testing::run_single_op(OpKind::Conv, {Operand::input(x, xq), Operand::input(w, QuantParams::per_tensor(0.01f, 0))},
                             conv_attrs(1, 1, 0), {OutputSpec{yq}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("constant"), std::string::npos) << r.status().message();
}

TEST(Int8Exec, MultiplierOutOfDomainIsNotSupportedWithTheNumbers) {
  std::mt19937 rng(6);
  TensorData x = random_i8(rng, {1, 8});
  TensorData w = random_i8(rng, {8, 4});
  auto r = testing::run_single_op(OpKind::MatMul,
                                  {Operand::input(x, QuantParams::per_tensor(1e-20f, 0)),
                                   Operand::constant_of(w, QuantParams::per_tensor(1e-20f, 0))},
                                  {}, {OutputSpec{QuantParams::per_tensor(1.0f, 0)}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("outside the supported range"), std::string::npos) << r.status().message();
}

// Gemm with transB, alpha, beta and a per-tensor bias; MatMul with rank-3 A and per-column B.
TEST(Int8Exec, GemmAndMatMul) {
  std::mt19937 rng(8);
  const QuantParams aq = QuantParams::per_tensor(0.031f, -3), yq = QuantParams::per_tensor(0.27f, 4);
  TensorData a = random_i8(rng, {3, 17});
  TensorData b = random_i8(rng, {5, 17}, -127, 127);  // [N][K]: transB
  const QuantParams bq = per_channel(rng, 5, 0);
  TensorData c(DType::I32, {5});
  for (int i = 0; i < 5; ++i) c.data<int32_t>()[i] = int32_t(rng() % 20001) - 10000;
  const QuantParams cq = QuantParams::per_tensor(0.031f * 0.004f, 0);
  Attributes at;
  at.set("transB", int64_t(1));
  at.set("alpha", 0.75);
  at.set("beta", 1.5);
  auto r = testing::run_single_op(OpKind::Gemm, {Operand::input(a, aq), Operand::constant_of(b, bq), Operand::constant_of(c, cq)},
                                  at, {OutputSpec{yq}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::vector<int32_t> want;
  for (int m = 0; m < 3; ++m)
    for (int n = 0; n < 5; ++n) {
      double acc = 0;
      for (int k = 0; k < 17; ++k)
        acc += aq.scale[0] * (a.data<int8_t>()[m * 17 + k] - aq.zero_point[0]) * bq.scale[size_t(n)] * b.data<int8_t>()[n * 17 + k];
      acc = 0.75 * acc + 1.5 * cq.scale[0] * c.data<int32_t>()[n];
      want.push_back(quantize_real(acc, yq.scale[0], yq.zero_point[0], -128, 127));
    }
  EXPECT_TRUE(testing::qdq_close(as_vec(r.value()[0]), want, "gemm"));

  TensorData a3 = random_i8(rng, {2, 3, 6});
  TensorData b2 = random_i8(rng, {6, 4}, -127, 127);
  const QuantParams b2q = per_channel(rng, 4, 1);
  const QuantParams y2q = QuantParams::per_tensor(0.013f, 1);
  r = testing::run_single_op(OpKind::MatMul, {Operand::input(a3, aq), Operand::constant_of(b2, b2q)}, {}, {OutputSpec{y2q}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].shape, (Shape{2, 3, 4}));
  want.clear();
  for (int m = 0; m < 6; ++m)
    for (int n = 0; n < 4; ++n) {
      double acc = 0;
      for (int k = 0; k < 6; ++k)
        acc += aq.scale[0] * (a3.data<int8_t>()[m * 6 + k] - aq.zero_point[0]) * b2q.scale[size_t(n)] * b2.data<int8_t>()[k * 4 + n];
      want.push_back(quantize_real(acc, y2q.scale[0], y2q.zero_point[0], -128, 127));
    }
  EXPECT_TRUE(testing::qdq_close(as_vec(r.value()[0]), want, "matmul"));
}

// Pools, binary, unary and softmax bind through their float family binders on NCHW int8 data.
TEST(Int8Exec, OtherFamiliesBindAndRun) {
  std::mt19937 rng(9);
  const QuantParams q1 = QuantParams::per_tensor(0.02f, 3), q2 = QuantParams::per_tensor(0.0377f, -9);
  TensorData x = random_i8(rng, {1, 3, 6, 5});
  Attributes ap;
  ap.set("kernel_shape", std::vector<int64_t>{2, 3});
  ap.set("strides", std::vector<int64_t>{2, 2});
  ap.set("pads", std::vector<int64_t>{1, 1, 0, 1});
  ap.set("count_include_pad", int64_t(0));
  auto r = testing::run_single_op(OpKind::AveragePool, {Operand::input(x, q1)}, ap, {OutputSpec{q2}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Exact QDQ AveragePool: output (0, 0) covers the valid taps (0..0, 0..1) of channel 0.
  const double v = 0.02 * ((x.data<int8_t>()[0] - 3) + (x.data<int8_t>()[1] - 3)) / 2;
  EXPECT_EQ(r.value()[0].data<int8_t>()[0], quantize_real(v, double(q2.scale[0]), -9, -128, 127));

  auto g = testing::run_single_op(OpKind::GlobalAveragePool, {Operand::input(x, q1)}, {}, {OutputSpec{q2}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g.value()[0].shape, (Shape{1, 3, 1, 1}));

  TensorData y = random_i8(rng, {3, 1, 1});
  auto add = testing::run_single_op(OpKind::Add, {Operand::input(x, q1), Operand::input(y, q2)}, {}, {OutputSpec{q2}});
  ASSERT_TRUE(add.ok()) << add.status().to_string();
  const double s = 0.02 * (x.data<int8_t>()[31] - 3) + double(0.0377f) * (y.data<int8_t>()[1] + 9);
  EXPECT_EQ(add.value()[0].data<int8_t>()[31], quantize_real(s, double(0.0377f), -9, -128, 127));

  auto sig = testing::run_single_op(OpKind::Sigmoid, {Operand::input(x, q1)}, {},
                                    {OutputSpec{QuantParams::per_tensor(1.0f / 256, -128)}});
  ASSERT_TRUE(sig.ok()) << sig.status().to_string();
  Attributes sm;
  sm.set("axis", int64_t(1));
  auto soft = testing::run_single_op(OpKind::Softmax, {Operand::input(x, q1)}, sm,
                                     {OutputSpec{QuantParams::per_tensor(1.0f / 256, -128)}});
  ASSERT_TRUE(soft.ok()) << soft.status().to_string();

  // Div by a run-time tensor: the int8 div kernel call (exact division, docs/integer-semantics.md).
  auto div = testing::run_single_op(OpKind::Div, {Operand::input(x, q1), Operand::input(y, q2)}, {}, {OutputSpec{q2}});
  ASSERT_TRUE(div.ok()) << div.status().to_string();
  const int32_t den = y.data<int8_t>()[1] + 9, num = x.data<int8_t>()[31] - 3;
  const int32_t want = den == 0 ? (num > 0 ? 127 : num < 0 ? -128 : -9)
                                : quantize_real(0.02 * num / (double(0.0377f) * den), double(0.0377f), -9, -128, 127);
  EXPECT_LE(std::abs(div.value()[0].data<int8_t>()[31] - want), 1);
}

// fold-qdq's question gets the lowering's own answer, naming the node and the reason.
TEST(Int8Exec, CanLowerSaysWhyNot) {
  std::mt19937 rng(8);
  const QuantParams xq = QuantParams::per_tensor(0.02f, 0), yq = QuantParams::per_tensor(0.05f, 0);
  TensorData x = random_i8(rng, {1, 2, 4, 4});
  TensorData w = random_i8(rng, {2, 2, 1, 1});
  auto bad = testing::make_single_op_graph(
      OpKind::Conv, {Operand::input(x, xq), Operand::constant_of(w, QuantParams::per_tensor(0.01f, 3))},
      conv_attrs(1, 1, 0), {OutputSpec{yq}});
  ASSERT_TRUE(bad.ok()) << bad.status().to_string();
  const NodeId id = bad.value().live_nodes()[0];
  const Status s = lowering::can_lower(bad.value(), id);
  EXPECT_EQ(s.code(), Error::NotSupported);
  EXPECT_NE(s.message().find("'op' (Conv)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("zero point 3"), std::string::npos) << s.message();

  auto good = testing::make_single_op_graph(
      OpKind::Conv, {Operand::input(x, xq), Operand::constant_of(w, QuantParams::per_tensor(0.01f, 0))},
      conv_attrs(1, 1, 0), {OutputSpec{yq}});
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(lowering::can_lower(good.value(), good.value().live_nodes()[0]).ok());
}

// Softmax over an axis that is not last in memory runs between transposes: the same integers as
// the same rows laid out last.
TEST(Int8Exec, SoftmaxInnerAxisEqualsLastAxis) {
  std::mt19937 rng(9);
  const QuantParams xq = QuantParams::per_tensor(0.05f, 3), yq = QuantParams::per_tensor(1.0f / 256, -128);
  TensorData x = random_i8(rng, {2, 3, 4});
  TensorData xt(DType::I8, {2, 4, 3});
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 4; ++k) xt.data<int8_t>()[(a * 4 + k) * 3 + c] = x.data<int8_t>()[(a * 3 + c) * 4 + k];
  Attributes inner, last;
  inner.set("axis", int64_t(1));
  last.set("axis", int64_t(-1));
  auto r1 = testing::run_single_op(OpKind::Softmax, {Operand::input(x, xq)}, inner, {OutputSpec{yq}});
  auto r2 = testing::run_single_op(OpKind::Softmax, {Operand::input(xt, xq)}, last, {OutputSpec{yq}});
  ASSERT_TRUE(r1.ok()) << r1.status().to_string();
  ASSERT_TRUE(r2.ok()) << r2.status().to_string();
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 4; ++k)
        EXPECT_EQ(r1.value()[0].data<int8_t>()[(a * 3 + c) * 4 + k], r2.value()[0].data<int8_t>()[(a * 4 + k) * 3 + c])
            << a << "," << c << "," << k;
}

}  // namespace
}  // namespace neutron
