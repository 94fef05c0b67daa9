#include "partition/op_support.h"

#include <algorithm>

#include "core/aligned_buffer.h"
#include "kernel_calls/kernel_calls.h"
#include "lowering/lowering.h"
#include "npu/microcode_reader.h"
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
  /* recurrent (rules/recurrent.cc) */ \
  X(gru)                           \
  X(lstm)                          \
  /* never delegated (with the reason) */ \
  X(batch_normalization)           \
  X(cast)                          \
  X(div)                           \
  X(pow_tensor)                    \
  X(global_max_pool)               \
  X(hard_sigmoid)                  \
  X(sqrt)                          \
  X(reciprocal)                    \
  X(reduce_l2)                     \
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

// One predicate with the compiler and the NPU: the node's kernel calls, as the lowering makes them,
// must pass the checks the NPU runs on a payload at load (kernel_calls::Limits::kNpu). A node the
// rules accept but whose payload the NPU would refuse (a max pool wider than 4096, a 5-D tensor
// the lowering cannot fold to 4-D) stays on the CPU, where its kernel calls are checked against
// the CPU kernels' own limits. Weights stay zero (check_only): only shapes and geometry count.
Rule npu_payload_rule() {
  return Rule{"npu.payload",
              [](const NeutronTarget&) {
                return std::string("the lowering must turn the op into kernel calls within the NPU's limits (kernel, "
                                   "stride, dilation and padding <= 4096; a tensor of rank above 4 only where the op "
                                   "folds it to 4 dimensions)");
              },
              [](const RuleInput& in) {
                lowering::KernelProgram p;
                lowering::LowerOptions o;
                o.check_only = true;
                o.conv_transpose_depthwise_phases = false;  // as compiler.cc lowers NPU partitions
                Status st = lowering::lower_node(in.g, in.id, o, &p);
                if (st.ok()) st = lowering::place_for_cpu(p);
                if (!st.ok()) return Verdict::fail(st.message());
                npu::MicrocodeView mc;
                const npu::ValidationResult v = npu::validate_microcode(p.microcode.data(), p.microcode.size(),
                                                                        p.weights.size(), &mc);
                if (!v.ok()) return Verdict::fail(str_cat("kernel calls do not validate: ", v.message));
                // The executor wants a 16-byte aligned weights section: the vector's own when malloc
                // aligned it (it does on the hosts we build for), else a copy.
                const uint8_t* wsec = p.weights.data();
                AlignedBuffer copy;
                if (reinterpret_cast<uintptr_t>(wsec) % npu::kAlignment != 0) {
                  copy.resize(p.weights.size());
                  std::memcpy(copy.data(), p.weights.data(), p.weights.size());
                  wsec = copy.data();
                }
                size_t bytes = 0;
                const kernel_calls::CallStatus cs =
                    kernel_calls::Executor::required_memory(mc, wsec, &bytes, kernel_calls::Limits::kNpu);
                if (!cs.ok()) return Verdict::fail(str_cat("the NPU refuses its kernel calls: ", cs.message));
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
  Verdict v;
  for (const Rule& r : s->rules) {
    if (!r.before_quant) continue;
    v = r.check(in);
    if (!v.ok) return RuleRecord{r.name, r.reason(target), v.detail};
  }
  const Rule common = int8_io_rule(s->quant_inputs);
  v = common.check(in);
  if (!v.ok) return RuleRecord{common.name, common.reason(target), v.detail};
  for (const Rule& r : s->rules) {
    if (r.before_quant) continue;
    v = r.check(in);
    if (!v.ok) return RuleRecord{r.name, r.reason(target), v.detail};
  }
  // Only ops that become kernel calls of their own (not Q/DQ, which the partition boundary absorbs).
  if (n.kind != OpKind::QuantizeLinear && n.kind != OpKind::DequantizeLinear) {
    static const Rule payload = npu_payload_rule();
    v = payload.check(in);
    if (!v.ok) return RuleRecord{payload.name, payload.reason(target), v.detail};
  }
  return std::nullopt;
}

bool is_noop_on_neutron(const Graph& g, NodeId id) {
  const OpSupport* s = find_op_support(g.node(id).kind);
  return s && s->is_noop && s->is_noop(g, id);
}

}  // namespace neutron
