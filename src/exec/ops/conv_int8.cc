// Binder of the int8 Conv (kernels/conv_int8.h): validates the quantized operands, packs the
// weights, brings the bias into accumulator units and computes the per-channel multipliers.
#include <cmath>
#include <vector>

#include "exec/ops/int8_common.h"
#include "kernels/conv_int8.h"

namespace neutron {
namespace {

class ConvInt8Step final : public Step {
 public:
  TensorId x = kNoTensor, y = kNoTensor;
  int8::LayoutAdapter layout;
  std::vector<int16_t> packed;
  std::vector<int32_t> bias;
  std::vector<FixedMultiplier> multipliers;
  Conv2DInt8Params p;

  void finalize() {
    p.weights = packed.data();
    p.bias = bias.data();
    p.multipliers = multipliers.data();
  }
  void run(const RunContext& ctx) const override {
    layout.run(ctx.in<int8_t>(x), ctx.out<int8_t>(y), ctx.scratch<uint8_t>(),
               [&](const int8_t* in, int8_t* out, uint8_t* scratch) { conv2d_int8_nhwc(p, in, out, scratch); });
  }
  size_t scratch_bytes() const override { return layout.extra_bytes() + conv2d_int8_scratch_bytes(p); }
};

}  // namespace

StatusOr<StepPtr> bind_conv_int8(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  const TensorId x = n.input(0), w = n.input(1), b = n.input(2), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, y, "output"));
  CHECK_OR_RETURN(w != kNoTensor, Error::InvalidModel, describe(g, id), ": missing weights");
  const Tensor& wt = g.tensor(w);
  CHECK_OR_RETURN(wt.is_constant(), Error::NotSupported, describe(g, id), ": weights '", wt.name,
                  "' must be constant for the int8 kernel");
  CHECK_OR_RETURN(wt.dtype == DType::I8 && wt.is_quantized(), Error::NotSupported, describe(g, id), ": weights '",
                  wt.name, "' must be int8 with quantization parameters, got ", dtype_name(wt.dtype));
  CHECK_OR_RETURN(wt.shape.size() == 4, Error::NotSupported, describe(g, id), ": weights '", wt.name,
                  "' must be rank 4 (OIHW), got ", shape_str(wt.shape));
  const bool channels_last = n.attrs.get_int("channels_last", 0) != 0;
  ASSIGN_OR_RETURN(int8::Dims4 in, int8::spatial_dims(g, id, x, channels_last));
  ASSIGN_OR_RETURN(int8::Dims4 out, int8::spatial_dims(g, id, y, channels_last));
  const int64_t group = n.attrs.get_int("group", 1);
  const int64_t cout = wt.shape[0];
  CHECK_OR_RETURN(group >= 1 && in.c % group == 0 && cout % group == 0 && wt.shape[1] * group == in.c && out.c == cout,
                  Error::InvalidModel, describe(g, id), ": weights ", shape_str(wt.shape), " with group ", group,
                  " do not fit input channels ", in.c, " and output channels ", out.c);

  const QuantParams& wq = wt.quant;
  CHECK_OR_RETURN(!wq.per_axis() || (wq.axis == 0 && int64_t(wq.scale.size()) == cout), Error::NotSupported,
                  describe(g, id), ": weights '", wt.name, "' must be quantized per tensor or per output channel (axis 0)",
                  ", got ", wq.scale.size(), " scales on axis ", wq.axis);
  for (int32_t z : wq.zero_point)
    CHECK_OR_RETURN(z == 0, Error::NotSupported, describe(g, id), ": weights '", wt.name, "' have zero point ", z,
                    "; the int8 Conv needs symmetric weights (zero point 0)");

  const std::vector<int64_t> ks = n.attrs.get_ints("kernel_shape", {wt.shape[2], wt.shape[3]});
  const std::vector<int64_t> st = n.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> dl = n.attrs.get_ints("dilations", {1, 1});
  const std::vector<int64_t> pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
  CHECK_OR_RETURN(ks.size() == 2 && st.size() == 2 && dl.size() == 2 && pads.size() == 4 && ks[0] == wt.shape[2] &&
                      ks[1] == wt.shape[3],
                  Error::NotSupported, describe(g, id), ": the int8 Conv is 2-D only (kernel_shape ", ks, ", strides ",
                  st, ", dilations ", dl, ", pads ", pads, ")");

  auto step = std::make_unique<ConvInt8Step>();
  step->x = x;
  step->y = y;
  step->layout = int8::LayoutAdapter{!channels_last, in, out};
  Conv2DInt8Params& p = step->p;
  p.batch = int32_t(in.n);
  p.in_h = int32_t(in.h);
  p.in_w = int32_t(in.w);
  p.in_c = int32_t(in.c);
  p.out_h = int32_t(out.h);
  p.out_w = int32_t(out.w);
  p.out_c = int32_t(out.c);
  p.kernel_h = int32_t(ks[0]);
  p.kernel_w = int32_t(ks[1]);
  p.stride_h = int32_t(st[0]);
  p.stride_w = int32_t(st[1]);
  p.dilation_h = int32_t(dl[0]);
  p.dilation_w = int32_t(dl[1]);
  p.pad_top = int32_t(pads[0]);
  p.pad_left = int32_t(pads[1]);
  p.groups = int32_t(group);
  p.input_zero_point = int8::zero_point_of(g, x);
  p.output_zero_point = int8::zero_point_of(g, y);
  int8::fused_activation_range(g, id, y, &p.qmin, &p.qmax);
  conv2d_int8_choose_path(&p);

  const double sx = int8::scale_of(g, x), sy = int8::scale_of(g, y);
  std::vector<double> acc_scale(static_cast<size_t>(cout));
  step->multipliers.resize(size_t(cout));
  for (int64_t c = 0; c < cout; ++c) {
    acc_scale[size_t(c)] = sx * double(wq.scale[wq.per_axis() ? size_t(c) : 0]);
    RETURN_IF_ERROR(int8::make_multiplier(g, id, acc_scale[size_t(c)] / sy,
                                          str_cat("s_in * s_w[", c, "] / s_out (", sx, " * ", acc_scale[size_t(c)] / sx,
                                                  " / ", sy, ")"),
                                          &step->multipliers[size_t(c)]));
  }
  std::vector<int32_t> bias;
  if (b != kNoTensor) RETURN_IF_ERROR(int8::bias_to_accumulator_units(g, id, b, acc_scale, 1.0, &bias));
  step->packed.resize(conv2d_int8_packed_weights_size(p));
  step->bias.resize(size_t(cout));
  conv2d_int8_pack(p, wt.data->data<int8_t>(), bias.empty() ? nullptr : bias.data(), step->packed.data(),
                   step->bias.data());
  step->finalize();
  return StepPtr(std::move(step));
}

}  // namespace neutron
