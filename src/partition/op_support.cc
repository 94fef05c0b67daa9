#include "partition/op_support.h"

#include <algorithm>

#include "partition/rules/common.h"

// The registry list: one line per op support entry, each defined in rules/<file>.cc as
// `OpSupport <name>_support()`. Adding an op: write its file, add its line here.
#define NEUTRON_OP_SUPPORT_LIST(X) \
  /* convolution and matrix products */ \
  X(conv)                          \
  X(conv_transpose)                \
  X(gemm)                          \
  X(matmul)                        \
  /* pooling and reductions */     \
  X(max_pool)                      \
  X(average_pool)                  \
  X(global_average_pool)           \
  X(reduce_mean)                   \
  X(reduce_max)                    \
  X(reduce_min)                    \
  X(reduce_sum)                    \
  /* elementwise binary */         \
  X(add)                           \
  X(sub)                           \
  X(mul)                           \
  X(max)                           \
  X(min)                           \
  /* activations and unary */      \
  X(relu)                          \
  X(clip)                          \
  X(prelu)                         \
  X(leaky_relu)                    \
  X(hard_swish)                    \
  X(sigmoid)                       \
  X(tanh)                          \
  X(abs)                           \
  X(neg)                           \
  X(exp)                           \
  X(log)                           \
  X(softmax)                       \
  X(lp_normalization)              \
  /* data movement */              \
  X(reshape)                       \
  X(identity)                      \
  X(dropout)                       \
  X(transpose)                     \
  X(slice)                         \
  X(pad)                           \
  X(concat)                        \
  X(resize)                        \
  /* transformers (rules/transformer.cc) */ \
  X(erf)                           \
  X(expand)                        \
  X(gather)                        \
  X(gelu)                          \
  X(layer_normalization)           \
  X(pow)                           \
  X(where)                         \
  /* never delegated (with the reason) */ \
  X(batch_normalization)           \
  X(cast)                          \
  X(div)                           \
  X(global_max_pool)               \
  X(hard_sigmoid)                  \
  X(sqrt)                          \
  X(reciprocal)                    \
  X(reduce_l2)                     \
  X(gru)                           \
  X(lstm)                          \
  X(split)                         \
  X(quantize_linear)               \
  X(dequantize_linear)

namespace neutron {

#define NEUTRON_DECLARE(name) OpSupport name##_support();
NEUTRON_OP_SUPPORT_LIST(NEUTRON_DECLARE)
#undef NEUTRON_DECLARE

const std::vector<OpSupport>& op_support_table() {
  static const std::vector<OpSupport> kTable = {
#define NEUTRON_ENTRY(name) name##_support(),
      NEUTRON_OP_SUPPORT_LIST(NEUTRON_ENTRY)
#undef NEUTRON_ENTRY
  };
  return kTable;
}

const OpSupport* find_op_support(OpKind kind) {
  static const std::vector<const OpSupport*> kByKind = [] {
    std::vector<const OpSupport*> v(size_t(OpKind::kCount), nullptr);
    for (const OpSupport& s : op_support_table())
      if (!v[size_t(s.kind)]) v[size_t(s.kind)] = &s;
    return v;
  }();
  return size_t(kind) < kByKind.size() ? kByKind[size_t(kind)] : nullptr;
}

Rule int8_io_rule(QuantInputs which) {
  return Rule{
      "quant.int8_io",
      [which](const NeutronTarget&) {
        return std::string("only int8-quantized ops are delegated: ") +
               (which == QuantInputs::kAll ? "every input"
                                           : which == QuantInputs::kFirst ? "the data input"
                                                                          : "every input but the bool condition") +
               " and the output must be int8 with per-tensor quantization parameters (float and uint8 ops stay on "
               "the CPU)";
      },
      [which](const RuleInput& in) {
        const Node& n = in.node();
        const size_t count = which == QuantInputs::kFirst ? std::min<size_t>(1, n.inputs.size()) : n.inputs.size();
        for (size_t i = 0; i < count; ++i) {
          const Tensor* t = in.input(i);
          if (!t || (which == QuantInputs::kAllButCondition && t->dtype == DType::Bool)) continue;
          if (!rules::is_int8_activation(*t))
            return Verdict::fail(str_cat("input ", i, " ", rules::named(*t)));
        }
        for (size_t i = 0; i < n.outputs.size(); ++i)
          if (!rules::is_int8_activation(in.output(i)))
            return Verdict::fail(str_cat("output ", rules::named(in.output(i))));
        return Verdict::pass();
      }};
}

std::optional<RuleRecord> check_node_support(const Graph& g, NodeId id, const NeutronTarget& target) {
  const Node& n = g.node(id);
  const OpSupport* s = find_op_support(n.kind);
  if (!s)
    return RuleRecord{"op.no_rules", str_cat("no support rules exist for ", op_kind_name(n.kind)), ""};
  const RuleInput in{g, id, target};
  if (!s->delegable) {
    const Rule& r = s->rules.front();
    return RuleRecord{r.name, r.reason(target), r.check(in).detail};
  }
  const Rule common = int8_io_rule(s->quant_inputs);
  Verdict v = common.check(in);
  if (!v.ok) return RuleRecord{common.name, common.reason(target), v.detail};
  for (const Rule& r : s->rules) {
    v = r.check(in);
    if (!v.ok) return RuleRecord{r.name, r.reason(target), v.detail};
  }
  return std::nullopt;
}

bool is_noop_on_neutron(const Graph& g, NodeId id) {
  const OpSupport* s = find_op_support(g.node(id).kind);
  return s && s->is_noop && s->is_noop(g, id);
}

}  // namespace neutron
