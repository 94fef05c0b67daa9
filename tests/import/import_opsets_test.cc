// Opsets 7 to 18 (issue 16, deliverable 1): each op of the issue's list, and the shape ops around
// them, is built at every opset where its ONNX signature changed (an attribute becoming an input,
// a new attribute, new semantics) and run; the result must equal, bit for bit, the same model at
// opset 13 (or a hand-written equivalent where the semantics differ on purpose). Versions from
// onnx/onnx docs/Changelog.md:
//   Expand 8, 13; Where 9, 16; PRelu 7, 9, 16; LeakyRelu 6, 16; GRU / LSTM 7, 14 (layout);
//   ConvTranspose 1, 11 (the split of generated pads); Div 7, 13, 14; Gather 1, 11, 13;
//   ReduceL2 / Mean / Max 1, 11, 13, 18 (axes input); ReduceSum 1, 11, 13 (axes input);
//   Reshape 5, 13, 14 (allowzero); Squeeze / Unsqueeze 1, 11, 13 (axes input);
//   Split 2, 11, 13 (split input), 18 (num_outputs); Resize 10, 11, 13, 18 (axes, policies);
//   Upsample 7, 9; Pad 2, 11 (inputs), 13, 18 (axes); Clip 6, 11 (inputs) in F.normalize.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "onnx_builder.h"
#include "passes/prequant_test_util.h"

namespace neutron::testing {
namespace {

using Build = std::function<OnnxBuilder(int opset)>;

TensorData random_tensor(const Shape& s, std::mt19937& rng) {
  TensorData t(DType::F32, s);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  std::bernoulli_distribution neg(0.5);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = neg(rng) ? -u(rng) : u(rng);
  return t;
}

// Float inputs for the graph's runtime inputs (the same for every opset: same shapes, same seed).
std::vector<TensorData> inputs_of(const Graph& g) {
  std::mt19937 rng(5);
  std::vector<TensorData> r;
  for (TensorId t : g.inputs) r.push_back(random_tensor(g.tensor(t).shape, rng));
  return r;
}

StatusOr<std::vector<TensorData>> run(const OnnxBuilder& b) {
  ASSIGN_OR_RETURN(Graph g, b.import());
  Graph p = g;
  RETURN_IF_ERROR(run_passes(p, cpu_pipeline()));
  ASSIGN_OR_RETURN(auto ex, Executor::create(p));
  std::vector<TensorData> outs;
  RETURN_IF_ERROR(ex->run(inputs_of(g), &outs));
  return outs;
}

// Runs build(opset) for each opset and compares every output with `reference` bit for bit.
void expect_same(const std::string& what, const Build& build, const std::vector<int>& opsets, const OnnxBuilder& reference) {
  auto want = run(reference);
  ASSERT_TRUE(want.ok()) << what << " (reference): " << want.status().to_string();
  for (int opset : opsets) {
    SCOPED_TRACE(what + " at opset " + std::to_string(opset));
    auto got = run(build(opset));
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), want->size());
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].shape, (*want)[i].shape) << "output " << i;
      EXPECT_EQ((*got)[i].bytes, (*want)[i].bytes) << "output " << i;
    }
  }
}
void expect_same(const std::string& what, const Build& build, const std::vector<int>& opsets) {
  expect_same(what, build, opsets, build(13));
}

TensorData ints(const std::vector<int64_t>& v) { return TensorData::from<int64_t>({int64_t(v.size())}, v); }
TensorData floats(const Shape& s, std::vector<float> v) { return TensorData::from<float>(s, v); }
TensorData seeded(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  return random_tensor(s, rng);
}

// An attribute before `since`, a constant input from it on (axes, split, pads).
void ints_operand(OnnxBuilder& b, onnx::NodeProto* n, int opset, int since, const std::string& name,
                  const std::vector<int64_t>& v) {
  if (opset < since) {
    OnnxBuilder::attr(n, name, v);
    return;
  }
  const std::string t = n->name() + "_" + name;
  b.init(t, ints(v));
  n->add_input(t);
}

