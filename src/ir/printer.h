// Deterministic, readable text form of a Graph (`neutron dump`).
#pragma once
#include <string>

#include "ir/graph.h"

namespace neutron {

std::string tensor_type_str(const Tensor& t);  // "i8[1,3,224,224] q(0.0157,-128)"
std::string print_graph(const Graph& g);

}  // namespace neutron
