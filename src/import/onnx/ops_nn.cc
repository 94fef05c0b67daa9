// Mappers of the neural-network ops: Conv, ConvTranspose, Gemm, MatMul, BatchNormalization,
// pools, Softmax, Resize and Upsample. Spatial ops are 2-D (4-D NCHW tensors) in the IR; 1-D Conv
// and ConvTranspose import as 2-D ones on an H = 1 image (see emit_1d_as_2d), 1-D pools likewise
// (map_pool); 3-D MaxPool, AveragePool and ConvTranspose as exact decompositions into 2-D ops
// (map_pool_3d, map_conv_transpose_3d), 3-D global pools as 2-D ones on [N, C, D*H, W]; the
// other 3-D ops (Conv) are NotSupported.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>

#include "import/onnx/onnx_ops.h"

namespace neutron {
namespace {

Status require_2d(NodeCtx& c, TensorId x) {
  const Shape& s = c.shape(x);
  if (s.size() != 4)
    return c.fail(Error::NotSupported, "only 2-D ", c.op(), " (4-D NCHW input) is supported; input X '",
                  c.tensor(x).name, "' has shape ", shape_str(s), s.size() == 3 ? " (1-D)" : s.size() == 5 ? " (3-D)" : "");
  return Status::OK();
}

// `attrs`: the node's attributes, or the 2-D form of a 1-D node's (lift_1d_attrs).
Status get_pair(NodeCtx& c, const Attributes& attrs, const char* attr, std::vector<int64_t> def, size_t size,
                std::vector<int64_t>* out) {
  *out = attrs.get_ints(attr, std::move(def));
  if (out->size() != size) {
    if (out->size() == size / 2 || out->size() == size * 3 / 2)
      return c.fail(Error::NotSupported, "attribute ", attr, " ", str_cat(*out),
                    " is not for a 2-D operation; only 2-D spatial ops are supported");
    return c.fail(Error::InvalidModel, "attribute ", attr, " must have ", size, " values, has ", str_cat(*out));
  }
  return Status::OK();
}

// Bound on window attributes read from the file, so that size arithmetic cannot overflow.
constexpr int64_t kMaxWindow = int64_t(1) << 24;

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

StatusOr<AutoPad> get_auto_pad(NodeCtx& c, const Attributes& attrs) {
  const std::string v = attrs.get_string("auto_pad", "NOTSET");
  if (v == "NOTSET" || v.empty()) return AutoPad::kNotSet;
  if (v == "SAME_UPPER") return AutoPad::kSameUpper;
  if (v == "SAME_LOWER") return AutoPad::kSameLower;
  if (v == "VALID") return AutoPad::kValid;
  return c.fail(Error::InvalidModel, "attribute auto_pad has unknown value \"", v, "\"");
}

Status resolve_window_of(NodeCtx& c, const Attributes& attrs, const Shape& x, const std::vector<int64_t>& kernel,
                         Attributes* out) {
  if (kernel.empty() && !attrs.has("kernel_shape")) return c.fail(Error::InvalidModel, "attribute kernel_shape is required");
  std::vector<int64_t> k, strides, dilations, pads;
  RETURN_IF_ERROR(get_pair(c, attrs, "kernel_shape", kernel, 2, &k));
  if (!kernel.empty() && k != kernel)
    return c.fail(Error::InvalidModel, "attribute kernel_shape ", str_cat(k), " does not match the weights' kernel ",
                  str_cat(kernel));
  RETURN_IF_ERROR(get_pair(c, attrs, "strides", {1, 1}, 2, &strides));
  RETURN_IF_ERROR(get_pair(c, attrs, "dilations", {1, 1}, 2, &dilations));
  RETURN_IF_ERROR(get_pair(c, attrs, "pads", {0, 0, 0, 0}, 4, &pads));
  for (int i = 0; i < 2; ++i)
    if (strides[i] < 1 || dilations[i] < 1 || k[i] < 1 || strides[i] > kMaxWindow || dilations[i] > kMaxWindow ||
        k[i] > kMaxWindow)
      return c.fail(Error::InvalidModel, "kernel_shape ", str_cat(k), ", strides ", str_cat(strides), " and dilations ",
                    str_cat(dilations), " must be in [1, ", kMaxWindow, "]");
  for (int64_t p : pads)
    if (p < 0 || p > kMaxWindow) return c.fail(Error::InvalidModel, "pads ", str_cat(pads), " must be in [0, ", kMaxWindow, "]");
  ASSIGN_OR_RETURN(AutoPad ap, get_auto_pad(c, attrs));
  if (ap == AutoPad::kValid) pads = {0, 0, 0, 0};
  if (ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
    for (int i = 0; i < 2; ++i) {
      const int64_t in = x[size_t(2 + i)];
      const int64_t out_size = (in + strides[i] - 1) / strides[i];
      const int64_t eff = (k[i] - 1) * dilations[i] + 1;
      const int64_t total = std::max<int64_t>(0, (out_size - 1) * strides[i] + eff - in);
      const int64_t small = total / 2, large = total - total / 2;
      pads[size_t(i)] = ap == AutoPad::kSameUpper ? small : large;
      pads[size_t(i + 2)] = ap == AutoPad::kSameUpper ? large : small;
    }
  }
  out->set("kernel_shape", k);
  out->set("strides", strides);
  out->set("dilations", dilations);
  out->set("pads", pads);
  return Status::OK();
}

// ---- 1-D convolutions --------------------------------------------------------------------------
// conv1d-to-2d (upstream's ConvertConv1dToConv2dPass, an ATen pass there) is an import mapping
// here: a 1-D Conv or ConvTranspose, X [N, C, L] and W [.., .., k], becomes
//   Reshape X to [N, C, 1, L] -> the 2-D op with W [.., .., 1, k] -> Reshape to [N, C', L']
// so the IR, the kernels and the NPU only ever see 2-D convolutions. The H axis gets kernel 1,
// stride 1, dilation 1, no padding; auto_pad then resolves as in 1-D.

// The 2-D form of a 1-D node's window attributes.
StatusOr<Attributes> lift_1d_attrs(NodeCtx& c) {
  Attributes a = c.attrs();
  struct Lift {
    const char* name;
    size_t size;                       // values of the 1-D attribute
    std::vector<int64_t> h_values;     // what H gets, inserted before each group of 1-D values
  };
  for (const Lift& l : {Lift{"kernel_shape", 1, {1}}, Lift{"strides", 1, {1}}, Lift{"dilations", 1, {1}},
                        Lift{"pads", 2, {0}}, Lift{"output_padding", 1, {0}}}) {
    if (!a.has(l.name)) continue;
    const auto v = a.get_ints(l.name);
    if (v.size() != l.size)
      return c.fail(Error::InvalidModel, "attribute ", l.name, " ", str_cat(v), " of a 1-D ", c.op(), " must have ",
                    l.size, " value(s)");
    std::vector<int64_t> lifted;
    for (int64_t x : v) {
      lifted.insert(lifted.end(), l.h_values.begin(), l.h_values.end());
      lifted.push_back(x);
    }
    a.set(l.name, lifted);  // pads [b, e] -> [0, b, 0, e]
  }
  if (a.has("output_shape")) {
    const auto v = a.get_ints("output_shape");  // [L] or [N, C, L]
    if (v.size() != 1 && v.size() != 3)
      return c.fail(Error::InvalidModel, "attribute output_shape ", str_cat(v), " of a 1-D ", c.op(),
                    " must give the spatial size");
    a.set("output_shape", std::vector<int64_t>{1, v.back()});
  }
  return a;
}

// W [A, B, k] as [A, B, 1, k]. A DequantizeLinear of a constant (QDQ models, QLinearConv) is
// rebuilt on the reshaped integer constant, so the weight stays "DequantizeLinear of a constant".
StatusOr<TensorId> lift_1d_weights(NodeCtx& c, TensorId w) {
  const Shape ws = c.shape(w);
  const Shape w4 = {ws[0], ws[1], 1, ws[2]};
  const NodeId p = c.tensor(w).producer;
  if (p >= 0 && !c.g().node(p).dead && c.g().node(p).kind == OpKind::DequantizeLinear) {
    const Tensor& q = c.tensor(c.g().node(p).inputs[0]);
    if (q.is_constant()) {
      TensorData d = *q.data;
      d.shape = w4;
      QuantParams qp = q.quant;
      if (qp.per_axis() && qp.axis == 2) qp.axis = 3;
      const TensorId q4 = c.add_constant("weight_2d_q", std::move(d), std::move(qp));
      return c.emit_temp(OpKind::DequantizeLinear, {q4}, {}, "weight_2d");
    }
  }
  return emit_reshape(c, w, w4, "weight_2d");
}

using Emit2d = StatusOr<TensorId> (*)(NodeCtx& c, const Attributes& attrs, TensorId x, TensorId w, TensorId b,
                                      bool final_output);

StatusOr<TensorId> emit_1d_as_2d(NodeCtx& c, TensorId x, TensorId w, TensorId b, bool final_output, Emit2d emit2d) {
  const Shape xs = c.shape(x), ws = c.shape(w);
  if (ws.size() != 3)
    return c.fail(Error::InvalidModel, "input 1 (W) '", c.tensor(w).name, "' must be 3-D for a 1-D ", c.op(),
                  ", has shape ", shape_str(ws));
  ASSIGN_OR_RETURN(Attributes a, lift_1d_attrs(c));
  ASSIGN_OR_RETURN(TensorId x4, emit_reshape(c, x, {xs[0], xs[1], 1, xs[2]}, "unsqueeze_h"));
  ASSIGN_OR_RETURN(TensorId w4, lift_1d_weights(c, w));
  ASSIGN_OR_RETURN(TensorId y4, emit2d(c, a, x4, w4, b, false));
  const Shape ys = c.shape(y4);
  return emit_reshape(c, y4, {ys[0], ys[1], ys[3]}, final_output ? "" : "squeeze_h");
}

StatusOr<TensorId> emit_conv_2d(NodeCtx& c, const Attributes& attrs, TensorId x, TensorId w, TensorId b,
                                bool final_output) {
  RETURN_IF_ERROR(require_2d(c, x));
  const Shape& ws = c.shape(w);
  if (ws.size() != 4)
    return c.fail(Error::InvalidModel, "input 1 (W) '", c.tensor(w).name, "' must be 4-D OIHW, has shape ", shape_str(ws));
  Attributes a;
  RETURN_IF_ERROR(resolve_window_of(c, attrs, c.shape(x), {ws[2], ws[3]}, &a));
  a.set("group", attrs.get_int("group", 1));
  std::vector<TensorId> inputs = {x, w};
  if (b != kNoTensor) inputs.push_back(b);
  if (final_output) return c.emit(OpKind::Conv, inputs, a);
  ASSIGN_OR_RETURN(auto outs, c.emit_node(OpKind::Conv, inputs, a, {NodeCtx::Out{}}));
  return outs[0];
}

StatusOr<TensorId> emit_conv_transpose_2d(NodeCtx& c, const Attributes& attrs, TensorId x, TensorId w, TensorId b,
                                          bool final_output) {
  RETURN_IF_ERROR(require_2d(c, x));
  const Shape& xs = c.shape(x);
  const Shape& ws = c.shape(w);
  if (ws.size() != 4)
    return c.fail(Error::InvalidModel, "input 1 (W) '", c.tensor(w).name, "' must be 4-D IOHW, has shape ", shape_str(ws));
  Attributes a;
  RETURN_IF_ERROR(resolve_window_of(c, attrs, xs, {ws[2], ws[3]}, &a));  // auto_pad handled below
  auto k = a.get_ints("kernel_shape"), strides = a.get_ints("strides"), dil = a.get_ints("dilations");
  std::vector<int64_t> pads, output_padding;
  RETURN_IF_ERROR(get_pair(c, attrs, "pads", {0, 0, 0, 0}, 4, &pads));
  RETURN_IF_ERROR(get_pair(c, attrs, "output_padding", {0, 0}, 2, &output_padding));
  for (int64_t p : output_padding)
    if (p < 0 || p > kMaxWindow) return c.fail(Error::InvalidModel, "output_padding ", str_cat(output_padding), " is out of range");
  ASSIGN_OR_RETURN(AutoPad ap, get_auto_pad(c, attrs));
  std::vector<int64_t> target;
  if (attrs.has("output_shape")) {
    target = attrs.get_ints("output_shape");
    if (target.size() == 4) target.erase(target.begin(), target.begin() + 2);
    if (target.size() != 2 || target[0] < 1 || target[1] < 1 || target[0] > kMaxWindow || target[1] > kMaxWindow)
      return c.fail(Error::InvalidModel, "attribute output_shape ", str_cat(attrs.get_ints("output_shape")),
                    " must give the 2 spatial sizes");
  } else if (ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
    target = {xs[2] * strides[0], xs[3] * strides[1]};
  }
  if (!target.empty()) {
    // ONNX: total_padding = stride*(in-1) + output_padding + eff_kernel - output_shape, split
    // begin = total/2 for SAME_UPPER, begin = total - total/2 otherwise (ConvTranspose-11); before
    // opset 11 the other way round (ConvTranspose-1: begin = total/2 unless SAME_UPPER). A negative
    // total (a larger requested output) becomes extra output padding at the end.
    const bool small_begin = c.opset() >= 11 ? ap == AutoPad::kSameUpper : ap != AutoPad::kSameUpper;
    for (int i = 0; i < 2; ++i) {
      const int64_t natural = strides[i] * (xs[size_t(2 + i)] - 1) + output_padding[i] + (k[i] - 1) * dil[i] + 1;
      const int64_t total = natural - target[i];
      if (total >= 0) {
        pads[size_t(i)] = small_begin ? total / 2 : total - total / 2;
        pads[size_t(i + 2)] = total - pads[size_t(i)];
      } else {
        pads[size_t(i)] = pads[size_t(i + 2)] = 0;
        output_padding[i] += -total;
      }
    }
  } else if (ap == AutoPad::kValid) {
    pads = {0, 0, 0, 0};
  }
  a.set("pads", pads);
  a.set("output_padding", output_padding);
  a.set("group", attrs.get_int("group", 1));
  std::vector<TensorId> inputs = {x, w};
  if (b != kNoTensor) inputs.push_back(b);
  if (final_output) return c.emit(OpKind::ConvTranspose, inputs, a);
  ASSIGN_OR_RETURN(auto outs, c.emit_node(OpKind::ConvTranspose, inputs, a, {NodeCtx::Out{}}));
  return outs[0];
}

Status map_conv_transpose_3d(NodeCtx& c, TensorId x, TensorId w, TensorId b);

}  // namespace

Status resolve_window(NodeCtx& c, const Shape& x, const std::vector<int64_t>& kernel, Attributes* out) {
  return resolve_window_of(c, c.attrs(), x, kernel, out);
}

StatusOr<TensorId> emit_conv(NodeCtx& c, TensorId x, TensorId w, TensorId b, bool final_output) {
  if (c.shape(x).size() == 3) return emit_1d_as_2d(c, x, w, b, final_output, emit_conv_2d);
  return emit_conv_2d(c, c.attrs(), x, w, b, final_output);
}

Status map_conv(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(TensorId w, c.req(1, "W"));
  return emit_conv(c, x, w, c.in(2), true).status();
}

Status map_conv_transpose(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(TensorId w, c.req(1, "W"));
  if (c.shape(x).size() == 3) return emit_1d_as_2d(c, x, w, c.in(2), true, emit_conv_transpose_2d).status();
  if (c.shape(x).size() == 5) return map_conv_transpose_3d(c, x, w, c.in(2));
  return emit_conv_transpose_2d(c, c.attrs(), x, w, c.in(2), true).status();
}

Status map_gemm(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId a, c.req(0, "A"));
  ASSIGN_OR_RETURN(TensorId b, c.req(1, "B"));
  Attributes at;
  at.set("alpha", c.attrs().get_float("alpha", 1.0));
  at.set("beta", c.attrs().get_float("beta", 1.0));
  at.set("transA", c.attrs().get_int("transA", 0));
  at.set("transB", c.attrs().get_int("transB", 0));
  std::vector<TensorId> inputs = {a, b};
  if (c.in(2) != kNoTensor) inputs.push_back(c.in(2));
  return c.emit(OpKind::Gemm, inputs, at).status();
}

