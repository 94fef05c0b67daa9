// float32 Conv and ConvTranspose through the executor (shape inference, binder, weight packing,
// scratch): NHWC nodes against a naive NHWC reference; refusals of unsupported forms.
#include <gtest/gtest.h>

#include <cmath>
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

struct Geo {
  int64_t n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group;
};

Attributes conv_attrs(const Geo& g) {
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{g.kh, g.kw});
  a.set("strides", std::vector<int64_t>{g.sh, g.sw});
  a.set("dilations", std::vector<int64_t>{g.dh, g.dw});
  a.set("pads", std::vector<int64_t>{g.pt, g.pl, g.pb, g.pr});
  a.set("group", g.group);
  a.set("channels_last", int64_t(1));
  return a;
}

TEST(ExecConvF32, MatchesReference) {
  const Geo cases[] = {
      {1, 7, 9, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 3x3 same padding
      {2, 8, 8, 4, 10, 3, 2, 2, 1, 1, 2, 0, 1, 2, 0, 2},   // grouped, asymmetric pads, dilation
      {1, 9, 6, 12, 12, 3, 3, 2, 2, 1, 1, 1, 0, 1, 1, 12}, // depthwise
      {1, 5, 5, 3, 9, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 3},    // depthwise with multiplier 3
      {1, 6, 7, 13, 17, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},  // 1x1 direct GEMM
  };
  uint32_t seed = 1;
  for (const Geo& g : cases) {
    for (bool with_bias : {true, false}) {
      SCOPED_TRACE("case seed " + std::to_string(seed) + (with_bias ? " bias" : " no bias"));
      std::mt19937 rng(seed++);
      const int64_t cin_g = g.cin / g.group, cout_g = g.cout / g.group;
      const int64_t oh = (g.h + g.pt + g.pb - g.dh * (g.kh - 1) - 1) / g.sh + 1;
      const int64_t ow = (g.w + g.pl + g.pr - g.dw * (g.kw - 1) - 1) / g.sw + 1;
      const auto x = random_floats(rng, size_t(g.n * g.h * g.w * g.cin));
      const auto w = random_floats(rng, size_t(g.cout * cin_g * g.kh * g.kw));
      const auto b = random_floats(rng, size_t(g.cout));
      std::vector<Operand> ops = {Operand::input(TensorData::from<float>({g.n, g.h, g.w, g.cin}, x)),
                                  Operand::constant_of(TensorData::from<float>({g.cout, cin_g, g.kh, g.kw}, w))};
      if (with_bias) ops.push_back(Operand::constant_of(TensorData::from<float>({g.cout}, b)));
      auto r = run_single_op(OpKind::Conv, ops, conv_attrs(g));
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      const TensorData& y = r.value()[0];
      ASSERT_EQ(y.shape, (Shape{g.n, oh, ow, g.cout}));
      const float* yv = y.data<float>();
      for (int64_t n = 0; n < g.n; ++n)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j)
            for (int64_t oc = 0; oc < g.cout; ++oc) {
              double acc = with_bias ? b[size_t(oc)] : 0.0;
              const int64_t grp = oc / cout_g;
              for (int64_t ci = 0; ci < cin_g; ++ci)
                for (int64_t ky = 0; ky < g.kh; ++ky)
                  for (int64_t kx = 0; kx < g.kw; ++kx) {
                    const int64_t iy = i * g.sh - g.pt + ky * g.dh, ix = j * g.sw - g.pl + kx * g.dw;
                    if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                    acc += double(x[size_t(((n * g.h + iy) * g.w + ix) * g.cin + grp * cin_g + ci)]) *
                           w[size_t(((oc * cin_g + ci) * g.kh + ky) * g.kw + kx)];
                  }
              ASSERT_NEAR(yv[((n * oh + i) * ow + j) * g.cout + oc], acc, 1e-4) << n << "," << i << "," << j << "," << oc;
            }
    }
  }
}

TEST(ExecConvF32, FusedActivationAttributes) {
  // act_min / act_max clamp the output (as set by a fusion pass).
  Geo g{1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1};
  Attributes a = conv_attrs(g);
  a.set("act_min", 0.0);
  a.set("act_max", 6.0);
  std::vector<float> x = {-3, -1, 0, 1, 2, 3, 4, 5, 6};
  auto r = run_single_op(OpKind::Conv,
                         {Operand::input(TensorData::from<float>({1, 3, 3, 1}, x)),
                          Operand::constant_of(TensorData::from<float>({1, 1, 1, 1}, {2.0f}))},
                         a);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto v = r.value()[0].to_vector<float>();
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(v[i], std::min(std::max(2 * x[i], 0.0f), 6.0f)) << i;
}

