// The importer's driver: parse the ModelProto, check the opset, turn initializers into constants
// and graph inputs into runtime inputs (or constants), order the nodes, run each node's mapper
// (op_table.cc), then bind the graph outputs, drop what was folded away and verify the graph.
#include "import/onnx/onnx_importer.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <queue>
#include <set>
#include <sstream>

#include "core/memory_budget.h"
#include "core/read_file.h"
#include "import/onnx/fuse_transformer.h"
#include "import/onnx/import_context.h"
#include "import/onnx/onnx_ops.h"
#include "import/onnx/tensor_proto.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace neutron {
namespace {

// 18: Split num_outputs, Pad axes, Reduce* axes inputs, Resize antialias/axes; 19-20 add float8
// types and Gelu (20), which the mappers reject or read.
constexpr int kMaxOpset = 20;

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// Declared dtype and static shape of a graph input/output; `what` names it in messages.
Status declared_type(const std::string& file, const onnx::ValueInfoProto& v, const std::string& what, DType* dtype,
                     Shape* shape) {
  if (!v.has_type() || !v.type().has_tensor_type())
    return error(Error::NotSupported, file, ": ", what, " is not a tensor (sequences, maps and optionals are not supported)");
  const auto& tt = v.type().tensor_type();
  *dtype = dtype_from_onnx(tt.elem_type());
  if (*dtype == DType::Invalid)
    return error(tt.elem_type() == onnx::TensorProto::UNDEFINED ? Error::InvalidModel : Error::NotSupported, file, ": ",
                 what, " has element type ", onnx_dtype_name(tt.elem_type()), ", which is not supported");
  if (!tt.has_shape()) return error(Error::NotSupported, file, ": ", what, " has no shape; only static shapes are supported");
  shape->clear();
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (!d.has_dim_value())
      return error(Error::NotSupported, file, ": ", what, " has the dynamic dimension ", i,
                   d.has_dim_param() ? " '" + d.dim_param() + "'" : std::string(), "; only static shapes are supported");
    if (d.dim_value() < 0 || d.dim_value() > kMaxTensorElements)
      return error(Error::InvalidModel, file, ": ", what, " has the invalid dimension ", d.dim_value());
    shape->push_back(d.dim_value());
  }
  int64_t count = 0;
  if (!checked_num_elements(*shape, &count) || count > kMaxTensorElements)
    return error(Error::NotSupported, file, ": ", what, " shape ", shape_str(*shape), " is too large");
  return Status::OK();
}

std::string node_label(const onnx::NodeProto& n, int index) {
  return n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
}

// Node indices in a topological order (ONNX requires one; we sort anyway, stable by index).
StatusOr<std::vector<int>> order_nodes(const ImportState& s, const onnx::GraphProto& graph) {
  const int n = graph.node_size();
  std::map<std::string, int> producer;
  for (int i = 0; i < n; ++i) {
    for (const auto& o : graph.node(i).output()) {
      if (o.empty()) continue;
      if (s.values.count(o) || !producer.emplace(o, i).second)
        return error(Error::InvalidModel, s.file, ": node '", node_label(graph.node(i), i), "' (op ",
                     graph.node(i).op_type(), ") writes tensor '", o,
                     "', which is already defined (by an initializer, graph input or another node)");
    }
  }
  std::vector<int> pending(size_t(n), 0);
  std::vector<std::vector<int>> users(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto& node = graph.node(i);
    for (int k = 0; k < node.input_size(); ++k) {
      const std::string& in = node.input(k);
      if (in.empty() || s.values.count(in)) continue;
      auto it = producer.find(in);
      if (it == producer.end())
        return error(Error::InvalidModel, s.file, ": node '", node_label(node, i), "' (op ", node.op_type(), ", opset ",
                     s.opset, "): input ", k, " '", in, "' is not produced by any node, initializer or graph input");
      ++pending[size_t(i)];
      users[size_t(it->second)].push_back(i);
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (pending[size_t(i)] == 0) ready.push(i);
  std::vector<int> order;
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int u : users[size_t(i)])
      if (--pending[size_t(u)] == 0) ready.push(u);
  }
  if (int(order.size()) != n) {
    for (int i = 0; i < n; ++i)
      if (pending[size_t(i)] > 0)
        return error(Error::InvalidModel, s.file, ": node '", node_label(graph.node(i), i), "' (op ",
                     graph.node(i).op_type(), ") is on a cycle");
  }
  return order;
}

Status import_initializers(ImportState& s, const onnx::GraphProto& graph) {
  if (graph.sparse_initializer_size() > 0)
    return error(Error::NotSupported, s.file, ": sparse initializers are not supported");
  for (const auto& init : graph.initializer()) {
    if (init.name().empty()) return error(Error::InvalidModel, s.file, ": an initializer has no name");
    if (s.values.count(init.name()))
      return error(Error::InvalidModel, s.file, ": initializer '", init.name(), "' is defined twice");
    auto data = tensor_from_proto(init, str_cat(s.file, ": initializer '", init.name(), "'"));
    if (!data.ok()) return data.status();
    s.values[init.name()] = s.g.add_constant(init.name(), std::move(data).value());
  }
  return Status::OK();
}

