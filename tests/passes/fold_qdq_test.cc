// fold-qdq on small hand-built QDQ graphs: what folds (and into what), what stays float, uint8 ->
// int8, fused activations, requantizing data movement; and the folded graph against the unfolded
// one on random inputs (within 1 output LSB, and only rarely: at rounding ties).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "exec/executor.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

// Builds QDQ graphs the way PyTorch exports them: float ops between DequantizeLinear and
// QuantizeLinear.
class QdqBuilder {
 public:
  Graph g;
  std::mt19937 rng{7};

  TensorId input(const std::string& name, Shape s, DType dt = DType::F32, QuantParams q = {}) {
    Tensor t;
    t.name = name;
    t.dtype = dt;
    t.shape = std::move(s);
    t.quant = std::move(q);
    TensorId id = g.add_tensor(t);
    g.inputs.push_back(id);
    return id;
  }
  TensorId op(OpKind k, std::vector<TensorId> ins, Attributes a = {}, DType out_dtype = DType::Invalid,
              QuantParams out_q = {}) {
    Tensor t;
    t.name = "t" + std::to_string(g.num_tensors());
    t.dtype = out_dtype;
    t.quant = std::move(out_q);
    TensorId out = g.add_tensor(t);
    Node n;
    n.kind = k;
    n.name = std::string(op_kind_name(k)) + "_" + std::to_string(g.num_nodes());
    n.inputs = std::move(ins);
    n.outputs = {out};
    n.attrs = std::move(a);
    g.add_node(std::move(n));
    return out;
  }
  TensorId q(TensorId x, double scale, int32_t zp, DType dt = DType::I8) {
    return op(OpKind::QuantizeLinear, {x}, {}, dt, QuantParams::per_tensor(float(scale), zp));
  }
  TensorId dq(TensorId x) { return op(OpKind::DequantizeLinear, {x}, {}, DType::F32); }
  TensorId qdq(TensorId x, double scale, int32_t zp, DType dt = DType::I8) { return dq(q(x, scale, zp, dt)); }
  // DQ(int8 constant), symmetric, per channel along `axis` when `per_channel`.
  TensorId weight(const std::string& name, Shape s, int axis, bool per_channel = true) {
    TensorData d(DType::I8, s);
    std::uniform_int_distribution<int> u(-127, 127);
    for (int64_t i = 0; i < d.count(); ++i) d.data<int8_t>()[i] = int8_t(u(rng));
    QuantParams qp;
    const int64_t n = per_channel ? s[size_t(axis)] : 1;
    std::uniform_real_distribution<float> sd(0.002f, 0.01f);
    for (int64_t i = 0; i < n; ++i) {
      qp.scale.push_back(sd(rng));
      qp.zero_point.push_back(0);
    }
    qp.axis = axis;
    w_scales[name] = qp.scale;
    return dq(g.add_constant(name, std::move(d), qp));
  }
  // DQ(int32 constant) with scale s_in * s_w[c].
  TensorId bias(const std::string& name, const std::string& weight_name, double s_in, int64_t n) {
    TensorData d(DType::I32, {n});
    std::uniform_int_distribution<int> u(-2000, 2000);
    for (int64_t i = 0; i < n; ++i) d.data<int32_t>()[i] = u(rng);
    QuantParams qp;
    const auto& ws = w_scales[weight_name];
    for (int64_t i = 0; i < n; ++i) {
      qp.scale.push_back(float(s_in * ws[ws.size() == 1 ? 0 : size_t(i)]));
      qp.zero_point.push_back(0);
    }
    qp.axis = 0;
    return dq(g.add_constant(name, std::move(d), qp));
  }
  Graph finish(std::vector<TensorId> outs) {
    g.outputs = std::move(outs);
    Status s = infer_shapes(g);
    EXPECT_TRUE(s.ok()) << s.to_string();
    s = verify_graph(g);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return g;
  }
  std::map<std::string, std::vector<float>> w_scales;
};

Attributes conv_attrs(int64_t k, int64_t stride, int64_t pad, int64_t group = 1) {
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{k, k});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  a.set("group", group);
  return a;
}

Graph folded(const Graph& g0, bool full_pipeline = false) {
  Graph g = g0;
  Status s = full_pipeline ? run_passes(g, cpu_pipeline()) : fold_qdq(g);
  EXPECT_TRUE(s.ok()) << s.to_string();
  if (!full_pipeline) {
    EXPECT_TRUE(eliminate_dead_code(g).ok());
    g.compact();
    s = verify_graph(g);
    EXPECT_TRUE(s.ok()) << s.to_string() << "\n" << print_graph(g);
  }
  return g;
}

