// Elementwise unary ops and parametric activations (facts §2.2 rows 1, 15-18, 25, 28, 31, 36):
// each runs as one LiteRT op; upstream checks only int8 input and output, plus the fixed output
// parameters of Sigmoid and Tanh (quantization verification, facts §4.7) and PRelu's broadcast.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

OpSupport unary_entry(OpKind kind, const char* upstream, const char* neutron_op) {
  OpSupport s;
  s.kind = kind;
  s.upstream = upstream;
  s.neutron_op = neutron_op;
  return s;
}

}  // namespace

OpSupport abs_support() { return unary_entry(OpKind::Abs, "aten.abs.default", "ABS"); }
OpSupport exp_support() { return unary_entry(OpKind::Exp, "aten.exp.default", "EXP"); }
OpSupport log_support() { return unary_entry(OpKind::Log, "aten.log.default", "LOG"); }

OpSupport neg_support() {
  OpSupport s = unary_entry(OpKind::Neg, "aten.neg.default", "SUB (zero point - x)");
  s.notes = {"Emitted as a subtraction from a constant holding the zero point; needs per-tensor parameters."};
  return s;
}

OpSupport hard_swish_support() {
  OpSupport s = unary_entry(OpKind::HardSwish, "aten.hardswish.default", "HARD_SWISH");
  s.notes = {"Upstream delegates it only when hardswish is kept un-decomposed (preserve_ops)."};
  return s;
}

OpSupport leaky_relu_support() {
  OpSupport s = unary_entry(OpKind::LeakyRelu, "aten.leaky_relu.default", "LEAKY_RELU");
  s.notes = {"Not fused into a preceding convolution (upstream TODO); runs as its own op."};
  return s;
}

OpSupport prelu_support() {
  OpSupport s = unary_entry(OpKind::PRelu, "aten.prelu.default", "PRELU");
  s.rules = {broadcast_rule(),
             Rule{"prelu.slope",
                  [](const NeutronTarget&) {
                    return std::string("the slope must be a constant int8 tensor that varies along at most one axis "
                                       "(one lookup table per slope value)");
                  },
                  [](const RuleInput& in) {
                    const Tensor* s = in.input(1);
                    if (!s) return Verdict::fail("no slope");
                    if (s->dtype != DType::I8 || !s->is_constant() || !s->is_quantized())
                      return Verdict::fail(str_cat("slope ", named(*s), s->is_constant() ? "" : " (not constant)"));
                    int varying = 0;
                    for (int64_t d : s->shape) varying += d != 1;
                    if (varying <= 1) return Verdict::pass();
                    return Verdict::fail(str_cat("slope ", shape_str(s->shape)));
                  }}};
  s.notes = {"The slope is an int8 constant (quantized per tensor, symmetric); each slope value becomes a 256-entry "
             "table of the exact QDQ function (TABLE, or a per-channel table kernel for PyTorch's [C, 1, 1] slopes).",
             "Upstream delegates it only when prelu is kept un-decomposed (preserve_ops)."};
  return s;
}

OpSupport sigmoid_support() {
  OpSupport s = unary_entry(OpKind::Sigmoid, "aten.sigmoid.default", "LOGISTIC");
  s.rules = {fixed_output_qparams_rule("sigmoid.output_qparams", 1.0 / 256, -128)};
  return s;
}

OpSupport tanh_support() {
  OpSupport s = unary_entry(OpKind::Tanh, "aten.tanh.default", "TANH");
  s.rules = {fixed_output_qparams_rule("tanh.output_qparams", 1.0 / 128, 0)};
  return s;
}

}  // namespace neutron
