// Output dtype and shape rules, one per op (see op_attrs.h for each op's operands).
// Used by the importer to fill tensor shapes, by passes after rewriting, and by the verifier.
#pragma once
#include <vector>

#include "ir/graph.h"

namespace neutron {

struct TensorType {
  DType dtype = DType::Invalid;
  Shape shape;
  bool operator==(const TensorType& o) const { return dtype == o.dtype && shape == o.shape; }
};

// Computes the types of node `id`'s outputs from its inputs' types and its attributes.
// Errors name the node and say which operand or attribute is wrong.
Status infer_node_types(const Graph& g, NodeId id, std::vector<TensorType>* outputs);

// Runs infer_node_types over the graph in topological order and stores the results in the
// output tensors (dtype and shape; quantization parameters are left alone).
Status infer_shapes(Graph& g);

}  // namespace neutron
