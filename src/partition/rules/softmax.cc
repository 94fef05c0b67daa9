// Softmax -> aten._softmax.default: SOFTMAX(beta = 1) (facts §2.2 row 33). The channel limit and
// the total-size limit derive from the datapath (NeutronTarget::softmax_max_channels/_elements).
#include <cmath>

#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

// The softmax axis, normalized (-1 when out of range).
int softmax_axis(const RuleInput& in) {
  const Shape& x = in.input(0)->shape;
  const int64_t r = int64_t(x.size());
  int64_t axis = in.node().attrs.get_int("axis", r - 1);
  if (axis < 0) axis += r;
  return axis >= 0 && axis < r ? int(axis) : -1;
}

// Upstream's "channel dim" is the last dim of a tensor in its channels-last layout: dim 1 of an
// NCHW tensor fed by a conv or pool (format inference marks it channels-first), the last dim
// otherwise. Our partitioner does not infer formats, and the lowering runs either (the last axis
// directly, axis 1 with a transpose around the kernel), so both are accepted: the limits below
// are upstream's, counted with C = the softmax axis.
bool axis_ok(const Shape& x, int axis) {
  return axis >= 0 && (axis == int(x.size()) - 1 || (x.size() == 4 && axis == 1));
}

int64_t channels(const RuleInput& in) {
  const int axis = softmax_axis(in);
  return axis < 0 ? 1 : in.input(0)->shape[size_t(axis)];
}

}  // namespace

OpSupport lp_normalization_support() {
  OpSupport s;
  s.kind = OpKind::LpNormalization;
  s.upstream = "aten.linalg_vector_norm + div (F.normalize; fuse-l2-normalize makes one op)";
  s.neutron_op = "L2_NORMALIZATION (the l2_norm kernel: sum of squares in int64, one division per element)";
  s.rules = {fixed_output_qparams_rule("lp_normalization.output_qparams", 1.0 / 128, 0)};
  s.notes = {"Any axis: the input is viewed [outer, n, inner] and normalized along n."};
  return s;
}

OpSupport softmax_support() {
  OpSupport s;
  s.kind = OpKind::Softmax;
  s.upstream = "aten._softmax.default";
  s.neutron_op = "SOFTMAX (runs as Pad + Softmax + Slice kernels)";
  s.rules = {
      Rule{"softmax.output_qparams",
           [](const NeutronTarget&) {
             return std::string("the output must be quantized with scale 1/256, zero point -128; or, feeding a "
                                "BATCH_MATMUL (attention), with scale 255/32512 and zero point 0 (the quantizer's "
                                "choice: the same largest value with the zero point BATCH_MATMUL needs)");
           },
           [](const RuleInput& in) {
             const Tensor& y = in.output();
             const bool ok = is_int8_activation(y) &&
                             ((y.quant.zero_point[0] == -128 && std::fabs(double(y.quant.scale[0]) * 256 - 1) <= 1e-6) ||
                              (y.quant.zero_point[0] == 0 &&
                               std::fabs(double(y.quant.scale[0]) * 32512 / 255 - 1) <= 1e-6));
             return ok ? Verdict::pass() : Verdict::fail("output " + qparams_of(y));
           }},
      Rule{"softmax.axis",
           [](const NeutronTarget&) {
             return std::string(
                 "the softmax axis must be a channel dim: the last dim, or dim 1 of a 4-D NCHW tensor (upstream: the "
                 "last dim of a formatless tensor, dim 1 after a conv or pool; we lower both layouts)");
           },
           [](const RuleInput& in) {
             const Shape& x = in.input(0)->shape;
             if (axis_ok(x, softmax_axis(in))) return Verdict::pass();
             return Verdict::fail(str_cat("axis ", in.node().attrs.get_int("axis", -1), " of ", shape_str(x)));
           }},
      Rule{"softmax.channels",
           [](const NeutronTarget& t) {
             return str_cat("the channel count must be <= ", t.softmax_max_channels(), " (the largest multiple of num_macs = ",
                            t.num_macs, " below 4 * 4096 / num_pipes = ", 4 * 4096 / std::max(1, t.num_pipes), ")");
           },
           [](const RuleInput& in) {
             const Shape& x = in.input(0)->shape;
             const int64_t c = channels(in);
             if (c <= in.target.softmax_max_channels()) return Verdict::pass();
             return Verdict::fail(str_cat("C ", c, " in ", shape_str(x)));
           }},
      Rule{"softmax.spatial",
           [](const NeutronTarget& t) {
             return str_cat("the product of the non-channel dims (batch included) must be <= ", t.softmax_max_spatial);
           },
           [](const RuleInput& in) {
             const Shape& x = in.input(0)->shape;
             const int64_t spatial = num_elements(x) / std::max<int64_t>(1, channels(in));
             if (spatial <= in.target.softmax_max_spatial) return Verdict::pass();
             return Verdict::fail(str_cat("non-channel size ", spatial, " in ", shape_str(x)));
           }},
      Rule{"softmax.size",
           [](const NeutronTarget& t) {
             return str_cat("channels * non-channel size must be <= ", t.softmax_max_elements(), " (65536 * num_macs)");
           },
           [](const RuleInput& in) {
             const Shape& x = in.input(0)->shape;
             if (num_elements(x) <= in.target.softmax_max_elements()) return Verdict::pass();
             return Verdict::fail(str_cat(num_elements(x), " elements in ", shape_str(x)));
           }},
  };
  return s;
}

}  // namespace neutron
