// Data movement kernels vs naive coordinate-by-coordinate references, for element sizes 1..8.
#include "kernels/data_movement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/shape.h"

namespace neutron {
namespace {

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t v = 1;
  for (size_t k = s.size(); k-- > 0;) {
    st[k] = v;
    v *= s[k];
  }
  return st;
}

// Coordinates of flat index i.
std::vector<int64_t> coords(const Shape& s, int64_t i) {
  std::vector<int64_t> c(s.size());
  for (size_t k = s.size(); k-- > 0;) {
    c[k] = i % s[k];
    i /= s[k];
  }
  return c;
}

// Distinct byte patterns per element: element i of an es-byte tensor.
std::vector<uint8_t> pattern(int64_t count, size_t es, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(size_t(count) * es);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

Shape random_shape(std::mt19937& rng, size_t rank, int64_t max_dim) {
  Shape s(rank);
  for (auto& d : s) d = 1 + int64_t(rng() % uint64_t(max_dim));
  return s;
}

const size_t kElemSizes[] = {1, 2, 4, 8};

// ---- Transpose ----------------------------------------------------------------------------------

void check_transpose(const Shape& in, const std::vector<int64_t>& perm, size_t es, const std::string& ctx) {
  StridedCopyParams p;
  ASSERT_TRUE(prepare_transpose(Span<const int64_t>(in), Span<const int64_t>(perm), es, &p)) << ctx;
  Shape out(in.size());
  for (size_t k = 0; k < in.size(); ++k) out[k] = in[size_t(perm[k])];
  const int64_t n = num_elements(in);
  const auto x = pattern(n, es, uint32_t(n));
  std::vector<uint8_t> y(size_t(n) * es + 8, 0xEE);
  strided_copy(p, x.data(), y.data());
  const auto is = strides_of(in);
  for (int64_t i = 0; i < n; ++i) {
    const auto c = coords(out, i);
    int64_t src = 0;
    for (size_t k = 0; k < c.size(); ++k) src += c[k] * is[size_t(perm[k])];
    ASSERT_EQ(0, std::memcmp(&y[size_t(i) * es], &x[size_t(src) * es], es))
        << ctx << " output element " << i << " (tile_dim=" << p.tile_dim << ", collapsed rank " << p.rank << ")";
  }
  ASSERT_EQ(y[size_t(n) * es], 0xEE) << ctx << ": wrote past the end";
}

TEST(Transpose, RandomRanks1To6) {
  const uint32_t seed = 51;
  std::mt19937 rng(seed);
  for (int it = 0; it < 300; ++it) {
    const size_t rank = 1 + rng() % 6;
    const Shape in = random_shape(rng, rank, rank <= 3 ? 40 : 6);
    std::vector<int64_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const size_t es = kElemSizes[rng() % 4];
    check_transpose(in, perm, es,
                    "in=" + shape_str(in) + " perm=" + shape_str(perm) + " es=" + std::to_string(es) +
                        " seed=" + std::to_string(seed) + " it=" + std::to_string(it));
    if (HasFatalFailure()) return;
  }
}

TEST(Transpose, NchwNhwcUseTiles) {
  for (size_t es : kElemSizes) {
    const Shape nchw{2, 37, 19, 23};
    const std::vector<int64_t> to_nhwc{0, 2, 3, 1}, to_nchw{0, 3, 1, 2};
    StridedCopyParams p;
    ASSERT_TRUE(prepare_transpose(Span<const int64_t>(nchw), Span<const int64_t>(to_nhwc), es, &p));
    EXPECT_EQ(p.rank, 3);  // [N, H*W, C]
    EXPECT_EQ(p.tile_dim, 1);
    check_transpose(nchw, to_nhwc, es, "NCHW->NHWC es=" + std::to_string(es));
    const Shape nhwc{1, 19, 23, 37};
    ASSERT_TRUE(prepare_transpose(Span<const int64_t>(nhwc), Span<const int64_t>(to_nchw), es, &p));
    EXPECT_EQ(p.rank, 2);  // N=1 drops: a plain 2-D transpose
    check_transpose(nhwc, to_nchw, es, "NHWC->NCHW es=" + std::to_string(es));
  }
  // Identity permutations and size-1 dims collapse to one memcpy.
  StridedCopyParams p;
  const Shape s{3, 1, 5};
  const std::vector<int64_t> id{0, 1, 2}, swap1{1, 0, 2};
  ASSERT_TRUE(prepare_transpose(Span<const int64_t>(s), Span<const int64_t>(id), 4, &p));
  EXPECT_EQ(p.rank, 1);
  ASSERT_TRUE(prepare_transpose(Span<const int64_t>(s), Span<const int64_t>(swap1), 4, &p));
  EXPECT_EQ(p.rank, 1);
  const std::vector<int64_t> bad{0, 0, 1};
  EXPECT_FALSE(prepare_transpose(Span<const int64_t>(s), Span<const int64_t>(bad), 4, &p));
}

TEST(Transpose, NarrowChannelsToNhwc) {
  // 2 to 4 channels (an RGB image going NHWC) take the narrow loop; 5 the generic tiles.
  for (size_t es : kElemSizes)
    for (int64_t c : {2, 3, 4, 5}) {
      const Shape nchw{2, c, 7, 9};
      check_transpose(nchw, {0, 2, 3, 1}, es, "C=" + std::to_string(c) + " es=" + std::to_string(es));
      check_transpose(Shape{c, 33}, {1, 0}, es, "2-D C=" + std::to_string(c) + " es=" + std::to_string(es));
    }
}

// ---- Slice --------------------------------------------------------------------------------------

TEST(Slice, RandomWithNegativeSteps) {
  const uint32_t seed = 61;
  std::mt19937 rng(seed);
  for (int it = 0; it < 400; ++it) {
    const size_t rank = 1 + rng() % 5;
    const Shape in = random_shape(rng, rank, 9);
    Shape out(rank);
    std::vector<int64_t> starts(rank), steps(rank);
    for (size_t k = 0; k < rank; ++k) {
      const int mode = int(rng() % 4);
      if (mode == 0) {  // untouched
        starts[k] = 0;
        steps[k] = 1;
        out[k] = in[k];
        continue;
      }
      int64_t step = 1 + int64_t(rng() % 3);
      if (mode == 3) step = -step;
      const int64_t start = int64_t(rng() % uint64_t(in[k]));
      // Length so that the last index stays in bounds.
      const int64_t room = step > 0 ? (in[k] - 1 - start) / step : start / (-step);
      starts[k] = start;
      steps[k] = step;
      out[k] = rng() % 10 == 0 ? 0 : 1 + int64_t(rng() % uint64_t(room + 1));
    }
    const size_t es = kElemSizes[rng() % 4];
    const std::string ctx = "in=" + shape_str(in) + " starts=" + shape_str(starts) + " steps=" + shape_str(steps) +
                            " out=" + shape_str(out) + " es=" + std::to_string(es) + " seed=" + std::to_string(seed) +
                            " it=" + std::to_string(it);
    StridedCopyParams p;
    ASSERT_TRUE(prepare_slice(Span<const int64_t>(in), Span<const int64_t>(starts), Span<const int64_t>(steps),
                              Span<const int64_t>(out), es, &p))
        << ctx;
    const int64_t n = num_elements(out);
    const auto x = pattern(num_elements(in), es, uint32_t(it));
    std::vector<uint8_t> y(size_t(n) * es + 8, 0xEE);
    strided_copy(p, x.data(), y.data());
    const auto is = strides_of(in);
    for (int64_t i = 0; i < n; ++i) {
      const auto c = coords(out, i);
      int64_t src = 0;
      for (size_t k = 0; k < rank; ++k) src += (starts[k] + c[k] * steps[k]) * is[k];
      ASSERT_EQ(0, std::memcmp(&y[size_t(i) * es], &x[size_t(src) * es], es)) << ctx << " element " << i;
    }
    ASSERT_EQ(y[size_t(n) * es], 0xEE) << ctx;
  }
}

TEST(Slice, ReverseWholeTensorAndRejectsOutOfBounds) {
  const Shape in{3, 4};
  const std::vector<int64_t> starts{2, 3}, steps{-1, -1};
  StridedCopyParams p;
  ASSERT_TRUE(prepare_slice(Span<const int64_t>(in), Span<const int64_t>(starts), Span<const int64_t>(steps),
                            Span<const int64_t>(in), 4, &p));
  EXPECT_EQ(p.rank, 1);  // a full reversal is one dim with stride -1
  std::vector<float> x(12), y(12);
  std::iota(x.begin(), x.end(), 0.f);
  strided_copy(p, x.data(), y.data());
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y[size_t(i)], float(11 - i));
  const std::vector<int64_t> starts2{0, 0}, steps2{2, 1}, out2{2, 4};  // rows 0 and 2: ok
  EXPECT_TRUE(prepare_slice(Span<const int64_t>(in), Span<const int64_t>(starts2), Span<const int64_t>(steps2),
                            Span<const int64_t>(out2), 4, &p));
  const std::vector<int64_t> out3{3, 4};  // rows 0, 2, 4: out of bounds
  EXPECT_FALSE(prepare_slice(Span<const int64_t>(in), Span<const int64_t>(starts2), Span<const int64_t>(steps2),
                             Span<const int64_t>(out3), 4, &p));
}

// ---- Concat / Split -----------------------------------------------------------------------------

TEST(ConcatSplit, RandomAxesRoundTrip) {
  const uint32_t seed = 71;
  std::mt19937 rng(seed);
  for (int it = 0; it < 200; ++it) {
    const size_t rank = 1 + rng() % 4;
    const Shape base = random_shape(rng, rank, 5);
    const size_t axis = rng() % rank;
    const size_t parts = 1 + rng() % 4;
    const size_t es = kElemSizes[rng() % 4];
    std::vector<Shape> shapes(parts, base);
    Shape out = base;
    out[axis] = 0;
    for (auto& s : shapes) {
      s[axis] = int64_t(rng() % 4);  // includes empty parts
      out[axis] += s[axis];
    }
    int64_t outer = 1, inner = int64_t(es);
    for (size_t k = 0; k < axis; ++k) outer *= base[k];
    for (size_t k = axis + 1; k < rank; ++k) inner *= base[k];
    std::vector<int64_t> chunks;
    std::vector<std::vector<uint8_t>> ins;
    std::vector<const void*> ptrs;
    for (size_t i = 0; i < parts; ++i) {
      chunks.push_back(shapes[i][axis] * inner);
      ins.push_back(pattern(num_elements(shapes[i]), es, uint32_t(it * 10 + i)));
    }
    for (auto& v : ins) ptrs.push_back(v.data());
    std::vector<uint8_t> y(size_t(num_elements(out)) * es + 1, 0xEE);
    concat(outer, Span<const int64_t>(chunks), ptrs.data(), y.data());
    const std::string ctx = "base=" + shape_str(base) + " axis=" + std::to_string(axis) + " es=" + std::to_string(es) +
                            " seed=" + std::to_string(seed) + " it=" + std::to_string(it);
    for (int64_t i = 0; i < num_elements(out); ++i) {
      auto c = coords(out, i);
      size_t part = 0;
      while (c[axis] >= shapes[part][axis]) c[axis] -= shapes[part++][axis];
      const auto st = strides_of(shapes[part]);
      int64_t src = 0;
      for (size_t k = 0; k < rank; ++k) src += c[k] * st[k];
      ASSERT_EQ(0, std::memcmp(&y[size_t(i) * es], &ins[part][size_t(src) * es], es)) << ctx << " element " << i;
    }
    ASSERT_EQ(y.back(), 0xEE) << ctx;
    // Split undoes Concat.
    std::vector<std::vector<uint8_t>> outs(parts);
    std::vector<void*> optrs;
    for (size_t i = 0; i < parts; ++i) outs[i].assign(ins[i].size(), 0);
    for (auto& v : outs) optrs.push_back(v.data());
    split(outer, Span<const int64_t>(chunks), y.data(), optrs.data());
    for (size_t i = 0; i < parts; ++i) ASSERT_EQ(outs[i], ins[i]) << ctx << " part " << i;
  }
}

// ---- Pad ----------------------------------------------------------------------------------------

int64_t ref_source(int64_t o, int64_t pb, int64_t n, PadMode mode) {
  const int64_t i = o - pb;
  if (i >= 0 && i < n) return i;
  if (mode == PadMode::Constant) return -1;
  if (mode == PadMode::Edge) return std::clamp<int64_t>(i, 0, n - 1);
  // numpy "reflect", by repeated mirroring
  int64_t j = i;
  while (j < 0 || j >= n) {
    if (n == 1) return 0;
    if (j < 0) j = -j;
    if (j >= n) j = 2 * (n - 1) - j;
  }
  return j;
}

TEST(Pad, RandomAllModes) {
  const uint32_t seed = 81;
  std::mt19937 rng(seed);
  const char* mode_names[] = {"constant", "reflect", "edge"};
  for (int it = 0; it < 400; ++it) {
    const size_t rank = 1 + rng() % 5;
    const Shape in = random_shape(rng, rank, 6);
    const PadMode mode = PadMode(rng() % 3);
    std::vector<int64_t> pads(2 * rank, 0);
    for (size_t k = 0; k < rank; ++k) {
      if (rng() % 3 == 0) continue;  // unpadded dim (merged / part of the block)
      // ONNX limits reflect pads to size-1; the kernel also handles larger ones periodically.
      const int64_t limit = mode == PadMode::Reflect ? in[k] - 1 + (rng() % 4 == 0 ? 2 * in[k] : 0) : 4;
      pads[k] = int64_t(rng() % uint64_t(limit + 1));
      pads[rank + k] = int64_t(rng() % uint64_t(limit + 1));
      // Negative pads (cropping) for constant mode.
      if (mode == PadMode::Constant && rng() % 5 == 0) pads[k] = -int64_t(rng() % uint64_t(in[k]));
    }
    Shape out(rank);
    for (size_t k = 0; k < rank; ++k) out[k] = in[k] + pads[k] + pads[rank + k];
    const size_t es = kElemSizes[rng() % 4];
    uint8_t value[8];
    for (auto& b : value) b = uint8_t(rng());
    const std::string ctx = std::string(mode_names[int(mode)]) + " in=" + shape_str(in) + " pads=" + shape_str(pads) +
                            " es=" + std::to_string(es) + " seed=" + std::to_string(seed) + " it=" + std::to_string(it);
    PadParams p;
    ASSERT_TRUE(prepare_pad(Span<const int64_t>(in), Span<const int64_t>(pads), mode, es, value, &p)) << ctx;
    const auto x = pattern(num_elements(in), es, uint32_t(it));
    const int64_t n = num_elements(out);
    std::vector<uint8_t> y(size_t(n) * es + 1, 0xEE);
    pad(p, x.data(), y.data());
    const auto is = strides_of(in);
    for (int64_t i = 0; i < n; ++i) {
      const auto c = coords(out, i);
      int64_t src = 0;
      bool constant = false;
      for (size_t k = 0; k < rank; ++k) {
        const int64_t s = ref_source(c[k], pads[k], in[k], mode);
        if (s < 0) constant = true;
        src += s * is[k];
      }
      const uint8_t* want = constant ? value : &x[size_t(src) * es];
      ASSERT_EQ(0, std::memcmp(&y[size_t(i) * es], want, es)) << ctx << " element " << i;
    }
    ASSERT_EQ(y.back(), 0xEE) << ctx;
  }
}

TEST(Pad, ByHand) {
  // ONNX test_reflect_pad / test_edge_pad style, rank 2, float.
  const Shape in{2, 3};
  const std::vector<int64_t> pads{0, 2, 0, 1};  // cols: 2 before, 1 after
  const float x[] = {1, 2, 3, 4, 5, 6};
  float y[12];
  PadParams p;
  ASSERT_TRUE(prepare_pad(Span<const int64_t>(in), Span<const int64_t>(pads), PadMode::Reflect, 4, nullptr, &p));
  pad(p, x, y);
  const float reflect[] = {3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y[i], reflect[i]) << i;
  ASSERT_TRUE(prepare_pad(Span<const int64_t>(in), Span<const int64_t>(pads), PadMode::Edge, 4, nullptr, &p));
  pad(p, x, y);
  const float edge[] = {1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y[i], edge[i]) << i;
  const float v = 1.5f;
  ASSERT_TRUE(prepare_pad(Span<const int64_t>(in), Span<const int64_t>(pads), PadMode::Constant, 4, &v, &p));
  pad(p, x, y);
  const float constant[] = {1.5f, 1.5f, 1, 2, 3, 1.5f, 1.5f, 1.5f, 4, 5, 6, 1.5f};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y[i], constant[i]) << i;
  // NHWC spatial padding keeps C as the contiguous block.
  const Shape nhwc{1, 4, 4, 8};
  const std::vector<int64_t> sp{0, 1, 1, 0, 0, 1, 1, 0};
  ASSERT_TRUE(prepare_pad(Span<const int64_t>(nhwc), Span<const int64_t>(sp), PadMode::Constant, 4, &v, &p));
  EXPECT_EQ(p.block_bytes, 8 * 4);
}

