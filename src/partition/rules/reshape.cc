// Shape-only ops (facts §2.2 rows 12, 39): Reshape (also Flatten/Squeeze/Unsqueeze) ->
// aten.view_copy: RESHAPE; Identity and Dropout -> aten.clone / _clone_dim_order: removed. They
// need no q-param rule upstream ("cluster only": the tensors must be int8), and they are always
// no-ops: a partition of only such ops is not emitted.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

bool always_noop(const Graph&, NodeId) { return true; }

}  // namespace

OpSupport reshape_support() {
  OpSupport s;
  s.kind = OpKind::Reshape;
  s.upstream = "aten.view_copy.default";
  s.neutron_op = "RESHAPE (with transposes when the layouts on both sides differ)";
  s.rules = {
      Rule{"reshape.rank",
           [](const NeutronTarget&) { return std::string("the output rank must be < 8"); },
           [](const RuleInput& in) {
             const size_t r = in.output().shape.size();
             return r < 8 ? Verdict::pass() : Verdict::fail(str_cat("output rank ", r));
           }},
  };
  s.is_noop = always_noop;
  s.noop_when = "always";
  s.notes = {"Going from a 4-D channels-last tensor to fewer dims needs an NHWC->NCHW transpose first; the "
             "converter inserts it."};
  return s;
}

OpSupport identity_support() {
  OpSupport s;
  s.kind = OpKind::Identity;
  s.upstream = "aten.clone.default, dim_order_ops._clone_dim_order.default";
  s.neutron_op = "none (an identity TRANSPOSE removed by the optimizer)";
  s.is_noop = always_noop;
  s.noop_when = "always";
  return s;
}

OpSupport dropout_support() {
  OpSupport s = identity_support();
  s.kind = OpKind::Dropout;
  s.upstream = "aten.dropout (eval) -> aten.clone.default";
  return s;
}

}  // namespace neutron