Status map_matmul(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId a, c.req(0, "A"));
  ASSIGN_OR_RETURN(TensorId b, c.req(1, "B"));
  return c.emit(OpKind::MatMul, {a, b}, {}).status();
}

Status map_batchnorm(NodeCtx& c) {
  if (c.opset() < 9 && c.attrs().get_int("spatial", 1) != 1)
    return c.fail(Error::NotSupported, "spatial=0 (per-element statistics) is not supported");
  if (c.attrs().get_int("training_mode", 0) != 0)
    return c.fail(Error::NotSupported, "training_mode=1 is not supported (inference only)");
  for (size_t i = 1; i < c.num_outputs(); ++i)
    if (c.output_used(i))
      return c.fail(Error::NotSupported, "output ", i, " '", c.output_name(i),
                    "' (running statistics, training only) is not supported");
  std::vector<TensorId> inputs;
  static const char* kNames[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 0; i < 5; ++i) {
    ASSIGN_OR_RETURN(TensorId t, c.req(i, kNames[i]));
    inputs.push_back(t);
  }
  Attributes a;
  a.set("epsilon", c.attrs().get_float("epsilon", 1e-5));
  return c.emit(OpKind::BatchNormalization, inputs, a).status();
}

namespace {

// The 2-D pool of `attrs` (window not yet resolved) on the 4-D x; the ONNX output when
// `temp_suffix` is empty.
StatusOr<TensorId> emit_pool_2d(NodeCtx& c, const Attributes& attrs, TensorId x, const std::string& temp_suffix) {
  const bool is_max = c.op() == "MaxPool";
  RETURN_IF_ERROR(require_2d(c, x));
  Attributes a;
  RETURN_IF_ERROR(resolve_window_of(c, attrs, c.shape(x), {}, &a));
  if (!is_max) {
    if (attrs.has("dilations") && a.get_ints("dilations") != std::vector<int64_t>{1, 1})
      return c.fail(Error::NotSupported, "AveragePool dilations are not supported");
    a.erase("dilations");
    a.set("count_include_pad", attrs.get_int("count_include_pad", 0));
  }
  // ceil_mode only sets the output size (pool_f32.h); where rounding up adds no window it is
  // dropped, so that the NPU's ceil_mode rule does not keep such a pool on the CPU.
  int64_t ceil_mode = attrs.get_int("ceil_mode", 0) != 0 ? 1 : 0;
  if (ceil_mode) {
    const auto k = a.get_ints("kernel_shape"), st = a.get_ints("strides"), p = a.get_ints("pads");
    const auto d = a.get_ints("dilations", {1, 1});
    bool adds = false;
    for (size_t i = 0; i < 2; ++i) {
      const int64_t span = c.shape(x)[2 + i] + p[i] + p[i + 2] - (k[i] - 1) * d[i] - 1;
      adds = adds || (span >= 0 && span % st[i] != 0 && (span / st[i] + 1) * st[i] < c.shape(x)[2 + i] + p[i]);
    }
    if (!adds) ceil_mode = 0;
  }
  a.set("ceil_mode", ceil_mode);
  const OpKind kind = is_max ? OpKind::MaxPool : OpKind::AveragePool;
  if (temp_suffix.empty()) return c.emit(kind, {x}, a);
  return c.emit_temp(kind, {x}, a, temp_suffix);
}

// ---- 3-D pools and ConvTranspose -----------------------------------------------------------------
// The IR, the kernels and the NPU are 2-D; a 3-D node imports as an exact decomposition into 2-D
// ops, reshapes and transposes (docs/architecture.md, "1-D and 3-D spatial ops"), so int8 and the
// NPU need nothing new.

// One spatial axis of a 3-D window; pb/pe: padding at the begin/end.
struct Axis3 {
  int64_t k = 1, s = 1, d = 1, pb = 0, pe = 0;
};

// kernel_shape (or the weights' `kernel`), strides, dilations and pads of a 3-D node, checked and
// with auto_pad resolved (pools: from the input size; ConvTranspose resolves its own padding).
StatusOr<std::array<Axis3, 3>> window_3d(NodeCtx& c, const Shape& xs, const std::vector<int64_t>& kernel,
                                         bool resolve_auto_pad) {
  const Attributes& at = c.attrs();
  if (kernel.empty() && !at.has("kernel_shape")) return c.fail(Error::InvalidModel, "attribute kernel_shape is required");
  auto get = [&](const char* name, std::vector<int64_t> def, size_t size) -> StatusOr<std::vector<int64_t>> {
    std::vector<int64_t> v = at.get_ints(name, std::move(def));
    if (v.size() != size)
      return c.fail(Error::InvalidModel, "attribute ", name, " ", str_cat(v), " of a 3-D ", c.op(), " must have ", size,
                    " values");
    return v;
  };
  ASSIGN_OR_RETURN(auto k, get("kernel_shape", kernel, 3));
  if (!kernel.empty() && k != kernel)
    return c.fail(Error::InvalidModel, "attribute kernel_shape ", str_cat(k), " does not match the weights' kernel ",
                  str_cat(kernel));
  ASSIGN_OR_RETURN(auto s, get("strides", {1, 1, 1}, 3));
  ASSIGN_OR_RETURN(auto d, get("dilations", {1, 1, 1}, 3));
  ASSIGN_OR_RETURN(auto p, get("pads", {0, 0, 0, 0, 0, 0}, 6));
  for (int i = 0; i < 3; ++i)
    if (s[i] < 1 || d[i] < 1 || k[i] < 1 || s[i] > kMaxWindow || d[i] > kMaxWindow || k[i] > kMaxWindow)
      return c.fail(Error::InvalidModel, "kernel_shape ", str_cat(k), ", strides ", str_cat(s), " and dilations ",
                    str_cat(d), " must be in [1, ", kMaxWindow, "]");
  for (int64_t v : p)
    if (v < 0 || v > kMaxWindow) return c.fail(Error::InvalidModel, "pads ", str_cat(p), " must be in [0, ", kMaxWindow, "]");
  ASSIGN_OR_RETURN(AutoPad ap, get_auto_pad(c, at));
  std::array<Axis3, 3> w;
  for (int i = 0; i < 3; ++i) {
    Axis3& a = w[size_t(i)];
    a.k = k[i], a.s = s[i], a.d = d[i], a.pb = p[size_t(i)], a.pe = p[size_t(i + 3)];
    if (!resolve_auto_pad) continue;
    if (ap == AutoPad::kValid) a.pb = a.pe = 0;
    if (ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {  // as resolve_window_of
      const int64_t in = xs[size_t(2 + i)];
      const int64_t out = (in + a.s - 1) / a.s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * a.s + (a.k - 1) * a.d + 1 - in);
      a.pb = ap == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      a.pe = total - a.pb;
    }
  }
  return w;
}

// The 2-D window attributes of axes (a0, a1).
Attributes window_2d(const Axis3& a0, const Axis3& a1) {
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{a0.k, a1.k});
  a.set("strides", std::vector<int64_t>{a0.s, a1.s});
  a.set("dilations", std::vector<int64_t>{a0.d, a1.d});
  a.set("pads", std::vector<int64_t>{a0.pb, a1.pb, a0.pe, a1.pe});
  return a;
}

