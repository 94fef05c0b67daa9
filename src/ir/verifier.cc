#include "ir/verifier.h"

#include <cmath>

#include "ir/shape_inference.h"

namespace neutron {
namespace {

Status verify_quant(const Graph& g, TensorId id) {
  const Tensor& t = g.tensor(id);
  const QuantParams& q = t.quant;
  if (q.empty()) return Status::OK();
  const auto where = [&] { return str_cat("tensor '", t.name, "'"); };
  CHECK_OR_RETURN(q.scale.size() == q.zero_point.size(), Error::InvalidModel, where(), ": ", q.scale.size(),
                  " scales but ", q.zero_point.size(), " zero points");
  for (float s : q.scale)
    CHECK_OR_RETURN(std::isfinite(s) && s > 0, Error::InvalidModel, where(), ": quantization scale ", s,
                    " is not a positive finite number");
  if (q.per_axis()) {
    CHECK_OR_RETURN(q.axis >= 0 && size_t(q.axis) < t.shape.size() && t.shape[size_t(q.axis)] == int64_t(q.scale.size()),
                    Error::InvalidModel, where(), ": per-axis quantization with ", q.scale.size(), " scales on axis ",
                    q.axis, " does not fit shape ", shape_str(t.shape));
  }
  return Status::OK();
}

}  // namespace

Status verify_graph(const Graph& g) {
  std::vector<int> defined(g.num_tensors(), 0);
  for (TensorId t : g.inputs) {
    CHECK_OR_RETURN(t >= 0 && size_t(t) < g.num_tensors(), Error::InvalidModel, "graph input id ", t, " out of range");
    defined[size_t(t)] = 1;
  }
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    if (g.tensor(TensorId(i)).is_constant()) defined[i] = 1;
    RETURN_IF_ERROR(verify_quant(g, TensorId(i)));
  }
  std::vector<NodeId> producer(g.num_tensors(), -1);
  for (NodeId n : g.live_nodes()) {
    for (TensorId o : g.node(n).outputs) {
      if (o == kNoTensor) continue;
      CHECK_OR_RETURN(o >= 0 && size_t(o) < g.num_tensors(), Error::InvalidModel, describe(g, n), ": output id out of range");
      CHECK_OR_RETURN(!g.tensor(o).is_constant(), Error::InvalidModel, describe(g, n), " writes constant tensor '",
                      g.tensor(o).name, "'");
      CHECK_OR_RETURN(producer[size_t(o)] < 0, Error::InvalidModel, "tensor '", g.tensor(o).name, "' is produced by both ",
                      describe(g, producer[size_t(o)]), " and ", describe(g, n));
      CHECK_OR_RETURN(!defined[size_t(o)], Error::InvalidModel, describe(g, n), " writes graph input '", g.tensor(o).name, "'");
      producer[size_t(o)] = n;
    }
  }
  for (NodeId n : g.live_nodes()) {
    for (TensorId in : g.node(n).inputs) {
      if (in == kNoTensor) continue;
      CHECK_OR_RETURN(in >= 0 && size_t(in) < g.num_tensors(), Error::InvalidModel, describe(g, n), ": input id out of range");
      CHECK_OR_RETURN(defined[size_t(in)] || producer[size_t(in)] >= 0, Error::InvalidModel, describe(g, n),
                      " reads tensor '", g.tensor(in).name, "', which is neither a graph input, a constant nor produced by a node");
    }
  }
  for (TensorId t : g.outputs) {
    CHECK_OR_RETURN(t >= 0 && size_t(t) < g.num_tensors(), Error::InvalidModel, "graph output id ", t, " out of range");
    CHECK_OR_RETURN(defined[size_t(t)] || producer[size_t(t)] >= 0, Error::InvalidModel, "graph output '",
                    g.tensor(t).name, "' is never produced");
  }
  ASSIGN_OR_RETURN(auto order, g.topological_order());
  for (NodeId n : order) {
    std::vector<TensorType> expected;
    RETURN_IF_ERROR(infer_node_types(g, n, &expected));
    const Node& node = g.node(n);
    CHECK_OR_RETURN(expected.size() == node.outputs.size(), Error::InvalidModel, describe(g, n), " has ",
                    node.outputs.size(), " outputs, its op defines ", expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const Tensor& t = g.tensor(node.outputs[i]);
      CHECK_OR_RETURN(t.dtype == expected[i].dtype && t.shape == expected[i].shape, Error::InvalidModel, describe(g, n),
                      ": output '", t.name, "' is ", dtype_name(t.dtype), shape_str(t.shape), " but the op gives ",
                      dtype_name(expected[i].dtype), shape_str(expected[i].shape));
    }
  }
  return Status::OK();
}

}  // namespace neutron
