// int8 BatchMatMul (two runtime operands) against the exact QDQ evaluation, with random shapes,
// zero points on both operands, batch broadcasting by stride 0 and fused activation ranges.
#include "kernels/batch_matmul_int8.h"

#include <gtest/gtest.h>

#include <sstream>

#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::rand_int;

struct Case {
  int batch = 1, m = 1, k = 1, n = 1;
  bool a_broadcast = false, b_broadcast = false, activation = false;
  std::string str() const {
    std::ostringstream os;
    os << "batch " << batch << " m " << m << " k " << k << " n " << n << (a_broadcast ? " A-broadcast" : "")
       << (b_broadcast ? " B-broadcast" : "") << (activation ? " act" : "");
    return os.str();
  }
};

void run_case(const Case& c, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": " + c.str());
  std::mt19937 rng(seed);
  const double sa = testing::rand_log_uniform(rng, 1e-3, 1e-1), sb = testing::rand_log_uniform(rng, 1e-3, 1e-1);
  const int32_t za = rand_int(rng, -128, 127), zb = rand_int(rng, -128, 127);
  const int a_slices = c.a_broadcast ? 1 : c.batch, b_slices = c.b_broadcast ? 1 : c.batch;
  const auto a = testing::random_int8(rng, size_t(a_slices) * c.m * c.k);
  const auto b = testing::random_int8(rng, size_t(b_slices) * c.k * c.n);
  std::vector<double> real(size_t(c.batch) * c.m * c.n);
  for (int i = 0; i < c.batch; ++i)
    for (int r = 0; r < c.m; ++r)
      for (int j = 0; j < c.n; ++j) {
        double s = 0;
        for (int k = 0; k < c.k; ++k) {
          const int av = a[(size_t(c.a_broadcast ? 0 : i) * c.m + r) * c.k + k];
          const int bv = b[(size_t(c.b_broadcast ? 0 : i) * c.k + k) * c.n + j];
          s += sa * (av - za) * (sb * (bv - zb));
        }
        real[(size_t(i) * c.m + r) * c.n + j] = s;
      }
  const testing::OutQuant yq = testing::out_quant_for(real);
  BatchMatMulInt8Params p;
  p.batch = c.batch;
  p.m = c.m;
  p.k = c.k;
  p.n = c.n;
  p.a_batch_stride = c.a_broadcast ? 0 : int64_t(c.m) * c.k;
  p.b_batch_stride = c.b_broadcast ? 0 : int64_t(c.k) * c.n;
  p.a_zero_point = za;
  p.b_zero_point = zb;
  p.output_zero_point = yq.zero_point;
  if (c.activation) {  // a fused Relu6-like range in the output's integers
    activation_range_int8(0.0, 0.5 * 127 * yq.scale, yq.scale, yq.zero_point, &p.qmin, &p.qmax);
  }
  ASSERT_TRUE(quantize_multiplier(sa * sb / yq.scale, &p.multiplier));
  std::vector<uint8_t> scratch(batch_matmul_int8_scratch_bytes(p) + 16);
  void* aligned = scratch.data() + (16 - reinterpret_cast<uintptr_t>(scratch.data()) % 16) % 16;
  std::vector<int8_t> y(real.size());
  batch_matmul_int8(p, a.data(), b.data(), y.data(), aligned);
  EXPECT_TRUE(testing::qdq_close(y, testing::quantize_all(real, yq, p.qmin, p.qmax), "batch_matmul"));
}

TEST(BatchMatMulInt8, MatchesExactQdqOnRandomShapes) {
  for (uint32_t seed = 1; seed <= 120; ++seed) {
    std::mt19937 rng(seed * 7919);
    Case c;
    c.batch = rand_int(rng, 1, 4);
    c.m = rand_int(rng, 1, 13);
    c.k = rand_int(rng, 1, 70);
    c.n = rand_int(rng, 1, 19);
    c.a_broadcast = c.batch > 1 && seed % 5 == 1;
    c.b_broadcast = c.batch > 1 && seed % 5 == 2;
    c.activation = seed % 3 == 0;
    run_case(c, seed);
  }
}

// The int32 accumulator bound: K at the limit with the largest |(a - za) * (b - zb)|.
TEST(BatchMatMulInt8, DeepestKDoesNotOverflow) {
  BatchMatMulInt8Params p;
  p.m = 1;
  p.n = 2;
  p.a_zero_point = 127;
  p.b_zero_point = -128;
  p.k = batch_matmul_int8_max_depth(p.a_zero_point, p.b_zero_point);
  ASSERT_EQ(p.k, 32896);
  EXPECT_EQ(batch_matmul_int8_max_depth(0, 0), 131071);
  p.output_zero_point = 0;
  // acc = K * (-255) * 255 for column 0 (a = -128, b = 127); M maps it to about -127.
  const double acc = double(p.k) * -255.0 * 255.0;
  ASSERT_TRUE(quantize_multiplier(127.0 / -acc, &p.multiplier));
  std::vector<int8_t> a(size_t(p.k), -128), b(size_t(p.k) * 2);
  for (int k = 0; k < p.k; ++k) {
    b[size_t(k) * 2] = 127;
    b[size_t(k) * 2 + 1] = -128;  // column 1: b - zb = 0
  }
  std::vector<uint8_t> scratch(batch_matmul_int8_scratch_bytes(p) + 16);
  void* aligned = scratch.data() + (16 - reinterpret_cast<uintptr_t>(scratch.data()) % 16) % 16;
  int8_t y[2];
  batch_matmul_int8(p, a.data(), b.data(), y, aligned);
  EXPECT_EQ(y[0], -127);
  EXPECT_EQ(y[1], 0);
}

}  // namespace
}  // namespace neutron