const char* const kAxisNames[3] = {"D", "H", "W"};

// The channels-last views: the decompositions below move data as [N, D, H, W, C] and give every
// 2-D op its NCHW input as Transpose(NHWC -> NCHW) of a reshaped channels-last tensor, and take
// its output back by Transpose(NCHW -> NHWC). layout-nhwc runs the 2-D ops channels-last and
// cancels those transposes with its own, so a 3-D op costs one Transpose at its input and one at
// its output, and consecutive 3-D ops cancel those too (the Reshapes between are free).
const std::vector<int64_t> kToChannelsLast5 = {0, 2, 3, 4, 1}, kFromChannelsLast5 = {0, 4, 1, 2, 3};
const std::vector<int64_t> kNhwcToNchw = {0, 3, 1, 2}, kNchwToNhwc = {0, 2, 3, 1};

StatusOr<TensorId> emit_transpose(NodeCtx& c, TensorId x, const std::vector<int64_t>& perm, const std::string& suffix) {
  Attributes a;
  a.set("perm", perm);
  if (suffix.empty()) return c.emit(OpKind::Transpose, {x}, a);
  return c.emit_temp(OpKind::Transpose, {x}, a, suffix);
}

// Channels-last x (rank 4, [n, h, w, c] after a Reshape to `nhwc`) as the NCHW input of a 2-D op.
StatusOr<TensorId> nchw_view(NodeCtx& c, TensorId x_cl, const Shape& nhwc, const std::string& suffix) {
  ASSIGN_OR_RETURN(TensorId r, emit_reshape(c, x_cl, nhwc, suffix + "_nhwc"));
  return emit_transpose(c, r, kNhwcToNchw, suffix + "_nchw");
}

