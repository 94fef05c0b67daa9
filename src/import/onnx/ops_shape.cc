// Mappers of data-movement and reduction ops. Their constant operands (shapes, axes, starts/ends,
// pads, split sizes) become attributes, resolved against the input shape: Reshape's 0 and -1,
// Slice clamping, negative axes, Flatten/Squeeze/Unsqueeze as Reshape.
#include <algorithm>

#include "import/onnx/onnx_ops.h"
#include "import/onnx/tensor_proto.h"

namespace neutron {
namespace {

// Normalizes and sorts a list of axes of a tensor of rank `rank`; fails on out-of-range or
// repeated axes.
StatusOr<std::vector<int64_t>> normalize_axes(NodeCtx& c, const std::vector<int64_t>& axes, size_t rank,
                                              const char* what) {
  std::vector<int64_t> r;
  for (int64_t a : axes) {
    const int ax = normalize_axis(a, rank);
    if (ax < 0) return c.fail(Error::InvalidModel, what, " ", str_cat(axes), " has axis ", a, " out of range for rank ", rank);
    if (std::find(r.begin(), r.end(), ax) != r.end())
      return c.fail(Error::InvalidModel, what, " ", str_cat(axes), " repeats axis ", a);
    r.push_back(ax);
  }
  std::sort(r.begin(), r.end());
  return r;
}

// Axes from the attribute (before `input_since_opset`) or from constant input 1.
StatusOr<std::vector<int64_t>> axes_operand(NodeCtx& c, int input_since_opset, bool* present) {
  *present = false;
  if (c.opset() < input_since_opset) {
    *present = c.attrs().has("axes");
    return c.attrs().get_ints("axes");
  }
  if (!c.has_input(1)) return std::vector<int64_t>{};
  *present = true;
  return c.constant_ints(1, "axes");
}

}  // namespace

StatusOr<TensorId> emit_reshape(NodeCtx& c, TensorId x, const Shape& shape, const std::string& temp_suffix) {
  Attributes a;
  a.set("shape", shape);
  if (temp_suffix.empty()) return c.emit(OpKind::Reshape, {x}, a);
  return c.emit_temp(OpKind::Reshape, {x}, a, temp_suffix);
}

Status map_identity(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  c.bind_output(0, x);
  return Status::OK();
}

Status map_dropout(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  if (c.opset() >= 12 && c.has_input(2)) {
    ASSIGN_OR_RETURN(const TensorData* training, c.constant(2, "training_mode"));
    if (training->count() != 1) return c.fail(Error::InvalidModel, "input 2 (training_mode) must be a scalar");
    if (training->get_as_int(0) != 0) {
      double ratio = 0.5;
      if (c.has_input(1)) {
        ASSIGN_OR_RETURN(auto r, c.constant_floats(1, "ratio"));
        if (r.size() != 1) return c.fail(Error::InvalidModel, "input 1 (ratio) must be a scalar");
        ratio = r[0];
      }
      if (ratio != 0)
        return c.fail(Error::NotSupported, "training_mode=true with ratio ", ratio, " (random dropout) is not supported");
    }
  }
  c.bind_output(0, x);
  if (c.output_used(1)) {  // mask: all true in inference
    TensorData mask(DType::Bool, c.shape(x));
    std::fill(mask.bytes.begin(), mask.bytes.end(), 1);
    c.bind_constant(1, std::move(mask));
  }
  return Status::OK();
}

Status map_cast(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  if (!c.attrs().has("to")) return c.fail(Error::InvalidModel, "attribute to is required");
  const int64_t to = c.attrs().get_int("to", 0);
  const DType dt = dtype_from_onnx(int32_t(to));
  if (dt == DType::Invalid) return c.fail(Error::NotSupported, "cast to ", onnx_dtype_name(int32_t(to)), " is not supported");
  if (c.tensor(x).dtype == dt) {  // e.g. the Cast(to=UINT8) PyTorch puts after QuantizeLinear
    c.bind_output(0, x);
    return Status::OK();
  }
  Attributes a;
  a.set("to", int64_t(dt));
  return c.emit(OpKind::Cast, {x}, a).status();
}

Status map_reshape(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  ASSIGN_OR_RETURN(auto spec, c.constant_ints(1, "shape"));
  const Shape& xs = c.shape(x);
  const bool allowzero = c.opset() >= 14 && c.attrs().get_int("allowzero", 0) != 0;
  Shape out(spec.size());
  int minus_one = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowzero) {
      if (i >= xs.size())
        return c.fail(Error::InvalidModel, "shape ", str_cat(spec), " copies dimension ", i, " (0), but the input ",
                      shape_str(xs), " has rank ", xs.size());
      d = xs[i];
    }
    if (d == -1) {
      if (minus_one >= 0) return c.fail(Error::InvalidModel, "shape ", str_cat(spec), " has more than one -1");
      minus_one = int(i);
      continue;
    }
    if (d < 0 || d > kMaxTensorElements || (d > 0 && known > kMaxTensorElements / d))
      return c.fail(Error::InvalidModel, "shape ", str_cat(spec), " has the invalid dimension ", d);
    out[i] = d;
    known *= d;
  }
  const int64_t total = num_elements(xs);
  if (minus_one >= 0) {
    if (known == 0 || total % known != 0)
      return c.fail(Error::InvalidModel, "cannot infer the -1 of shape ", str_cat(spec), " for input ", shape_str(xs));
    out[size_t(minus_one)] = total / known;
  }
  if (num_elements(out) != total)
    return c.fail(Error::InvalidModel, "cannot reshape ", shape_str(xs), " to ", str_cat(spec), " (resolved ",
                  shape_str(out), ")");
  return emit_reshape(c, x, out).status();
}

