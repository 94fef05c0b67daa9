// Binary broadcasting kernels vs a naive per-element reference (numpy rules written out).
#include "kernels/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/shape.h"
#include "kernels/cpu_isa.h"

namespace neutron {
namespace {

// Element index of `out_index` in an operand of shape `s` broadcast to `out`.
int64_t broadcast_index(const Shape& out, const Shape& s, int64_t out_index) {
  int64_t idx = 0, stride = 1;
  const size_t off = out.size() - s.size();
  for (size_t i = out.size(); i-- > 0;) {
    const int64_t c = out_index % out[i];
    out_index /= out[i];
    if (i >= off) {
      const int64_t d = s[i - off];
      if (d != 1) idx += c * stride;
      stride *= d;
    }
  }
  return idx;
}

Shape broadcast(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape o(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    o[i] = da == 1 ? db : da;
  }
  return o;
}

// Reference arithmetic, in the widest type, then wrapped to T.
template <typename T>
T ref_op(BinaryOp op, T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    switch (op) {
      case BinaryOp::Add: return a + b;
      case BinaryOp::Sub: return a - b;
      case BinaryOp::Mul: return a * b;
      case BinaryOp::Div: return a / b;
      case BinaryOp::Max: return std::max(a, b);
      case BinaryOp::Min: return std::min(a, b);
      case BinaryOp::PRelu: return a < 0 ? a * b : a;
      case BinaryOp::Pow: return std::pow(a, b);
    }
  } else {
    // int64 arithmetic is exact for our operand ranges except int64 itself, which we compute in
    // unsigned __int128-free form: unsigned 64-bit wraps exactly as two's complement.
    const uint64_t ua = uint64_t(int64_t(a)), ub = uint64_t(int64_t(b));
    auto wrap = [](uint64_t v) {
      T r;
      // Take the low bytes (little-endian), i.e. reduce modulo 2^bits.
      std::memcpy(&r, &v, sizeof(T));
      return r;
    };
    switch (op) {
      case BinaryOp::Add: return wrap(ua + ub);
      case BinaryOp::Sub: return wrap(ua - ub);
      case BinaryOp::Mul: return wrap(ua * ub);
      case BinaryOp::Div: {
        if (b == 0) return T(0);
        if (std::is_signed<T>::value && int64_t(b) == -1) return wrap(0 - ua);
        return T(int64_t(a) / int64_t(b));  // C++ division truncates toward zero
      }
      case BinaryOp::Max: return a > b ? a : b;
      case BinaryOp::Min: return a < b ? a : b;
      case BinaryOp::PRelu: return int64_t(a) < 0 ? wrap(ua * ub) : a;
      case BinaryOp::Pow: {
        if (std::is_signed<T>::value && int64_t(b) < 0)  // truncated 1 / a^|b|
          return int64_t(a) == 1 ? T(1) : int64_t(a) == -1 ? T((int64_t(b) & 1) ? -1 : 1) : T(0);
        // Left-to-right square-and-multiply over the exponent's bits, wrapping modulo 2^64.
        const uint64_t e = uint64_t(int64_t(b));
        uint64_t r = 1;
        for (int bit = 63; bit >= 0; --bit) {
          r *= r;
          if ((e >> bit) & 1) r *= ua;
        }
        return wrap(r);
      }
    }
  }
  return T(0);
}

const char* op_name(BinaryOp op) {
  static const char* names[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu", "Pow"};
  return names[int(op)];
}

template <typename T>
std::vector<T> random_values(std::mt19937& rng, size_t n) {
  std::vector<T> v(n);
  if constexpr (std::is_floating_point<T>::value) {
    std::uniform_real_distribution<float> d(-4.f, 4.f);
    for (auto& x : v) x = d(rng);
  } else {
    // Braces: clang reads d(int64_t(std::numeric_limits<T>::lowest()), ...) as a function declaration.
    std::uniform_int_distribution<int64_t> d{int64_t(std::numeric_limits<T>::lowest()),
                                             int64_t(std::numeric_limits<T>::max())};
    std::uniform_int_distribution<int> small(-3, 3);
    // Mix full-range values (overflow, wrap-around) with small ones (division by 0, +-1).
    for (auto& x : v) x = rng() % 3 == 0 ? T(small(rng)) : T(d(rng));
  }
  return v;
}

template <typename T>
void check_case(BinaryOp op, const Shape& as, const Shape& bs, std::mt19937& rng, const std::string& ctx) {
  BroadcastParams p;
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(as), Span<const int64_t>(bs), &p)) << ctx;
  const Shape os = broadcast(as, bs);
  const int64_t n = num_elements(os);
  ASSERT_EQ(p.out_count, n) << ctx;
  const auto a = random_values<T>(rng, size_t(num_elements(as)));
  const auto b = random_values<T>(rng, size_t(num_elements(bs)));
  std::vector<T> out(size_t(n) + 1, T(77));
  binary_broadcast<T>(op, p, a.data(), b.data(), out.data());
  for (int64_t i = 0; i < n; ++i) {
    const T x = a[size_t(broadcast_index(os, as, i))], y = b[size_t(broadcast_index(os, bs, i))];
    const T want = ref_op<T>(op, x, y);
    if (std::is_floating_point<T>::value) {
      if (std::isnan(want)) {  // Pow of a negative base by a fractional exponent
        ASSERT_TRUE(std::isnan(out[size_t(i)])) << ctx << " element " << i << " a=" << +x << " b=" << +y;
        continue;
      }
      ASSERT_EQ(out[size_t(i)], want) << ctx << " element " << i << " a=" << +x << " b=" << +y;
    } else {
      ASSERT_EQ(int64_t(out[size_t(i)]), int64_t(want)) << ctx << " element " << i << " a=" << +x << " b=" << +y;
    }
  }
  ASSERT_EQ(out[size_t(n)], T(77)) << ctx << ": wrote past the end";
}