Status import_inputs(ImportState& s, const onnx::GraphProto& graph) {
  std::set<std::string> seen;
  for (const auto& in : graph.input()) {
    const std::string& name = in.name();
    if (name.empty()) return error(Error::InvalidModel, s.file, ": a graph input has no name");
    if (!seen.insert(name).second) return error(Error::InvalidModel, s.file, ": graph input '", name, "' is listed twice");
    const std::string what = "graph input '" + name + "'";
    auto given = s.options->input_values_as_constants.find(name);
    if (given != s.options->input_values_as_constants.end()) {
      DType dt;
      Shape shape;
      Status st = declared_type(s.file, in, what, &dt, &shape);
      if (st.ok() && (dt != given->second.dtype || shape != given->second.shape))
        return error(Error::InvalidArgument, s.file, ": ", what, " is declared ", dtype_name(dt), shape_str(shape),
                     ", but the constant value given for it is ", dtype_name(given->second.dtype),
                     shape_str(given->second.shape));
      s.values[name] = s.g.add_constant(name, given->second);
      continue;
    }
    if (s.values.count(name)) continue;  // an initializer listed as input (IR < 4): a constant
    Tensor t;
    t.name = name;
    RETURN_IF_ERROR(declared_type(s.file, in, what, &t.dtype, &t.shape));
    const TensorId id = s.g.add_tensor(std::move(t));
    s.values[name] = id;
    s.g.inputs.push_back(id);
  }
  for (const auto& [name, value] : s.options->input_values_as_constants)
    if (!seen.count(name))
      return error(Error::InvalidArgument, s.file, ": a constant value is given for '", name, "', which is not a graph input");
  return Status::OK();
}

// Fails with "<file>: node 'n' (op T, opset N): unsupported operator" for op types, domains and
// opsets we do not import.
Status check_node_supported(const ImportState& s, const onnx::NodeProto& node, int index) {
  const auto where = [&] {
    return str_cat(s.file, ": node '", node_label(node, index), "' (op ", node.op_type(), ", opset ", s.opset, "): ");
  };
  if (!is_default_domain(node.domain()))
    return error(Error::NotSupported, where(), "unsupported operator (domain '", node.domain(), "')");
  const OnnxOpEntry* entry = find_onnx_op(node.op_type());
  if (!entry) return error(Error::NotSupported, where(), "unsupported operator");
  if (s.opset >= 1 && s.opset < entry->min_opset)
    return error(Error::NotSupported, where(), "opset ", s.opset, " semantics of ", node.op_type(),
                 " are not supported (opset ", entry->min_opset, " or newer is)");
  return Status::OK();
}

Status import_node(ImportState& s, const onnx::NodeProto& node, int index) {
  const std::string name = node_label(node, index);
  const auto where = [&] { return str_cat(s.file, ": node '", name, "' (op ", node.op_type(), ", opset ", s.opset, "): "); };
  const OnnxOpEntry* entry = find_onnx_op(node.op_type());
  if (node.output_size() == 0) return error(Error::InvalidModel, where(), "has no outputs");
  NodeCtx c(s, node, name);
  RETURN_IF_ERROR(c.init());
  RETURN_IF_ERROR(entry->map(c));
  for (size_t i = 0; i < c.num_outputs(); ++i)
    if (c.output_used(i) && !s.values.count(c.output_name(i)))
      return error(Error::NotSupported, where(), "output ", i, " '", c.output_name(i), "' is not supported");
  return Status::OK();
}

// Graph outputs keep their ONNX names: an output that aliases another tensor (Identity, a graph
// input, a repeated output) gets an Identity node; a constant output gets its own constant.
Status bind_outputs(ImportState& s, const onnx::GraphProto& graph) {
  Graph& g = s.g;
  for (const auto& out : graph.output()) {
    auto it = s.values.find(out.name());
    if (it == s.values.end())
      return error(Error::InvalidModel, s.file, ": graph output '", out.name(), "' is not produced by any node");
    const TensorId t = it->second;
    const Tensor& tt = g.tensor(t);
    const bool own_name = tt.name == out.name() && !g.is_graph_output(t);
    if (own_name && (tt.is_constant() || tt.producer >= 0)) {
      g.outputs.push_back(t);
      continue;
    }
    Tensor copy;
    copy.name = tt.name == out.name() ? g.unique_tensor_name(out.name()) : out.name();
    copy.dtype = tt.dtype;
    copy.shape = tt.shape;
    copy.quant = tt.quant;
    if (tt.is_constant()) {
      copy.data = tt.data;
      g.outputs.push_back(g.add_tensor(std::move(copy)));
      continue;
    }
    const TensorId y = g.add_tensor(std::move(copy));
    Node n;
    n.kind = OpKind::Identity;
    n.name = out.name() + "/identity";
    n.inputs = {t};
    n.outputs = {y};
    g.add_node(std::move(n));
    g.outputs.push_back(y);
  }
  return Status::OK();
}

