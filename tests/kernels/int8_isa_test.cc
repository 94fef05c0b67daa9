// Every vector path of the int8 kernels (kernels/cpu_isa.h) against the portable scalar path on
// random shapes, odd channel counts and tails included: the bytes must be identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <vector>

#include "int8_test_util.h"
#include "kernels/batch_matmul_int8.h"
#include "kernels/conv_int8.h"
#include "kernels/cpu_isa.h"
#include "kernels/elementwise_int8.h"
#include "kernels/gemm_int8.h"
#include "kernels/quantize.h"

namespace neutron {
namespace {

using testing::random_int8;

const KernelIsa kVectorIsas[] = {KernelIsa::kAvx2, KernelIsa::kAvx512};

// Restores the best path when a test ends.
struct IsaGuard {
  ~IsaGuard() { reset_kernel_isa(); }
};

std::vector<FixedMultiplier> random_multipliers(std::mt19937& rng, int32_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<FixedMultiplier> m(static_cast<size_t>(n));
  for (auto& x : m) EXPECT_TRUE(quantize_multiplier(d(rng), &x));
  return m;
}

std::vector<int32_t> random_bias(std::mt19937& rng, int32_t n) {
  std::uniform_int_distribution<int32_t> d(-20000, 20000);
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (auto& x : b) x = d(rng);
  return b;
}

// Runs f() on the scalar path and on every supported vector path; all outputs must match.
template <typename F>
void expect_same_on_every_path(F&& f, const std::string& what) {
  IsaGuard guard;
  ASSERT_TRUE(set_kernel_isa(KernelIsa::kScalar));
  const std::vector<int8_t> ref = f();
  int checked = 0;
  for (KernelIsa isa : kVectorIsas) {
    if (!set_kernel_isa(isa)) continue;
    // AVX-512 runs twice where the CPU has AMX: VNNI alone, then with the AMX tiles.
    for (int amx = 0; amx < (isa == KernelIsa::kAvx512 && kernel_amx_supported() ? 2 : 1); ++amx) {
      ASSERT_TRUE(set_kernel_amx(amx == 1));
      const std::vector<int8_t> got = f();
      ASSERT_EQ(got.size(), ref.size());
      size_t first = got.size();
      for (size_t i = 0; i < got.size() && first == got.size(); ++i)
        if (got[i] != ref[i]) first = i;
      EXPECT_EQ(first, got.size()) << what << ": " << kernel_isa_name(isa) << (amx ? "+amx" : "")
                                   << " differs from scalar at " << first << " ("
                                   << int(got[first < got.size() ? first : 0]) << " vs "
                                   << int(ref[first < got.size() ? first : 0]) << ")";
      ++checked;
    }
  }
  if (checked == 0) GTEST_LOG_(INFO) << "no vector path on this CPU; scalar only";
}

TEST(Int8Isa, Names) {
  EXPECT_TRUE(kernel_isa_supported(KernelIsa::kScalar));
  EXPECT_STREQ(kernel_isa_name(KernelIsa::kAvx512), "avx512");
  IsaGuard guard;
  EXPECT_TRUE(set_kernel_isa(KernelIsa::kScalar));
  EXPECT_EQ(kernel_isa(), KernelIsa::kScalar);
}

TEST(Int8Isa, GemmMatchesScalar) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> dm(1, 70), dn(1, 90), dk(1, 300), dz(-128, 127);
  for (int iter = 0; iter < 60; ++iter) {
    const int32_t M = dm(rng), N = dn(rng), K = iter < 4 ? int32_t(1 + iter) : dk(rng);
    const int32_t za = dz(rng), zo = dz(rng);
    const std::vector<int8_t> a = random_int8(rng, size_t(M) * K), b = random_int8(rng, size_t(K) * N);
    const std::vector<int32_t> bias = random_bias(rng, N);
    const std::vector<FixedMultiplier> mult = random_multipliers(rng, N, 1e-4, 0.05);
    std::vector<int16_t> packed(qgemm_int8_packed_size(K, N));
    pack_weights_nk_int8(b.data(), K, N, iter % 2 == 0, packed.data());
    std::vector<int32_t> folded(static_cast<size_t>(N));
    fold_zero_point_into_bias(packed.data(), K, N, bias.data(), za, folded.data());
    QGemmInt8Params p;
    p.rows = M;
    p.cols = N;
    p.depth = K;
    p.weights = packed.data();
    p.bias = folded.data();
    p.multipliers = mult.data();
    p.output_zero_point = zo;
    p.qmin = iter % 3 == 0 ? -100 : -128;
    p.qmax = iter % 3 == 0 ? 90 : 127;
    std::ostringstream what;
    what << "gemm M=" << M << " N=" << N << " K=" << K;
    expect_same_on_every_path(
        [&] {
          std::vector<uint8_t> scratch(qgemm_int8_scratch_bytes(K));
          QGemmInt8Params q = p;
          q.scratch = reinterpret_cast<int16_t*>(scratch.data());
          std::vector<int8_t> c(size_t(M) * N + 7, 0x55);
          qgemm_int8(q, a.data(), size_t(K), c.data(), size_t(N));
          return c;
        },
        what.str());
  }
}

TEST(Int8Isa, ConvMatchesScalar) {
  std::mt19937 rng(12);
  std::uniform_int_distribution<int32_t> dz(-128, 127);
  for (int iter = 0; iter < 120; ++iter) {
    Conv2DInt8Params p;
    const int kind = iter % 4;  // 0 general, 1 pointwise, 2 depthwise, 3 grouped / depth multiplier
    std::uniform_int_distribution<int32_t> dc(1, 40), ds(1, 2), dk(1, 5), dhw(1, 13);
    p.batch = 1 + iter % 2;
    p.in_h = dhw(rng);
    p.in_w = dhw(rng);
    p.in_c = dc(rng);
    p.kernel_h = kind == 1 ? 1 : dk(rng);
    p.kernel_w = kind == 1 ? 1 : dk(rng);
    p.stride_h = kind == 1 ? 1 : ds(rng);
    p.stride_w = kind == 1 ? 1 : ds(rng);
    p.dilation_h = kind == 0 ? ds(rng) : 1;
    p.pad_top = kind == 1 ? 0 : int32_t(rng() % 3);
    p.pad_left = kind == 1 ? 0 : int32_t(rng() % 3);
    const int32_t pad_bottom = kind == 1 ? 0 : int32_t(rng() % 3), pad_right = kind == 1 ? 0 : int32_t(rng() % 3);
    if (kind == 2) {
      p.groups = p.in_c = p.in_c + 1;  // > 1
      p.out_c = p.in_c;
    } else if (kind == 3) {
      if (iter % 8 == 3) {
        p.in_c = p.in_c + 1;
        p.groups = p.in_c;
        p.out_c = p.in_c * 2;  // depth multiplier 2
      } else {
        p.groups = 3;
        p.in_c = 3 * (1 + p.in_c % 7);
        p.out_c = 3 * dc(rng);
      }
    } else {
      p.out_c = dc(rng) + (iter % 5 == 0 ? 60 : 0);
      if (iter % 8 == 0) {  // the implicit-im2col path: no dilation, kernel_w * in_c a multiple of 4
        p.dilation_h = 1;
        p.in_c = 4 * (1 + p.in_c % 10);
      }
    }
    const int32_t eff_kh = (p.kernel_h - 1) * p.dilation_h + 1, eff_kw = (p.kernel_w - 1) * p.dilation_w + 1;
    if (p.in_h + p.pad_top + pad_bottom < eff_kh || p.in_w + p.pad_left + pad_right < eff_kw) continue;
    p.out_h = (p.in_h + p.pad_top + pad_bottom - eff_kh) / p.stride_h + 1;
    p.out_w = (p.in_w + p.pad_left + pad_right - eff_kw) / p.stride_w + 1;
    p.input_zero_point = dz(rng);
    p.output_zero_point = dz(rng);
    conv2d_int8_choose_path(&p);
    const int32_t cin_g = p.in_c / p.groups;
    const std::vector<int8_t> w = random_int8(rng, size_t(p.out_c) * cin_g * p.kernel_h * p.kernel_w);
    const std::vector<int8_t> x = random_int8(rng, size_t(p.batch) * p.in_h * p.in_w * p.in_c);
    const std::vector<int32_t> bias = random_bias(rng, p.out_c);
    const std::vector<FixedMultiplier> mult = random_multipliers(rng, p.out_c, 1e-4, 0.02);
    std::vector<int16_t> packed(conv2d_int8_packed_weights_size(p));
    std::vector<int32_t> packed_bias(static_cast<size_t>(p.out_c));
    conv2d_int8_pack(p, w.data(), bias.data(), packed.data(), packed_bias.data());
    p.weights = packed.data();
    p.bias = packed_bias.data();
    p.multipliers = mult.data();
    std::ostringstream what;
    what << "conv kind " << kind << " " << p.in_h << "x" << p.in_w << "x" << p.in_c << " -> " << p.out_c << " k"
         << p.kernel_h << "x" << p.kernel_w << " s" << p.stride_h << " g" << p.groups;
    expect_same_on_every_path(
        [&] {
          std::vector<uint8_t> scratch(conv2d_int8_scratch_bytes(p));
          std::vector<int8_t> y(size_t(p.batch) * p.out_h * p.out_w * p.out_c);
          conv2d_int8_nhwc(p, x.data(), y.data(), scratch.data());
          return y;
        },
        what.str());
  }
}

// Shapes the AMX tiles take (cpu_isa.h kernel_amx()): kernel_w * in_c a multiple of 64, stride 1
// (rows over the padded width, the extra ones dropped) and stride 2 (row by row), odd panel
// counts and column tails, row counts off the 32-row blocks.
TEST(Int8Isa, ConvAmxShapesMatchScalar) {
  std::mt19937 rng(16);
  std::uniform_int_distribution<int32_t> dz(-128, 127);
  struct Shape {
    int32_t hw, c, oc, k, s, pad;
  };
  const Shape shapes[] = {{9, 64, 64, 3, 1, 1},  {7, 64, 40, 3, 1, 1},   {12, 16, 48, 4, 1, 0}, {11, 128, 17, 3, 2, 1},
                          {6, 64, 96, 1, 2, 0},  {14, 32, 64, 2, 1, 0},  {5, 64, 16, 3, 1, 0},  {33, 64, 32, 3, 1, 1},
                          {8, 192, 80, 1, 2, 0}, {10, 64, 33, 3, 2, 1}};
  for (const Shape& sh : shapes) {
    Conv2DInt8Params p;
    p.batch = sh.hw % 2 + 1;
    p.in_h = sh.hw;
    p.in_w = sh.hw + 3;
    p.in_c = sh.c;
    p.out_c = sh.oc;
    p.kernel_h = p.kernel_w = sh.k;
    p.stride_h = p.stride_w = sh.s;
    p.pad_top = p.pad_left = sh.pad;
    p.out_h = (p.in_h + 2 * sh.pad - sh.k) / sh.s + 1;
    p.out_w = (p.in_w + 2 * sh.pad - sh.k) / sh.s + 1;
    p.input_zero_point = dz(rng);
    p.output_zero_point = dz(rng);
    p.qmin = sh.oc % 2 ? -128 : -20;
    conv2d_int8_choose_path(&p);
    const std::vector<int8_t> w = random_int8(rng, size_t(p.out_c) * p.in_c * p.kernel_h * p.kernel_w);
    const std::vector<int8_t> x = random_int8(rng, size_t(p.batch) * p.in_h * p.in_w * p.in_c);
    const std::vector<int32_t> bias = random_bias(rng, p.out_c);
    const std::vector<FixedMultiplier> mult = random_multipliers(rng, p.out_c, 1e-5, 0.002);
    std::vector<int16_t> packed(conv2d_int8_packed_weights_size(p));
    std::vector<int32_t> packed_bias(static_cast<size_t>(p.out_c));
    conv2d_int8_pack(p, w.data(), bias.data(), packed.data(), packed_bias.data());
    p.weights = packed.data();
    p.bias = packed_bias.data();
    p.multipliers = mult.data();
    std::ostringstream what;
    what << "conv " << p.in_h << "x" << p.in_w << "x" << p.in_c << " -> " << p.out_c << " k" << p.kernel_h << " s"
         << p.stride_h;
    expect_same_on_every_path(
        [&] {
          std::vector<uint8_t> scratch(conv2d_int8_scratch_bytes(p));
          std::vector<int8_t> y(size_t(p.batch) * p.out_h * p.out_w * p.out_c);
          conv2d_int8_nhwc(p, x.data(), y.data(), scratch.data());
          return y;
        },
        what.str());
  }
}

TEST(Int8Isa, BatchMatMulMatchesScalar) {
  std::mt19937 rng(13);
  std::uniform_int_distribution<int32_t> dd(1, 70), dz(-128, 127);
  for (int iter = 0; iter < 30; ++iter) {
    BatchMatMulInt8Params p;
    p.batch = 1 + iter % 3;
    p.m = dd(rng);
    p.k = dd(rng);
    p.n = dd(rng);
    p.a_batch_stride = iter % 4 == 1 ? 0 : int64_t(p.m) * p.k;
    p.b_batch_stride = iter % 4 == 2 ? 0 : int64_t(p.k) * p.n;
    p.a_zero_point = dz(rng);
    p.b_zero_point = dz(rng);
    p.output_zero_point = dz(rng);
    ASSERT_TRUE(quantize_multiplier(0.0004 + 0.0001 * iter, &p.multiplier));
    const std::vector<int8_t> a = random_int8(rng, size_t(p.batch) * p.m * p.k);
    const std::vector<int8_t> b = random_int8(rng, size_t(p.batch) * p.k * p.n);
    std::ostringstream what;
    what << "batch_matmul " << p.batch << "x" << p.m << "x" << p.k << "x" << p.n;
    expect_same_on_every_path(
        [&] {
          std::vector<uint64_t> scratch(batch_matmul_int8_scratch_bytes(p) / 8 + 1);
          std::vector<int8_t> y(size_t(p.batch) * p.m * p.n);
          batch_matmul_int8(p, a.data(), b.data(), y.data(), scratch.data());
          return y;
        },
        what.str());
  }
}

TEST(Int8Isa, QuantizeLinearMatchesScalar) {
  std::mt19937 rng(15);
  std::uniform_real_distribution<float> dv(-300, 300);
  for (int iter = 0; iter < 20; ++iter) {
    const int64_t n = 1 + iter * 7;
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = dv(rng);
    x[0] = std::nanf("");
    if (n > 3) {
      x[1] = INFINITY;
      x[2] = -INFINITY;
      x[3] = 2.5f * 0.125f;  // a tie at scale 0.125
    }
    const float scale = iter % 2 ? 0.125f : 1.7f;
    const int32_t zp = iter % 3 - 1;
    QuantizeParams qp;
    qp.scales = &scale;
    qp.zero_points = &zp;
    qp.inner = n;
    expect_same_on_every_path(
        [&] {
          std::vector<int8_t> y(static_cast<size_t>(n));
          quantize_linear<int8_t>(qp, x.data(), y.data());
          return y;
        },
        "quantize_linear");
  }
}

TEST(Int8Isa, AddSubMatchesScalar) {
  std::mt19937 rng(14);
  std::uniform_int_distribution<int32_t> dz(-128, 127), dn(1, 200);
  std::uniform_real_distribution<double> ds(0.001, 0.5);
  for (int iter = 0; iter < 60; ++iter) {
    BinaryInt8Params p;
    const bool sub = iter % 2 == 1;
    ASSERT_TRUE(prepare_binary_int8(sub ? BinaryInt8Op::Sub : BinaryInt8Op::Add, ds(rng), dz(rng), ds(rng), dz(rng),
                                    ds(rng), dz(rng), iter % 3 == 0 ? -90 : -128, iter % 3 == 0 ? 100 : 127, &p));
    const int64_t n = dn(rng);
    const int64_t dims[2] = {3, n};
    BroadcastParams bp;
    ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(dims, 2), Span<const int64_t>(dims, 2), &bp));
    const std::vector<int8_t> a = random_int8(rng, size_t(3 * n)), b = random_int8(rng, size_t(3 * n));
    expect_same_on_every_path(
        [&] {
          std::vector<int8_t> y(size_t(3 * n));
          binary_int8(p, bp, a.data(), b.data(), y.data());
          return y;
        },
        sub ? "sub" : "add");
  }
}

}  // namespace
}  // namespace neutron

