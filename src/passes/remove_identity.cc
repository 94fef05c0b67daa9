// remove-identity: Identity and (inference) Dropout nodes are removed; their readers read the
// input instead. When the removed node's output is a graph output, that name must survive: the
// input tensor takes the output's name if it is an internal tensor (produced by a node, not a graph
// input or output, same type and quantization); otherwise (the input is a graph input, a constant
// or another graph output) the node stays. A Dropout whose mask output is read stays too.
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

bool try_remove(Graph& g, NodeId id, const std::vector<std::vector<NodeId>>& consumers) {
  const Node& n = g.node(id);
  if (n.inputs.size() != 1 || n.outputs.empty() || n.inputs[0] == kNoTensor || n.outputs[0] == kNoTensor) return false;
  for (size_t i = 1; i < n.outputs.size(); ++i) {
    const TensorId extra = n.outputs[i];
    if (extra != kNoTensor && (!consumers[size_t(extra)].empty() || g.is_graph_output(extra))) return false;
  }
  const TensorId x = n.inputs[0], y = n.outputs[0];
  const Tensor &xt = g.tensor(x), &yt = g.tensor(y);
  if (xt.dtype != yt.dtype || xt.shape != yt.shape || xt.quant != yt.quant) return false;
  if (g.is_graph_output(y)) {
    if (rewrite::live_producer(g, x) < 0 || g.is_graph_output(x)) return false;
    const std::string name = yt.name;
    g.tensor(y).name = g.unique_tensor_name(name + "_removed");
    g.tensor(x).name = name;
  }
  g.replace_uses(y, x);
  g.remove_node(id);
  return true;
}

}  // namespace

Status remove_identity(Graph& g) {
  const auto consumers = g.consumers();  // only used for the extra outputs, which no rewrite here changes
  for (NodeId id : g.live_nodes()) {
    const OpKind k = g.node(id).kind;
    if (k == OpKind::Identity || k == OpKind::Dropout) try_remove(g, id, consumers);
  }
  return Status::OK();
}

}  // namespace neutron