// Graph outputs whose type the model declares statically must match what we inferred.
Status check_declared_outputs(const ImportState& s, const onnx::GraphProto& graph) {
  for (int i = 0; i < graph.output_size() && size_t(i) < s.g.outputs.size(); ++i) {
    DType dt;
    Shape shape;
    const std::string what = "graph output '" + graph.output(i).name() + "'";
    if (!declared_type(s.file, graph.output(i), what, &dt, &shape).ok()) continue;  // dynamic or undeclared
    const Tensor& t = s.g.tensor(s.g.outputs[size_t(i)]);
    if (t.dtype != dt || t.shape != shape)
      return error(Error::InvalidModel, s.file, ": ", what, " is declared ", dtype_name(dt), shape_str(shape),
                   ", but the importer infers ", dtype_name(t.dtype), shape_str(t.shape));
  }
  return Status::OK();
}

StatusOr<Graph> import_model(const onnx::ModelProto& m, const std::string& file, const OnnxImportOptions& options) {
  ImportState s;
  s.file = file;
  s.options = &options;
  s.opset = m.opset_import_size() == 0 ? 1 : -1;  // IR version 1-2 models have no opset_import: opset 1
  for (const auto& o : m.opset_import())
    if (is_default_domain(o.domain())) s.opset = int(std::min<int64_t>(o.version(), 1 << 20));
  if (s.opset > kMaxOpset)
    return error(Error::NotSupported, file, ": opset ", s.opset, " is newer than the newest supported opset (", kMaxOpset, ")");
  if (!m.has_graph()) return error(Error::InvalidModel, file, ": the model has no graph");
  const onnx::GraphProto& graph = m.graph();
  // Unsupported operators first, all of them in one message: that is the most useful message
  // for a model we cannot import.
  {
    std::vector<std::string> problems;
    for (int i = 0; i < graph.node_size(); ++i) {
      Status st = check_node_supported(s, graph.node(i), i);
      if (!st.ok()) problems.push_back(st.message());
    }
    if (problems.size() == 1) return error(Error::NotSupported, problems[0]);
    if (!problems.empty()) {
      std::string msg = str_cat(file, ": ", problems.size(), " nodes are not supported: ");
      for (size_t i = 0; i < problems.size(); ++i) {
        std::string p = problems[i];
        if (p.compare(0, file.size() + 2, file + ": ") == 0) p = p.substr(file.size() + 2);
        msg += (i ? "; " : "") + p;
      }
      return error(Error::NotSupported, msg);
    }
  }
  if (s.opset < 1) return error(Error::InvalidModel, file, ": the model imports no opset of the default ONNX domain");
  s.g.name = graph.name();

  // Reserve every ONNX tensor name so that names made up for new tensors never collide.
  for (const auto& i : graph.input()) s.g.unique_tensor_name(i.name());
  for (const auto& i : graph.initializer()) s.g.unique_tensor_name(i.name());
  for (const auto& n : graph.node())
    for (const auto& o : n.output())
      if (!o.empty()) s.g.unique_tensor_name(o);
  for (const auto& n : graph.node())
    for (const auto& i : n.input())
      if (!i.empty()) s.used_names.insert(i);
  for (const auto& o : graph.output()) s.used_names.insert(o.name());

  RETURN_IF_ERROR(import_initializers(s, graph));
  RETURN_IF_ERROR(import_inputs(s, graph));
  ASSIGN_OR_RETURN(auto order, order_nodes(s, graph));
  for (int i : order) RETURN_IF_ERROR(import_node(s, graph.node(i), i));
  RETURN_IF_ERROR(bind_outputs(s, graph));
  fuse_transformer_patterns(s.g);  // after bind_outputs: a graph output is never fused away
  s.g.compact();
  RETURN_IF_ERROR(verify_graph(s.g).with_context(file + ": imported graph"));
  RETURN_IF_ERROR(check_declared_outputs(s, graph));
  return std::move(s.g);
}

}  // namespace

StatusOr<Graph> import_onnx_bytes(const std::string& bytes, const std::string& name, const OnnxImportOptions& options) {
  if (bytes.empty()) return error(Error::InvalidModel, name, ": the file is empty");
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes))
    return error(Error::InvalidModel, name, ": not a valid ONNX model (protobuf parsing failed: truncated or not ONNX)");
  return import_model(m, name, options);
}

StatusOr<Graph> import_onnx_file(const std::string& path, const OnnxImportOptions& options) {
  ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return import_onnx_bytes(bytes, path, options);
}

}  // namespace neutron
