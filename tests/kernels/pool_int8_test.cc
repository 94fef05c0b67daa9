// int8 pools (NHWC) against the exact QDQ evaluation: MaxPool with identical and different
// in/out quantization, dilation, asymmetric pads and ceil-mode-sized outputs; AveragePool with
// count_include_pad on and off; GlobalAveragePool and GlobalMaxPool.
#include "kernels/pool_int8.h"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::rand_int;

enum class Kind { Max, Avg, GlobalMax, GlobalAvg };

struct PoolCase {
  Kind kind = Kind::Max;
  int n = 1, h = 1, w = 1, c = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  bool ceil = false, include_pad = false, same_quant = false;
  int oh() const {
    const int span = h + pt + pb - dh * (kh - 1) - 1;
    int o = (ceil ? (span + sh - 1) / sh : span / sh) + 1;
    if (ceil && (o - 1) * sh >= h + pt) --o;  // last window must start inside input or left pad
    return o;
  }
  int ow() const {
    const int span = w + pl + pr - dw * (kw - 1) - 1;
    int o = (ceil ? (span + sw - 1) / sw : span / sw) + 1;
    if (ceil && (o - 1) * sw >= w + pl) --o;
    return o;
  }
  std::string str() const {
    std::ostringstream os;
    os << "kind" << int(kind) << " n" << n << " h" << h << " w" << w << " c" << c << " k" << kh << "x" << kw << " s" << sh
       << "x" << sw << " d" << dh << "x" << dw << " pads(" << pt << "," << pl << "," << pb << "," << pr << ")"
       << (ceil ? " ceil" : "") << (include_pad ? " include_pad" : "") << (same_quant ? " same-quant" : "");
    return os.str();
  }
};

void run_case(const PoolCase& c, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": " + c.str());
  std::mt19937 rng(seed);
  const bool global = c.kind == Kind::GlobalMax || c.kind == Kind::GlobalAvg;
  const int oh = global ? 1 : c.oh(), ow = global ? 1 : c.ow();
  ASSERT_GE(oh, 1);
  ASSERT_GE(ow, 1);
  const double sx = testing::rand_log_uniform(rng, 1e-3, 1e-1);
  const int32_t zx = rand_int(rng, -128, 127);
  const auto x = testing::random_int8(rng, size_t(c.n * c.h * c.w * c.c));
  std::vector<double> real(static_cast<size_t>(c.n * oh * ow * c.c));
  for (int b = 0; b < c.n; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int ch = 0; ch < c.c; ++ch) {
          const auto xv = [&](int iy, int ix) { return sx * (x[size_t(((b * c.h + iy) * c.w + ix) * c.c + ch)] - zx); };
          double r = 0;
          if (global) {
            double mx = -std::numeric_limits<double>::infinity(), sum = 0;
            for (int iy = 0; iy < c.h; ++iy)
              for (int ix = 0; ix < c.w; ++ix) {
                mx = std::max(mx, xv(iy, ix));
                sum += xv(iy, ix);
              }
            r = c.kind == Kind::GlobalMax ? mx : sum / (c.h * c.w);
          } else if (c.kind == Kind::Max) {
            r = -std::numeric_limits<double>::infinity();
            for (int ky = 0; ky < c.kh; ++ky)
              for (int kx = 0; kx < c.kw; ++kx) {
                const int iy = oy * c.sh - c.pt + ky * c.dh, ix = ox * c.sw - c.pl + kx * c.dw;
                if (iy >= 0 && iy < c.h && ix >= 0 && ix < c.w) r = std::max(r, xv(iy, ix));
              }
          } else {
            // PyTorch / ONNX Runtime divisor: window clipped to the padded extent.
            const int y0 = oy * c.sh - c.pt, x0 = ox * c.sw - c.pl;
            const int y1 = std::min(y0 + c.kh, c.h + c.pb), x1 = std::min(x0 + c.kw, c.w + c.pr);
            double sum = 0;
            int valid = 0;
            for (int iy = std::max(y0, 0); iy < std::min(y1, c.h); ++iy)
              for (int ix = std::max(x0, 0); ix < std::min(x1, c.w); ++ix) {
                sum += xv(iy, ix);
                ++valid;
              }
            r = sum / (c.include_pad ? (y1 - y0) * (x1 - x0) : valid);
          }
          real[size_t(((b * oh + oy) * ow + ox) * c.c + ch)] = r;
        }
  testing::OutQuant yq = testing::out_quant_for(real);
  if (c.same_quant) yq = testing::OutQuant{sx, zx};
  const auto expected = testing::quantize_all(real, yq);

  PoolInt8Params p;
  p.batch = c.n;
  p.in_h = c.h;
  p.in_w = c.w;
  p.channels = c.c;
  p.out_h = oh;
  p.out_w = ow;
  p.kernel_h = global ? c.h : c.kh;
  p.kernel_w = global ? c.w : c.kw;
  p.stride_h = c.sh;
  p.stride_w = c.sw;
  p.dilation_h = c.dh;
  p.dilation_w = c.dw;
  p.pad_top = c.pt;
  p.pad_left = c.pl;
  p.pad_bottom = c.pb;
  p.pad_right = c.pr;
  p.count_include_pad = c.include_pad;
  p.input_zero_point = zx;
  p.output_zero_point = yq.zero_point;
  std::vector<FixedMultiplier> counts(static_cast<size_t>(c.kh * c.kw + 1));
  switch (c.kind) {
    case Kind::Max:
    case Kind::GlobalMax:
      p.requantize = !c.same_quant;
      if (p.requantize) ASSERT_TRUE(quantize_multiplier(sx / yq.scale, &p.multiplier));
      break;
    case Kind::GlobalAvg: ASSERT_TRUE(quantize_multiplier(sx / (yq.scale * c.h * c.w), &p.multiplier)); break;
    case Kind::Avg:
      for (int k = 1; k <= c.kh * c.kw; ++k) ASSERT_TRUE(quantize_multiplier(sx / (yq.scale * k), &counts[size_t(k)]));
      p.count_multipliers = counts.data();
      break;
  }
  std::vector<uint8_t> scratch(pool_int8_scratch_bytes(p));
  std::vector<int8_t> y(real.size());
  switch (c.kind) {
    case Kind::Max: max_pool_int8_nhwc(p, x.data(), y.data()); break;
    case Kind::Avg: average_pool_int8_nhwc(p, x.data(), y.data(), scratch.data()); break;
    case Kind::GlobalMax: global_max_pool_int8_nhwc(p, x.data(), y.data()); break;
    case Kind::GlobalAvg: global_average_pool_int8_nhwc(p, x.data(), y.data(), scratch.data()); break;
  }
  EXPECT_TRUE(testing::qdq_close(y, expected, "pool"));
}