TEST(ImportOpsets, ExpandWhereDivGather) {
  expect_same("Expand", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {3, 1}).init("shape", ints({2, 3, 4}));
    b.node("Expand", {"x", "shape"}, {"y"}, "expand");
    return b.output("y");
  }, {8, 13, 18});
  expect_same("Where", [](int o) {
    OnnxBuilder b(o);
    TensorData cond(DType::Bool, {2, 3});
    for (int i = 0; i < 6; ++i) cond.bytes[size_t(i)] = uint8_t(i % 2);
    b.input("x", kFloat, {2, 3}).init("cond", cond).init("y0", floats({1, 3}, {7, 8, 9}));
    b.node("Where", {"cond", "x", "y0"}, {"y"}, "where");
    return b.output("y");
  }, {9, 13, 16, 18});
  expect_same("Div by a run-time tensor", [](int o) {
    OnnxBuilder b(o);
    b.input("a", kFloat, {2, 3, 4}).input("b", kFloat, {3, 1});
    b.node("Div", {"a", "b"}, {"y"}, "div");
    return b.output("y");
  }, {7, 13, 14, 18});
  for (int64_t axis : {0, 1}) {
    expect_same("Gather axis " + std::to_string(axis), [axis](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {5, 4}).init("idx", TensorData::from<int64_t>({2, 2}, {0, 3, 2, 1}));
      OnnxBuilder::attr(b.node("Gather", {"x", "idx"}, {"y"}, "gather"), "axis", axis);
      return b.output("y");
    }, {7, 11, 13, 18});
  }
  // Negative indices (defined from opset 11) count from the end.
  OnnxBuilder positive(13);
  positive.input("x", kFloat, {5, 4}).init("idx", TensorData::from<int64_t>({2}, {4, 0}));
  positive.node("Gather", {"x", "idx"}, {"y"}, "gather");
  positive.output("y");
  expect_same("Gather negative indices", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {5, 4}).init("idx", TensorData::from<int64_t>({2}, {-1, -5}));
    b.node("Gather", {"x", "idx"}, {"y"}, "gather");
    return b.output("y");
  }, {11, 13, 18}, positive);
}

TEST(ImportOpsets, PReluAndLeakyRelu) {
  for (const Shape& slope : {Shape{3, 1, 1}, Shape{1}}) {
    expect_same("PRelu slope " + shape_str(slope), [slope](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {1, 3, 4, 4}).init("slope", seeded(slope, 3));
      b.node("PRelu", {"x", "slope"}, {"y"}, "prelu");
      return b.output("y");
    }, {7, 9, 13, 16, 18});
  }
  expect_same("LeakyRelu", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 5});
    OnnxBuilder::attr(b.node("LeakyRelu", {"x"}, {"y"}, "lrelu"), "alpha", 0.2f);
    return b.output("y");
  }, {6, 13, 16, 18});
  expect_same("LeakyRelu default alpha", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 5});
    b.node("LeakyRelu", {"x"}, {"y"}, "lrelu");
    return b.output("y");
  }, {6, 13, 16, 18});
}

TEST(ImportOpsets, GruAndLstm) {
  for (bool lstm : {false, true}) {
    const int64_t G = lstm ? 4 : 3, H = 4, I = 3;
    expect_same(lstm ? "LSTM" : "GRU", [=](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {5, 2, I});
      b.init("W", seeded({2, G * H, I}, 1)).init("R", seeded({2, G * H, H}, 2)).init("B", seeded({2, 2 * G * H}, 3));
      b.init("h0", seeded({2, 2, H}, 4));
      std::vector<std::string> in = {"x", "W", "R", "B", "", "h0"};
      if (lstm) {
        b.init("c0", seeded({2, 2, H}, 5)).init("P", seeded({2, 3 * H}, 6));
        in.push_back("c0");
        in.push_back("P");
      }
      auto* n = b.node(lstm ? "LSTM" : "GRU", in, {"y", "y_h"}, "rnn");
      OnnxBuilder::attr(n, "hidden_size", H);
      OnnxBuilder::attr(n, "direction", std::string("bidirectional"));
      if (o >= 14) OnnxBuilder::attr(n, "layout", int64_t(0));
      return b.output("y").output("y_h");
    }, {7, 13, 14, 18});
  }
}