int count(const Graph& g, OpKind k) {
  int c = 0;
  for (NodeId id : g.live_nodes()) c += g.node(id).kind == k;
  return c;
}

const Node* find_node(const Graph& g, OpKind k) {
  for (NodeId id : g.live_nodes())
    if (g.node(id).kind == k) return &g.node(id);
  return nullptr;
}

bool is_int8_op(const Graph& g, const Node& n) {
  const Tensor& x = g.tensor(n.inputs[0]);
  return x.dtype == DType::I8 && x.is_quantized();
}

std::vector<TensorData> random_inputs(const Graph& g, std::mt19937& rng) {
  std::vector<TensorData> r;
  for (TensorId id : g.inputs) {
    const Tensor& t = g.tensor(id);
    TensorData d(t.dtype, t.shape);
    for (int64_t i = 0; i < d.count(); ++i) {
      if (t.dtype == DType::F32) d.data<float>()[i] = std::uniform_real_distribution<float>(-1.2f, 1.2f)(rng);
      if (t.dtype == DType::U8) d.data<uint8_t>()[i] = uint8_t(rng());
      if (t.dtype == DType::I8) d.data<int8_t>()[i] = int8_t(rng());
    }
    r.push_back(std::move(d));
  }
  return r;
}

// The float kernels need constant weights: evaluate DequantizeLinear of constants (what the
// DQ kernel would compute, (q - zp) * scale rounded to float).
void fold_constant_dequantize(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind != OpKind::DequantizeLinear || !g.tensor(n.inputs[0]).is_constant()) continue;
    const Tensor& q = g.tensor(n.inputs[0]);
    TensorData d(DType::F32, q.shape);
    int64_t inner = 1;
    for (size_t i = size_t(q.quant.axis) + 1; i < q.shape.size(); ++i) inner *= q.shape[i];
    for (int64_t i = 0; i < d.count(); ++i) {
      const size_t c = q.quant.per_axis() ? size_t((i / inner) % int64_t(q.quant.scale.size())) : 0;
      d.data<float>()[i] = float((q.data->get_as_double(i) - q.quant.zero_point[c]) * double(q.quant.scale[c]));
    }
    const TensorId out = n.outputs[0];
    const TensorId c = g.add_constant(g.unique_tensor_name(q.name + "_f32"), std::move(d));
    g.replace_uses(out, c);
    g.remove_node(id);
  }
}

// The folded graph against the unfolded one: every output is a DequantizeLinear of step `step`;
// differences are at most one step and rare.
// The float kernels run channels-last only with constant weights: give a graph that still has
// float ops its layout pass and evaluate its DQ of constants (no folding).
void prepare_float_ops(Graph& g) {
  fold_constant_dequantize(g);
  ASSERT_TRUE(layout_nhwc(g).ok());
  ASSERT_TRUE(eliminate_dead_code(g).ok());
  g.compact();
}

void expect_same_results(const Graph& unfolded0, const Graph& fold0, double step_default, int trials = 5,
                         bool fold_has_float_ops = false) {
  Graph unfolded = unfolded0;
  prepare_float_ops(unfolded);
  Graph fold = fold0;  // int8 binders take NCHW too: no layout pass unless float ops remain
  if (fold_has_float_ops) prepare_float_ops(fold);
  auto a = Executor::create(unfolded);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  auto b = Executor::create(fold);
  ASSERT_TRUE(b.ok()) << b.status().to_string() << "\n" << print_graph(fold);
  std::mt19937 rng(11);
  int64_t total = 0, diffs = 0;
  double max_steps = 0;
  for (int t = 0; t < trials; ++t) {
    const auto in = random_inputs(unfolded, rng);
    std::vector<TensorData> ya, yb;
    ASSERT_TRUE(a.value()->run(in, &ya).ok());
    ASSERT_TRUE(b.value()->run(in, &yb).ok());
    ASSERT_EQ(ya.size(), yb.size());
    for (size_t o = 0; o < ya.size(); ++o) {
      // Steps of an output written by a DequantizeLinear are its input's scale.
      const NodeId p = unfolded0.tensor(unfolded0.outputs[o]).producer;
      const double step = (p >= 0 && unfolded0.node(p).kind == OpKind::DequantizeLinear)
                              ? double(unfolded0.tensor(unfolded0.node(p).inputs[0]).quant.scale[0])
                              : step_default;
      ASSERT_EQ(ya[o].shape, yb[o].shape);
      ASSERT_EQ(ya[o].dtype, yb[o].dtype);
      for (int64_t i = 0; i < ya[o].count(); ++i) {
        const double d = std::fabs(ya[o].get_as_double(i) - yb[o].get_as_double(i)) / step;
        if (d > 1.001) ADD_FAILURE() << "output " << o << " element " << i << ": " << ya[o].get_as_double(i) << " vs folded " << yb[o].get_as_double(i) << " (step " << step << ")";
        max_steps = std::max(max_steps, d);
        diffs += d > 0.5;
        ++total;
      }
    }
  }
  EXPECT_LE(max_steps, 1.001);  // float32 outputs
  EXPECT_LT(double(diffs), 0.01 * double(total) + 1) << diffs << " of " << total << " differ";
}

