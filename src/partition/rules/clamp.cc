// The clamp family (facts §2.2 rows 10, 11, 29):
//   Relu -> aten.relu.default: RELU
//   Clip -> aten.clamp.default / aten.hardtanh.default: RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 for
//           those bounds, otherwise MINIMUM then MAXIMUM with the bounds quantized like the input.
// Our IR also has the unbounded int8 Clip that fold-qdq inserts to requantize the input of a
// data-movement op whose input and output q-params differ (upstream: a DQ(s1) -> op -> Q(s2)
// cluster). It is accepted exactly when upstream would accept that op with differing q-params.
#include <cmath>
#include <limits>

#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Bounds {
  double lo = -kInf, hi = kInf;
  bool unbounded() const { return !std::isfinite(lo) && !std::isfinite(hi); }
};

Bounds clip_bounds(const Node& n) {
  if (n.kind == OpKind::Relu) return Bounds{0.0, kInf};
  return Bounds{n.attrs.get_float("min", -kInf), n.attrs.get_float("max", kInf)};
}

std::string bounds_str(const Bounds& b) { return str_cat("bounds [", b.lo, ", ", b.hi, "]"); }

// Bounds Neutron runs as a RELU variant: (0, inf) RELU, (0, 6) RELU6, (-1, 1) RELU_N1_TO_1, (0, 1) RELU_0_TO_1.
bool relu_compatible(const Bounds& b) {
  return (b.lo == 0 && (b.hi == kInf || b.hi == 6 || b.hi == 1)) || (b.lo == -1 && b.hi == 1);
}

// The clamp still bends the int8 input range: at least one bound quantizes strictly inside
// (-128, 127) and the result is not a constant. Otherwise it collapses to the identity (bounds
// outside the representable range) or to a constant, and alone it would be an empty NPU graph.
bool clamp_preserved(const Tensor& x, const Bounds& b, std::string* detail) {
  if (!is_int8_activation(x)) return false;
  const double s = x.quant.scale[0];
  const double zp = x.quant.zero_point[0];
  const double qlo = std::isfinite(b.lo) ? std::nearbyint(b.lo / s) + zp : -kInf;
  const double qhi = std::isfinite(b.hi) ? std::nearbyint(b.hi / s) + zp : kInf;
  const bool lo_inside = -128 < qlo && qlo < 127;
  const bool hi_inside = -128 < qhi && qhi < 127;
  *detail = str_cat(bounds_str(b), " quantize to [", qlo, ", ", qhi, "] with input ", qparams_of(x));
  if (qlo >= 127 || qhi <= -128) {
    *detail += ": the output is constant";
    return false;
  }
  if (!lo_inside && !hi_inside) {
    *detail += ": both bounds lie outside [-128, 127], the clamp is the identity";
    return false;
  }
  return true;
}

Verdict alone_hinge_check(const RuleInput& in, const PartitionContext& pc) {
  const Bounds b = clip_bounds(in.node());
  if (b.unbounded() || !pc.alone(in.id)) return Verdict::pass();
  // Upstream tests relu-compatible bounds for a preserved hinge (neither identity nor constant);
  // other bounds (MINIMUM + MAXIMUM) only for the identity: a lone clamp whose output is constant
  // is still delegated there.
  std::string detail;
  if (clamp_preserved(*in.input(0), b, &detail) || (!relu_compatible(b) && detail.find("constant") != std::string::npos))
    return Verdict::pass();
  return Verdict::fail(detail);
}

}  // namespace

OpSupport relu_support() {
  OpSupport s;
  s.kind = OpKind::Relu;
  s.upstream = "aten.relu.default";
  s.neutron_op = "RELU";
  s.context_rules = {
      ContextRule{"relu.alone_hinge",
                  [](const NeutronTarget&) {
                    return std::string(
                        "a Relu alone in its partition must keep its hinge: 0 must quantize strictly inside (-128, 127) "
                        "with the input's parameters (else it is the identity or a constant)");
                  },
                  alone_hinge_check},
  };
  s.notes = {"After fold-qdq a Relu that follows Conv, Gemm, MatMul, Add, Sub, Mul, Max, Min or a pool is usually "
             "fused into it (act_min/act_max); a standalone Relu remains otherwise."};
  return s;
}

