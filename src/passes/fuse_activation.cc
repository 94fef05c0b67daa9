// fuse-activation (host CPU pipeline): a float Conv, Gemm, or same-shape Add/Sub (a residual
// connection) followed by a Relu or Clip becomes one node whose kernel clamps its output
// (act_relu, or act_min/act_max; ir/op_attrs.h), so the activation costs no second pass over the
// tensor. Exact: the kernels apply the same comparisons as the Relu and Clip kernels
// (kernels/unary_f32.cc) to the same sums.
//
// Conditions: the producer's output is f32 without quantization parameters, has no other reader,
// is no graph output, and the producer has no fused activation yet; Clip bounds are not NaN and
// min <= max. The fused node writes the activation's output tensor, so its name survives.
#include <cmath>

#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

// Add/Sub of two plain float operands of the output's shape (no broadcasting: binary_f32_act).
bool is_elementwise_add(const Graph& g, const Node& n) {
  if ((n.kind != OpKind::Add && n.kind != OpKind::Sub) || n.inputs.size() != 2 || n.outputs.size() != 1) return false;
  const TensorId a = n.inputs[0], b = n.inputs[1], y = n.outputs[0];
  if (a == kNoTensor || b == kNoTensor) return false;
  if (!rewrite::is_plain_float(g, a) || !rewrite::is_plain_float(g, b) || !rewrite::is_plain_float(g, y)) return false;
  return g.tensor(a).shape == g.tensor(y).shape && g.tensor(b).shape == g.tensor(y).shape;
}

void try_fuse(Graph& g, NodeId act_id, const std::vector<std::vector<NodeId>>& consumers) {
  const Node& act = g.node(act_id);
  if (act.inputs.size() != 1 || act.outputs.size() != 1) return;
  const TensorId x = act.inputs[0], y = act.outputs[0];
  if (!rewrite::is_plain_float(g, x) || !rewrite::is_plain_float(g, y) || g.tensor(x).shape != g.tensor(y).shape)
    return;
  const NodeId p = rewrite::live_producer(g, x);
  if (p < 0 || !rewrite::has_single_consumer(g, consumers, x)) return;
  const Node& prod = g.node(p);
  if ((prod.kind != OpKind::Conv && prod.kind != OpKind::Gemm && !is_elementwise_add(g, prod)) ||
      prod.outputs.size() != 1 || rewrite::has_fused_activation(prod) || prod.inputs.empty() ||
      !rewrite::is_plain_float(g, prod.inputs[0]))
    return;
  const bool relu = act.kind == OpKind::Relu;
  const double lo = act.attrs.get_float("min", -INFINITY), hi = act.attrs.get_float("max", INFINITY);
  if (!relu && (std::isnan(lo) || std::isnan(hi) || lo > hi)) return;  // left to the Clip op
  g.remove_node(act_id);
  Node& target = g.node(p);
  if (relu) {
    target.attrs.set("act_relu", int64_t(1));
  } else {  // infinite bounds are the binders' defaults
    if (!std::isinf(lo)) target.attrs.set("act_min", lo);
    if (!std::isinf(hi)) target.attrs.set("act_max", hi);
  }
  rewrite::retarget_output(g, p, 0, y);
}

}  // namespace

Status fuse_activation(Graph& g) {
  ASSIGN_OR_RETURN(auto order, g.topological_order());
  // A fusion only changes the readers of the tensor it removes, so one consumer map serves all.
  const auto consumers = g.consumers();
  for (NodeId id : order) {
    const Node& n = g.node(id);
    if (!n.dead && (n.kind == OpKind::Relu || n.kind == OpKind::Clip)) try_fuse(g, id, consumers);
  }
  return Status::OK();
}

}  // namespace neutron
