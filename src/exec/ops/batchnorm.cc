// Binder of the float32 BatchNormalization, inference form (kernels/batchnorm_f32.h). The channel
// axis is 1 (channels_last = 0) or the last axis (channels_last = 1); any rank >= 2.
// Constant statistics are folded once here; runtime ones are folded on each run.
#include <vector>

#include "exec/ops/binders.h"
#include "kernels/batchnorm_f32.h"

namespace neutron {
namespace {

class BatchNormStep final : public Step {
 public:
  BatchNormF32Params p;
  double epsilon = 1e-5;
  TensorId x = kNoTensor, y = kNoTensor, scale = kNoTensor, bias = kNoTensor, mean = kNoTensor, var = kNoTensor;
  std::vector<float> multiplier;  // folded at bind time when scale and var are constants

  size_t scratch_bytes() const override { return multiplier.empty() ? sizeof(float) * size_t(p.channels) : 0; }
  void run(const RunContext& ctx) const override {
    BatchNormF32Params q = p;
    if (multiplier.empty()) {
      float* m = ctx.scratch<float>();
      batchnorm_f32_fold(p.channels, ctx.in<float>(scale), ctx.in<float>(var), epsilon, m);
      q.multiplier = m;
    } else {
      q.multiplier = multiplier.data();
    }
    q.mean = ctx.in<float>(mean);
    q.bias = ctx.in<float>(bias);
    batchnorm_f32(q, ctx.in<float>(x), ctx.out<float>(y));
  }
};

}  // namespace

StatusOr<StepPtr> bind_batchnorm(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(!is_int8_node(g, id), Error::NotSupported, describe(g, id),
                  ": no int8 BatchNormalization kernel (fold it into the preceding Conv)");
  CHECK_OR_RETURN(n.inputs.size() == 5 && n.outputs.size() >= 1, Error::InvalidModel, describe(g, id),
                  ": expects inputs X, scale, B, mean, var");
  CHECK_OR_RETURN(n.outputs.size() == 1, Error::NotSupported, describe(g, id),
                  ": training-mode outputs (running mean/var) are not supported");
  for (TensorId t : n.inputs)
    CHECK_OR_RETURN(t != kNoTensor && g.tensor(t).dtype == DType::F32, Error::NotSupported, describe(g, id),
                    ": every operand must be an f32 tensor");
  const Tensor& xt = g.tensor(n.input(0));
  const Tensor& yt = g.tensor(n.outputs[0]);
  CHECK_OR_RETURN(yt.dtype == DType::F32 && yt.shape == xt.shape, Error::InvalidModel, describe(g, id), ": output ",
                  dtype_name(yt.dtype), shape_str(yt.shape), " must be f32 of the input shape ", shape_str(xt.shape));
  const Shape& s = xt.shape;
  CHECK_OR_RETURN(s.size() >= 2, Error::InvalidModel, describe(g, id), ": input ", shape_str(s), " has no channel axis");
  const bool channels_last = n.attrs.get_int("channels_last", 0) != 0;
  const size_t axis = channels_last ? s.size() - 1 : 1;

  auto step = std::make_unique<BatchNormStep>();
  BatchNormF32Params& p = step->p;
  p.channels = s[axis];
  p.outer = 1;
  p.inner = 1;
  for (size_t i = 0; i < axis; ++i) p.outer *= s[i];
  for (size_t i = axis + 1; i < s.size(); ++i) p.inner *= s[i];
  for (size_t i = 1; i < 5; ++i) {
    const Tensor& t = g.tensor(n.inputs[i]);
    CHECK_OR_RETURN(num_elements(t.shape) == p.channels, Error::InvalidModel, describe(g, id), ": operand '", t.name,
                    "' ", shape_str(t.shape), " must have ", p.channels, " elements (one per channel)");
  }
  step->epsilon = n.attrs.get_float("epsilon", 1e-5);
  step->x = n.input(0);
  step->scale = n.input(1);
  step->bias = n.input(2);
  step->mean = n.input(3);
  step->var = n.input(4);
  step->y = n.outputs[0];
  const Tensor& scale = g.tensor(step->scale);
  const Tensor& var = g.tensor(step->var);
  if (scale.is_constant() && var.is_constant()) {
    step->multiplier.resize(size_t(p.channels));
    batchnorm_f32_fold(p.channels, scale.data->data<float>(), var.data->data<float>(), step->epsilon,
                       step->multiplier.data());
  }
  return StepPtr(std::move(step));
}

}  // namespace neutron
