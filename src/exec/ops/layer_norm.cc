// LayerNormalization on f32: Scale and B are constants broadcast to the normalized dims once, at
// bind time.
#include "exec/ops/binders.h"
#include "kernels/index_ops.h"
#include "kernels/layer_norm_f32.h"

namespace neutron {
namespace {

// A constant `t` broadcast to `tail`, as a flat vector (empty: `t` is computed at run time and must
// already have the shape `tail`).
StatusOr<std::vector<float>> broadcast_constant(const Graph& g, NodeId id, TensorId t, const Shape& tail,
                                                const char* what) {
  const Tensor& c = g.tensor(t);
  CHECK_OR_RETURN(c.dtype == DType::F32 && !c.is_quantized(), Error::NotSupported, describe(g, id), ": ", what, " '",
                  c.name, "' must be float");
  if (!c.is_constant()) {
    CHECK_OR_RETURN(num_elements(c.shape) == num_elements(tail), Error::NotSupported, describe(g, id), ": ", what,
                    " '", c.name, "' is computed at run time and must have the normalized shape ", shape_str(tail));
    return std::vector<float>();
  }
  SelectParams sp;
  const Span<const int64_t> ops[1] = {Span<const int64_t>(c.shape)};
  CHECK_OR_RETURN(prepare_select(Span<const int64_t>(tail), ops, 1, sizeof(float), &sp), Error::InvalidModel,
                  describe(g, id), ": ", what, " ", shape_str(c.shape), " does not broadcast to ", shape_str(tail));
  std::vector<float> out(size_t(num_elements(tail)));
  expand(sp, c.data->data<float>(), out.data());
  return out;
}

}  // namespace

StatusOr<StepPtr> bind_layer_norm(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g, id), ": expects X, Scale, B? and 1 output");
  const TensorId xi = n.inputs[0], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  CHECK_OR_RETURN(x.dtype == DType::F32 && !x.is_quantized(), Error::NotSupported, describe(g, id),
                  ": no CPU kernel for ", dtype_name(x.dtype), " input (only f32)");
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), x.shape.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g, id), ": axis out of range");
  const Shape tail(x.shape.begin() + axis, x.shape.end());
  LayerNormParams p;
  p.n = num_elements(tail);
  p.rows = p.n == 0 ? 0 : num_elements(x.shape) / p.n;
  p.epsilon = float(n.attrs.get_float("epsilon", 1e-5));
  ASSIGN_OR_RETURN(std::vector<float> scale, broadcast_constant(g, id, n.inputs[1], tail, "Scale"));
  std::vector<float> bias;
  const TensorId si = n.inputs[1], bi = n.input(2);
  if (bi != kNoTensor) {
    ASSIGN_OR_RETURN(bias, broadcast_constant(g, id, bi, tail, "B"));
  }
  return make_step([=](const RunContext& ctx) {
    const float* s = scale.empty() ? ctx.in<float>(si) : scale.data();
    const float* b = bi == kNoTensor ? nullptr : (bias.empty() ? ctx.in<float>(bi) : bias.data());
    layer_norm_f32(p, ctx.in<float>(xi), s, b, ctx.out<float>(yi));
  });
}

}  // namespace neutron
