// float32 GEMM (packed B) against a naive double-precision triple loop, over random sizes around
// the register tile and cache block edges, strided A/C, transposed/scaled packing, bias,
// accumulation and clamping.
//
// Tolerance: |c - ref| <= 1e-5 * sum_k |a * b| + 1e-6 (float accumulation of K products).
#include "kernels/gemm_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <vector>

namespace neutron {
namespace {

struct GemmCase {
  int64_t M = 1, N = 1, K = 1, lda = 1, ldb = 1, ldc = 1;
  bool trans_b = false, bias = false, accumulate = false, clamp = false, relu = false;
  float scale = 1.0f;
  std::string str() const {
    std::ostringstream os;
    os << "M" << M << " N" << N << " K" << K << " lda" << lda << " ldb" << ldb << " ldc" << ldc
       << (trans_b ? " transB" : "") << (bias ? " bias" : "") << (accumulate ? " accumulate" : "")
       << (clamp ? " clamp" : "") << (relu ? " relu" : "") << " scale" << scale;
    return os.str();
  }
};

void run_case(const GemmCase& c, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": " + c.str());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(size_t(std::max<int64_t>(c.M * c.lda, 1))), b(size_t(std::max<int64_t>(
                                                                       (c.trans_b ? c.N : c.K) * c.ldb, 1))),
      bias(size_t(c.N)), y(size_t(std::max<int64_t>(c.M * c.ldc, 1)));
  for (auto& v : a) v = dist(rng);
  for (auto& v : b) v = dist(rng);
  for (auto& v : bias) v = dist(rng);
  for (auto& v : y) v = dist(rng);
  const std::vector<float> y0 = y;
  const auto bat = [&](int64_t k, int64_t n) { return double(c.trans_b ? b[size_t(n * c.ldb + k)] : b[size_t(k * c.ldb + n)]); };

  std::vector<float> packed(gemm_f32_packed_b_floats(c.K, c.N) + 1);
  gemm_f32_pack_b(b.data(), c.ldb, c.trans_b, c.K, c.N, c.scale, packed.data());
  GemmF32Epilogue ep;
  ep.bias = c.bias ? bias.data() : nullptr;
  ep.accumulate = c.accumulate;
  ep.relu = c.relu;
  if (c.clamp) {
    ep.min = -0.5f;
    ep.max = 0.7f;
  }
  gemm_f32(c.M, c.N, c.K, a.data(), c.lda, packed.data(), y.data(), c.ldc, ep);

  for (int64_t m = 0; m < c.M; ++m) {
    for (int64_t n = 0; n < c.N; ++n) {
      double ref = c.accumulate ? y0[size_t(m * c.ldc + n)] : (c.bias ? bias[size_t(n)] : 0.0);
      double mag = std::fabs(ref);
      for (int64_t k = 0; k < c.K; ++k) {
        const double t = double(a[size_t(m * c.lda + k)]) * double(c.scale) * bat(k, n);
        ref += t;
        mag += std::fabs(t);
      }
      if (c.relu) ref = std::max(ref, 0.0);
      if (c.clamp) ref = std::min(std::max(ref, -0.5), 0.7);
      const float got = y[size_t(m * c.ldc + n)];
      ASSERT_NEAR(got, ref, 1e-5 * mag + 1e-6) << "at m=" << m << " n=" << n;
    }
    // Columns past N in a strided C are untouched.
    for (int64_t n = c.N; n < c.ldc; ++n) ASSERT_EQ(y[size_t(m * c.ldc + n)], y0[size_t(m * c.ldc + n)]);
  }
}

TEST(GemmF32, HandChecked) {
  // [1 2; 3 4] * [5 6; 7 8] + [1, -1] = [20 21; 44 49]
  const float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8}, bias[] = {1, -1};
  std::vector<float> packed(gemm_f32_packed_b_floats(2, 2));
  gemm_f32_pack_b(b, 2, false, 2, 2, 1.0f, packed.data());
  float y[4];
  GemmF32Epilogue ep;
  ep.bias = bias;
  gemm_f32(2, 2, 2, a, 2, packed.data(), y, 2, ep);
  EXPECT_EQ(y[0], 20);
  EXPECT_EQ(y[1], 21);
  EXPECT_EQ(y[2], 44);
  EXPECT_EQ(y[3], 49);
}

TEST(GemmF32, EmptyDepthGivesBias) {
  const float bias[] = {1.5f, -2.0f, 3.0f};
  float y[6] = {};
  GemmF32Epilogue ep;
  ep.bias = bias;
  ep.max = 2.0f;
  gemm_f32(2, 3, 0, nullptr, 0, nullptr, y, 3, ep);
  EXPECT_EQ(y[0], 1.5f);
  EXPECT_EQ(y[1], -2.0f);
  EXPECT_EQ(y[5], 2.0f);
}

TEST(GemmF32, TileAndBlockEdges) {
  // Every M around the register tile and the M block, every N around the panel width, K around
  // the depth block.
  uint32_t seed = 100;
  for (int64_t M : {int64_t(1), int64_t(2), int64_t(5), int64_t(6), int64_t(7), int64_t(13), int64_t(kGemmMc) - 1, int64_t(kGemmMc) + 7})
    // 5+ panels: the x86 vector builds pack the A block (f32_simd_impl.h) and pair panels.
    for (int64_t N : {int64_t(1), int64_t(3), int64_t(kGemmNr) - 1, int64_t(kGemmNr), int64_t(kGemmNr) + 1,
                      2 * int64_t(kGemmNr) + 5, 5 * int64_t(kGemmNr) + 3, 6 * int64_t(kGemmNr)})
      for (int64_t K : {int64_t(1), int64_t(7), int64_t(kGemmKc) + 3}) {
        GemmCase c;
        c.M = M;
        c.N = N;
        c.K = K;
        c.lda = K;
        c.ldb = N;
        c.ldc = N;
        c.bias = (seed % 2) == 0;
        run_case(c, seed++);
        if (::testing::Test::HasFatalFailure()) return;
      }
}

TEST(GemmF32, RandomShapesAndOptions) {
  for (uint32_t seed = 1; seed <= 150; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
    GemmCase c;
    c.M = pick(1, 40);
    c.N = pick(1, 45) * (seed % 3 == 0 ? 3 : 1);
    c.K = pick(0, 300);
    c.trans_b = pick(0, 1);
    c.lda = c.K + pick(0, 3);
    c.ldb = (c.trans_b ? c.K : c.N) + pick(0, 3);
    c.ldc = c.N + pick(0, 3);
    c.bias = pick(0, 1);
    c.accumulate = pick(0, 2) == 0;
    c.clamp = pick(0, 3) == 0;
    c.relu = seed % 4 == 1;
    c.scale = pick(0, 1) ? 1.0f : 0.37f;
    run_case(c, seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace neutron
