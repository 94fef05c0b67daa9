// Transpose -> aten.permute_copy.default: TRANSPOSE (facts §2.2 row 27). On Neutron-C every
// permutation is accepted (upstream's transposition_is_supported_on_neutron returns True).
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

bool identity_perm(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != int64_t(i)) return false;
  return true;
}

}  // namespace

OpSupport transpose_support() {
  OpSupport s;
  s.kind = OpKind::Transpose;
  s.upstream = "aten.permute_copy.default";
  s.neutron_op = "TRANSPOSE (merged with the layout transposes around it)";
  s.rules = {shared_qparams_rule()};
  s.context_rules = {
      ContextRule{"transpose.alone_constant",
                  [](const NeutronTarget&) {
                    return std::string("a Transpose of a constant must not be alone in its partition (it is folded)");
                  },
                  [](const RuleInput& in, const PartitionContext& pc) {
                    if (pc.alone(in.id) && in.input(0)->is_constant()) return Verdict::fail("input is a constant");
                    return Verdict::pass();
                  }},
  };
  s.is_noop = [](const Graph& g, NodeId id) {
    const Node& n = g.node(id);
    return g.tensor(n.inputs[0]).is_constant() || identity_perm(n.attrs.get_ints("perm"));
  };
  s.noop_when = "its input is a constant (it is folded) or the permutation is the identity";
  return s;
}

}  // namespace neutron