// A 3-D pool is separable: the window is a box, so max, sum and count factor over the axes (the
// count of an AveragePool window, with or without the padding, is the product of its per-axis
// counts; -inf padding and ceil_mode are per axis too). X [N, C, D, H, W], channels-last:
//   Transpose [N, D, H, W, C] -> Reshape [N*D, H, W, C] -> 2-D pool over (H, W)
//   -> Reshape [N, D, H'*W', C] -> 2-D pool with window (kD, 1) over (D, H'*W')
//   -> Reshape [N, D', H', W', C] -> Transpose [N, C, D', H', W']
// (each 2-D pool between the NHWC <-> NCHW transposes layout-nhwc cancels). MaxPool is exact;
// AveragePool divides twice (a few ulps in float; an int8 graph rounds the intermediate, which
// host and programs share).
// In a QDQ model (X is a DequantizeLinear of a per-tensor int8/uint8 tensor) every tensor inside a
// 3-D pool gets a QuantizeLinear -> DequantizeLinear with X's parameters, as the pools' shared
// quantization wants, so fold-qdq makes each 2-D op, Reshape and Transpose an int8 op (max is exact
// that way; the average rounds once more, at the intermediate).
StatusOr<TensorId> requantize_like_input(NodeCtx& c, TensorId t, const QuantParams* qp, DType qdt,
                                         const std::string& suffix) {
  if (!qp) return t;
  NodeCtx::Out q;
  q.dtype = qdt;
  q.quant = *qp;
  ASSIGN_OR_RETURN(TensorId tq, c.emit_temp(OpKind::QuantizeLinear, {t}, {}, suffix + "_q", q));
  return c.emit_temp(OpKind::DequantizeLinear, {tq}, {}, suffix + "_dq");
}

Status map_pool_3d(NodeCtx& c, TensorId x) {
  const Shape xs = c.shape(x);
  QuantParams x_quant;  // a copy: emitting tensors moves the graph's
  const QuantParams* qp = nullptr;
  DType qdt = DType::Invalid;
  const NodeId xp = c.tensor(x).producer;
  if (xp >= 0 && !c.g().node(xp).dead && c.g().node(xp).kind == OpKind::DequantizeLinear) {
    const Tensor& q = c.tensor(c.g().node(xp).inputs[0]);
    if (!q.quant.empty() && !q.quant.per_axis() && (q.dtype == DType::I8 || q.dtype == DType::U8)) {
      x_quant = q.quant;
      qp = &x_quant;
      qdt = q.dtype;
    }
  }
  // Emits op(x) and, in a QDQ model, requantizes its output.
  auto rq = [&](StatusOr<TensorId> t, const std::string& suffix) -> StatusOr<TensorId> {
    if (!t.ok()) return t.status();
    return requantize_like_input(c, t.value(), qp, qdt, suffix);
  };
  ASSIGN_OR_RETURN(auto w, window_3d(c, xs, {}, true));
  const bool is_max = c.op() == "MaxPool";
  for (int i = 0; i < 3; ++i) {
    const Axis3& a = w[size_t(i)];
    const int64_t eff = (a.k - 1) * a.d + 1;
    if (!is_max && a.d != 1) return c.fail(Error::NotSupported, "AveragePool dilations are not supported");
    if (a.pb >= eff || a.pe >= eff)
      return c.fail(Error::InvalidModel, "pads of axis ", kAxisNames[i], " (", a.pb, ", ", a.pe,
                    ") must be smaller than the kernel ", a.k, is_max && a.d > 1 ? str_cat(" dilated by ", a.d) : "");
    if (xs[size_t(2 + i)] + a.pb + a.pe < eff)
      return c.fail(Error::InvalidModel, "the ", kAxisNames[i], " window (kernel ", a.k, ", dilation ", a.d,
                    ") is larger than the padded input (", xs[size_t(2 + i)], " + pads ", a.pb, "+", a.pe, ")");
  }
  Attributes hw = window_2d(w[1], w[2]), dd = window_2d(w[0], Axis3{});
  for (Attributes* a : {&hw, &dd}) {
    a->set("ceil_mode", c.attrs().get_int("ceil_mode", 0));
    if (!is_max) {
      a->set("count_include_pad", c.attrs().get_int("count_include_pad", 0));
      a->erase("dilations");
    }
  }
  const int64_t n = xs[0], ch = xs[1], d = xs[2];
  // (Not nchw_view: each Reshape and Transpose is requantized in a QDQ model.)
  ASSIGN_OR_RETURN(TensorId xcl, rq(emit_transpose(c, x, kToChannelsLast5, "channels_last"), "channels_last"));
  ASSIGN_OR_RETURN(TensorId x4r, rq(emit_reshape(c, xcl, {n * d, xs[3], xs[4], ch}, "fold_d_nhwc"), "fold_d_nhwc"));
  ASSIGN_OR_RETURN(TensorId x4, rq(emit_transpose(c, x4r, kNhwcToNchw, "fold_d_nchw"), "fold_d_nchw"));
  ASSIGN_OR_RETURN(TensorId y1, rq(emit_pool_2d(c, hw, x4, "pool_hw"), "pool_hw"));
  const int64_t oh = c.shape(y1)[2], ow = c.shape(y1)[3];
  ASSIGN_OR_RETURN(TensorId y1cl, rq(emit_transpose(c, y1, kNchwToNhwc, "pool_hw_nhwc"), "pool_hw_nhwc"));
  ASSIGN_OR_RETURN(TensorId y1v, rq(emit_reshape(c, y1cl, {n, d, oh * ow, ch}, "unfold_d_nhwc"), "unfold_d_nhwc"));
  ASSIGN_OR_RETURN(TensorId y1r, rq(emit_transpose(c, y1v, kNhwcToNchw, "unfold_d_nchw"), "unfold_d_nchw"));
  ASSIGN_OR_RETURN(TensorId y2, rq(emit_pool_2d(c, dd, y1r, "pool_d"), "pool_d"));
  const int64_t od = c.shape(y2)[2];
  ASSIGN_OR_RETURN(TensorId y2cl, rq(emit_transpose(c, y2, kNchwToNhwc, "pool_d_nhwc"), "pool_d_nhwc"));
  ASSIGN_OR_RETURN(TensorId y5, rq(emit_reshape(c, y2cl, {n, od, oh, ow, ch}, "channels_last_out"), "channels_last_out"));
  return emit_transpose(c, y5, kFromChannelsLast5, "").status();
}

