// Binary and unary ops through the executor (shape inference, binder dispatch, kernels).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;
using testing::run_single_op;

std::vector<float> iota_f(size_t n, float start, float step) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + step * float(i);
  return v;
}

TEST(ExecBinary, F32BroadcastWithConstant) {
  // [2,3,4] - [3,1] (constant): rank mismatch and a size-1 dim.
  const auto a = iota_f(24, -5.f, 0.5f);
  const std::vector<float> b = {1.f, 2.f, 3.f};
  auto r = run_single_op(
      OpKind::Sub,
      {Operand::input(TensorData::from<float>({2, 3, 4}, a)), Operand::constant_of(TensorData::from<float>({3, 1}, b))},
      {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const TensorData& y = r.value()[0];
  ASSERT_EQ(y.shape, (Shape{2, 3, 4}));
  const auto v = y.to_vector<float>();
  for (size_t i = 0; i < 24; ++i) EXPECT_EQ(v[i], a[i] - b[(i / 4) % 3]) << i;
}

TEST(ExecBinary, AllF32OpsScalarOperand) {
  const auto a = iota_f(6, -3.f, 1.f);
  const OpKind kinds[] = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Max, OpKind::Min, OpKind::PRelu};
  for (OpKind k : kinds) {
    auto r = run_single_op(
        k, {Operand::input(TensorData::from<float>({2, 3}, a)), Operand::input(TensorData::from<float>({}, {0.5f}))},
        {});
    ASSERT_TRUE(r.ok()) << op_kind_name(k) << ": " << r.status().to_string();
    const auto v = r.value()[0].to_vector<float>();
    for (size_t i = 0; i < 6; ++i) {
      const float x = a[i], s = 0.5f;
      float want = 0;
      switch (k) {
        case OpKind::Add: want = x + s; break;
        case OpKind::Sub: want = x - s; break;
        case OpKind::Mul: want = x * s; break;
        case OpKind::Div: want = x / s; break;
        case OpKind::Max: want = std::max(x, s); break;
        case OpKind::Min: want = std::min(x, s); break;
        default: want = x < 0 ? x * s : x; break;
      }
      EXPECT_EQ(v[i], want) << op_kind_name(k) << " " << i;
    }
  }
}

TEST(ExecBinary, PlainIntegers) {
  // ONNX test_add_uint8 / test_div_uint8 / test_max_int8 style: no quantization parameters.
  auto add = run_single_op(OpKind::Add,
                           {Operand::input(TensorData::from<uint8_t>({3}, {250, 1, 128})),
                            Operand::input(TensorData::from<uint8_t>({3}, {10, 2, 128}))},
                           {});
  ASSERT_TRUE(add.ok()) << add.status().to_string();
  EXPECT_EQ(add.value()[0].to_vector<uint8_t>(), (std::vector<uint8_t>{4, 3, 0}));
  auto div = run_single_op(OpKind::Div,
                           {Operand::input(TensorData::from<int32_t>({4}, {7, -7, 9, 1})),
                            Operand::input(TensorData::from<int32_t>({4}, {2, 2, -4, 3}))},
                           {});
  ASSERT_TRUE(div.ok()) << div.status().to_string();
  EXPECT_EQ(div.value()[0].to_vector<int32_t>(), (std::vector<int32_t>{3, -3, -2, 0}));
  auto mx = run_single_op(OpKind::Max,
                          {Operand::input(TensorData::from<int8_t>({2, 2}, {-128, 5, 7, -1})),
                           Operand::input(TensorData::from<int8_t>({2}, {0, 6}))},
                          {});
  ASSERT_TRUE(mx.ok()) << mx.status().to_string();
  EXPECT_EQ(mx.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{0, 6, 7, 6}));
  auto mul = run_single_op(OpKind::Mul,
                           {Operand::input(TensorData::from<int64_t>({2}, {int64_t(1) << 62, -3})),
                            Operand::input(TensorData::from<int64_t>({1}, {4}))},
                           {});
  ASSERT_TRUE(mul.ok()) << mul.status().to_string();
  EXPECT_EQ(mul.value()[0].to_vector<int64_t>(), (std::vector<int64_t>{0, -12}));  // wraps
}

