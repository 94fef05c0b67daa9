// int8 bilinear Resize: (1) bit-exact against a naive integer model of the documented fixed-point
// semantics (taps, one rounding), (2) within 1 LSB of the exact QDQ evaluation in double with the
// exact weights, for every coordinate mode, random shapes (odd sizes, channel counts that are not
// multiples of 8) and random quantization in and out (s_in / s_out in [1/4, 4]). With power-of-two
// scales the fixed-point weights are exact and differences are rounding ties only (< 1 %).
#include "kernels/resize_int8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "int8_test_util.h"

namespace neutron {
namespace {

using testing::rand_int;

const ResizeCoordMode kModes[] = {ResizeCoordMode::kHalfPixel, ResizeCoordMode::kPytorchHalfPixel,
                                  ResizeCoordMode::kAlignCorners, ResizeCoordMode::kAsymmetric,
                                  ResizeCoordMode::kHalfPixelSymmetric};
const char* const kModeNames[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                  "half_pixel_symmetric"};

struct Case {
  int mode = 0;
  int64_t outer = 1, in_h = 1, in_w = 1, out_h = 1, out_w = 1, inner = 1;
  double scale_h = 1, scale_w = 1;
  bool dyadic = false;
  std::string str() const {
    std::ostringstream os;
    os << kModeNames[mode] << " [" << outer << "," << in_h << "," << in_w << "," << inner << "] -> [" << out_h << ","
       << out_w << "] scales " << scale_h << "x" << scale_w << (dyadic ? " (dyadic)" : "");
    return os.str();
  }
};

struct Weights {
  int64_t i0 = 0, i1 = 0;
  double w1 = 0;
};
Weights exact_weights(ResizeCoordMode m, int64_t o, int64_t in, int64_t out, double scale) {
  const double c = resize_source_coord(m, o, in, out, scale);
  const double fl = std::floor(c);
  auto clampi = [in](int64_t i) { return i < 0 ? int64_t(0) : (i >= in ? in - 1 : i); };
  return Weights{clampi(int64_t(fl)), clampi(int64_t(fl) + 1), c - fl};
}

// Returns the fraction of elements that differ from the exact QDQ value.
double run_case(const Case& c, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + ": " + c.str());
  std::mt19937 rng(seed);
  const ResizeCoordMode mode = kModes[c.mode];
  const double sx = testing::rand_log_uniform(rng, 1e-3, 1e-1);
  // Every third case keeps the quantization (upstream's shared parameters: M = 2^-22 exactly, the
  // kernel's rounding-shift path).
  const double ratio = testing::rand_log_uniform(rng, 0.25, 4.0);
  const double sy = seed % 3 == 0 ? sx : sx / ratio;
  const int32_t zx = rand_int(rng, -128, 127), zy = seed % 3 == 0 ? zx : rand_int(rng, -100, 100);
  const auto x = testing::random_int8(rng, size_t(c.outer * c.in_h * c.in_w * c.inner));
  std::vector<ResizeLinearTapInt8> th(static_cast<size_t>(c.out_h)), tw(static_cast<size_t>(c.out_w));
  resize_linear_table_int8(mode, c.in_h, c.out_h, c.scale_h, th.data());
  resize_linear_table_int8(mode, c.in_w, c.out_w, c.scale_w, tw.data());
  EXPECT_TRUE(resize_linear_table_int8_valid(c.in_h, c.out_h, th.data()));
  EXPECT_TRUE(resize_linear_table_int8_valid(c.in_w, c.out_w, tw.data()));
  ResizeBilinearInt8Params p;
  p.outer = c.outer;
  p.in_h = c.in_h;
  p.in_w = c.in_w;
  p.out_h = c.out_h;
  p.out_w = c.out_w;
  p.inner = c.inner;
  p.taps_h = th.data();
  p.taps_w = tw.data();
  p.input_zero_point = zx;
  p.output_zero_point = zy;
  EXPECT_TRUE(resize_bilinear_int8_multiplier(sx, sy, &p.multiplier));
  if (sy == sx) {
    EXPECT_EQ(p.multiplier.multiplier, 1 << 30);
    EXPECT_EQ(p.multiplier.shift, 52);
  }
  std::vector<int8_t> y(size_t(c.outer * c.out_h * c.out_w * c.inner));
  resize_bilinear_int8(p, x.data(), y.data());

