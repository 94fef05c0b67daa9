// int8 ReduceMean and ReduceSum against the exact QDQ evaluation: random ranks 1..5, random axis
// subsets (including none of size > 1 and all), random quantization in and out.
#include "kernels/reduce_int8.h"

#include <gtest/gtest.h>

#include <sstream>

#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::rand_int;

void run_case(bool mean, const std::vector<int64_t>& shape, const std::vector<int64_t>& axes, uint32_t seed) {
  std::ostringstream os;
  os << "seed " << seed << (mean ? " mean" : " sum") << " shape [";
  for (int64_t d : shape) os << d << ",";
  os << "] axes [";
  for (int64_t a : axes) os << a << ",";
  os << "]";
  SCOPED_TRACE(os.str());
  std::mt19937 rng(seed);
  ReduceInt8Params p;
  ASSERT_TRUE(prepare_reduce(Span<const int64_t>(shape), Span<const int64_t>(axes), &p.shape));
  const double sx = testing::rand_log_uniform(rng, 1e-3, 1e-1);
  const int32_t zx = rand_int(rng, -128, 127);
  const auto x = testing::random_int8(rng, size_t(p.shape.in_count));
  // Exact: per output, the mean or sum of sx * (q - zx), in the output's row-major order.
  std::vector<bool> red(shape.size(), axes.empty());
  for (int64_t a : axes) red[size_t(a)] = true;
  std::vector<double> real(size_t(p.shape.out_count), 0.0);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < p.shape.in_count; ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (!red[d]) o = o * shape[d] + idx[d];
    real[size_t(o)] += sx * (x[size_t(i)] - zx);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  if (mean)
    for (double& r : real) r /= double(p.shape.reduce_count);
  const testing::OutQuant yq = testing::out_quant_for(real);
  p.input_zero_point = zx;
  p.output_zero_point = yq.zero_point;
  ASSERT_TRUE(quantize_multiplier(mean ? sx / (yq.scale * double(p.shape.reduce_count)) : sx / yq.scale, &p.multiplier));
  std::vector<int32_t> scratch(size_t(p.shape.out_count));
  std::vector<int8_t> y(real.size());
  reduce_sum_int8(p, x.data(), y.data(), scratch.data());
  EXPECT_TRUE(testing::qdq_close(y, testing::quantize_all(real, yq), "reduce"));
}

TEST(ReduceInt8, MeanAndSumMatchExactQdq) {
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed * 104729);
    const int rank = rand_int(rng, 1, 5);
    std::vector<int64_t> shape, axes;
    for (int d = 0; d < rank; ++d) shape.push_back(rand_int(rng, 1, d == rank - 1 ? 23 : 9));
    for (int d = 0; d < rank; ++d)
      if (rand_int(rng, 0, 1)) axes.push_back(d);
    run_case(seed % 2 == 0, shape, axes, seed);
  }
}

TEST(ReduceInt8, HandCheckedMeanOverHw) {
  // NHWC [1, 2, 2, 2], mean over H and W with z_in = -3, z_out = 1, s_in = s_out: per channel
  // round_half_even(mean(q - z_in)) + z_out.
  const int64_t shape[] = {1, 2, 2, 2}, axes[] = {1, 2};
  ReduceInt8Params p;
  ASSERT_TRUE(prepare_reduce(Span<const int64_t>(shape, 4), Span<const int64_t>(axes, 2), &p.shape));
  p.input_zero_point = -3;
  p.output_zero_point = 1;
  ASSERT_TRUE(quantize_multiplier(0.25, &p.multiplier));
  const int8_t x[] = {1, 10, 2, 11, 3, 12, 5, 14};  // channel 0: 1,2,3,5; channel 1: 10,11,12,14
  int8_t y[2];
  int32_t acc[2];
  reduce_sum_int8(p, x, y, acc);
  EXPECT_EQ(y[0], 7);   // mean(4,5,6,8) = 5.75 -> 6, + 1
  EXPECT_EQ(y[1], 16);  // mean(13,14,15,17) = 14.75 -> 15, + 1
}

}  // namespace
}  // namespace neutron