// Random broadcast-compatible shape pairs: rank mismatch, size-1 dims, scalars, empty dims.
void random_shapes(std::mt19937& rng, Shape* a, Shape* b) {
  const int rank = int(rng() % 6);
  Shape out(static_cast<size_t>(rank), 1);
  const int64_t max_dim = rng() % 4 == 0 ? 19 : 5;  // sometimes longer rows (vector loop tails)
  for (auto& d : out) d = 1 + int64_t(rng() % uint64_t(max_dim));
  if (rank > 0 && rng() % 20 == 0) out[rng() % size_t(rank)] = 0;
  auto operand = [&](Shape* s) {
    const int r = rank == 0 ? 0 : int(rng() % size_t(rank + 1));
    s->assign(out.end() - r, out.end());
    for (auto& d : *s)
      if (rng() % 3 == 0) d = 1;
  };
  operand(a);
  operand(b);
}

template <typename T>
void random_test(uint32_t seed, int iterations) {
  std::mt19937 rng(seed);
  const BinaryOp ops[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul,  BinaryOp::Div,
                          BinaryOp::Max, BinaryOp::Min, BinaryOp::PRelu, BinaryOp::Pow};
  for (int it = 0; it < iterations; ++it) {
    Shape as, bs;
    random_shapes(rng, &as, &bs);
    for (BinaryOp op : ops) {
      const std::string ctx = std::string(op_name(op)) + " a=" + shape_str(as) + " b=" + shape_str(bs) +
                              " seed=" + std::to_string(seed) + " iteration=" + std::to_string(it);
      check_case<T>(op, as, bs, rng, ctx);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(Elementwise, RandomBroadcastF32) { random_test<float>(1, 300); }
TEST(Elementwise, RandomBroadcastI8) { random_test<int8_t>(2, 150); }
TEST(Elementwise, RandomBroadcastU8) { random_test<uint8_t>(3, 150); }
TEST(Elementwise, RandomBroadcastI16) { random_test<int16_t>(4, 100); }
TEST(Elementwise, RandomBroadcastI32) { random_test<int32_t>(5, 150); }
TEST(Elementwise, RandomBroadcastI64) { random_test<int64_t>(6, 150); }

// The fast paths: the collapsed iteration space of the common cases.
TEST(Elementwise, CollapsesCommonCases) {
  BroadcastParams p;
  const Shape nhwc{2, 5, 7, 16}, c{16}, nchw{2, 16, 5, 7}, c11{16, 1, 1}, scalar{}, one{1, 1};
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(nhwc), Span<const int64_t>(nhwc), &p));
  EXPECT_EQ(p.rank, 1);  // same shape: one vector-vector loop
  EXPECT_EQ(p.out_dims[0], 2 * 5 * 7 * 16);
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(nhwc), Span<const int64_t>(scalar), &p));
  EXPECT_EQ(p.rank, 1);  // scalar: one vector-scalar loop
  EXPECT_EQ(p.b_strides[0], 0);
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(one), Span<const int64_t>(nhwc), &p));
  EXPECT_EQ(p.rank, 1);
  EXPECT_EQ(p.a_strides[0], 0);
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(nhwc), Span<const int64_t>(c), &p));
  ASSERT_EQ(p.rank, 2);  // per channel, NHWC: [N*H*W (b broadcast), C]
  EXPECT_EQ(p.out_dims[0], 2 * 5 * 7);
  EXPECT_EQ(p.b_strides[0], 0);
  EXPECT_EQ(p.b_strides[1], 1);
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(nchw), Span<const int64_t>(c11), &p));
  ASSERT_EQ(p.rank, 3);  // per channel, NCHW: [N, C, H*W (b broadcast)]
  EXPECT_EQ(p.out_dims[2], 35);
  EXPECT_EQ(p.b_strides[2], 0);
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(scalar), Span<const int64_t>(scalar), &p));
  EXPECT_EQ(p.rank, 0);
  EXPECT_EQ(p.out_count, 1);
}

