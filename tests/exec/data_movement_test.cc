// Data movement ops and Cast through the executor, float and quantized int8.
#include <gtest/gtest.h>

#include <limits>
#include <numeric>

#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;
using testing::run_single_op;

std::vector<float> iota_f(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.f);
  return v;
}

TEST(ExecDataMovement, TransposeReshapeIdentity) {
  Attributes perm;
  perm.set("perm", std::vector<int64_t>{0, 2, 3, 1});  // NCHW -> NHWC
  const auto x = iota_f(2 * 3 * 4 * 5);
  auto r = run_single_op(OpKind::Transpose, {Operand::input(TensorData::from<float>({2, 3, 4, 5}, x))}, perm);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].shape, (Shape{2, 4, 5, 3}));
  const auto y = r.value()[0].to_vector<float>();
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 4; ++h)
      for (int w = 0; w < 5; ++w)
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(y[size_t(((n * 4 + h) * 5 + w) * 3 + c)], x[size_t(((n * 3 + c) * 4 + h) * 5 + w)]);
  // Default perm reverses the axes.
  auto rev = run_single_op(OpKind::Transpose, {Operand::input(TensorData::from<float>({2, 3}, iota_f(6)))}, {});
  ASSERT_TRUE(rev.ok()) << rev.status().to_string();
  EXPECT_EQ(rev.value()[0].to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Attributes shape;
  shape.set("shape", std::vector<int64_t>{6});
  auto rs = run_single_op(OpKind::Reshape, {Operand::input(TensorData::from<float>({2, 3}, iota_f(6)))}, shape);
  ASSERT_TRUE(rs.ok()) << rs.status().to_string();
  EXPECT_EQ(rs.value()[0].shape, Shape{6});
  EXPECT_EQ(rs.value()[0].to_vector<float>(), iota_f(6));
  for (OpKind k : {OpKind::Identity, OpKind::Dropout}) {
    auto id = run_single_op(k, {Operand::constant_of(TensorData::from<int64_t>({3}, {1, 2, 3}))}, {});
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    EXPECT_EQ(id.value()[0].to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3}));
  }
}

TEST(ExecDataMovement, SliceNegativeSteps) {
  // ONNX test_slice_neg_steps: x[20,10,5], starts [20,10,4] -> clamped, ends [0,0,1], steps [-1,-3,-2].
  // The importer clamps: starts {19, 9, 4}, ends {0, 0, 1}.
  Attributes a;
  a.set("starts", std::vector<int64_t>{19, 9, 4});
  a.set("ends", std::vector<int64_t>{0, 0, 1});
  a.set("axes", std::vector<int64_t>{0, 1, 2});
  a.set("steps", std::vector<int64_t>{-1, -3, -2});
  const auto x = iota_f(20 * 10 * 5);
  auto r = run_single_op(OpKind::Slice, {Operand::input(TensorData::from<float>({20, 10, 5}, x))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].shape, (Shape{19, 3, 2}));
  const auto y = r.value()[0].to_vector<float>();
  for (int i = 0; i < 19; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k)
        ASSERT_EQ(y[size_t((i * 3 + j) * 2 + k)], x[size_t((19 - i) * 50 + (9 - 3 * j) * 5 + (4 - 2 * k))]);
  // Empty result (start past the end).
  Attributes e;
  e.set("starts", std::vector<int64_t>{3});
  e.set("ends", std::vector<int64_t>{3});
  e.set("axes", std::vector<int64_t>{1});
  auto empty = run_single_op(OpKind::Slice, {Operand::input(TensorData::from<float>({2, 3}, iota_f(6)))}, e);
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_EQ(empty.value()[0].shape, (Shape{2, 0}));
}

TEST(ExecDataMovement, ConcatSplit) {
  Attributes a;
  a.set("axis", int64_t(-1));
  auto r = run_single_op(OpKind::Concat,
                         {Operand::input(TensorData::from<float>({2, 1}, {0, 10})),
                          Operand::constant_of(TensorData::from<float>({2, 2}, {1, 2, 11, 12})),
                          Operand::input(TensorData::from<float>({2, 0}, {}))},
                         a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{0, 1, 2, 10, 11, 12}));
  Attributes s;
  s.set("axis", int64_t(1));
  s.set("split", std::vector<int64_t>{1, 0, 2});
  auto sp = run_single_op(OpKind::Split, {Operand::input(TensorData::from<float>({2, 3}, iota_f(6)))}, s,
                          {OutputSpec{}, OutputSpec{}, OutputSpec{}});
  ASSERT_TRUE(sp.ok()) << sp.status().to_string();
  ASSERT_EQ(sp.value().size(), 3u);
  EXPECT_EQ(sp.value()[0].to_vector<float>(), (std::vector<float>{0, 3}));
  EXPECT_EQ(sp.value()[1].shape, (Shape{2, 0}));
  EXPECT_EQ(sp.value()[2].to_vector<float>(), (std::vector<float>{1, 2, 4, 5}));
}

