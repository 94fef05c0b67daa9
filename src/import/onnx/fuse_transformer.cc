#include "import/onnx/fuse_transformer.h"

#include <algorithm>
#include <cmath>

namespace neutron {
namespace {

class Matcher {
 public:
  explicit Matcher(Graph& g) : g_(g), cons_(g.consumers()) {}

  // ---- helpers ----
  // The live producer of t when t is an internal value (single consumer, not a graph output).
  const Node* internal(TensorId t, NodeId* id = nullptr) const {
    if (t == kNoTensor || g_.is_graph_output(t) || cons_[size_t(t)].size() != 1) return nullptr;
    return producer(t, id);
  }
  const Node* producer(TensorId t, NodeId* id = nullptr) const {
    if (t == kNoTensor) return nullptr;
    const NodeId p = g_.tensor(t).producer;
    if (p < 0 || g_.node(p).dead) return nullptr;
    if (id) *id = p;
    return &g_.node(p);
  }
  bool is_float(TensorId t) const { return g_.tensor(t).dtype == DType::F32 && !g_.tensor(t).is_quantized(); }
  bool scalar(TensorId t, double* v) const {
    const Tensor& c = g_.tensor(t);
    if (!c.is_constant() || c.dtype != DType::F32 || c.is_quantized() || c.data->count() != 1) return false;
    *v = c.data->get_as_double(0);
    return true;
  }
  static bool near(double v, double want) { return std::fabs(v - want) <= 1e-4 * std::fabs(want); }
  // t = s * k or s / k' (k = 1/k') with a scalar constant; t internal.
  bool scaled(TensorId t, TensorId* s, double* k, std::vector<NodeId>* nodes) const {
    NodeId id;
    const Node* n = internal(t, &id);
    if (!n || n->inputs.size() != 2) return false;
    double v;
    if (n->kind == OpKind::Mul) {
      for (int i = 0; i < 2; ++i)
        if (scalar(n->inputs[size_t(i)], &v)) {
          *s = n->inputs[size_t(1 - i)];
          *k = v;
          nodes->push_back(id);
          return true;
        }
    } else if (n->kind == OpKind::Div && scalar(n->inputs[1], &v) && v != 0) {
      *s = n->inputs[0];
      *k = 1.0 / v;
      nodes->push_back(id);
      return true;
    }
    return false;
  }
  // t = x^3 (Pow 3, x*(x*x), (x*x)*x); t internal.
  bool cube(TensorId t, TensorId x, std::vector<NodeId>* nodes) const {
    NodeId id;
    const Node* n = internal(t, &id);
    if (!n) return false;
    if (n->kind == OpKind::Pow && n->inputs[0] == x && n->attrs.get_float("exponent", 0) == 3.0) {
      nodes->push_back(id);
      return true;
    }
    if (n->kind != OpKind::Mul || n->inputs.size() != 2) return false;
    for (int i = 0; i < 2; ++i) {
      if (n->inputs[size_t(i)] != x) continue;
      NodeId sid;
      const Node* sq = internal(n->inputs[size_t(1 - i)], &sid);
      if (sq && ((sq->kind == OpKind::Mul && sq->inputs.size() == 2 && sq->inputs[0] == x && sq->inputs[1] == x) ||
                 (sq->kind == OpKind::Pow && sq->inputs[0] == x && sq->attrs.get_float("exponent", 0) == 2.0))) {
        nodes->push_back(id);
        nodes->push_back(sid);
        return true;
      }
    }
    return false;
  }