TEST(Elementwise, RejectsIncompatibleShapes) {
  BroadcastParams p;
  const Shape a{2, 3}, b{4, 3}, c{3, 1}, d{2}, big{1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(prepare_broadcast(Span<const int64_t>(a), Span<const int64_t>(b), &p));
  EXPECT_FALSE(prepare_broadcast(Span<const int64_t>(a), Span<const int64_t>(c), &p));  // 2 vs 3 in dim 0
  EXPECT_FALSE(prepare_broadcast(Span<const int64_t>(a), Span<const int64_t>(d), &p));
  EXPECT_FALSE(prepare_broadcast(Span<const int64_t>(big), Span<const int64_t>(d), &p));
}

TEST(Elementwise, IntegerSemanticsByHand) {
  BroadcastParams p;
  const Shape s{4};
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(s), Span<const int64_t>(s), &p));
  {
    const uint8_t a[] = {250, 3, 0, 200}, b[] = {10, 5, 1, 100};
    uint8_t y[4];
    binary_broadcast<uint8_t>(BinaryOp::Add, p, a, b, y);  // ONNX test_add_uint8 wraps
    EXPECT_EQ(y[0], 4);
    binary_broadcast<uint8_t>(BinaryOp::Sub, p, a, b, y);
    EXPECT_EQ(y[1], 254);
    binary_broadcast<uint8_t>(BinaryOp::Mul, p, a, b, y);
    EXPECT_EQ(y[3], uint8_t(20000 % 256));
  }
  {
    const int32_t a[] = {7, -7, 7, std::numeric_limits<int32_t>::min()}, b[] = {2, 2, 0, -1};
    int32_t y[4];
    binary_broadcast<int32_t>(BinaryOp::Div, p, a, b, y);
    EXPECT_EQ(y[0], 3);                                    // truncation
    EXPECT_EQ(y[1], -3);                                   // toward zero, not floor
    EXPECT_EQ(y[2], 0);                                    // division by zero does not trap
    EXPECT_EQ(y[3], std::numeric_limits<int32_t>::min());  // wraps
  }
  {
    const int8_t a[] = {-128, 127, -5, 5}, b[] = {1, 1, 3, 3};
    int8_t y[4];
    binary_broadcast<int8_t>(BinaryOp::Sub, p, a, b, y);
    EXPECT_EQ(y[0], 127);
    binary_broadcast<int8_t>(BinaryOp::Add, p, a, b, y);
    EXPECT_EQ(y[1], -128);
    binary_broadcast<int8_t>(BinaryOp::PRelu, p, a, b, y);
    EXPECT_EQ(y[2], -15);
    EXPECT_EQ(y[3], 5);
  }
}

