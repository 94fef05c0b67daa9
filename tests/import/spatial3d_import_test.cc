// 3-D MaxPool, AveragePool, ConvTranspose and global pools (X [N, C, D, H, W]) import as exact decompositions
// into 2-D ops (src/import/onnx/ops_nn.cc: map_pool_3d, map_conv_transpose_3d). On random shapes
// and attributes (kernel, strides, pads begin/end per axis, dilations, ceil_mode, auto_pad,
// count_include_pad, output_padding, output_shape, group; opsets 7 to 18) the host executor's
// result is compared with a direct naive 3-D evaluation in double:
//   MaxPool        equal (max is exact whatever the order),
//   AveragePool    within 5e-6 + 1e-6 * |e| for N(0, 1) inputs (two float divisions instead of one),
//   ConvTranspose  within 1e-5 * (sum of |terms|) + 1e-6 (float sums in another order),
// well inside the ONNX node test tolerance 1e-4 + 1e-4 * |e|. Bad attributes fail naming the node.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>

#include "exec/executor.h"
#include "import/onnx/onnx_importer.h"
#include "ir/printer.h"
#include "onnx_builder.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

using testing::kFloat;
using testing::kInt8;
using testing::OnnxBuilder;
using V = std::vector<int64_t>;

int64_t ri(std::mt19937& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

std::vector<float> random_floats(std::mt19937& rng, int64_t n) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = nd(rng);
  return v;
}

// One spatial axis of a window, pads resolved.
struct Ax {
  int64_t in = 1, k = 1, s = 1, d = 1, pb = 0, pe = 0, out = 1;
};

// The pool output size as ONNX / PyTorch compute it (the last ceil_mode window must start inside
// the input or the begin padding).
int64_t pool_out(const Ax& a, bool ceil_mode) {
  const int64_t span = a.in + a.pb + a.pe - (a.k - 1) * a.d - 1;
  int64_t o = (ceil_mode ? (span + a.s - 1) / a.s : span / a.s) + 1;
  if (ceil_mode && (o - 1) * a.s >= a.in + a.pb) --o;
  return o;
}

// The largest errors seen (printed by the tests, for the record).
double worst_avg = 0, worst_ct = 0;

StatusOr<std::vector<TensorData>> run_model(const OnnxBuilder& b, const std::vector<TensorData>& inputs, Graph* out_g) {
  ASSIGN_OR_RETURN(Graph g, b.import());
  RETURN_IF_ERROR(run_passes(g, cpu_pipeline()));
  ASSIGN_OR_RETURN(auto ex, Executor::create(g));
  std::vector<TensorData> out;
  RETURN_IF_ERROR(ex->run(inputs, &out));
  *out_g = std::move(g);
  return out;
}

// ---- pools --------------------------------------------------------------------------------------

struct PoolCase {
  bool is_max = true;
  int opset = 13;
  int64_t n = 1, c = 1;
  Ax ax[3];
  bool ceil_mode = false, count_include_pad = false;
  std::string auto_pad = "NOTSET";
  bool write_dilations = false;

  std::string str() const {
    std::string s = str_cat(is_max ? "MaxPool" : "AveragePool", " opset ", opset, " x [", n, ",", c, "]");
    for (const Ax& a : ax) s += str_cat(" (in ", a.in, " k ", a.k, " s ", a.s, " d ", a.d, " p ", a.pb, "/", a.pe, ")");
    return s + str_cat(" ceil ", ceil_mode, " cip ", count_include_pad, " auto_pad ", auto_pad);
  }
};

PoolCase random_pool(std::mt19937& rng, bool is_max) {
  PoolCase p;
  p.is_max = is_max;
  p.opset = int(ri(rng, 7, 18));
  p.n = ri(rng, 1, 2);
  p.c = ri(rng, 1, 3);
  const bool new_attrs = p.opset >= 10;  // ceil_mode; MaxPool dilations
  p.ceil_mode = new_attrs && ri(rng, 0, 1) == 1;
  p.count_include_pad = ri(rng, 0, 1) == 1;
  const int64_t mode = ri(rng, 0, 7);
  p.auto_pad = mode == 0 ? "SAME_UPPER" : mode == 1 ? "SAME_LOWER" : mode == 2 ? "VALID" : "NOTSET";
  for (Ax& a : p.ax) {
    a.in = ri(rng, 1, 7);
    a.d = is_max && new_attrs && ri(rng, 0, 2) == 0 ? 2 : 1;
    a.k = std::min(ri(rng, 1, 3), (a.in - 1) / a.d + 1);  // fits unpadded, so any pads do
    a.s = ri(rng, 1, 3);
    const int64_t eff = (a.k - 1) * a.d + 1;
    a.pb = ri(rng, 0, eff - 1);
    a.pe = ri(rng, 0, eff - 1);
    if (p.auto_pad == "VALID") a.pb = a.pe = 0;
    if (p.auto_pad == "SAME_UPPER" || p.auto_pad == "SAME_LOWER") {
      const int64_t out = (a.in + a.s - 1) / a.s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * a.s + eff - a.in);
      a.pb = p.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      a.pe = total - a.pb;
    }
    if (a.d > 1) p.write_dilations = true;
    a.out = pool_out(a, p.ceil_mode);
  }
  if (is_max && new_attrs && ri(rng, 0, 3) == 0) p.write_dilations = true;
  return p;
}

