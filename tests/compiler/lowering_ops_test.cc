// Per-op end-to-end checks of the lowering: a one-op int8 graph with random shapes (channel counts
// that are not multiples of num_macs, odd spatial sizes, every padding mode, strides, dilations,
// broadcasting, fused activations) goes through layout-nhwc, the compiler, NeutronBackend, the
// driver and the simulator, and must equal the CPU executor on the same graph BIT FOR BIT.
// Each case prints its seed and parameters on failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "compiler/npu_test_util.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;

constexpr int kSamples = 2;  // random inputs per case

QuantParams q8(double scale, int32_t zp) { return QuantParams::per_tensor(float(scale), zp); }

TensorData random_i8(std::mt19937& rng, Shape s) { return testing::random_int8(s, rng); }

QuantParams random_act_quant(std::mt19937& rng, double lo = 0.01, double hi = 0.1) {
  std::uniform_real_distribution<double> s(lo, hi);
  std::uniform_int_distribution<int> z(-40, 40);
  return q8(s(rng), z(rng));
}

// The graph the compiler sees: layout-nhwc (spatial ops channels-last, transposes at the
// boundary) and dead-code elimination, as prepare_partition_graph() does.
StatusOr<Graph> prepared(const Graph& g) {
  Graph p = g;
  static const std::vector<PassInfo> kLayout = {{"layout-nhwc", "", layout_nhwc}, {"dce", "", eliminate_dead_code}};
  RETURN_IF_ERROR(run_passes(p, kLayout));
  return p;
}

// Builds the op, compiles and compares; `what` describes the case.
void check_op(OpKind kind, const std::vector<Operand>& operands, const Attributes& attrs,
              const std::vector<OutputSpec>& outs, uint32_t seed, const std::string& what,
              const compiler::CompileOptions& options = {}) {
  SCOPED_TRACE(what + " seed " + std::to_string(seed));
  auto g = testing::make_single_op_graph(kind, operands, attrs, outs);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto p = prepared(g.value());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const testing::NpuVsCpu r = testing::compare_npu_cpu(p.value(), kSamples, seed, options, &g.value());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
  EXPECT_EQ(r.runs, kSamples);
}

Attributes act_attrs(std::mt19937& rng, Attributes a) {
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 1: a.set("act_min", 0.0); break;  // Relu
    case 2:
      a.set("act_min", 0.0);
      a.set("act_max", 6.0 * std::uniform_real_distribution<double>(0.02, 0.3)(rng));
      break;
    case 3: a.set("act_min", -0.5); a.set("act_max", 0.7); break;
    default: break;
  }
  return a;
}

// Padding of one spatial axis for an ONNX auto_pad mode (resolved the way the importer does).
void auto_pads(const std::string& mode, int64_t in, int64_t k, int64_t s, int64_t d, int64_t* begin, int64_t* end,
               std::mt19937& rng) {
  const int64_t eff = (k - 1) * d + 1;
  if (mode == "VALID") {
    *begin = *end = 0;
  } else if (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
    const int64_t out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>(0, (out - 1) * s + eff - in);
    *begin = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
    *end = total - *begin;
  } else {  // explicit, asymmetric
    *begin = std::uniform_int_distribution<int64_t>(0, k - 1)(rng);
    *end = std::uniform_int_distribution<int64_t>(0, k - 1)(rng);
  }
}

// ---------------------------------------------------------------------------------------------