// uint8 activations (as PyTorch's onednn engine exports them), int8 per-channel weights, int32
// bias, Conv -> Relu -> Q: one int8 Conv with act_min = 0; internal tensors become int8.
TEST(FoldQdq, ConvReluClusterFoldsAndUint8BecomesInt8) {
  QdqBuilder b;
  const double s_in = 2.4 / 255;
  TensorId x = b.input("x", {1, 3, 9, 11});
  TensorId xq = b.qdq(x, s_in, 128, DType::U8);
  TensorId c = b.op(OpKind::Conv, {xq, b.weight("w", {5, 3, 3, 3}, 0), b.bias("b", "w", s_in, 5)}, conv_attrs(3, 1, 1));
  TensorId r = b.op(OpKind::Relu, {c});
  TensorId y = b.qdq(r, 0.02, 0, DType::U8);
  Graph g = b.finish({y});
  Graph f = folded(g);
  EXPECT_EQ(count(f, OpKind::Conv), 1);
  EXPECT_EQ(count(f, OpKind::Relu), 0);
  EXPECT_EQ(count(f, OpKind::QuantizeLinear), 1);
  EXPECT_EQ(count(f, OpKind::DequantizeLinear), 1);
  const Node* conv = find_node(f, OpKind::Conv);
  ASSERT_TRUE(conv);
  EXPECT_TRUE(is_int8_op(f, *conv));
  EXPECT_EQ(conv->attrs.get_float("act_min", -1), 0.0);
  EXPECT_FALSE(conv->attrs.has("act_max"));
  const Tensor& in = f.tensor(conv->inputs[0]);
  EXPECT_EQ(in.quant.zero_point[0], 0);  // 128 - 128
  EXPECT_EQ(f.tensor(conv->inputs[1]).dtype, DType::I8);
  EXPECT_EQ(f.tensor(conv->inputs[2]).dtype, DType::I32);
  const Tensor& out = f.tensor(conv->outputs[0]);
  EXPECT_EQ(out.dtype, DType::I8);
  EXPECT_EQ(out.quant.zero_point[0], -128);
  // Graph input and output keep their types.
  EXPECT_EQ(f.tensor(f.inputs[0]).dtype, DType::F32);
  EXPECT_EQ(f.tensor(f.outputs[0]).dtype, DType::F32);
  expect_same_results(g, f, 0.02);
  expect_same_results(g, folded(g, /*full_pipeline=*/true), 0.02);
}

// A uint8 graph input/output keeps uint8; its Q/DQ keep working in float and the op between them
// stays float (its Q writes uint8, which no int8 kernel produces).
TEST(FoldQdq, Uint8GraphInputAndOutputKeepTheirType) {
  QdqBuilder b;
  TensorId x = b.input("x", {2, 6}, DType::U8, QuantParams::per_tensor(0.05f, 100));
  TensorId r = b.op(OpKind::Sigmoid, {b.dq(x)});
  TensorId y = b.q(r, 1.0 / 256, 0, DType::U8);
  Graph g = b.finish({y});
  Graph f = folded(g);
  EXPECT_EQ(f.tensor(f.inputs[0]).dtype, DType::U8);
  EXPECT_EQ(f.tensor(f.inputs[0]).quant.zero_point[0], 100);
  EXPECT_EQ(f.tensor(f.outputs[0]).dtype, DType::U8);
  const Node* s = find_node(f, OpKind::Sigmoid);
  ASSERT_TRUE(s);
  EXPECT_FALSE(is_int8_op(f, *s));
  expect_same_results(g, f, 1.0);  // uint8 outputs: compare in integer steps
}