OnnxBuilder pool_model(const PoolCase& p) {
  OnnxBuilder b(p.opset);
  b.input("x", kFloat, {p.n, p.c, p.ax[0].in, p.ax[1].in, p.ax[2].in}).output("y");
  auto* node = b.node(p.is_max ? "MaxPool" : "AveragePool", {"x"}, {"y"}, "pool3d");
  OnnxBuilder::attr(node, "kernel_shape", V{p.ax[0].k, p.ax[1].k, p.ax[2].k});
  if (p.ax[0].s != 1 || p.ax[1].s != 1 || p.ax[2].s != 1) OnnxBuilder::attr(node, "strides", V{p.ax[0].s, p.ax[1].s, p.ax[2].s});
  if (p.write_dilations) OnnxBuilder::attr(node, "dilations", V{p.ax[0].d, p.ax[1].d, p.ax[2].d});
  if (p.auto_pad != "NOTSET") {
    OnnxBuilder::attr(node, "auto_pad", p.auto_pad);
  } else {
    OnnxBuilder::attr(node, "pads", V{p.ax[0].pb, p.ax[1].pb, p.ax[2].pb, p.ax[0].pe, p.ax[1].pe, p.ax[2].pe});
  }
  if (p.opset >= 10) OnnxBuilder::attr(node, "ceil_mode", int64_t(p.ceil_mode));
  if (!p.is_max) OnnxBuilder::attr(node, "count_include_pad", int64_t(p.count_include_pad));
  return b;
}

// Taps t < k of output o on axis a: inside the input (valid) and inside the padded extent.
void taps(const Ax& a, int64_t o, std::vector<int64_t>* valid, int64_t* padded) {
  valid->clear();
  *padded = 0;
  for (int64_t t = 0; t < a.k; ++t) {
    const int64_t i = o * a.s - a.pb + t * a.d;
    if (i >= 0 && i < a.in) valid->push_back(i);
    if (i >= -a.pb && i < a.in + a.pe) ++*padded;
  }
}

std::vector<double> pool_reference(const PoolCase& p, const std::vector<float>& x) {
  const Ax* A = p.ax;
  std::vector<double> y;
  std::vector<int64_t> vd, vh, vw;
  int64_t pd, ph, pw;
  for (int64_t nc = 0; nc < p.n * p.c; ++nc)
    for (int64_t od = 0; od < A[0].out; ++od)
      for (int64_t oh = 0; oh < A[1].out; ++oh)
        for (int64_t ow = 0; ow < A[2].out; ++ow) {
          taps(A[0], od, &vd, &pd);
          taps(A[1], oh, &vh, &ph);
          taps(A[2], ow, &vw, &pw);
          double m = -std::numeric_limits<double>::infinity(), sum = 0;
          for (int64_t d : vd)
            for (int64_t h : vh)
              for (int64_t w : vw) {
                const double v = x[size_t(((nc * A[0].in + d) * A[1].in + h) * A[2].in + w)];
                m = std::max(m, v);
                sum += v;
              }
          const int64_t count = p.count_include_pad ? pd * ph * pw : int64_t(vd.size() * vh.size() * vw.size());
          y.push_back(p.is_max ? m : sum / double(count));
        }
  return y;
}

void check_pool(const PoolCase& p, std::mt19937& rng) {
  SCOPED_TRACE(p.str());
  const Shape xs = {p.n, p.c, p.ax[0].in, p.ax[1].in, p.ax[2].in};
  const std::vector<float> xv = random_floats(rng, num_elements(xs));
  Graph g;
  auto out = run_model(pool_model(p), {TensorData::from<float>(xs, xv)}, &g);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  ASSERT_EQ(out.value().size(), 1u);
  const TensorData& y = out.value()[0];
  ASSERT_EQ(y.shape, (Shape{p.n, p.c, p.ax[0].out, p.ax[1].out, p.ax[2].out})) << print_graph(g);
  const std::vector<double> want = pool_reference(p, xv);
  ASSERT_EQ(int64_t(want.size()), y.count());
  for (int64_t i = 0; i < y.count(); ++i) {
    const double got = y.data<float>()[i], e = want[size_t(i)];
    if (p.is_max) {
      ASSERT_EQ(got, float(e)) << "element " << i << "\n" << print_graph(g);
    } else if (std::isnan(e)) {
      ASSERT_TRUE(std::isnan(got)) << "element " << i;
    } else {
      worst_avg = std::max(worst_avg, std::fabs(got - e));
      ASSERT_LE(std::fabs(got - e), 5e-6 + 1e-6 * std::fabs(e)) << "element " << i << "\n" << print_graph(g);
    }
  }
}

