// Pooling (facts §2.2 rows 2, 7, 19):
//   MaxPool            -> aten.max_pool2d(_with_indices): MAX_POOL_2D (padding: a PAD of -128 before)
//   AveragePool        -> aten.avg_pool2d: AVERAGE_POOL_2D (padding: a PAD of the zero point before)
//   GlobalAveragePool  -> aten.adaptive_avg_pool2d to 1x1: AVERAGE_POOL_2D with kernel = stride = H x W
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

const char* const kPool3dNote =
    "3-D pools import as two 2-D pools on channels-last views, over (H, W) of [N*D, H, W, C] and with window (kD, 1) "
    "over (D, H'*W') of [N, D, H'*W', C] (the window is a box, so max, sum and count factor per axis); each is judged "
    "by these rules (ceil_mode is dropped on an axis pair where it adds no window).";

Rule ceil_mode_rule(const std::string& name) {
  return Rule{name, [](const NeutronTarget&) { return std::string("ceil_mode must be 0"); },
              [](const RuleInput& in) {
                return in.node().attrs.get_int("ceil_mode", 0) == 0 ? Verdict::pass() : Verdict::fail("ceil_mode 1");
              }};
}

}  // namespace

OpSupport max_pool_support() {
  OpSupport s;
  s.kind = OpKind::MaxPool;
  s.upstream = "aten.max_pool2d_with_indices.default, aten.max_pool2d.default";
  s.neutron_op = "MAX_POOL_2D (explicit padding becomes a PAD with -128 before it)";
  s.rules = {
      shared_qparams_rule(),
      Rule{"max_pool.dilation", [](const NeutronTarget&) { return std::string("dilation must be 1"); },
           [](const RuleInput& in) {
             const auto d = attr_pair(in.node(), "dilations", 1);
             return d[0] == 1 && d[1] == 1 ? Verdict::pass() : Verdict::fail("dilation " + dims_str(d));
           }},
      ceil_mode_rule("max_pool.ceil_mode"),
      stride_limit_rule("max_pool.stride"),
  };
  s.notes = {
      "Neutron allows stride 4096 without padding but only 32 with in-op padding; the converter always emits a "
      "separate PAD, so only the 4096 limit applies. The indices output of max_pool2d_with_indices must be unused "
      "(our MaxPool has no indices output).",
      "1-D pools (max_pool1d, avg_pool1d upstream) import as Reshape, 2-D pool with H = 1, Reshape, like upstream's "
      "unsqueeze -> 2-D pool -> squeeze.",
      kPool3dNote,
      kFusedActivationNote,
  };
  return s;
}

OpSupport average_pool_support() {
  OpSupport s;
  s.kind = OpKind::AveragePool;
  s.upstream = "aten.avg_pool2d.default";
  s.neutron_op = "AVERAGE_POOL_2D (explicit padding becomes a PAD of the zero point before it)";
  s.rules = {
      shared_qparams_rule(),
      ceil_mode_rule("average_pool.ceil_mode"),
      Rule{"average_pool.count_include_pad",
           [](const NeutronTarget&) {
             return std::string("with padding, the padded elements must count in the average (count_include_pad = 1)");
           },
           [](const RuleInput& in) {
             const auto p = attr_pads(in.node());
             const bool padded = p[0] || p[1] || p[2] || p[3];
             if (!padded || in.node().attrs.get_int("count_include_pad", 0) != 0) return Verdict::pass();
             return Verdict::fail("count_include_pad 0 with pads " + dims_str(p));
           }},
      kernel_limit_rule("average_pool.kernel_size"),
      stride_limit_rule("average_pool.stride"),
  };
  s.notes = {"Upstream also rejects divisor_override, which ONNX cannot express.", kPool3dNote, kFusedActivationNote};
  return s;
}

OpSupport global_average_pool_support() {
  OpSupport s;
  s.kind = OpKind::GlobalAveragePool;
  s.upstream = "aten._adaptive_avg_pool2d.default (output 1x1)";
  s.neutron_op = "AVERAGE_POOL_2D, padding VALID, kernel = stride = H x W";
  s.rules = {
      shared_qparams_rule(),
      Rule{"global_average_pool.size",
           [](const NeutronTarget& t) {
             return str_cat("H and W (the kernel and stride of the equivalent pool) must be <= ",
                            std::min(t.max_kernel_size, t.max_stride));
           },
           [](const RuleInput& in) {
             const Tensor* x = in.input(0);
             if (!x || x->shape.size() != 4) return Verdict::fail("input is not 4-D");
             const int64_t lim = std::min(in.target.max_kernel_size, in.target.max_stride);
             if (x->shape[2] <= lim && x->shape[3] <= lim) return Verdict::pass();
             return Verdict::fail(str_cat("H x W ", x->shape[2], "x", x->shape[3]));
           }},
  };
  s.notes = {
      "torch exports adaptive_avg_pool2d to other output sizes as AveragePool (when H and W divide evenly, which is "
      "also upstream's condition), covered by the AveragePool rules.",
      kFusedActivationNote,
  };
  return s;
}

}  // namespace neutron