// Initial states as PyTorch exports them: Expand of zeros (equal to no initial state) or of a
// run-time input, at opset 8 (Expand's first), 13 and 14 (layout 1: [batch, directions, hidden]).
TEST(ImportOpsets, RecurrentInitialStateFromExpand) {
  const int64_t H = 4, I = 3, B = 2, T = 5;
  auto model = [=](int o, const std::string& init, bool batch_first) {
    OnnxBuilder b(o);
    b.input("x", kFloat, batch_first ? std::vector<int64_t>{B, T, I} : std::vector<int64_t>{T, B, I});
    if (init == "input") b.input("h", kFloat, {1, 1, H});
    b.init("W", seeded({1, 3 * H, I}, 1)).init("R", seeded({1, 3 * H, H}, 2));
    std::string h0;
    if (init == "zeros" || init == "input") {
      const std::string src = init == "zeros" ? "zero" : "h";
      if (init == "zeros") b.init("zero", floats({1, 1, 1}, {0}));
      b.init("state_shape", ints(batch_first ? std::vector<int64_t>{B, 1, H} : std::vector<int64_t>{1, B, H}));
      b.node("Expand", {src, "state_shape"}, {"h0"}, "expand_h0");
      h0 = "h0";
    }
    auto* n = b.node("GRU", {"x", "W", "R", "", "", h0}, {"y", "y_h"}, "gru");
    OnnxBuilder::attr(n, "hidden_size", H);
    if (batch_first) OnnxBuilder::attr(n, "layout", int64_t(1));
    return b.output("y").output("y_h");
  };
  expect_same("GRU h0 = Expand(zeros)", [&](int o) { return model(o, "zeros", false); }, {8, 13, 14, 18},
              model(13, "none", false));
  expect_same("GRU h0 = Expand(zeros), layout 1", [&](int o) { return model(o, "zeros", true); }, {14, 18},
              model(14, "none", true));
  expect_same("GRU h0 = Expand(input)", [&](int o) { return model(o, "input", false); }, {8, 13, 14, 18});
}