// W [Cin, Cout/g, kD, kH, kW] as the (H, W) ConvTranspose's [Cin, Cout/g * kD, kH, kW]: output
// channel kd * Cout/g + co when `kd_major` (W's axes 1 and 2 swapped first), co * kD + kd otherwise.
// A DequantizeLinear of a constant is rebuilt on the rearranged integer constant (the per-channel
// scales of axis 1 follow their channels), as lift_1d_weights does, so the weight stays
// "DequantizeLinear of a constant" for fold-qdq.
StatusOr<TensorId> fold_kd_into_weights(NodeCtx& c, TensorId w, bool kd_major) {
  const Shape ws = c.shape(w);
  const int64_t cin = ws[0], cog = ws[1], kd = ws[2], plane = ws[3] * ws[4];
  const Shape w4 = {cin, cog * kd, ws[3], ws[4]};
  auto channel = [&](int64_t co, int64_t k) { return kd_major ? k * cog + co : co * kd + k; };
  const NodeId p = c.tensor(w).producer;
  if (p >= 0 && !c.g().node(p).dead && c.g().node(p).kind == OpKind::DequantizeLinear) {
    const Tensor& q = c.tensor(c.g().node(p).inputs[0]);
    if (q.is_constant() && (!q.quant.per_axis() || q.quant.axis == 1)) {
      TensorData data(q.data->dtype, w4);
      const size_t es = dtype_size(data.dtype), block = size_t(plane) * es;
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t co = 0; co < cog; ++co)
          for (int64_t k = 0; k < kd; ++k)
            std::memcpy(data.bytes.data() + size_t(ci * cog * kd + channel(co, k)) * block,
                        q.data->bytes.data() + size_t((ci * cog + co) * kd + k) * block, block);
      QuantParams qp = q.quant;
      if (qp.per_axis()) {
        QuantParams r;
        r.axis = 1;
        r.scale.resize(size_t(cog * kd));
        r.zero_point.resize(size_t(cog * kd));
        for (int64_t co = 0; co < cog; ++co)
          for (int64_t k = 0; k < kd; ++k) {
            r.scale[size_t(channel(co, k))] = qp.scale[size_t(co)];
            r.zero_point[size_t(channel(co, k))] = qp.zero_point[size_t(co)];
          }
        qp = std::move(r);
      }
      const TensorId q4 = c.add_constant("weight_hw_q", std::move(data), std::move(qp));
      return c.emit_temp(OpKind::DequantizeLinear, {q4}, {}, "weight_hw");
    }
  }
  TensorId t = w;
  if (kd_major) {
    Attributes a;
    a.set("perm", std::vector<int64_t>{0, 2, 1, 3, 4});
    ASSIGN_OR_RETURN(t, c.emit_temp(OpKind::Transpose, {w}, a, "weight_kd_major"));
  }
  return emit_reshape(c, t, w4, "weight_hw");
}

