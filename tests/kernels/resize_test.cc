// Resize: the ONNX backend-test vectors (every coordinate and nearest mode the importer meets),
// and random shapes of ranks 1-5 (NHWC-like identity channel axes, down- and up-sampling, odd
// sizes) against a naive reference that evaluates every output element on its own, in double,
// the way the ONNX reference does (per-axis neighbours with edge replication, last axis first).
//
// Nearest is exact; linear: |y - ref| <= 1e-5 * max|x|.
#include "kernels/resize.h"

#include "core/shape.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <vector>

namespace neutron {
namespace {

const char* mode_name(ResizeCoordMode m) {
  switch (m) {
    case ResizeCoordMode::kHalfPixel: return "half_pixel";
    case ResizeCoordMode::kHalfPixelSymmetric: return "half_pixel_symmetric";
    case ResizeCoordMode::kPytorchHalfPixel: return "pytorch_half_pixel";
    case ResizeCoordMode::kAlignCorners: return "align_corners";
    case ResizeCoordMode::kAsymmetric: return "asymmetric";
    case ResizeCoordMode::kTfHalfPixelForNearest: return "tf_half_pixel_for_nearest";
  }
  return "?";
}

// Tables plus params, as the binder builds them.
struct Resizer {
  ResizeParams p;
  std::vector<std::vector<int64_t>> nearest;
  std::vector<std::vector<ResizeLinearTap>> linear;
  bool is_linear;
  Resizer(const std::vector<int64_t>& in, const std::vector<int64_t>& out, const std::vector<double>& scales,
          bool is_linear, ResizeCoordMode cm, ResizeNearestMode nm = ResizeNearestMode::kRoundPreferFloor)
      : is_linear(is_linear) {
    p.rank = int(in.size());
    nearest.resize(in.size());
    linear.resize(in.size());
    for (size_t a = 0; a < in.size(); ++a) {
      p.in_shape[a] = in[a];
      p.out_shape[a] = out[a];
      if (is_linear) {
        linear[a].resize(size_t(out[a]));
        resize_linear_table(cm, in[a], out[a], scales[a], linear[a].data());
        if (!resize_linear_table_is_identity(in[a], out[a], linear[a].data())) p.linear[a] = linear[a].data();
      } else {
        nearest[a].resize(size_t(out[a]));
        resize_nearest_table(cm, nm, in[a], out[a], scales[a], nearest[a].data());
        if (!resize_nearest_table_is_identity(in[a], out[a], nearest[a].data())) p.nearest[a] = nearest[a].data();
      }
    }
  }
  std::vector<float> run(const std::vector<float>& x) const {
    size_t n = 1;
    for (int a = 0; a < p.rank; ++a) n *= size_t(p.out_shape[a]);
    std::vector<float> y(n, std::nanf(""));
    if (is_linear) {
      std::vector<float> scratch(resize_linear_f32_scratch_floats(p) + 1);
      resize_linear_f32(p, x.data(), y.data(), scratch.data());
    } else {
      resize_nearest<float>(p, x.data(), y.data());
    }
    return y;
  }
};

std::vector<float> iota(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[size_t(i)] = float(i + 1);
  return v;
}

void expect_values(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << "at " << i;
}

TEST(Resize, OnnxBackendVectors) {
  const auto S = ResizeCoordMode::kHalfPixel;
  // test_resize_upsample_scales_nearest: [1,1,2,2] scales [1,1,2,3]
  expect_values(Resizer({1, 1, 2, 2}, {1, 1, 4, 6}, {1, 1, 2, 3}, false, S).run(iota(4)),
                {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
  // test_resize_downsample_scales_nearest: [1,1,2,4] scales 0.6
  expect_values(Resizer({1, 1, 2, 4}, {1, 1, 1, 2}, {1, 1, 0.6f, 0.6f}, false, S).run(iota(8)),
                {1, 3});
  // test_resize_downsample_sizes_nearest: [1,1,2,4] -> [1,1,1,3] (half_pixel)
  expect_values(Resizer({1, 1, 2, 4}, {1, 1, 1, 3}, {1, 1, 0.5, 0.75}, false, S).run(iota(8)), {1, 2, 4});
  // test_resize_upsample_sizes_nearest: [1,1,2,2] -> [1,1,7,8]
  {
    const auto y = Resizer({1, 1, 2, 2}, {1, 1, 7, 8}, {1, 1, 3.5, 4}, false, S).run(iota(4));
    const float row_a[] = {1, 1, 1, 1, 2, 2, 2, 2}, row_b[] = {3, 3, 3, 3, 4, 4, 4, 4};
    for (int r = 0; r < 7; ++r)
      for (int c = 0; c < 8; ++c) EXPECT_EQ(y[size_t(r * 8 + c)], r < 4 ? row_a[c] : row_b[c]) << r << "," << c;
  }
  // test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn: [1,1,4,4] -> [1,1,3,2]
  expect_values(
      Resizer({1, 1, 4, 4}, {1, 1, 3, 2}, {1, 1, 0.75, 0.5}, false, ResizeCoordMode::kTfHalfPixelForNearest).run(iota(16)),
      {6, 8, 10, 12, 14, 16});
  // test_resize_upsample_sizes_nearest_ceil_half_pixel / round_prefer_ceil_asymmetric: 4x4 -> 8x8
  {
    const std::vector<float> rows = {1, 2, 2, 3, 3, 4, 4, 4};
    const int src_row[] = {0, 1, 1, 2, 2, 3, 3, 3};
    for (auto mode : {std::make_pair(S, ResizeNearestMode::kCeil),
                      std::make_pair(ResizeCoordMode::kAsymmetric, ResizeNearestMode::kRoundPreferCeil)}) {
      SCOPED_TRACE(mode_name(mode.first));
      const auto y = Resizer({1, 1, 4, 4}, {1, 1, 8, 8}, {1, 1, 2, 2}, false, mode.first, mode.second).run(iota(16));
      for (int r = 0; r < 8; ++r)
        for (int c = 0; c < 8; ++c) EXPECT_EQ(y[size_t(r * 8 + c)], rows[size_t(c)] + 4 * src_row[r]) << r << "," << c;
    }
  }
  // test_resize_upsample_sizes_nearest_floor_align_corners: 4x4 -> 8x8
  {
    const int src[] = {0, 0, 0, 1, 1, 2, 2, 3};
    const auto y = Resizer({1, 1, 4, 4}, {1, 1, 8, 8}, {1, 1, 2, 2}, false, ResizeCoordMode::kAlignCorners,
                           ResizeNearestMode::kFloor)
                       .run(iota(16));
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c) EXPECT_EQ(y[size_t(r * 8 + c)], float(1 + src[c] + 4 * src[r])) << r << "," << c;
  }
  // test_resize_upsample_scales_linear (half_pixel) and _align_corners: [1,1,2,2] scales 2
  expect_values(Resizer({1, 1, 2, 2}, {1, 1, 4, 4}, {1, 1, 2, 2}, true, S).run(iota(4)),
                {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  expect_values(Resizer({1, 1, 2, 2}, {1, 1, 4, 4}, {1, 1, 2, 2}, true, ResizeCoordMode::kAlignCorners).run(iota(4)),
                {1, 1.333333f, 1.666667f, 2, 1.666667f, 2, 2.333333f, 2.666667f, 2.333333f, 2.666667f, 3, 3.333333f, 3,
                 3.333333f, 3.666667f, 4});
  // test_resize_downsample_scales_linear and _align_corners: [1,1,2,4] scales 0.6 (float32)
  expect_values(Resizer({1, 1, 2, 4}, {1, 1, 1, 2}, {1, 1, 0.6f, 0.6f}, true, S).run(iota(8)), {2.666667f, 4.333333f});
  expect_values(
      Resizer({1, 1, 2, 4}, {1, 1, 1, 2}, {1, 1, 0.6f, 0.6f}, true, ResizeCoordMode::kAlignCorners).run(iota(8)),
      {1, 3.142857f});
  // test_resize_downsample_sizes_linear_pytorch_half_pixel: [1,1,4,4] -> [1,1,3,1]
  expect_values(
      Resizer({1, 1, 4, 4}, {1, 1, 3, 1}, {1, 1, 0.75, 0.25}, true, ResizeCoordMode::kPytorchHalfPixel).run(iota(16)),
      {1.666667f, 7, 12.333333f});
}

// ---- random shapes against a per-element reference ----

double ref_coord(ResizeCoordMode m, int64_t x, int64_t in, int64_t out, double scale) {
  double resized = scale * double(in);
  if (std::fabs(resized - double(out)) < 1e-9 * double(out)) resized = double(out);
  switch (m) {
    case ResizeCoordMode::kHalfPixel: return (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kHalfPixelSymmetric:
      return double(in) / 2 * (1 - double(out) / resized) + (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kPytorchHalfPixel: return resized == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kAlignCorners: return resized == 1 ? 0.0 : x * double(in - 1) / (resized - 1);
    case ResizeCoordMode::kAsymmetric: return x / scale;
    case ResizeCoordMode::kTfHalfPixelForNearest: return (x + 0.5) / scale;
  }
  return 0;
}

// The value at output index `o` (per axis) by recursive 1-D interpolation over axes a.. (ONNX
// reference order: inner axes first, then this one), inputs edge-replicated.
double ref_value(const std::vector<float>& x, const std::vector<int64_t>& in, const std::vector<int64_t>& out,
                 const std::vector<double>& scales, bool is_linear, ResizeCoordMode cm, ResizeNearestMode nm,
                 const std::vector<int64_t>& o, size_t a, int64_t offset) {
  if (a == in.size()) return x[size_t(offset)];
  int64_t stride = 1;
  for (size_t i = a + 1; i < in.size(); ++i) stride *= in[i];
  const auto at = [&](int64_t i) {
    i = std::min(std::max<int64_t>(i, 0), in[a] - 1);
    return ref_value(x, in, out, scales, is_linear, cm, nm, o, a + 1, offset + i * stride);
  };
  const double c = ref_coord(cm, o[a], in[a], out[a], scales[a]);
  const double fl = std::floor(c);
  if (c == fl) return at(int64_t(fl));
  const double r = c - fl;
  if (is_linear) return (1 - r) * at(int64_t(fl)) + r * at(int64_t(fl) + 1);
  bool up = false;
  switch (nm) {
    case ResizeNearestMode::kRoundPreferFloor: up = r > 0.5; break;
    case ResizeNearestMode::kRoundPreferCeil: up = r >= 0.5; break;
    case ResizeNearestMode::kFloor: up = false; break;
    case ResizeNearestMode::kCeil: up = true; break;
  }
  return at(int64_t(fl) + (up ? 1 : 0));
}

TEST(Resize, RandomShapesAgainstReference) {
  const ResizeCoordMode modes[] = {ResizeCoordMode::kHalfPixel,     ResizeCoordMode::kHalfPixelSymmetric,
                                   ResizeCoordMode::kPytorchHalfPixel, ResizeCoordMode::kAlignCorners,
                                   ResizeCoordMode::kAsymmetric,    ResizeCoordMode::kTfHalfPixelForNearest};
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    const size_t rank = size_t(pick(1, 5));
    const bool is_linear = pick(0, 1);
    const ResizeCoordMode cm = modes[pick(0, 5)];
    const ResizeNearestMode nm = ResizeNearestMode(pick(0, 3));
    std::vector<int64_t> in(rank), out(rank);
    std::vector<double> scales(rank);
    for (size_t a = 0; a < rank; ++a) {
      in[a] = pick(1, rank > 3 ? 5 : 9);
      const int kind = int(pick(0, 3));  // identity, integer factor, sizes-derived, float scale
      if (kind == 0) {
        out[a] = in[a];
        scales[a] = 1;
      } else if (kind == 1) {
        scales[a] = double(pick(2, 3));
        out[a] = int64_t(double(in[a]) * scales[a]);
      } else if (kind == 2) {
        out[a] = pick(1, 11);
        scales[a] = double(out[a]) / double(in[a]);
      } else {
        scales[a] = double(float(std::uniform_real_distribution<double>(0.3, 2.7)(rng)));
        out[a] = std::max<int64_t>(1, int64_t(std::floor(double(in[a]) * scales[a])));
      }
    }
    std::ostringstream desc;
    desc << "seed " << seed << ": " << (is_linear ? "linear " : "nearest ") << mode_name(cm) << " nearest_mode "
         << int(nm) << " in" << shape_str(in) << " out" << shape_str(out) << " scales";
    for (double s : scales) desc << " " << s;
    SCOPED_TRACE(desc.str());

    int64_t n_in = 1;
    for (auto d : in) n_in *= d;
    std::vector<float> x(static_cast<size_t>(n_in));
    for (auto& v : x) v = std::uniform_real_distribution<float>(-3, 3)(rng);
    const Resizer r(in, out, scales, is_linear, cm, nm);
    const std::vector<float> y = r.run(x);

    std::vector<int64_t> o(rank, 0);
    for (size_t i = 0; i < y.size(); ++i) {
      const double want = ref_value(x, in, out, scales, is_linear, cm, nm, o, 0, 0);
      if (is_linear)
        ASSERT_NEAR(y[i], want, 3e-5) << "at output " << shape_str(o);
      else
        ASSERT_EQ(y[i], float(want)) << "at output " << shape_str(o);
      for (size_t a = rank; a-- > 0;) {
        if (++o[a] < out[a]) break;
        o[a] = 0;
      }
    }
  }
}

TEST(Resize, NearestInt8Nhwc) {
  // 1x2x2x3 NHWC upsampled 2x in H and W: channel vectors are copied whole.
  std::vector<int8_t> x(12);
  for (int i = 0; i < 12; ++i) x[size_t(i)] = int8_t(i * 10 - 60);
  const Resizer r({1, 2, 2, 3}, {1, 4, 4, 3}, {1, 2, 2, 1}, false, ResizeCoordMode::kAsymmetric);
  EXPECT_EQ(r.p.nearest[3], nullptr);  // the channel axis is an identity
  std::vector<int8_t> y(48);
  resize_nearest<int8_t>(r.p, x.data(), y.data());
  for (int h = 0; h < 4; ++h)
    for (int w = 0; w < 4; ++w)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(y[size_t((h * 4 + w) * 3 + c)], x[size_t(((h / 2) * 2 + w / 2) * 3 + c)]);
}

}  // namespace
}  // namespace neutron
