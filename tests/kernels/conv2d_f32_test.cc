// float32 Conv2D and ConvTranspose2D (NHWC) against naive double-precision references written
// from the ONNX definitions, over random geometries: sizes 1, primes and odd sizes, channel
// counts not multiple of 8, every padding combination, strides, dilations, groups, depthwise and
// depthwise with a multiplier, clamps; plus a few hand-checked cases.
//
// Tolerance: |y - ref| <= 1e-5 * (sum of |terms|) + 1e-6 per output element.
#include "kernels/conv2d_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <vector>

namespace neutron {
namespace {

struct ConvCase {
  int64_t n = 1, h = 1, w = 1, cin = 1, cout = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0, groups = 1;
  int64_t oph = 0, opw = 0;  // ConvTranspose output_padding
  bool bias = true, clamp = false;
  std::string str() const {
    std::ostringstream os;
    os << "n" << n << " h" << h << " w" << w << " cin" << cin << " cout" << cout << " k" << kh << "x" << kw << " s"
       << sh << "x" << sw << " d" << dh << "x" << dw << " pads(" << pt << "," << pl << "," << pb << "," << pr
       << ") groups" << groups << " output_padding(" << oph << "," << opw << ")" << (bias ? "" : " nobias")
       << (clamp ? " clamp" : "");
    return os.str();
  }
  int64_t conv_oh() const { return (h + pt + pb - dh * (kh - 1) - 1) / sh + 1; }
  int64_t conv_ow() const { return (w + pl + pr - dw * (kw - 1) - 1) / sw + 1; }
  int64_t convt_oh() const { return (h - 1) * sh + (kh - 1) * dh + 1 - pt - pb + oph; }
  int64_t convt_ow() const { return (w - 1) * sw + (kw - 1) * dw + 1 - pl - pr + opw; }
};

constexpr float kClampLo = -0.3f, kClampHi = 0.4f;

std::vector<float> random_vector(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& ref, const std::vector<double>& mag,
                  bool clamp) {
  ASSERT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    const double r = clamp ? std::min(std::max(ref[i], double(kClampLo)), double(kClampHi)) : ref[i];
    ASSERT_NEAR(got[i], r, 1e-5 * mag[i] + 1e-6) << "at flat NHWC index " << i;
  }
}

// y[n, oh, ow, oc] = b[oc] + sum x[n, ih, iw, g*cin_g + ci] * w[oc, ci, kh, kw] (ONNX Conv, NHWC data).
void run_conv(const ConvCase& c, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": Conv " + c.str());
  std::mt19937 rng(seed);
  const int64_t oh = c.conv_oh(), ow = c.conv_ow(), cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  ASSERT_GE(oh, 1);
  ASSERT_GE(ow, 1);
  const auto x = random_vector(rng, size_t(c.n * c.h * c.w * c.cin));
  const auto w = random_vector(rng, size_t(c.cout * cin_g * c.kh * c.kw));
  const auto b = random_vector(rng, size_t(c.cout));

  std::vector<double> ref(size_t(c.n * oh * ow * c.cout)), mag(ref.size());
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t oc = 0; oc < c.cout; ++oc) {
          const int64_t g = oc / cout_g;
          double acc = c.bias ? b[size_t(oc)] : 0.0, m = std::fabs(acc);
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ky = 0; ky < c.kh; ++ky)
              for (int64_t kx = 0; kx < c.kw; ++kx) {
                const int64_t iy = y * c.sh - c.pt + ky * c.dh, ix = xo * c.sw - c.pl + kx * c.dw;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                const double t = double(x[size_t(((n * c.h + iy) * c.w + ix) * c.cin + g * cin_g + ci)]) *
                                 double(w[size_t(((oc * cin_g + ci) * c.kh + ky) * c.kw + kx)]);
                acc += t;
                m += std::fabs(t);
              }
          const size_t i = size_t(((n * oh + y) * ow + xo) * c.cout + oc);
          ref[i] = acc;
          mag[i] = m;
        }

  Conv2DF32Params p;
  p.batch = c.n;
  p.in_h = c.h;
  p.in_w = c.w;
  p.in_c = c.cin;
  p.out_h = oh;
  p.out_w = ow;
  p.out_c = c.cout;
  p.kernel_h = c.kh;
  p.kernel_w = c.kw;
  p.stride_h = c.sh;
  p.stride_w = c.sw;
  p.dilation_h = c.dh;
  p.dilation_w = c.dw;
  p.pad_top = c.pt;
  p.pad_left = c.pl;
  p.groups = c.groups;
  if (c.clamp) {
    p.act_min = kClampLo;
    p.act_max = kClampHi;
  }
  ASSERT_EQ(conv2d_f32_prepare(&p), Error::Ok);
  std::vector<float> packed(conv2d_f32_packed_weights_floats(p));
  conv2d_f32_pack_weights(p, w.data(), packed.data());
  std::vector<float> scratch(conv2d_f32_scratch_bytes(p) / sizeof(float) + 1);
  std::vector<float> y(ref.size(), std::nanf(""));
  conv2d_f32(p, x.data(), packed.data(), c.bias ? b.data() : nullptr, y.data(), scratch.data());
  expect_close(y, ref, mag, c.clamp);
}

