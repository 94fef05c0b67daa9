// Binders of the float32 Conv and ConvTranspose (kernels/conv2d_f32.h). Data tensors must be
// channels-last (the layout-nhwc pass); the ONNX-layout weights are repacked once here (or into
// scratch on every run when they are computed at run time, e.g. by a DequantizeLinear).
// Optional attributes act_relu / act_min / act_max (a fused activation, ir/op_attrs.h) clamp the output.
#include <cmath>
#include <limits>
#include <vector>

#include "exec/ops/binders.h"
#include "kernels/conv2d_f32.h"

namespace neutron {
namespace {

struct ConvGeometry {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t group = 1;
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
  bool act_relu = false;
};

// Reads and checks the attributes shared by Conv and ConvTranspose. W is [*, *, kH, kW].
StatusOr<ConvGeometry> read_geometry(const Graph& g, NodeId id, const Shape& w_shape) {
  const Node& n = g.node(id);
  ConvGeometry geo;
  const auto ks = n.attrs.get_ints("kernel_shape", {w_shape[2], w_shape[3]});
  const auto st = n.attrs.get_ints("strides", {1, 1});
  const auto dl = n.attrs.get_ints("dilations", {1, 1});
  const auto pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
  CHECK_OR_RETURN(ks.size() == 2 && st.size() == 2 && dl.size() == 2 && pads.size() == 4, Error::NotSupported,
                  describe(g, id), ": only 2-D convolutions are supported (kernel_shape ", ks, ", strides ", st,
                  ", dilations ", dl, ", pads ", pads, ")");
  CHECK_OR_RETURN(ks[0] == w_shape[2] && ks[1] == w_shape[3], Error::InvalidModel, describe(g, id), ": kernel_shape ",
                  ks, " does not match the weights ", shape_str(w_shape));
  geo.kh = ks[0];
  geo.kw = ks[1];
  geo.sh = st[0];
  geo.sw = st[1];
  geo.dh = dl[0];
  geo.dw = dl[1];
  geo.pt = pads[0];
  geo.pl = pads[1];
  geo.pb = pads[2];
  geo.pr = pads[3];
  geo.group = n.attrs.get_int("group", 1);
  CHECK_OR_RETURN(geo.sh >= 1 && geo.sw >= 1 && geo.dh >= 1 && geo.dw >= 1 && geo.group >= 1 && geo.pt >= 0 &&
                      geo.pl >= 0 && geo.pb >= 0 && geo.pr >= 0,
                  Error::InvalidModel, describe(g, id), ": invalid strides ", st, ", dilations ", dl, ", pads ", pads,
                  " or group ", geo.group);
  geo.act_min = float(n.attrs.get_float("act_min", -std::numeric_limits<double>::infinity()));
  geo.act_max = float(n.attrs.get_float("act_max", std::numeric_limits<double>::infinity()));
  geo.act_relu = n.attrs.get_int("act_relu", 0) != 0;
  return geo;
}

// Common operand checks: f32 NHWC rank-4 X/Y, constant rank-4 W, optional [Cout] bias.
Status check_operands(const Graph& g, NodeId id, int64_t bias_len) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.attrs.get_int("channels_last", 0) == 1, Error::NotSupported, describe(g, id),
                  ": NCHW data; run the layout-nhwc pass first");
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects inputs X, W, B? and one output");
  const Tensor& x = g.tensor(n.input(0));
  const Tensor& w = g.tensor(n.input(1));
  const Tensor& y = g.tensor(n.outputs[0]);
  CHECK_OR_RETURN(x.dtype == DType::F32 && w.dtype == DType::F32 && y.dtype == DType::F32, Error::NotSupported,
                  describe(g, id), ": float kernel needs f32 X, W and Y, got ", dtype_name(x.dtype), ", ",
                  dtype_name(w.dtype), ", ", dtype_name(y.dtype));
  CHECK_OR_RETURN(x.shape.size() == 4 && w.shape.size() == 4 && y.shape.size() == 4, Error::NotSupported,
                  describe(g, id), ": only 2-D convolutions are supported (X ", shape_str(x.shape), ", W ",
                  shape_str(w.shape), ")");
  if (n.input(2) != kNoTensor) {
    const Tensor& b = g.tensor(n.input(2));
    CHECK_OR_RETURN(b.dtype == DType::F32 && num_elements(b.shape) == bias_len, Error::InvalidModel, describe(g, id),
                    ": bias '", b.name, "' must be f32 with ", bias_len, " elements, got ", dtype_name(b.dtype),
                    shape_str(b.shape));
  }
  return Status::OK();
}

