// The convolution family, upstream aten.convolution.default (facts §2.2 row 14):
//   Conv           -> CONV_2D, or DEPTHWISE_CONV_2D when group = Cin = Cout
//   ConvTranspose  -> TRANSPOSE_CONV
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

// kH * kW * round_up(Cin, num_macs), with the input channels blocked by the datapath's MAC count.
// `cin_axis`: the weight dim holding the input channels (ConvTranspose: 0); -1: the input tensor's
// channel dim (Conv). For a depthwise Conv that counts all input channels, not the one each output
// channel reads: upstream's converter checks exactly this (Neutron's documented CONV constraint),
// and without a fact that DEPTHWISE_CONV_2D is exempt we do not delegate more than it does.
Rule weight_volume_rule(const std::string& name, int cin_axis) {
  return Rule{name,
              [cin_axis](const NeutronTarget& t) {
                return str_cat("kH * kW * round_up(Cin, ", t.num_macs, ") must be <= ", t.max_conv_weight_volume,
                               " (input channels are blocked by num_macs = ", t.num_macs, ")",
                               cin_axis < 0 ? "; Cin is the input's channel count, for depthwise convolutions too, as "
                                              "upstream counts it"
                                            : "");
              },
              [cin_axis](const RuleInput& in) {
                const Tensor* w = in.input(1);
                const Tensor* x = in.input(0);
                if (!w || w->shape.size() != 4) return Verdict::fail("weights are not 4-D");
                if (cin_axis < 0 && (!x || x->shape.size() != 4)) return Verdict::fail("input is not 4-D");
                const int64_t kh = w->shape[2], kw = w->shape[3];
                const int64_t cin = cin_axis < 0 ? x->shape[1] : w->shape[size_t(cin_axis)];
                const int64_t blocked = round_up(cin, in.target.num_macs);
                const int64_t volume = kh * kw * blocked;
                const std::string d = str_cat("kernel ", kh, "x", kw, ", Cin ", cin, ": ", kh, " * ", kw, " * ", blocked,
                                              " = ", volume);
                return volume <= in.target.max_conv_weight_volume ? Verdict::pass() : Verdict::fail(d);
              }};
}

Rule bias_rule(const std::string& name) {
  return Rule{name,
              [](const NeutronTarget&) {
                return std::string("the bias, if present, must be a constant int32 tensor with quantization parameters");
              },
              [](const RuleInput& in) {
                const Tensor* b = in.input(2);
                if (!b || is_int32_bias(*b)) return Verdict::pass();
                return Verdict::fail(str_cat("bias ", named(*b), b->is_constant() ? "" : " (not constant)"));
              }};
}

}  // namespace

OpSupport conv_support() {
  OpSupport s;
  s.kind = OpKind::Conv;
  s.upstream = "aten.convolution.default";
  s.neutron_op = "CONV_2D, DEPTHWISE_CONV_2D (explicit padding becomes a PAD before it)";
  s.quant_inputs = QuantInputs::kFirst;
  s.rules = {
      Rule{"conv.weights",
           [](const NeutronTarget&) {
             return std::string("weights must be a constant int8 tensor, quantized per tensor or per output channel (axis 0)");
           },
           [](const RuleInput& in) {
             const Tensor* w = in.input(1);
             if (w && is_int8_weight(*w, 0)) return Verdict::pass();
             if (!w) return Verdict::fail("no weights");
             return Verdict::fail(str_cat("weights ", named(*w), w->is_constant() ? "" : " (not constant)"));
           }},
      bias_rule("conv.bias"),
      Rule{"conv.groups",
           [](const NeutronTarget&) {
             return std::string(
                 "group must be 1 (regular) or equal to Cin and Cout (depthwise); other grouped convolutions need "
                 "Split and Concatenation, which Neutron does not run (the split-grouped-conv pass rewrites those with 2 to 10 "
                 "groups and constant weights, a channel multiplier included, as upstream's SplitGroupConvolution does)");
           },
           [](const RuleInput& in) {
             const int64_t group = in.node().attrs.get_int("group", 1);
             const Tensor* x = in.input(0);
             const int64_t cin = x && x->shape.size() == 4 ? x->shape[1] : -1;
             const int64_t cout = in.output().shape.size() == 4 ? in.output().shape[1] : -1;
             if (group == 1 || (group == cin && group == cout)) return Verdict::pass();
             return Verdict::fail(str_cat("group ", group, ", Cin ", cin, ", Cout ", cout));
           }},
      kernel_limit_rule("conv.kernel_size"),
      stride_limit_rule("conv.stride"),
      dilation_limit_rule("conv.dilation"),
      weight_volume_rule("conv.weight_volume", -1),
  };
  s.notes = {
      "Only 2-D convolutions exist in the IR (1-D ones import as Reshape, 2-D Conv, Reshape). Explicit padding is "
      "emitted as a PAD whose value is the input zero point; Neutron's documented 'padding < kernel' check is "
      "disabled upstream.",
      "Upstream quantizes weights per output channel, symmetric int8 in [-127, 127]; the bias is int32 with scale "
      "s_in * s_w and zero point 0.",
      "A depthwise convolution reads one input channel per output channel, yet upstream applies the weight-volume "
      "limit with all input channels; so do we (the NPU simulator would run the larger ones).",
      std::string(kFusedActivationNote) + " ReLU and ReLU6 fuse into the convolution itself (facts §2.4).",
  };
  return s;
}