// Clusters that cannot fold stay float: float (not dequantized) weights, an op output read by
// two QuantizeLinear, a Conv whose weights have a non-zero zero point.
TEST(FoldQdq, UnfoldableClustersStayFloat) {
  QdqBuilder b;
  TensorId x = b.input("x", {1, 2, 5, 5});
  TensorId xq = b.qdq(x, 0.01, 3);
  TensorData wf(DType::F32, {2, 2, 1, 1});
  for (int i = 0; i < 4; ++i) wf.data<float>()[i] = 0.25f * float(i + 1);
  TensorId c1 = b.op(OpKind::Conv, {xq, b.g.add_constant("wf", wf)}, conv_attrs(1, 1, 0));
  TensorId y1 = b.qdq(c1, 0.02, 0);
  TensorId c2 = b.op(OpKind::Conv, {xq, b.weight("w2", {2, 2, 1, 1}, 0)}, conv_attrs(1, 1, 0));
  TensorId y2 = b.qdq(c2, 0.02, 0);
  TensorId y3 = b.qdq(c2, 0.03, 1);  // second Q of the same float output
  TensorData wz(DType::I8, {2, 2, 1, 1});
  TensorId c4 = b.op(OpKind::Conv, {xq, b.dq(b.g.add_constant("wz", wz, QuantParams::per_tensor(0.01f, 5)))},
                     conv_attrs(1, 1, 0));
  TensorId y4 = b.qdq(c4, 0.02, 0);
  Graph g = b.finish({y1, y2, y3, y4});
  Graph f = folded(g);
  EXPECT_EQ(count(f, OpKind::Conv), 3);
  for (NodeId id : f.live_nodes()) {
    if (f.node(id).kind == OpKind::Conv) {
      EXPECT_FALSE(is_int8_op(f, f.node(id))) << describe(f, id);
    }
  }
  expect_same_results(g, f, 0.03, 5, /*fold_has_float_ops=*/true);
}

// Scales below are deliberately not ratios of small integers (0.0157, not 0.015): with "nice"
// ratios, exact .5 ties are frequent, the float32 reference then rounds either way, and a Gemm
// downstream amplifies such a 1-LSB tie difference into several LSBs.
//
// A residual block tail as in ResNet: Add of two DQs -> Relu -> Q becomes an int8 Add with act_min.
// Also Softmax, GlobalAveragePool, a Gemm with transB and per-tensor weights, MaxPool with
// requantization, AveragePool, Sigmoid, Mul and MatMul.
TEST(FoldQdq, MixedGraphFoldsCompletely) {
  QdqBuilder b;
  TensorId x = b.input("x", {1, 4, 6, 6});
  const double s0 = 2.4 / 255;
  TensorId xq = b.qdq(x, s0, 0, DType::U8);
  TensorId c = b.op(OpKind::Conv, {xq, b.weight("w", {4, 4, 3, 3}, 0), b.bias("b", "w", s0, 4)}, conv_attrs(3, 1, 1));
  TensorId cq = b.qdq(c, 0.0311, -5);
  TensorId add = b.op(OpKind::Add, {cq, xq});
  TensorId addq = b.qdq(b.op(OpKind::Relu, {add}), 0.0257, -128);
  Attributes mp;
  mp.set("kernel_shape", std::vector<int64_t>{3, 3});
  mp.set("strides", std::vector<int64_t>{2, 2});
  mp.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  TensorId pool = b.qdq(b.op(OpKind::MaxPool, {addq}, mp), 0.0213, -100);  // requantizing MaxPool
  Attributes ap = mp;
  ap.set("count_include_pad", int64_t(1));
  TensorId avg = b.qdq(b.op(OpKind::AveragePool, {pool}, ap), 0.0157, -90);
  TensorId gap = b.qdq(b.op(OpKind::GlobalAveragePool, {avg}), 0.0109, -100);
  Attributes rs;
  rs.set("shape", std::vector<int64_t>{1, 4});
  TensorId flat = b.qdq(b.op(OpKind::Reshape, {gap}, rs), 0.0109, -100);  // identical params
  Attributes gm;
  gm.set("transB", int64_t(1));
  TensorId fc = b.op(OpKind::Gemm, {flat, b.weight("fw", {7, 4}, 0, false), b.bias("fb", "fw", double(float(0.0109)), 7)}, gm);
  TensorId fcq = b.qdq(fc, 0.00213, 3);
  Attributes sm;
  sm.set("axis", int64_t(1));
  TensorId prob = b.qdq(b.op(OpKind::Softmax, {fcq}, sm), 1.0 / 256, -128);
  TensorId sig = b.qdq(b.op(OpKind::Sigmoid, {fcq}), 1.0 / 256, -128);
  TensorId mul = b.qdq(b.op(OpKind::Mul, {sig, prob}), 1.0 / 512, -128);
  TensorId mm = b.qdq(b.op(OpKind::MatMul, {mul, b.weight("mw", {7, 3}, 1)}), 0.0005, 0);
  Graph g = b.finish({prob, mm, addq, avg, fcq});  // intermediate DQs as outputs too
  Graph f = folded(g);
  for (NodeId id : f.live_nodes()) {
    const Node& n = f.node(id);
    if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear) continue;
    EXPECT_TRUE(is_int8_op(f, n)) << describe(f, id) << " stayed float\n" << print_graph(f);
  }
  EXPECT_EQ(count(f, OpKind::QuantizeLinear), 1);
  EXPECT_EQ(count(f, OpKind::DequantizeLinear), 5);
  EXPECT_EQ(count(f, OpKind::Relu), 0);
  const Node* a = find_node(f, OpKind::Add);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->attrs.get_float("act_min", -1), 0.0);
  expect_same_results(g, f, 1.0 / 256, 10);
  expect_same_results(g, folded(g, true), 1.0 / 256, 3);
}

