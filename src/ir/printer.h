// Deterministic, readable text form of a Graph (`neutron dump`).
#pragma once
#include <string>

#include "ir/graph.h"

namespace neutron {

std::string tensor_type_str(const Tensor& t);  // "i8[1,3,224,224] q(0.0157,-128)"
// One node: "%y: i8[1,8] q(0.1,0) = Relu(%x)  // name" (no newline).
std::string print_node(const Graph& g, NodeId id);
std::string print_graph(const Graph& g);

}  // namespace neutron
