// fold-qdq: turns the QDQ form of a quantized model (float ops between DequantizeLinear and
// QuantizeLinear, as PyTorch exports it) into int8 ops on the quantized tensors.
//
// Steps, in order:
//  1. Cast(to=T) of a T tensor (PyTorch's Cast(to=UINT8) after each QuantizeLinear, when the
//     importer kept it) becomes a plain use of its input.
//  2. uint8 -> int8: every uint8 quantized tensor inside the graph becomes int8 with zero point
//     - 128 (constant data shifted by 128), which represents the same real values exactly. Tensors
//     are converted per connected group (tensors joined by ops other than QuantizeLinear's output
//     and DequantizeLinear's input); a group touching a graph input or output, or an op that is
//     not a pure byte move, keeps uint8 (its Q/DQ nodes then keep working in float).
//  3. Clusters: an op whose data inputs all come from DequantizeLinear of int8 tensors (weights:
//     of int8 constants; Conv/Gemm bias: of an int32 constant), whose outputs each go only to one
//     QuantizeLinear to int8 (optionally through a float Relu/Clip, which becomes the op's fused
//     act_min/act_max, see ir/op_attrs.h), and which the int8 lowering accepts with these
//     parameters, is rewired to read the int8 tensors and write the Q's int8 outputs. The Q (and
//     fused Relu/Clip) nodes are removed; DQ nodes are left for dead-code elimination since they
//     may have other float consumers. Pure data movement (Reshape, Transpose, Concat, Slice, Pad,
//     Split, Identity, Dropout, nearest Resize) moves int8 bytes with the output's parameters;
//     inputs with other parameters first go through an inserted requantizing int8 Clip without
//     bounds (exact: a table of Q_out(DQ_in(q))). Split needs identical parameters. ReduceMax
//     and ReduceMin fold the same way (max/min commute with the monotone requantization), and so
//     do the inputs of elementwise Max and Min.
//     Every other op folds when the int8 lowering accepts it (lowering::can_lower): the host, CPU
//     programs and the NPU run exactly what it lowers. A node the user kept in float (attribute
//     keep_float, set by the quantizer) is never folded.
//  4. DequantizeLinear -> QuantizeLinear with identical parameters: the Q's users read the DQ's
//     input directly.
//  5. int8 Conv/Gemm/MatMul/Add/Sub/Mul/pools -> int8 Relu/Clip with identical input and output
//     quantization, as the producer's only consumer: the activation becomes act_min/act_max.
//
// Every rewrite keeps the QDQ meaning; the int8 kernels equal it up to 1 LSB at rounding ties.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/requantize.h"
#include "lowering/lowering.h"
#include "passes/passes.h"

namespace neutron {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool is_q8(const Tensor& t) { return t.dtype == DType::I8 && t.is_quantized(); }
bool is_q8_per_tensor(const Tensor& t) { return is_q8(t) && !t.quant.per_axis(); }

NodeId live_producer(const Graph& g, TensorId t) {
  if (t == kNoTensor) return -1;
  const NodeId p = g.tensor(t).producer;
  return (p >= 0 && !g.node(p).dead) ? p : -1;
}

// ---------------------------------------------------------------------------------------------
// 1. Same-type casts.

void fold_same_type_casts(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind != OpKind::Cast || n.inputs.size() != 1 || n.outputs.size() != 1) continue;
    const TensorId x = n.inputs[0], y = n.outputs[0];
    const Tensor& xt = g.tensor(x);
    const Tensor& yt = g.tensor(y);
    if (xt.dtype != yt.dtype || g.is_graph_output(y)) continue;
    if (!yt.quant.empty() && yt.quant != xt.quant) continue;  // a reinterpretation: keep
    g.replace_uses(y, x);
    g.remove_node(id);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. uint8 -> int8.

bool moves_bytes_only(OpKind k) {
  switch (k) {
    case OpKind::Identity:
    case OpKind::Dropout:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::Split:
    case OpKind::Concat:
    case OpKind::Pad:  // pads with quantize(value): shift-invariant
    case OpKind::Cast:  // only u8 -> u8 reaches here (other casts of quantized tensors block)
      return true;
    default:
      return false;
  }
}

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int x) {
    while (parent[size_t(x)] != x) x = parent[size_t(x)] = parent[size_t(parent[size_t(x)])];
    return x;
  }
  void unite(int a, int b) { parent[size_t(find(a))] = find(b); }
};