// y[n, ih*sh - pt + kh*dh, iw*sw - pl + kw*dw, g*cout_g + co] += x[n, ih, iw, g*cin_g + ci] * w[g*cin_g + ci, co, kh, kw]
void run_conv_transpose(const ConvCase& c, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": ConvTranspose " + c.str());
  std::mt19937 rng(seed);
  const int64_t oh = c.convt_oh(), ow = c.convt_ow(), cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  ASSERT_GE(oh, 1);
  ASSERT_GE(ow, 1);
  const auto x = random_vector(rng, size_t(c.n * c.h * c.w * c.cin));
  const auto w = random_vector(rng, size_t(c.cin * cout_g * c.kh * c.kw));
  const auto b = random_vector(rng, size_t(c.cout));

  std::vector<double> ref(size_t(c.n * oh * ow * c.cout)), mag(ref.size());
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t oc = 0; oc < c.cout; ++oc) {
          const size_t i = size_t(((n * oh + y) * ow + xo) * c.cout + oc);
          ref[i] = c.bias ? b[size_t(oc)] : 0.0;
          mag[i] = std::fabs(ref[i]);
        }
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t iy = 0; iy < c.h; ++iy)
      for (int64_t ix = 0; ix < c.w; ++ix)
        for (int64_t ic = 0; ic < c.cin; ++ic) {
          const int64_t g = ic / cin_g;
          for (int64_t co = 0; co < cout_g; ++co)
            for (int64_t ky = 0; ky < c.kh; ++ky)
              for (int64_t kx = 0; kx < c.kw; ++kx) {
                const int64_t y = iy * c.sh - c.pt + ky * c.dh, xo = ix * c.sw - c.pl + kx * c.dw;
                if (y < 0 || y >= oh || xo < 0 || xo >= ow) continue;
                const double t = double(x[size_t(((n * c.h + iy) * c.w + ix) * c.cin + ic)]) *
                                 double(w[size_t(((ic * cout_g + co) * c.kh + ky) * c.kw + kx)]);
                const size_t i = size_t(((n * oh + y) * ow + xo) * c.cout + g * cout_g + co);
                ref[i] += t;
                mag[i] += std::fabs(t);
              }
        }

  ConvTranspose2DF32Params p;
  p.batch = c.n;
  p.in_h = c.h;
  p.in_w = c.w;
  p.in_c = c.cin;
  p.out_h = oh;
  p.out_w = ow;
  p.out_c = c.cout;
  p.kernel_h = c.kh;
  p.kernel_w = c.kw;
  p.stride_h = c.sh;
  p.stride_w = c.sw;
  p.dilation_h = c.dh;
  p.dilation_w = c.dw;
  p.pad_top = c.pt;
  p.pad_left = c.pl;
  p.groups = c.groups;
  if (c.clamp) {
    p.act_min = kClampLo;
    p.act_max = kClampHi;
  }
  ASSERT_EQ(conv_transpose2d_f32_prepare(&p), Error::Ok);
  std::vector<float> packed(conv_transpose2d_f32_packed_weights_floats(p));
  conv_transpose2d_f32_pack_weights(p, w.data(), packed.data());
  std::vector<float> scratch(conv_transpose2d_f32_scratch_bytes(p) / sizeof(float) + 1);
  std::vector<float> y(ref.size(), std::nanf(""));
  conv_transpose2d_f32(p, x.data(), packed.data(), c.bias ? b.data() : nullptr, y.data(), scratch.data());
  expect_close(y, ref, mag, c.clamp);
}