// ---- Cast ---------------------------------------------------------------------------------------

TEST(Cast, FloatToIntegerTruncatesAndSaturates) {
  const float x[] = {2.7f, -2.7f, 0.5f, -0.5f, 300.f, -300.f, NAN, INFINITY, -INFINITY, 1e20f};
  int8_t i8[10];
  ASSERT_TRUE(cast(DType::F32, DType::I8, x, i8, 10));
  const int8_t want_i8[] = {2, -2, 0, 0, 127, -128, 0, 127, -128, 127};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(i8[i], want_i8[i]) << i;
  uint8_t u8[10];
  ASSERT_TRUE(cast(DType::F32, DType::U8, x, u8, 10));
  const uint8_t want_u8[] = {2, 0, 0, 0, 255, 0, 0, 255, 0, 255};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(u8[i], want_u8[i]) << i;
  int64_t i64[10];
  ASSERT_TRUE(cast(DType::F32, DType::I64, x, i64, 10));
  EXPECT_EQ(i64[0], 2);
  EXPECT_EQ(i64[5], -300);
  EXPECT_EQ(i64[9], std::numeric_limits<int64_t>::max());
  int32_t i32[10];
  ASSERT_TRUE(cast(DType::F32, DType::I32, x, i32, 10));
  EXPECT_EQ(i32[9], std::numeric_limits<int32_t>::max());
}