// A 3-D ConvTranspose is a 2-D one over (H, W) whose output channels are the (kd, co) pairs,
// followed by the scatter along D of each kd slice, a depthwise 2-D ConvTranspose with one-hot
// (kD, 1) kernels over (D, OH*OW), and the sum over kd, a depthwise (1, kD) Conv of ones with B.
// Channels-last as the pools (P = OH*OW; channel kd * Cout + co):
//   X -> Transpose [N, D, H, W, Cin] -> Reshape [N*D, H, W, Cin]
//   -> ConvTranspose(W as [Cin, kD*Cout/g, kH, kW], group g; the H, W attributes) [N*D, OH, OW, kD*Cout]
//   -> Reshape [N, D, P, kD*Cout]
//   -> ConvTranspose(one-hot [kD*Cout, 1, kD, 1], group kD*Cout; the D attributes) [N, OD, P, kD*Cout]
//   -> Reshape [N, OD, P*kD, Cout] -> Conv(ones [Cout, 1, 1, kD], stride (1, kD), group Cout, B) [N, OD, P, Cout]
//   -> Reshape [N, OD, OH, OW, Cout] -> Transpose [N, Cout, OD, OH, OW]
// (the sum runs over OD rows of P*kD pixels, not OD*P rows of kD: the NPU pays per row).
// A grouped ConvTranspose (g > 1) must keep its groups' channels together, so its channels come as
// (co, kd) and a Transpose of [N*D*OH*OW, Cout, kD] makes them (kd, co). kD = 1: no Conv, B goes
// to the scatter. Exact up to the order of the float sums.
Status map_conv_transpose_3d(NodeCtx& c, TensorId x, TensorId w, TensorId b) {
  const Shape xs = c.shape(x), ws = c.shape(w);
  if (ws.size() != 5)
    return c.fail(Error::InvalidModel, "input 1 (W) '", c.tensor(w).name, "' must be 5-D for a 3-D ConvTranspose, has shape ",
                  shape_str(ws));
  const int64_t group = c.attrs().get_int("group", 1);
  if (group < 1 || ws[0] % group != 0 || xs[1] != ws[0])
    return c.fail(Error::InvalidModel, "input 0 (X) has ", xs[1], " channels and W ", shape_str(ws), " with group=", group,
                  " expects ", ws[0], ", a multiple of the group");
  if (b != kNoTensor && c.shape(b) != Shape{ws[1] * group})
    return c.fail(Error::InvalidModel, "input 2 (B) '", c.tensor(b).name, "' must have shape [", ws[1] * group, "], has ",
                  shape_str(c.shape(b)));
  ASSIGN_OR_RETURN(auto w3, window_3d(c, xs, {ws[2], ws[3], ws[4]}, false));
  std::vector<int64_t> op = c.attrs().get_ints("output_padding", {0, 0, 0});
  if (op.size() != 3)
    return c.fail(Error::InvalidModel, "attribute output_padding ", str_cat(op), " of a 3-D ConvTranspose must have 3 values");
  ASSIGN_OR_RETURN(AutoPad ap, get_auto_pad(c, c.attrs()));
  std::vector<int64_t> target;
  if (c.attrs().has("output_shape")) {
    target = c.attrs().get_ints("output_shape");
    if (target.size() == 5) target.erase(target.begin(), target.begin() + 2);
    if (target.size() != 3)
      return c.fail(Error::InvalidModel, "attribute output_shape ", str_cat(c.attrs().get_ints("output_shape")),
                    " must give the 3 spatial sizes");
  } else if (ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
    for (int i = 0; i < 3; ++i) target.push_back(xs[size_t(2 + i)] * w3[size_t(i)].s);
  }
  std::array<int64_t, 3> out{};
  for (int i = 0; i < 3; ++i) {
    Axis3& a = w3[size_t(i)];
    if (op[size_t(i)] < 0 || op[size_t(i)] >= std::max(a.s, a.d))
      return c.fail(Error::InvalidModel, "attribute output_padding ", str_cat(op),
                    " must be non-negative and smaller than the stride or the dilation on each axis (axis ",
                    kAxisNames[i], ": stride ", a.s, ", dilation ", a.d, ")");
    const int64_t natural = a.s * (xs[size_t(2 + i)] - 1) + op[size_t(i)] + (a.k - 1) * a.d + 1;
    if (!target.empty()) {  // as emit_conv_transpose_2d
      if (target[size_t(i)] < 1 || target[size_t(i)] > kMaxWindow)
        return c.fail(Error::InvalidModel, "attribute output_shape ", str_cat(target), " must be in [1, ", kMaxWindow, "]");
      const int64_t total = natural - target[size_t(i)];
      if (total >= 0) {
        a.pb = ap == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        a.pe = total - a.pb;
      } else {
        a.pb = a.pe = 0;
        op[size_t(i)] += -total;
      }
    } else if (ap == AutoPad::kValid) {
      a.pb = a.pe = 0;
    }
    out[size_t(i)] = a.s * (xs[size_t(2 + i)] - 1) + op[size_t(i)] + (a.k - 1) * a.d + 1 - a.pb - a.pe;
    if (out[size_t(i)] < 1)
      return c.fail(Error::InvalidModel, "the pads of axis ", kAxisNames[i], " (", a.pb, ", ", a.pe, ") leave an empty output");
  }
  const int64_t n = xs[0], cin = xs[1], d = xs[2], kd = ws[2], cout = ws[1] * group;
  constexpr int64_t kMaxScatterWeights = int64_t(1) << 24;  // [kD*Cout, 1, kD, 1] floats, built here
  if (cout < 1 || kd * kd > kMaxScatterWeights / cout)
    return c.fail(Error::NotSupported, "a 3-D ConvTranspose with kernel depth ", kd, " and ", cout,
                  " output channels is outside what its decomposition supports (kD * kD * Cout <= ", kMaxScatterWeights,
                  ", Cout >= 1)");
  // Stage 1: (H, W) with D folded into the batch.
  ASSIGN_OR_RETURN(TensorId xcl, emit_transpose(c, x, kToChannelsLast5, "channels_last"));
  ASSIGN_OR_RETURN(TensorId x4, nchw_view(c, xcl, {n * d, xs[3], xs[4], cin}, "fold_d"));
  ASSIGN_OR_RETURN(TensorId w4, fold_kd_into_weights(c, w, group == 1));
  Attributes hw = window_2d(w3[1], w3[2]);
  hw.set("output_padding", std::vector<int64_t>{op[1], op[2]});
  hw.set("group", group);
  ASSIGN_OR_RETURN(TensorId z, emit_conv_transpose_2d(c, hw, x4, w4, kNoTensor, false));
  const int64_t oh = c.shape(z)[2], ow = c.shape(z)[3], pix = oh * ow;
  ASSIGN_OR_RETURN(TensorId zcl, emit_transpose(c, z, kNchwToNhwc, "hw_nhwc"));
  if (group > 1 && kd > 1) {  // channels (co, kd) -> (kd, co)
    ASSIGN_OR_RETURN(TensorId zv, emit_reshape(c, zcl, {n * d * pix, cout, kd}, "co_kd"));
    ASSIGN_OR_RETURN(zcl, emit_transpose(c, zv, {0, 2, 1}, "kd_co"));
  }
  ASSIGN_OR_RETURN(TensorId zr, nchw_view(c, zcl, {n, d, pix, kd * cout}, "unfold_d"));
  // Stage 2: the scatter along D; channel kd * Cout + co has its one at tap kd.
  TensorData onehot(DType::F32, {kd * cout, 1, kd, 1});
  for (int64_t ch = 0; ch < kd * cout; ++ch) onehot.data<float>()[ch * kd + ch / cout] = 1.0f;
  const TensorId w_d = c.add_constant("scatter_d", std::move(onehot));
  Attributes da = window_2d(w3[0], Axis3{});
  da.set("output_padding", std::vector<int64_t>{op[0], 0});
  da.set("group", kd * cout);
  ASSIGN_OR_RETURN(TensorId u, emit_conv_transpose_2d(c, da, zr, w_d, kd == 1 ? b : kNoTensor, false));
  const int64_t od = c.shape(u)[2];
  ASSIGN_OR_RETURN(TensorId y, emit_transpose(c, u, kNchwToNhwc, "d_nhwc"));
  if (kd > 1) {  // Stage 3: the sum over kd, and B.
    ASSIGN_OR_RETURN(TensorId ur, nchw_view(c, y, {n, od, pix * kd, cout}, "kd_w"));
    TensorData ones(DType::F32, {cout, 1, 1, kd});
    for (int64_t i = 0; i < ones.count(); ++i) ones.data<float>()[i] = 1.0f;
    const TensorId w_sum = c.add_constant("sum_kd", std::move(ones));
    Attributes sa = window_2d(Axis3{}, Axis3{kd, kd, 1, 0, 0});  // window = stride = kD along (P, kD)
    sa.set("group", cout);
    std::vector<TensorId> inputs = {ur, w_sum};
    if (b != kNoTensor) inputs.push_back(b);
    ASSIGN_OR_RETURN(TensorId sum, c.emit_temp(OpKind::Conv, inputs, sa, "sum_kd"));
    ASSIGN_OR_RETURN(y, emit_transpose(c, sum, kNchwToNhwc, "sum_kd_nhwc"));
  }
  if (od != out[0] || oh != out[1] || ow != out[2])
    return c.fail(Error::Internal, "3-D ConvTranspose decomposition gives ", od, "x", oh, "x", ow, ", expected ",
                  str_cat(std::vector<int64_t>(out.begin(), out.end())));
  ASSIGN_OR_RETURN(TensorId y5, emit_reshape(c, y, {n, od, oh, ow, cout}, "channels_last_out"));
  return emit_transpose(c, y5, kFromChannelsLast5, "").status();
}

}  // namespace

// A 1-D pool (X [N, C, L]) runs as the 2-D pool of an H = 1 image, as a 1-D conv does (upstream:
// unsqueeze -> 2-D pool -> squeeze): Reshape to [N, C, 1, L], the pool with H window 1, Reshape
// back to [N, C, L']. A 3-D pool runs as two 2-D pools (map_pool_3d).
Status map_pool(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  const bool is_max = c.op() == "MaxPool";
  if (is_max && c.output_used(1))
    return c.fail(Error::NotSupported, "the Indices output '", c.output_name(1), "' is not supported");
  const Shape xs = c.shape(x);
  if (xs.size() == 5) return map_pool_3d(c, x);
  if (xs.size() != 3) return emit_pool_2d(c, c.attrs(), x, "").status();
  ASSIGN_OR_RETURN(Attributes attrs, lift_1d_attrs(c));
  ASSIGN_OR_RETURN(x, emit_reshape(c, x, {xs[0], xs[1], 1, xs[2]}, "unsqueeze_h"));
  ASSIGN_OR_RETURN(TensorId y4, emit_pool_2d(c, attrs, x, "pool_2d"));
  const Shape ys = c.shape(y4);
  return emit_reshape(c, y4, {ys[0], ys[1], ys[3]}).status();
}

Status map_global_pool(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  const OpKind kind = c.op() == "GlobalMaxPool" ? OpKind::GlobalMaxPool : OpKind::GlobalAveragePool;
  const Shape xs = c.shape(x);
  if (xs.size() == 3) {  // [N, C, L] -> [N, C, 1, L] -> [N, C, 1, 1] -> [N, C, 1]
    ASSIGN_OR_RETURN(TensorId x4, emit_reshape(c, x, {xs[0], xs[1], 1, xs[2]}, "unsqueeze_h"));
    ASSIGN_OR_RETURN(TensorId y4, c.emit_temp(kind, {x4}, {}, "pool_2d"));
    return emit_reshape(c, y4, {xs[0], xs[1], 1}).status();
  }
  if (xs.size() == 5) {  // [N, C, D, H, W] -> [N, C, D*H, W]: the same pixels in the same order
    ASSIGN_OR_RETURN(TensorId x4, emit_reshape(c, x, {xs[0], xs[1], xs[2] * xs[3], xs[4]}, "fold_d"));
    ASSIGN_OR_RETURN(TensorId y4, c.emit_temp(kind, {x4}, {}, "pool_2d"));
    return emit_reshape(c, y4, {xs[0], xs[1], 1, 1, 1}).status();
  }
  RETURN_IF_ERROR(require_2d(c, x));
  return c.emit(kind, {x}, {}).status();
}