TEST(LowerOps, ConvStandardDepthwisePointwiseGrouped) {
  const char* kModes[] = {"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"};
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int kind = seed % 4;  // 0 standard, 1 depthwise, 2 pointwise, 3 grouped
    int64_t cin = ri(1, 19), group = 1, mult = 1;
    if (kind == 1) {
      cin = ri(2, 21);
      group = cin;
      mult = ri(1, 2);
    } else if (kind == 3) {
      group = ri(2, 3);
      cin = group * ri(1, 5);
    }
    const int64_t cout = kind == 1 ? cin * mult : (kind == 3 ? group * ri(1, 6) : ri(1, 23));
    const int64_t kh = kind == 2 ? 1 : ri(1, 5), kw = kind == 2 ? 1 : ri(1, 5);
    const int64_t sh = kind == 2 ? 1 : ri(1, 3), sw = kind == 2 ? 1 : ri(1, 3);
    const int64_t dh = kind == 2 ? 1 : ri(1, 2), dw = kind == 2 ? 1 : ri(1, 2);
    const int64_t n = ri(1, 2), h = 2 * ri(0, 6) + 1 + (dh * (kh - 1)), w = 2 * ri(0, 6) + 1 + (dw * (kw - 1));
    const std::string mode = kind == 2 ? "VALID" : kModes[seed % 4];
    int64_t pt, pb, pl, pr;
    auto_pads(mode, h, kh, sh, dh, &pt, &pb, rng);
    auto_pads(mode, w, kw, sw, dw, &pl, &pr, rng);

    const QuantParams xq = random_act_quant(rng, 0.01, 0.05);
    QuantParams wq;
    const bool per_channel = ri(0, 3) != 0;
    for (int64_t o = 0; o < (per_channel ? cout : 1); ++o) {
      wq.scale.push_back(std::uniform_real_distribution<float>(0.002f, 0.02f)(rng));
      wq.zero_point.push_back(0);
    }
    TensorData wd = random_i8(rng, {cout, cin / group, kh, kw});
    for (int64_t i = 0; i < wd.count(); ++i) wd.data<int8_t>()[i] = std::max<int8_t>(wd.data<int8_t>()[i], -127);
    // Output scale from the accumulator range: sqrt(taps) * typical products.
    const double taps = double(kh * kw * cin / group);
    const double yscale = xq.scale[0] * wq.scale[0] * 64.0 * std::sqrt(taps) * std::uniform_real_distribution<double>(0.5, 2)(rng);
    const QuantParams yq = q8(yscale, ri(-20, 20));
    std::vector<Operand> ops = {Operand::input(random_i8(rng, {n, cin, h, w}), xq), Operand::constant_of(wd, wq)};
    const bool bias = ri(0, 2) != 0;
    if (bias) {
      TensorData bd(DType::I32, {cout});
      QuantParams bq;
      for (int64_t o = 0; o < cout; ++o) {
        bd.data<int32_t>()[o] = ri(-3000, 3000);
        bq.scale.push_back(float(double(xq.scale[0]) * double(wq.scale[per_channel ? size_t(o) : 0])));
        bq.zero_point.push_back(0);
      }
      if (cout == 1) bq = q8(bq.scale[0], 0);
      ops.push_back(Operand::constant_of(bd, bq));
    }
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{kh, kw});
    a.set("strides", std::vector<int64_t>{sh, sw});
    a.set("dilations", std::vector<int64_t>{dh, dw});
    a.set("pads", std::vector<int64_t>{pt, pl, pb, pr});
    a.set("group", group);
    a = act_attrs(rng, a);
    check_op(OpKind::Conv, ops, a, {OutputSpec{yq}}, seed,
             str_cat("conv kind ", kind, " x[", n, ",", cin, ",", h, ",", w, "] w[", cout, ",", cin / group, ",", kh, ",",
                     kw, "] group ", group, " stride ", sh, "x", sw, " dil ", dh, "x", dw, " pads ", mode, " ", pt, ",",
                     pl, ",", pb, ",", pr, " bias ", bias, " per_channel ", per_channel));
  }
}

