// Resize (facts §2.2 rows 37, 38): nearest with asymmetric coordinates and floor rounding (torch's
// upsample_nearest2d) -> RESIZE_NEAREST_NEIGHBOR; linear with align_corners or (pytorch_)half_pixel
// coordinates (upsample_bilinear2d) -> RESIZE_BILINEAR. Scales are measured on the shapes.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

bool align_corners(const Node& n) {
  return n.attrs.get_string("coordinate_transformation_mode", "half_pixel") == "align_corners";
}

}  // namespace

OpSupport resize_support() {
  OpSupport s;
  s.kind = OpKind::Resize;
  s.upstream = "aten.upsample_nearest2d.vec, aten.upsample_bilinear2d.vec";
  s.neutron_op = "RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR";
  s.rules = {
      Rule{"resize.rank",
           [](const NeutronTarget&) {
             return std::string("input and output must be 4-D (NCHW) with only H and W resized");
           },
           [](const RuleInput& in) {
             const Shape& x = in.input(0)->shape;
             const Shape& y = in.output().shape;
             if (x.size() == 4 && y.size() == 4 && x[0] == y[0] && x[1] == y[1]) return Verdict::pass();
             return Verdict::fail(str_cat(shape_str(x), " -> ", shape_str(y)));
           }},
      Rule{"resize.mode",
           [](const NeutronTarget&) {
             return std::string(
                 "nearest must use asymmetric coordinates with floor rounding (torch upsample_nearest2d); linear must "
                 "use align_corners, half_pixel or pytorch_half_pixel coordinates (upsample_bilinear2d)");
           },
           [](const RuleInput& in) {
             const Node& n = in.node();
             const std::string mode = n.attrs.get_string("mode", "nearest");
             const std::string ctm = n.attrs.get_string("coordinate_transformation_mode", "half_pixel");
             const std::string nm = n.attrs.get_string("nearest_mode", "round_prefer_floor");
             if (mode == "nearest" && ctm == "asymmetric" && nm == "floor") return Verdict::pass();
             if (mode == "linear" && (ctm == "align_corners" || ctm == "half_pixel" || ctm == "pytorch_half_pixel"))
               return Verdict::pass();
             return Verdict::fail(str_cat("mode ", mode, ", coordinates ", ctm, mode == "nearest" ? ", rounding " + nm : ""));
           }},
      Rule{"resize.scales",
           [](const NeutronTarget& t) {
             std::string set;
             for (size_t i = 0; i < t.resize_scales.size(); ++i) set += (i ? ", " : "") + std::to_string(t.resize_scales[i]);
             return "the H and W scales must each be one of {" + set +
                    "}: out / in, or (out - 1) / (in - 1) with align_corners (then in must be > 1)";
           },
           [](const RuleInput& in) {
             const Shape& x = in.input(0)->shape;
             const Shape& y = in.output().shape;
             const bool ac = align_corners(in.node()) && in.node().attrs.get_string("mode", "nearest") == "linear";
             std::string detail;
             bool ok = true;
             for (int a = 2; a < 4; ++a) {
               const int64_t num = ac ? y[size_t(a)] - 1 : y[size_t(a)];
               const int64_t den = ac ? x[size_t(a)] - 1 : x[size_t(a)];
               const bool integral = den > 0 && num % den == 0;
               const int64_t scale = integral ? num / den : 0;
               bool allowed = false;
               for (int64_t v : in.target.resize_scales) allowed |= integral && v == scale;
               ok &= allowed;
               detail += str_cat(a == 2 ? "H " : ", W ", x[size_t(a)], " -> ", y[size_t(a)],
                                 integral ? str_cat(" (scale ", scale, ")") : std::string(" (not an integer scale)"));
             }
             return ok ? Verdict::pass() : Verdict::fail(detail);
           }},
  };
  s.context_rules = {
      ContextRule{"resize.alone_identity",
                  [](const NeutronTarget&) {
                    return std::string("a Resize alone in its partition must change the shape (scale 1 is a no-op)");
                  },
                  [](const RuleInput& in, const PartitionContext& pc) {
                    if (pc.alone(in.id) && in.input(0)->shape == in.output().shape)
                      return Verdict::fail("shape " + shape_str(in.output().shape) + " unchanged");
                    return Verdict::pass();
                  }},
  };
  s.notes = {"fold-qdq folds nearest Resize as data movement and linear Resize to the int8 bilinear kernel "
             "(fixed-point weights, one requantization: kernels/resize_int8.h)."};
  return s;
}

}  // namespace neutron