TEST(PoolInt8, RandomGeometriesMatchExactQdq) {
  std::mt19937 rng(4242);
  for (int i = 0; i < 300; ++i) {
    PoolCase c;
    c.kind = Kind(rand_int(rng, 0, 3));
    c.n = rand_int(rng, 1, 2);
    c.c = rand_int(rng, 1, 19);
    c.kh = rand_int(rng, 1, 4);
    c.kw = rand_int(rng, 1, 4);
    c.sh = rand_int(rng, 1, 3);
    c.sw = rand_int(rng, 1, 3);
    if (c.kind == Kind::Max) {
      c.dh = rand_int(rng, 1, 2);
      c.dw = rand_int(rng, 1, 2);
    }
    // ONNX: pads smaller than the kernel.
    c.pt = rand_int(rng, 0, (c.kh - 1));
    c.pb = rand_int(rng, 0, (c.kh - 1));
    c.pl = rand_int(rng, 0, (c.kw - 1));
    c.pr = rand_int(rng, 0, (c.kw - 1));
    c.ceil = rand_int(rng, 0, 2) == 0;
    c.include_pad = rand_int(rng, 0, 1);
    c.same_quant = (c.kind == Kind::Max || c.kind == Kind::GlobalMax) && rand_int(rng, 0, 1);
    const int min_h = c.dh * (c.kh - 1) + 1, min_w = c.dw * (c.kw - 1) + 1;
    c.h = rand_int(rng, min_h, min_h + 9);
    c.w = rand_int(rng, min_w, min_w + 9);
    run_case(c, 9000u + uint32_t(i));
  }
}

TEST(PoolInt8, GlobalAverageLargeWindow) {
  PoolCase c;
  c.kind = Kind::GlobalAvg;
  c.h = c.w = 7;
  c.c = 1280;
  run_case(c, 1);
  c.h = c.w = 1;
  run_case(c, 2);
}

}  // namespace
}  // namespace neutron
