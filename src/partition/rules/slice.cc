// Slice -> aten.slice_copy.Tensor: SLICE (facts §2.2 row 32). Our Slice may cut several axes at
// once; upstream expresses that as one slice_copy per axis, each with the rules below.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

OpSupport slice_support() {
  OpSupport s;
  s.kind = OpKind::Slice;
  s.upstream = "aten.slice_copy.Tensor";
  s.neutron_op = "SLICE";
  s.rules = {
      Rule{"slice.step",
           [](const NeutronTarget&) { return std::string("every step must be 1"); },
           [](const RuleInput& in) {
             const auto steps = in.node().attrs.get_ints("steps");
             for (int64_t st : steps)
               if (st != 1) return Verdict::fail("steps " + dims_str(steps));
             return Verdict::pass();
           }},
      Rule{"slice.non_empty",
           [](const NeutronTarget&) {
             return std::string("after clamping, start < end on every sliced axis (no empty slice)");
           },
           [](const RuleInput& in) {
             if (num_elements(in.output().shape) > 0) return Verdict::pass();
             return Verdict::fail("output " + shape_str(in.output().shape));
           }},
  };
  // Upstream drops a full-range slice_copy before partitioning (nothing of it is left to
  // delegate); ours is a copy, counted as a no-op so that it is never a partition of its own.
  s.is_noop = [](const Graph& g, NodeId id) {
    const Node& n = g.node(id);
    if (n.inputs.empty() || n.outputs.empty()) return false;
    const Tensor& x = g.tensor(n.inputs[0]);
    const Tensor& y = g.tensor(n.outputs[0]);
    return x.shape == y.shape && x.quant == y.quant;
  };
  s.noop_when = "it keeps the whole input (every axis full range) with equal q-params";
  return s;
}

}  // namespace neutron