TEST(Cast, IntegerWrapsBoolAndFloat) {
  const int32_t x[] = {300, -1, 0, 128, -129};
  int8_t y[5];
  ASSERT_TRUE(cast(DType::I32, DType::I8, x, y, 5));
  const int8_t want[] = {44, -1, 0, -128, 127};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(y[i], want[i]) << i;
  uint8_t b[5];
  ASSERT_TRUE(cast(DType::I32, DType::Bool, x, b, 5));
  const uint8_t want_b[] = {1, 1, 0, 1, 1};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b[i], want_b[i]) << i;
  const uint8_t bools[] = {0, 1, 2};  // any nonzero byte reads as true
  float f[3];
  ASSERT_TRUE(cast(DType::Bool, DType::F32, bools, f, 3));
  EXPECT_EQ(f[0], 0.f);
  EXPECT_EQ(f[1], 1.f);
  EXPECT_EQ(f[2], 1.f);
  const float fx[] = {0.f, -0.f, NAN, 0.1f};
  uint8_t fb[4];
  ASSERT_TRUE(cast(DType::F32, DType::Bool, fx, fb, 4));
  EXPECT_EQ(fb[0], 0);
  EXPECT_EQ(fb[1], 0);
  EXPECT_EQ(fb[2], 1);
  EXPECT_EQ(fb[3], 1);
  const int64_t big[] = {(int64_t(1) << 40) + 5, -7};
  float g[2];
  ASSERT_TRUE(cast(DType::I64, DType::F32, big, g, 2));
  EXPECT_EQ(g[0], float((int64_t(1) << 40) + 5));
  EXPECT_EQ(g[1], -7.f);
  const uint8_t u[] = {255, 0};
  int16_t s16[2];
  ASSERT_TRUE(cast(DType::U8, DType::I16, u, s16, 2));
  EXPECT_EQ(s16[0], 255);
  float same[2] = {0, 0};
  const float src[2] = {1.25f, -2.f};
  ASSERT_TRUE(cast(DType::F32, DType::F32, src, same, 2));
  EXPECT_EQ(same[0], 1.25f);
  EXPECT_FALSE(cast(DType::Invalid, DType::F32, src, same, 2));
}

