// Pad (facts §2.2 rows 13, 26): mode "constant" -> aten.constant_pad_nd: PAD / PADV2 (the value
// quantized like the input); mode "reflect" -> aten.pad.default(reflect): MIRROR_PAD. Mode "edge"
// (replicate) stays on the CPU (int8 kernel), as upstream leaves it.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

OpSupport pad_support() {
  OpSupport s;
  s.kind = OpKind::Pad;
  s.upstream = "aten.constant_pad_nd.default, aten.pad.default (reflect)";
  s.neutron_op = "PAD, PADV2, MIRROR_PAD";
  s.rules = {
      Rule{"pad.mode",
           [](const NeutronTarget&) {
             return std::string(
                 "mode must be \"constant\" or \"reflect\" (\"edge\", replicate, runs as an int8 CPU kernel: upstream "
                 "has no converter for it)");
           },
           [](const RuleInput& in) {
             const std::string mode = in.node().attrs.get_string("mode", "constant");
             if (mode == "constant" || mode == "reflect") return Verdict::pass();
             return Verdict::fail("mode \"" + mode + "\"");
           }},
      Rule{"pad.shared_qparams",
           [](const NeutronTarget&) {
             return std::string("a constant Pad must have identical input and output quantization parameters");
           },
           [](const RuleInput& in) {
             if (in.node().attrs.get_string("mode", "constant") != "constant") return Verdict::pass();
             const Tensor& x = *in.input(0);
             const Tensor& y = in.output();
             if (x.quant == y.quant && x.dtype == y.dtype) return Verdict::pass();
             return Verdict::fail(str_cat("input ", qparams_of(x), ", output ", qparams_of(y)));
           }},
  };
  s.notes = {"Upstream delegates reflect padding only when aten.pad is kept un-decomposed (preserve_ops); "
             "\"edge\" (replicate) and circular padding stay on the CPU."};
  return s;
}

}  // namespace neutron
