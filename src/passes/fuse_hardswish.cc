// fuse-hardswish: Mul(x, HardSigmoid(x; alpha = 1/6, beta = 1/2)) becomes HardSwish(x). ONNX has
// HardSwish only from opset 14; PyTorch exports hardswish at opset 13 as exactly this pair. Upstream
// delegates hardswish (HARD_SWISH) and has no converter for hardsigmoid, so the pair would otherwise
// stay on the CPU; fused, it is one int8 table op, quantized and delegated like HardSwish.
// Left alone: other alpha/beta, a HardSigmoid with other readers (or a graph output), quantized
// tensors.
#include <cmath>

#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

bool is_hardswish_gate(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.kind != OpKind::HardSigmoid || n.inputs.size() != 1 || n.outputs.size() != 1) return false;
  // The exporter writes alpha as the f32 1/6 (0.16666667).
  return std::fabs(n.attrs.get_float("alpha", 0.2) - 1.0 / 6.0) < 1e-6 &&
         std::fabs(n.attrs.get_float("beta", 0.5) - 0.5) < 1e-6;
}

}  // namespace

Status fuse_hardswish(Graph& g) {
  const auto consumers = g.consumers();
  for (NodeId id : g.live_nodes()) {
    const Node& m = g.node(id);
    if (m.kind != OpKind::Mul || m.inputs.size() != 2 || m.outputs.size() != 1) continue;
    for (size_t k = 0; k < 2; ++k) {
      const TensorId gate = m.inputs[k], x = m.inputs[1 - k];
      const NodeId hs = rewrite::live_producer(g, gate);
      if (hs < 0 || !is_hardswish_gate(g, hs) || g.node(hs).inputs[0] != x) continue;
      if (!rewrite::has_single_consumer(g, consumers, gate) || !rewrite::is_plain_float(g, x) ||
          !rewrite::is_plain_float(g, m.outputs[0]) || g.tensor(x).shape != g.tensor(m.outputs[0]).shape)
        continue;
      Node& node = g.node(id);
      node.kind = OpKind::HardSwish;
      node.inputs = {x};
      node.attrs = Attributes();
      g.remove_node(hs);
      break;
    }
  }
  return Status::OK();
}

}  // namespace neutron
