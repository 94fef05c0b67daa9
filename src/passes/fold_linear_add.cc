// fold-linear-add: Gemm, or MatMul with a constant 2-D B, followed by an Add of a constant that
// broadcasts as a vector over the output features (shape [N], [1, N], [1, 1, N], or a single
// element) becomes one Gemm whose bias includes the constant (upstream's FuseLinearAndAddPass):
// that is how PyTorch exports Linear layers on 3-D inputs and `x @ W + b`, and the bias is free
// on the NPU.
//
//   Gemm     C' = beta * C + c (C absent: c), beta = 1. C must be constant or absent; a C that is
//            not row-like keeps its [M, N] shape.
//   MatMul   A [M, K] becomes Gemm(A, B, c). A of rank > 2 becomes
//            Reshape(A, [prod(batch) * M, K]) -> Gemm -> Reshape(back to the MatMul's shape).
//
// Conditions: the Add reads the linear op's output and the constant (either order), the linear op
// has no other reader and no fused activation, the Add's output has the linear op's shape (the
// constant does not broadcast it further), all f32 without quantization parameters. The rewritten
// chain writes the Add's output tensor, so its name survives.
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

// The constant as a per-feature vector of length `n`, or false.
bool feature_vector(const Graph& g, TensorId c, int64_t n, std::vector<float>* out) {
  if (!rewrite::is_float_constant(g, c)) return false;
  const Shape& s = g.tensor(c).shape;
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (s[i] != 1) return false;
  const int64_t last = s.empty() ? 1 : s.back();
  if (last != n && last != 1) return false;
  const float* v = g.tensor(c).data->data<float>();
  out->resize(size_t(n));
  for (int64_t j = 0; j < n; ++j) (*out)[size_t(j)] = v[last == 1 ? 0 : j];
  return true;
}

// Gemm: adds `add` into C; returns false when C is not constant.
bool fold_into_gemm(Graph& g, NodeId id, const std::vector<float>& add) {
  const Node& n = g.node(id);
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  const int64_t m = ys[0], cols = ys[1];
  const TensorId ct = n.input(2);
  const double beta = n.attrs.get_float("beta", 1.0);
  const bool has_c = ct != kNoTensor && beta != 0.0;
  int64_t stride_m = 0, stride_n = 0;
  if (has_c) {
    if (!rewrite::is_float_constant(g, ct)) return false;
    Shape cs = g.tensor(ct).shape;
    if (cs.size() > 2) return false;
    while (cs.size() < 2) cs.insert(cs.begin(), 1);
    if ((cs[0] != 1 && cs[0] != m) || (cs[1] != 1 && cs[1] != cols)) return false;
    stride_n = cs[1] == 1 ? 0 : 1;
    stride_m = cs[0] == 1 ? 0 : cs[1];
  }
  const int64_t rows = stride_m != 0 ? m : 1;
  const Shape c_shape = stride_m != 0 ? Shape{m, cols} : Shape{cols};
  std::vector<float> cv(size_t(rows * cols));
  const float* old_c = has_c ? g.tensor(ct).data->data<float>() : nullptr;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      cv[size_t(i * cols + j)] =
          float((old_c ? beta * double(old_c[i * stride_m + j * stride_n]) : 0.0) + double(add[size_t(j)]));
  const TensorId new_c = rewrite::add_float_constant(g, g.node(id).name + "_bias", c_shape, cv);
  Node& node = g.node(id);
  node.inputs = {node.inputs[0], node.inputs[1], new_c};
  node.attrs.set("beta", 1.0);
  return true;
}

bool try_fold(Graph& g, NodeId add_id, const std::vector<std::vector<NodeId>>& consumers) {
  const Node& add = g.node(add_id);
  if (add.inputs.size() != 2 || add.outputs.size() != 1 || !rewrite::is_plain_float(g, add.outputs[0])) return false;
  const TensorId y = add.outputs[0];
  for (int side = 0; side < 2; ++side) {
    const TensorId lin = add.inputs[size_t(side)], c = add.inputs[size_t(1 - side)];
    const NodeId p = rewrite::live_producer(g, lin);
    if (p < 0 || lin == c || !rewrite::has_single_consumer(g, consumers, lin)) continue;
    const Node& op = g.node(p);
    if ((op.kind != OpKind::Gemm && op.kind != OpKind::MatMul) || op.outputs.size() != 1 ||
        rewrite::has_fused_activation(op) || !rewrite::is_plain_float(g, lin) || !rewrite::is_plain_float(g, op.inputs[0]))
      continue;
    const Shape ys = g.tensor(lin).shape;
    if (ys.size() < 2 || g.tensor(y).shape != ys) continue;
    std::vector<float> vec;
    if (!feature_vector(g, c, ys.back(), &vec)) continue;
    if (op.kind == OpKind::Gemm) {
      if (!fold_into_gemm(g, p, vec)) continue;
      g.remove_node(add_id);
      rewrite::retarget_output(g, p, 0, y);
      return true;
    }
    // MatMul with constant [K, N] B.
    const TensorId a = op.inputs[0], b = op.inputs[1];
    const Shape as = g.tensor(a).shape;
    if (!rewrite::is_float_constant(g, b) || g.tensor(b).shape.size() != 2 || as.size() < 2) continue;
    const std::string name = op.name;
    const TensorId bias = rewrite::add_float_constant(g, name + "_bias", {ys.back()}, vec);
    g.remove_node(add_id);
    g.remove_node(p);
    if (as.size() == 2) {
      rewrite::add_op(g, OpKind::Gemm, name, {a, b, bias}, {y});
      return true;
    }
    const int64_t k = as.back(), rows = num_elements(as) / k;
    Attributes flat;
    flat.set("shape", std::vector<int64_t>{rows, k});
    const TensorId a2 = rewrite::add_value(g, g.tensor(a).name + "_2d", DType::F32, {rows, k});
    rewrite::add_op(g, OpKind::Reshape, name + "_flatten", {a}, {a2}, flat);
    const TensorId y2 = rewrite::add_value(g, g.tensor(y).name + "_2d", DType::F32, {rows, ys.back()});
    rewrite::add_op(g, OpKind::Gemm, name, {a2, b, bias}, {y2});
    Attributes back;
    back.set("shape", std::vector<int64_t>(ys.begin(), ys.end()));
    rewrite::add_op(g, OpKind::Reshape, name + "_unflatten", {y2}, {y}, back);
    return true;
  }
  return false;
}

}  // namespace

Status fold_linear_add(Graph& g) {
  ASSIGN_OR_RETURN(auto order, g.topological_order());
  for (NodeId id : order)
    if (!g.node(id).dead && g.node(id).kind == OpKind::Add) try_fold(g, id, g.consumers());
  return Status::OK();
}

}  // namespace neutron
