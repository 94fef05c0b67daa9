// layout-nhwc: spatial ops run channels-last (NHWC), as the int8 CPU kernels and the Neutron NPU
// want. Step 1 wraps every NCHW spatial op in transposes (NCHW->NHWC before its data input,
// NHWC->NCHW after its output). Step 2 repeatedly sinks transposes below layout-agnostic ops
// (elementwise unary, Q/DQ, binary ops whose other operand can be permuted, Concat) and removes
// transpose pairs that compose to the identity, or that only move size-1 dimensions in front of a
// Reshape. On a CNN the transposes remaining are one at the input and none or one at the output.
#include <algorithm>
#include <map>
#include <cstring>
#include <numeric>

#include "passes/passes.h"

namespace neutron {
namespace {

using Perm = std::vector<int64_t>;
const Perm kToNhwc = {0, 2, 3, 1};
const Perm kToNchw = {0, 3, 1, 2};

bool is_spatial(OpKind k) {
  const OpCategory c = op_category(k);
  return c == OpCategory::Pool || c == OpCategory::Resize || c == OpCategory::Normalization || k == OpKind::Conv ||
         k == OpKind::ConvTranspose;
}

// Ops that compute each output element from the same-position input element only.
bool is_elementwise_unary(OpKind k) {
  return op_category(k) == OpCategory::UnaryMath || op_category(k) == OpCategory::Conversion ||
         k == OpKind::Identity || k == OpKind::Dropout;
}

bool is_binary(OpKind k) { return op_category(k) == OpCategory::Binary && k != OpKind::PRelu; }

Shape permute_shape(const Shape& s, const Perm& p) {
  Shape r(p.size());
  for (size_t i = 0; i < p.size(); ++i) r[i] = s[size_t(p[i])];
  return r;
}

Perm compose(const Perm& first, const Perm& second) {  // transpose(transpose(x, first), second)
  Perm r(second.size());
  for (size_t i = 0; i < second.size(); ++i) r[i] = first[size_t(second[i])];
  return r;
}

bool is_identity(const Perm& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != int64_t(i)) return false;
  return true;
}

Perm inverse(const Perm& p) {
  Perm r(p.size());
  for (size_t i = 0; i < p.size(); ++i) r[size_t(p[i])] = int64_t(i);
  return r;
}

// Quantization parameters of a tensor after transposing it by `p`.
QuantParams permute_quant(QuantParams q, const Perm& p) {
  if (q.per_axis()) q.axis = int32_t(inverse(p)[size_t(q.axis)]);
  return q;
}

// True when transposing by `p` keeps the memory order (only size-1 dims move).
bool is_memory_noop(const Shape& in_shape, const Perm& p) {
  int64_t last = -1;
  for (int64_t axis : p) {
    if (in_shape[size_t(axis)] == 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

// Adds a Transpose node reading `input`; returns its new output tensor.
TensorId add_transpose(Graph& g, TensorId input, const Perm& perm, const std::string& hint) {
  Tensor t = g.tensor(input);
  Tensor out;
  out.name = g.unique_tensor_name(hint);
  out.dtype = t.dtype;
  out.shape = permute_shape(t.shape, perm);
  out.quant = permute_quant(t.quant, perm);
  TensorId out_id = g.add_tensor(out);
  Node n;
  n.kind = OpKind::Transpose;
  n.name = out.name;
  n.inputs = {input};
  n.outputs = {out_id};
  n.attrs.set("perm", perm);
  g.add_node(std::move(n));
  return out_id;
}

// Creates a tensor like `like` but permuted, to become the new output of an op.
TensorId add_permuted_like(Graph& g, TensorId like, const Perm& perm, const std::string& hint) {
  Tensor out;
  const Tensor& t = g.tensor(like);
  out.name = g.unique_tensor_name(hint);
  out.dtype = t.dtype;
  out.shape = permute_shape(t.shape, perm);
  out.quant = permute_quant(t.quant, perm);
  return g.add_tensor(out);
}

// Wraps an NCHW spatial op: X -> T(NHWC) -> op(channels_last) -> T(NCHW) -> Y (Y keeps its name).
void wrap_spatial(Graph& g, NodeId id) {
  const std::string base = g.node(id).name;
  TensorId x = g.node(id).inputs[0];
  TensorId x_nhwc = add_transpose(g, x, kToNhwc, base + "_in_nhwc");
  std::vector<TensorId> new_outputs;
  for (size_t i = 0; i < g.node(id).outputs.size(); ++i) {
    TensorId y = g.node(id).outputs[i];
    TensorId y_nhwc = add_permuted_like(g, y, kToNhwc, g.tensor(y).name + "_nhwc");
    g.node(id).outputs[i] = y_nhwc;
    g.tensor(y_nhwc).producer = id;
    Node t;
    t.kind = OpKind::Transpose;
    t.name = g.tensor(y).name + "_to_nchw";
    t.inputs = {y_nhwc};
    t.outputs = {y};
    t.attrs.set("perm", kToNchw);
    g.add_node(std::move(t));
  }
  Node& n = g.node(id);
  n.inputs[0] = x_nhwc;
  n.attrs.set("channels_last", int64_t(1));
  if (n.kind == OpKind::Resize) {
    auto scales = n.attrs.get_floats("scales");
    if (scales.size() == 4) n.attrs.set("scales", std::vector<double>{scales[0], scales[2], scales[3], scales[1]});
  }
}

// The Transpose node producing `t`, or -1.
NodeId transpose_producer(const Graph& g, TensorId t) {
  if (t == kNoTensor) return -1;
  NodeId p = g.tensor(t).producer;
  return (p >= 0 && !g.node(p).dead && g.node(p).kind == OpKind::Transpose) ? p : -1;
}

// Moves op `id` (whose data inputs are all transposed by `perm` already) before the transpose:
// it reads the untransposed tensors and a new transpose restores its original outputs.
void sink_below(Graph& g, NodeId id, const Perm& perm, const std::vector<TensorId>& untransposed_inputs) {
  g.node(id).inputs = untransposed_inputs;
  const Perm inv = inverse(perm);
  for (size_t i = 0; i < g.node(id).outputs.size(); ++i) {
    TensorId y = g.node(id).outputs[i];
    TensorId y_inner = add_permuted_like(g, y, inv, g.tensor(y).name + "_pre");
    g.node(id).outputs[i] = y_inner;
    g.tensor(y_inner).producer = id;
    Node t;
    t.kind = OpKind::Transpose;
    t.name = g.tensor(y).name + "_sunk";
    t.inputs = {y_inner};
    t.outputs = {y};
    t.attrs.set("perm", perm);
    g.add_node(std::move(t));
  }
}

// A constant operand of a binary op, broadcast-compatible with a tensor transposed by `perm`,
// rewritten as the matching constant for the untransposed tensor. Returns kNoTensor if not possible.
TensorId permute_constant_operand(Graph& g, TensorId c, const Perm& perm) {
  const Tensor& t = g.tensor(c);
  const size_t rank = perm.size();
  if (t.shape.size() > rank || t.quant.per_axis()) return kNoTensor;
  if (num_elements(t.shape) == 1) return c;  // scalar-like: no change needed
  Shape full(rank - t.shape.size(), 1);
  full.insert(full.end(), t.shape.begin(), t.shape.end());
  // untransposed[j] = transposed[inv[j]]: permute the broadcast constant by the inverse.
  const Perm inv = inverse(perm);
  Shape out_shape = permute_shape(full, inv);
  TensorData out(t.dtype, out_shape);
  const size_t esize = dtype_size(t.dtype);
  std::vector<int64_t> in_strides(rank, 1);
  for (int i = int(rank) - 2; i >= 0; --i) in_strides[size_t(i)] = in_strides[size_t(i) + 1] * full[size_t(i) + 1];
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < num_elements(out_shape); ++flat) {
    int64_t rem = flat, src = 0;
    for (int i = int(rank) - 1; i >= 0; --i) {
      idx[size_t(i)] = rem % out_shape[size_t(i)];
      rem /= out_shape[size_t(i)];
    }
    for (size_t j = 0; j < rank; ++j) src += idx[j] * in_strides[size_t(inv[j])];
    std::memcpy(out.bytes.data() + size_t(flat) * esize, t.data->bytes.data() + size_t(src) * esize, esize);
  }
  return g.add_constant(g.unique_tensor_name(t.name + "_permuted"), std::move(out), t.quant);
}

// Reshape(Transpose(a, P)) where the reshape only inserts or removes size-1 dims is
// Transpose(Reshape(a), Q): the reshape keeps a's non-unit dims in a's order, at the positions
// the original output has non-unit dims, and Q moves them where P had put them. A 1-D conv
// imports as Reshape-Conv-Reshape, so this lets its layout transposes meet and cancel.
// Returns false (no rewrite) when the reshape merges or splits dims.
bool reshape_through_transpose(const Shape& a, const Perm& p, const Shape& out, Shape* a_reshaped, Perm* q) {
  std::vector<size_t> b_axes;  // the transposed tensor's non-unit positions, as axes of a
  for (size_t i = 0; i < p.size(); ++i)
    if (a[size_t(p[i])] != 1) b_axes.push_back(size_t(p[i]));
  std::vector<size_t> out_pos;  // non-unit positions of the reshape's output
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] != 1) out_pos.push_back(i);
  if (out_pos.size() != b_axes.size()) return false;
  for (size_t j = 0; j < b_axes.size(); ++j)
    if (a[b_axes[j]] != out[out_pos[j]]) return false;
  std::vector<size_t> a_order = b_axes;  // the same axes in a's order
  std::sort(a_order.begin(), a_order.end());
  *a_reshaped = Shape(out.size(), 1);
  for (size_t j = 0; j < out_pos.size(); ++j) (*a_reshaped)[out_pos[j]] = a[a_order[j]];
  q->assign(out.size(), 0);
  for (size_t i = 0; i < out.size(); ++i) (*q)[i] = int64_t(i);
  for (size_t j = 0; j < out_pos.size(); ++j) {
    const size_t k = size_t(std::find(a_order.begin(), a_order.end(), b_axes[j]) - a_order.begin());
    (*q)[out_pos[j]] = int64_t(out_pos[k]);
  }
  return true;
}

bool try_sink(Graph& g, NodeId id) {
  Node& n = g.node(id);
  if (n.inputs.empty()) return false;
  if (is_elementwise_unary(n.kind)) {
    NodeId tp = transpose_producer(g, n.inputs[0]);
    if (tp < 0) return false;
    const Perm perm = g.node(tp).attrs.get_ints("perm");
    if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear) {
      // Per-axis parameters follow their axis through the transpose.
      for (TensorId o : n.outputs) g.tensor(o).quant = permute_quant(g.tensor(o).quant, inverse(perm));
    }
    std::vector<TensorId> ins = n.inputs;
    ins[0] = g.node(tp).inputs[0];
    sink_below(g, id, perm, ins);
    return true;
  }
  if (is_binary(n.kind) && n.inputs.size() == 2) {
    NodeId ta = transpose_producer(g, n.inputs[0]), tb = transpose_producer(g, n.inputs[1]);
    const TensorId a = n.inputs[0], b = n.inputs[1];
    const Shape out_shape = g.tensor(n.outputs[0]).shape;
    if (ta >= 0 && tb >= 0) {
      const Perm pa = g.node(ta).attrs.get_ints("perm"), pb = g.node(tb).attrs.get_ints("perm");
      if (pa != pb || g.tensor(a).shape != out_shape || g.tensor(b).shape != out_shape) return false;
      sink_below(g, id, pa, {g.node(ta).inputs[0], g.node(tb).inputs[0]});
      return true;
    }
    for (int side = 0; side < 2; ++side) {
      NodeId t = side == 0 ? ta : tb;
      TensorId other = side == 0 ? b : a;
      if (t < 0 || !g.tensor(other).is_constant()) continue;
      const Perm perm = g.node(t).attrs.get_ints("perm");
      if (g.tensor(side == 0 ? a : b).shape != out_shape) continue;
      TensorId c = permute_constant_operand(g, other, perm);
      if (c == kNoTensor) continue;
      std::vector<TensorId> ins(2);
      ins[size_t(side)] = g.node(t).inputs[0];
      ins[size_t(1 - side)] = c;
      sink_below(g, id, perm, ins);
      return true;
    }
    return false;
  }
  if (n.kind == OpKind::Reshape && n.inputs.size() == 1) {
    NodeId tp = transpose_producer(g, n.inputs[0]);
    if (tp < 0 || g.tensor(n.outputs[0]).quant.per_axis()) return false;
    const TensorId a = g.node(tp).inputs[0];
    Shape a_reshaped;
    Perm q;
    if (!reshape_through_transpose(g.tensor(a).shape, g.node(tp).attrs.get_ints("perm"), g.tensor(n.outputs[0]).shape,
                                   &a_reshaped, &q))
      return false;
    n.attrs.set("shape", a_reshaped);
    sink_below(g, id, q, {a});
    return true;
  }
  if (n.kind == OpKind::Pad) {
    NodeId tp = transpose_producer(g, n.inputs[0]);
    if (tp < 0) return false;
    const Perm perm = g.node(tp).attrs.get_ints("perm");
    const auto pads = n.attrs.get_ints("pads");
    const size_t rank = perm.size();
    if (pads.size() != 2 * rank) return false;
    // Transposed axis i is untransposed axis perm[i]: its pads move there.
    std::vector<int64_t> moved(2 * rank);
    for (size_t i = 0; i < rank; ++i) {
      moved[size_t(perm[i])] = pads[i];
      moved[rank + size_t(perm[i])] = pads[rank + i];
    }
    n.attrs.set("pads", moved);
    sink_below(g, id, perm, {g.node(tp).inputs[0]});
    return true;
  }
  if (n.kind == OpKind::Concat) {
    Perm perm;
    std::vector<TensorId> ins;
    for (TensorId in : n.inputs) {
      NodeId t = transpose_producer(g, in);
      if (t < 0) return false;
      Perm p = g.node(t).attrs.get_ints("perm");
      if (!perm.empty() && p != perm) return false;
      perm = p;
      ins.push_back(g.node(t).inputs[0]);
    }
    const int64_t axis = n.attrs.get_int("axis", 0);
    n.attrs.set("axis", perm[size_t(axis)]);
    sink_below(g, id, perm, ins);
    return true;
  }
  return false;
}

