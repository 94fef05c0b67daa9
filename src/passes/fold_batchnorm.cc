// fold-batchnorm: an inference BatchNormalization right after a Conv, ConvTranspose, Gemm or a
// 2-D MatMul with constant B is folded into that op's weights and bias (upstream's
// FuseBatchNormWithConvPass / FuseBatchNormWithLinearPass, PTQ only). With the per-channel
//   s = gamma / sqrt(var + eps)
// the folded op computes W' = W * s (along its output channel) and b' = (b - mean) * s + beta
// (b = 0 when the op had no bias; a bias is created). The scales are computed in double.
//
// Output channel axis of the weights: Conv W[Cout, Cin/g, kH, kW] axis 0; ConvTranspose
// W[Cin, Cout/g, kH, kW]: input channel i (group i / (Cin/g)) feeds output channel
// group * Cout/g + j through W[i, j]; Gemm B[K, N] column n, or row n with transB; MatMul B[K, N]
// column n. Gemm's C becomes beta * C * s + t with beta = 1; a MatMul becomes a Gemm with C = t.
//
// Conditions: the op's output is read by the BatchNormalization only (and is no graph output),
// the BN parameters, the weights and any bias are constant f32 tensors without quantization
// parameters, the op has no fused activation, and for Conv/ConvTranspose both nodes use the same
// layout (channels_last). Gemm and MatMul outputs must be 2-D so that BN's channel axis (1) is the
// output-feature axis. A BatchNormalization that does not fit stays (the executor runs it).
// The folded op writes the BN's output tensor, so its name survives.
#include <cmath>