// ConvTranspose: 2-D and 1-D, any stride, pads, output_padding, groups 1 and depthwise.
TEST(ImportOpsets, ConvTranspose) {
  struct Ct {
    Shape x, w;
    std::vector<int64_t> strides, pads, output_padding;
    int64_t group;
  };
  const std::vector<Ct> cases = {
      {{1, 3, 5, 4}, {3, 2, 3, 3}, {2, 2}, {1, 0, 0, 1}, {1, 1}, 1},
      {{1, 4, 3, 3}, {4, 1, 2, 2}, {3, 2}, {0, 0, 0, 0}, {2, 1}, 4},  // depthwise
      {{1, 2, 9}, {2, 3, 8}, {4}, {2, 2}, {0}, 1},                    // 1-D, k = 8, s = 4 (a vocoder's)
  };
  int k = 0;
  for (const Ct& c : cases) {
    expect_same("ConvTranspose case " + std::to_string(k), [&c, k](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, c.x).init("w", seeded(c.w, 10 + uint32_t(k))).init("bias", seeded({c.w[1] * c.group}, 20));
      auto* n = b.node("ConvTranspose", {"x", "w", "bias"}, {"y"}, "ct");
      OnnxBuilder::attr(n, "strides", c.strides);
      OnnxBuilder::attr(n, "pads", c.pads);
      OnnxBuilder::attr(n, "output_padding", c.output_padding);
      OnnxBuilder::attr(n, "group", c.group);
      return b.output("y");
    }, {7, 11, 13, 18});
    ++k;
  }
  // output_shape with an odd total padding: ConvTranspose-1 puts the odd pixel at the end (start =
  // total / 2) unless auto_pad is SAME_UPPER; ConvTranspose-11 at the beginning unless SAME_UPPER.
  // natural size 2 * (4 - 1) + 3 = 9, requested 6: total 3.
  auto with_shape = [](int o, const std::string& auto_pad) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {1, 1, 4, 4}).init("w", seeded({1, 1, 3, 3}, 7));
    auto* n = b.node("ConvTranspose", {"x", "w"}, {"y"}, "ct");
    OnnxBuilder::attr(n, "strides", std::vector<int64_t>{2, 2});
    OnnxBuilder::attr(n, "output_shape", std::vector<int64_t>{6, 6});
    if (!auto_pad.empty()) OnnxBuilder::attr(n, "auto_pad", auto_pad);
    return b.output("y");
  };
  auto with_pads = [](std::vector<int64_t> pads) {
    OnnxBuilder b(13);
    b.input("x", kFloat, {1, 1, 4, 4}).init("w", seeded({1, 1, 3, 3}, 7));
    auto* n = b.node("ConvTranspose", {"x", "w"}, {"y"}, "ct");
    OnnxBuilder::attr(n, "strides", std::vector<int64_t>{2, 2});
    OnnxBuilder::attr(n, "pads", pads);
    return b.output("y");
  };
  const std::vector<int64_t> end_heavy = {1, 1, 2, 2}, begin_heavy = {2, 2, 1, 1};
  expect_same("output_shape, NOTSET, opset < 11", [&](int o) { return with_shape(o, ""); }, {7, 10}, with_pads(end_heavy));
  expect_same("output_shape, NOTSET, opset >= 11", [&](int o) { return with_shape(o, ""); }, {11, 13, 18},
              with_pads(begin_heavy));
  expect_same("output_shape, SAME_UPPER, opset < 11", [&](int o) { return with_shape(o, "SAME_UPPER"); }, {7, 10},
              with_pads(begin_heavy));
  expect_same("output_shape, SAME_UPPER, opset >= 11", [&](int o) { return with_shape(o, "SAME_UPPER"); }, {11, 13, 18},
              with_pads(end_heavy));
}

TEST(ImportOpsets, ReductionsAxesAttributeOrInput) {
  struct R {
    const char* op;
    int input_since;
  };
  for (const R& r : {R{"ReduceL2", 18}, R{"ReduceMean", 18}, R{"ReduceMax", 18}, R{"ReduceSum", 13}}) {
    for (int64_t keepdims : {0, 1}) {
      expect_same(std::string(r.op) + " keepdims " + std::to_string(keepdims), [&](int o) {
        OnnxBuilder b(o);
        b.input("x", kFloat, {2, 3, 4});
        auto* n = b.node(r.op, {"x"}, {"y"}, "reduce");
        ints_operand(b, n, o, r.input_since, "axes", {1, 2});
        OnnxBuilder::attr(n, "keepdims", keepdims);
        return b.output("y");
      }, {7, 11, 12, 13, 17, 18});
    }
    // Negative axes (opset 11 on).
    expect_same(std::string(r.op) + " axis -1", [&](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {2, 3, 4});
      ints_operand(b, b.node(r.op, {"x"}, {"y"}, "reduce"), o, r.input_since, "axes", {-1});
      return b.output("y");
    }, {11, 13, 18});
    // No axes: every axis; with noop_with_empty_axes (the axes-input opsets) the input unchanged.
    expect_same(std::string(r.op) + " all axes", [&](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {2, 3, 4});
      b.node(r.op, {"x"}, {"y"}, "reduce");
      return b.output("y");
    }, {7, 13, 18});
    OnnxBuilder identity(13);
    identity.input("x", kFloat, {2, 3, 4});
    identity.node("Identity", {"x"}, {"y"}, "id");
    identity.output("y");
    expect_same(std::string(r.op) + " noop_with_empty_axes", [&](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {2, 3, 4});
      OnnxBuilder::attr(b.node(r.op, {"x"}, {"y"}, "reduce"), "noop_with_empty_axes", int64_t(1));
      return b.output("y");
    }, {r.input_since, 18}, identity);
  }
}

