// int8 Conv2D (NHWC) against the exact QDQ evaluation, over random geometries: odd sizes,
// channels not multiple of 8, groups / depthwise (with depth multiplier), dilation, asymmetric
// pads, strides, fused clamp ranges, per-channel weight scales.
#include "kernels/conv_int8.h"

#include <gtest/gtest.h>

#include <sstream>

#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::OutQuant;
using testing::rand_int;

struct ConvCase {
  int n = 1, h = 1, w = 1, cin = 1, cout = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int pt = 0, pl = 0, pb = 0, pr = 0, groups = 1;
  bool clamp = false;
  bool has_bias = true;
  std::string str() const {
    std::ostringstream os;
    os << "n" << n << " h" << h << " w" << w << " cin" << cin << " cout" << cout << " k" << kh << "x" << kw << " s" << sh
       << "x" << sw << " d" << dh << "x" << dw << " pads(" << pt << "," << pl << "," << pb << "," << pr << ") groups"
       << groups << (clamp ? " clamp" : "") << (has_bias ? "" : " nobias");
    return os.str();
  }
  int oh() const { return (h + pt + pb - dh * (kh - 1) - 1) / sh + 1; }
  int ow() const { return (w + pl + pr - dw * (kw - 1) - 1) / sw + 1; }
};

void run_case(const ConvCase& c, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": " + c.str());
  std::mt19937 rng(seed);
  const int oh = c.oh(), ow = c.ow(), cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  ASSERT_GE(oh, 1);
  ASSERT_GE(ow, 1);
  const double sx = testing::rand_log_uniform(rng, 1e-3, 1e-1);
  const int32_t zx = rand_int(rng, -128, 127);
  std::vector<double> sw(static_cast<size_t>(c.cout));
  for (auto& s : sw) s = testing::rand_log_uniform(rng, 1e-3, 3e-2);
  const auto x = testing::random_int8(rng, size_t(c.n * c.h * c.w * c.cin));
  const auto w = testing::random_int8(rng, size_t(c.cout * cin_g * c.kh * c.kw), -127, 127);
  std::vector<int32_t> bias(static_cast<size_t>(c.cout));
  const int bias_range = 40 * c.kh * c.kw * cin_g * 64;
  for (auto& b : bias) b = c.has_bias ? rand_int(rng, -bias_range, bias_range) : 0;

  // Exact QDQ meaning in double, NHWC output.
  std::vector<double> real(static_cast<size_t>(c.n * oh * ow * c.cout));
  for (int b = 0; b < c.n; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int oc = 0; oc < c.cout; ++oc) {
          const int g = oc / cout_g;
          double acc = double(bias[size_t(oc)]) * sx * sw[size_t(oc)];
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = oy * c.sh - c.pt + ky * c.dh, ix = ox * c.sw - c.pl + kx * c.dw;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;  // padding: real 0
              for (int ic = 0; ic < cin_g; ++ic) {
                const double xv = sx * (x[size_t(((b * c.h + iy) * c.w + ix) * c.cin + g * cin_g + ic)] - zx);
                const double wv = sw[size_t(oc)] * w[size_t(((oc * cin_g + ic) * c.kh + ky) * c.kw + kx)];
                acc += xv * wv;
              }
            }
          real[size_t(((b * oh + oy) * ow + ox) * c.cout + oc)] = acc;
        }
  const OutQuant yq = testing::out_quant_for(real);
  int32_t qmin = -128, qmax = 127;
  if (c.clamp) {
    qmin = rand_int(rng, -128, 0);
    qmax = rand_int(rng, qmin, 127);
  }
  const auto expected = testing::quantize_all(real, yq, qmin, qmax);

  Conv2DInt8Params p;
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
  p.input_zero_point = zx;
  p.output_zero_point = yq.zero_point;
  p.qmin = qmin;
  p.qmax = qmax;
  conv2d_int8_choose_path(&p);
  std::vector<int16_t> packed(conv2d_int8_packed_weights_size(p));
  std::vector<int32_t> packed_bias(static_cast<size_t>(c.cout));
  conv2d_int8_pack(p, w.data(), c.has_bias ? bias.data() : nullptr, packed.data(), packed_bias.data());
  std::vector<FixedMultiplier> mult(static_cast<size_t>(c.cout));
  for (int oc = 0; oc < c.cout; ++oc) ASSERT_TRUE(quantize_multiplier(sx * sw[size_t(oc)] / yq.scale, &mult[size_t(oc)]));
  p.weights = packed.data();
  p.bias = packed_bias.data();
  p.multipliers = mult.data();
  std::vector<uint8_t> scratch(conv2d_int8_scratch_bytes(p) + 1);
  std::vector<int8_t> y(real.size());
  conv2d_int8_nhwc(p, x.data(), y.data(), scratch.data());
  EXPECT_TRUE(testing::qdq_close(y, expected, std::string(p.depthwise ? "depthwise" : "general") + " path"));
}