#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {
namespace {

using rewrite::is_float_constant;

// y = x * scale[c] + shift[c] per channel c.
struct ChannelAffine {
  std::vector<double> scale, shift;
};

bool bn_affine(const Graph& g, const Node& bn, ChannelAffine* out) {
  if (bn.inputs.size() != 5 || bn.outputs.size() != 1) return false;
  for (size_t i = 1; i < 5; ++i)
    if (!is_float_constant(g, bn.inputs[i]) || g.tensor(bn.inputs[i]).shape.size() != 1) return false;
  const int64_t channels = g.tensor(bn.inputs[1]).shape[0];
  for (size_t i = 2; i < 5; ++i)
    if (g.tensor(bn.inputs[i]).shape[0] != channels) return false;
  const double eps = bn.attrs.get_float("epsilon", 1e-5);
  const float* gamma = g.tensor(bn.inputs[1]).data->data<float>();
  const float* beta = g.tensor(bn.inputs[2]).data->data<float>();
  const float* mean = g.tensor(bn.inputs[3]).data->data<float>();
  const float* var = g.tensor(bn.inputs[4]).data->data<float>();
  out->scale.resize(size_t(channels));
  out->shift.resize(size_t(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const double s = double(gamma[c]) / std::sqrt(double(var[c]) + eps);
    if (!std::isfinite(s)) return false;
    out->scale[size_t(c)] = s;
    out->shift[size_t(c)] = double(beta[c]) - double(mean[c]) * s;
  }
  return true;
}

// New bias b' = b * s + t (b absent: t).
std::vector<float> folded_bias(const Graph& g, TensorId b, const ChannelAffine& a) {
  std::vector<float> r(a.scale.size());
  const float* bv = b == kNoTensor ? nullptr : g.tensor(b).data->data<float>();
  for (size_t c = 0; c < r.size(); ++c) r[c] = float((bv ? double(bv[c]) : 0.0) * a.scale[c] + a.shift[c]);
  return r;
}

// Conv / ConvTranspose: scales the weights along the output channel, replaces the bias.
bool fold_into_conv(Graph& g, NodeId id, const ChannelAffine& a) {
  Node& n = g.node(id);
  const TensorId w = n.input(1), b = n.input(2);
  if (!is_float_constant(g, w) || g.tensor(w).shape.size() != 4) return false;
  if (b != kNoTensor && !is_float_constant(g, b)) return false;
  const Shape ws = g.tensor(w).shape;
  const int64_t group = n.attrs.get_int("group", 1);
  const bool transposed = n.kind == OpKind::ConvTranspose;
  const int64_t cout = transposed ? ws[1] * group : ws[0];
  if (int64_t(a.scale.size()) != cout || group < 1 || (transposed && ws[0] % group != 0)) return false;
  if (b != kNoTensor && g.tensor(b).shape != Shape{cout}) return false;
  std::vector<float> wv = g.tensor(w).data->to_vector<float>();
  const int64_t spatial = ws[2] * ws[3];
  for (int64_t i = 0; i < ws[0]; ++i)
    for (int64_t j = 0; j < ws[1]; ++j) {
      const int64_t oc = transposed ? (i / (ws[0] / group)) * ws[1] + j : i;
      float* p = wv.data() + (i * ws[1] + j) * spatial;
      for (int64_t k = 0; k < spatial; ++k) p[k] = float(double(p[k]) * a.scale[size_t(oc)]);
    }
  const std::string base = g.tensor(w).name;
  const TensorId new_w = rewrite::add_float_constant(g, base + "_bn_folded", ws, wv);
  const TensorId new_b = rewrite::add_float_constant(g, n.name + "_bias_bn_folded", {cout}, folded_bias(g, b, a));
  Node& node = g.node(id);
  node.inputs = {node.inputs[0], new_w, new_b};
  return true;
}

// Gemm (C constant or absent) and 2-D MatMul: scales B along the output features, C' = beta*C*s + t.
bool fold_into_linear(Graph& g, NodeId id, const ChannelAffine& a) {
  const Node& n = g.node(id);
  const bool gemm = n.kind == OpKind::Gemm;
  const TensorId bt = n.input(1), ct = gemm ? n.input(2) : kNoTensor;
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  if (ys.size() != 2 || int64_t(a.scale.size()) != ys[1]) return false;
  if (!is_float_constant(g, bt) || g.tensor(bt).shape.size() != 2) return false;
  if (!gemm && g.tensor(n.input(0)).shape.size() != 2) return false;
  const bool trans_b = gemm && n.attrs.get_int("transB", 0) != 0;
  const double beta = gemm ? n.attrs.get_float("beta", 1.0) : 1.0;
  const int64_t m = ys[0], cols = ys[1];
  // C broadcast to [M, N] through strides; a row-like C (or none) gives a [N] bias.
  int64_t c_stride_m = 0, c_stride_n = 0;
  if (ct != kNoTensor && beta != 0.0) {
    if (!is_float_constant(g, ct)) return false;
    Shape cs = g.tensor(ct).shape;
    if (cs.size() > 2) return false;
    while (cs.size() < 2) cs.insert(cs.begin(), 1);
    if ((cs[0] != 1 && cs[0] != m) || (cs[1] != 1 && cs[1] != cols)) return false;
    c_stride_n = cs[1] == 1 ? 0 : 1;
    c_stride_m = cs[0] == 1 ? 0 : cs[1];
  }
  const Shape bs = g.tensor(bt).shape;
  std::vector<float> bv = g.tensor(bt).data->to_vector<float>();
  for (int64_t r = 0; r < bs[0]; ++r)
    for (int64_t c = 0; c < bs[1]; ++c) {
      float& v = bv[size_t(r * bs[1] + c)];
      v = float(double(v) * a.scale[size_t(trans_b ? r : c)]);
    }
  const bool c_rows = c_stride_m != 0;
  const Shape c_shape = c_rows ? Shape{m, cols} : Shape{cols};
  std::vector<float> cv(size_t(num_elements(c_shape)));
  const float* old_c = (ct != kNoTensor && beta != 0.0) ? g.tensor(ct).data->data<float>() : nullptr;
  for (int64_t i = 0; i < (c_rows ? m : 1); ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const double c0 = old_c ? beta * double(old_c[i * c_stride_m + j * c_stride_n]) : 0.0;
      cv[size_t(i * cols + j)] = float(c0 * a.scale[size_t(j)] + a.shift[size_t(j)]);
    }
  const TensorId new_b = rewrite::add_float_constant(g, g.tensor(bt).name + "_bn_folded", bs, bv);
  const TensorId new_c = rewrite::add_float_constant(g, g.node(id).name + "_bias_bn_folded", c_shape, cv);
  Node& node = g.node(id);
  if (!gemm) {
    node.kind = OpKind::Gemm;
    node.attrs = Attributes();
  }
  node.inputs = {node.inputs[0], new_b, new_c};
  node.attrs.set("beta", 1.0);
  return true;
}

bool try_fold(Graph& g, NodeId bn_id, const std::vector<std::vector<NodeId>>& consumers) {
  const Node& bn = g.node(bn_id);
  if (bn.inputs.empty() || !rewrite::is_plain_float(g, bn.inputs[0]) || bn.outputs.size() != 1 ||
      !rewrite::is_plain_float(g, bn.outputs[0]))
    return false;
  const TensorId x = bn.inputs[0];
  const NodeId p = rewrite::live_producer(g, x);
  if (p < 0 || !rewrite::has_single_consumer(g, consumers, x)) return false;
  const Node& op = g.node(p);
  if (op.outputs.size() != 1 || rewrite::has_fused_activation(op) || !rewrite::is_plain_float(g, op.inputs[0])) return false;
  ChannelAffine a;
  if (!bn_affine(g, bn, &a)) return false;
  bool folded = false;
  switch (op.kind) {
    case OpKind::Conv:
    case OpKind::ConvTranspose:
      if (op.attrs.get_int("channels_last", 0) != bn.attrs.get_int("channels_last", 0)) return false;
      folded = fold_into_conv(g, p, a);
      break;
    case OpKind::Gemm:
    case OpKind::MatMul:
      folded = fold_into_linear(g, p, a);
      break;
    default:
      return false;
  }
  if (!folded) return false;
  const TensorId y = g.node(bn_id).outputs[0];
  g.remove_node(bn_id);
  rewrite::retarget_output(g, p, 0, y);
  return true;
}

}  // namespace

Status fold_batchnorm(Graph& g) {
  ASSIGN_OR_RETURN(auto order, g.topological_order());
  for (NodeId id : order) {
    if (g.node(id).dead || g.node(id).kind != OpKind::BatchNormalization) continue;
    try_fold(g, id, g.consumers());
  }
  return Status::OK();
}

}  // namespace neutron