void convert_uint8_to_int8(Graph& g) {
  const size_t nt = g.num_tensors();
  const auto is_u8q = [&](TensorId t) { return t != kNoTensor && g.tensor(t).dtype == DType::U8 && g.tensor(t).is_quantized(); };
  UnionFind uf(nt);
  std::vector<char> blocked(nt, 0);
  for (TensorId t : g.inputs)
    if (is_u8q(t)) blocked[size_t(t)] = 1;
  for (TensorId t : g.outputs)
    if (is_u8q(t)) blocked[size_t(t)] = 1;
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    std::vector<TensorId> touched;
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (is_u8q(n.inputs[i]) && !(n.kind == OpKind::DequantizeLinear && i == 0)) touched.push_back(n.inputs[i]);
    for (TensorId o : n.outputs)
      if (is_u8q(o) && n.kind != OpKind::QuantizeLinear) touched.push_back(o);
    if (touched.empty()) continue;
    bool ok = moves_bytes_only(n.kind);
    if (n.kind == OpKind::Cast) ok = g.tensor(n.inputs[0]).dtype == DType::U8 && g.tensor(n.outputs[0]).dtype == DType::U8;
    for (TensorId t : touched) {
      uf.unite(int(t), int(touched[0]));
      if (!ok) blocked[size_t(t)] = 1;
    }
  }
  std::vector<char> group_blocked(nt, 0);
  for (size_t t = 0; t < nt; ++t)
    if (blocked[t]) group_blocked[size_t(uf.find(int(t)))] = 1;
  std::vector<char> converted(nt, 0);
  for (size_t t = 0; t < nt; ++t) {
    if (!is_u8q(TensorId(t)) || group_blocked[size_t(uf.find(int(t)))]) continue;
    Tensor& x = g.tensor(TensorId(t));
    x.dtype = DType::I8;
    for (auto& z : x.quant.zero_point) z -= 128;
    if (x.data) {
      TensorData d = *x.data;  // shared with other graph copies: replace, never modify
      d.dtype = DType::I8;
      for (auto& byte : d.bytes) byte ^= 0x80;  // u8 v -> i8 v - 128
      x.data = std::make_shared<const TensorData>(std::move(d));
    }
    converted[t] = 1;
  }
  for (NodeId id : g.live_nodes()) {
    Node& n = g.node(id);
    if (n.kind == OpKind::Cast && converted[size_t(n.outputs[0])]) n.attrs.set("to", int64_t(DType::I8));
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Clusters.

// Index: an integer or bool operand that selects elements (Gather's indices, Where's condition);
// it is not quantized and passes through unchanged.
// Const: a constant the int8 lowering converts itself (GRU/LSTM's B and initial_c): float, or an
// int8 per-tensor constant when the same constant is also a quantized operand.
enum class Slot { Data, Weight, Bias, Index, Const };

bool is_recurrent(OpKind k) { return k == OpKind::GRU || k == OpKind::LSTM; }

Slot slot_of(OpKind k, size_t i) {
  if (is_recurrent(k) && (i == 1 || i == 2)) return Slot::Weight;  // W, R
  if (is_recurrent(k) && (i == 3 || i == 6)) return Slot::Const;   // B, initial_c (initial_h: Y's parameters)
  const bool conv = k == OpKind::Conv || k == OpKind::ConvTranspose;
  if ((conv || k == OpKind::Gemm || k == OpKind::MatMul) && i == 1) return Slot::Weight;
  if ((conv || k == OpKind::Gemm) && i == 2) return Slot::Bias;
  if (k == OpKind::LayerNormalization && (i == 1 || i == 2)) return Slot::Weight;  // Scale, B
  if ((k == OpKind::Gather && i == 1) || (k == OpKind::Where && i == 0)) return Slot::Index;
  return Slot::Data;
}

bool is_data_movement(OpKind k) { return op_category(k) == OpCategory::DataMovement; }
bool is_unary_lut(OpKind k) { return op_category(k) == OpCategory::UnaryMath; }
bool is_pool(OpKind k) { return op_category(k) == OpCategory::Pool; }
// PowTensor has no int8 kernel; PRelu has its own lowering (a table per slope), no fused activation.
bool is_binary(OpKind k) {
  return op_category(k) == OpCategory::Binary && k != OpKind::PowTensor && k != OpKind::PRelu;
}

// Ops whose int8 lowering honors act_min/act_max.
bool takes_fused_activation(OpKind k) {
  return k == OpKind::Conv || k == OpKind::ConvTranspose || k == OpKind::Gemm || k == OpKind::MatMul || is_binary(k) ||
         is_pool(k);
}

// Resize nearest copies elements, so it folds like data movement (the Resize binder runs it on
// int8 when input and output quantization are equal).
bool is_nearest_resize(const Node& n) {
  return n.kind == OpKind::Resize && n.attrs.get_string("mode", "nearest") == "nearest";
}

bool is_reduce(OpKind k) {
  return k == OpKind::ReduceMean || k == OpKind::ReduceSum || k == OpKind::ReduceMax || k == OpKind::ReduceMin;
}

bool foldable_kind(OpKind k) {
  return is_reduce(k) || k == OpKind::Resize || k == OpKind::PRelu || k == OpKind::LpNormalization || k == OpKind::Conv ||
         k == OpKind::ConvTranspose || k == OpKind::Gemm || k == OpKind::MatMul || k == OpKind::Softmax || is_pool(k) ||
         k == OpKind::LayerNormalization || is_recurrent(k) ||
         is_binary(k) || is_unary_lut(k) || is_data_movement(k);
}

// The candidate: the node's kind and attributes with its operands replaced by int8 tensors.
struct Candidate {
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  // Data movement whose input parameters differ from the output's: these inputs first go
  // through a requantizing int8 Clip without bounds (a 256-entry table of Q_out(DQ_in(q))).
  std::vector<size_t> requantize_inputs;
};

// Whether the candidate becomes an int8 op: data movement when its parameters allow (bytes move
// with the output's parameters); every other op when the int8 lowering (lowering/lowering.h), the
// one place int8 nodes become kernel parameters, lowers the node rewired to the int8 tensors.
bool int8_kernel_accepts(Graph& g, NodeId id, Candidate& c) {
  const auto T = [&](TensorId t) -> const Tensor& { return g.tensor(t); };
  const Node& n = g.node(id);
  const OpKind k = n.kind;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i] != kNoTensor && slot_of(k, i) == Slot::Data && !is_q8_per_tensor(T(c.inputs[i]))) return false;
  for (TensorId o : c.outputs)
    if (o == kNoTensor || !is_q8_per_tensor(T(o))) return false;
  if (c.inputs.empty() || c.inputs[0] == kNoTensor || c.outputs.empty()) return false;

  if (is_data_movement(k) || is_nearest_resize(n) || k == OpKind::ReduceMax || k == OpKind::ReduceMin) {
    // Moving bytes needs one set of parameters. Q_out(move(DQ_in(x))) = move(Q_out(DQ_in(x)))
    // (a constant Pad value v becomes Q_out(v)), so differing inputs are requantized first.
    const QuantParams& out_q = T(c.outputs[0]).quant;
    for (TensorId t : c.outputs)
      if (T(t).quant != out_q) return false;
    c.requantize_inputs.clear();
    for (size_t i = 0; i < c.inputs.size(); ++i)
      if (c.inputs[i] != kNoTensor && slot_of(k, i) == Slot::Data && T(c.inputs[i]).quant != out_q)
        c.requantize_inputs.push_back(i);
    return c.requantize_inputs.empty() || k != OpKind::Split;
  }
  if (c.outputs.size() != 1 && !is_recurrent(k)) return false;
  if (k == OpKind::Max || k == OpKind::Min) {
    // Max/Min commute with the monotone requantization: an input with other parameters (the
    // quantizer gives a fixed-range or far-off input its own) is requantized on its branch, so the
    // op runs with one parameter set, as Neutron's MAXIMUM/MINIMUM needs (max_min.shared_qparams).
    // The kernel's tables would do the same requantization: the results are identical.
    c.requantize_inputs.clear();
    for (size_t i = 0; i < c.inputs.size(); ++i)
      if (c.inputs[i] != kNoTensor && T(c.inputs[i]).quant != T(c.outputs[0]).quant) c.requantize_inputs.push_back(i);
  }
  // Ask the lowering about the rewired node (the producers of the int8 tensors do not matter to it).
  Node& m = g.node(id);
  std::swap(m.inputs, c.inputs);
  std::swap(m.outputs, c.outputs);
  const bool ok = lowering::can_lower(g, id).ok();
  std::swap(m.inputs, c.inputs);
  std::swap(m.outputs, c.outputs);
  return ok;
}