// Transpose(Transpose(x)) -> x or one Transpose; a transpose that only moves size-1 dims becomes a
// Reshape when its consumer is a Reshape; Reshape(Reshape(x)) -> Reshape(x).
bool try_simplify(Graph& g, NodeId id) {
  Node& n = g.node(id);
  if (n.kind == OpKind::Transpose) {
    NodeId prev = transpose_producer(g, n.inputs[0]);
    const Perm perm = n.attrs.get_ints("perm");
    if (prev >= 0) {
      Perm total = compose(g.node(prev).attrs.get_ints("perm"), perm);
      TensorId src = g.node(prev).inputs[0];
      if (is_identity(total) && !g.is_graph_output(n.outputs[0]) && g.tensor(src).dtype == g.tensor(n.outputs[0]).dtype) {
        g.replace_uses(n.outputs[0], src);
        g.remove_node(id);
        return true;
      }
      if (!is_identity(total)) {
        n.inputs[0] = src;
        n.attrs.set("perm", total);
        return true;
      }
    }
    if (is_identity(perm) && !g.is_graph_output(n.outputs[0])) {
      g.replace_uses(n.outputs[0], n.inputs[0]);
      g.remove_node(id);
      return true;
    }
    if (is_memory_noop(g.tensor(n.inputs[0]).shape, perm) && !g.tensor(n.inputs[0]).quant.per_axis()) {
      n.kind = OpKind::Reshape;
      n.attrs = Attributes();
      n.attrs.set("shape", g.tensor(n.outputs[0]).shape);
      return true;
    }
  }
  if (n.kind == OpKind::Reshape) {
    NodeId p = g.tensor(n.inputs[0]).producer;
    if (p >= 0 && !g.node(p).dead && g.node(p).kind == OpKind::Reshape) {
      n.inputs[0] = g.node(p).inputs[0];
      return true;
    }
    if (g.tensor(n.inputs[0]).shape == g.tensor(n.outputs[0]).shape && !g.is_graph_output(n.outputs[0]) &&
        g.tensor(n.inputs[0]).quant == g.tensor(n.outputs[0]).quant) {
      g.replace_uses(n.outputs[0], n.inputs[0]);
      g.remove_node(id);
      return true;
    }
  }
  return false;
}

