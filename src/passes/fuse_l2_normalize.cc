// fuse-l2-normalize: F.normalize(x, dim, eps) as PyTorch exports it,
//   n = ReduceL2(x, axes=[dim], keepdims=1) -> Clip(n, min=eps) -> Expand(shape of x) -> Div(x, .)
// (the Clip and the Expand optional), becomes one LpNormalization(x, axis=dim, p=2, eps): one int8
// kernel instead of an int8 norm and an int8 division, which lose the precision of the norm.
// Only float graphs without quantization parameters, with every intermediate read once.
#include <cmath>
#include <limits>

#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {

Status fuse_l2_normalize(Graph& g) {
  const auto consumers = g.consumers();
  for (NodeId id : g.live_nodes()) {
    const Node& div = g.node(id);
    if (div.kind != OpKind::Div || div.inputs.size() != 2 || div.outputs.size() != 1) continue;
    const TensorId x = div.inputs[0], y = div.outputs[0];
    if (!rewrite::is_plain_float(g, x) || !rewrite::is_plain_float(g, y) || g.tensor(y).shape != g.tensor(x).shape)
      continue;
    std::vector<NodeId> chain;  // the nodes between x and the Div, from the Div back
    TensorId t = div.inputs[1];
    NodeId p = rewrite::live_producer(g, t);
    double eps = 0;
    if (p >= 0 && g.node(p).kind == OpKind::Expand && rewrite::has_single_consumer(g, consumers, t)) {
      chain.push_back(p);
      t = g.node(p).inputs[0];
      p = rewrite::live_producer(g, t);
    }
    if (p >= 0 && g.node(p).kind == OpKind::Clip && rewrite::has_single_consumer(g, consumers, t)) {
      const Node& clip = g.node(p);
      const double lo = clip.attrs.get_float("min", -std::numeric_limits<double>::infinity());
      const double hi = clip.attrs.get_float("max", std::numeric_limits<double>::infinity());
      if (!(lo >= 0) || !std::isfinite(lo) || hi != std::numeric_limits<double>::infinity()) continue;
      eps = lo;
      chain.push_back(p);
      t = clip.inputs[0];
      p = rewrite::live_producer(g, t);
    }
    if (p < 0 || g.node(p).kind != OpKind::ReduceL2 || !rewrite::has_single_consumer(g, consumers, t)) continue;
    const Node& red = g.node(p);
    const std::vector<int64_t> axes = red.attrs.get_ints("axes");
    if (red.inputs.empty() || red.inputs[0] != x || axes.size() != 1 || red.attrs.get_int("keepdims", 1) == 0) continue;
    const int axis = normalize_axis(axes[0], g.tensor(x).shape.size());
    if (axis < 0) continue;
    chain.push_back(p);
    Attributes a;
    a.set("axis", int64_t(axis));
    a.set("p", int64_t(2));
    a.set("eps", eps);
    const std::string name = div.name;
    for (NodeId c : chain) g.remove_node(c);
    g.remove_node(id);
    rewrite::add_op(g, OpKind::LpNormalization, name, {x}, {y}, a);
  }
  return Status::OK();
}

}  // namespace neutron