// The float GEMM and depthwise conv per path (kernels/f32_simd_impl.h): the summation order per
// element is the same on every path; the AVX2 and AVX-512 builds contract products into FMAs, so
// they agree with each other exactly and with the baseline build within rounding.
#include "kernels/conv2d_f32.h"
#include "kernels/gemm_f32.h"

namespace neutron {
namespace {

template <typename F>
void expect_same_floats_on_every_path(F&& f, double tol, const std::string& what) {
  IsaGuard guard;
  ASSERT_TRUE(set_kernel_isa(KernelIsa::kScalar));
  const std::vector<float> ref = f();
  std::vector<float> first_vector;
  for (KernelIsa isa : kVectorIsas) {
    if (!set_kernel_isa(isa)) continue;
    const std::vector<float> got = f();
    ASSERT_EQ(got.size(), ref.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - ref[i])));
    EXPECT_LE(worst, tol) << what << ": " << kernel_isa_name(isa) << " vs the baseline path";
    if (first_vector.empty()) {
      first_vector = got;
    } else {
      EXPECT_EQ(std::memcmp(got.data(), first_vector.data(), got.size() * sizeof(float)), 0)
          << what << ": avx512 and avx2 differ";
    }
  }
}

TEST(F32Isa, GemmMatchesBaseline) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int64_t> dm(1, 140), dn(1, 70), dk(1, 300);
  std::uniform_real_distribution<float> dv(-1, 1);
  for (int iter = 0; iter < 40; ++iter) {
    const int64_t M = dm(rng), N = dn(rng), K = dk(rng);
    std::vector<float> a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N)), bias(static_cast<size_t>(N));
    for (auto& v : a) v = dv(rng);
    for (auto& v : b) v = dv(rng);
    for (auto& v : bias) v = dv(rng);
    std::vector<float> packed(gemm_f32_packed_b_floats(K, N));
    gemm_f32_pack_b(b.data(), N, false, K, N, 1.0f, packed.data());
    GemmF32Epilogue ep;
    ep.bias = bias.data();
    if (iter % 2) {
      ep.min = -0.5f;
      ep.max = 2.0f;
    }
    expect_same_floats_on_every_path(
        [&] {
          std::vector<float> c(size_t(M * N));
          gemm_f32(M, N, K, a.data(), K, packed.data(), c.data(), N, ep);
          return c;
        },
        1e-6 * double(K) + 1e-6, "gemm_f32");
  }
}