TEST(Import3d, MaxPoolMatchesNaive3dReference) {
  std::mt19937 rng(301);
  for (int i = 0; i < 150; ++i) check_pool(random_pool(rng, true), rng);
}

TEST(Import3d, AveragePoolMatchesNaive3dReference) {
  std::mt19937 rng(302);
  for (int i = 0; i < 150; ++i) check_pool(random_pool(rng, false), rng);
  std::printf("3-D AveragePool: largest |error| %.3g\n", worst_avg);
}

int count_kind(const Graph& g, OpKind k) {
  int n = 0;
  for (const Node* node : testing::nodes_of(g)) n += node->kind == k;
  return n;
}

TEST(Import3d, PoolIsTwo2dPoolsOnChannelsLastViews) {
  PoolCase p;
  p.is_max = false;
  p.n = 1, p.c = 2;
  p.ax[0] = {4, 2, 2, 1, 0, 0, 2};
  p.ax[1] = {5, 3, 1, 1, 1, 1, 5};
  p.ax[2] = {6, 2, 2, 1, 0, 0, 3};
  p.count_include_pad = true;
  auto g = pool_model(p).import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  std::vector<const Node*> pools;
  for (const Node* n : testing::nodes_of(g.value()))
    if (n->kind == OpKind::AveragePool) pools.push_back(n);
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(g.value().tensor(pools[0]->inputs[0]).shape, (Shape{4, 2, 5, 6}));  // [N*D, C, H, W]
  EXPECT_EQ(pools[0]->attrs.get_ints("kernel_shape"), (V{3, 2}));
  EXPECT_EQ(pools[0]->attrs.get_ints("pads"), (V{1, 0, 1, 0}));
  EXPECT_EQ(g.value().tensor(pools[1]->inputs[0]).shape, (Shape{1, 2, 4, 15}));  // [N, C, D, H'*W']
  EXPECT_EQ(pools[1]->attrs.get_ints("kernel_shape"), (V{2, 1}));
  EXPECT_EQ(pools[1]->attrs.get_ints("strides"), (V{2, 1}));
  EXPECT_EQ(pools[1]->attrs.get_int("count_include_pad", 0), 1);
  EXPECT_EQ(g.value().tensor(g.value().outputs[0]).shape, (Shape{1, 2, 2, 5, 3}));
  // Channels-last, the transposes around the 2-D pools cancel: one at the input, one at the output.
  Graph run = g.value();
  ASSERT_TRUE(run_passes(run, cpu_pipeline()).ok());
  EXPECT_EQ(count_kind(run, OpKind::Transpose), 2) << print_graph(run);
}

TEST(Import3d, CeilModeThatAddsNoWindowIsDropped) {
  // D: (4 - 2) / 2 exact, so ceil_mode adds nothing; H: (5 - 2) / 2 rounds up to a 3rd window.
  PoolCase p;
  p.ax[0] = {4, 2, 2, 1, 0, 0, 2};
  p.ax[1] = {5, 2, 2, 1, 0, 0, 3};
  p.ax[2] = {4, 2, 2, 1, 0, 0, 2};
  p.ceil_mode = true;
  auto g = pool_model(p).import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  std::vector<int64_t> ceil;
  for (const Node* n : testing::nodes_of(g.value()))
    if (n->kind == OpKind::MaxPool) ceil.push_back(n->attrs.get_int("ceil_mode", -1));
  EXPECT_EQ(ceil, (V{1, 0}));  // the (H, W) pool keeps it, the D pool drops it
}

