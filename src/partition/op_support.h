// Which nodes the Neutron NPU can run, and why the others cannot: one support entry per IR op,
// each a list of small named rules.
//
// A rule is a name ("conv.weight_volume"), a reason (the user-facing rule, its limits filled from
// the target: "kH * kW * round_up(Cin/group, 8) must be <= 65535") and a predicate returning a
// Verdict whose detail states this node's values ("kernel 3x3, Cin 7281: 9 * 7288 = 65592").
// Rules never print; the partitioner turns a failing rule into a RuleRecord, and the same table
// feeds the compile report and `neutron supported-ops` (docs/supported-ops.md).
//
// The rules are those of ExecuTorch's NXP backend (facts §2.1, §2.2), applied to our IR: an op is
// int8-quantized when its data tensors are int8 with Tensor::quant (after fold-qdq); weights are
// int8 constants, biases int32 constants; spatial ops are NCHW (the partitioner runs before
// layout-nhwc). Each op's rules live in one file under rules/; adding an op is that file plus one
// line in the registry list (op_support.cc).
//
// Evaluation order for a node: the registry entry (none, or not delegable => rejected), the entry's
// before_quant rules, the common quantization rule ("quant.int8_io"), then its other rules in order; the first failing rule is
// the node's rejection. Context rules (a node's partition: "alone in its partition") are
// evaluated by the partitioner on a proposed partitioning.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "target/target.h"

namespace neutron {

// Why a node stays on the CPU: the rule, its reason, and this node's values.
struct RuleRecord {
  std::string rule;    // "conv.stride"
  std::string reason;  // "stride must be <= 4096 per axis"
  std::string detail;  // "stride 4097x1"
};

struct Verdict {
  bool ok = true;
  std::string detail;  // set when failing (and optionally when passing)
  static Verdict pass() { return Verdict{}; }
  static Verdict fail(std::string d) { return Verdict{false, std::move(d)}; }
};

// What a rule sees.
struct RuleInput {
  const Graph& g;
  NodeId id;
  const NeutronTarget& target;
  const Node& node() const { return g.node(id); }
  // Input i, or null when absent.
  const Tensor* input(size_t i) const {
    const TensorId t = g.node(id).input(i);
    return t == kNoTensor ? nullptr : &g.tensor(t);
  }
  const Tensor& output(size_t i = 0) const { return g.tensor(g.node(id).outputs[i]); }
};

// A proposed partitioning, for context rules.
struct PartitionContext {
  const Graph& g;
  const std::vector<int>& partition_of;          // per NodeId; -1 = CPU
  const std::vector<std::vector<NodeId>>& members;  // per partition id
  int partition(NodeId id) const { return partition_of[size_t(id)]; }
  // The node is the only node of its partition (upstream: "alone in partition", ignoring Q/DQ).
  bool alone(NodeId id) const { return partition(id) >= 0 && members[size_t(partition(id))].size() == 1; }
};

using ReasonFn = std::function<std::string(const NeutronTarget&)>;

struct Rule {
  std::string name;
  ReasonFn reason;
  std::function<Verdict(const RuleInput&)> check;
  // Checked before "quant.int8_io": a property of the node for which the quantizer keeps it in
  // float (LSTM peepholes), so that the report names it rather than the float tensors.
  bool before_quant = false;
};

struct ContextRule {
  std::string name;
  ReasonFn reason;
  std::function<Verdict(const RuleInput&, const PartitionContext&)> check;
};

// Which inputs the common rule "quant.int8_io" requires to be int8 activations (per-tensor).
// Weights and biases are checked by the op's own rules.
// kAllButCondition: every input but a bool condition (Where).
enum class QuantInputs { kAll, kFirst, kAllButCondition };

struct OpSupport {
  OpKind kind{};
  std::string upstream;    // upstream edge op(s) this corresponds to: "aten.convolution.default"
  std::string neutron_op;  // what upstream's converter emits (LiteRT ops): "CONV_2D, DEPTHWISE_CONV_2D"
  bool delegable = true;   // false: never delegated; rules[0] says why
  QuantInputs quant_inputs = QuantInputs::kAll;
  std::vector<Rule> rules;
  std::vector<ContextRule> context_rules;
  // True when the node is a no-op on Neutron (a partition of only no-ops is not emitted), and
  // when that is, in words, for the document.
  std::function<bool(const Graph&, NodeId)> is_noop;
  std::string noop_when;
  std::vector<std::string> notes;  // facts for the supported-ops document that are not rules
};

// The registry: one entry per op kind, in the order of the registry list.
const std::vector<OpSupport>& op_support_table();
const OpSupport* find_op_support(OpKind kind);

// The common rule every delegable entry starts with.
Rule int8_io_rule(QuantInputs which);
// The common last rule of every delegable op: its kernel calls pass the NPU's payload check.
Rule npu_payload_rule();

// Node-level rules for `id`: the first failing rule, or nullopt when the node can be delegated
// (subject to the context rules).
std::optional<RuleRecord> check_node_support(const Graph& g, NodeId id, const NeutronTarget& target);

// Whether the node is a no-op on Neutron (the entry's predicate; false without one).
bool is_noop_on_neutron(const Graph& g, NodeId id);

}  // namespace neutron
