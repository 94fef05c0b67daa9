// print_partitioned_graph(): the text form of a partitioned graph (the PROGRAM file of
// `neutron compile` until NPU code generation exists). Node lines follow `neutron dump`.
#include <sstream>

#include "ir/printer.h"
#include "partition/partitioner.h"

namespace neutron {
namespace {

std::string node_line(const Graph& g, NodeId id) { return print_node(g, id); }

std::string tensor_list(const Graph& g, const std::vector<TensorId>& ts) {
  std::string r;
  for (TensorId t : ts) r += (r.empty() ? "%" : ", %") + g.tensor(t).name;
  return r;
}

}  // namespace

std::string print_partitioned_graph(const Graph& g, const Partitioning& p) {
  std::ostringstream os;
  os << "partitioned graph " << (g.name.empty() ? "main" : g.name) << " {\n";
  for (TensorId t : g.inputs) os << "  input %" << g.tensor(t).name << ": " << tensor_type_str(g.tensor(t)) << "\n";
  auto units = execution_order(g, p);
  if (!units.ok()) {
    os << "  // " << units.status().to_string() << "\n}\n";
    return os.str();
  }
  for (const ExecutionUnit& u : units.value()) {
    if (!u.is_partition) {
      const NodePlacement& pl = p.nodes[size_t(u.index)];
      os << "  cpu " << node_line(g, u.index);
      if (pl.rejection) os << "  [" << pl.rejection->rule << "]";
      os << "\n";
      continue;
    }
    const Partition& part = p.partitions[size_t(u.index)];
    os << "  npu partition " << part.id << " (" << tensor_list(g, part.inputs) << ") -> (" << tensor_list(g, part.outputs)
       << ") {\n";
    for (NodeId n : part.nodes) os << "    " << node_line(g, n) << "\n";
    os << "  }\n";
  }
  for (TensorId t : g.outputs) os << "  output %" << g.tensor(t).name << "\n";
  os << "}\n";
  for (const Partition& part : p.partitions) {
    os << "partition " << part.id << ": " << part.nodes.size() << " nodes, " << part.inputs.size() << " inputs, "
       << part.outputs.size() << " outputs, " << part.constants.size() << " constants, " << part.macs << " MACs";
    if (part.boundary_transposes >= 0)
      os << ", after layout-nhwc " << part.boundary_transposes << " boundary and " << part.internal_transposes
         << " internal transposes";
    os << "\n";
  }
  return os.str();
}

}  // namespace neutron
