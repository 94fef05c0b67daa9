#include "passes/passes.h"

namespace neutron {

Status eliminate_dead_code(Graph& g) {
  // Iterate to a fixed point: removing one node can make its producers dead.
  for (bool changed = true; changed;) {
    changed = false;
    auto consumers = g.consumers();
    for (NodeId id : g.live_nodes()) {
      bool used = false;
      for (TensorId o : g.node(id).outputs)
        if (o != kNoTensor && (!consumers[size_t(o)].empty() || g.is_graph_output(o))) used = true;
      if (!used) {
        g.remove_node(id);
        changed = true;
      }
    }
  }
  return Status::OK();
}

}  // namespace neutron