// F.normalize as PyTorch exports it (ReduceL2 -> Clip -> Expand -> Div) becomes one
// LpNormalization at every opset: Clip's bounds as attributes (before 11) or inputs, ReduceL2's
// axes as attribute (before 18) or input.
TEST(ImportOpsets, NormalizePatternIsOneLpNormalizationAtEveryOpset) {
  const Build build = [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 8}).init("shape", ints({2, 8}));
    auto* r = b.node("ReduceL2", {"x"}, {"norm"}, "norm");
    ints_operand(b, r, o, 18, "axes", {1});
    OnnxBuilder::attr(r, "keepdims", int64_t(1));
    auto* clip = b.node("Clip", {"norm"}, {"clamped"}, "clamp");
    if (o < 11) {
      OnnxBuilder::attr(clip, "min", 1e-12f);
    } else {
      b.init("eps", TensorData::from<float>({}, {1e-12f}));
      clip->add_input("eps");
    }
    b.node("Expand", {"clamped", "shape"}, {"denom"}, "expand");
    b.node("Div", {"x", "denom"}, {"y"}, "div");
    return b.output("y");
  };
  expect_same("F.normalize", build, {8, 11, 13, 17, 18});
  for (int o : {8, 11, 13, 18}) {
    SCOPED_TRACE(o);
    auto g = build(o).import();
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    Graph p = std::move(g).value();
    ASSERT_TRUE(run_passes(p, prequant_pipeline()).ok());
    EXPECT_EQ(count(p, OpKind::LpNormalization), 1);
    EXPECT_EQ(count(p, OpKind::Div), 0);
  }
}

TEST(ImportOpsets, ReshapeSqueezeUnsqueeze) {
  expect_same("Reshape", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 3, 4}).init("shape", ints({0, -1}));
    auto* n = b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
    if (o >= 14) OnnxBuilder::attr(n, "allowzero", int64_t(0));
    return b.output("y");
  }, {7, 13, 14, 18});
  for (std::vector<int64_t> axes : {std::vector<int64_t>{1}, std::vector<int64_t>{-2}}) {
    expect_same("Squeeze " + str_cat(axes), [&](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {2, 1, 3});
      ints_operand(b, b.node("Squeeze", {"x"}, {"y"}, "squeeze"), o, 13, "axes", axes);
      return b.output("y");
    }, axes[0] < 0 ? std::vector<int>{11, 13, 18} : std::vector<int>{7, 11, 13, 18});
  }
  expect_same("Squeeze all unit axes", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 1, 3, 1});
    b.node("Squeeze", {"x"}, {"y"}, "squeeze");
    return b.output("y");
  }, {7, 13, 18});
  for (std::vector<int64_t> axes : {std::vector<int64_t>{0, 3}, std::vector<int64_t>{-1, 0}}) {
    expect_same("Unsqueeze " + str_cat(axes), [&](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {2, 3});
      ints_operand(b, b.node("Unsqueeze", {"x"}, {"y"}, "unsqueeze"), o, 13, "axes", axes);
      return b.output("y");
    }, axes[0] < 0 ? std::vector<int>{11, 13, 18} : std::vector<int>{7, 11, 13, 18});
  }
}