OpSupport clip_support() {
  OpSupport s;
  s.kind = OpKind::Clip;
  s.upstream = "aten.clamp.default, aten.hardtanh.default";
  s.neutron_op = "RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, or MINIMUM + MAXIMUM";
  s.rules = {
      Rule{"clip.requantize",
           [](const NeutronTarget&) {
             return std::string(
                 "a Clip without bounds is delegated only as a requantization (input and output q-params differ) "
                 "feeding other ops; it runs on the NPU as a table kernel call in its consumers' partition, also "
                 "before ops that upstream requires to share q-params (Transpose, Concat, constant Pad, the pools), "
                 "where upstream would leave it on the CPU (a deviation: no CPU round trip between two NPU ops). A "
                 "Clip without bounds and without requantization is the identity, which upstream rejects");
           },
           [](const RuleInput& in) {
             const Bounds b = clip_bounds(in.node());
             if (!b.unbounded()) return Verdict::pass();
             const Tensor& x = *in.input(0);
             const Tensor& y = in.output();
             if (x.quant == y.quant) return Verdict::fail("no bounds and equal q-params " + qparams_of(y) + ": the identity");
             if (in.g.is_graph_output(in.node().outputs[0]))
               return Verdict::fail("a requantization that is a graph output");
             return Verdict::pass();
           }},
      Rule{"clip.qparams",
           [](const NeutronTarget&) {
             return std::string(
                 "bounds other than (0, inf), (0, 6), (-1, 1), (0, 1) need identical input and output quantization "
                 "parameters");
           },
           [](const RuleInput& in) {
             const Bounds b = clip_bounds(in.node());
             if (b.unbounded() || relu_compatible(b)) return Verdict::pass();
             const Tensor& x = *in.input(0);
             const Tensor& y = in.output();
             if (x.quant == y.quant) return Verdict::pass();
             return Verdict::fail(str_cat(bounds_str(b), ", input ", qparams_of(x), ", output ", qparams_of(y)));
           }},
  };
  s.context_rules = {
      ContextRule{"clip.alone_hinge",
                  [](const NeutronTarget&) {
                    return std::string(
                        "a Clip alone in its partition must not be the identity: a bound must quantize strictly inside "
                        "(-128, 127) with the input's parameters; with RELU-family bounds ((0, inf), (0, 6), (-1, 1), "
                        "(0, 1)) the output must not be constant either (upstream's is_clamp_preserved_under_quantization)");
                  },
                  alone_hinge_check},
      ContextRule{"clip.requantize_partition",
                  [](const NeutronTarget&) {
                    return std::string(
                        "a requantizing Clip (no bounds) must be in the same partition as the ops it feeds (upstream "
                        "it is part of their cluster)");
                  },
                  [](const RuleInput& in, const PartitionContext& pc) {
                    if (!clip_bounds(in.node()).unbounded()) return Verdict::pass();
                    const std::vector<NodeId> consumers = in.g.consumers()[size_t(in.node().outputs[0])];
                    for (NodeId c : consumers)
                      if (pc.partition(c) != pc.partition(in.id))
                        return Verdict::fail(str_cat("feeds ", describe(in.g, c),
                                                     pc.partition(c) < 0 ? " on the CPU" : " in another partition"));
                    return Verdict::pass();
                  }},
  };
  // Upstream the requantization is part of the consumer's cluster (e.g. a view_copy), so it adds
  // nothing to the no-op test of a partition.
  s.is_noop = [](const Graph& g, NodeId id) { return clip_bounds(g.node(id)).unbounded(); };
  s.noop_when = "it has no bounds (a requantization counts as part of the op it feeds, as in upstream's cluster)";
  s.notes = {"Upstream rejects a clamp with both bounds absent or infinite; our unbounded Clip exists only as "
             "fold-qdq's requantization, handled by clip.requantize."};
  return s;
}

}  // namespace neutron