TEST(ExecDataMovement, PadModes) {
  // ONNX test_reflect_pad / test_edge_pad / test_constant_pad on NCHW [1,1,2,3], pads on H and W.
  const std::vector<int64_t> pads{0, 0, 1, 1, 0, 0, 1, 0};
  const auto x = iota_f(6);
  const char* modes[] = {"constant", "reflect", "edge"};
  const std::vector<float> want[] = {
      {7, 7, 7, 7, 7, 0, 1, 2, 7, 3, 4, 5, 7, 7, 7, 7},
      {4, 3, 4, 5, 1, 0, 1, 2, 4, 3, 4, 5, 1, 0, 1, 2},
      {0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5, 3, 3, 4, 5},
  };
  for (int m = 0; m < 3; ++m) {
    Attributes a;
    a.set("pads", pads);
    a.set("mode", std::string(modes[m]));
    a.set("value", 7.0);
    auto r = run_single_op(OpKind::Pad, {Operand::input(TensorData::from<float>({1, 1, 2, 3}, x))}, a);
    ASSERT_TRUE(r.ok()) << modes[m] << ": " << r.status().to_string();
    ASSERT_EQ(r.value()[0].shape, (Shape{1, 1, 4, 4}));
    EXPECT_EQ(r.value()[0].to_vector<float>(), want[m]) << modes[m];
  }
}

TEST(ExecDataMovement, QuantizedInt8) {
  const QuantParams q = QuantParams::per_tensor(0.5f, 5);
  // Pad with value 0 on a quantized tensor pads with the zero point.
  Attributes a;
  a.set("pads", std::vector<int64_t>{1, 1});
  a.set("mode", std::string("constant"));
  a.set("value", 0.0);
  auto r = run_single_op(OpKind::Pad, {Operand::input(TensorData::from<int8_t>({2}, {-7, 9}), q)}, a, {OutputSpec{q}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{5, -7, 9, 5}));
  a.set("value", 1.0);  // 1.0 / 0.5 + 5 = 7
  r = run_single_op(OpKind::Pad, {Operand::input(TensorData::from<int8_t>({2}, {-7, 9}), q)}, a, {OutputSpec{q}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{7, -7, 9, 7}));
  // Same parameters everywhere: raw bytes move.
  Attributes cat;
  cat.set("axis", int64_t(0));
  auto c = run_single_op(OpKind::Concat,
                         {Operand::input(TensorData::from<int8_t>({1}, {-1}), q),
                          Operand::input(TensorData::from<int8_t>({2}, {2, 3}), q)},
                         cat, {OutputSpec{q}});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{-1, 2, 3}));
  Attributes perm;
  perm.set("perm", std::vector<int64_t>{1, 0});
  auto t = run_single_op(OpKind::Transpose, {Operand::input(TensorData::from<int8_t>({2, 2}, {1, 2, 3, 4}), q)}, perm,
                         {OutputSpec{q}});
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{1, 3, 2, 4}));
  // Different parameters would need requantization: NotSupported, naming the node.
  auto bad = run_single_op(OpKind::Concat,
                           {Operand::input(TensorData::from<int8_t>({1}, {-1}), q),
                            Operand::input(TensorData::from<int8_t>({2}, {2, 3}), QuantParams::per_tensor(0.25f, 5))},
                           cat, {OutputSpec{q}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Error::NotSupported);
  EXPECT_NE(bad.status().message().find("node 'op' (Concat)"), std::string::npos) << bad.status().message();
  auto bad_out = run_single_op(OpKind::Reshape, {Operand::input(TensorData::from<int8_t>({2}, {1, 2}), q)},
                               [] {
                                 Attributes s;
                                 s.set("shape", std::vector<int64_t>{1, 2});
                                 return s;
                               }(),
                               {OutputSpec{QuantParams::per_tensor(1.f, 0)}});
  ASSERT_FALSE(bad_out.ok());
  EXPECT_EQ(bad_out.status().code(), Error::NotSupported);
}

TEST(ExecDataMovement, Cast) {
  Attributes to_i64;
  to_i64.set("to", int64_t(DType::I64));
  auto r =
      run_single_op(OpKind::Cast, {Operand::input(TensorData::from<float>({4}, {1.9f, -1.9f, 0.f, 1e30f}))}, to_i64);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].dtype, DType::I64);
  EXPECT_EQ(r.value()[0].to_vector<int64_t>(), (std::vector<int64_t>{1, -1, 0, std::numeric_limits<int64_t>::max()}));
  Attributes to_f;
  to_f.set("to", int64_t(DType::F32));
  TensorData bools(DType::Bool, {2});
  bools.bytes = {1, 0};
  auto b = run_single_op(OpKind::Cast, {Operand::input(bools)}, to_f);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b.value()[0].to_vector<float>(), (std::vector<float>{1.f, 0.f}));
}

}  // namespace
}  // namespace neutron