  const auto X = [&](int64_t o, int64_t iy, int64_t ix, int64_t ch) {
    return int64_t(x[size_t(((o * c.in_h + iy) * c.in_w + ix) * c.inner + ch)]);
  };
  std::vector<int8_t> model(y.size());
  std::vector<double> real(y.size());
  size_t k = 0;
  for (int64_t o = 0; o < c.outer; ++o)
    for (int64_t oy = 0; oy < c.out_h; ++oy)
      for (int64_t ox = 0; ox < c.out_w; ++ox)
        for (int64_t ch = 0; ch < c.inner; ++ch, ++k) {
          // (1) the documented integer semantics, written out
          const ResizeLinearTapInt8 ty = th[size_t(oy)], tx = tw[size_t(ox)];
          const int64_t wy[2] = {kResizeLinearInt8One - ty.w1, ty.w1}, wx[2] = {kResizeLinearInt8One - tx.w1, tx.w1};
          const int64_t iy[2] = {ty.i0, ty.i1}, ix[2] = {tx.i0, tx.i1};
          int64_t acc = 0;
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b) acc += wy[a] * wx[b] * (X(o, iy[a], ix[b], ch) - zx);
          EXPECT_LT(std::abs(acc), int64_t(1) << 31);
          model[k] = requantize_to_int8(int32_t(acc), p.multiplier, zy);
          // (2) the exact QDQ meaning
          const Weights ey = exact_weights(mode, oy, c.in_h, c.out_h, c.scale_h);
          const Weights ex = exact_weights(mode, ox, c.in_w, c.out_w, c.scale_w);
          // in input steps (q - z_in); times s_in it is the real value. With the same quantization
          // in and out the output is round_half_even of it, computed exactly (dyadic weights) so
          // that exact ties are ties in the reference too.
          const auto D = [&](int64_t iy, int64_t ix) { return double(X(o, iy, ix, ch) - zx); };
          const double v0 = (1 - ex.w1) * D(ey.i0, ex.i0) + ex.w1 * D(ey.i0, ex.i1);
          const double v1 = (1 - ex.w1) * D(ey.i1, ex.i0) + ex.w1 * D(ey.i1, ex.i1);
          real[k] = (1 - ey.w1) * v0 + ey.w1 * v1;
          if (sy != sx) real[k] *= sx;
        }
  EXPECT_EQ(y, model);
  const std::vector<int32_t> want = testing::quantize_all(real, testing::OutQuant{sy == sx ? 1.0 : sy, zy});
  if (c.dyadic) {
    EXPECT_TRUE(testing::qdq_close(y, want, "resize bilinear"));
  }
  size_t diffs = 0;
  int max_diff = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const int d = std::abs(int(y[i]) - want[i]);
    diffs += d != 0;
    max_diff = std::max(max_diff, d);
  }
  EXPECT_LE(max_diff, 1);
  return double(diffs) / double(y.size());
}

TEST(ResizeBilinearInt8, PowerOfTwoScalesAreExactUpToTies) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed * 31337);
    Case c;
    c.mode = int(seed % 4);  // the four modes upstream's bilinear uses or our CPU takes
    c.dyadic = true;
    c.outer = rand_int(rng, 1, 2);
    c.inner = rand_int(rng, 1, 13);
    c.in_h = rand_int(rng, 1, 7);
    c.in_w = rand_int(rng, 1, 7);
    const int sh = 1 << rand_int(rng, 0, 3), sw = 1 << rand_int(rng, 0, 3);
    if (kModes[c.mode] == ResizeCoordMode::kAlignCorners) {
      c.in_h = std::max<int64_t>(c.in_h, 2);
      c.in_w = std::max<int64_t>(c.in_w, 2);
      c.out_h = (c.in_h - 1) * sh + 1;
      c.out_w = (c.in_w - 1) * sw + 1;
      c.scale_h = double(c.out_h) / double(c.in_h);
      c.scale_w = double(c.out_w) / double(c.in_w);
    } else {
      c.out_h = c.in_h * sh;
      c.out_w = c.in_w * sw;
      c.scale_h = sh;
      c.scale_w = sw;
    }
    run_case(c, seed);
  }
}

TEST(ResizeBilinearInt8, AnyScaleIsWithinOneLsb) {
  double worst = 0;
  for (uint32_t seed = 1; seed <= 80; ++seed) {
    std::mt19937 rng(seed * 7717);
    Case c;
    c.mode = int(seed % 5);
    c.outer = rand_int(rng, 1, 3);
    c.inner = rand_int(rng, 1, 11);
    c.in_h = rand_int(rng, 1, 9);
    c.in_w = rand_int(rng, 1, 9);
    c.out_h = rand_int(rng, 1, 17);
    c.out_w = rand_int(rng, 1, 17);
    // The scales attribute: out / in, or a value that floors to the output length.
    c.scale_h = double(c.out_h) / double(c.in_h);
    c.scale_w = (double(c.out_w) + (seed % 3 == 0 ? 0.4 : 0.0)) / double(c.in_w);
    worst = std::max(worst, run_case(c, seed));
  }
  std::printf("bilinear, any scale: at most %.2f %% of the elements 1 LSB from the exact QDQ value\n", 100 * worst);
}

}  // namespace
}  // namespace neutron
