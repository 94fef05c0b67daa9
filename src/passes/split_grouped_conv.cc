// split-grouped-conv: a grouped Conv that is not depthwise (group > 1 and not group = Cin = Cout:
// between 1 and Cin, or group = Cin with a channel multiplier Cout = m * Cin) with constant weights
// becomes `group` Slices of the input channels, `group` ordinary (group = 1) Convs and a Concat of
// their outputs on the channel axis (upstream's SplitGroupConvolution): the Neutron converter maps
// ordinary and depthwise convolutions, not the cases in between.
//
// Like upstream, only 2 <= group <= 10 (kMaxGroups) is split: beyond that the G separate convs
// cost more than they save. Group g reads input channels [g*Cin/G, (g+1)*Cin/G) and computes
// output channels [g*Cout/G, (g+1)*Cout/G) with weight rows (and bias entries) of that range.
// Works in either layout (channel axis 1, or 3 with channels_last); the Concat writes the original
// output tensor, so its name survives. Left alone: runtime weights or bias, quantized tensors,
// fused activations.
#include <cstring>

#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

constexpr int64_t kMaxGroups = 10;

bool try_split(Graph& g, NodeId id) {
  const Node n = g.node(id);
  const TensorId x = n.input(0), w = n.input(1), b = n.input(2);
  if (n.outputs.size() != 1 || !rewrite::is_plain_float(g, x) || !rewrite::is_plain_float(g, n.outputs[0]) ||
      !rewrite::is_float_constant(g, w) || (b != kNoTensor && !rewrite::is_float_constant(g, b)) ||
      rewrite::has_fused_activation(n))
    return false;
  const int64_t groups = n.attrs.get_int("group", 1);
  const bool cl = n.attrs.get_int("channels_last", 0) != 0;
  const size_t axis = cl ? 3 : 1;
  const Shape xs = g.tensor(x).shape, ws = g.tensor(w).shape, ys = g.tensor(n.outputs[0]).shape;
  if (xs.size() != 4 || ws.size() != 4 || ys.size() != 4) return false;
  const int64_t cin = xs[axis], cout = ws[0];
  // Depthwise (group = Cin = Cout) maps to DEPTHWISE_CONV_2D as it is (upstream's
  // group_conv_convertible_as_depthwise); a channel multiplier does not, so it is split too.
  const bool depthwise = groups == cin && cout == cin;
  if (groups < 2 || groups > kMaxGroups || depthwise || cin % groups != 0 || cout % groups != 0) return false;
  const int64_t cin_g = cin / groups, cout_g = cout / groups;
  const int64_t w_block = cout_g * ws[1] * ws[2] * ws[3];
  const float* wv = g.tensor(w).data->data<float>();
  const float* bv = b == kNoTensor ? nullptr : g.tensor(b).data->data<float>();
  const std::string wname = g.tensor(w).name, yname = g.tensor(n.outputs[0]).name;
  const DType dt = g.tensor(x).dtype;

  g.remove_node(id);
  std::vector<TensorId> parts;
  for (int64_t gi = 0; gi < groups; ++gi) {
    const std::string suffix = "_g" + std::to_string(gi);
    Shape in_shape = xs;
    in_shape[axis] = cin_g;
    const TensorId xi = rewrite::add_value(g, g.tensor(x).name + suffix, dt, in_shape);
    Attributes sa;
    sa.set("starts", std::vector<int64_t>{gi * cin_g});
    sa.set("ends", std::vector<int64_t>{(gi + 1) * cin_g});
    sa.set("axes", std::vector<int64_t>{int64_t(axis)});
    sa.set("steps", std::vector<int64_t>{1});
    rewrite::add_op(g, OpKind::Slice, n.name + "_slice" + suffix, {x}, {xi}, sa);

    const std::vector<float> wpart(wv + gi * w_block, wv + (gi + 1) * w_block);
    std::vector<TensorId> inputs = {xi, rewrite::add_float_constant(g, wname + suffix, {cout_g, ws[1], ws[2], ws[3]}, wpart)};
    if (bv) inputs.push_back(rewrite::add_float_constant(g, n.name + "_bias" + suffix, {cout_g},
                                                         std::vector<float>(bv + gi * cout_g, bv + (gi + 1) * cout_g)));
    Shape out_shape = ys;
    out_shape[axis] = cout_g;
    const TensorId yi = rewrite::add_value(g, yname + suffix, dt, out_shape);
    Attributes ca = n.attrs;
    ca.set("group", int64_t(1));
    rewrite::add_op(g, OpKind::Conv, n.name + suffix, inputs, {yi}, ca);
    parts.push_back(yi);
  }
  Attributes cat;
  cat.set("axis", int64_t(axis));
  rewrite::add_op(g, OpKind::Concat, n.name + "_concat", parts, {n.outputs[0]}, cat);
  return true;
}

}  // namespace

Status split_grouped_conv(Graph& g) {
  for (NodeId id : g.live_nodes())
    if (g.node(id).kind == OpKind::Conv) try_split(g, id);
  return Status::OK();
}

}  // namespace neutron
