// Structural and type checks of a Graph. Every error names the offending node or tensor.
#pragma once
#include "ir/graph.h"

namespace neutron {

// Checks: every node input is a graph input, a constant or the output of a live node; each tensor
// has at most one producer; the graph is acyclic; graph outputs are defined; dtypes and shapes
// agree with the op's shape rule; quantization parameters are well formed.
Status verify_graph(const Graph& g);

}  // namespace neutron