TEST(Import3d, GlobalPoolsAre2dGlobalPoolsOnFoldedDepth) {
  std::mt19937 rng(304);
  for (const char* op : {"GlobalMaxPool", "GlobalAveragePool"}) {
    const Shape xs = {2, 3, 4, 2, 5};
    OnnxBuilder b;
    b.input("x", kFloat, xs).output("y");
    b.node(op, {"x"}, {"y"}, "gp3d");
    const std::vector<float> xv = random_floats(rng, num_elements(xs));
    Graph g;
    auto out = run_model(b, {TensorData::from<float>(xs, xv)}, &g);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    const TensorData& y = out.value()[0];
    ASSERT_EQ(y.shape, (Shape{2, 3, 1, 1, 1}));
    for (int64_t nc = 0; nc < 6; ++nc) {
      double m = -1e30, sum = 0;
      for (int64_t i = 0; i < 40; ++i) {
        m = std::max(m, double(xv[size_t(nc * 40 + i)]));
        sum += xv[size_t(nc * 40 + i)];
      }
      if (std::string(op) == "GlobalMaxPool") {
        EXPECT_EQ(y.data<float>()[nc], float(m));
      } else {
        EXPECT_NEAR(y.data<float>()[nc], sum / 40, 1e-6);
      }
    }
  }
}

// ---- ConvTranspose --------------------------------------------------------------------------------

struct CtCase {
  int opset = 13;
  int64_t n = 1, cin = 1, cout_g = 1, group = 1;
  Ax ax[3];
  int64_t op[3] = {0, 0, 0};
  bool bias = false;
  std::string auto_pad = "NOTSET";
  bool output_shape = false;
  int64_t target[3] = {0, 0, 0};

  std::string str() const {
    std::string s = str_cat("ConvTranspose opset ", opset, " x [", n, ",", cin, "] cout/g ", cout_g, " group ", group);
    for (int i = 0; i < 3; ++i)
      s += str_cat(" (in ", ax[i].in, " k ", ax[i].k, " s ", ax[i].s, " d ", ax[i].d, " p ", ax[i].pb, "/", ax[i].pe,
                   " op ", op[i], " out ", ax[i].out, ")");
    return s + str_cat(" bias ", bias, " auto_pad ", auto_pad, " output_shape ", output_shape);
  }
};

CtCase random_ct(std::mt19937& rng) {
  CtCase c;
  c.opset = int(ri(rng, 7, 18));
  c.n = ri(rng, 1, 2);
  const int64_t kind = ri(rng, 0, 3);  // 0-1: group 1, 2: grouped, 3: depthwise
  c.group = kind <= 1 ? 1 : kind == 2 ? 2 : ri(rng, 1, 4);
  c.cin = kind == 3 ? c.group : c.group * ri(rng, 1, 3);
  c.cout_g = ri(rng, 1, 3);
  c.bias = ri(rng, 0, 1) == 1;
  const int64_t mode = ri(rng, 0, 7);
  c.auto_pad = mode == 0 ? "SAME_UPPER" : mode == 1 ? "SAME_LOWER" : mode == 2 ? "VALID" : "NOTSET";
  c.output_shape = mode == 3;
  for (int i = 0; i < 3; ++i) {
    Ax& a = c.ax[i];
    a.in = ri(rng, 1, 5);
    a.k = ri(rng, 1, 3);
    a.s = ri(rng, 1, 3);
    a.d = ri(rng, 0, 3) == 0 ? 2 : 1;
    c.op[i] = ri(rng, 0, std::max(a.s, a.d) - 1);
    const int64_t natural = a.s * (a.in - 1) + c.op[i] + (a.k - 1) * a.d + 1;
    a.pb = ri(rng, 0, 2);
    a.pe = ri(rng, 0, 2);
    if (natural - a.pb - a.pe < 1) a.pb = a.pe = 0;
    if (c.auto_pad == "VALID") a.pb = a.pe = 0;
    // output_shape and SAME: pads from the ONNX formula; a larger output is extra end padding.
    if (c.output_shape) c.target[i] = std::max<int64_t>(1, natural - ri(rng, 0, 2));
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") c.target[i] = a.in * a.s;
    if (c.output_shape || c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      const int64_t total = std::max<int64_t>(0, natural - c.target[i]);
      a.pb = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      a.pe = total - a.pb;
      a.out = c.target[i];
    } else {
      a.out = natural - a.pb - a.pe;
    }
  }
  return c;
}

struct CtModel {
  OnnxBuilder b;
  std::vector<float> w, bias;
};

