// int8 ops on tensors of rank 5 and 6 (issue 20): the lowering folds them to 4 dimensions (1s
// dropped, neighbouring axes the op treats alike merged) and the results equal a direct
// evaluation; what does not fold is NotSupported, with the dimensions counted right.
#include <gtest/gtest.h>

#include <random>

#include "kernels/requantize.h"
#include "lowering/lowering.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;

TensorData random_i8(std::mt19937& rng, Shape s) {
  TensorData t(DType::I8, std::move(s));
  std::uniform_int_distribution<int> d(-128, 127);
  for (int64_t i = 0; i < t.count(); ++i) t.data<int8_t>()[i] = int8_t(d(rng));
  return t;
}

// Row-major index of `idx` in `shape`.
int64_t flat(const Shape& shape, const std::vector<int64_t>& idx) {
  int64_t f = 0;
  for (size_t i = 0; i < shape.size(); ++i) f = f * shape[i] + idx[i];
  return f;
}

// Calls fn(idx) for every index of `shape`.
template <typename Fn>
void for_each_index(const Shape& shape, Fn fn) {
  std::vector<int64_t> idx(shape.size(), 0);
  const int64_t n = num_elements(shape);
  for (int64_t k = 0; k < n; ++k) {
    fn(idx);
    for (size_t i = shape.size(); i-- > 0;) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
}

const QuantParams kQ = QuantParams::per_tensor(0.05f, 3);

// (0 1) and (3 4) stay neighbours: one 3-D transpose. The reversal and the 6-D permutation keep
// no neighbours: one axis moved at a time (4-block transposes).
TEST(Rank5Int8, TransposeFoldsNeighbouringAxesOrMovesOneAtATime) {
  std::mt19937 rng(1);
  for (const std::vector<int64_t>& perm :
       {std::vector<int64_t>{0, 1, 3, 4, 2}, {4, 3, 2, 1, 0}, {0, 2, 1, 4, 3}, {5, 1, 3, 0, 4, 2}}) {
    const Shape xs = perm.size() == 5 ? Shape{2, 3, 5, 3, 4} : Shape{2, 3, 1, 2, 3, 2};
    TensorData x = random_i8(rng, xs);
    Attributes a;
    a.set("perm", perm);
    auto r = testing::run_single_op(OpKind::Transpose, {Operand::input(x, kQ)}, a, {OutputSpec{kQ}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const TensorData& y = r.value()[0];
    for (size_t j = 0; j < perm.size(); ++j) ASSERT_EQ(y.shape[j], xs[size_t(perm[j])]);
    for_each_index(y.shape, [&](const std::vector<int64_t>& o) {
      std::vector<int64_t> in(perm.size());
      for (size_t j = 0; j < perm.size(); ++j) in[size_t(perm[j])] = o[j];
      ASSERT_EQ(y.data<int8_t>()[flat(y.shape, o)], x.data<int8_t>()[flat(xs, in)]) << perm[0] << perm[1];
    });
  }
}

TEST(Rank5Int8, ReduceMaxAndMinOverFoldedAxes) {
  std::mt19937 rng(2);
  const Shape xs{2, 3, 4, 5, 6};
  TensorData x = random_i8(rng, xs);
  for (OpKind k : {OpKind::ReduceMax, OpKind::ReduceMin})
    // {0, 2, 4}: reduced and kept axes alternate (5 groups): one axis at a time.
    for (const std::vector<int64_t>& axes : {std::vector<int64_t>{0}, {1, 2}, {-1, 0}, {1, 3}, {0, 2, 4}}) {
      SCOPED_TRACE(str_cat(op_kind_name(k), " axes ", axes[0], axes.size() > 1 ? " ..." : ""));
      Attributes a;
      a.set("axes", axes);
      a.set("keepdims", int64_t(0));
      auto r = testing::run_single_op(k, {Operand::input(x, kQ)}, a, {OutputSpec{kQ}});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      std::vector<char> red(5, 0);
      for (int64_t v : axes) red[size_t(v < 0 ? v + 5 : v)] = 1;
      Shape keep;
      for (size_t i = 0; i < 5; ++i)
        if (!red[i]) keep.push_back(xs[i]);
      std::vector<int> want(size_t(num_elements(keep)), k == OpKind::ReduceMax ? -129 : 128);
      for_each_index(xs, [&](const std::vector<int64_t>& idx) {
        std::vector<int64_t> o;
        for (size_t i = 0; i < 5; ++i)
          if (!red[i]) o.push_back(idx[i]);
        int& w = want[size_t(flat(keep, o))];
        const int v = x.data<int8_t>()[flat(xs, idx)];
        w = k == OpKind::ReduceMax ? std::max(w, v) : std::min(w, v);
      });
      const TensorData& y = r.value()[0];
      ASSERT_EQ(y.shape, keep);
      for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(int(y.data<int8_t>()[i]), want[i]) << i;
    }
}

TEST(Rank5Int8, PadAndBroadcastAdd) {
  std::mt19937 rng(3);
  const Shape xs{1, 2, 3, 4, 5};
  TensorData x = random_i8(rng, xs);
  Attributes a;
  a.set("pads", std::vector<int64_t>{0, 0, 0, 1, 0, 0, 0, 0, 2, 1});  // axis 3: 1 before, 2 after; axis 4: 1 after
  a.set("mode", std::string("constant"));
  auto r = testing::run_single_op(OpKind::Pad, {Operand::input(x, kQ)}, a, {OutputSpec{kQ}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const TensorData& y = r.value()[0];
  ASSERT_EQ(y.shape, (Shape{1, 2, 3, 7, 6}));
  for_each_index(y.shape, [&](const std::vector<int64_t>& o) {
    const int64_t h = o[3] - 1, w = o[4];
    const int want = h >= 0 && h < 4 && w < 5 ? x.data<int8_t>()[flat(xs, {o[0], o[1], o[2], h, w})] : 3;
    ASSERT_EQ(int(y.data<int8_t>()[flat(y.shape, o)]), want);
  });

  // [4, 1, 8, 5, 6] + [8, 5, 6]: the second broadcasts over the first two axes.
  TensorData p = random_i8(rng, {4, 1, 8, 5, 6}), q = random_i8(rng, {8, 5, 6});
  const QuantParams qp = QuantParams::per_tensor(0.03f, -2), qy = QuantParams::per_tensor(0.06f, 1);
  auto s = testing::run_single_op(OpKind::Add, {Operand::input(p, qp), Operand::input(q, kQ)}, {}, {OutputSpec{qy}});
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  const TensorData& z = s.value()[0];
  ASSERT_EQ(z.shape, p.shape);
  for (int64_t i = 0; i < z.count(); ++i) {
    const double v = 0.03 * (p.data<int8_t>()[i] + 2) + double(0.05f) * (q.data<int8_t>()[i % 240] - 3);
    // The kernel's fixed-point rounding may land one step off the exact value at a tie.
    ASSERT_LE(std::abs(z.data<int8_t>()[i] - quantize_real(v, double(0.06f), 1, -128, 127)), 1) << i;
  }
}

// Five axes that are not 1 and that the op cannot merge: NotSupported, the count right (the old
// message said "more than 4 dimensions that are not 1" of [3,1,4,1,5]).
TEST(Rank5Int8, WhatDoesNotFoldIsNotSupportedWithTheRightCount) {
  std::mt19937 rng(4);
  TensorData x = random_i8(rng, {2, 3, 4, 5, 6});
  Attributes a;
  a.set("axes", std::vector<int64_t>{0, 2, 4});  // reduced and kept axes alternate: 5 groups
  a.set("keepdims", int64_t(1));
  // A mean would requantize between single-axis steps: not folded that way.
  auto g = testing::make_single_op_graph(OpKind::ReduceMean, {Operand::input(x, kQ)}, a,
                                         {OutputSpec{QuantParams::per_tensor(0.01f, 0)}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  const Status s = lowering::can_lower(g.value(), g.value().live_nodes()[0]);
  EXPECT_EQ(s.code(), Error::NotSupported);
  EXPECT_NE(s.message().find("5 dimensions that are not 1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("does not fold to 4 dimensions"), std::string::npos) << s.message();

  // [3, 1, 4, 1, 5] has 3 dimensions that are not 1: it folds.
  TensorData y = random_i8(rng, {3, 1, 4, 1, 5});
  Attributes r;
  r.set("axes", std::vector<int64_t>{4});
  r.set("keepdims", int64_t(1));
  auto red = testing::run_single_op(OpKind::ReduceMax, {Operand::input(y, kQ)}, r, {OutputSpec{kQ}});
  ASSERT_TRUE(red.ok()) << red.status().to_string();
  EXPECT_EQ(red.value()[0].shape, (Shape{3, 1, 4, 1, 1}));
}

}  // namespace
}  // namespace neutron
