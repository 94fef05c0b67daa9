// drop-empty-concat-inputs: a Concat input with no elements (an empty slice such as x[:, 0:0])
// contributes nothing; it is dropped, and dead-code elimination then removes what computed it.
// Program files hold no empty tensors, so without this such a model could not be compiled. At
// least one input stays (a Concat of empty tensors only is left alone).
#include "passes/passes.h"

namespace neutron {

Status drop_empty_concat_inputs(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    Node& n = g.node(id);
    if (n.kind != OpKind::Concat) continue;
    std::vector<TensorId> kept;
    for (TensorId t : n.inputs)
      if (t != kNoTensor && num_elements(g.tensor(t).shape) > 0) kept.push_back(t);
    if (!kept.empty() && kept.size() != n.inputs.size()) n.inputs = std::move(kept);
  }
  return Status::OK();
}

}  // namespace neutron