TEST(F32Isa, DepthwiseMatchesBaseline) {
  std::mt19937 rng(22);
  std::uniform_real_distribution<float> dv(-1, 1);
  for (int iter = 0; iter < 20; ++iter) {
    Conv2DF32Params p;
    p.in_h = 3 + iter % 9;
    p.in_w = 4 + iter % 7;
    p.in_c = p.out_c = p.groups = 1 + 13 * (iter % 5) + iter;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = 1 + iter % 2;
    p.pad_top = p.pad_left = 1;
    p.out_h = (p.in_h + 2 - 3) / p.stride_h + 1;
    p.out_w = (p.in_w + 2 - 3) / p.stride_w + 1;
    ASSERT_EQ(conv2d_f32_prepare(&p), Error::Ok);
    std::vector<float> w(size_t(p.out_c * 9)), x(size_t(p.in_h * p.in_w * p.in_c)), bias(static_cast<size_t>(p.out_c));
    for (auto& v : w) v = dv(rng);
    for (auto& v : x) v = dv(rng);
    for (auto& v : bias) v = dv(rng);
    std::vector<float> packed(conv2d_f32_packed_weights_floats(p));
    conv2d_f32_pack_weights(p, w.data(), packed.data());
    expect_same_floats_on_every_path(
        [&] {
          std::vector<float> y(size_t(p.out_h * p.out_w * p.out_c));
          std::vector<float> scratch(conv2d_f32_scratch_bytes(p) / sizeof(float) + 1);
          conv2d_f32(p, x.data(), packed.data(), bias.data(), y.data(), scratch.data());
          return y;
        },
        1e-5, "depthwise f32");
  }
}

}  // namespace
}  // namespace neutron
