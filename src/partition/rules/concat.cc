// Concat -> aten.cat.default: CONCATENATION (facts §2.2 row 9).
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

OpSupport concat_support() {
  OpSupport s;
  s.kind = OpKind::Concat;
  s.upstream = "aten.cat.default";
  s.neutron_op = "CONCATENATION (axis remapped for channels-last)";
  s.rules = {
      Rule{"concat.shared_qparams",
           [](const NeutronTarget&) {
             return std::string("every input must have the output's quantization parameters");
           },
           [](const RuleInput& in) {
             const Tensor& y = in.output();
             for (size_t i = 0; i < in.node().inputs.size(); ++i) {
               const Tensor* t = in.input(i);
               if (t && !(t->quant == y.quant && t->dtype == y.dtype))
                 return Verdict::fail(str_cat("input ", i, " ", qparams_of(*t), ", output ", qparams_of(y)));
             }
             return Verdict::pass();
           }},
  };
  s.is_noop = [](const Graph& g, NodeId id) { return g.node(id).inputs.size() == 1; };
  s.noop_when = "it has a single input";
  s.notes = {"fold-qdq requantizes Concat inputs whose parameters differ with an unbounded Clip; that Clip runs on "
             "the NPU as a table call in the Concat's partition (upstream's cat needs equal parameters and leaves the "
             "requantization on the CPU)."};
  return s;
}

}  // namespace neutron
