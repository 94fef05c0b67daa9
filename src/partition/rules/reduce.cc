// Reductions (facts §2.2 rows 5, 6, 21, 35): ReduceMean -> aten.mean.dim (MEAN), ReduceMax ->
// aten.amax (REDUCE_MAX), ReduceMin -> aten.amin (REDUCE_MIN), ReduceSum -> aten.sum.dim_IntList
// (SUM). All keep their input's quantization parameters.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

// The reduced axes (empty attribute = all), and whether each has size 1 with keepdims.
bool reduces_only_unit_dims_keeping_them(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.inputs.empty() || n.outputs.empty()) return false;
  const Tensor& x = g.tensor(n.inputs[0]);
  if (n.attrs.get_int("keepdims", 1) == 0) return false;
  std::vector<int64_t> axes = n.attrs.get_ints("axes");
  if (axes.empty())
    for (size_t a = 0; a < x.shape.size(); ++a) axes.push_back(int64_t(a));
  for (int64_t a : axes)
    if (a < 0 || size_t(a) >= x.shape.size() || x.shape[size_t(a)] != 1) return false;
  return true;
}

// A reduction over size-1 dims with keepdims and equal q-params returns its input unchanged.
bool reduce_is_noop(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  return reduces_only_unit_dims_keeping_them(g, id) && g.tensor(n.inputs[0]).quant == g.tensor(n.outputs[0]).quant;
}

OpSupport reduce_entry(OpKind kind, const char* upstream, const char* neutron_op) {
  OpSupport s;
  s.kind = kind;
  s.upstream = upstream;
  s.neutron_op = neutron_op;
  s.rules = {shared_qparams_rule()};
  s.notes = {"Axes are remapped for channels-last tensors by the converter; any axes and keepdims are accepted."};
  return s;
}

}  // namespace

OpSupport reduce_mean_support() {
  OpSupport s = reduce_entry(OpKind::ReduceMean, "aten.mean.dim", "MEAN");
  s.context_rules = {
      ContextRule{"reduce_mean.alone_noop",
                  [](const NeutronTarget&) {
                    return std::string(
                        "a ReduceMean alone in its partition must not be a no-op (keepdims with every reduced dim of "
                        "size 1)");
                  },
                  [](const RuleInput& in, const PartitionContext& pc) {
                    if (pc.alone(in.id) && reduces_only_unit_dims_keeping_them(in.g, in.id))
                      return Verdict::fail(str_cat("reduces only size-1 dims of ", shape_str(in.input(0)->shape)));
                    return Verdict::pass();
                  }},
  };
  return s;
}

OpSupport reduce_max_support() {
  OpSupport s = reduce_entry(OpKind::ReduceMax, "aten.amax.default", "REDUCE_MAX");
  s.is_noop = reduce_is_noop;
  s.noop_when = "it reduces only size-1 dims with keepdims and equal q-params";
  return s;
}

OpSupport reduce_min_support() {
  OpSupport s = reduce_entry(OpKind::ReduceMin, "aten.amin.default", "REDUCE_MIN");
  s.is_noop = reduce_is_noop;
  s.noop_when = "it reduces only size-1 dims with keepdims and equal q-params";
  return s;
}

OpSupport reduce_sum_support() {
  OpSupport s = reduce_entry(OpKind::ReduceSum, "aten.sum.dim_IntList", "SUM");
  s.is_noop = reduce_is_noop;
  s.noop_when = "it reduces only size-1 dims with keepdims and equal q-params";
  return s;
}

}  // namespace neutron