  // ---- GELU ----
  // p = 1 + erf(x / sqrt 2) or 1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)); *approx set accordingly.
  bool gelu_factor(TensorId p, TensorId x, std::string* approx, std::vector<NodeId>* nodes) const {
    NodeId id;
    const Node* add = internal(p, &id);
    if (!add || add->kind != OpKind::Add || add->inputs.size() != 2) return false;
    double one;
    int fi = -1;
    for (int i = 0; i < 2; ++i)
      if (scalar(add->inputs[size_t(i)], &one) && one == 1.0) fi = 1 - i;
    if (fi < 0) return false;
    std::vector<NodeId> found = {id};
    NodeId fid;
    const Node* f = internal(add->inputs[size_t(fi)], &fid);
    if (!f || (f->kind != OpKind::Erf && f->kind != OpKind::Tanh)) return false;
    found.push_back(fid);
    TensorId s;
    double k;
    if (!scaled(f->inputs[0], &s, &k, &found)) return false;
    if (f->kind == OpKind::Erf) {
      if (s != x || !near(k, 1.0 / std::sqrt(2.0))) return false;
      *approx = "none";
    } else {
      if (!near(k, 0.79788456080286535588)) return false;
      NodeId sid;
      const Node* sum = internal(s, &sid);
      if (!sum || sum->kind != OpKind::Add || sum->inputs.size() != 2) return false;
      found.push_back(sid);
      int xi = sum->inputs[0] == x ? 0 : (sum->inputs[1] == x ? 1 : -1);
      if (xi < 0) return false;
      TensorId c3;
      double k3;
      if (!scaled(sum->inputs[size_t(1 - xi)], &c3, &k3, &found) || !near(k3, 0.044715) || !cube(c3, x, &found))
        return false;
      *approx = "tanh";
    }
    nodes->insert(nodes->end(), found.begin(), found.end());
    return true;
  }

  // Flattens a product rooted at `t` (Mul nodes whose outputs are internal, depth <= 2) into
  // scalar constants (multiplied into *k) and tensor factors.
  void factors(TensorId t, bool root, int depth, double* k, std::vector<TensorId>* fs, std::vector<NodeId>* nodes) const {
    NodeId id;
    const Node* n = root ? producer(t, &id) : internal(t, &id);
    double v;
    if (!root && scalar(t, &v)) {
      *k *= v;
      return;
    }
    if (n && n->kind == OpKind::Mul && n->inputs.size() == 2 && depth < 3 && is_float(t)) {
      nodes->push_back(id);
      for (TensorId in : n->inputs) factors(in, false, depth + 1, k, fs, nodes);
      return;
    }
    fs->push_back(t);
  }

  bool try_gelu(NodeId root) {
    const Node& r = g_.node(root);
    if (r.kind != OpKind::Mul || r.outputs.size() != 1 || !is_float(r.outputs[0])) return false;
    double k = 1;
    std::vector<TensorId> fs;
    std::vector<NodeId> nodes;
    factors(r.outputs[0], true, 0, &k, &fs, &nodes);
    if (fs.size() != 2 || !near(k, 0.5)) return false;
    for (int i = 0; i < 2; ++i) {
      const TensorId x = fs[size_t(i)], p = fs[size_t(1 - i)];
      std::string approx;
      std::vector<NodeId> inner;
      if (!gelu_factor(p, x, &approx, &inner)) continue;
      nodes.insert(nodes.end(), inner.begin(), inner.end());
      Attributes a;
      a.set("approximate", approx);
      replace(root, nodes, OpKind::Gelu, {x}, std::move(a));
      return true;
    }
    return false;
  }

