// fold-constants: a node whose inputs are all constants is evaluated now, with the CPU executor,
// and its outputs become constants (upstream's RemoveNodesWithKnownOutputs). Nodes are visited in
// topological order, so chains of constant computations (a weight transposed, then scaled) fold
// in one run.
//
// Each node runs alone in a one-node graph. Spatial ops are wrapped in NCHW<->NHWC transposes
// first (wrap_spatial_ops_nhwc), because their CPU kernels are channels-last only.
//
// Left alone:
//  * nodes the CPU executor has no kernel for, or whose binder refuses the operands;
//  * QuantizeLinear / DequantizeLinear and any node touching a tensor with quantization
//    parameters: in a QDQ graph "DequantizeLinear of an int8 constant" is how a quantized weight is
//    spelled, and folding it would turn the weight back into float;
//  * nodes writing a graph output: the output stays produced by a node, so the graph's interface
//    (and what exporters and the quantizer see at the outputs) does not change.
// The folded output tensors keep their ids and names; only their producer goes.
#include "exec/executor.h"
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

bool foldable(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear) return false;
  if (find_binder(n.kind) == nullptr) return false;
  bool any_input = false;
  for (TensorId t : n.inputs) {
    if (t == kNoTensor) continue;
    if (!g.tensor(t).is_constant() || g.tensor(t).is_quantized()) return false;
    any_input = true;
  }
  if (!any_input) return false;
  for (TensorId t : n.outputs)
    if (t != kNoTensor && (g.tensor(t).is_quantized() || g.is_graph_output(t))) return false;
  return true;
}

// Runs node `id` alone. Returns false (and no error) when the executor cannot bind it.
StatusOr<bool> evaluate(const Graph& g, NodeId id, std::vector<TensorData>* values) {
  const Node& n = g.node(id);
  Graph one;
  Node copy = n;
  for (TensorId& t : copy.inputs) {
    if (t == kNoTensor) continue;
    Tensor c = g.tensor(t);  // shares the constant's data
    c.producer = -1;
    t = one.add_tensor(std::move(c));
  }
  for (TensorId& t : copy.outputs) {
    if (t == kNoTensor) continue;
    Tensor o;
    o.name = g.tensor(t).name;
    o.dtype = g.tensor(t).dtype;
    o.shape = g.tensor(t).shape;
    t = one.add_tensor(std::move(o));
    one.outputs.push_back(t);
  }
  one.add_node(std::move(copy));
  RETURN_IF_ERROR(wrap_spatial_ops_nhwc(one));
  auto ex = Executor::create(one);
  // A node too large to evaluate is an error here as it would be at run time; any other refusal
  // just leaves the node unfolded.
  if (!ex.ok() && ex.status().code() == Error::OutOfMemory) return ex.status().with_context(describe(g, id));
  if (!ex.ok()) return false;
  RETURN_IF_ERROR(ex.value()->run({}, values).with_context(describe(g, id)));
  return true;
}

}  // namespace

Status fold_constants(Graph& g) {
  ASSIGN_OR_RETURN(auto order, g.topological_order());
  for (NodeId id : order) {
    if (!foldable(g, id)) continue;
    std::vector<TensorData> values;
    ASSIGN_OR_RETURN(bool ran, evaluate(g, id, &values));
    if (!ran) continue;
    size_t k = 0;
    for (TensorId t : g.node(id).outputs) {
      if (t == kNoTensor) continue;
      Tensor& out = g.tensor(t);
      out.data = std::make_shared<const TensorData>(std::move(values[k++]));
      out.producer = -1;
    }
    g.remove_node(id);
  }
  return Status::OK();
}

}  // namespace neutron
