// Elementwise binary ops (facts §2.2 rows 4, 20, 22, 24, 34): Add -> aten.add.Tensor (ADD),
// Sub -> aten.sub.Tensor (SUB), Mul -> aten.mul.Tensor (MUL), Max -> aten.maximum (MAXIMUM),
// Min -> aten.minimum (MINIMUM), Div (run-time divisor, see div_support). ONNX has no alpha, so
// upstream's "alpha = 1" always holds.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

// The constant operand `c` holds only the real value `v` (exactly, after dequantization).
bool constant_equals(const Tensor& c, double v) {
  if (!c.is_constant() || c.dtype != DType::I8 || !c.is_quantized() || c.quant.per_axis()) return false;
  const double s = c.quant.scale[0];
  const int32_t zp = c.quant.zero_point[0];
  const int8_t* q = c.data->data<int8_t>();
  for (int64_t i = 0; i < c.data->count(); ++i)
    if (s * double(int32_t(q[i]) - zp) != v) return false;
  return true;
}

// x (op) c == x bit for bit: c is the identity element and x already has the output's shape and
// q-params. `either_side`: the constant may be the first operand (Add, Mul) or only the second (Sub).
bool identity_operand_noop(const Graph& g, NodeId id, double identity, bool either_side) {
  const Node& n = g.node(id);
  if (n.inputs.size() != 2 || n.outputs.size() != 1 || n.attrs.has("act_min") || n.attrs.has("act_max")) return false;
  const Tensor& y = g.tensor(n.outputs[0]);
  for (int side = 0; side < 2; ++side) {
    if (side == 0 && !either_side) continue;
    const Tensor& c = g.tensor(n.inputs[size_t(side)]);
    const Tensor& x = g.tensor(n.inputs[size_t(1 - side)]);
    if (constant_equals(c, identity) && x.shape == y.shape && x.quant == y.quant && x.dtype == y.dtype) return true;
  }
  return false;
}

// Why add/sub with alpha differ from upstream.
const char* const kAlphaNote =
    "Upstream refuses add/sub with alpha != 1 (its converter maps only alpha = 1). ONNX has no alpha: PyTorch exports "
    "add(x, y, alpha=a) as Add(x, Mul(y, a)), two ops that are each delegated, bit-exact; so such a model is "
    "delegated here where upstream keeps it on the CPU.";

OpSupport arithmetic_entry(OpKind kind, const char* upstream, const char* neutron_op) {
  OpSupport s;
  s.kind = kind;
  s.upstream = upstream;
  s.neutron_op = neutron_op;
  s.rules = {broadcast_rule()};
  s.notes = {"The converter inserts reshapes/transposes when channels-last tensors are broadcast.",
             kFusedActivationNote};
  return s;
}

OpSupport max_min_entry(OpKind kind, const char* upstream, const char* neutron_op) {
  OpSupport s;
  s.kind = kind;
  s.upstream = upstream;
  s.neutron_op = neutron_op;
  s.rules = {
      Rule{"max_min.shared_qparams",
           [](const NeutronTarget&) {
             return std::string("all inputs and the output must have identical quantization parameters");
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
      broadcast_rule(),
  };
  s.notes = {kFusedActivationNote};
  return s;
}

}  // namespace

OpSupport add_support() {
  OpSupport s = arithmetic_entry(OpKind::Add, "aten.add.Tensor", "ADD");
  s.is_noop = [](const Graph& g, NodeId id) { return identity_operand_noop(g, id, 0.0, true); };
  s.noop_when = "one operand is a constant 0 and the other already has the output's shape and q-params";
  s.notes.push_back(kAlphaNote);
  return s;
}

OpSupport sub_support() {
  OpSupport s = arithmetic_entry(OpKind::Sub, "aten.sub.Tensor", "SUB");
  s.is_noop = [](const Graph& g, NodeId id) { return identity_operand_noop(g, id, 0.0, false); };
  s.noop_when = "B is a constant 0 and A already has the output's shape and q-params";
  s.notes.push_back(kAlphaNote);
  return s;
}

OpSupport mul_support() {
  OpSupport s = arithmetic_entry(OpKind::Mul, "aten.mul.Tensor", "MUL");
  s.is_noop = [](const Graph& g, NodeId id) { return identity_operand_noop(g, id, 1.0, true); };
  s.noop_when = "one operand is a constant 1 and the other already has the output's shape and q-params";
  s.notes.push_back("Upstream's quantizer gives both Mul inputs the fixed parameters (1/256, 0); the converter "
                    "does not require it.");
  return s;
}

// Div by a run-time tensor (a constant divisor became a Mul in div-to-mul). Upstream's current
// flow has no converter for it (it rewrites constant divisors to mul); the old flow's rules list
// Mul/Div together (facts §2.5), so the datapath divides. Delegated with Mul's rule, as the int8
// `div` kernel call (exact integer division, the same call the CPU runs).
OpSupport div_support() {
  OpSupport s = arithmetic_entry(OpKind::Div, "aten.div.Tensor (constant divisor: rewritten to mul)", "DIV");
  s.notes.push_back(
      "Deviation from upstream: its current converter has no run-time Div (the op stays on the CPU there); the "
      "old-flow rules (Mul/Div: some output dim % 8 = 0, no broadcasting) show a DIV kernel. Here an int8 Div runs "
      "on the NPU as the `div` kernel call (exact integer division, bit-exact with the CPU); its timing-model "
      "cost is an assumption (docs/npu-model.md).");
  return s;
}

OpSupport max_support() { return max_min_entry(OpKind::Max, "aten.maximum.default", "MAXIMUM"); }
OpSupport min_support() { return max_min_entry(OpKind::Min, "aten.minimum.default", "MINIMUM"); }

}  // namespace neutron