TEST(LowerOps, GemmAndMatMul) {
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const bool gemm = seed % 2 == 0;
    const int64_t M = ri(1, 5), K = ri(1, 45), N = ri(1, 21);
    const bool trans_b = gemm && ri(0, 1);
    const bool per_channel = ri(0, 1);
    const QuantParams aq = random_act_quant(rng, 0.01, 0.05);
    QuantParams bq;
    for (int64_t j = 0; j < (per_channel ? N : 1); ++j) {
      bq.scale.push_back(std::uniform_real_distribution<float>(0.002f, 0.02f)(rng));
      bq.zero_point.push_back(0);
    }
    bq.axis = trans_b ? 0 : 1;
    if (per_channel && N == 1) bq = q8(bq.scale[0], 0);
    const double alpha = gemm && ri(0, 1) ? 0.75 : 1.0;
    const double yscale = alpha * aq.scale[0] * bq.scale[0] * 64 * std::sqrt(double(K));
    const QuantParams yq = q8(yscale, ri(-10, 10));
    Shape as = {M, K};
    if (!gemm && ri(0, 1)) as = {2, M, K};
    std::vector<Operand> ops = {Operand::input(random_i8(rng, as), aq),
                                Operand::constant_of(random_i8(rng, trans_b ? Shape{N, K} : Shape{K, N}), bq)};
    Attributes a;
    if (gemm) {
      a.set("transB", int64_t(trans_b));
      a.set("alpha", alpha);
      if (ri(0, 1)) {
        TensorData cd(DType::I32, {N});
        for (int64_t j = 0; j < N; ++j) cd.data<int32_t>()[j] = ri(-2000, 2000);
        ops.push_back(Operand::constant_of(cd, q8(double(aq.scale[0]) * bq.scale[0], 0)));
        a.set("beta", ri(0, 1) ? 1.0 : 0.5);
      }
    }
    a = act_attrs(rng, a);
    check_op(gemm ? OpKind::Gemm : OpKind::MatMul, ops, a, {OutputSpec{yq}}, seed,
             str_cat(gemm ? "gemm" : "matmul", " A", shape_str(as), " K ", K, " N ", N, " transB ", trans_b,
                     " per_channel ", per_channel, " alpha ", alpha));
  }
}

TEST(LowerOps, Pools) {
  const OpKind kinds[] = {OpKind::MaxPool, OpKind::AveragePool, OpKind::GlobalAveragePool, OpKind::GlobalMaxPool};
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const OpKind kind = kinds[seed % 4];
    const int64_t n = ri(1, 2), c = ri(1, 19), h = ri(1, 13), w = ri(1, 13);
    const QuantParams xq = random_act_quant(rng);
    const bool same = (kind == OpKind::MaxPool || kind == OpKind::GlobalMaxPool) && ri(0, 1);
    const QuantParams yq = same ? xq : random_act_quant(rng);
    Attributes a;
    std::string what = str_cat(op_kind_name(kind), " x[", n, ",", c, ",", h, ",", w, "] same_q ", same);
    if (kind == OpKind::MaxPool || kind == OpKind::AveragePool) {
      const int64_t kh = ri(1, std::min<int>(4, int(h))), kw = ri(1, std::min<int>(4, int(w)));
      const int64_t sh = ri(1, 3), sw = ri(1, 3);
      const int64_t pt = ri(0, int(kh) - 1), pb = ri(0, int(kh) - 1), pl = ri(0, int(kw) - 1), pr = ri(0, int(kw) - 1);
      const int64_t ceil = ri(0, 1);
      a.set("kernel_shape", std::vector<int64_t>{kh, kw});
      a.set("strides", std::vector<int64_t>{sh, sw});
      a.set("pads", std::vector<int64_t>{pt, pl, pb, pr});
      a.set("ceil_mode", ceil);
      if (kind == OpKind::AveragePool) a.set("count_include_pad", int64_t(ri(0, 1)));
      what += str_cat(" k ", kh, "x", kw, " s ", sh, "x", sw, " pads ", pt, ",", pl, ",", pb, ",", pr, " ceil ", ceil);
    }
    if (kind != OpKind::GlobalMaxPool) a = act_attrs(rng, a);
    check_op(kind, {Operand::input(random_i8(rng, {n, c, h, w}), xq)}, a, {OutputSpec{yq}}, seed, what);
  }
}

