// int8 GEMM (FullyConnected / Gemm / MatMul core) against the exact QDQ evaluation: random M, N,
// K (edge sizes 1, primes, non-multiples of the 4-wide micro-tiles), per-tensor and per-column
// weight scales, both B layouts, with and without bias, fused clamp ranges.
#include "kernels/gemm_int8.h"

#include <gtest/gtest.h>

#include <sstream>

#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::rand_int;

void run_case(int M, int N, int K, bool per_channel, bool b_is_kn, bool has_bias, bool clamp, uint32_t seed) {
  std::ostringstream os;
  os << "seed " << seed << ": M" << M << " N" << N << " K" << K << (per_channel ? " per-channel" : " per-tensor")
     << (b_is_kn ? " B[K][N]" : " B[N][K]") << (has_bias ? "" : " nobias") << (clamp ? " clamp" : "");
  SCOPED_TRACE(os.str());
  std::mt19937 rng(seed);
  const double sa = testing::rand_log_uniform(rng, 1e-3, 1e-1);
  const int32_t za = rand_int(rng, -128, 127);
  std::vector<double> sb(static_cast<size_t>(N));
  const double sb0 = testing::rand_log_uniform(rng, 1e-3, 3e-2);
  for (auto& s : sb) s = per_channel ? testing::rand_log_uniform(rng, 1e-3, 3e-2) : sb0;
  const auto a = testing::random_int8(rng, size_t(M * K));
  const auto b = testing::random_int8(rng, size_t(K * N), -127, 127);
  std::vector<int32_t> bias(size_t(N), 0);
  if (has_bias)
    for (auto& v : bias) v = rand_int(rng, -3000 * K, 3000 * K);
  const auto b_at = [&](int k, int n) { return b_is_kn ? b[size_t(k * N + n)] : b[size_t(n * K + k)]; };
  std::vector<double> real(static_cast<size_t>(M * N));
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double acc = double(bias[size_t(n)]) * sa * sb[size_t(n)];
      for (int k = 0; k < K; ++k) acc += sa * (a[size_t(m * K + k)] - za) * (sb[size_t(n)] * b_at(k, n));
      real[size_t(m * N + n)] = acc;
    }
  const auto yq = testing::out_quant_for(real);
  int32_t qmin = -128, qmax = 127;
  if (clamp) {
    qmin = rand_int(rng, -128, 0);
    qmax = rand_int(rng, qmin, 127);
  }
  const auto expected = testing::quantize_all(real, yq, qmin, qmax);

  std::vector<int16_t> packed(qgemm_int8_packed_size(K, N));
  pack_weights_nk_int8(b.data(), K, N, b_is_kn, packed.data());
  std::vector<int32_t> folded(static_cast<size_t>(N));
  fold_zero_point_into_bias(packed.data(), K, N, has_bias ? bias.data() : nullptr, za, folded.data());
  std::vector<FixedMultiplier> mult(static_cast<size_t>(N));
  for (int n = 0; n < N; ++n) ASSERT_TRUE(quantize_multiplier(sa * sb[size_t(n)] / yq.scale, &mult[size_t(n)]));
  QGemmInt8Params p;
  p.rows = M;
  p.cols = N;
  p.depth = K;
  p.weights = packed.data();
  p.bias = folded.data();
  p.multipliers = mult.data();
  p.output_zero_point = yq.zero_point;
  p.qmin = qmin;
  p.qmax = qmax;
  std::vector<uint8_t> scratch(qgemm_int8_scratch_bytes(K));
  p.scratch = reinterpret_cast<int16_t*>(scratch.data());
  std::vector<int8_t> y(static_cast<size_t>(M * N));
  qgemm_int8(p, a.data(), size_t(K), y.data(), size_t(N));
  EXPECT_TRUE(testing::qdq_close(y, expected, "qgemm_int8"));
}

TEST(GemmInt8, RandomSizesMatchExactQdq) {
  std::mt19937 rng(77);
  const int sizes[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 31};
  for (int i = 0; i < 200; ++i) {
    const int M = sizes[rand_int(rng, 0, 9)], N = sizes[rand_int(rng, 0, 9)];
    const int K = rand_int(rng, 1, 300);
    run_case(M, N, K, rand_int(rng, 0, 1), rand_int(rng, 0, 1), rand_int(rng, 0, 4) != 0, rand_int(rng, 0, 4) == 0,
             500u + uint32_t(i));
  }
}

TEST(GemmInt8, ClassifierShapes) {
  run_case(1, 10, 400, false, false, true, false, 1);   // CifarNet-like FC, transB
  run_case(1, 1000, 512, false, false, true, false, 2); // ResNet-18 classifier
  run_case(3, 17, 1, true, true, true, false, 3);
}

TEST(GemmInt8, HandChecked) {
  // A = [[1, 2]] (za = 1 -> [0, 1]), B = [[3], [4]] ([K][N]), bias 5, M = 1 -> 0*3 + 1*4 + 5 = 9.
  const int8_t a[2] = {1, 2};
  const int8_t b[2] = {3, 4};
  const int32_t bias[1] = {5};
  std::vector<int16_t> packed(qgemm_int8_packed_size(2, 1));
  int32_t folded[1];
  pack_weights_nk_int8(b, 2, 1, true, packed.data());
  fold_zero_point_into_bias(packed.data(), 2, 1, bias, 1, folded);
  FixedMultiplier m;
  ASSERT_TRUE(quantize_multiplier(1.0, &m));
  QGemmInt8Params p;
  p.rows = 1;
  p.cols = 1;
  p.depth = 2;
  p.weights = packed.data();
  p.bias = folded;
  p.multipliers = &m;
  p.output_zero_point = 2;
  std::vector<int16_t> scratch(qgemm_int8_scratch_bytes(2) / 2 + 1);
  p.scratch = scratch.data();
  int8_t y[1];
  qgemm_int8(p, a, 2, y, 1);
  EXPECT_EQ(y[0], 11);
}

}  // namespace
}  // namespace neutron
