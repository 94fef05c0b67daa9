// float32 pools (NHWC) against naive double-precision references over random geometries
// (odd sizes, channels not multiple of 8, every padding combination, strides, dilations,
// ceil-mode output sizes, count_include_pad), plus hand-checked cases from the ONNX examples.
//
// Max pooling is exact; averages: |y - ref| <= 1e-6 * max|x| + 1e-6.
#include "kernels/pool_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include "kernels/cpu_isa.h"

namespace neutron {
namespace {

std::string str(const Pool2DParams& p) {
  std::ostringstream os;
  os << "n" << p.batch << " h" << p.in_h << " w" << p.in_w << " c" << p.channels << " out" << p.out_h << "x" << p.out_w
     << " k" << p.kernel_h << "x" << p.kernel_w << " s" << p.stride_h << "x" << p.stride_w << " d" << p.dilation_h << "x"
     << p.dilation_w << " pads(" << p.pad_top << "," << p.pad_left << "," << p.pad_bottom << "," << p.pad_right << ")"
     << (p.count_include_pad ? " count_include_pad" : "");
  return os.str();
}

// ONNX output size, floor or ceil mode (the last window must start inside the input or left pad).
int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil_mode) {
  const int64_t span = in + pb + pe - ((k - 1) * d + 1);
  if (span < 0) return 0;
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (o - 1) * s >= in + pb) --o;
  return o;
}

// Reference: walk every window position; positions in the image count as data, positions in the
// padded image (but not past pad_bottom/pad_right) count towards count_include_pad.
void reference(const Pool2DParams& p, const std::vector<float>& x, bool is_max, std::vector<double>* y) {
  y->assign(size_t(p.batch * p.out_h * p.out_w * p.channels), 0.0);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        for (int64_t c = 0; c < p.channels; ++c) {
          double mx = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t in_image = 0, in_padded = 0;
          for (int64_t kh = 0; kh < p.kernel_h; ++kh)
            for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
              const int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
              const int64_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
              if (ih >= -p.pad_top && ih < p.in_h + p.pad_bottom && iw >= -p.pad_left && iw < p.in_w + p.pad_right)
                ++in_padded;
              if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;
              const double v = x[size_t(((n * p.in_h + ih) * p.in_w + iw) * p.channels + c)];
              mx = std::max(mx, v);
              sum += v;
              ++in_image;
            }
          (*y)[size_t(((n * p.out_h + oh) * p.out_w + ow) * p.channels + c)] =
              is_max ? mx : sum / double(p.count_include_pad ? in_padded : in_image);
        }
}

void run_case(const Pool2DParams& p, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": " + str(p));
  ASSERT_EQ(pool2d_prepare(p), Error::Ok);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> x(size_t(p.batch * p.in_h * p.in_w * p.channels));
  for (auto& v : x) v = dist(rng);
  const size_t out_size = size_t(p.batch * p.out_h * p.out_w * p.channels);
  std::vector<double> ref;

  std::vector<float> y(out_size, std::nanf(""));
  maxpool2d_nhwc<float>(p, x.data(), y.data());
  reference(p, x, true, &ref);
  for (size_t i = 0; i < out_size; ++i) ASSERT_EQ(y[i], float(ref[i])) << "max at " << i;

  y.assign(out_size, std::nanf(""));
  avgpool2d_nhwc_f32(p, x.data(), y.data());
  reference(p, x, false, &ref);
  for (size_t i = 0; i < out_size; ++i) {
    if (std::isnan(ref[i])) {  // a dilated window entirely in the padding: 0 / 0 as in the ONNX reference
      ASSERT_TRUE(std::isnan(y[i])) << "average at " << i;
      continue;
    }
    ASSERT_NEAR(y[i], ref[i], 2e-6 + 1e-6 * std::fabs(ref[i])) << "average at " << i;
  }
}