// GRU and LSTM (opset 7+: no `output_sequence`): float recurrent ops with ONNX's inputs and
// outputs; sequence_lens only when every sequence has the full length (then dropped). Activations
// only when they are the defaults (spelled out or not); clip and input_forget are refused naming
// the node and attribute. Layout 1 (batch first, opset 14) imports as the layout-0 op between
// exact permutations of X, the initial states and the outputs (reshapes when only unit
// dimensions move, e.g. batch 1). LSTM peepholes (input P) are kept (float kernels only).
namespace {

std::string join_strings(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s + "]";
}

// x permuted by perm: a Reshape when the non-unit dimensions keep their order (the data does not
// move), else a Transpose. `output_index` >= 0 binds that ONNX output, else the result is a temporary.
StatusOr<TensorId> emit_permute(NodeCtx& c, TensorId x, const std::vector<int64_t>& perm, int output_index,
                                const std::string& suffix) {
  const Shape& xs = c.shape(x);
  Shape ys;
  for (int64_t p : perm) ys.push_back(xs[size_t(p)]);
  std::vector<int64_t> moved;  // source axes of the non-unit dimensions, in output order
  for (int64_t p : perm)
    if (xs[size_t(p)] != 1) moved.push_back(p);
  Attributes a;
  OpKind kind = OpKind::Transpose;
  if (std::is_sorted(moved.begin(), moved.end())) {
    kind = OpKind::Reshape;
    a.set("shape", ys);
  } else {
    a.set("perm", perm);
  }
  if (output_index >= 0) return c.emit(kind, {x}, a, size_t(output_index));
  return c.emit_temp(kind, {x}, a, suffix);
}

}  // namespace

Status map_recurrent(NodeCtx& c) {
  const bool lstm = c.op() == "LSTM";
  const OpKind kind = lstm ? OpKind::LSTM : OpKind::GRU;
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(TensorId w, c.req(1, "W"));
  ASSIGN_OR_RETURN(TensorId r, c.req(2, "R"));
  const std::string dir = c.attrs().get_string("direction", "forward");
  if (c.has_attr("activations")) {
    // The defaults spelled out: f, g (and LSTM's h) per direction.
    std::vector<std::string> want = lstm ? std::vector<std::string>{"sigmoid", "tanh", "tanh"}
                                         : std::vector<std::string>{"sigmoid", "tanh"};
    if (dir == "bidirectional") {
      const std::vector<std::string> one = want;
      want.insert(want.end(), one.begin(), one.end());
    }
    std::vector<std::string> got = c.strings_attr("activations");
    for (auto& s : got) std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    if (got != want)
      return c.fail(Error::NotSupported, "attribute activations ", join_strings(c.strings_attr("activations")),
                    " is not supported (only the defaults: ", lstm ? "Sigmoid, Tanh, Tanh" : "Sigmoid, Tanh",
                    " per direction)");
  }
  for (const char* a : {"activation_alpha", "activation_beta", "clip"})
    if (c.has_attr(a))
      return c.fail(Error::NotSupported, "attribute ", a, " is not supported (default activations, no clip only)");
  const int64_t layout = c.attrs().get_int("layout", 0);
  if (layout != 0 && layout != 1) return c.fail(Error::InvalidModel, "attribute layout ", layout, " is not 0 or 1");
  if (lstm && c.attrs().get_int("input_forget", 0) != 0)
    return c.fail(Error::NotSupported, "attribute input_forget 1 is not supported");
  if (layout == 1 && c.shape(x).size() != 3)
    return c.fail(Error::InvalidModel, "input 0 (X) must be [batch_size, seq_length, input_size] (layout 1), has shape ",
                  shape_str(c.shape(x)));
  if (c.has_input(4)) {
    ASSIGN_OR_RETURN(auto lens, c.constant_ints(4, "sequence_lens"));
    const Shape& xs = c.shape(x);
    const int64_t seq = xs.size() == 3 ? xs[size_t(layout)] : 0;
    for (int64_t v : lens)
      if (v != seq)
        return c.fail(Error::NotSupported, "input 4 (sequence_lens) ", str_cat(lens),
                      " must give every sequence the full length ", seq);
  }
  Attributes a;
  a.set("hidden_size", c.attrs().get_int("hidden_size", 0));
  a.set("direction", dir);
  if (!lstm) a.set("linear_before_reset", c.attrs().get_int("linear_before_reset", 0));
  TensorId h0 = c.in(5), c0 = lstm ? c.in(6) : kNoTensor;
  if (layout == 1) {  // [B, T, I] -> [T, B, I]; initial states [B, D, H] -> [D, B, H]
    ASSIGN_OR_RETURN(x, emit_permute(c, x, {1, 0, 2}, -1, "X_seq_first"));
    for (TensorId* s : {&h0, &c0}) {
      if (*s == kNoTensor) continue;
      if (c.shape(*s).size() != 3)
        return c.fail(Error::InvalidModel, "initial state '", c.tensor(*s).name, "' must be [batch_size, num_directions, "
                      "hidden_size] (layout 1), has shape ", shape_str(c.shape(*s)));
      ASSIGN_OR_RETURN(*s, emit_permute(c, *s, {1, 0, 2}, -1, s == &h0 ? "initial_h_dir_first" : "initial_c_dir_first"));
    }
  }
  std::vector<TensorId> inputs = {x, w, r, c.in(3), kNoTensor, h0};
  if (lstm) {
    inputs.push_back(c0);
    if (c.has_input(7)) inputs.push_back(c.in(7));
  }
  std::vector<NodeCtx::Out> outs(lstm ? 3 : 2);
  if (layout == 0)
    for (size_t i = 0; i < outs.size(); ++i)
      if (c.has_output(i)) outs[i].name = c.output_name(i);
  ASSIGN_OR_RETURN(auto ts, c.emit_node(kind, inputs, a, outs));
  if (layout == 0) {
    for (size_t i = 0; i < ts.size(); ++i) c.bind_output(i, ts[i]);
    return Status::OK();
  }
  // Y [T, D, B, H] -> [B, T, D, H]; Y_h, Y_c [D, B, H] -> [B, D, H].
  for (size_t i = 0; i < ts.size(); ++i) {
    if (!c.has_output(i)) continue;
    const std::vector<int64_t> perm = i == 0 ? std::vector<int64_t>{2, 0, 1, 3} : std::vector<int64_t>{1, 0, 2};
    RETURN_IF_ERROR(emit_permute(c, ts[i], perm, int(i), "").status());
  }
  return Status::OK();
}

// LpNormalization: p = 2 only (p = 1 is refused by the shape rule); eps 0 (ONNX has none).
Status map_lp_normalization(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  const int64_t axis_attr = c.attrs().get_int("axis", -1);
  const int axis = normalize_axis(axis_attr, c.shape(x).size());
  if (axis < 0)
    return c.fail(Error::InvalidModel, "attribute axis=", axis_attr, " is out of range for input shape ",
                  shape_str(c.shape(x)));
  Attributes a;
  a.set("axis", int64_t(axis));
  a.set("p", c.attrs().get_int("p", 2));
  return c.emit(OpKind::LpNormalization, {x}, a).status();
}