  // ---- q, k, v of a fused projection ----
  // y = Reshape(Slice(Transpose(Reshape(x, [..., S, H, D]), perm), one index k of the S axis))
  // (qkv.reshape(B, T, 3, heads, d).permute(...)[k]) becomes Transpose(Reshape(Slice(x, the k-th
  // third of the last axis))): no 5-D tensor, and each of q, k, v is its own slice.
  bool try_qkv_split(NodeId rid) {
    const Node& ry = g_.node(rid);
    if (ry.kind != OpKind::Reshape || ry.inputs.size() != 1) return false;
    NodeId sid, tid, r0id;
    const Node* sl = internal(ry.inputs[0], &sid);
    if (!sl || sl->kind != OpKind::Slice) return false;
    const Node* tr = producer(sl->inputs[0], &tid);
    if (!tr || tr->kind != OpKind::Transpose || g_.is_graph_output(tr->outputs[0])) return false;
    const Node* r0 = producer(tr->inputs[0], &r0id);
    if (!r0 || r0->kind != OpKind::Reshape || g_.is_graph_output(r0->outputs[0])) return false;
    const Shape& ts = g_.tensor(tr->outputs[0]).shape;
    const Shape& rs = g_.tensor(r0->outputs[0]).shape;
    const TensorId x = r0->inputs[0];
    const Shape& xs = g_.tensor(x).shape;
    const auto perm = tr->attrs.get_ints("perm");
    const auto starts = sl->attrs.get_ints("starts"), ends = sl->attrs.get_ints("ends"),
               steps = sl->attrs.get_ints("steps");
    if (perm.size() != ts.size() || starts.size() != ts.size() || ends.size() != ts.size() || steps.size() != ts.size())
      return false;
    int a = -1;  // the one sliced axis of the transposed tensor, one element wide
    for (size_t i = 0; i < ts.size(); ++i) {
      if (steps[i] != 1) return false;
      if (starts[i] == 0 && ends[i] == ts[i]) continue;
      if (a >= 0 || ends[i] != starts[i] + 1) return false;
      a = int(i);
    }
    if (a < 0) return false;
    const size_t j = size_t(perm[size_t(a)]);  // that axis in the 5-D reshape
    if (xs.size() != j + 1 || xs.back() != num_elements(Shape(rs.begin() + long(j), rs.end()))) return false;
    for (size_t i = 0; i < j; ++i)
      if (xs[i] != rs[i]) return false;
    const int64_t inner = num_elements(Shape(rs.begin() + long(j) + 1, rs.end()));
    const int64_t k = starts[size_t(a)];
    // Slice of x's last axis.
    std::vector<int64_t> st(xs.size(), 0), en(xs.begin(), xs.end()), ax(xs.size()), sp(xs.size(), 1);
    for (size_t i = 0; i < xs.size(); ++i) ax[i] = int64_t(i);
    st.back() = k * inner;
    en.back() = (k + 1) * inner;
    Shape sliced = xs;
    sliced.back() = inner;
    Shape reduced(rs.begin(), rs.begin() + long(j));
    reduced.insert(reduced.end(), rs.begin() + long(j) + 1, rs.end());
    std::vector<int64_t> p2;
    for (int64_t v : perm)
      if (v != int64_t(j)) p2.push_back(v > int64_t(j) ? v - 1 : v);
    const std::string base = g_.node(rid).name;
    const TensorId y = ry.outputs[0];
    // add_node() moves nodes: no Node pointer or reference is used below.
    const TensorId t_out = tr->outputs[0], r_out = r0->outputs[0];
    const TensorId t1 = add_value(base + "/qkv_slice", g_.tensor(x).dtype, sliced);
    Attributes sa;
    sa.set("starts", st);
    sa.set("ends", en);
    sa.set("axes", ax);
    sa.set("steps", sp);
    bool identity = true;
    for (size_t i = 0; i < p2.size(); ++i) identity = identity && p2[i] == int64_t(i);
    g_.remove_node(rid);
    g_.remove_node(sid);
    add_node(OpKind::Slice, base + "/qkv_slice", {x}, {t1}, std::move(sa));
    Attributes ra;
    ra.set("shape", std::vector<int64_t>(reduced.begin(), reduced.end()));
    if (identity) {
      add_node(OpKind::Reshape, base + "/qkv_reshape", {t1}, {y}, std::move(ra));
    } else {
      const TensorId t2 = add_value(base + "/qkv_heads", g_.tensor(x).dtype, reduced);
      add_node(OpKind::Reshape, base + "/qkv_reshape", {t1}, {t2}, std::move(ra));
      Attributes ta;
      ta.set("perm", p2);
      add_node(OpKind::Transpose, base + "/qkv_transpose", {t2}, {y}, std::move(ta));
    }
    // The 5-D Reshape and Transpose die with their last reader.
    if (cons_[size_t(t_out)].size() == 1) {
      g_.remove_node(tid);
      if (cons_[size_t(r_out)].size() == 1) g_.remove_node(r0id);
    }
    return true;
  }

