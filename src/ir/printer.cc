#include "ir/printer.h"

#include <cstdio>
#include <sstream>

namespace neutron {
namespace {

std::string fmt_float(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string attr_str(const AttrValue& v) {
  struct Visitor {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const { return fmt_float(x); }
    std::string operator()(const std::string& x) const { return "\"" + x + "\""; }
    std::string operator()(const std::vector<int64_t>& x) const { return str_cat(x); }
    std::string operator()(const std::vector<double>& x) const {
      std::string r = "[";
      for (size_t i = 0; i < x.size(); ++i) r += (i ? "," : "") + fmt_float(x[i]);
      return r + "]";
    }
  };
  return std::visit(Visitor{}, v);
}

}  // namespace

std::string tensor_type_str(const Tensor& t) {
  std::string r = str_cat(dtype_name(t.dtype), shape_str(t.shape));
  if (!t.quant.empty()) {
    if (t.quant.per_axis()) {
      r += str_cat(" q(axis=", t.quant.axis, ", ", t.quant.scale.size(), " scales)");
    } else {
      r += str_cat(" q(", fmt_float(t.quant.scale[0]), ",", t.quant.zero_point[0], ")");
    }
  }
  return r;
}

std::string print_node(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  std::ostringstream os;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const Tensor& t = g.tensor(n.outputs[i]);
    os << (i ? ", " : "") << "%" << t.name << ": " << tensor_type_str(t);
  }
  os << " = " << op_kind_name(n.kind) << "(";
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    os << (i ? ", " : "");
    if (n.inputs[i] == kNoTensor) {
      os << "none";
      continue;
    }
    const Tensor& t = g.tensor(n.inputs[i]);
    os << (t.is_constant() ? "$" : "%") << t.name;
    if (t.is_constant()) os << ":" << tensor_type_str(t);
  }
  os << ")";
  if (!n.attrs.all().empty()) {
    os << " {";
    bool first = true;
    for (const auto& [k, v] : n.attrs.all()) {
      os << (first ? "" : ", ") << k << "=" << attr_str(v);
      first = false;
    }
    os << "}";
  }
  os << "  // " << n.name;
  return os.str();
}

std::string print_graph(const Graph& g) {
  std::ostringstream os;
  os << "graph " << (g.name.empty() ? "main" : g.name) << " {\n";
  for (TensorId t : g.inputs) os << "  input %" << g.tensor(t).name << ": " << tensor_type_str(g.tensor(t)) << "\n";
  size_t constants = 0, constant_bytes = 0;
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    const Tensor& t = g.tensor(TensorId(i));
    if (t.is_constant()) {
      ++constants;
      constant_bytes += t.data->bytes.size();
    }
  }
  os << "  // " << constants << " constants, " << constant_bytes << " bytes\n";
  auto order = g.topological_order();
  std::vector<NodeId> nodes = order.ok() ? order.value() : g.live_nodes();
  for (NodeId id : nodes) os << "  " << print_node(g, id) << "\n";
  for (TensorId t : g.outputs) os << "  output %" << g.tensor(t).name << "\n";
  os << "}\n";
  return os.str();
}

}  // namespace neutron
