// Binders of the float32 pools (kernels/pool_f32.h): MaxPool, AveragePool, GlobalMaxPool,
// GlobalAveragePool. Data tensors must be channels-last (the layout-nhwc pass).
#include "exec/ops/binders.h"
#include "kernels/pool_f32.h"

namespace neutron {
namespace {

// Checks rank-4 NHWC X and Y with matching batch and channels, both f32 (or, for the max pools,
// both u8 or both i8 with equal quantization: max commutes with a shared monotonic mapping).
Status check_pool_operands(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.attrs.get_int("channels_last", 0) == 1, Error::NotSupported, describe(g, id),
                  ": NCHW data; run the layout-nhwc pass first");
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && !n.outputs.empty(), Error::InvalidModel,
                  describe(g, id), ": expects one input and one output");
  CHECK_OR_RETURN(n.outputs.size() == 1, Error::NotSupported, describe(g, id),
                  ": the MaxPool Indices output is not supported");
  const Tensor& x = g.tensor(n.input(0));
  const Tensor& y = g.tensor(n.outputs[0]);
  const bool is_max = n.kind == OpKind::MaxPool || n.kind == OpKind::GlobalMaxPool;
  const bool bytes_ok = is_max && (x.dtype == DType::U8 || x.dtype == DType::I8) && x.quant == y.quant;
  CHECK_OR_RETURN(x.dtype == y.dtype && (x.dtype == DType::F32 || bytes_ok), Error::NotSupported, describe(g, id),
                  ": float kernel needs f32 X and Y (or u8/i8 with equal quantization for max pools), got ",
                  dtype_name(x.dtype), " and ", dtype_name(y.dtype));
  CHECK_OR_RETURN(x.shape.size() == 4 && y.shape.size() == 4, Error::NotSupported, describe(g, id),
                  ": only 2-D pooling is supported (X ", shape_str(x.shape), ")");
  CHECK_OR_RETURN(x.shape[0] == y.shape[0] && x.shape[3] == y.shape[3], Error::InvalidModel, describe(g, id),
                  ": output ", shape_str(y.shape), " does not fit input ", shape_str(x.shape), " (NHWC)");
  return Status::OK();
}

}  // namespace

StatusOr<StepPtr> bind_pool(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  RETURN_IF_ERROR(check_pool_operands(g, id));
  const Node& n = g.node(id);
  const bool is_max = n.kind == OpKind::MaxPool;
  const Shape& xs = g.tensor(n.input(0)).shape;
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  const auto ks = n.attrs.get_ints("kernel_shape");
  const auto st = n.attrs.get_ints("strides", {1, 1});
  const auto dl = n.attrs.get_ints("dilations", {1, 1});
  const auto pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
  CHECK_OR_RETURN(ks.size() == 2 && st.size() == 2 && dl.size() == 2 && pads.size() == 4, Error::NotSupported,
                  describe(g, id), ": only 2-D pooling is supported (kernel_shape ", ks, ", strides ", st, ", pads ",
                  pads, ")");
  Pool2DParams p;
  p.batch = xs[0];
  p.in_h = xs[1];
  p.in_w = xs[2];
  p.channels = xs[3];
  p.out_h = ys[1];
  p.out_w = ys[2];
  p.kernel_h = ks[0];
  p.kernel_w = ks[1];
  p.stride_h = st[0];
  p.stride_w = st[1];
  p.dilation_h = dl[0];
  p.dilation_w = dl[1];
  p.pad_top = pads[0];
  p.pad_left = pads[1];
  p.pad_bottom = pads[2];
  p.pad_right = pads[3];
  p.count_include_pad = n.attrs.get_int("count_include_pad", 0) != 0;
  CHECK_OR_RETURN(pool2d_prepare(p) == Error::Ok, Error::InvalidModel, describe(g, id), ": invalid pooling geometry",
                  " (kernel_shape ", ks, ", strides ", st, ", dilations ", dl, ", pads ", pads, ", output ",
                  shape_str(ys), ")");
  // The output size must be what floor or ceil mode gives.
  const bool ceil_mode = n.attrs.get_int("ceil_mode", 0) != 0;
  const auto out_len = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
    const int64_t span = in + pb + pe - ((k - 1) * d + 1);
    if (span < 0) return int64_t(0);
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + pb) --o;  // the last window must start inside the input or left pad
    return o;
  };
  const int64_t eh = out_len(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom);
  const int64_t ew = out_len(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right);
  CHECK_OR_RETURN(eh == p.out_h && ew == p.out_w, Error::InvalidModel, describe(g, id), ": output ", shape_str(ys),
                  " (NHWC) does not match the attributes, which give ", eh, "x", ew);
  const TensorId x = n.input(0), y = n.outputs[0];
  const DType dt = g.tensor(x).dtype;
  if (is_max && dt == DType::U8)
    return make_step([p, x, y](const RunContext& ctx) { maxpool2d_nhwc<uint8_t>(p, ctx.in<uint8_t>(x), ctx.out<uint8_t>(y)); });
  if (is_max && dt == DType::I8)
    return make_step([p, x, y](const RunContext& ctx) { maxpool2d_nhwc<int8_t>(p, ctx.in<int8_t>(x), ctx.out<int8_t>(y)); });
  if (is_max)
    return make_step([p, x, y](const RunContext& ctx) { maxpool2d_nhwc<float>(p, ctx.in<float>(x), ctx.out<float>(y)); });
  return make_step([p, x, y](const RunContext& ctx) { avgpool2d_nhwc_f32(p, ctx.in<float>(x), ctx.out<float>(y)); });
}

StatusOr<StepPtr> bind_global_pool(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  RETURN_IF_ERROR(check_pool_operands(g, id));
  const Node& n = g.node(id);
  const Shape& xs = g.tensor(n.input(0)).shape;
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  CHECK_OR_RETURN(ys[1] == 1 && ys[2] == 1, Error::InvalidModel, describe(g, id), ": output ", shape_str(ys),
                  " (NHWC) is not 1x1");
  const int64_t batch = xs[0], pixels = xs[1] * xs[2], channels = xs[3];
  const TensorId x = n.input(0), y = n.outputs[0];
  const DType dt = g.tensor(x).dtype;
  if (dt == DType::U8)
    return make_step([=](const RunContext& ctx) {
      global_maxpool_nhwc<uint8_t>(batch, pixels, channels, ctx.in<uint8_t>(x), ctx.out<uint8_t>(y));
    });
  if (dt == DType::I8)
    return make_step([=](const RunContext& ctx) {
      global_maxpool_nhwc<int8_t>(batch, pixels, channels, ctx.in<int8_t>(x), ctx.out<int8_t>(y));
    });
  if (n.kind == OpKind::GlobalMaxPool)
    return make_step([=](const RunContext& ctx) {
      global_maxpool_nhwc<float>(batch, pixels, channels, ctx.in<float>(x), ctx.out<float>(y));
    });
  return make_step([=](const RunContext& ctx) {
    global_avgpool_nhwc_f32(batch, pixels, channels, ctx.in<float>(x), ctx.out<float>(y));
  });
}

}  // namespace neutron
