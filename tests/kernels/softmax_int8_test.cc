// int8 Softmax against the exact QDQ evaluation (double, max-subtracted) over random shapes and
// axes, with the fixed output quantization PyTorch uses (1/256, -128 as int8) and random ones.
#include "kernels/softmax_int8.h"

#include <gtest/gtest.h>

#include <sstream>

#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::rand_int;

TEST(SoftmaxInt8, RandomShapesMatchExactQdq) {
  std::mt19937 rng(31);
  for (int i = 0; i < 200; ++i) {
    const int64_t outer = rand_int(rng, 1, 5), axis = rand_int(rng, 1, 40), inner = rand_int(rng, 1, 4);
    const double sx = testing::rand_log_uniform(rng, 1e-3, 0.5);
    const int32_t zx = rand_int(rng, -128, 127);
    const bool fixed = rand_int(rng, 0, 1);
    std::ostringstream os;
    os << "case " << i << ": outer " << outer << " axis " << axis << " inner " << inner << " s_in " << sx;
    SCOPED_TRACE(os.str());
    const auto x = testing::random_int8(rng, size_t(outer * axis * inner));
    std::vector<double> real(x.size());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        double mx = -1e300, sum = 0;
        const auto at = [&](int64_t k) { return size_t((o * axis + k) * inner + j); };
        for (int64_t k = 0; k < axis; ++k) mx = std::max(mx, sx * (x[at(k)] - zx));
        for (int64_t k = 0; k < axis; ++k) sum += std::exp(sx * (x[at(k)] - zx) - mx);
        for (int64_t k = 0; k < axis; ++k) real[at(k)] = std::exp(sx * (x[at(k)] - zx) - mx) / sum;
      }
    const testing::OutQuant yq = fixed ? testing::OutQuant{1.0 / 256, -128} : testing::out_quant_for(real);
    const auto expected = testing::quantize_all(real, yq);
    SoftmaxInt8Params p;
    p.outer = outer;
    p.axis = axis;
    p.inner = inner;
    double table[256];
    prepare_softmax_int8(sx, yq.scale, yq.zero_point, table, &p);
    std::vector<int8_t> y(x.size());
    softmax_int8(p, x.data(), y.data());
    EXPECT_TRUE(testing::qdq_close(y, expected, "softmax"));
  }
}

}  // namespace
}  // namespace neutron