// Data movement with other parameters than its input gets an inserted requantizing Clip; with
// equal parameters it just moves int8. DQ -> Q with identical parameters disappears.
TEST(FoldQdq, DataMovementAndDqQPairs) {
  QdqBuilder b;
  TensorId x = b.input("x", {1, 3, 4, 4});
  TensorId a = b.q(x, 0.01, 2);
  TensorId a2 = b.q(b.dq(a), 0.01, 2);  // identical DQ -> Q pair
  Attributes pd;
  pd.set("pads", std::vector<int64_t>{0, 0, 1, 2, 0, 0, 2, 1});
  pd.set("mode", std::string("constant"));
  pd.set("value", 0.0);
  TensorId p = b.qdq(b.op(OpKind::Pad, {b.dq(a2)}, pd), 0.012, -7);  // different params
  Attributes tr;
  tr.set("perm", std::vector<int64_t>{0, 2, 3, 1});
  TensorId t = b.qdq(b.op(OpKind::Transpose, {p}, tr), 0.012, -7);  // same params
  Attributes cc;
  cc.set("axis", int64_t(3));
  TensorId other = b.qdq(b.input("z", {1, 7, 7, 2}), 0.02, 5);
  TensorId cat = b.qdq(b.op(OpKind::Concat, {t, other}, cc), 0.012, -7);  // input 1 requantized
  Graph g = b.finish({cat});
  Graph f = folded(g);
  EXPECT_EQ(count(f, OpKind::QuantizeLinear), 2);  // the two graph inputs
  EXPECT_EQ(count(f, OpKind::Clip), 2);            // Pad's and Concat's second input's requantization
  for (OpKind k : {OpKind::Pad, OpKind::Transpose, OpKind::Concat}) {
    const Node* n = find_node(f, k);
    ASSERT_TRUE(n) << op_kind_name(k);
    EXPECT_TRUE(is_int8_op(f, *n)) << op_kind_name(k);
  }
  expect_same_results(g, f, 0.012);
}

// An int8 Clip with identical in/out quantization after an int8 Conv (DQ -> Conv -> Q -> DQ ->
// Clip -> Q, as MobileNet's ReLU6) is fused into the Conv's act_min/act_max.
TEST(FoldQdq, Int8ClipAfterConvIsFused) {
  QdqBuilder b;
  TensorId x = b.input("x", {1, 3, 5, 5});
  TensorId xq = b.qdq(x, 0.01, 0);
  TensorId c = b.op(OpKind::Conv, {xq, b.weight("w", {3, 1, 3, 3}, 0), b.bias("b", "w", 0.01, 3)}, conv_attrs(3, 1, 1, 3));
  TensorId cq = b.qdq(c, 0.004, -20);
  Attributes cl;
  cl.set("min", 0.0);
  cl.set("max", 0.3);
  TensorId y = b.qdq(b.op(OpKind::Clip, {cq}, cl), 0.004, -20);
  Graph g = b.finish({y});
  Graph f = folded(g);
  EXPECT_EQ(count(f, OpKind::Clip), 0);
  const Node* conv = find_node(f, OpKind::Conv);
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->attrs.get_float("act_min", -1), 0.0);
  EXPECT_NEAR(conv->attrs.get_float("act_max", -1), 0.3, 1e-12);
  expect_same_results(g, f, 0.004);
}

}  // namespace
}  // namespace neutron