CtModel ct_model(const CtCase& c, std::mt19937& rng) {
  CtModel m{OnnxBuilder(c.opset), {}, {}};
  const V ws = {c.cin, c.cout_g, c.ax[0].k, c.ax[1].k, c.ax[2].k};
  m.w = random_floats(rng, num_elements(ws));
  m.b.input("x", kFloat, {c.n, c.cin, c.ax[0].in, c.ax[1].in, c.ax[2].in}).output("y");
  m.b.init("w", TensorData::from<float>(ws, m.w));
  std::vector<std::string> in = {"x", "w"};
  if (c.bias) {
    m.bias = random_floats(rng, c.cout_g * c.group);
    m.b.init("b", TensorData::from<float>({c.cout_g * c.group}, m.bias));
    in.push_back("b");
  }
  auto* node = m.b.node("ConvTranspose", in, {"y"}, "deconv3d");
  if (ri(rng, 0, 1)) OnnxBuilder::attr(node, "kernel_shape", V{c.ax[0].k, c.ax[1].k, c.ax[2].k});
  OnnxBuilder::attr(node, "strides", V{c.ax[0].s, c.ax[1].s, c.ax[2].s});
  OnnxBuilder::attr(node, "dilations", V{c.ax[0].d, c.ax[1].d, c.ax[2].d});
  if (c.group != 1) OnnxBuilder::attr(node, "group", c.group);
  if (c.op[0] || c.op[1] || c.op[2]) OnnxBuilder::attr(node, "output_padding", V{c.op[0], c.op[1], c.op[2]});
  if (c.auto_pad != "NOTSET") {
    OnnxBuilder::attr(node, "auto_pad", c.auto_pad);
  } else if (c.output_shape) {
    OnnxBuilder::attr(node, "output_shape", V{c.target[0], c.target[1], c.target[2]});
  } else {
    OnnxBuilder::attr(node, "pads", V{c.ax[0].pb, c.ax[1].pb, c.ax[2].pb, c.ax[0].pe, c.ax[1].pe, c.ax[2].pe});
  }
  return m;
}

// y[n, co, o] = B[co] + sum of x[n, ci, i] * W[ci, co % cout_g, t] over ci in co's group and
// i * s + t * d - pb = o per axis. Also returns the sum of |terms| per output (for the tolerance).
void ct_reference(const CtCase& c, const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                  std::vector<double>* y, std::vector<double>* mag) {
  const Ax* A = c.ax;
  const int64_t cout = c.cout_g * c.group, cin_g = c.cin / c.group;
  const int64_t osz = A[0].out * A[1].out * A[2].out;
  y->assign(size_t(c.n * cout * osz), 0.0);
  mag->assign(y->size(), 0.0);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t co = 0; co < cout; ++co) {
      const int64_t gi = co / c.cout_g, col = co % c.cout_g;
      double* yo = y->data() + (n * cout + co) * osz;
      double* mo = mag->data() + (n * cout + co) * osz;
      for (int64_t i = 0; i < osz; ++i) {
        yo[i] = b.empty() ? 0.0 : b[size_t(co)];
        mo[i] = std::fabs(yo[i]);
      }
      for (int64_t ci = gi * cin_g; ci < (gi + 1) * cin_g; ++ci)
        for (int64_t id = 0; id < A[0].in; ++id)
          for (int64_t ih = 0; ih < A[1].in; ++ih)
            for (int64_t iw = 0; iw < A[2].in; ++iw) {
              const double xv = x[size_t((((n * c.cin + ci) * A[0].in + id) * A[1].in + ih) * A[2].in + iw)];
              for (int64_t td = 0; td < A[0].k; ++td)
                for (int64_t th = 0; th < A[1].k; ++th)
                  for (int64_t tw = 0; tw < A[2].k; ++tw) {
                    const int64_t od = id * A[0].s + td * A[0].d - A[0].pb;
                    const int64_t oh = ih * A[1].s + th * A[1].d - A[1].pb;
                    const int64_t ow = iw * A[2].s + tw * A[2].d - A[2].pb;
                    if (od < 0 || od >= A[0].out || oh < 0 || oh >= A[1].out || ow < 0 || ow >= A[2].out) continue;
                    const double t =
                        xv * w[size_t((((ci * c.cout_g + col) * A[0].k + td) * A[1].k + th) * A[2].k + tw)];
                    yo[(od * A[1].out + oh) * A[2].out + ow] += t;
                    mo[(od * A[1].out + oh) * A[2].out + ow] += std::fabs(t);
                  }
            }
    }
}

void check_ct(const CtCase& c, std::mt19937& rng) {
  SCOPED_TRACE(c.str());
  CtModel m = ct_model(c, rng);
  const Shape xs = {c.n, c.cin, c.ax[0].in, c.ax[1].in, c.ax[2].in};
  const std::vector<float> xv = random_floats(rng, num_elements(xs));
  Graph g;
  auto out = run_model(m.b, {TensorData::from<float>(xs, xv)}, &g);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const TensorData& y = out.value()[0];
  ASSERT_EQ(y.shape, (Shape{c.n, c.cout_g * c.group, c.ax[0].out, c.ax[1].out, c.ax[2].out})) << print_graph(g);
  std::vector<double> want, mag;
  ct_reference(c, xv, m.w, m.bias, &want, &mag);
  for (int64_t i = 0; i < y.count(); ++i) {
    worst_ct = std::max(worst_ct, std::fabs(y.data<float>()[i] - want[size_t(i)]) / (mag[size_t(i)] + 1e-30));
    ASSERT_LE(std::fabs(y.data<float>()[i] - want[size_t(i)]), 1e-5 * mag[size_t(i)] + 1e-6)
        << "element " << i << " want " << want[size_t(i)] << "\n"
        << print_graph(g);
  }
}