struct Fusion {
  NodeId activation = -1;  // float Relu/Clip between the op and its Q, or -1
  double act_min = -kInf, act_max = kInf;
};

// The Q that takes `t` as its only consumer (possibly through a float Relu/Clip when `allow_act`).
bool find_sink(const Graph& g, const std::vector<std::vector<NodeId>>& cons, TensorId t, bool allow_act,
               NodeId* q_node, Fusion* fusion) {
  if (g.is_graph_output(t) || cons[size_t(t)].size() != 1) return false;
  NodeId c = cons[size_t(t)][0];
  const Node* cn = &g.node(c);
  if (allow_act && (cn->kind == OpKind::Relu || cn->kind == OpKind::Clip) && cn->inputs.size() == 1) {
    const TensorId a = cn->outputs[0];
    if (g.is_graph_output(a) || cons[size_t(a)].size() != 1) return false;
    fusion->activation = c;
    if (cn->kind == OpKind::Relu) {
      fusion->act_min = 0;
    } else {
      fusion->act_min = cn->attrs.get_float("min", -kInf);
      fusion->act_max = cn->attrs.get_float("max", kInf);
    }
    c = cons[size_t(a)][0];
    cn = &g.node(c);
  }
  if (cn->kind != OpKind::QuantizeLinear || cn->outputs.size() != 1) return false;
  const Tensor& qo = g.tensor(cn->outputs[0]);
  if (!is_q8(qo)) return false;
  *q_node = c;
  return true;
}

