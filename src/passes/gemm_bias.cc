// gemm-bias: gives every Gemm with a constant bias C the per-feature [N] bias Neutron's
// FULLY_CONNECTED takes, or none:
//   C broadcast from one value ([], [1], [1, 1]) -> the [N] vector of beta * C (beta = 1 after);
//   C with more than one row ([M, N], [M, 1])   -> Gemm without C, then Add(Y, beta * C).
// Upstream's converter refuses addmm with a [1] or an [M, N] bias (it maps only [N] and [1, N]);
// the hardware has no such limit: the first is the same vector, the second an elementwise ADD,
// which is delegated on its own. Without this the [M, N] bias left the Gemm in float (the
// quantizer quantizes only vector biases), which program files cannot run.
// Left alone: runtime C, quantized tensors, fused activations.
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

bool rewrite_bias(Graph& g, NodeId id) {
  const Node n = g.node(id);
  if (n.kind != OpKind::Gemm || n.inputs.size() < 3 || n.outputs.size() != 1) return false;
  const TensorId c = n.inputs[2], y = n.outputs[0];
  if (!rewrite::is_float_constant(g, c) || !rewrite::is_plain_float(g, y) || rewrite::has_fused_activation(n))
    return false;
  const Shape cs = g.tensor(c).shape, ys = g.tensor(y).shape;
  if (ys.size() != 2) return false;
  const int64_t rows = cs.size() == 2 ? cs[0] : 1;
  const int64_t elems = num_elements(cs);
  const float beta = float(n.attrs.get_float("beta", 1.0));
  std::vector<float> v = g.tensor(c).data->to_vector<float>();
  for (float& x : v) x *= beta;
  if (elems == 1) {
    g.node(id).inputs[2] = rewrite::add_float_constant(g, g.tensor(c).name + "_per_feature", {ys[1]},
                                                       std::vector<float>(size_t(ys[1]), v[0]));
    g.node(id).attrs.set("beta", 1.0);
    return true;
  }
  if (rows == 1) return false;  // [N] or [1, N]: already per feature
  const TensorId cc = rewrite::add_float_constant(g, g.tensor(c).name + "_add", cs, v);
  const TensorId mm = rewrite::add_value(g, g.tensor(y).name + "_matmul", DType::F32, ys);
  Node& gemm = g.node(id);
  gemm.inputs.resize(2);
  gemm.attrs.erase("beta");
  rewrite::retarget_output(g, id, 0, mm);
  rewrite::add_op(g, OpKind::Add, n.name + "_bias", {mm, cc}, {y});
  return true;
}

}  // namespace

Status gemm_bias(Graph& g) {
  for (NodeId id : g.live_nodes()) rewrite_bias(g, id);
  return Status::OK();
}

}  // namespace neutron