TEST(LowerOps, BinaryWithBroadcast) {
  const OpKind kinds[] = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Max, OpKind::Min};
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const OpKind kind = kinds[seed % 5];
    const int rank = ri(1, 4);
    Shape out;
    for (int k = 0; k < rank; ++k) out.push_back(ri(1, 7));
    Shape as = out, bs = out;
    for (int k = 0; k < rank; ++k) {
      if (ri(0, 3) == 0) as[size_t(k)] = 1;
      else if (ri(0, 3) == 0) bs[size_t(k)] = 1;
    }
    if (ri(0, 3) == 0) bs.erase(bs.begin(), bs.begin() + ri(0, int(bs.size()) - 1));  // lower rank
    const QuantParams aq = random_act_quant(rng), bq = random_act_quant(rng);
    const QuantParams yq = kind == OpKind::Mul ? random_act_quant(rng, 0.0005, 0.004) : random_act_quant(rng, 0.02, 0.15);
    const bool b_const = ri(0, 4) == 0;
    std::vector<Operand> ops = {Operand::input(random_i8(rng, as), aq),
                                b_const ? Operand::constant_of(random_i8(rng, bs), bq) : Operand::input(random_i8(rng, bs), bq)};
    check_op(kind, ops, act_attrs(rng, {}), {OutputSpec{yq}}, seed,
             str_cat(op_kind_name(kind), " a", shape_str(as), " b", shape_str(bs), b_const ? " (constant)" : ""));
  }
}

TEST(LowerOps, UnaryTablesAndRequantizingClip) {
  const OpKind kinds[] = {OpKind::Relu, OpKind::Clip, OpKind::LeakyRelu, OpKind::Sigmoid, OpKind::HardSigmoid,
                          OpKind::HardSwish, OpKind::Tanh, OpKind::Abs, OpKind::Neg, OpKind::Exp,
                          OpKind::Log, OpKind::Sqrt, OpKind::Reciprocal, OpKind::Erf, OpKind::Gelu, OpKind::Pow};
  uint32_t seed = 0;
  for (OpKind kind : kinds) {
    ++seed;
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    Attributes a;
    if (kind == OpKind::Clip && ri(0, 1)) {
      a.set("min", -0.3);
      a.set("max", 0.9);
    }
    if (kind == OpKind::LeakyRelu) a.set("alpha", 0.1);
    if (kind == OpKind::Gelu) a.set("approximate", std::string(ri(0, 1) ? "tanh" : "none"));
    if (kind == OpKind::Pow) a.set("exponent", 2.0);
    const Shape s = {ri(1, 3), ri(1, 9), ri(1, 7), ri(1, 7)};
    check_op(kind, {Operand::input(random_i8(rng, s), random_act_quant(rng))}, a, {OutputSpec{random_act_quant(rng)}},
             seed, str_cat(op_kind_name(kind), " x", shape_str(s)));
  }
}

TEST(LowerOps, Softmax) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    Shape s;
    int64_t axis = -1;
    switch (seed % 4) {
      case 0: s = {ri(1, 4), ri(1, 30)}; break;
      case 1: s = {ri(1, 2), ri(1, 5), ri(1, 5), ri(2, 20)}; break;  // 4-D, last axis
      case 2: s = {ri(1, 3), ri(2, 12), 1, 1}; axis = 1; break;  // NCHW logits after a global pool
      default: s = {ri(1, 2), ri(2, 12), ri(1, 5), ri(1, 5)}; axis = seed % 8 == 3 ? 1 : -3; break;  // channel axis of NCHW
    }
    Attributes a;
    a.set("axis", axis);
    check_op(OpKind::Softmax, {Operand::input(random_i8(rng, s), random_act_quant(rng, 0.02, 0.2))}, a,
             {OutputSpec{q8(1.0 / 256, -128)}}, seed, "softmax x" + shape_str(s));
  }
}

TEST(LowerOps, LayerNormalization) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int64_t n = ri(1, 80);
    Shape s;
    switch (seed % 3) {
      case 0: s = {1, ri(1, 20), n}; break;
      case 1: s = {ri(1, 3), n}; break;
      default: s = {1, ri(1, 3), ri(1, 5), n}; break;
    }
    Attributes a;
    a.set("axis", int64_t(s.size() - 1));
    a.set("epsilon", seed % 2 ? 1e-5 : 1e-3);
    const Shape p = {seed % 4 == 0 ? 1 : n};
    std::vector<Operand> ops = {Operand::input(random_i8(rng, s), random_act_quant(rng)),
                                Operand::constant_of(random_i8(rng, p), q8(0.02, 0))};
    if (seed % 3 != 2) ops.push_back(Operand::constant_of(random_i8(rng, p), q8(0.01, 0)));
    check_op(OpKind::LayerNormalization, ops, a, {OutputSpec{random_act_quant(rng, 0.01, 0.05)}}, seed,
             "layer_norm x" + shape_str(s));
  }
}