TEST(PoolF32, HandCheckedOnnxExamples) {
  // ONNX averagepool_2d_precomputed_pads(_count_include_pad), maxpool_2d_precomputed_pads:
  // 1x1x5x5 input 1..25, kernel 5, pads 2.
  std::vector<float> x(25);
  for (int i = 0; i < 25; ++i) x[size_t(i)] = float(i + 1);
  Pool2DParams p;
  p.in_h = p.in_w = 5;
  p.channels = 1;
  p.kernel_h = p.kernel_w = 5;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 2;
  p.out_h = p.out_w = 5;
  std::vector<float> y(25);
  avgpool2d_nhwc_f32(p, x.data(), y.data());
  for (int i = 0; i < 25; ++i) EXPECT_FLOAT_EQ(y[size_t(i)], 7.0f + 0.5f * float(i)) << i;
  p.count_include_pad = true;
  avgpool2d_nhwc_f32(p, x.data(), y.data());
  const float with_pad[] = {2.52f, 3.6f, 4.8f,  4.08f, 3.24f, 4.56f, 6.4f, 8.4f,  7.04f, 5.52f, 7.2f,  10.0f, 13.0f,
                            10.8f, 8.4f, 6.96f, 9.6f,  12.4f, 10.24f, 7.92f, 6.12f, 8.4f, 10.8f, 8.88f, 6.84f};
  for (int i = 0; i < 25; ++i) EXPECT_FLOAT_EQ(y[size_t(i)], with_pad[i]) << i;
  maxpool2d_nhwc<float>(p, x.data(), y.data());
  const float expected[] = {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25,
                            23, 24, 25, 25, 25, 23, 24, 25, 25, 25};
  for (int i = 0; i < 25; ++i) EXPECT_EQ(y[size_t(i)], expected[i]) << i;

  // ONNX maxpool_2d_dilations: 4x4 input 1..16, kernel 2, dilation 2 -> [11 12; 15 16].
  Pool2DParams d;
  d.in_h = d.in_w = 4;
  d.channels = 1;
  d.kernel_h = d.kernel_w = 2;
  d.dilation_h = d.dilation_w = 2;
  d.out_h = d.out_w = 2;
  maxpool2d_nhwc<float>(d, x.data(), y.data());
  EXPECT_EQ(y[0], 11.0f);
  EXPECT_EQ(y[1], 12.0f);
  EXPECT_EQ(y[2], 15.0f);
  EXPECT_EQ(y[3], 16.0f);
}

TEST(PoolF32, HandCheckedCeilMode) {
  // ONNX averagepool_2d_ceil / maxpool_2d_ceil: 4x4 input 1..16, kernel 3, stride 2, ceil_mode.
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[size_t(i)] = float(i + 1);
  Pool2DParams p;
  p.in_h = p.in_w = 4;
  p.channels = 1;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.out_h = p.out_w = out_len(4, 3, 2, 1, 0, 0, true);
  ASSERT_EQ(p.out_h, 2);
  float y[4];
  avgpool2d_nhwc_f32(p, x.data(), y);
  EXPECT_FLOAT_EQ(y[0], 6.0f);
  EXPECT_FLOAT_EQ(y[1], 7.5f);
  EXPECT_FLOAT_EQ(y[2], 12.0f);
  EXPECT_FLOAT_EQ(y[3], 13.5f);
  maxpool2d_nhwc<float>(p, x.data(), y);
  EXPECT_EQ(y[0], 11.0f);
  EXPECT_EQ(y[1], 12.0f);
  EXPECT_EQ(y[2], 15.0f);
  EXPECT_EQ(y[3], 16.0f);
}

TEST(PoolF32, EveryPaddingCombination) {
  uint32_t seed = 300;
  for (int64_t pt = 0; pt <= 2; ++pt)
    for (int64_t pl = 0; pl <= 2; ++pl)
      for (int64_t pb = 0; pb <= 2; ++pb)
        for (int64_t pr = 0; pr <= 2; ++pr)
          for (bool cip : {false, true}) {
            Pool2DParams p;
            p.in_h = 5;
            p.in_w = 6;
            p.channels = 3;
            p.kernel_h = p.kernel_w = 3;
            p.stride_h = 2;
            p.pad_top = pt;
            p.pad_left = pl;
            p.pad_bottom = pb;
            p.pad_right = pr;
            p.count_include_pad = cip;
            p.out_h = out_len(p.in_h, 3, 2, 1, pt, pb, seed % 2);
            p.out_w = out_len(p.in_w, 3, 1, 1, pl, pr, seed % 2);
            run_case(p, seed++);
            if (HasFatalFailure()) return;
          }
}

TEST(PoolF32, RandomGeometries) {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    Pool2DParams p;
    p.batch = pick(1, 2);
    p.in_h = pick(1, 13);
    p.in_w = pick(1, 13);
    p.channels = pick(1, 37);
    p.kernel_h = pick(1, 4);
    p.kernel_w = pick(1, 4);
    p.stride_h = pick(1, 3);
    p.stride_w = pick(1, 3);
    const bool dilated = pick(0, 2) == 0;
    p.dilation_h = dilated ? pick(1, 3) : 1;
    p.dilation_w = dilated ? pick(1, 3) : 1;
    // ONNX requires pads smaller than the kernel (a window is never entirely padding).
    p.pad_top = pick(0, p.kernel_h - 1);
    p.pad_bottom = pick(0, p.kernel_h - 1);
    p.pad_left = pick(0, p.kernel_w - 1);
    p.pad_right = pick(0, p.kernel_w - 1);
    p.count_include_pad = pick(0, 1);
    const bool ceil_mode = pick(0, 1);
    p.out_h = out_len(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom, ceil_mode);
    p.out_w = out_len(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right, ceil_mode);
    if (p.out_h < 1 || p.out_w < 1) continue;
    run_case(p, seed);
    if (HasFatalFailure()) return;
  }
}

