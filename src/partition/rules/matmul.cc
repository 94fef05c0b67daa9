// Matrix products (facts §2.2 rows 3, 8, 23):
//   Gemm                          -> aten.addmm / aten.mm (linear): FULLY_CONNECTED
//   MatMul with constant weights  -> aten.mm: FULLY_CONNECTED
//   MatMul of two runtime tensors -> aten.bmm: BATCH_MATMUL
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

OpSupport gemm_support() {
  OpSupport s;
  s.kind = OpKind::Gemm;
  s.upstream = "aten.addmm.default, aten.mm.default (linear)";
  s.neutron_op = "FULLY_CONNECTED (weights transposed statically)";
  s.quant_inputs = QuantInputs::kFirst;
  s.rules = {
      Rule{"gemm.alpha_beta",
           [](const NeutronTarget&) { return std::string("alpha and beta must be 1"); },
           [](const RuleInput& in) {
             const double alpha = in.node().attrs.get_float("alpha", 1.0);
             const double beta = in.node().attrs.get_float("beta", 1.0);
             if (alpha == 1.0 && (beta == 1.0 || !in.input(2))) return Verdict::pass();
             return Verdict::fail(str_cat("alpha ", alpha, ", beta ", beta));
           }},
      Rule{"gemm.trans_a",
           [](const NeutronTarget&) {
             return std::string("transA must be 0 (FULLY_CONNECTED reads its input untransposed)");
           },
           [](const RuleInput& in) {
             return in.node().attrs.get_int("transA", 0) == 0 ? Verdict::pass() : Verdict::fail("transA 1");
           }},
      Rule{"gemm.weights",
           [](const NeutronTarget&) {
             return std::string(
                 "the weight matrix B must be a constant int8 tensor, quantized per tensor or per output column");
           },
           [](const RuleInput& in) {
             const Tensor* b = in.input(1);
             const int out_axis = in.node().attrs.get_int("transB", 0) ? 0 : 1;
             if (b && is_int8_weight(*b, out_axis)) return Verdict::pass();
             if (!b) return Verdict::fail("no weights");
             return Verdict::fail(str_cat("B ", named(*b), b->is_constant() ? "" : " (not constant)"));
           }},
      Rule{"gemm.bias",
           [](const NeutronTarget&) {
             return std::string("the bias C, if present, must be a constant int32 tensor of shape [N] or [1, N]");
           },
           [](const RuleInput& in) {
             const Tensor* c = in.input(2);
             if (!c) return Verdict::pass();
             const Shape& y = in.output().shape;
             const int64_t n = y.size() == 2 ? y[1] : -1;
             const bool shape_ok = (c->shape.size() == 1 && c->shape[0] == n) ||
                                   (c->shape.size() == 2 && c->shape[0] == 1 && c->shape[1] == n);
             if (is_int32_bias(*c) && shape_ok) return Verdict::pass();
             return Verdict::fail(str_cat("C ", named(*c), c->is_constant() ? "" : " (not constant)"));
           }},
  };
  s.notes = {
      "Upstream quantizes fully-connected weights per tensor (symmetric int8); the bias is int32 with scale "
      "s_in * s_w and zero point 0.",
      "Upstream refuses addmm with a bias of shape [1] or [M, N]; the gemm-bias pass turns the first into the same "
      "[N] vector and the second into an Add after the Gemm (an elementwise ADD), so both are delegated, bit-exact: "
      "the limit is the converter's mapping, not the hardware's.",
      kFusedActivationNote,
  };
  return s;
}

OpSupport matmul_support() {
  OpSupport s;
  s.kind = OpKind::MatMul;
  s.upstream = "aten.mm.default (constant B), aten.bmm.default (runtime B)";
  s.neutron_op = "FULLY_CONNECTED (constant B), BATCH_MATMUL (runtime B)";
  s.quant_inputs = QuantInputs::kFirst;
  s.rules = {
      Rule{"matmul.rhs",
           [](const NeutronTarget&) {
             return std::string(
                 "B must be a constant 2-D int8 matrix (quantized per tensor or per output column), or a runtime int8 "
                 "tensor with per-tensor quantization");
           },
           [](const RuleInput& in) {
             const Tensor* b = in.input(1);
             if (!b) return Verdict::fail("no B");
             if (b->is_constant() ? (b->shape.size() == 2 && is_int8_weight(*b, 1)) : is_int8_activation(*b))
               return Verdict::pass();
             return Verdict::fail(str_cat("B ", named(*b), b->is_constant() ? " (constant)" : ""));
           }},
      Rule{"matmul.bmm_rank",
           [](const NeutronTarget&) {
             return std::string("with a runtime B (BATCH_MATMUL) both inputs must be 3-D with the same batch size");
           },
           [](const RuleInput& in) {
             const Tensor* a = in.input(0);
             const Tensor* b = in.input(1);
             if (!a || !b || b->is_constant()) return Verdict::pass();
             if (a->shape.size() == 3 && b->shape.size() == 3 && a->shape[0] == b->shape[0]) return Verdict::pass();
             return Verdict::fail(str_cat("A ", shape_str(a->shape), ", B ", shape_str(b->shape)));
           }},
      Rule{"matmul.bmm_zero_points",
           [](const NeutronTarget&) {
             return std::string("with a runtime B (BATCH_MATMUL) both inputs must have zero point 0");
           },
           [](const RuleInput& in) {
             const Tensor* a = in.input(0);
             const Tensor* b = in.input(1);
             if (!a || !b || b->is_constant()) return Verdict::pass();
             if (a->quant.zero_point[0] == 0 && b->quant.zero_point[0] == 0) return Verdict::pass();
             return Verdict::fail(str_cat("A ", qparams_of(*a), ", B ", qparams_of(*b)));
           }},
  };
  s.notes = {
      "A constant B with an A of rank > 2 corresponds to upstream's linear on a batched input (view_copy, mm, "
      "view_copy; the reshapes are delegated with it).",
      "Upstream quantizes both BATCH_MATMUL inputs symmetric per tensor (zero point 0), a Neutron requirement.",
      kFusedActivationNote,
  };
  return s;
}

}  // namespace neutron
