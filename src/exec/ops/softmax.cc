// Softmax on f32. Quantized int8 nodes are lowered and run as kernel calls (bind_lowered_int8).
#include "exec/ops/binders.h"
#include "kernels/softmax_f32.h"

namespace neutron {

StatusOr<StepPtr> bind_softmax(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g, id), ": expects 1 input and 1 output");
  const TensorId xi = n.inputs[0], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(x.dtype == DType::F32 && !x.is_quantized() && y.dtype == DType::F32, Error::NotSupported,
                  describe(g, id), ": no CPU kernel for ", dtype_name(x.dtype), x.is_quantized() ? " (quantized)" : "",
                  " input (only f32 or quantized int8)");
  CHECK_OR_RETURN(x.shape == y.shape, Error::InvalidModel, describe(g, id), ": output shape ", shape_str(y.shape),
                  " differs from input shape ", shape_str(x.shape));
  const int64_t axis_attr = n.attrs.get_int("axis", -1);
  const int axis = normalize_axis(axis_attr, x.shape.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g, id), ": axis=", axis_attr, " is out of range for shape ",
                  shape_str(x.shape));
  SoftmaxParams p;
  for (int i = 0; i < axis; ++i) p.outer *= x.shape[size_t(i)];
  p.axis = x.shape[size_t(axis)];
  for (size_t i = size_t(axis) + 1; i < x.shape.size(); ++i) p.inner *= x.shape[i];
  return make_step(
      [=](const RunContext& ctx) { softmax_f32(p, ctx.in<float>(xi), ctx.out<float>(yi), ctx.scratch<float>()); },
      softmax_f32_scratch_bytes(p));
}

}  // namespace neutron