// The kernel entry points of Conv and ConvTranspose, for one Step template.
struct Conv2DF32Ops {
  static size_t packed_floats(const Conv2DF32Params& p) { return conv2d_f32_packed_weights_floats(p); }
  static void pack(const Conv2DF32Params& p, const float* w, float* out) { conv2d_f32_pack_weights(p, w, out); }
  static size_t scratch_bytes(const Conv2DF32Params& p) { return conv2d_f32_scratch_bytes(p); }
  static void run(const Conv2DF32Params& p, const float* x, const float* w, const float* b, float* y, float* s) {
    conv2d_f32(p, x, w, b, y, s);
  }
};
struct ConvTranspose2DF32Ops {
  static size_t packed_floats(const ConvTranspose2DF32Params& p) { return conv_transpose2d_f32_packed_weights_floats(p); }
  static void pack(const ConvTranspose2DF32Params& p, const float* w, float* out) {
    conv_transpose2d_f32_pack_weights(p, w, out);
  }
  static size_t scratch_bytes(const ConvTranspose2DF32Params& p) { return conv_transpose2d_f32_scratch_bytes(p); }
  static void run(const ConvTranspose2DF32Params& p, const float* x, const float* w, const float* b, float* y,
                  float* s) {
    conv_transpose2d_f32(p, x, w, b, y, s);
  }
};

// Weights packed at bind time when constant; otherwise packed on each run into scratch, after
// the kernel's own scratch (rounded up to 64 bytes).
template <typename Params, typename Ops>
class ConvStep final : public Step {
 public:
  Params p;
  TensorId x = kNoTensor, w = kNoTensor, b = kNoTensor, y = kNoTensor;
  std::vector<float> packed;  // empty when the weights are packed per run
  size_t kernel_scratch = 0;  // bytes, rounded up to 64

  Status init(const Graph& g, const Node& n) {
    x = n.input(0);
    w = n.input(1);
    b = n.input(2);
    y = n.outputs[0];
    kernel_scratch = (Ops::scratch_bytes(p) + 63) / 64 * 64;
    const Tensor& wt = g.tensor(w);
    if (wt.is_constant()) {
      packed.resize(Ops::packed_floats(p));
      Ops::pack(p, wt.data->data<float>(), packed.data());
    }
    return Status::OK();
  }
  size_t scratch_bytes() const override {
    return kernel_scratch + (packed.empty() ? sizeof(float) * Ops::packed_floats(p) : 0);
  }
  void run(const RunContext& ctx) const override {
    float* scratch = ctx.scratch<float>();
    const float* wp = packed.data();
    if (packed.empty()) {
      float* dst = scratch + kernel_scratch / sizeof(float);
      Ops::pack(p, ctx.in<float>(w), dst);
      wp = dst;
    }
    Ops::run(p, ctx.in<float>(x), wp, b == kNoTensor ? nullptr : ctx.in<float>(b), ctx.out<float>(y), scratch);
  }
};

}  // namespace