TEST(PoolF32, Global) {
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::mt19937 rng(seed);
    const int64_t batch = 1 + seed % 2, pixels = 1 + seed * 7 % 53, channels = 1 + seed * 5 % 41;
    SCOPED_TRACE("seed " + std::to_string(seed) + ": batch " + std::to_string(batch) + " pixels " +
                 std::to_string(pixels) + " channels " + std::to_string(channels));
    std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
    std::vector<float> x(size_t(batch * pixels * channels));
    for (auto& v : x) v = dist(rng);
    std::vector<float> ya(size_t(batch * channels)), ym(ya.size());
    global_avgpool_nhwc_f32(batch, pixels, channels, x.data(), ya.data());
    global_maxpool_nhwc<float>(batch, pixels, channels, x.data(), ym.data());
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = 0; c < channels; ++c) {
        double sum = 0, mx = -1e30;
        for (int64_t i = 0; i < pixels; ++i) {
          const double v = x[size_t((n * pixels + i) * channels + c)];
          sum += v;
          mx = std::max(mx, v);
        }
        ASSERT_NEAR(ya[size_t(n * channels + c)], sum / double(pixels), 1e-5);
        ASSERT_EQ(ym[size_t(n * channels + c)], float(mx));
      }
  }
}

TEST(PoolF32, MaxPoolInt8) {
  // The template shared with the int8 kernels: 1x2x2x2, kernel 2 -> per-channel max.
  const int8_t x[] = {-128, 5, 7, -3, 127, 0, -1, 100};
  int8_t y[2];
  Pool2DParams p;
  p.in_h = p.in_w = 2;
  p.channels = 2;
  p.kernel_h = p.kernel_w = 2;
  p.out_h = p.out_w = 1;
  maxpool2d_nhwc<int8_t>(p, x, y);
  EXPECT_EQ(y[0], 127);
  EXPECT_EQ(y[1], 100);
}

// The vectorized float max pool on every ISA path against the scalar comparisons written out
// (m < v ? v : m from -inf), bit for bit, with NaN and signed-zero taps and channel counts that
// leave every block and vector tail.
TEST(PoolF32, MaxPoolEveryIsaMatchesScalar) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (!set_kernel_isa(isa)) continue;
    for (int64_t C : {1, 3, 4, 5, 16, 17, 63, 64, 65, 80, 130}) {
      Pool2DParams p;
      p.batch = 2;
      p.in_h = 7;
      p.in_w = 6;
      p.channels = C;
      p.kernel_h = p.kernel_w = 3;
      p.stride_h = p.stride_w = 2;
      p.pad_top = p.pad_left = 1;
      p.pad_bottom = p.pad_right = 1;
      p.out_h = 4;
      p.out_w = 3;
      ASSERT_EQ(pool2d_prepare(p), Error::Ok);
      std::vector<float> x(size_t(p.batch * p.in_h * p.in_w * C));
      for (size_t i = 0; i < x.size(); ++i) x[i] = i % 13 == 5 ? NAN : i % 9 == 2 ? -0.0f : i % 9 == 3 ? 0.0f : dist(rng);
      std::vector<float> got(size_t(p.batch * p.out_h * p.out_w * C)), want(got.size());
      maxpool2d_nhwc<float>(p, x.data(), got.data());
      for (int64_t n = 0; n < p.batch; ++n)
        for (int64_t oh = 0; oh < p.out_h; ++oh)
          for (int64_t ow = 0; ow < p.out_w; ++ow)
            for (int64_t c = 0; c < C; ++c) {
              float m = -INFINITY;
              for (int64_t kh = 0; kh < p.kernel_h; ++kh)
                for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
                  const int64_t ih = oh * p.stride_h - p.pad_top + kh, iw = ow * p.stride_w - p.pad_left + kw;
                  if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;
                  const float t = x[size_t(((n * p.in_h + ih) * p.in_w + iw) * C + c)];
                  m = m < t ? t : m;
                }
              want[size_t(((n * p.out_h + oh) * p.out_w + ow) * C + c)] = m;
            }
      EXPECT_EQ(std::memcmp(got.data(), want.data(), sizeof(float) * got.size()), 0)
          << kernel_isa_name(isa) << " C=" << C;
    }
  }
  reset_kernel_isa();
}

}  // namespace
}  // namespace neutron