TEST(LowerOps, WhereAsMaskedFill) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int64_t t = ri(1, 17);
    const Shape s = {ri(1, 4), t, t};
    const Shape cs = seed % 2 ? Shape{1, t, t} : Shape{t, t};  // broadcast over the heads
    TensorData cond(DType::Bool, cs);
    for (auto& b : cond.bytes) b = uint8_t(ri(0, 1));
    const QuantParams q = random_act_quant(rng);
    Operand fill = Operand::constant_of(TensorData::from<int8_t>({}, {int8_t(-128)}), q);
    Operand x = Operand::input(random_i8(rng, s), q);
    std::vector<Operand> ops = {Operand::constant_of(cond)};
    if (seed % 3 == 0) {
      ops.push_back(x);
      ops.push_back(fill);
    } else {
      ops.push_back(fill);
      ops.push_back(x);
    }
    check_op(OpKind::Where, ops, {}, {OutputSpec{q}}, seed, "where x" + shape_str(s));
  }
}

TEST(LowerOps, PadConstantReflectAndEdge) {
  const char* const kModes[] = {"constant", "reflect", "edge"};
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int rank = ri(2, 4);
    Shape s;
    for (int k = 0; k < rank; ++k) s.push_back(ri(1, 7));
    const std::string mode = kModes[seed % 3];
    const bool reflect = mode == "reflect";
    std::vector<int64_t> pads(static_cast<size_t>(2 * rank), 0);
    for (int k = 0; k < rank; ++k) {
      const int lim = reflect ? int(s[size_t(k)]) - 1 : 3;
      pads[size_t(k)] = ri(0, lim);
      pads[size_t(rank + k)] = ri(0, lim);
    }
    Attributes a;
    a.set("pads", pads);
    a.set("mode", mode);
    if (mode == "constant" && ri(0, 1)) a.set("value", 0.25);
    const QuantParams q = random_act_quant(rng);
    check_op(OpKind::Pad, {Operand::input(random_i8(rng, s), q)}, a, {OutputSpec{q}}, seed,
             str_cat("pad ", mode, " x", shape_str(s), " pads ", pads));
  }
}

TEST(LowerOps, SliceSplitConcatTransposeReshape) {
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int rank = ri(1, 4);
    Shape s;
    for (int k = 0; k < rank; ++k) s.push_back(ri(1, 6));
    const QuantParams q = random_act_quant(rng);
    switch (seed % 5) {
      case 0: {  // Slice
        std::vector<int64_t> starts, ends, axes, steps;
        for (int k = 0; k < rank; ++k) {
          if (ri(0, 2) == 0) continue;
          const int64_t b = ri(0, int(s[size_t(k)]) - 1);
          starts.push_back(b);
          ends.push_back(ri(int(b) + 1, int(s[size_t(k)])));
          axes.push_back(k);
          steps.push_back(1);
        }
        if (axes.empty()) {
          starts = {0};
          ends = {s[0]};
          axes = {0};
          steps = {1};
        }
        Attributes a;
        a.set("starts", starts);
        a.set("ends", ends);
        a.set("axes", axes);
        a.set("steps", steps);
        check_op(OpKind::Slice, {Operand::input(random_i8(rng, s), q)}, a, {OutputSpec{q}}, seed,
                 str_cat("slice x", shape_str(s), " starts ", starts, " ends ", ends, " axes ", axes));
        break;
      }
      case 1: {  // Split
        const int axis = ri(0, rank - 1);
        if (s[size_t(axis)] < 2) s[size_t(axis)] = 2 + ri(0, 3);
        const int64_t first = ri(1, int(s[size_t(axis)]) - 1);
        Attributes a;
        a.set("axis", int64_t(axis));
        a.set("split", std::vector<int64_t>{first, s[size_t(axis)] - first});
        check_op(OpKind::Split, {Operand::input(random_i8(rng, s), q)}, a, {OutputSpec{q}, OutputSpec{q}}, seed,
                 str_cat("split x", shape_str(s), " axis ", axis, " first ", first));
        break;
      }
      case 2: {  // Concat, up to 11 inputs (chained above 8)
        const int axis = ri(0, rank - 1);
        const int n = ri(2, 11);
        std::vector<Operand> ops;
        for (int i = 0; i < n; ++i) {
          Shape si = s;
          si[size_t(axis)] = ri(1, 3);
          ops.push_back(i == 1 && ri(0, 2) == 0 ? Operand::constant_of(random_i8(rng, si), q)
                                                : Operand::input(random_i8(rng, si), q));
        }
        Attributes a;
        a.set("axis", int64_t(axis));
        check_op(OpKind::Concat, ops, a, {OutputSpec{q}}, seed,
                 str_cat("concat of ", n, " around x", shape_str(s), " axis ", axis));
        break;
      }
      case 3: {  // Transpose
        std::vector<int64_t> perm(static_cast<size_t>(rank));
        for (int k = 0; k < rank; ++k) perm[size_t(k)] = k;
        std::shuffle(perm.begin(), perm.end(), rng);
        Attributes a;
        a.set("perm", perm);
        check_op(OpKind::Transpose, {Operand::input(random_i8(rng, s), q)}, a, {OutputSpec{q}}, seed,
                 str_cat("transpose x", shape_str(s), " perm ", perm));
        break;
      }
      default: {  // Reshape
        Attributes a;
        a.set("shape", std::vector<int64_t>{num_elements(s)});
        check_op(OpKind::Reshape, {Operand::input(random_i8(rng, s), q)}, a, {OutputSpec{q}}, seed,
                 str_cat("reshape x", shape_str(s)));
        break;
      }
    }
  }
}