TEST(Elementwise, PReluPerChannelSlope) {
  // slope [C,1,1] against NCHW input, as PyTorch exports nn.PReLU(C).
  const Shape x{1, 2, 2, 2}, s{2, 1, 1};
  BroadcastParams p;
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(x), Span<const int64_t>(s), &p));
  const float a[] = {-1, 2, -3, 4, -1, 2, -3, 4}, slope[] = {0.5f, 0.25f};
  float y[8];
  binary_broadcast<float>(BinaryOp::PRelu, p, a, slope, y);
  const float want[] = {-0.5f, 2, -1.5f, 4, -0.25f, 2, -0.75f, 4};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y[i], want[i]) << i;
}

// binary_f32_act on every ISA path against the separate ops written out (Add/Sub, then the Relu
// op's v > 0 ? v : 0, then the Clip op's clamp), bit for bit, NaN and signed zeros included, with
// lengths that leave a tail after every vector width.
TEST(BinaryF32Act, EveryIsaMatchesTheSeparateOps) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  const float inf = std::numeric_limits<float>::infinity();
  struct Bounds {
    float lo, hi;
  };
  const Bounds bounds[] = {{-inf, inf}, {-0.5f, 0.75f}, {-inf, 0.25f}, {0.0f, 0.0f}};
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (!set_kernel_isa(isa)) continue;
    for (int64_t n : {0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 100}) {
      std::vector<float> a(size_t(n) + 1), b(size_t(n) + 1);
      for (int64_t i = 0; i < n; ++i) {
        a[size_t(i)] = i % 11 == 3 ? NAN : i % 5 == 1 ? -0.0f : dist(rng);
        b[size_t(i)] = i % 7 == 2 ? 0.0f : i % 13 == 4 ? -a[size_t(i)] : dist(rng);
      }
      for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub})
        for (bool relu : {false, true})
          for (const Bounds& bd : bounds) {
            std::vector<float> got(size_t(n) + 1, 42.0f), want(size_t(n) + 1, 42.0f);
            binary_f32_act(op, n, a.data(), b.data(), got.data(), relu, bd.lo, bd.hi);
            for (int64_t i = 0; i < n; ++i) {
              float v = op == BinaryOp::Add ? a[size_t(i)] + b[size_t(i)] : a[size_t(i)] - b[size_t(i)];
              if (relu) v = v > 0.0f ? v : 0.0f;
              v = v < bd.lo ? bd.lo : v;
              v = v > bd.hi ? bd.hi : v;
              want[size_t(i)] = v;
            }
            // Bit for bit (signed zeros included), except that which NaN a NaN + NaN gives depends
            // on the compiler's operand order (here and in the Add op alike).
            for (size_t i = 0; i < got.size(); ++i)
              if (!(std::isnan(got[i]) && std::isnan(want[i])))
                ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(float)), 0)
                    << kernel_isa_name(isa) << " n=" << n << " sub=" << (op == BinaryOp::Sub) << " relu=" << relu
                    << " lo=" << bd.lo << " hi=" << bd.hi << " at " << i << ": " << got[i] << " vs " << want[i];
          }
    }
  }
  reset_kernel_isa();
}

}  // namespace
}  // namespace neutron