int64_t pick(std::mt19937& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// A random geometry; kind 0: groups 1, 1: grouped, 2: depthwise, 3: depthwise with multiplier.
ConvCase random_case(std::mt19937& rng, int kind) {
  static const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 11, 13};
  static const int64_t channels[] = {1, 2, 3, 5, 7, 8, 9, 13, 17, 24, 37};
  ConvCase c;
  c.n = pick(rng, 1, 2);
  c.h = sizes[pick(rng, 0, 7)];
  c.w = sizes[pick(rng, 0, 7)];
  c.kh = pick(rng, 1, 4);
  c.kw = pick(rng, 1, 4);
  c.sh = pick(rng, 1, 3);
  c.sw = pick(rng, 1, 3);
  c.dh = pick(rng, 0, 3) == 0 ? pick(rng, 2, 3) : 1;
  c.dw = pick(rng, 0, 3) == 0 ? pick(rng, 2, 3) : 1;
  c.pt = pick(rng, 0, 2);
  c.pl = pick(rng, 0, 2);
  c.pb = pick(rng, 0, 2);
  c.pr = pick(rng, 0, 2);
  const int64_t cg_in = channels[pick(rng, 0, 10)], cg_out = channels[pick(rng, 0, 10)];
  switch (kind) {
    case 0: c.groups = 1; c.cin = cg_in; c.cout = cg_out; break;
    case 1: c.groups = pick(rng, 2, 4); c.cin = c.groups * pick(rng, 1, 5); c.cout = c.groups * pick(rng, 1, 5); break;
    case 2: c.groups = channels[pick(rng, 1, 10)]; c.cin = c.groups; c.cout = c.groups; break;
    default: c.groups = channels[pick(rng, 1, 7)]; c.cin = c.groups; c.cout = c.groups * pick(rng, 2, 3); break;
  }
  c.bias = pick(rng, 0, 3) != 0;
  c.clamp = pick(rng, 0, 4) == 0;
  return c;
}

TEST(Conv2DF32, HandChecked) {
  // 1x3x3x1 input 1..9, 2x2 kernel of ones, pads 0 -> sums of 2x2 windows; bias 0.5.
  Conv2DF32Params p;
  p.in_h = p.in_w = 3;
  p.in_c = p.out_c = 1;
  p.out_h = p.out_w = 2;
  p.kernel_h = p.kernel_w = 2;
  ASSERT_EQ(conv2d_f32_prepare(&p), Error::Ok);
  const float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[] = {1, 1, 1, 1}, b[] = {0.5f};
  std::vector<float> packed(conv2d_f32_packed_weights_floats(p));
  conv2d_f32_pack_weights(p, w, packed.data());
  std::vector<float> scratch(conv2d_f32_scratch_bytes(p) / 4 + 1);
  float y[4];
  conv2d_f32(p, x, packed.data(), b, y, scratch.data());
  EXPECT_EQ(y[0], 12.5f);
  EXPECT_EQ(y[1], 16.5f);
  EXPECT_EQ(y[2], 24.5f);
  EXPECT_EQ(y[3], 28.5f);
}

TEST(Conv2DF32, HandCheckedDepthwisePadded) {
  // 2 channels, 3x3 kernel of ones, pad 1: the centre pixel sums everything, a corner sums 2x2.
  Conv2DF32Params p;
  p.in_h = p.in_w = 2;
  p.in_c = p.out_c = p.groups = 2;
  p.out_h = p.out_w = 2;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = 1;
  ASSERT_EQ(conv2d_f32_prepare(&p), Error::Ok);
  EXPECT_EQ(p.algo, Conv2DAlgo::kDepthwise);
  const float x[] = {1, 10, 2, 20, 3, 30, 4, 40};  // NHWC: channel 0 = 1..4, channel 1 = 10..40
  std::vector<float> w(18, 1.0f);
  std::vector<float> packed(conv2d_f32_packed_weights_floats(p));
  conv2d_f32_pack_weights(p, w.data(), packed.data());
  float y[8];
  conv2d_f32(p, x, packed.data(), nullptr, y, nullptr);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(y[2 * i], 10.0f);
    EXPECT_EQ(y[2 * i + 1], 100.0f);
  }
}