TEST(ImportOpsets, Split) {
  expect_same("Split sizes", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 6});
    auto* n = b.node("Split", {"x"}, {"a", "b"}, "split");
    OnnxBuilder::attr(n, "axis", int64_t(1));
    ints_operand(b, n, o, 13, "split", {2, 4});
    return b.output("a").output("b");
  }, {7, 11, 13, 18});
  expect_same("Split evenly", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 6});
    auto* n = b.node("Split", {"x"}, {"a", "b", "c"}, "split");
    OnnxBuilder::attr(n, "axis", int64_t(-1));
    return b.output("a").output("b").output("c");
  }, {7, 11, 13, 18});
  // Opset 18's num_outputs: chunks of ceil(7 / 3) = 3, the last one smaller.
  OnnxBuilder sizes(13);
  sizes.input("x", kFloat, {2, 7}).init("split", ints({3, 3, 1}));
  OnnxBuilder::attr(sizes.node("Split", {"x", "split"}, {"a", "b", "c"}, "split"), "axis", int64_t(1));
  sizes.output("a").output("b").output("c");
  expect_same("Split num_outputs", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {2, 7});
    auto* n = b.node("Split", {"x"}, {"a", "b", "c"}, "split");
    OnnxBuilder::attr(n, "axis", int64_t(1));
    OnnxBuilder::attr(n, "num_outputs", int64_t(3));
    return b.output("a").output("b").output("c");
  }, {18}, sizes);
}

// Resize-10 (X, scales; asymmetric coordinates, floor for nearest) equals Resize-11+ with those
// attributes spelled out, and Upsample-7 / 9; opset 18's axes attribute names the resized axes.
TEST(ImportOpsets, ResizeAndUpsample) {
  for (const std::string mode : {"nearest", "linear"}) {
    const Build build = [mode](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {1, 2, 3, 4});
      const std::vector<float> scales = {1, 1, 2, 3};
      b.init("scales", floats({4}, scales));
      onnx::NodeProto* n;
      if (o < 10) {
        n = b.node("Upsample", {"x"}, {"y"}, "up");
        if (o < 9) OnnxBuilder::attr(n, "scales", scales);
        else n->add_input("scales");
      } else if (o == 10) {
        n = b.node("Resize", {"x", "scales"}, {"y"}, "resize");
      } else {
        b.init("roi", floats({0}, {}));
        n = b.node("Resize", {"x", "roi", "scales"}, {"y"}, "resize");
        OnnxBuilder::attr(n, "coordinate_transformation_mode", std::string("asymmetric"));
        OnnxBuilder::attr(n, "nearest_mode", std::string("floor"));
      }
      OnnxBuilder::attr(n, "mode", mode);
      return b.output("y");
    };
    expect_same("Resize " + mode, build, {7, 9, 10, 11, 13, 18});
  }
  // Sizes instead of scales (11+), and opset 18's axes: scales or sizes of the listed axes only.
  OnnxBuilder all_axes(13);
  all_axes.input("x", kFloat, {1, 2, 3, 4}).init("roi", floats({0}, {})).init("scales", floats({4}, {1, 1, 2, 2}));
  OnnxBuilder::attr(all_axes.node("Resize", {"x", "roi", "scales"}, {"y"}, "resize"), "mode", std::string("linear"));
  all_axes.output("y");
  expect_same("Resize sizes", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {1, 2, 3, 4}).init("roi", floats({0}, {})).init("scales", floats({0}, {}));
    b.init("sizes", ints({1, 2, 6, 8}));
    OnnxBuilder::attr(b.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"}, "resize"), "mode", std::string("linear"));
    return b.output("y");
  }, {11, 13, 18}, all_axes);
  for (bool use_sizes : {false, true}) {
    expect_same(use_sizes ? "Resize axes, sizes" : "Resize axes, scales", [use_sizes](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {1, 2, 3, 4}).init("roi", floats({0}, {}));
      std::vector<std::string> in = {"x", "roi"};
      if (use_sizes) {
        b.init("scales", floats({0}, {})).init("sizes", ints({8, 6}));
        in.push_back("scales");
        in.push_back("sizes");
      } else {
        b.init("scales", floats({2}, {2, 2}));
        in.push_back("scales");
      }
      auto* n = b.node("Resize", in, {"y"}, "resize");
      OnnxBuilder::attr(n, "mode", std::string("linear"));
      // Any order, negative allowed: sizes {8, 6} of axes {3, -2}.
      OnnxBuilder::attr(n, "axes", use_sizes ? std::vector<int64_t>{3, -2} : std::vector<int64_t>{2, 3});
      return b.output("y");
    }, {18}, all_axes);
  }
}