// Every supported pair: random values against a reference built from the rules.
TEST(Cast, AllPairsRandom) {
  const DType types[] = {DType::F32, DType::I8, DType::U8, DType::I16, DType::I32, DType::I64, DType::Bool};
  std::mt19937 rng(91);
  for (DType from : types)
    for (DType to : types) {
      const size_t n = 64;
      std::vector<uint8_t> in(n * 8), out(n * 8 + 8, 0xEE);
      for (auto& b : in) b = uint8_t(rng());
      if (from == DType::F32) {  // finite, moderate floats
        std::uniform_real_distribution<float> d(-70000.f, 70000.f);
        for (size_t i = 0; i < n; ++i) {
          const float v = rng() % 4 ? d(rng) : float(int(rng() % 7) - 3);
          std::memcpy(&in[i * 4], &v, 4);
        }
      }
      ASSERT_TRUE(cast(from, to, in.data(), out.data(), n));
      for (size_t i = 0; i < n; ++i) {
        // Source value as double (exact for all but large int64, which we keep below 2^53 here
        // by comparing through int64 for integer targets).
        bool is_float = from == DType::F32;
        double fv = 0;
        int64_t iv = 0;
        switch (from) {
          case DType::F32: {
            float v;
            std::memcpy(&v, &in[i * 4], 4);
            fv = v;
            break;
          }
          case DType::I8: iv = int8_t(in[i]); break;
          case DType::U8: iv = in[i]; break;
          case DType::I16: {
            int16_t v;
            std::memcpy(&v, &in[i * 2], 2);
            iv = v;
            break;
          }
          case DType::I32: {
            int32_t v;
            std::memcpy(&v, &in[i * 4], 4);
            iv = v;
            break;
          }
          case DType::I64: {
            int64_t v;
            std::memcpy(&v, &in[i * 8], 8);
            iv = v;
            break;
          }
          case DType::Bool: iv = in[i] != 0; break;
          default: break;
        }
        const size_t es = dtype_size(to);
        const uint8_t* got = &out[i * es];
        const std::string ctx = std::string(dtype_name(from)) + "->" + dtype_name(to) + " element " + std::to_string(i);
        if (to == DType::Bool) {
          ASSERT_EQ(*got, (is_float ? fv != 0 : iv != 0) ? 1 : 0) << ctx;
        } else if (to == DType::F32) {
          float g;
          std::memcpy(&g, got, 4);
          ASSERT_EQ(g, is_float ? float(fv) : float(iv)) << ctx;
        } else {
          int64_t want;
          if (is_float) {
            const double t = std::trunc(fv);
            const double lo = to == DType::I8    ? -128
                              : to == DType::U8  ? 0
                              : to == DType::I16 ? -32768
                              : to == DType::I32 ? -2147483648.0
                                                 : -9.2e18;
            const double hi = to == DType::I8    ? 127
                              : to == DType::U8  ? 255
                              : to == DType::I16 ? 32767
                              : to == DType::I32 ? 2147483647.0
                                                 : 9.2e18;
            want = int64_t(std::min(std::max(t, lo), hi));
          } else {
            const uint64_t bits = uint64_t(iv);
            want = to == DType::I8    ? int64_t(int8_t(bits))
                   : to == DType::U8  ? int64_t(uint8_t(bits))
                   : to == DType::I16 ? int64_t(int16_t(bits))
                   : to == DType::I32 ? int64_t(int32_t(bits))
                                      : iv;
          }
          int64_t g = 0;
          switch (to) {
            case DType::I8: g = int8_t(*got); break;
            case DType::U8: g = *got; break;
            case DType::I16: {
              int16_t v;
              std::memcpy(&v, got, 2);
              g = v;
              break;
            }
            case DType::I32: {
              int32_t v;
              std::memcpy(&v, got, 4);
              g = v;
              break;
            }
            case DType::I64: std::memcpy(&g, got, 8); break;
            default: break;
          }
          ASSERT_EQ(g, want) << ctx;
        }
      }
      ASSERT_EQ(out[n * dtype_size(to)], 0xEE) << dtype_name(from) << "->" << dtype_name(to);
    }
}

}  // namespace
}  // namespace neutron