TEST(Conv2DF32, AlgorithmChoice) {
  Conv2DF32Params p;
  p.in_h = p.in_w = p.out_h = p.out_w = 5;
  p.in_c = 8;
  p.out_c = 4;
  ASSERT_EQ(conv2d_f32_prepare(&p), Error::Ok);
  EXPECT_EQ(p.algo, Conv2DAlgo::kGemmDirect);
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = 1;
  ASSERT_EQ(conv2d_f32_prepare(&p), Error::Ok);
  EXPECT_EQ(p.algo, Conv2DAlgo::kIm2colGemm);
  p.groups = 3;  // 8 channels are not divisible by 3
  EXPECT_EQ(conv2d_f32_prepare(&p), Error::InvalidArgument);
}

TEST(Conv2DF32, EveryPaddingCombination) {
  uint32_t seed = 5000;
  for (int64_t pt = 0; pt <= 2; ++pt)
    for (int64_t pl = 0; pl <= 2; ++pl)
      for (int64_t pb = 0; pb <= 2; ++pb)
        for (int64_t pr = 0; pr <= 2; ++pr)
          for (int64_t groups : {int64_t(1), int64_t(5)}) {
            ConvCase c;
            c.h = 5;
            c.w = 4;
            c.kh = c.kw = 3;
            c.cin = 5;
            c.cout = groups == 1 ? 6 : 5;
            c.groups = groups;
            c.pt = pt;
            c.pl = pl;
            c.pb = pb;
            c.pr = pr;
            run_conv(c, seed++);
            if (HasFatalFailure()) return;
          }
}

TEST(Conv2DF32, RandomGeometries) {
  int ran = 0;
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    std::mt19937 rng(seed);
    ConvCase c = random_case(rng, int(seed % 4));
    if (c.conv_oh() < 1 || c.conv_ow() < 1) continue;
    run_conv(c, seed);
    if (HasFatalFailure()) return;
    ++ran;
  }
  EXPECT_GT(ran, 250);
}