TEST(LowerOps, ResizeNearest) {
  const char* kModes[][2] = {{"asymmetric", "floor"},
                             {"half_pixel", "round_prefer_floor"},
                             {"align_corners", "round_prefer_ceil"},
                             {"pytorch_half_pixel", "floor"}};
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const Shape s = {ri(1, 2), ri(1, 5), ri(1, 6), ri(1, 6)};
    const double sh = double(ri(1, 3)), sw = double(ri(1, 4));
    Attributes a;
    a.set("mode", std::string("nearest"));
    a.set("coordinate_transformation_mode", std::string(kModes[seed % 4][0]));
    a.set("nearest_mode", std::string(kModes[seed % 4][1]));
    a.set("scales", std::vector<double>{1.0, 1.0, sh, sw});
    const QuantParams q = random_act_quant(rng);
    check_op(OpKind::Resize, {Operand::input(random_i8(rng, s), q)}, a, {OutputSpec{q}}, seed,
             str_cat("resize x", shape_str(s), " scales ", sh, "x", sw, " ", kModes[seed % 4][0]));
  }
}

// MatMul of two runtime int8 tensors -> BatchMatMul: batched rank 3 (as upstream's bmm), rank 2,
// rank 4, B shared by every batch; zero points on both operands; fused activations.
TEST(LowerOps, BatchMatMul) {
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int64_t B = ri(1, 3), M = ri(1, 9), K = ri(1, 45), N = ri(1, 19);
    Shape as, bs;
    switch (seed % 4) {
      case 0: as = {B, M, K}; bs = {B, K, N}; break;
      case 1: as = {M, K}; bs = {K, N}; break;
      case 2: as = {2, B, M, K}; bs = {2, B, K, N}; break;
      default: as = {B, M, K}; bs = {K, N}; break;  // B shared: the batches fold into the rows
    }
    const QuantParams aq = random_act_quant(rng, 0.01, 0.05), bq = random_act_quant(rng, 0.01, 0.05);
    const QuantParams yq = q8(aq.scale[0] * bq.scale[0] * 64 * std::sqrt(double(K)) *
                                  std::uniform_real_distribution<double>(0.5, 2)(rng),
                              ri(-10, 10));
    check_op(OpKind::MatMul, {Operand::input(random_i8(rng, as), aq), Operand::input(random_i8(rng, bs), bq)},
             act_attrs(rng, {}), {OutputSpec{yq}}, seed,
             str_cat("batch matmul A", shape_str(as), " ", aq.zero_point[0], " B", shape_str(bs), " ", bq.zero_point[0]));
  }
}