StatusOr<StepPtr> bind_conv(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects inputs X, W, B? and one output");
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  RETURN_IF_ERROR(check_operands(g, id, ys.size() == 4 ? ys[3] : -1));
  const Shape& xs = g.tensor(n.input(0)).shape;
  const Tensor& w = g.tensor(n.input(1));
  ASSIGN_OR_RETURN(ConvGeometry geo, read_geometry(g, id, w.shape));

  Conv2DF32Params p;
  p.batch = xs[0];
  p.in_h = xs[1];
  p.in_w = xs[2];
  p.in_c = xs[3];
  p.out_h = ys[1];
  p.out_w = ys[2];
  p.out_c = ys[3];
  p.kernel_h = geo.kh;
  p.kernel_w = geo.kw;
  p.stride_h = geo.sh;
  p.stride_w = geo.sw;
  p.dilation_h = geo.dh;
  p.dilation_w = geo.dw;
  p.pad_top = geo.pt;
  p.pad_left = geo.pl;
  p.groups = geo.group;
  p.act_min = geo.act_min;
  p.act_max = geo.act_max;
  p.act_relu = geo.act_relu;

  CHECK_OR_RETURN(ys[0] == xs[0] && w.shape[0] == p.out_c && p.in_c % p.groups == 0 && w.shape[1] * p.groups == p.in_c &&
                      p.out_c % p.groups == 0,
                  Error::InvalidModel, describe(g, id), ": X ", shape_str(xs), " (NHWC), W ", shape_str(w.shape),
                  ", Y ", shape_str(ys), " (NHWC) and group ", p.groups, " do not fit together");
  const int64_t span_h = p.in_h + geo.pt + geo.pb - ((geo.kh - 1) * geo.dh + 1);  // >= 0 for a valid conv
  const int64_t span_w = p.in_w + geo.pl + geo.pr - ((geo.kw - 1) * geo.dw + 1);
  const int64_t eh = span_h < 0 ? 0 : span_h / geo.sh + 1;
  const int64_t ew = span_w < 0 ? 0 : span_w / geo.sw + 1;
  CHECK_OR_RETURN(eh == p.out_h && ew == p.out_w && eh >= 1 && ew >= 1, Error::InvalidModel, describe(g, id),
                  ": output ", shape_str(ys), " (NHWC) does not match the attributes, which give ", eh, "x", ew);
  CHECK_OR_RETURN(conv2d_f32_prepare(&p) == Error::Ok, Error::InvalidModel, describe(g, id),
                  ": invalid convolution geometry");

  auto step = std::make_unique<ConvStep<Conv2DF32Params, Conv2DF32Ops>>();
  step->p = p;
  RETURN_IF_ERROR(step->init(g, n));
  return StepPtr(std::move(step));
}

StatusOr<StepPtr> bind_conv_transpose(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects inputs X, W, B? and one output");
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  RETURN_IF_ERROR(check_operands(g, id, ys.size() == 4 ? ys[3] : -1));
  const Shape& xs = g.tensor(n.input(0)).shape;
  const Tensor& w = g.tensor(n.input(1));
  ASSIGN_OR_RETURN(ConvGeometry geo, read_geometry(g, id, w.shape));
  const auto op = n.attrs.get_ints("output_padding", {0, 0});
  CHECK_OR_RETURN(op.size() == 2, Error::NotSupported, describe(g, id), ": output_padding ", op, " is not 2-D");

  ConvTranspose2DF32Params p;
  p.batch = xs[0];
  p.in_h = xs[1];
  p.in_w = xs[2];
  p.in_c = xs[3];
  p.out_h = ys[1];
  p.out_w = ys[2];
  p.out_c = ys[3];
  p.kernel_h = geo.kh;
  p.kernel_w = geo.kw;
  p.stride_h = geo.sh;
  p.stride_w = geo.sw;
  p.dilation_h = geo.dh;
  p.dilation_w = geo.dw;
  p.pad_top = geo.pt;
  p.pad_left = geo.pl;
  p.groups = geo.group;
  p.act_min = geo.act_min;
  p.act_max = geo.act_max;

  CHECK_OR_RETURN(ys[0] == xs[0] && w.shape[0] == p.in_c && p.in_c % p.groups == 0 &&
                      w.shape[1] * p.groups == p.out_c,
                  Error::InvalidModel, describe(g, id), ": X ", shape_str(xs), " (NHWC), W ", shape_str(w.shape),
                  ", Y ", shape_str(ys), " (NHWC) and group ", p.groups, " do not fit together");
  const int64_t eh = (p.in_h - 1) * geo.sh + (geo.kh - 1) * geo.dh + 1 - geo.pt - geo.pb + op[0];
  const int64_t ew = (p.in_w - 1) * geo.sw + (geo.kw - 1) * geo.dw + 1 - geo.pl - geo.pr + op[1];
  CHECK_OR_RETURN(eh == p.out_h && ew == p.out_w, Error::InvalidModel, describe(g, id), ": output ", shape_str(ys),
                  " (NHWC) does not match the attributes, which give ", eh, "x", ew);
  CHECK_OR_RETURN(conv_transpose2d_f32_prepare(&p) == Error::Ok, Error::InvalidModel, describe(g, id),
                  ": invalid transposed convolution geometry");

  auto step = std::make_unique<ConvStep<ConvTranspose2DF32Params, ConvTranspose2DF32Ops>>();
  step->p = p;
  RETURN_IF_ERROR(step->init(g, n));
  return StepPtr(std::move(step));
}

}  // namespace neutron