ConvCase random_case(std::mt19937& rng) {
  ConvCase c;
  c.n = rand_int(rng, 1, 2);
  c.kh = rand_int(rng, 1, 5);
  c.kw = rand_int(rng, 1, 5);
  c.sh = rand_int(rng, 1, 3);
  c.sw = rand_int(rng, 1, 3);
  c.dh = rand_int(rng, 1, 2);
  c.dw = rand_int(rng, 1, 2);
  c.pt = rand_int(rng, 0, c.kh - 1);
  c.pb = rand_int(rng, 0, c.kh - 1);
  c.pl = rand_int(rng, 0, c.kw - 1);
  c.pr = rand_int(rng, 0, c.kw - 1);
  const int mode = rand_int(rng, 0, 2);
  if (mode == 0) {  // ordinary
    c.groups = 1;
    c.cin = rand_int(rng, 1, 13);
    c.cout = rand_int(rng, 1, 19);
  } else if (mode == 1) {  // depthwise, depth multiplier 1 or 2
    c.cin = rand_int(rng, 2, 21);
    c.groups = c.cin;
    c.cout = c.cin * rand_int(rng, 1, 2);
  } else {  // grouped
    c.groups = rand_int(rng, 2, 3);
    c.cin = c.groups * rand_int(rng, 1, 5);
    c.cout = c.groups * rand_int(rng, 1, 5);
  }
  const int min_h = c.dh * (c.kh - 1) + 1 - c.pt - c.pb, min_w = c.dw * (c.kw - 1) + 1 - c.pl - c.pr;
  c.h = rand_int(rng, std::max(1, min_h), std::max(1, min_h) + 10);
  c.w = rand_int(rng, std::max(1, min_w), std::max(1, min_w) + 10);
  c.clamp = rand_int(rng, 0, 4) == 0;
  c.has_bias = rand_int(rng, 0, 5) != 0;
  return c;
}

TEST(ConvInt8, RandomGeometriesMatchExactQdq) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 250; ++i) {
    const ConvCase c = random_case(rng);
    run_case(c, 1000u + uint32_t(i));
  }
}

TEST(ConvInt8, PointwiseAndLargeDepth) {
  ConvCase c;
  c.h = 7;
  c.w = 5;
  c.cin = 67;
  c.cout = 13;
  run_case(c, 1);  // 1x1 stride 1, no padding: direct GEMM on the input rows
  c.groups = 1;
  c.n = 2;
  run_case(c, 2);
  c.kh = c.kw = 3;
  c.pt = c.pl = c.pb = c.pr = 1;
  c.cin = 129;
  c.cout = 9;
  run_case(c, 3);  // K = 1161
  ConvCase g;      // grouped pointwise
  g.h = 3;
  g.w = 4;
  g.groups = 3;
  g.cin = 9;
  g.cout = 6;
  run_case(g, 4);
}

TEST(ConvInt8, DepthwiseMobileNetLike) {
  ConvCase c;
  c.h = c.w = 14;
  c.cin = c.cout = c.groups = 24;
  c.kh = c.kw = 3;
  c.pt = c.pl = c.pb = c.pr = 1;
  c.sh = c.sw = 2;
  run_case(c, 5);
  c.sh = c.sw = 1;
  c.clamp = true;
  run_case(c, 6);
}

// Tiny hand-checked case: 1x1 input channel, 2x2 kernel, all scales 1.
TEST(ConvInt8, HandChecked) {
  Conv2DInt8Params p;
  p.in_h = p.in_w = 2;
  p.in_c = p.out_c = 1;
  p.out_h = p.out_w = 1;
  p.kernel_h = p.kernel_w = 2;
  p.input_zero_point = 1;
  p.output_zero_point = -3;
  conv2d_int8_choose_path(&p);
  const int8_t w[4] = {1, 2, 3, 4};
  const int32_t bias[1] = {10};
  std::vector<int16_t> packed(conv2d_int8_packed_weights_size(p));
  int32_t pb[1];
  conv2d_int8_pack(p, w, bias, packed.data(), pb);
  FixedMultiplier m;
  ASSERT_TRUE(quantize_multiplier(0.5, &m));
  p.weights = packed.data();
  p.bias = pb;
  p.multipliers = &m;
  const int8_t x[4] = {2, 3, 4, 5};  // minus zero point: 1 2 3 4
  int8_t y[1];
  std::vector<uint8_t> scratch(conv2d_int8_scratch_bytes(p) + 1);
  conv2d_int8_nhwc(p, x, y, scratch.data());
  // acc = 10 + 1 + 4 + 9 + 16 = 40; 40 * 0.5 = 20; -3 + 20 = 17
  EXPECT_EQ(y[0], 17);
}

}  // namespace
}  // namespace neutron