  // ---- attention in 3-D ----
  // MatMul(Q, K^T) -> [Mul by a scalar] -> [Where(constant mask, fill, .)] -> Softmax(last axis)
  // -> MatMul(., V) on 4-D [1, heads, T, d] tensors runs on [heads, T, d]: a Reshape before Q, K^T
  // and V, one after the second MatMul (Neutron's BATCH_MATMUL is 3-D; Softmax over the last axis
  // of a 3-D tensor is its channel axis).
  bool try_attention_3d(NodeId mm2_id) {
    const Node& mm2 = g_.node(mm2_id);
    auto batch1_4d = [&](TensorId t) {
      const Tensor& x = g_.tensor(t);
      return !x.is_constant() && x.dtype == DType::F32 && x.shape.size() == 4 && x.shape[0] == 1;
    };
    if (mm2.kind != OpKind::MatMul || mm2.inputs.size() != 2 || !batch1_4d(mm2.inputs[0]) || !batch1_4d(mm2.inputs[1]) ||
        !batch1_4d(mm2.outputs[0]))
      return false;
    std::vector<NodeId> chain;  // from the Softmax back to the first MatMul
    TensorId t = mm2.inputs[0];
    NodeId mm1_id = -1;
    for (int steps = 0; steps < 4 && mm1_id < 0; ++steps) {
      NodeId id;
      const Node* n = internal(t, &id);
      if (!n || !batch1_4d(n->outputs[0])) return false;
      double v;
      if (n->kind == OpKind::Softmax && steps == 0 && n->attrs.get_int("axis", -1) == 3) {
        t = n->inputs[0];
      } else if (n->kind == OpKind::Mul && n->inputs.size() == 2 && (scalar(n->inputs[0], &v) || scalar(n->inputs[1], &v))) {
        t = scalar(n->inputs[0], &v) ? n->inputs[1] : n->inputs[0];
      } else if (n->kind == OpKind::Where && n->inputs.size() == 3 && g_.tensor(n->inputs[0]).is_constant() &&
                 (g_.tensor(n->inputs[0]).shape.size() < 4 || g_.tensor(n->inputs[0]).shape[0] == 1) &&
                 (scalar(n->inputs[1], &v) || scalar(n->inputs[2], &v))) {
        t = scalar(n->inputs[1], &v) ? n->inputs[2] : n->inputs[1];
      } else if (n->kind == OpKind::MatMul && n->inputs.size() == 2 && batch1_4d(n->inputs[0]) &&
                 batch1_4d(n->inputs[1]) && steps > 0) {
        mm1_id = id;
        break;
      } else {
        return false;
      }
      chain.push_back(id);
    }
    if (mm1_id < 0 || g_.node(chain[0]).kind != OpKind::Softmax) return false;
    auto drop = [](Shape s) {
      s.erase(s.begin());
      return s;
    };
    // Inputs of the first MatMul and V through new Reshapes.
    const std::string base = g_.node(mm2_id).name;
    auto reshaped = [&](TensorId x, const std::string& suffix) {
      const TensorId r = add_value(base + "/" + suffix, DType::F32, drop(g_.tensor(x).shape));
      Attributes a;
      const Shape rs = g_.tensor(r).shape;
      a.set("shape", std::vector<int64_t>(rs.begin(), rs.end()));
      add_node(OpKind::Reshape, base + "/" + suffix, {x}, {r}, std::move(a));
      return r;
    };
    const TensorId q = g_.node(mm1_id).inputs[0], kt = g_.node(mm1_id).inputs[1], v = g_.node(mm2_id).inputs[1];
    const TensorId y = g_.node(mm2_id).outputs[0];
    const TensorId q3 = reshaped(q, "q3"), kt3 = reshaped(kt, "kt3"), v3 = reshaped(v, "v3");
    g_.node(mm1_id).inputs = {q3, kt3};
    Tensor& s1 = g_.tensor(g_.node(mm1_id).outputs[0]);
    s1.shape = drop(s1.shape);
    for (NodeId id : chain) {
      Node& n = g_.node(id);
      Tensor& o = g_.tensor(n.outputs[0]);
      o.shape = drop(o.shape);
      if (n.kind == OpKind::Softmax) n.attrs.set("axis", int64_t(2));
      if (n.kind == OpKind::Where && g_.tensor(n.inputs[0]).shape.size() == 4) {
        const Tensor& c = g_.tensor(n.inputs[0]);
        TensorData d = *c.data;
        d.shape = drop(d.shape);
        n.inputs[0] = g_.add_constant(g_.unique_tensor_name(c.name + "_3d"), std::move(d));
      }
    }
    const TensorId y3 = add_value(base + "/y3", DType::F32, drop(g_.tensor(y).shape));
    g_.node(mm2_id).inputs = {g_.node(mm2_id).inputs[0], v3};
    g_.node(mm2_id).outputs = {y3};
    g_.tensor(y3).producer = mm2_id;
    Attributes a;
    const Shape ys = g_.tensor(y).shape;
    a.set("shape", std::vector<int64_t>(ys.begin(), ys.end()));
    add_node(OpKind::Reshape, base + "/y4", {y3}, {y}, std::move(a));
    return true;
  }

