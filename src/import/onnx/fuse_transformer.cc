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
      if (m.try_layer_norm(id) || m.try_gelu(id)) {
        ++fused;
        again = true;
      }
    }
  }
  return fused;
}

}  // namespace neutron