bool try_fold_cluster(Graph& g, NodeId id) {
  const auto cons = g.consumers();
  const Node& n = g.node(id);
  if (n.outputs.empty()) return false;
  Candidate cand;
  // Inputs.
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const TensorId t = n.inputs[i];
    if (t == kNoTensor) {
      cand.inputs.push_back(kNoTensor);
      continue;
    }
    if (slot_of(n.kind, i) == Slot::Const) {  // a constant the lowering converts: float, or DQ of int8
      if (g.tensor(t).is_constant() && g.tensor(t).dtype == DType::F32) {
        cand.inputs.push_back(t);
        continue;
      }
      // The same constant may also be a quantized operand (PyTorch's zeros for both h0 and c0).
      const NodeId p = live_producer(g, t);
      if (p < 0 || g.node(p).kind != OpKind::DequantizeLinear || g.node(p).inputs.empty()) return false;
      const TensorId q = g.node(p).inputs[0];
      if (!g.tensor(q).is_constant() || !is_q8_per_tensor(g.tensor(q))) return false;
      cand.inputs.push_back(q);
      continue;
    }
    if (slot_of(n.kind, i) == Slot::Index) {  // not quantized: read as it is
      const DType dt = g.tensor(t).dtype;
      if (dt != DType::I64 && dt != DType::I32 && dt != DType::Bool) return false;
      cand.inputs.push_back(t);
      continue;
    }
    const NodeId p = live_producer(g, t);
    if (p < 0 || g.node(p).kind != OpKind::DequantizeLinear || g.node(p).inputs.empty()) return false;
    const TensorId q = g.node(p).inputs[0];
    const Tensor& qt = g.tensor(q);
    switch (slot_of(n.kind, i)) {
      case Slot::Data:
        if (!is_q8(qt)) return false;
        break;
      case Slot::Weight:  // MatMul's B may be an activation (BatchMatMul)
        if (!is_q8(qt) || (!qt.is_constant() && n.kind != OpKind::MatMul)) return false;
        break;
      case Slot::Bias:
        if (qt.dtype != DType::I32 || !qt.is_constant()) return false;
        break;
      case Slot::Index:
      case Slot::Const:
        break;
    }
    cand.inputs.push_back(q);
  }
  // Outputs.
  std::vector<NodeId> q_nodes;
  Fusion fusion;
  const bool allow_act = takes_fused_activation(n.kind) && n.outputs.size() == 1;
  // GRU/LSTM outputs nobody reads (Y_h, Y_c, or Y) become int8 in place: Y and Y_h with the other
  // one's parameters (the hidden state), Y_c with a Q15-sized range; restored if the fold fails.
  std::vector<std::pair<TensorId, Tensor>> unused;
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    const TensorId o = n.outputs[k];
    NodeId q;
    if (is_recurrent(n.kind) && o != kNoTensor && cons[size_t(o)].empty() && !g.is_graph_output(o)) {
      unused.emplace_back(o, g.tensor(o));
      cand.outputs.push_back(o);
      continue;
    }
    if (o == kNoTensor || !find_sink(g, cons, o, allow_act, &q, &fusion)) return false;
    q_nodes.push_back(q);
    cand.outputs.push_back(g.node(q).outputs[0]);
  }
  for (auto& [o, old] : unused) {
    const size_t k = size_t(std::find(n.outputs.begin(), n.outputs.end(), o) - n.outputs.begin());
    QuantParams q = QuantParams::per_tensor(1.0f / 16, 0);
    if (k < 2) {
      const TensorId other = cand.outputs[1 - k];
      if (g.tensor(other).dtype != DType::I8 || !g.tensor(other).is_quantized()) return false;  // neither is read
      q = g.tensor(other).quant;
    }
    g.tensor(o).dtype = DType::I8;
    g.tensor(o).quant = q;
  }
  if (!int8_kernel_accepts(g, id, cand)) {
    for (auto& [o, old] : unused) g.tensor(o) = old;
    return false;
  }

  for (size_t i : cand.requantize_inputs) {
    const TensorId src = cand.inputs[i];
    Tensor t;
    t.name = g.unique_tensor_name(g.tensor(src).name + "_requant");
    t.dtype = DType::I8;
    t.shape = g.tensor(src).shape;
    t.quant = g.tensor(cand.outputs[0]).quant;
    const TensorId dst = g.add_tensor(std::move(t));
    Node rq;
    rq.kind = OpKind::Clip;  // no bounds: the identity, i.e. a pure requantization as an int8 op
    rq.name = g.node(id).name + "_requant" + std::to_string(i);
    rq.inputs = {src};
    rq.outputs = {dst};
    g.add_node(std::move(rq));
    cand.inputs[i] = dst;
  }
  Node& m = g.node(id);  // add_node may have moved the nodes
  m.inputs = cand.inputs;
  m.outputs = cand.outputs;
  for (TensorId o : m.outputs) g.tensor(o).producer = id;
  for (NodeId q : q_nodes) g.remove_node(q);
  if (fusion.activation >= 0) {
    g.remove_node(fusion.activation);
    const double lo = std::max(fusion.act_min, m.attrs.get_float("act_min", -kInf));
    const double hi = std::min(fusion.act_max, m.attrs.get_float("act_max", kInf));
    if (std::isfinite(lo)) m.attrs.set("act_min", lo);
    if (std::isfinite(hi)) m.attrs.set("act_max", hi);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 4. DQ -> Q with identical parameters.

void fold_dq_q_pairs(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const Node& q = g.node(id);
    if (q.kind != OpKind::QuantizeLinear || q.inputs.empty() || q.outputs.size() != 1) continue;
    const NodeId p = live_producer(g, q.inputs[0]);
    if (p < 0 || g.node(p).kind != OpKind::DequantizeLinear) continue;
    const TensorId src = g.node(p).inputs[0], dst = q.outputs[0];
    const Tensor& s = g.tensor(src);
    const Tensor& d = g.tensor(dst);
    if (s.dtype != d.dtype || s.quant != d.quant || s.shape != d.shape) continue;
    if (g.is_graph_output(dst)) continue;  // keep the output tensor's name and producer
    g.replace_uses(dst, src);
    g.remove_node(id);
  }
}