TEST(ExecConvF32, RefusesNchw) {
  Geo g{1, 4, 4, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  std::vector<float> x(32, 1.0f), w(54, 1.0f);
  Attributes nchw = conv_attrs(g);
  nchw.set("channels_last", int64_t(0));
  auto r = run_single_op(OpKind::Conv,
                         {Operand::input(TensorData::from<float>({1, 2, 4, 4}, x)),
                          Operand::constant_of(TensorData::from<float>({3, 2, 3, 3}, w))},
                         nchw);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("run the layout-nhwc pass first"), std::string::npos) << r.status().message();
}

TEST(ExecConvF32, RuntimeWeightsMatchConstantWeights) {
  // Weights computed at run time (e.g. by a DequantizeLinear) are packed into scratch per run.
  for (OpKind kind : {OpKind::Conv, OpKind::ConvTranspose}) {
    SCOPED_TRACE(op_kind_name(kind));
    Geo g{1, 5, 6, 4, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 0, 2};
    std::mt19937 rng(77);
    const auto x = random_floats(rng, size_t(5 * 6 * 4));
    const Shape ws = kind == OpKind::Conv ? Shape{6, 2, 3, 3} : Shape{4, 3, 3, 3};
    const auto w = random_floats(rng, size_t(num_elements(ws)));
    const auto b = random_floats(rng, 6);
    const TensorData xd = TensorData::from<float>({1, 5, 6, 4}, x), wd = TensorData::from<float>(ws, w),
                     bd = TensorData::from<float>({6}, b);
    auto rc = run_single_op(kind, {Operand::input(xd), Operand::constant_of(wd), Operand::input(bd)}, conv_attrs(g));
    auto rr = run_single_op(kind, {Operand::input(xd), Operand::input(wd), Operand::input(bd)}, conv_attrs(g));
    ASSERT_TRUE(rc.ok()) << rc.status().to_string();
    ASSERT_TRUE(rr.ok()) << rr.status().to_string();
    EXPECT_EQ(rc.value()[0].to_vector<float>(), rr.value()[0].to_vector<float>());
  }
}

TEST(ExecConvTransposeF32, MatchesReference) {
  struct TGeo {
    Geo g;
    int64_t oph, opw;
  };
  const TGeo cases[] = {
      {{1, 3, 4, 3, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1}, 1, 1},  // stride 2, pads, output_padding
      {{2, 4, 3, 4, 6, 2, 3, 1, 2, 2, 1, 0, 1, 0, 0, 2}, 0, 1},  // groups, dilation, asymmetric pads
  };
  uint32_t seed = 50;
  for (const TGeo& c : cases) {
    const Geo& g = c.g;
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed++);
    const int64_t cin_g = g.cin / g.group, cout_g = g.cout / g.group;
    const int64_t oh = (g.h - 1) * g.sh + (g.kh - 1) * g.dh + 1 - g.pt - g.pb + c.oph;
    const int64_t ow = (g.w - 1) * g.sw + (g.kw - 1) * g.dw + 1 - g.pl - g.pr + c.opw;
    const auto x = random_floats(rng, size_t(g.n * g.h * g.w * g.cin));
    const auto w = random_floats(rng, size_t(g.cin * cout_g * g.kh * g.kw));
    const auto b = random_floats(rng, size_t(g.cout));
    Attributes a = conv_attrs(g);
    a.set("output_padding", std::vector<int64_t>{c.oph, c.opw});
    auto r = run_single_op(OpKind::ConvTranspose,
                           {Operand::input(TensorData::from<float>({g.n, g.h, g.w, g.cin}, x)),
                            Operand::constant_of(TensorData::from<float>({g.cin, cout_g, g.kh, g.kw}, w)),
                            Operand::constant_of(TensorData::from<float>({g.cout}, b))},
                           a);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const TensorData& y = r.value()[0];
    ASSERT_EQ(y.shape, (Shape{g.n, oh, ow, g.cout}));
    std::vector<double> ref(size_t(g.n * oh * ow * g.cout));
    for (size_t i = 0; i < ref.size(); ++i) ref[i] = b[i % size_t(g.cout)];
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t iy = 0; iy < g.h; ++iy)
        for (int64_t ix = 0; ix < g.w; ++ix)
          for (int64_t ic = 0; ic < g.cin; ++ic)
            for (int64_t co = 0; co < cout_g; ++co)
              for (int64_t ky = 0; ky < g.kh; ++ky)
                for (int64_t kx = 0; kx < g.kw; ++kx) {
                  const int64_t yy = iy * g.sh - g.pt + ky * g.dh, xx = ix * g.sw - g.pl + kx * g.dw;
                  if (yy < 0 || yy >= oh || xx < 0 || xx >= ow) continue;
                  ref[size_t(((n * oh + yy) * ow + xx) * g.cout + (ic / cin_g) * cout_g + co)] +=
                      double(x[size_t(((n * g.h + iy) * g.w + ix) * g.cin + ic)]) *
                      w[size_t(((ic * cout_g + co) * g.kh + ky) * g.kw + kx)];
                }
    const float* yv = y.data<float>();
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(yv[i], ref[i], 1e-4) << i;
  }
}

}  // namespace
}  // namespace neutron