// ReduceMean/Sum (one requantization of sum(q - z_in), other output parameters) and ReduceMax/Min
// (same parameters) over random axes of rank 1 to 4 tensors, keepdims on and off.
TEST(LowerOps, Reduce) {
  const OpKind kinds[] = {OpKind::ReduceMean, OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceMin};
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const OpKind kind = kinds[seed % 4];
    const int rank = ri(1, 4);
    Shape s;
    for (int k = 0; k < rank; ++k) s.push_back(ri(1, k == 1 ? 19 : 9));
    std::vector<int64_t> axes;
    for (int k = 0; k < rank; ++k)
      if (ri(0, 2) != 0) axes.push_back(ri(0, 1) ? k : k - rank);  // some negative
    if (seed % 7 == 0 && rank == 4) axes = {2, 3};                  // global pooling over H, W
    Attributes a;
    a.set("axes", axes);
    a.set("keepdims", int64_t(ri(0, 1)));
    const QuantParams xq = random_act_quant(rng);
    int64_t count = 1;
    for (int k = 0; k < rank; ++k) {
      const auto reduced = [&](int64_t v) { return (v + rank) % rank == k; };
      if (axes.empty() || std::find_if(axes.begin(), axes.end(), reduced) != axes.end()) count *= s[size_t(k)];
    }
    QuantParams yq = xq;
    const double sx = xq.scale[0], root = std::sqrt(double(count));
    if (kind == OpKind::ReduceMean) yq = random_act_quant(rng, 0.3 * sx, 3 * sx);
    if (kind == OpKind::ReduceSum) yq = random_act_quant(rng, sx * root, sx * 8 * root);
    check_op(kind, {Operand::input(random_i8(rng, s), xq)}, a, {OutputSpec{yq}}, seed,
             str_cat(op_kind_name(kind), " x", shape_str(s), " axes ", axes, " keepdims ", a.get_int("keepdims", 1)));
  }
}

// Linear Resize of NCHW tensors (layout-nhwc puts it between transposes): every coordinate mode,
// integer and non-integer scales, odd sizes, channel counts that are not multiples of 8, other
// quantization at the output. The CPU reference runs the NCHW graph.
TEST(LowerOps, ResizeBilinear) {
  const char* kModes[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric"};
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const Shape s = {ri(1, 2), ri(1, 13), ri(1, 7), ri(1, 7)};
    const char* mode = kModes[seed % 5];
    double sh = double(ri(1, 4)), sw = double(ri(1, 4));
    if (seed % 3 == 0) {  // arbitrary output sizes
      sh = double(ri(1, 11)) / double(s[2]);
      sw = double(ri(1, 11)) / double(s[3]);
    }
    Attributes a;
    a.set("mode", std::string("linear"));
    a.set("coordinate_transformation_mode", std::string(mode));
    a.set("scales", std::vector<double>{1.0, 1.0, sh, sw});
    const QuantParams xq = random_act_quant(rng);
    const QuantParams yq = seed % 2 ? xq : random_act_quant(rng);
    check_op(OpKind::Resize, {Operand::input(random_i8(rng, s), xq)}, a, {OutputSpec{yq}}, seed,
             str_cat("resize linear x", shape_str(s), " scales ", sh, "x", sw, " ", mode));
  }
}

// Format conversion on the CPU: the boundary transposes leave the program and the runtime converts.
TEST(LowerOps, ConvWithFormatConversionOnTheCpu) {
  compiler::CompileOptions o;
  o.use_neutron_for_format_conversion = false;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int64_t cin = ri(1, 9), cout = ri(1, 9);
    const QuantParams xq = random_act_quant(rng), wq = q8(0.01, 0);
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{3, 3});
    a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    check_op(OpKind::Conv,
             {Operand::input(random_i8(rng, {1, cin, ri(3, 9), ri(3, 9)}), xq),
              Operand::constant_of(random_i8(rng, {cout, cin, 3, 3}), wq)},
             a, {OutputSpec{q8(0.05, 3)}}, seed, str_cat("conv cin ", cin, " cout ", cout, " (cpu format conversion)"), o);
  }
}

}  // namespace
}  // namespace neutron