Status map_flatten(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  const Shape& xs = c.shape(x);
  int64_t axis = c.attrs().get_int("axis", 1);
  const int64_t rank = int64_t(xs.size());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank)
    return c.fail(Error::InvalidModel, "attribute axis=", c.attrs().get_int("axis", 1), " is out of range for rank ", rank);
  Shape out = {1, 1};
  for (int64_t i = 0; i < rank; ++i) out[i < axis ? 0 : 1] *= xs[size_t(i)];
  return emit_reshape(c, x, out).status();
}

Status map_squeeze(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  const Shape& xs = c.shape(x);
  bool present = false;
  ASSIGN_OR_RETURN(auto axes_in, axes_operand(c, 13, &present));
  ASSIGN_OR_RETURN(auto axes, normalize_axes(c, axes_in, xs.size(), "axes"));
  Shape out;
  for (size_t i = 0; i < xs.size(); ++i) {
    const bool listed = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    if (listed && xs[i] != 1)
      return c.fail(Error::InvalidModel, "cannot squeeze axis ", i, " of size ", xs[i], " (input shape ", shape_str(xs), ")");
    if (listed || (axes.empty() && xs[i] == 1)) continue;
    out.push_back(xs[i]);
  }
  return emit_reshape(c, x, out).status();
}

Status map_unsqueeze(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  const Shape& xs = c.shape(x);
  bool present = false;
  ASSIGN_OR_RETURN(auto axes_in, axes_operand(c, 13, &present));
  if (!present) return c.fail(Error::InvalidModel, "axes are required");
  const size_t rank = xs.size() + axes_in.size();
  ASSIGN_OR_RETURN(auto axes, normalize_axes(c, axes_in, rank, "axes"));
  Shape out;
  size_t next = 0;
  for (size_t i = 0; i < rank; ++i) {
    if (std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end()) out.push_back(1);
    else out.push_back(xs[next++]);
  }
  return emit_reshape(c, x, out).status();
}

Status map_transpose(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  const size_t rank = c.shape(x).size();
  std::vector<int64_t> identity(rank), reverse(rank);
  for (size_t i = 0; i < rank; ++i) {
    identity[i] = int64_t(i);
    reverse[i] = int64_t(rank - 1 - i);
  }
  auto perm = c.attrs().get_ints("perm", reverse);
  for (auto& p : perm)
    if (p < 0) p += int64_t(rank);  // accepted by some runtimes; harmless
  if (perm == identity) {
    c.bind_output(0, x);
    return Status::OK();
  }
  Attributes a;
  a.set("perm", perm);
  return c.emit(OpKind::Transpose, {x}, a).status();
}