  // ---- LayerNorm ----
  // y = ((x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)) [* gamma] [+ beta], the means over
  // the trailing axes with keepdims.
  bool trailing_mean(const Node& n, size_t rank, int64_t* first) const {
    if (n.kind != OpKind::ReduceMean || n.attrs.get_int("keepdims", 1) != 1) return false;
    auto axes = n.attrs.get_ints("axes");
    if (axes.empty()) return false;
    std::sort(axes.begin(), axes.end());
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i] != int64_t(rank - axes.size() + i)) return false;
    *first = axes[0];
    return true;
  }

  bool try_layer_norm(NodeId div_id) {
    const Node& dv = g_.node(div_id);
    if (dv.kind != OpKind::Div || dv.inputs.size() != 2 || !is_float(dv.outputs[0])) return false;
    std::vector<NodeId> nodes = {div_id};
    const TensorId d = dv.inputs[0];
    NodeId sub_id, sqrt_id, add_id, var_id, sq_id, mean_id;
    const Node* sub = producer(d, &sub_id);
    if (!sub || sub->kind != OpKind::Sub || sub->inputs.size() != 2) return false;
    // d feeds exactly the square and this Div.
    if (g_.is_graph_output(d) || cons_[size_t(d)].size() != 2) return false;
    const TensorId x = sub->inputs[0];
    const size_t rank = g_.tensor(x).shape.size();
    const Node* mean = internal(sub->inputs[1], &mean_id);
    int64_t axis = 0, axis2 = 0;
    if (!mean || mean->inputs[0] != x || !trailing_mean(*mean, rank, &axis)) return false;
    const Node* sq = internal(dv.inputs[1], &sqrt_id);
    if (!sq || sq->kind != OpKind::Sqrt) return false;
    const Node* add = internal(sq->inputs[0], &add_id);
    if (!add || add->kind != OpKind::Add || add->inputs.size() != 2) return false;
    double eps = 0;
    int vi = scalar(add->inputs[1], &eps) ? 0 : (scalar(add->inputs[0], &eps) ? 1 : -1);
    if (vi < 0 || !(eps >= 0)) return false;
    const Node* var = internal(add->inputs[size_t(vi)], &var_id);
    if (!var || var->inputs[0] == kNoTensor || !trailing_mean(*var, rank, &axis2) || axis2 != axis) return false;
    const Node* square = internal(var->inputs[0], &sq_id);
    if (!square) return false;
    const bool is_square = (square->kind == OpKind::Pow && square->inputs[0] == d &&
                            square->attrs.get_float("exponent", 0) == 2.0) ||
                           (square->kind == OpKind::Mul && square->inputs.size() == 2 && square->inputs[0] == d &&
                            square->inputs[1] == d);
    if (!is_square) return false;
    // d is consumed by the square and the Div only (checked: 2 consumers, both in the pattern).
    for (NodeId c : cons_[size_t(d)])
      if (c != sq_id && c != div_id) return false;
    nodes.insert(nodes.end(), {sub_id, mean_id, sqrt_id, add_id, var_id, sq_id});
    const Shape& xs = g_.tensor(x).shape;
    const Shape tail(xs.begin() + axis, xs.end());
    // Optional affine tail: * gamma, + beta (constants broadcasting to the normalized dims).
    NodeId root = div_id;
    TensorId gamma = kNoTensor, beta = kNoTensor;
    auto affine = [&](OpKind kind, TensorId* param) {
      const TensorId t = g_.node(root).outputs[0];
      if (g_.is_graph_output(t) || cons_[size_t(t)].size() != 1) return;
      const NodeId c = cons_[size_t(t)][0];
      const Node& cn = g_.node(c);
      if (cn.kind != kind || cn.inputs.size() != 2) return;
      const TensorId other = cn.inputs[0] == t ? cn.inputs[1] : cn.inputs[0];
      const Tensor& o = g_.tensor(other);
      if (!o.is_constant() || o.dtype != DType::F32 || o.is_quantized() || o.shape.size() > tail.size()) return;
      for (size_t i = 0; i < o.shape.size(); ++i)
        if (o.shape[i] != 1 && o.shape[i] != tail[tail.size() - o.shape.size() + i]) return;
      *param = other;
      nodes.push_back(c);
      root = c;
    };
    affine(OpKind::Mul, &gamma);
    affine(OpKind::Add, &beta);
    if (gamma == kNoTensor) {
      gamma = g_.add_constant(g_.unique_tensor_name(dv.name + "/ones"),
                              TensorData::from<float>(tail, std::vector<float>(size_t(num_elements(tail)), 1.0f)));
    }
    Attributes a;
    a.set("axis", axis);
    a.set("epsilon", eps);
    std::vector<TensorId> ins = {x, gamma};
    if (beta != kNoTensor) ins.push_back(beta);
    nodes.erase(std::find(nodes.begin(), nodes.end(), root));
    nodes.push_back(root);
    replace(root, nodes, OpKind::LayerNormalization, ins, std::move(a));
    return true;
  }

