#include "kernels/reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/shape.h"

namespace neutron {
namespace {

// Output index of input index `i`: drop the reduced coordinates.
int64_t out_index(const Shape& s, const std::vector<char>& reduced, int64_t i) {
  int64_t o = 0, stride = 1;
  for (size_t k = s.size(); k-- > 0;) {
    const int64_t c = i % s[k];
    i /= s[k];
    if (!reduced[k]) {
      o += c * stride;
      stride *= s[k];
    }
  }
  return o;
}

const char* name(ReduceOp op) {
  static const char* n[] = {"Sum", "Mean", "Max", "Min"};
  return n[int(op)];
}

struct Case {
  Shape shape;
  std::vector<int64_t> axes;
  std::vector<char> reduced;
  int64_t out_count = 1;
};

Case random_case(std::mt19937& rng) {
  Case c;
  const size_t r = rng() % 6;
  for (size_t k = 0; k < r; ++k) c.shape.push_back(1 + int64_t(rng() % (rng() % 3 == 0 ? 17 : 5)));
  c.reduced.assign(r, 0);
  for (size_t k = 0; k < r; ++k)
    if (rng() % 2) {
      c.axes.push_back(int64_t(k));
      c.reduced[k] = 1;
    }
  if (c.axes.empty()) c.reduced.assign(r, 1);  // empty axes: reduce everything
  for (size_t k = 0; k < r; ++k)
    if (!c.reduced[k]) c.out_count *= c.shape[k];
  return c;
}

TEST(Reduce, RandomF32) {
  const uint32_t seed = 31;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-3.f, 3.f);
  for (int it = 0; it < 300; ++it) {
    const Case c = random_case(rng);
    ReduceParams p;
    ASSERT_TRUE(prepare_reduce(Span<const int64_t>(c.shape), Span<const int64_t>(c.axes), &p));
    ASSERT_EQ(p.out_count, c.out_count);
    std::vector<float> x(size_t(num_elements(c.shape)));
    for (auto& v : x) v = d(rng);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min}) {
      std::vector<double> want(size_t(c.out_count), op == ReduceOp::Max   ? -INFINITY
                                                    : op == ReduceOp::Min ? INFINITY
                                                                          : 0);
      for (int64_t i = 0; i < int64_t(x.size()); ++i) {
        double& w = want[size_t(out_index(c.shape, c.reduced, i))];
        if (op == ReduceOp::Max)
          w = std::max(w, double(x[size_t(i)]));
        else if (op == ReduceOp::Min)
          w = std::min(w, double(x[size_t(i)]));
        else
          w += x[size_t(i)];
      }
      if (op == ReduceOp::Mean)
        for (auto& w : want) w /= double(x.size()) / double(c.out_count);
      std::vector<float> y(size_t(c.out_count) + 1, 99.f);
      reduce<float>(op, p, x.data(), y.data());
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(double(y[i]), want[i], 1e-5 * (1 + std::fabs(want[i])))
            << name(op) << " shape=" << shape_str(c.shape) << " axes=" << shape_str(c.axes) << " out=" << i
            << " seed=" << seed << " it=" << it;
      ASSERT_EQ(y[want.size()], 99.f) << "wrote past the end";
    }
  }
}

template <typename T>
void random_int(uint32_t seed) {
  std::mt19937 rng(seed);
  // Braces: clang reads d(int64_t(std::numeric_limits<T>::lowest()), ...) as a function declaration.
  std::uniform_int_distribution<int64_t> d{int64_t(std::numeric_limits<T>::lowest()),
                                           int64_t(std::numeric_limits<T>::max())};
  for (int it = 0; it < 100; ++it) {
    const Case c = random_case(rng);
    ReduceParams p;
    ASSERT_TRUE(prepare_reduce(Span<const int64_t>(c.shape), Span<const int64_t>(c.axes), &p));
    std::vector<T> x(size_t(num_elements(c.shape)));
    for (auto& v : x) v = T(d(rng));
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
      std::vector<uint64_t> sum(size_t(c.out_count), 0);
      std::vector<T> mx(size_t(c.out_count), std::numeric_limits<T>::lowest());
      std::vector<T> mn(size_t(c.out_count), std::numeric_limits<T>::max());
      for (int64_t i = 0; i < int64_t(x.size()); ++i) {
        const size_t o = size_t(out_index(c.shape, c.reduced, i));
        sum[o] += uint64_t(int64_t(x[size_t(i)]));
        mx[o] = std::max(mx[o], x[size_t(i)]);
        mn[o] = std::min(mn[o], x[size_t(i)]);
      }
      std::vector<T> y(size_t(c.out_count));
      reduce<T>(op, p, x.data(), y.data());
      for (size_t i = 0; i < y.size(); ++i) {
        const T want = op == ReduceOp::Sum ? T(sum[i]) : op == ReduceOp::Max ? mx[i] : mn[i];  // Sum wraps
        ASSERT_EQ(int64_t(y[i]), int64_t(want)) << name(op) << " shape=" << shape_str(c.shape) << " seed=" << seed;
      }
    }
  }
}

TEST(Reduce, RandomIntegers) {
  random_int<int8_t>(41);
  random_int<uint8_t>(42);
  random_int<int32_t>(43);
  random_int<int64_t>(44);
}

TEST(Reduce, CollapsesAndRejects) {
  ReduceParams p;
  const Shape nhwc{2, 7, 7, 64};
  const std::vector<int64_t> hw{1, 2};
  ASSERT_TRUE(prepare_reduce(Span<const int64_t>(nhwc), Span<const int64_t>(hw), &p));
  ASSERT_EQ(p.rank, 3);  // [N kept, H*W reduced, C kept]
  EXPECT_EQ(p.dims[1], 49);
  EXPECT_EQ(p.reduce_count, 49);
  const std::vector<int64_t> bad{4}, dup{1, 1};
  EXPECT_FALSE(prepare_reduce(Span<const int64_t>(nhwc), Span<const int64_t>(bad), &p));
  EXPECT_FALSE(prepare_reduce(Span<const int64_t>(nhwc), Span<const int64_t>(dup), &p));
  // Reducing an empty axis: Sum 0, Mean NaN, Max -inf.
  const Shape empty{3, 0};
  const std::vector<int64_t> ax1{1};
  ASSERT_TRUE(prepare_reduce(Span<const int64_t>(empty), Span<const int64_t>(ax1), &p));
  float y[3];
  reduce<float>(ReduceOp::Sum, p, nullptr, y);
  EXPECT_EQ(y[0], 0.f);
  reduce<float>(ReduceOp::Mean, p, nullptr, y);
  EXPECT_TRUE(std::isnan(y[1]));
  reduce<float>(ReduceOp::Max, p, nullptr, y);
  EXPECT_EQ(y[2], -INFINITY);
}

}  // namespace
}  // namespace neutron
