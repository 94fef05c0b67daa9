// div-to-mul: Div(A, C) with a constant f32 divisor C becomes Mul(A, 1/C) (upstream's
// ConvertDivToMulPass): Neutron and our int8 kernels multiply, they do not divide. The reciprocal
// is rounded once to f32, so results may differ from the division by an ulp.
// Left alone: a divisor with an element of magnitude below 1e-12 (or NaN), integer division, and
// tensors with quantization parameters.
#include <cmath>

#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {

Status div_to_mul(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind != OpKind::Div || n.inputs.size() != 2 || n.outputs.size() != 1) continue;
    const TensorId a = n.inputs[0], c = n.inputs[1];
    if (!rewrite::is_plain_float(g, a) || !rewrite::is_float_constant(g, c) || !rewrite::is_plain_float(g, n.outputs[0]))
      continue;
    const Tensor& ct = g.tensor(c);
    std::vector<float> r = ct.data->to_vector<float>();
    bool ok = true;
    for (float& v : r) {
      if (!(std::fabs(v) >= 1e-12f)) ok = false;
      v = 1.0f / v;
    }
    if (!ok) continue;
    const TensorId rc = rewrite::add_float_constant(g, ct.name + "_reciprocal", ct.shape, r);
    Node& node = g.node(id);
    node.kind = OpKind::Mul;
    node.inputs[1] = rc;
  }
  return Status::OK();
}

}  // namespace neutron