 private:
  TensorId add_value(const std::string& base, DType dt, const Shape& shape) {
    Tensor t;
    t.name = g_.unique_tensor_name(base);
    t.dtype = dt;
    t.shape = shape;
    return g_.add_tensor(std::move(t));
  }
  void add_node(OpKind kind, const std::string& name, std::vector<TensorId> in, std::vector<TensorId> out,
                Attributes attrs) {
    Node n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    n.attrs = std::move(attrs);
    g_.add_node(std::move(n));
  }

  // `root` (whose output the fused node takes over) and every node in `nodes` die; the new node
  // writes root's output.
  void replace(NodeId root, const std::vector<NodeId>& nodes, OpKind kind, std::vector<TensorId> inputs,
               Attributes attrs) {
    Node n;
    n.kind = kind;
    n.name = g_.node(root).name;
    n.inputs = std::move(inputs);
    n.outputs = {g_.node(root).outputs[0]};
    n.attrs = std::move(attrs);
    for (NodeId id : nodes) g_.remove_node(id);
    g_.remove_node(root);
    g_.add_node(std::move(n));
  }

  Graph& g_;
  std::vector<std::vector<NodeId>> cons_;
};

}  // namespace

int fuse_transformer_patterns(Graph& g) {
  int fused = 0;
  // Each fusion changes consumers: match again with fresh ones until nothing more matches.
  for (bool again = true; again;) {
    again = false;
    Matcher m(g);
    const size_t count = g.num_nodes();
    for (NodeId id = 0; id < NodeId(count) && !again; ++id) {
      if (g.node(id).dead) continue;
      if (m.try_layer_norm(id) || m.try_gelu(id) || m.try_qkv_split(id) || m.try_attention_3d(id)) {
        ++fused;
        again = true;
      }
    }
  }
  return fused;
}

}  // namespace neutron
