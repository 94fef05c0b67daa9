// int8 Add, Sub, Mul, Max, Min with numpy broadcasting against the exact QDQ evaluation, over
// random shapes and broadcast patterns, random scales (including very different input scales)
// and fused clamp ranges.
#include "kernels/elementwise_int8.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/shape.h"
#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::rand_int;

const char* op_name(BinaryInt8Op op) {
  static const char* kNames[] = {"Add", "Sub", "Mul", "Max", "Min"};
  return kNames[int(op)];
}

// Index of an output coordinate in an operand of shape `s` (right-aligned, size-1 dims broadcast).
int64_t operand_index(const Shape& out, const Shape& s, int64_t flat) {
  int64_t idx = 0, stride = 1;
  for (size_t i = out.size(); i-- > 0;) {
    const int64_t coord = flat % out[i];
    flat /= out[i];
    const size_t off = out.size() - s.size();
    if (i >= off) {
      const int64_t d = s[i - off];
      if (d != 1) idx += coord * stride;
      stride *= d;
    }
  }
  return idx;
}

void run_case(BinaryInt8Op op, const Shape& as, const Shape& bs, bool clamp, uint32_t seed) {
  std::ostringstream os;
  os << "seed " << seed << ": " << op_name(op) << " " << shape_str(as) << " x " << shape_str(bs)
     << (clamp ? " clamp" : "");
  SCOPED_TRACE(os.str());
  std::mt19937 rng(seed);
  const double sa = testing::rand_log_uniform(rng, 1e-3, 1e-1);
  // Sometimes very different scales, to exercise the smaller multiplier of the pair.
  const double sb = rand_int(rng, 0, 3) == 0 ? sa * testing::rand_log_uniform(rng, 1e-3, 1e3)
                                             : testing::rand_log_uniform(rng, 1e-3, 1e-1);
  const int32_t za = rand_int(rng, -128, 127), zb = rand_int(rng, -128, 127);
  const auto a = testing::random_int8(rng, size_t(num_elements(as)));
  const auto b = testing::random_int8(rng, size_t(num_elements(bs)));
  Shape out(std::max(as.size(), bs.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t ia = i + as.size() - out.size(), ib = i + bs.size() - out.size();
    const int64_t da = i + as.size() >= out.size() ? as[ia] : 1, db = i + bs.size() >= out.size() ? bs[ib] : 1;
    out[i] = da == 1 ? db : da;
  }
  std::vector<double> real(static_cast<size_t>(num_elements(out)));
  for (int64_t i = 0; i < int64_t(real.size()); ++i) {
    const double x = sa * (a[size_t(operand_index(out, as, i))] - za);
    const double y = sb * (b[size_t(operand_index(out, bs, i))] - zb);
    switch (op) {
      case BinaryInt8Op::Add: real[size_t(i)] = x + y; break;
      case BinaryInt8Op::Sub: real[size_t(i)] = x - y; break;
      case BinaryInt8Op::Mul: real[size_t(i)] = x * y; break;
      case BinaryInt8Op::Max: real[size_t(i)] = std::max(x, y); break;
      case BinaryInt8Op::Min: real[size_t(i)] = std::min(x, y); break;
    }
  }
  const auto yq = testing::out_quant_for(real);
  int32_t qmin = -128, qmax = 127;
  if (clamp) {
    qmin = rand_int(rng, -128, 0);
    qmax = rand_int(rng, qmin, 127);
  }
  const auto expected = testing::quantize_all(real, yq, qmin, qmax);
  BroadcastParams bp;
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(as.data(), as.size()), Span<const int64_t>(bs.data(), bs.size()), &bp));
  BinaryInt8Params p;
  ASSERT_TRUE(prepare_binary_int8(op, sa, za, sb, zb, yq.scale, yq.zero_point, qmin, qmax, &p));
  std::vector<int8_t> y(real.size());
  binary_int8(p, bp, a.data(), b.data(), y.data());
  EXPECT_TRUE(testing::qdq_close(y, expected, op_name(op)));
}

Shape random_shape(std::mt19937& rng, int rank) {
  Shape s(static_cast<size_t>(rank));
  for (auto& d : s) d = rand_int(rng, 1, 7);
  return s;
}

TEST(ElementwiseInt8, RandomBroadcastsMatchExactQdq) {
  std::mt19937 rng(99);
  for (int i = 0; i < 300; ++i) {
    const auto op = BinaryInt8Op(rand_int(rng, 0, 4));
    const Shape out = random_shape(rng, rand_int(rng, 1, 4));
    Shape as = out, bs = out;
    // Drop leading dims and set some dims to 1 for broadcasting.
    const int mode = rand_int(rng, 0, 3);
    if (mode >= 1)
      for (auto& d : bs)
        if (rand_int(rng, 0, 1)) d = 1;
    if (mode >= 2)
      for (auto& d : as)
        if (rand_int(rng, 0, 2) == 0) d = 1;
    if (mode == 3 && bs.size() > 1) bs.erase(bs.begin(), bs.begin() + rand_int(rng, 1, int(bs.size()) - 1));
    if (rand_int(rng, 0, 1)) std::swap(as, bs);
    run_case(op, as, bs, rand_int(rng, 0, 4) == 0, 300u + uint32_t(i));
  }
}

TEST(ElementwiseInt8, ResidualAddShapes) {
  for (int op = 0; op < 5; ++op) {
    run_case(BinaryInt8Op(op), {1, 7, 7, 64}, {1, 7, 7, 64}, false, 10u + uint32_t(op));
    run_case(BinaryInt8Op(op), {1, 5, 3, 24}, {24}, false, 20u + uint32_t(op));  // per-channel NHWC
    run_case(BinaryInt8Op(op), {2, 24, 5, 3}, {1, 24, 1, 1}, false, 30u + uint32_t(op));  // per-channel NCHW
    run_case(BinaryInt8Op(op), {}, {3, 5}, false, 40u + uint32_t(op));  // scalar
  }
}

// Add with a huge ratio between the input scales still rounds once: compare against exact
// rounding of the real sum directly.
TEST(ElementwiseInt8, AddPairMultiplierIsExactAwayFromTies) {
  FixedMultiplierPair m;
  ASSERT_TRUE(quantize_multiplier_pair(0.75, 0.001, &m));
  for (int xa = -255; xa <= 255; xa += 3)
    for (int xb = -255; xb <= 255; xb += 5) {
      const double exact = 0.75 * xa + 0.001 * xb;
      if (std::fabs(exact - std::floor(exact) - 0.5) < 1e-6) continue;
      EXPECT_EQ(apply_multiplier_pair(xa, xb, m), std::llround(exact)) << xa << " " << xb;
    }
}

}  // namespace
}  // namespace neutron
