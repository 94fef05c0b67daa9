// Binder of the float32 GRU and LSTM (kernels/recurrent_f32.h); int8 ones are lowered to the
// recurrent kernel call (kernels/recurrent_int8.h) and run as kernel calls.
#include "exec/ops/binders.h"
#include "kernels/recurrent_f32.h"

namespace neutron {

StatusOr<StepPtr> bind_recurrent(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  const bool lstm = n.kind == OpKind::LSTM;
  const size_t outs = lstm ? 3 : 2;
  CHECK_OR_RETURN(n.inputs.size() >= 3 && n.outputs.size() == outs, Error::InvalidModel, describe(g, id),
                  ": expects inputs X, W, R and ", outs, " outputs");
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] == kNoTensor) continue;
    const Tensor& t = g.tensor(n.inputs[i]);
    CHECK_OR_RETURN(t.dtype == DType::F32 && !t.is_quantized(), Error::NotSupported, describe(g, id), ": input '",
                    t.name, "' is ", dtype_name(t.dtype), t.is_quantized() ? " (quantized)" : "",
                    "; GRU and LSTM run in float32 only");
  }
  CHECK_OR_RETURN(n.inputs.size() <= 4 || n.inputs[4] == kNoTensor, Error::NotSupported, describe(g, id),
                  ": sequence_lens is not supported");
  const Shape& xs = g.tensor(n.inputs[0]).shape;
  RecurrentF32Params p;
  p.lstm = lstm;
  p.seq = xs[0];
  p.batch = xs[1];
  p.input = xs[2];
  p.hidden = n.attrs.get_int("hidden_size", 0);
  const std::string dir = n.attrs.get_string("direction", "forward");
  p.directions = dir == "bidirectional" ? 2 : 1;
  p.reverse = dir == "reverse";
  p.linear_before_reset = n.attrs.get_int("linear_before_reset", 0) != 0;
  auto opt = [&](size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoTensor; };
  const TensorId x = n.inputs[0], w = n.inputs[1], r = n.inputs[2], b = opt(3), h0 = opt(5), c0 = lstm ? opt(6) : kNoTensor,
                 peep = lstm ? opt(7) : kNoTensor;
  const TensorId y = n.outputs[0], yh = n.outputs[1], yc = lstm ? n.outputs[2] : kNoTensor;
  return make_step(
      [=](const RunContext& ctx) {
        recurrent_f32(p, ctx.in<float>(x), ctx.in<float>(w), ctx.in<float>(r),
                      b == kNoTensor ? nullptr : ctx.in<float>(b), h0 == kNoTensor ? nullptr : ctx.in<float>(h0),
                      c0 == kNoTensor ? nullptr : ctx.in<float>(c0), y == kNoTensor ? nullptr : ctx.out<float>(y),
                      yh == kNoTensor ? nullptr : ctx.out<float>(yh), yc == kNoTensor ? nullptr : ctx.out<float>(yc),
                      ctx.scratch<float>(), peep == kNoTensor ? nullptr : ctx.in<float>(peep));
      },
      recurrent_f32_scratch_floats(p) * sizeof(float));
}

}  // namespace neutron