Status map_softmax(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  const Shape xs = c.shape(x);
  const int64_t axis_attr = c.attrs().get_int("axis", c.opset() >= 13 ? -1 : 1);
  const int axis = normalize_axis(axis_attr, xs.size());
  if (axis < 0)
    return c.fail(Error::InvalidModel, "attribute axis=", axis_attr, " is out of range for input shape ", shape_str(xs));
  Attributes a;
  if (c.opset() >= 13 || size_t(axis) + 1 == xs.size()) {
    a.set("axis", int64_t(axis));
    return c.emit(OpKind::Softmax, {x}, a).status();
  }
  // Before opset 13, Softmax normalizes over all axes from `axis` on (the input flattened to 2-D).
  Shape flat = {1, 1};
  for (size_t i = 0; i < xs.size(); ++i) flat[i < size_t(axis) ? 0 : 1] *= xs[i];
  ASSIGN_OR_RETURN(TensorId r, emit_reshape(c, x, flat, "flatten"));
  a.set("axis", int64_t(1));
  ASSIGN_OR_RETURN(auto s, c.emit_node(OpKind::Softmax, {r}, a, {NodeCtx::Out{}}));
  Attributes ra;
  ra.set("shape", xs);
  NodeCtx::Out out;
  if (c.has_output(0)) out.name = c.output_name(0);
  ASSIGN_OR_RETURN(auto y, c.emit_node(OpKind::Reshape, {s[0]}, ra, {out}, "unflatten"));
  c.bind_output(0, y[0]);
  return Status::OK();
}

namespace {

Status emit_resize(NodeCtx& c, TensorId x, const std::string& mode, const std::string& ctm, const std::string& nearest,
                   const std::vector<double>& scales) {
  const Shape& xs = c.shape(x);
  if (scales.size() != xs.size())
    return c.fail(Error::InvalidModel, "scales ", str_cat(scales), " must have one value per input axis (", xs.size(), ")");
  Attributes a;
  a.set("mode", mode);
  a.set("coordinate_transformation_mode", ctm);
  a.set("nearest_mode", nearest);
  a.set("scales", scales);
  return c.emit(OpKind::Resize, {x}, a).status();
}

StatusOr<std::string> resize_mode(NodeCtx& c) {
  std::string mode = c.attrs().get_string("mode", "nearest");
  if (mode == "bilinear") mode = "linear";  // Upsample-7 spelling
  if (mode == "cubic" || mode == "bicubic") return c.fail(Error::NotSupported, "mode \"cubic\" is not supported");
  if (mode != "nearest" && mode != "linear") return c.fail(Error::InvalidModel, "attribute mode has unknown value \"", mode, "\"");
  return mode;
}

}  // namespace

Status map_resize(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(std::string mode, resize_mode(c));
  const Shape xs = c.shape(x);
  if (c.opset() < 11) {  // Resize-10: (X, scales), asymmetric coordinates, nearest = floor
    ASSIGN_OR_RETURN(auto scales, c.constant_floats(1, "scales"));
    return emit_resize(c, x, mode, "asymmetric", "floor", scales);
  }
  // Opset 18 additions: antialias only off; axes (scales or sizes of the listed axes only, the
  // others kept); keep_aspect_ratio_policy with sizes when the output it asks for is the one the
  // IR's scales give (floor(in * scale)): else refused naming the policy.
  if (c.attrs().get_int("antialias", 0) != 0) return c.fail(Error::NotSupported, "antialias=1 is not supported");
  const size_t rank = xs.size();
  std::vector<size_t> axes;
  if (c.attrs().has("axes")) {
    for (int64_t a : c.attrs().get_ints("axes")) {
      const int ax = normalize_axis(a, rank);
      if (ax < 0 || std::find(axes.begin(), axes.end(), size_t(ax)) != axes.end())
        return c.fail(Error::InvalidModel, "attribute axes ", str_cat(c.attrs().get_ints("axes")),
                      " has an out-of-range or repeated axis ", a, " for rank ", rank);
      axes.push_back(size_t(ax));
    }
  } else {
    for (size_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (axes.empty()) return c.fail(Error::InvalidModel, "attribute axes is empty");
  const std::string policy = c.attrs().get_string("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
    return c.fail(Error::InvalidModel, "attribute keep_aspect_ratio_policy has unknown value \"", policy, "\"");
  const std::string ctm = c.attrs().get_string("coordinate_transformation_mode", "half_pixel");
  static const char* kModes[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"};
  if (ctm == "tf_crop_and_resize")
    return c.fail(Error::NotSupported, "coordinate_transformation_mode \"tf_crop_and_resize\" is not supported");
  if (std::find(std::begin(kModes), std::end(kModes), ctm) == std::end(kModes))
    return c.fail(Error::InvalidModel, "attribute coordinate_transformation_mode has unknown value \"", ctm, "\"");
  const std::string nearest = c.attrs().get_string("nearest_mode", "round_prefer_floor");
  if (nearest != "round_prefer_floor" && nearest != "round_prefer_ceil" && nearest != "floor" && nearest != "ceil")
    return c.fail(Error::InvalidModel, "attribute nearest_mode has unknown value \"", nearest, "\"");
  std::vector<double> given;
  if (c.has_input(2)) {
    ASSIGN_OR_RETURN(given, c.constant_floats(2, "scales"));
  }
  std::vector<double> scales(rank, 1.0);
  if (given.empty()) {
    if (!c.has_input(3)) return c.fail(Error::InvalidModel, "needs a non-empty scales or sizes input");
    ASSIGN_OR_RETURN(auto sizes, c.constant_ints(3, "sizes"));
    if (sizes.size() != axes.size())
      return c.fail(Error::InvalidModel, "input 3 (sizes) ", str_cat(sizes), " must have one value per resized axis (",
                    axes.size(), ")");
    for (size_t i = 0; i < axes.size(); ++i) {
      if (xs[axes[i]] <= 0 || sizes[i] <= 0)
        return c.fail(Error::InvalidModel, "sizes ", str_cat(sizes), " must be positive for input shape ", shape_str(xs));
      scales[axes[i]] = double(sizes[i]) / double(xs[axes[i]]);
    }
    if (policy != "stretch") {
      double s = scales[axes[0]];
      for (size_t a : axes) s = policy == "not_larger" ? std::min(s, scales[a]) : std::max(s, scales[a]);
      for (size_t a : axes) {
        scales[a] = s;
        const double want = std::floor(s * double(xs[a]) + 0.5);  // ONNX: round(scale * in)
        if (std::floor(double(xs[a]) * s + 1e-9) != want)
          return c.fail(Error::NotSupported, "keep_aspect_ratio_policy \"", policy, "\" with sizes ", str_cat(sizes),
                        " gives axis ", a, " the size ", want, ", which a scale of ", s,
                        " does not (only sizes whose rounding is exact are supported)");
      }
    }
  } else {
    if (c.has_input(3) && c.tensor(c.in(3)).shape != Shape{0} && num_elements(c.tensor(c.in(3)).shape) != 0)
      return c.fail(Error::InvalidModel, "has both scales and sizes");
    if (given.size() != axes.size())
      return c.fail(Error::InvalidModel, "scales ", str_cat(given), " must have one value per resized axis (", axes.size(),
                    ")");
    for (size_t i = 0; i < axes.size(); ++i) scales[axes[i]] = given[i];
  }
  return emit_resize(c, x, mode, ctm, nearest, scales);
}

Status map_upsample(NodeCtx& c) {
  if (c.opset() >= 10) return c.fail(Error::NotSupported, "Upsample is deprecated since opset 10; use Resize");
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(std::string mode, resize_mode(c));
  std::vector<double> scales;
  if (c.opset() >= 9) {
    ASSIGN_OR_RETURN(scales, c.constant_floats(1, "scales"));
  } else {
    scales = c.attrs().get_floats("scales");
  }
  return emit_resize(c, x, mode, "asymmetric", "floor", scales);
}

}  // namespace neutron