Status map_slice(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  const Shape& xs = c.shape(x);
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset() < 10) {
    starts = c.attrs().get_ints("starts");
    ends = c.attrs().get_ints("ends");
    axes = c.attrs().get_ints("axes");
  } else {
    ASSIGN_OR_RETURN(starts, c.constant_ints(1, "starts"));
    ASSIGN_OR_RETURN(ends, c.constant_ints(2, "ends"));
    if (c.has_input(3)) {
      ASSIGN_OR_RETURN(axes, c.constant_ints(3, "axes"));
    }
    if (c.has_input(4)) {
      ASSIGN_OR_RETURN(steps, c.constant_ints(4, "steps"));
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return c.fail(Error::InvalidModel, "starts ", str_cat(starts), ", ends ", str_cat(ends), ", axes ", str_cat(axes),
                  " and steps ", str_cat(steps), " must have the same length");
  const size_t rank = xs.size();
  std::vector<int64_t> s(rank, 0), e(xs), st(rank, 1), all(rank);
  std::vector<char> seen(rank, 0);
  for (size_t d = 0; d < rank; ++d) all[d] = int64_t(d);
  for (size_t i = 0; i < starts.size(); ++i) {
    const int ax = normalize_axis(axes[i], rank);
    if (ax < 0 || seen[size_t(ax)])
      return c.fail(Error::InvalidModel, "axes ", str_cat(axes), " has an out-of-range or repeated axis ", axes[i]);
    seen[size_t(ax)] = 1;
    if (steps[i] == 0) return c.fail(Error::InvalidModel, "steps ", str_cat(steps), " must not contain 0");
    const int64_t d = xs[size_t(ax)];
    int64_t b = starts[i], en = ends[i];
    if (b < 0) b += d;  // b >= INT64_MIN and d >= 0: no overflow
    if (en < 0) en += d;
    if (d == 0) {
      b = en = 0;
      steps[i] = 1;
    } else if (steps[i] > 0) {
      b = std::clamp<int64_t>(b, 0, d);
      en = std::clamp<int64_t>(en, 0, d);
    } else {
      b = std::clamp<int64_t>(b, 0, d - 1);
      en = std::clamp<int64_t>(en, -1, d - 1);
    }
    s[size_t(ax)] = b;
    e[size_t(ax)] = en;
    st[size_t(ax)] = steps[i];
  }
  Attributes a;
  a.set("starts", s);
  a.set("ends", e);
  a.set("axes", all);
  a.set("steps", st);
  return c.emit(OpKind::Slice, {x}, a).status();
}

Status map_split(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  const Shape& xs = c.shape(x);
  const int64_t axis_attr = c.attrs().get_int("axis", 0);
  const int axis = normalize_axis(axis_attr, xs.size());
  if (axis < 0) return c.fail(Error::InvalidModel, "attribute axis=", axis_attr, " is out of range for shape ", shape_str(xs));
  std::vector<int64_t> split;
  if (c.opset() >= 13) {
    if (c.has_input(1)) {
      ASSIGN_OR_RETURN(split, c.constant_ints(1, "split"));
    }
  } else {
    split = c.attrs().get_ints("split");
  }
  const size_t n = c.num_outputs();
  if (n == 0) return c.fail(Error::InvalidModel, "has no outputs");
  if (split.empty() && c.opset() >= 18 && c.attrs().has("num_outputs")) {
    // Opset 18: num_outputs chunks of ceil(d / n), the last one smaller.
    const int64_t d = xs[size_t(axis)], parts = c.attrs().get_int("num_outputs", 0);
    if (parts != int64_t(n)) return c.fail(Error::InvalidModel, "num_outputs=", parts, " but the node has ", n, " outputs");
    const int64_t chunk = (d + parts - 1) / parts;
    for (int64_t i = 0, left = d; i < parts; ++i, left -= chunk) split.push_back(std::max<int64_t>(0, std::min(chunk, left)));
  }
  if (split.empty()) {
    if (xs[size_t(axis)] % int64_t(n) != 0)
      return c.fail(Error::InvalidModel, "axis ", axis, " of size ", xs[size_t(axis)], " does not split evenly into ", n,
                    " outputs");
    split.assign(n, xs[size_t(axis)] / int64_t(n));
  }
  if (split.size() != n)
    return c.fail(Error::InvalidModel, "split ", str_cat(split), " has ", split.size(), " sizes for ", n, " outputs");
  Attributes a;
  a.set("axis", int64_t(axis));
  a.set("split", split);
  std::vector<NodeCtx::Out> outs(n);
  for (size_t i = 0; i < n; ++i)
    if (c.has_output(i)) outs[i].name = c.output_name(i);
  ASSIGN_OR_RETURN(auto ys, c.emit_node(OpKind::Split, {x}, a, outs));
  for (size_t i = 0; i < n; ++i) c.bind_output(i, ys[i]);
  return Status::OK();
}

Status map_concat(NodeCtx& c) {
  if (c.num_inputs() == 0) return c.fail(Error::InvalidModel, "needs at least one input");
  std::vector<TensorId> inputs;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(TensorId t, c.req(i, "inputs"));
    inputs.push_back(t);
  }
  if (!c.attrs().has("axis")) return c.fail(Error::InvalidModel, "attribute axis is required");
  const int64_t axis_attr = c.attrs().get_int("axis", 0);
  const int axis = normalize_axis(axis_attr, c.shape(inputs[0]).size());
  if (axis < 0)
    return c.fail(Error::InvalidModel, "attribute axis=", axis_attr, " is out of range for shape ",
                  shape_str(c.shape(inputs[0])));
  if (inputs.size() == 1) {
    c.bind_output(0, inputs[0]);
    return Status::OK();
  }
  Attributes a;
  a.set("axis", int64_t(axis));
  return c.emit(OpKind::Concat, inputs, a).status();
}