// ---------------------------------------------------------------------------------------------
// 5. int8 op -> int8 Relu/Clip with identical quantization.

void fuse_int8_activations(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    Node& act = g.node(id);
    if (act.dead || (act.kind != OpKind::Relu && act.kind != OpKind::Clip) || act.inputs.size() != 1) continue;
    const TensorId x = act.inputs[0], y = act.outputs[0];
    if (!is_q8_per_tensor(g.tensor(x)) || g.tensor(x).quant != g.tensor(y).quant || g.tensor(x).dtype != g.tensor(y).dtype)
      continue;
    const NodeId p = live_producer(g, x);
    if (p < 0 || !takes_fused_activation(g.node(p).kind) || g.node(p).outputs.size() != 1) continue;
    if (!is_q8(g.tensor(g.node(p).inputs[0]))) continue;  // the producer must be an int8 op
    const auto cons = g.consumers();
    if (cons[size_t(x)].size() != 1 || g.is_graph_output(x)) continue;
    Node& prod = g.node(p);
    double lo = act.kind == OpKind::Relu ? 0.0 : act.attrs.get_float("min", -kInf);
    double hi = act.kind == OpKind::Relu ? kInf : act.attrs.get_float("max", kInf);
    lo = std::max(lo, prod.attrs.get_float("act_min", -kInf));
    hi = std::min(hi, prod.attrs.get_float("act_max", kInf));
    if (std::isfinite(lo)) prod.attrs.set("act_min", lo);
    if (std::isfinite(hi)) prod.attrs.set("act_max", hi);
    prod.outputs[0] = y;
    g.tensor(y).producer = p;
    g.remove_node(id);
  }
}

}  // namespace

Status fold_qdq(Graph& g) {
  fold_same_type_casts(g);
  convert_uint8_to_int8(g);
  ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  for (NodeId id : order)
    if (!g.node(id).dead && foldable_kind(g.node(id).kind) && g.node(id).attrs.get_int("keep_float", 0) == 0)
      try_fold_cluster(g, id);
  // Orphaned DQ nodes still read the int8 tensors; drop them so that consumer counts are real.
  RETURN_IF_ERROR(eliminate_dead_code(g));
  fold_dq_q_pairs(g);
  RETURN_IF_ERROR(eliminate_dead_code(g));
  fuse_int8_activations(g);
  return Status::OK();
}

}  // namespace neutron
