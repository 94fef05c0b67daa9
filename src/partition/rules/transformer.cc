// The ops transformer exports add (issue 15). Gelu, Erf and Pow run as the int8 256-entry table
// kernel like every unary activation; LayerNormalization over the last axis has its own kernel
// (kernels/layer_norm_int8.h, opcode layer_norm). Gather, Where and Expand are not delegated yet.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

OpSupport table_entry(OpKind kind, const char* upstream) {
  OpSupport s;
  s.kind = kind;
  s.upstream = upstream;
  s.neutron_op = "a 256-entry int8 lookup table (this project's table kernel)";
  return s;
}

}  // namespace

OpSupport erf_support() { return table_entry(OpKind::Erf, "aten.erf.default"); }

OpSupport gelu_support() {
  OpSupport s = table_entry(OpKind::Gelu, "aten.gelu.default");
  s.notes = {"PyTorch's decomposed GELU (Div, Erf, Add, Mul, Mul; or the tanh form) is fused into one Gelu on "
             "import, so it is one table instead of five int8 ops."};
  return s;
}

OpSupport pow_support() { return table_entry(OpKind::Pow, "aten.pow.Tensor_Scalar"); }

OpSupport layer_normalization_support() {
  OpSupport s;
  s.kind = OpKind::LayerNormalization;
  s.upstream = "aten.layer_norm.default";
  s.neutron_op = "this project's layer_norm kernel (integer sums, per-element scale and shift)";
  s.rules = {Rule{"layer_norm.last_axis",
                  [](const NeutronTarget&) {
                    return std::string("the normalization must be over the last axis only, with at most 65536 "
                                       "elements, and Scale and B constant");
                  },
                  [](const RuleInput& in) {
                    const Tensor* x = in.input(0);
                    if (!x || x->shape.empty()) return Verdict::fail("no input");
                    const int axis = normalize_axis(in.node().attrs.get_int("axis", -1), x->shape.size());
                    if (axis != int(x->shape.size()) - 1 || x->shape.back() > 65536)
                      return Verdict::fail(str_cat("axis ", axis, " of ", shape_str(x->shape)));
                    for (size_t i = 1; i < 3; ++i) {
                      const Tensor* p = in.input(i);
                      if (p && !p->is_constant()) return Verdict::fail(str_cat("input ", i, " is not constant"));
                    }
                    return Verdict::pass();
                  }}};
  s.quant_inputs = QuantInputs::kFirst;  // Scale and B are weights
  s.notes = {"PyTorch's opset-13 form (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) is fused into "
             "one LayerNormalization on import."};
  return s;
}

OpSupport expand_support() {
  return not_delegated(OpKind::Expand, "expand.not_yet",
                       "Expand (broadcast copy) is not delegated yet; it runs on the CPU as the expand kernel call "
                       "(int8 or float)");
}

OpSupport gather_support() {
  // Placement decision: upstream has no Neutron converter for GATHER (the facts list it only in
  // LiteRT's shared-q-params check), and a lookup moves bytes without MACs, so it stays a CPU
  // kernel call that checks the token ids against the table.
  return not_delegated(OpKind::Gather, "gather.cpu",
                       "Gather with run-time indices (embedding lookups) runs on the CPU as the gather kernel call "
                       "(token ids checked against the table at run time): upstream Neutron has no GATHER converter "
                       "and a lookup has no MACs; a constant index imports as Slice + Reshape, which are delegated");
}

OpSupport where_support() {
  OpSupport s;
  s.kind = OpKind::Where;
  s.upstream = "aten.masked_fill.Scalar, aten.where.self";
  s.neutron_op = "this project's masked_fill kernel (a constant byte mask, one fill value)";
  s.quant_inputs = QuantInputs::kAllButCondition;
  s.rules = {Rule{"where.masked_fill",
                  [](const NeutronTarget&) {
                    return std::string("the condition must be a constant (a causal or padding mask), one of X and Y a "
                                       "constant scalar (the fill) and the other have the output's shape; X, Y and the output share "
                                       "quantization parameters");
                  },
                  [](const RuleInput& in) {
                    const Tensor* c = in.input(0);
                    const Tensor* x = in.input(1);
                    const Tensor* y = in.input(2);
                    if (!c || !x || !y || !c->is_constant()) return Verdict::fail("the condition is computed at run time");
                    const bool xs = x->is_constant() && num_elements(x->shape) == 1;
                    const bool ys = y->is_constant() && num_elements(y->shape) == 1;
                    const Tensor* data = xs ? y : x;
                    if (!(xs || ys) || data->shape != in.output().shape)
                      return Verdict::fail(str_cat("X ", shape_str(x->shape), ", Y ", shape_str(y->shape)));
                    if (!(x->quant == in.output().quant && x->dtype == in.output().dtype) || !(y->quant == in.output().quant && y->dtype == in.output().dtype))
                      return Verdict::fail(str_cat("X ", qparams_of(*x), ", Y ", qparams_of(*y), ", output ",
                                                   qparams_of(in.output())));
                    return Verdict::pass();
                  }}};
  s.notes = {"The quantizer turns masked_fill's -inf into the lowest value of the scores' parameters, whose range "
             "reaches 12 below their maximum, so the Softmax after it gives masked positions ~0."};
  return s;
}

}  // namespace neutron
