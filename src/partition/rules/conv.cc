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
  s.neutron_op = "CONV_2D over the stride phases stacked as output channels + TRANSPOSE (interleave); depthwise: "
                 "one DEPTHWISE_CONV_2D per phase + CONCATENATION";
  s.quant_inputs = QuantInputs::kFirst;
  s.rules = {
      Rule{"conv_transpose.weights",
           [](const NeutronTarget&) {
             return std::string(
                 "weights must be a constant int8 tensor, quantized per tensor or per output channel (axis 1 of "
                 "[Cin, Cout, kH, kW]; axis 0 when depthwise with one output channel per group)");
           },
           [](const RuleInput& in) {
             const Tensor* w = in.input(1);
             if (!w) return Verdict::fail("no weights");
             const bool dw_axis0 = w->shape.size() == 4 && w->shape[1] == 1 && in.node().attrs.get_int("group", 1) == w->shape[0];
             if (is_int8_weight(*w, 1) || (dw_axis0 && is_int8_weight(*w, 0))) return Verdict::pass();
             return Verdict::fail(str_cat("weights ", named(*w), w->is_constant() ? "" : " (not constant)"));
           }},
      bias_rule("conv_transpose.bias"),
      Rule{"conv_transpose.groups",
           [](const NeutronTarget&) {
             return std::string("group must be 1 (regular) or equal to Cin (depthwise); other grouped transposed "
                                "convolutions are not lowered");
           },
           [](const RuleInput& in) {
             const int64_t group = in.node().attrs.get_int("group", 1);
             const Tensor* w = in.input(1);
             const int64_t cin = w && w->shape.size() == 4 ? w->shape[0] : -1;
             return group == 1 || group == cin ? Verdict::pass() : Verdict::fail(str_cat("group ", group, ", Cin ", cin));
           }},
      dilation_limit_rule("conv_transpose.dilation"),
      kernel_limit_rule("conv_transpose.kernel_size"),
      Rule{"conv_transpose.stride",
           [](const NeutronTarget& t) {
             return str_cat("stride must be <= 64 per axis; any stride (also above TRANSPOSE_CONV's limit of ",
                            t.max_transposed_conv_stride,
                            ") runs as stride-1 convolutions of its output phases (or zero insertion and one "
                            "stride-1 CONV_2D where the phases do not apply)");
           },
           [](const RuleInput& in) {
             const auto st = attr_pair(in.node(), "strides", 1);
             if (st[0] <= 64 && st[1] <= 64) return Verdict::pass();
             return Verdict::fail(str_cat("stride ", dims_str(st)));
           }},
      Rule{"conv_transpose.output_padding",
           [](const NeutronTarget&) { return std::string("output_padding must be below the stride or the dilation, per axis"); },
           [](const RuleInput& in) {
             const auto st = attr_pair(in.node(), "strides", 1);
             const auto d = attr_pair(in.node(), "dilations", 1);
             const auto op = attr_pair(in.node(), "output_padding", 0);
             for (int a = 0; a < 2; ++a)
               if (op[a] >= std::max(st[a], d[a]))
                 return Verdict::fail(str_cat("output_padding ", dims_str(op), ", stride ", dims_str(st)));
             return Verdict::pass();
           }},
      weight_volume_rule("conv_transpose.weight_volume", 0),
  };
  s.notes = {
      "Lowered by output phase: output row s * m + p of the zero-inserted convolution (s - 1 zero-point values "
      "between input pixels, the kernel flipped) reads only every s-th tap, so each of the s_h * s_w phases is a "
      "stride-1 convolution of the input itself. With group 1 the phases are one CONV_2D (s_h * s_w * Cout output "
      "channels over the union of their windows, zero weights where a phase has no tap) and one TRANSPOSE that "
      "interleaves them (none for a 1-D stride); depthwise, one DEPTHWISE_CONV_2D per phase and CONCATENATIONs. The "
      "integers equal the zero-insertion path (PAD on a reshaped view, the padding d * (k - 1) - pad, a SLICE when "
      "negative, a stride-1 CONV_2D), which remains for strides above 8 or a phase without taps. 1-D ConvTranspose "
      "imports as 2-D on an H = 1 image.",
      "3-D ConvTranspose imports as 2-D ops on channels-last views: a ConvTranspose over (H, W) of [N*D, H, W, Cin] "
      "with the kD kernel slices as output channels, a depthwise ConvTranspose with one-hot (kD, 1) kernels that "
      "scatters them along D (the D stride, pads, dilation and output_padding), and a depthwise Conv of ones with "
      "window = stride = (1, kD) that sums them and adds the bias; each is judged by these rules (group 1 and "
      "depthwise reach the NPU).",
      "Zero insertion costs s_h * s_w times the MACs of the transposed convolution in the timing model; the phases "
      "cost the MACs of their union windows (vocoder_1d k8 s4: 3 taps instead of 8).",
  };
  return s;
}

}  // namespace neutron