Status map_pad(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  const Shape& xs = c.shape(x);
  const std::string mode = c.attrs().get_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return c.fail(mode == "wrap" ? Error::NotSupported : Error::InvalidModel, "mode \"", mode, "\" is not supported");
  std::vector<int64_t> pads;
  double value = 0;
  if (c.opset() < 11) {
    pads = c.attrs().get_ints("pads");
    value = c.attrs().get_float("value", 0.0);
  } else {
    ASSIGN_OR_RETURN(pads, c.constant_ints(1, "pads"));
    if (c.has_input(2)) {
      ASSIGN_OR_RETURN(auto v, c.constant_floats(2, "constant_value"));
      if (v.size() > 1) return c.fail(Error::InvalidModel, "input 2 (constant_value) must be a scalar");
      if (!v.empty()) value = v[0];
    }
  }
  if (c.opset() >= 18 && c.has_input(3)) {  // opset 18: pads for the listed axes only
    ASSIGN_OR_RETURN(auto axes_in, c.constant_ints(3, "axes"));
    if (pads.size() != 2 * axes_in.size())
      return c.fail(Error::InvalidModel, "pads ", str_cat(pads), " must have 2 values per axis of ", str_cat(axes_in));
    std::vector<int64_t> full(2 * xs.size(), 0);
    for (size_t i = 0; i < axes_in.size(); ++i) {
      const int ax = normalize_axis(axes_in[i], xs.size());
      if (ax < 0) return c.fail(Error::InvalidModel, "axes ", str_cat(axes_in), " has an out-of-range axis");
      full[size_t(ax)] = pads[i];
      full[size_t(ax) + xs.size()] = pads[i + axes_in.size()];
    }
    pads = full;
  }
  if (pads.size() != 2 * xs.size())
    return c.fail(Error::InvalidModel, "pads ", str_cat(pads), " must have ", 2 * xs.size(), " values for input shape ",
                  shape_str(xs));
  for (int64_t p : pads)
    if (p > kMaxTensorElements || p < -kMaxTensorElements)
      return c.fail(Error::InvalidModel, "pads ", str_cat(pads), " are out of range");
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) {
    c.bind_output(0, x);
    return Status::OK();
  }
  Attributes a;
  a.set("pads", pads);
  a.set("mode", mode);
  a.set("value", value);
  return c.emit(OpKind::Pad, {x}, a).status();
}

Status map_reduce(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  const OpKind kind = *op_kind_from_name(c.op());
  bool present = false;
  // ReduceSum takes axes as an input from opset 13; the other reductions from opset 18.
  ASSIGN_OR_RETURN(auto axes_in, axes_operand(c, kind == OpKind::ReduceSum ? 13 : 18, &present));
  ASSIGN_OR_RETURN(auto axes, normalize_axes(c, axes_in, c.shape(x).size(), "axes"));
  if (axes.empty() && c.attrs().get_int("noop_with_empty_axes", 0) != 0) {
    c.bind_output(0, x);
    return Status::OK();
  }
  Attributes a;
  a.set("axes", axes);
  a.set("keepdims", c.attrs().get_int("keepdims", 1));
  return c.emit(kind, {x}, a).status();
}

}  // namespace neutron
