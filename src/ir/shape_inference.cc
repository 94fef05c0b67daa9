// STUB: replaced by the real shape rules.
#include "ir/shape_inference.h"

namespace neutron {

Status infer_node_types(const Graph& g, NodeId id, std::vector<TensorType>* outputs) {
  outputs->clear();
  for (TensorId o : g.node(id).outputs) outputs->push_back({g.tensor(o).dtype, g.tensor(o).shape});
  return Status::OK();
}

Status infer_shapes(Graph& g) { return Status::OK(); }

}  // namespace neutron