OpSupport conv_transpose_support() {
  OpSupport s;
  s.kind = OpKind::ConvTranspose;
  s.upstream = "aten.convolution.default (transposed)";
  s.neutron_op = "TRANSPOSE_CONV (padding: a larger output and a SLICE after it)";
  s.quant_inputs = QuantInputs::kFirst;
  s.rules = {
      Rule{"conv_transpose.weights",
           [](const NeutronTarget&) {
             return std::string(
                 "weights must be a constant int8 tensor, quantized per tensor or per output channel (axis 1 of "
                 "[Cin, Cout, kH, kW])");
           },
           [](const RuleInput& in) {
             const Tensor* w = in.input(1);
             if (w && is_int8_weight(*w, 1)) return Verdict::pass();
             if (!w) return Verdict::fail("no weights");
             return Verdict::fail(str_cat("weights ", named(*w), w->is_constant() ? "" : " (not constant)"));
           }},
      bias_rule("conv_transpose.bias"),
      Rule{"conv_transpose.groups",
           [](const NeutronTarget&) { return std::string("group must be 1 (no grouped or depthwise transposed convolution)"); },
           [](const RuleInput& in) {
             const int64_t group = in.node().attrs.get_int("group", 1);
             return group == 1 ? Verdict::pass() : Verdict::fail(str_cat("group ", group));
           }},
      Rule{"conv_transpose.dilation",
           [](const NeutronTarget&) { return std::string("dilation must be 1"); },
           [](const RuleInput& in) {
             const auto d = attr_pair(in.node(), "dilations", 1);
             return d[0] == 1 && d[1] == 1 ? Verdict::pass() : Verdict::fail("dilation " + dims_str(d));
           }},
      kernel_limit_rule("conv_transpose.kernel_size"),
      Rule{"conv_transpose.stride",
           [](const NeutronTarget& t) {
             return str_cat("stride must be <= ", t.max_transposed_conv_stride, " and <= the kernel size, per axis");
           },
           [](const RuleInput& in) {
             const auto st = attr_pair(in.node(), "strides", 1);
             const auto k = attr_pair(in.node(), "kernel_shape", 1);
             for (int a = 0; a < 2; ++a)
               if (st[a] > in.target.max_transposed_conv_stride || st[a] > k[a])
                 return Verdict::fail(str_cat("stride ", dims_str(st), ", kernel ", dims_str(k)));
             return Verdict::pass();
           }},
      Rule{"conv_transpose.padding",
           [](const NeutronTarget&) { return std::string("padding must be smaller than the kernel size, per axis"); },
           [](const RuleInput& in) {
             const auto p = attr_pads(in.node());  // top, left, bottom, right
             const auto k = attr_pair(in.node(), "kernel_shape", 1);
             if (p[0] < k[0] && p[2] < k[0] && p[1] < k[1] && p[3] < k[1]) return Verdict::pass();
             return Verdict::fail(str_cat("pads (top,left,bottom,right) ", dims_str(p), ", kernel ", dims_str(k)));
           }},
      weight_volume_rule("conv_transpose.weight_volume", 0),
  };
  s.notes = {
      "fold-qdq has no int8 ConvTranspose yet (no int8 CPU kernel), so imported models keep it in float and on the "
      "CPU; the rules apply to int8 graphs.",
  };
  return s;
}

}  // namespace neutron