TEST(ExecBinary, QuantizedUint8IsNotSupported) {
  auto r = run_single_op(OpKind::Add,
                         {Operand::input(TensorData::from<uint8_t>({2}, {1, 2}), QuantParams::per_tensor(0.1f, 128)),
                          Operand::input(TensorData::from<uint8_t>({2}, {1, 2}), QuantParams::per_tensor(0.1f, 128))},
                         {}, {OutputSpec{QuantParams::per_tensor(0.2f, 128)}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("node 'op'"), std::string::npos) << r.status().message();
}

TEST(ExecUnary, F32Ops) {
  const std::vector<float> x = {-4.f, -1.f, -0.25f, 0.f, 0.5f, 2.f, 7.f};
  struct Case {
    OpKind kind;
    Attributes attrs;
    float (*f)(float);
  };
  Attributes clip;
  clip.set("min", -1.0);
  clip.set("max", 6.0);
  Attributes leaky;
  leaky.set("alpha", 0.1);
  const Case cases[] = {
      {OpKind::Relu, {}, [](float v) { return std::max(v, 0.f); }},
      {OpKind::Clip, clip, [](float v) { return std::min(std::max(v, -1.f), 6.f); }},
      {OpKind::LeakyRelu, leaky, [](float v) { return v < 0 ? 0.1f * v : v; }},
      {OpKind::HardSigmoid, {}, [](float v) { return std::min(1.f, std::max(0.f, 0.2f * v + 0.5f)); }},
      {OpKind::HardSwish, {}, [](float v) { return v * std::min(1.f, std::max(0.f, v / 6.f + 0.5f)); }},
      {OpKind::Sigmoid, {}, [](float v) { return 1.f / (1.f + std::exp(-v)); }},
      {OpKind::Tanh, {}, [](float v) { return std::tanh(v); }},
      {OpKind::Abs, {}, [](float v) { return std::fabs(v); }},
      {OpKind::Neg, {}, [](float v) { return -v; }},
      {OpKind::Exp, {}, [](float v) { return std::exp(v); }},
      {OpKind::Reciprocal, {}, [](float v) { return 1.f / v; }},
  };
  for (const Case& c : cases) {
    auto r = run_single_op(c.kind, {Operand::input(TensorData::from<float>({7}, x))}, c.attrs);
    ASSERT_TRUE(r.ok()) << op_kind_name(c.kind) << ": " << r.status().to_string();
    const auto v = r.value()[0].to_vector<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = c.f(x[i]);
      if (std::isinf(want))
        EXPECT_EQ(v[i], want) << op_kind_name(c.kind) << " x=" << x[i];
      else
        EXPECT_NEAR(v[i], want, 1e-6f * (1 + std::fabs(want))) << op_kind_name(c.kind) << " x=" << x[i];
    }
  }
  auto lg = run_single_op(OpKind::Log, {Operand::input(TensorData::from<float>({2}, {1.f, -1.f}))}, {});
  ASSERT_TRUE(lg.ok());
  EXPECT_EQ(lg.value()[0].to_vector<float>()[0], 0.f);
  EXPECT_TRUE(std::isnan(lg.value()[0].to_vector<float>()[1]));
  auto sq = run_single_op(OpKind::Sqrt, {Operand::input(TensorData::from<float>({1}, {9.f}))}, {});
  ASSERT_TRUE(sq.ok());
  EXPECT_EQ(sq.value()[0].to_vector<float>()[0], 3.f);
}

TEST(ExecUnary, PlainIntegerClipReluAbsNeg) {
  // ONNX test_clip_default_int8_min: min only.
  Attributes min_only;
  min_only.set("min", 0.0);
  auto r = run_single_op(OpKind::Clip, {Operand::input(TensorData::from<int8_t>({4}, {-128, -1, 0, 127}))}, min_only);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{0, 0, 0, 127}));
  Attributes both;
  both.set("min", -300.0);  // beyond the type: saturates
  both.set("max", 2.5);     // not an integer: the largest integer below
  r = run_single_op(OpKind::Clip, {Operand::input(TensorData::from<int8_t>({3}, {-128, 2, 3}))}, both);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{-128, 2, 2}));
  auto relu = run_single_op(OpKind::Relu, {Operand::input(TensorData::from<int32_t>({2}, {-5, 5}))}, {});
  ASSERT_TRUE(relu.ok()) << relu.status().to_string();
  EXPECT_EQ(relu.value()[0].to_vector<int32_t>(), (std::vector<int32_t>{0, 5}));
  auto neg = run_single_op(OpKind::Neg, {Operand::input(TensorData::from<int64_t>({2}, {-5, 7}))}, {});
  ASSERT_TRUE(neg.ok()) << neg.status().to_string();
  EXPECT_EQ(neg.value()[0].to_vector<int64_t>(), (std::vector<int64_t>{5, -7}));
  auto abs = run_single_op(OpKind::Abs, {Operand::input(TensorData::from<int16_t>({2}, {-5, 7}))}, {});
  ASSERT_TRUE(abs.ok()) << abs.status().to_string();
  EXPECT_EQ(abs.value()[0].to_vector<int16_t>(), (std::vector<int16_t>{5, 7}));
  auto sig = run_single_op(OpKind::Sigmoid, {Operand::input(TensorData::from<int32_t>({1}, {1}))}, {});
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.status().code(), Error::NotSupported);
  EXPECT_NE(sig.status().message().find("node 'op'"), std::string::npos) << sig.status().message();
}

}  // namespace
}  // namespace neutron