TEST(Import3d, ConvTransposeMatchesNaive3dReference) {
  std::mt19937 rng(303);
  for (int i = 0; i < 200; ++i) check_ct(random_ct(rng), rng);
  std::printf("3-D ConvTranspose: largest |error| / sum|terms| %.3g\n", worst_ct);
}

TEST(Import3d, ConvTransposeIsKdSlicesAsChannelsThenDepthScatterAndSum) {
  // X [1, 2, 3, 4, 4], W [2, 3, 2, 3, 3]: the (H, W) ConvTranspose has 2 * 3 output channels (kd, co),
  // the depth scatter is depthwise with one-hot (2, 1) kernels, the sum over kd a depthwise (1, 2) Conv.
  CtCase c;
  c.cin = 2, c.cout_g = 3, c.bias = true;
  c.ax[0] = {3, 2, 2, 1, 0, 0, 6};
  c.ax[1] = {4, 3, 1, 1, 1, 1, 4};
  c.ax[2] = {4, 3, 2, 1, 0, 1, 9};
  c.op[2] = 1;
  std::mt19937 rng(1);
  CtModel m = ct_model(c, rng);
  auto g = m.b.import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  std::vector<const Node*> ct, conv;
  for (const Node* n : testing::nodes_of(g.value())) {
    if (n->kind == OpKind::ConvTranspose) ct.push_back(n);
    if (n->kind == OpKind::Conv) conv.push_back(n);
  }
  ASSERT_EQ(ct.size(), 2u);
  ASSERT_EQ(conv.size(), 1u);
  const Graph& gr = g.value();
  EXPECT_EQ(gr.tensor(ct[0]->inputs[0]).shape, (Shape{3, 2, 4, 4}));      // [N*D, Cin, H, W]
  EXPECT_EQ(gr.tensor(ct[0]->inputs[1]).shape, (Shape{2, 6, 3, 3}));      // [Cin, Cout*kD, kH, kW]
  EXPECT_EQ(ct[0]->attrs.get_ints("pads"), (V{1, 0, 1, 1}));
  EXPECT_EQ(ct[0]->attrs.get_ints("output_padding"), (V{0, 1}));
  EXPECT_EQ(gr.tensor(ct[1]->inputs[0]).shape, (Shape{1, 6, 3, 36}));     // [N, Cout*kD, D, OH*OW]
  EXPECT_EQ(ct[1]->attrs.get_int("group", 0), 6);
  EXPECT_EQ(ct[1]->attrs.get_ints("strides"), (V{2, 1}));
  EXPECT_EQ(ct[1]->inputs.size(), 2u);                                       // B goes to the sum
  EXPECT_EQ(gr.tensor(conv[0]->inputs[0]).shape, (Shape{1, 3, 6, 36 * 2}));  // [N, Cout, OD, OH*OW*kD]
  EXPECT_EQ(conv[0]->attrs.get_ints("strides"), (V{1, 2}));
  EXPECT_EQ(gr.tensor(conv[0]->inputs[1]).shape, (Shape{3, 1, 1, 2}));       // ones
  EXPECT_EQ(conv[0]->attrs.get_int("group", 0), 3);
  EXPECT_EQ(conv[0]->inputs.size(), 3u);
  EXPECT_EQ(gr.tensor(gr.outputs[0]).shape, (Shape{1, 3, 6, 4, 9}));
}

TEST(Import3d, ConsecutiveOpsKeepOneTransposeAtEachEnd) {
  // ConvTranspose -> Relu -> MaxPool -> AveragePool, all 3-D: after layout-nhwc the data stays
  // channels-last from the input transpose to the output one.
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 3, 4, 4}).output("y");
  std::mt19937 rng(9);
  b.init("w", TensorData::from<float>({2, 3, 2, 3, 3}, random_floats(rng, 108)));
  b.init("b", TensorData::from<float>({3}, random_floats(rng, 3)));
  OnnxBuilder::attr(b.node("ConvTranspose", {"x", "w", "b"}, {"t"}, "ct"), "strides", V{2, 1, 2});
  b.node("Relu", {"t"}, {"r"}, "relu");
  OnnxBuilder::attr(b.node("MaxPool", {"r"}, {"m"}, "mp"), "kernel_shape", V{2, 2, 2});
  auto* ap = b.node("AveragePool", {"m"}, {"y"}, "ap");
  OnnxBuilder::attr(ap, "kernel_shape", V{2, 1, 2});
  OnnxBuilder::attr(ap, "pads", V{1, 0, 0, 0, 0, 1});
  auto g = b.import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  Graph run = g.value();
  ASSERT_TRUE(run_passes(run, cpu_pipeline()).ok());
  EXPECT_EQ(count_kind(run, OpKind::Transpose), 2) << print_graph(run);
}