TEST(Conv2DF32, LargeEnoughToBlock) {
  // More output pixels than an M block, K deeper than a K block, Cout not a multiple of the
  // panel width; depthwise with channel tails; a 1x1 direct GEMM; ResNet-like stem.
  std::vector<ConvCase> cases(6);
  cases[0].h = cases[0].w = 17;
  cases[0].cin = 43;
  cases[0].cout = 37;
  cases[0].kh = cases[0].kw = 3;
  cases[0].pt = cases[0].pl = cases[0].pb = cases[0].pr = 1;
  cases[1] = cases[0];
  cases[1].cin = cases[1].cout = cases[1].groups = 53;
  cases[1].sh = cases[1].sw = 2;
  cases[2].h = 19;
  cases[2].w = 23;
  cases[2].cin = 70;
  cases[2].cout = 33;
  cases[3] = cases[2];
  cases[3].groups = 2;
  cases[3].cin = 70;
  cases[3].cout = 34;
  cases[4].h = cases[4].w = 24;
  cases[4].cin = 3;
  cases[4].cout = 16;
  cases[4].kh = cases[4].kw = 7;
  cases[4].sh = cases[4].sw = 2;
  cases[4].pt = cases[4].pl = cases[4].pb = cases[4].pr = 3;
  cases[5] = cases[2];
  cases[5].n = 2;
  cases[5].sh = 2;
  cases[5].clamp = true;
  // K blocks of the implicit im2col (gemm_f32_filled) that split taps: grouped and dilated (tap by
  // tap), and dilated in height only (kh rows of adjacent taps).
  cases.push_back(cases[0]);
  cases[6].groups = 2;
  cases[6].cin = 2 * 61;
  cases[6].cout = 2 * 20;
  cases[6].dh = cases[6].dw = 2;
  cases[6].pt = cases[6].pl = 2;
  cases.push_back(cases[0]);
  cases[7].cin = 97;
  cases[7].dh = 3;
  cases[7].pb = 3;
  cases[7].kw = 4;
  // The implicit GEMM (stride 1, one group, wide rows): padded, with asymmetric padding and a
  // fused clamp; dilated in height; unpadded (read in place); two images; K over one block.
  ConvCase wide;
  wide.h = 9;
  wide.w = 30;
  wide.cin = 37;
  wide.cout = 45;
  wide.kh = wide.kw = 3;
  wide.pt = wide.pl = wide.pb = wide.pr = 1;
  cases.push_back(wide);
  wide.pb = 2;
  wide.pr = 0;
  wide.pl = 2;
  wide.clamp = true;
  cases.push_back(wide);
  wide = cases[8];
  wide.dh = 2;
  wide.kw = 2;
  wide.h = 11;
  cases.push_back(wide);
  wide = cases[8];
  wide.pt = wide.pl = wide.pb = wide.pr = 0;
  wide.n = 2;
  wide.bias = false;
  cases.push_back(wide);
  wide.cin = 100;
  wide.cout = 16;
  wide.n = 1;
  wide.pt = 2;
  cases.push_back(wide);
  // im2col blocks (gemm_f32_filled) packed for the register tiles: N of 5+ panels, K of 3 blocks.
  wide = ConvCase();
  wide.h = wide.w = 9;
  wide.cin = 70;
  wide.cout = 90;
  wide.kh = wide.kw = 3;
  wide.pt = wide.pl = wide.pb = wide.pr = 1;
  cases.push_back(wide);
  for (size_t i = 0; i < cases.size(); ++i) {
    run_conv(cases[i], uint32_t(7000 + i));
    if (HasFatalFailure()) return;
  }
}

TEST(ConvTranspose2DF32, HandChecked) {
  // 1x2x2x1 input [1 2; 3 4], 2x2 kernel of ones, stride 2: each input pixel becomes a 2x2 block.
  ConvTranspose2DF32Params p;
  p.in_h = p.in_w = 2;
  p.in_c = p.out_c = 1;
  p.out_h = p.out_w = 4;
  p.kernel_h = p.kernel_w = 2;
  p.stride_h = p.stride_w = 2;
  ASSERT_EQ(conv_transpose2d_f32_prepare(&p), Error::Ok);
  const float x[] = {1, 2, 3, 4}, w[] = {1, 1, 1, 1};
  std::vector<float> packed(conv_transpose2d_f32_packed_weights_floats(p));
  conv_transpose2d_f32_pack_weights(p, w, packed.data());
  std::vector<float> scratch(conv_transpose2d_f32_scratch_bytes(p) / 4 + 1);
  float y[16];
  conv_transpose2d_f32(p, x, packed.data(), nullptr, y, scratch.data());
  const float expected[] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(y[i], expected[i]) << i;
}

TEST(ConvTranspose2DF32, RandomGeometries) {
  int ran = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed + 100000);
    ConvCase c = random_case(rng, int(seed % 4));
    // output_padding must be smaller than the stride or the dilation (ONNX).
    c.oph = pick(rng, 0, std::max(c.sh, c.dh) - 1);
    c.opw = pick(rng, 0, std::max(c.sw, c.dw) - 1);
    if (c.convt_oh() < 1 || c.convt_ow() < 1) continue;
    run_conv_transpose(c, seed);
    if (HasFatalFailure()) return;
    ++ran;
  }
  EXPECT_GT(ran, 250);
}

TEST(ConvTranspose2DF32, LargeEnoughToBlock) {
  ConvCase c;
  c.h = 13;
  c.w = 11;
  c.cin = 40;
  c.cout = 22;
  c.kh = c.kw = 4;
  c.sh = c.sw = 2;
  c.pt = c.pl = c.pb = c.pr = 1;
  c.groups = 2;
  run_conv_transpose(c, 9001);
}

}  // namespace
}  // namespace neutron
