// Softmax and Reduce* through the executor.
#include <gtest/gtest.h>

#include <cmath>

#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;
using testing::run_single_op;

std::vector<float> ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(float(i)) * 3.f;
  return v;
}

TEST(ExecSoftmax, EveryAxis) {
  const Shape s{3, 4, 5};
  const auto x = ramp(60);
  for (int64_t axis : {0, 1, 2, -1, -3}) {
    Attributes a;
    a.set("axis", axis);
    auto r = run_single_op(OpKind::Softmax, {Operand::input(TensorData::from<float>(s, x))}, a);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const auto y = r.value()[0].to_vector<float>();
    const int ax = int(axis < 0 ? axis + 3 : axis);
    const int64_t st[] = {20, 5, 1};
    for (int64_t i = 0; i < 60; ++i) {
      // Sum over the axis through element i.
      const int64_t c = (i / st[ax]) % s[size_t(ax)];
      const int64_t base = i - c * st[ax];
      double m = -INFINITY, sum = 0;
      for (int64_t k = 0; k < s[size_t(ax)]; ++k) m = std::max(m, double(x[size_t(base + k * st[ax])]));
      for (int64_t k = 0; k < s[size_t(ax)]; ++k) sum += std::exp(double(x[size_t(base + k * st[ax])]) - m);
      EXPECT_NEAR(y[size_t(i)], std::exp(double(x[size_t(i)]) - m) / sum, 1e-6) << "axis " << axis << " i " << i;
    }
  }
}

TEST(ExecReduce, MeanKeepdimsAndNegativeAxes) {
  const Shape s{2, 3, 4};
  const auto x = ramp(24);
  Attributes a;
  a.set("axes", std::vector<int64_t>{-1, 0});
  a.set("keepdims", int64_t(1));
  auto r = run_single_op(OpKind::ReduceMean, {Operand::input(TensorData::from<float>(s, x))}, a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r.value()[0].shape, (Shape{1, 3, 1}));
  const auto y = r.value()[0].to_vector<float>();
  for (int j = 0; j < 3; ++j) {
    double sum = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) sum += x[size_t(i * 12 + j * 4 + k)];
    EXPECT_NEAR(y[size_t(j)], sum / 8, 1e-6) << j;
  }
  a.set("keepdims", int64_t(0));
  a.set("axes", std::vector<int64_t>{});
  for (OpKind k : {OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceMin}) {
    auto all = run_single_op(k, {Operand::input(TensorData::from<float>(s, x))}, a);
    ASSERT_TRUE(all.ok()) << all.status().to_string();
    ASSERT_EQ(all.value()[0].shape, Shape{});
    double want = k == OpKind::ReduceSum ? 0 : x[0];
    for (float v : x)
      want = k == OpKind::ReduceSum   ? want + v
             : k == OpKind::ReduceMax ? std::max(want, double(v))
                                      : std::min(want, double(v));
    EXPECT_NEAR(all.value()[0].to_vector<float>()[0], want, 1e-5) << op_kind_name(k);
  }
}

TEST(ExecReduce, QuantizedMaxSameParamsAndRejections) {
  const QuantParams q = QuantParams::per_tensor(0.05f, -3);
  Attributes a;
  a.set("axes", std::vector<int64_t>{1});
  a.set("keepdims", int64_t(0));
  auto r =
      run_single_op(OpKind::ReduceMax, {Operand::input(TensorData::from<int8_t>({2, 3}, {-128, 5, 4, 9, -9, 127}), q)},
                    a, {OutputSpec{q}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{5, 127}));
  auto sum = run_single_op(OpKind::ReduceSum, {Operand::input(TensorData::from<int8_t>({2, 3}, {1, 2, 3, 4, 5, 6}), q)},
                           a, {OutputSpec{q}});
  ASSERT_TRUE(sum.ok()) << sum.status().to_string();  // int8 Sum: reduce_int8.cc, z_out + sum(q - z_in)
  EXPECT_EQ(sum.value()[0].to_vector<int8_t>(), (std::vector<int8_t>{12, 21}));
  auto other =
      run_single_op(OpKind::ReduceMax, {Operand::input(TensorData::from<int8_t>({2, 3}, {1, 2, 3, 4, 5, 6}), q)}, a,
                    {OutputSpec{QuantParams::per_tensor(0.1f, 0)}});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Error::NotSupported);
  EXPECT_NE(other.status().message().find("node 'op'"), std::string::npos);
  // Plain integers: sum.
  auto isum =
      run_single_op(OpKind::ReduceSum, {Operand::input(TensorData::from<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6}))}, a);
  ASSERT_TRUE(isum.ok()) << isum.status().to_string();
  EXPECT_EQ(isum.value()[0].to_vector<int32_t>(), (std::vector<int32_t>{6, 15}));
}

}  // namespace
}  // namespace neutron