TEST(Import3d, QdqConvTransposeWeightStaysDequantizeOfAConstant) {
  // Per-output-channel int8 weights: the scales of axis 1 follow their kD channels, so the (H, W)
  // ConvTranspose reads "DequantizeLinear of a constant" as fold-qdq wants; the result equals
  // the reference on the dequantized weights.
  CtCase c;
  c.cin = 2, c.cout_g = 2;
  c.ax[0] = {2, 2, 1, 1, 0, 0, 3};
  c.ax[1] = {3, 2, 2, 1, 0, 0, 6};
  c.ax[2] = {2, 1, 1, 1, 0, 0, 2};
  std::mt19937 rng(7);
  const V ws = {2, 2, 2, 2, 1};
  std::vector<int8_t> wq(16);
  std::vector<float> wf(16);
  const float scale[2] = {0.05f, 0.02f};
  for (size_t i = 0; i < wq.size(); ++i) {
    wq[i] = int8_t(ri(rng, -100, 100));
    wf[i] = float(wq[i]) * scale[(i / 4) % 2];  // W [Cin, Cout, kD, kH, kW], co = (i / 4) % 2
  }
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 2, 3, 2}).output("y");
  b.init("wq", TensorData::from<int8_t>(ws, wq));
  b.init("w_scale", TensorData::from<float>({2}, {scale[0], scale[1]}));
  b.init("w_zp", TensorData(DType::I8, {2}));
  OnnxBuilder::attr(b.node("DequantizeLinear", {"wq", "w_scale", "w_zp"}, {"w"}, "dq_w"), "axis", int64_t(1));
  OnnxBuilder::attr(b.node("ConvTranspose", {"x", "w"}, {"y"}, "deconv3d"), "strides", V{1, 2, 1});
  auto imported = b.import();
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  const Node* first = nullptr;
  for (const Node* n : testing::nodes_of(imported.value()))
    if (n->kind == OpKind::ConvTranspose && !first) first = n;
  ASSERT_NE(first, nullptr);
  const Tensor& w = imported.value().tensor(first->inputs[1]);
  ASSERT_GE(w.producer, 0);
  const Node& dq = imported.value().node(w.producer);
  ASSERT_EQ(dq.kind, OpKind::DequantizeLinear);
  const Tensor& q = imported.value().tensor(dq.inputs[0]);
  EXPECT_TRUE(q.is_constant());
  EXPECT_EQ(q.shape, (Shape{2, 4, 2, 1}));
  EXPECT_EQ(q.quant, (QuantParams{{0.05f, 0.02f, 0.05f, 0.02f}, {0, 0, 0, 0}, 1}));  // channel kd * Cout + co

  const std::vector<float> xv = random_floats(rng, 24);
  Graph g;
  auto out = run_model(b, {TensorData::from<float>({1, 2, 2, 3, 2}, xv)}, &g);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  std::vector<double> want, mag;
  ct_reference(c, xv, wf, {}, &want, &mag);
  const TensorData& y = out.value()[0];
  ASSERT_EQ(y.shape, (Shape{1, 2, 3, 6, 2}));
  for (int64_t i = 0; i < y.count(); ++i)
    EXPECT_LE(std::fabs(y.data<float>()[i] - want[size_t(i)]), 1e-5 * mag[size_t(i)] + 1e-6) << i;
}

// ---- bad attributes ---------------------------------------------------------------------------------

std::string import_error(const OnnxBuilder& b, Error code) {
  auto g = b.import();
  EXPECT_FALSE(g.ok());
  if (g.ok()) return "";
  EXPECT_EQ(g.status().code(), code) << g.status().to_string();
  return g.status().message();
}