// Opset 18's keep_aspect_ratio_policy (sizes only): one scale for the listed axes, the smallest
// (not_larger) or largest (not_smaller) of sizes / in; the output is round(scale * in), which the
// IR's floor(in * scale) gives when the product is whole; otherwise the node is refused by name.
TEST(ImportOpsets, ResizeKeepAspectRatioPolicy) {
  OnnxBuilder all_axes(13);
  all_axes.input("x", kFloat, {1, 2, 3, 4}).init("roi", floats({0}, {})).init("scales", floats({4}, {1, 1, 2, 2}));
  OnnxBuilder::attr(all_axes.node("Resize", {"x", "roi", "scales"}, {"y"}, "resize"), "mode", std::string("linear"));
  all_axes.output("y");
  auto model = [](const std::string& policy, std::vector<int64_t> sizes) {
    OnnxBuilder b(18);
    b.input("x", kFloat, {1, 2, 3, 4}).init("roi", floats({0}, {})).init("scales", floats({0}, {}));
    b.init("sizes", ints(sizes));
    auto* n = b.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"}, "resize");
    OnnxBuilder::attr(n, "mode", std::string("linear"));
    OnnxBuilder::attr(n, "axes", std::vector<int64_t>{2, 3});
    OnnxBuilder::attr(n, "keep_aspect_ratio_policy", policy);
    return b.output("y");
  };
  expect_same("not_larger", [&](int) { return model("not_larger", {6, 10}); }, {18}, all_axes);
  expect_same("not_smaller", [&](int) { return model("not_smaller", {5, 8}); }, {18}, all_axes);
  auto r = model("not_larger", {6, 6}).import();  // scale 1.5: H = round(4.5) = 5, floor gives 4
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("node 'resize'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("keep_aspect_ratio_policy \"not_larger\""), std::string::npos)
      << r.status().message();
}

TEST(ImportOpsets, Pad) {
  for (const std::string mode : {"constant", "reflect", "edge"}) {
    expect_same("Pad " + mode, [mode](int o) {
      OnnxBuilder b(o);
      b.input("x", kFloat, {1, 3, 4});
      const std::vector<int64_t> pads = {0, 1, 2, 0, 2, 1};
      onnx::NodeProto* n;
      if (o < 11) {
        n = b.node("Pad", {"x"}, {"y"}, "pad");
        OnnxBuilder::attr(n, "pads", pads);
        if (mode == "constant") OnnxBuilder::attr(n, "value", 1.5f);
      } else {
        b.init("pads", ints(pads)).init("value", TensorData::from<float>({}, {1.5f}));
        n = b.node("Pad", {"x", "pads", mode == "constant" ? "value" : ""}, {"y"}, "pad");
      }
      OnnxBuilder::attr(n, "mode", mode);
      return b.output("y");
    }, {7, 11, 13, 18});
  }
  // Opset 18's axes: pads for the listed axes only.
  OnnxBuilder full(13);
  full.input("x", kFloat, {1, 3, 4}).init("pads", ints({0, 1, 2, 0, 2, 1}));
  full.node("Pad", {"x", "pads"}, {"y"}, "pad");
  full.output("y");
  expect_same("Pad axes", [](int o) {
    OnnxBuilder b(o);
    b.input("x", kFloat, {1, 3, 4}).init("pads", ints({2, 1, 1, 2})).init("axes", ints({-1, 1}));
    b.node("Pad", {"x", "pads", "", "axes"}, {"y"}, "pad");
    return b.output("y");
  }, {18}, full);
}

}  // namespace
}  // namespace neutron::testing