// Two transposes of one tensor by the same perm (two spatial ops reading one input each got their
// own when wrapped): the later one's readers take the first one's output.
bool merge_duplicate_transposes(Graph& g, const std::vector<NodeId>& order) {
  std::map<std::pair<TensorId, Perm>, TensorId> seen;
  bool changed = false;
  for (NodeId id : order) {
    const Node& n = g.node(id);
    if (n.dead || n.kind != OpKind::Transpose || n.inputs.size() != 1) continue;
    const TensorId out = n.outputs[0];
    auto [it, added] = seen.emplace(std::make_pair(n.inputs[0], Perm(n.attrs.get_ints("perm"))), out);
    if (added || g.is_graph_output(out) || g.tensor(it->second).quant != g.tensor(out).quant) continue;
    g.replace_uses(out, it->second);
    g.remove_node(id);
    changed = true;
  }
  return changed;
}

}  // namespace

Status wrap_spatial_ops_nhwc(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (!is_spatial(n.kind) || n.attrs.get_int("channels_last", 0) != 0) continue;
    if (n.inputs.empty() || g.tensor(n.inputs[0]).shape.size() != 4) continue;
    wrap_spatial(g, id);
  }
  return Status::OK();
}

Status layout_nhwc(Graph& g) {
  RETURN_IF_ERROR(wrap_spatial_ops_nhwc(g));
  // Sink and cancel to a fixed point. Each sink moves a transpose strictly downstream, so this
  // terminates; the bound is a guard against a bug, not a tuning knob.
  for (size_t round = 0; round < 4 * g.num_nodes() + 16; ++round) {
    bool changed = false;
    auto order = g.topological_order();
    if (!order.ok()) return order.status();
    for (NodeId id : order.value()) {
      if (g.node(id).dead) continue;
      if (try_simplify(g, id) || try_sink(g, id)) changed = true;
    }
    if (merge_duplicate_transposes(g, order.value())) changed = true;
    RETURN_IF_ERROR(eliminate_dead_code(g));
    if (!changed) break;
  }
  return Status::OK();
}

}  // namespace neutron