TEST(Import3d, BadAttributesNameTheNode) {
  auto pool = [](const char* op, const std::function<void(onnx::NodeProto*)>& set) {
    OnnxBuilder b;
    b.input("x", kFloat, {1, 2, 4, 4, 4}).output("y");
    auto* n = b.node(op, {"x"}, {"y"}, "p3");
    OnnxBuilder::attr(n, "kernel_shape", V{2, 2, 2});
    set(n);
    return b;
  };
  auto has = [](const std::string& msg, const std::string& part) {
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  };
  has(import_error(pool("MaxPool", [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "strides", V{1, 1}); }),
                   Error::InvalidModel),
      "node 'p3' (op MaxPool, opset 13): attribute strides [1,1] of a 3-D MaxPool must have 3 values");
  has(import_error(pool("AveragePool", [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "pads", V{2, 0, 0, 0, 0, 0}); }),
                   Error::InvalidModel),
      "node 'p3' (op AveragePool, opset 13): pads of axis D (2, 0) must be smaller than the kernel 2");
  has(import_error(pool("AveragePool", [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "dilations", V{1, 2, 1}); }),
                   Error::NotSupported),
      "node 'p3' (op AveragePool, opset 13): AveragePool dilations are not supported");
  has(import_error(pool("MaxPool", [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "kernel_shape", V{2, 6, 2}); }),
                   Error::InvalidModel),
      "node 'p3' (op MaxPool, opset 13): the H window (kernel 6, dilation 1) is larger than the padded input (4 + pads 0+0)");
  has(import_error(pool("MaxPool", [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "auto_pad", std::string("SAME")); }),
                   Error::InvalidModel),
      "node 'p3' (op MaxPool, opset 13): attribute auto_pad has unknown value \"SAME\"");

  auto ct = [](const V& w_shape, const std::function<void(onnx::NodeProto*)>& set) {
    OnnxBuilder b;
    b.input("x", kFloat, {1, 2, 3, 3, 3}).output("y");
    b.init("w", TensorData(DType::F32, w_shape));
    set(b.node("ConvTranspose", {"x", "w"}, {"y"}, "ct3"));
    return b;
  };
  has(import_error(ct({2, 2, 2, 2, 2}, [](onnx::NodeProto* n) {
                     OnnxBuilder::attr(n, "strides", V{2, 2, 2});
                     OnnxBuilder::attr(n, "output_padding", V{0, 2, 0});
                   }),
                   Error::InvalidModel),
      "node 'ct3' (op ConvTranspose, opset 13): attribute output_padding [0,2,0] must be non-negative and smaller than "
      "the stride or the dilation on each axis (axis H: stride 2, dilation 1)");
  has(import_error(ct({2, 2, 2, 2}, [](onnx::NodeProto*) {}), Error::InvalidModel),
      "node 'ct3' (op ConvTranspose, opset 13): input 1 (W) 'w' must be 5-D for a 3-D ConvTranspose, has shape [2,2,2,2]");
  has(import_error(ct({2, 2, 2, 2, 2}, [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "group", int64_t(3)); }),
                   Error::InvalidModel),
      "node 'ct3' (op ConvTranspose, opset 13): input 0 (X) has 2 channels and W [2,2,2,2,2] with group=3");
  has(import_error(ct({2, 2, 2, 2, 2}, [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "kernel_shape", V{2, 2, 3}); }),
                   Error::InvalidModel),
      "node 'ct3' (op ConvTranspose, opset 13): attribute kernel_shape [2,2,3] does not match the weights' kernel [2,2,2]");
  has(import_error(ct({2, 2, 2, 2, 2}, [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "pads", V{3, 0, 0, 3, 0, 0}); }),
                   Error::InvalidModel),
      "node 'ct3' (op ConvTranspose, opset 13): the pads of axis D (3, 3) leave an empty output");
  has(import_error(ct({2, 2, 2, 2, 2}, [](onnx::NodeProto* n) { OnnxBuilder::attr(n, "output_shape", V{4, 4}); }),
                   Error::InvalidModel),
      "node 'ct3' (op ConvTranspose, opset 13): attribute output_shape [4,4] must give the 3 spatial sizes");

  has(import_error(ct({2, 1, 4097, 1, 1}, [](onnx::NodeProto*) {}), Error::NotSupported),
      "node 'ct3' (op ConvTranspose, opset 13): a 3-D ConvTranspose with kernel depth 4097 and 1 output channels is "
      "outside what its decomposition supports");

  OnnxBuilder conv;  // 3-D Conv has no decomposition here
  conv.input("x", kFloat, {1, 2, 3, 3, 3}).output("y");
  conv.init("w", TensorData(DType::F32, {2, 2, 2, 2, 2}));
  conv.node("Conv", {"x", "w"}, {"y"}, "conv3");
  has(import_error(conv, Error::NotSupported),
      "node 'conv3' (op Conv, opset 13): only 2-D Conv (4-D NCHW input) is supported; input X 'x' has shape "
      "[1,2,3,3,3] (3-D)");
}

}  // namespace
}  // namespace neutron
