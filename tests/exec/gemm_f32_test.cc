// float32 Gemm and MatMul through the executor: alpha, beta, transA, transB, every C broadcast,
// constant and runtime B; MatMul batch broadcasting and 1-D operands.
#include <gtest/gtest.h>

#include <random>

#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::run_single_op;

std::vector<float> random_floats(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(ExecGemmF32, HandCheckedOnnxDefault) {
  // Y = A * B^T + C (typical FC layer), A [2,3], B [2,3], C [2].
  auto r = run_single_op(OpKind::Gemm,
                         {Operand::input(TensorData::from<float>({2, 3}, {1, 2, 3, 4, 5, 6})),
                          Operand::constant_of(TensorData::from<float>({2, 3}, {1, 0, 1, 0, 1, 0})),
                          Operand::constant_of(TensorData::from<float>({2}, {10, 20}))},
                         [] {
                           Attributes a;
                           a.set("transB", int64_t(1));
                           return a;
                         }());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].to_vector<float>(), (std::vector<float>{14, 22, 20, 25}));
}

TEST(ExecGemmF32, AllAttributesAndBroadcasts) {
  const int64_t M = 5, N = 11, K = 7;
  const std::vector<Shape> c_shapes = {{}, {1}, {N}, {1, N}, {M, 1}, {M, N}};
  uint32_t seed = 1;
  for (int trans_a = 0; trans_a <= 1; ++trans_a)
    for (int trans_b = 0; trans_b <= 1; ++trans_b)
      for (const Shape& cs : c_shapes)
        for (int const_b = 0; const_b <= 1; ++const_b) {
          const bool const_c = (seed % 2) == 0;
          SCOPED_TRACE("seed " + std::to_string(seed) + " transA " + std::to_string(trans_a) + " transB " +
                       std::to_string(trans_b) + " C " + shape_str(cs) + (const_b ? " constB" : " runtimeB") +
                       (const_c ? " constC" : " runtimeC"));
          std::mt19937 rng(seed++);
          const auto a = random_floats(rng, size_t(M * K));
          const auto b = random_floats(rng, size_t(K * N));
          const auto c = random_floats(rng, size_t(num_elements(cs)));
          const float alpha = 0.75f, beta = -1.5f;
          Attributes at;
          at.set("alpha", double(alpha));
          at.set("beta", double(beta));
          at.set("transA", int64_t(trans_a));
          at.set("transB", int64_t(trans_b));
          const TensorData ad = TensorData::from<float>(trans_a ? Shape{K, M} : Shape{M, K}, a);
          const TensorData bd = TensorData::from<float>(trans_b ? Shape{N, K} : Shape{K, N}, b);
          const TensorData cd = TensorData::from<float>(cs, c);
          auto r = run_single_op(OpKind::Gemm,
                                 {Operand::input(ad), const_b ? Operand::constant_of(bd) : Operand::input(bd),
                                  const_c ? Operand::constant_of(cd) : Operand::input(cd)},
                                 at);
          ASSERT_TRUE(r.ok()) << r.status().to_string();
          const auto y = r.value()[0].to_vector<float>();
          ASSERT_EQ(y.size(), size_t(M * N));
          Shape c2 = cs;
          while (c2.size() < 2) c2.insert(c2.begin(), 1);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) {
              double acc = 0;
              for (int64_t k = 0; k < K; ++k)
                acc += double(trans_a ? a[size_t(k * M + m)] : a[size_t(m * K + k)]) *
                       (trans_b ? b[size_t(n * K + k)] : b[size_t(k * N + n)]);
              const double cv = c[size_t((c2[0] == 1 ? 0 : m) * c2[1] + (c2[1] == 1 ? 0 : n))];
              ASSERT_NEAR(y[size_t(m * N + n)], alpha * acc + beta * cv, 1e-5) << m << "," << n;
            }
        }
}

TEST(ExecMatMulF32, BroadcastingAndVectors) {
  struct Case {
    Shape a, b, y;
  };
  const Case cases[] = {
      {{3, 4}, {4, 5}, {3, 5}},
      {{2, 3, 4}, {4, 5}, {2, 3, 5}},           // B without batch: one GEMM
      {{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},        // batched
      {{2, 1, 3, 4}, {3, 4, 5}, {2, 3, 3, 5}},  // broadcast both ways
      {{3, 4}, {2, 4, 5}, {2, 3, 5}},           // A broadcast
      {{4}, {4, 5}, {5}},                       // 1-D A
      {{3, 4}, {4}, {3}},                       // 1-D B
      {{4}, {4}, {}},                           // dot product
      {{2, 3, 4}, {4}, {2, 3}},
      {{4}, {2, 4, 5}, {2, 5}},
  };
  uint32_t seed = 100;
  for (const Case& c : cases)
    for (int const_b = 0; const_b <= 1; ++const_b) {
      SCOPED_TRACE("A " + shape_str(c.a) + " B " + shape_str(c.b) + (const_b ? " constB" : " runtimeB"));
      std::mt19937 rng(seed++);
      const auto a = random_floats(rng, size_t(num_elements(c.a)));
      const auto b = random_floats(rng, size_t(num_elements(c.b)));
      const TensorData bd = TensorData::from<float>(c.b, b);
      auto r = run_single_op(OpKind::MatMul,
                             {Operand::input(TensorData::from<float>(c.a, a)),
                              const_b ? Operand::constant_of(bd) : Operand::input(bd)},
                             {});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      const TensorData& y = r.value()[0];
      ASSERT_EQ(y.shape, c.y);
      // Reference: numpy matmul with explicit broadcasting.
      Shape as = c.a, bs = c.b;
      const bool av = as.size() == 1, bv = bs.size() == 1;
      if (av) as.insert(as.begin(), 1);
      if (bv) bs.push_back(1);
      const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
      const size_t rank = std::max(as.size(), bs.size()) - 2;
      Shape ab(rank, 1), bb(rank, 1), ob(rank);
      std::copy(as.begin(), as.end() - 2, ab.end() - (as.size() - 2));
      std::copy(bs.begin(), bs.end() - 2, bb.end() - (bs.size() - 2));
      for (size_t i = 0; i < rank; ++i) ob[i] = std::max(ab[i], bb[i]);
      const float* yv = y.data<float>();
      for (int64_t bi = 0; bi < num_elements(ob); ++bi) {
        int64_t rem = bi, ai = 0, bj = 0, am = 1, bm = 1;
        for (size_t d = rank; d-- > 0;) {
          const int64_t idx = rem % ob[d];
          rem /= ob[d];
          ai += (ab[d] == 1 ? 0 : idx) * am;
          bj += (bb[d] == 1 ? 0 : idx) * bm;
          am *= ab[d];
          bm *= bb[d];
        }
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double acc = 0;
            for (int64_t k = 0; k < K; ++k)
              acc += double(a[size_t(ai * M * K + m * K + k)]) * b[size_t(bj * K * N + k * N + n)];
            ASSERT_NEAR(yv[(bi * M + m) * N + n], acc, 1e-5) << "batch " << bi << " m " << m << " n " << n;
          }
      }
    }
}

}  // namespace
}  // namespace neutron
