// Data movement: Concat, Reshape, Identity, Dropout, Transpose, Slice, Split, Pad, Cast, Expand, Gather, Where.
// All but Cast move bytes and work for every dtype, including quantized integers as long as every
// data tensor of the node carries the same quantization (no requantization here). Constant Pad of
// a quantized tensor pads with quantize(value) (the zero point for 0).
#include "kernels/data_movement.h"
#include "kernels/index_ops.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "exec/ops/binders.h"
#include "kernels/requantize.h"

namespace neutron {
namespace {

struct Io {
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
};

// All inputs present, at least one output; same dtype and quantization everywhere.
Status check_io(const Graph& g, NodeId id, size_t min_inputs, Io* io) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= min_inputs && !n.outputs.empty(), Error::InvalidModel, describe(g, id),
                  ": expects at least ", min_inputs, " input(s) and an output");
  for (TensorId t : n.inputs) {
    CHECK_OR_RETURN(t != kNoTensor, Error::InvalidModel, describe(g, id), ": has an omitted input");
    io->inputs.push_back(t);
  }
  for (TensorId t : n.outputs) {
    CHECK_OR_RETURN(t != kNoTensor, Error::InvalidModel, describe(g, id), ": has an omitted output");
    io->outputs.push_back(t);
  }
  const Tensor& x = g.tensor(io->inputs[0]);
  auto check = [&](TensorId t) -> Status {
    const Tensor& o = g.tensor(t);
    CHECK_OR_RETURN(o.dtype == x.dtype, Error::InvalidModel, describe(g, id), ": tensor '", o.name, "' is ",
                    dtype_name(o.dtype), ", input '", x.name, "' is ", dtype_name(x.dtype));
    CHECK_OR_RETURN(o.quant == x.quant, Error::NotSupported, describe(g, id), ": tensors '", x.name, "' and '", o.name,
                    "' have different quantization parameters (requantizing data movement is not implemented)");
    return Status::OK();
  };
  for (TensorId t : io->inputs) RETURN_IF_ERROR(check(t));
  for (TensorId t : io->outputs) RETURN_IF_ERROR(check(t));
  return Status::OK();
}

size_t byte_size(const Tensor& t) { return size_t(num_elements(t.shape)) * dtype_size(t.dtype); }

StatusOr<StepPtr> bind_copy(const Graph& g, NodeId id) {
  Io io;
  RETURN_IF_ERROR(check_io(g, id, 1, &io));
  CHECK_OR_RETURN(io.inputs.size() == 1 && io.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects 1 input and 1 output");
  const TensorId xi = io.inputs[0], yi = io.outputs[0];
  const size_t bytes = byte_size(g.tensor(xi));
  CHECK_OR_RETURN(bytes == byte_size(g.tensor(yi)), Error::InvalidModel, describe(g, id), ": output ",
                  shape_str(g.tensor(yi).shape), " and input ", shape_str(g.tensor(xi).shape), " differ in size");
  return make_step([=](const RunContext& ctx) {
    if (bytes && ctx.raw(xi) != ctx.raw(yi)) std::memcpy(ctx.out<uint8_t>(yi), ctx.in<uint8_t>(xi), bytes);
  });
}

StepPtr strided_step(const StridedCopyParams& p, TensorId xi, TensorId yi) {
  return make_step([=](const RunContext& ctx) { strided_copy(p, ctx.raw(xi), ctx.out<void>(yi)); });
}

StatusOr<StepPtr> bind_transpose(const Graph& g, NodeId id) {
  Io io;
  RETURN_IF_ERROR(check_io(g, id, 1, &io));
  const Tensor& x = g.tensor(io.inputs[0]);
  const Tensor& y = g.tensor(io.outputs[0]);
  std::vector<int64_t> perm(x.shape.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = int64_t(perm.size() - 1 - i);
  perm = g.node(id).attrs.get_ints("perm", perm);
  StridedCopyParams p;
  CHECK_OR_RETURN(prepare_transpose(Span<const int64_t>(x.shape), Span<const int64_t>(perm), dtype_size(x.dtype), &p),
                  Error::InvalidModel, describe(g, id), ": perm ", str_cat(perm),
                  " is not a permutation of the axes of ", shape_str(x.shape), " (or rank > ", kMaxCopyRank, ")");
  CHECK_OR_RETURN(p.count == num_elements(y.shape), Error::InvalidModel, describe(g, id), ": output shape ",
                  shape_str(y.shape), " does not match");
  return strided_step(p, io.inputs[0], io.outputs[0]);
}

StatusOr<StepPtr> bind_slice(const Graph& g, NodeId id) {
  Io io;
  RETURN_IF_ERROR(check_io(g, id, 1, &io));
  const Node& n = g.node(id);
  const Tensor& x = g.tensor(io.inputs[0]);
  const Tensor& y = g.tensor(io.outputs[0]);
  const size_t r = x.shape.size();
  CHECK_OR_RETURN(y.shape.size() == r, Error::InvalidModel, describe(g, id), ": output rank differs from input rank");
  const auto starts = n.attrs.get_ints("starts");
  auto axes = n.attrs.get_ints("axes");
  auto steps = n.attrs.get_ints("steps");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  CHECK_OR_RETURN(axes.size() == starts.size() && steps.size() == starts.size(), Error::InvalidModel, describe(g, id),
                  ": starts ", str_cat(starts), ", axes ", str_cat(axes), " and steps ", str_cat(steps),
                  " differ in length");
  std::vector<int64_t> st(r, 0), sp(r, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    const int ax = normalize_axis(axes[i], r);
    CHECK_OR_RETURN(ax >= 0, Error::InvalidModel, describe(g, id), ": axis ", axes[i], " out of range");
    st[size_t(ax)] = starts[i];
    sp[size_t(ax)] = steps[i];
  }
  StridedCopyParams p;
  CHECK_OR_RETURN(prepare_slice(Span<const int64_t>(x.shape), Span<const int64_t>(st), Span<const int64_t>(sp),
                                Span<const int64_t>(y.shape), dtype_size(x.dtype), &p),
                  Error::InvalidModel, describe(g, id), ": slice starts ", str_cat(st), " steps ", str_cat(sp),
                  " giving ", shape_str(y.shape), " reads outside input ", shape_str(x.shape));
  return strided_step(p, io.inputs[0], io.outputs[0]);
}

// Concat and Split: [outer, axis * inner] rows; chunk = axis size * inner * element size.
struct AxisSplit {
  int64_t outer = 1;
  int64_t inner_bytes = 1;
};
StatusOr<AxisSplit> axis_split(const Graph& g, NodeId id, const Tensor& t, int* axis) {
  const int64_t a = g.node(id).attrs.get_int("axis", 0);
  *axis = normalize_axis(a, t.shape.size());
  CHECK_OR_RETURN(*axis >= 0, Error::InvalidModel, describe(g, id), ": axis=", a, " is out of range for shape ",
                  shape_str(t.shape));
  AxisSplit s;
  for (int i = 0; i < *axis; ++i) s.outer *= t.shape[size_t(i)];
  s.inner_bytes = int64_t(dtype_size(t.dtype));
  for (size_t i = size_t(*axis) + 1; i < t.shape.size(); ++i) s.inner_bytes *= t.shape[i];
  return s;
}

StatusOr<StepPtr> bind_concat(const Graph& g, NodeId id) {
  Io io;
  RETURN_IF_ERROR(check_io(g, id, 1, &io));
  const Tensor& y = g.tensor(io.outputs[0]);
  int axis = 0;
  ASSIGN_OR_RETURN(AxisSplit s, axis_split(g, id, y, &axis));
  std::vector<int64_t> chunks;
  int64_t total = 0;
  for (TensorId t : io.inputs) {
    const Shape& sh = g.tensor(t).shape;
    CHECK_OR_RETURN(sh.size() == y.shape.size(), Error::InvalidModel, describe(g, id), ": input rank differs");
    chunks.push_back(sh[size_t(axis)] * s.inner_bytes);
    total += sh[size_t(axis)];
  }
  CHECK_OR_RETURN(total == y.shape[size_t(axis)], Error::InvalidModel, describe(g, id), ": inputs sum to ", total,
                  " along axis ", axis, ", output has ", y.shape[size_t(axis)]);
  const std::vector<TensorId> ins = io.inputs;
  const TensorId yi = io.outputs[0];
  const int64_t outer = s.outer;
  return make_step([=](const RunContext& ctx) {
    const void* ptrs[64];
    std::vector<const void*> many;
    const void** p = ptrs;
    if (ins.size() > 64) {
      many.resize(ins.size());
      p = many.data();
    }
    for (size_t i = 0; i < ins.size(); ++i) p[i] = ctx.raw(ins[i]);
    concat(outer, Span<const int64_t>(chunks), p, ctx.out<void>(yi));
  });
}

StatusOr<StepPtr> bind_split(const Graph& g, NodeId id) {
  Io io;
  RETURN_IF_ERROR(check_io(g, id, 1, &io));
  CHECK_OR_RETURN(io.inputs.size() == 1, Error::InvalidModel, describe(g, id), ": expects 1 input");
  const Tensor& x = g.tensor(io.inputs[0]);
  int axis = 0;
  ASSIGN_OR_RETURN(AxisSplit s, axis_split(g, id, x, &axis));
  std::vector<int64_t> chunks;
  int64_t total = 0;
  for (TensorId t : io.outputs) {
    const Shape& sh = g.tensor(t).shape;
    CHECK_OR_RETURN(sh.size() == x.shape.size(), Error::InvalidModel, describe(g, id), ": output rank differs");
    chunks.push_back(sh[size_t(axis)] * s.inner_bytes);
    total += sh[size_t(axis)];
  }
  CHECK_OR_RETURN(total == x.shape[size_t(axis)], Error::InvalidModel, describe(g, id), ": outputs sum to ", total,
                  " along axis ", axis, ", input has ", x.shape[size_t(axis)]);
  const std::vector<TensorId> outs = io.outputs;
  const TensorId xi = io.inputs[0];
  const int64_t outer = s.outer;
  return make_step([=](const RunContext& ctx) {
    void* ptrs[64];
    std::vector<void*> many;
    void** p = ptrs;
    if (outs.size() > 64) {
      many.resize(outs.size());
      p = many.data();
    }
    for (size_t i = 0; i < outs.size(); ++i) p[i] = ctx.out<void>(outs[i]);
    split(outer, Span<const int64_t>(chunks), ctx.raw(xi), p);
  });
}

template <typename T>
T saturate_cast(double v) {
  if (!(v == v)) return T(0);
  const double t = std::trunc(v);
  if (t <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (t >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return T(t);
}

// One element holding the constant pad value in the tensor's representation.
Status pad_value_bytes(const Graph& g, NodeId id, const Tensor& x, double value, uint8_t out[8]) {
  std::memset(out, 0, 8);
  if (x.is_quantized()) {
    int32_t qmin = 0, qmax = 0;
    switch (x.dtype) {
      case DType::I8: qmin = -128, qmax = 127; break;
      case DType::U8: qmin = 0, qmax = 255; break;
      case DType::I16: qmin = -32768, qmax = 32767; break;
      case DType::I32: qmin = std::numeric_limits<int32_t>::min(), qmax = std::numeric_limits<int32_t>::max(); break;
      default: return error(Error::NotSupported, describe(g, id), ": quantized ", dtype_name(x.dtype), " input");
    }
    // Per-axis: every channel must pad with the same integer.
    const int32_t q = quantize_real(value, x.quant.scale[0], x.quant.zero_point[0], qmin, qmax);
    for (size_t k = 1; k < x.quant.scale.size(); ++k)
      CHECK_OR_RETURN(quantize_real(value, x.quant.scale[k], x.quant.zero_point[k], qmin, qmax) == q,
                      Error::NotSupported, describe(g, id), ": constant ", value,
                      " quantizes differently per channel of the per-axis quantized input '", x.name, "'");
    switch (x.dtype) {
      case DType::I8: {
        const int8_t v = int8_t(q);
        std::memcpy(out, &v, 1);
        break;
      }
      case DType::U8: {
        const uint8_t v = uint8_t(q);
        std::memcpy(out, &v, 1);
        break;
      }
      case DType::I16: {
        const int16_t v = int16_t(q);
        std::memcpy(out, &v, 2);
        break;
      }
      default: std::memcpy(out, &q, 4); break;
    }
    return Status::OK();
  }
  switch (x.dtype) {
    case DType::F32: {
      const float v = float(value);
      std::memcpy(out, &v, 4);
      break;
    }
    case DType::I8: {
      const int8_t v = saturate_cast<int8_t>(value);
      std::memcpy(out, &v, 1);
      break;
    }
    case DType::U8: {
      const uint8_t v = saturate_cast<uint8_t>(value);
      std::memcpy(out, &v, 1);
      break;
    }
    case DType::I16: {
      const int16_t v = saturate_cast<int16_t>(value);
      std::memcpy(out, &v, 2);
      break;
    }
    case DType::I32: {
      const int32_t v = saturate_cast<int32_t>(value);
      std::memcpy(out, &v, 4);
      break;
    }
    case DType::I64: {
      const int64_t v = saturate_cast<int64_t>(value);
      std::memcpy(out, &v, 8);
      break;
    }
    case DType::Bool: out[0] = value != 0; break;
    default: return error(Error::NotSupported, describe(g, id), ": no CPU kernel for ", dtype_name(x.dtype), " input");
  }
  return Status::OK();
}

StatusOr<StepPtr> bind_pad(const Graph& g, NodeId id) {
  Io io;
  RETURN_IF_ERROR(check_io(g, id, 1, &io));
  const Node& n = g.node(id);
  const Tensor& x = g.tensor(io.inputs[0]);
  const Tensor& y = g.tensor(io.outputs[0]);
  const std::string mode_name = n.attrs.get_string("mode", "constant");
  PadMode mode;
  if (mode_name == "constant")
    mode = PadMode::Constant;
  else if (mode_name == "reflect")
    mode = PadMode::Reflect;
  else if (mode_name == "edge")
    mode = PadMode::Edge;
  else
    return error(Error::NotSupported, describe(g, id), ": pad mode \"", mode_name, "\" is not supported");
  const auto pads = n.attrs.get_ints("pads");
  uint8_t value[8];
  if (mode == PadMode::Constant) RETURN_IF_ERROR(pad_value_bytes(g, id, x, n.attrs.get_float("value", 0.0), value));
  PadParams p;
  CHECK_OR_RETURN(
      prepare_pad(Span<const int64_t>(x.shape), Span<const int64_t>(pads), mode, dtype_size(x.dtype), value, &p),
      Error::InvalidModel, describe(g, id), ": pads ", str_cat(pads), " (mode ", mode_name, ") do not apply to shape ",
      shape_str(x.shape));
  CHECK_OR_RETURN(p.out_bytes == int64_t(byte_size(y)), Error::InvalidModel, describe(g, id), ": output shape ",
                  shape_str(y.shape), " does not match the pads ", str_cat(pads));
  const TensorId xi = io.inputs[0], yi = io.outputs[0];
  return make_step([=](const RunContext& ctx) { pad(p, ctx.raw(xi), ctx.out<void>(yi)); });
}

StatusOr<StepPtr> bind_cast(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g, id), ": expects 1 input and 1 output");
  const TensorId xi = n.inputs[0], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(!x.is_quantized() && !y.is_quantized(), Error::NotSupported, describe(g, id),
                  ": Cast of quantized tensors is not supported (use QuantizeLinear/DequantizeLinear)");
  CHECK_OR_RETURN(x.shape == y.shape, Error::InvalidModel, describe(g, id), ": output shape differs from input shape");
  const DType from = x.dtype, to = y.dtype;
  const size_t count = size_t(num_elements(x.shape));
  // Probe the dtype pair once so run() cannot fail.
  CHECK_OR_RETURN(cast(from, to, nullptr, nullptr, 0), Error::NotSupported, describe(g, id),
                  ": no CPU kernel for Cast ", dtype_name(from), " -> ", dtype_name(to));
  return make_step([=](const RunContext& ctx) { cast(from, to, ctx.raw(xi), ctx.out<void>(yi), count); });
}

// Expand: a broadcast copy.
StatusOr<StepPtr> bind_expand(const Graph& g, NodeId id) {
  Io io;
  RETURN_IF_ERROR(check_io(g, id, 1, &io));
  const Tensor& x = g.tensor(io.inputs[0]);
  const Tensor& y = g.tensor(io.outputs[0]);
  SelectParams p;
  const Span<const int64_t> ops[1] = {Span<const int64_t>(x.shape)};
  CHECK_OR_RETURN(prepare_select(Span<const int64_t>(y.shape), ops, 1, dtype_size(x.dtype), &p), Error::InvalidModel,
                  describe(g, id), ": input ", shape_str(x.shape), " does not broadcast to ", shape_str(y.shape),
                  " (or rank > ", kMaxSelectRank, ")");
  const TensorId xi = io.inputs[0], yi = io.outputs[0];
  return make_step([=](const RunContext& ctx) { expand(p, ctx.raw(xi), ctx.out<void>(yi)); });
}

// Gather: data and output share dtype and quantization; indices are i32/i64, run-time or constant.
StatusOr<StepPtr> bind_gather(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g, id), ": expects data, indices and 1 output");
  const TensorId xi = n.inputs[0], ii = n.inputs[1], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  const Tensor& idx = g.tensor(ii);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(x.dtype == y.dtype && x.quant == y.quant, Error::NotSupported, describe(g, id), ": data '", x.name,
                  "' and output '", y.name, "' differ in dtype or quantization");
  CHECK_OR_RETURN(idx.dtype == DType::I64 || idx.dtype == DType::I32, Error::InvalidModel, describe(g, id),
                  ": indices must be i32 or i64, are ", dtype_name(idx.dtype));
  const int axis = normalize_axis(n.attrs.get_int("axis", 0), x.shape.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g, id), ": axis out of range for ", shape_str(x.shape));
  GatherParams p;
  for (int i = 0; i < axis; ++i) p.outer *= x.shape[size_t(i)];
  p.axis_dim = x.shape[size_t(axis)];
  for (size_t i = size_t(axis) + 1; i < x.shape.size(); ++i) p.inner *= x.shape[i];
  p.count = num_elements(idx.shape);
  p.elem_size = dtype_size(x.dtype);
  CHECK_OR_RETURN(p.outer * p.count * p.inner == num_elements(y.shape), Error::InvalidModel, describe(g, id),
                  ": output shape ", shape_str(y.shape), " does not match the gather");
  const bool i64 = idx.dtype == DType::I64;
  // ONNX makes an index outside [-axis_dim, axis_dim) an error: fail the run (a token id beyond
  // the embedding table), as the program's gather kernel call does, never a zero row.
  const std::string where = describe(g, id);
  return make_step([=](const RunContext& ctx) {
    if (!gather_indices_in_range(ctx.raw(ii), i64, p.count, p.axis_dim)) {
      ctx.fail(Status(Error::InvalidArgument, where + ": index out of range [-" + std::to_string(p.axis_dim) + ", " +
                                                  std::to_string(p.axis_dim) + ")"));
      return;
    }
    gather(p, ctx.raw(xi), ctx.raw(ii), i64, ctx.out<void>(yi));
  });
}

// Where: X, Y and the output share dtype and quantization; the condition is bool.
StatusOr<StepPtr> bind_where(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 3 && n.outputs.size() == 1 && n.input(0) != kNoTensor && n.input(1) != kNoTensor &&
                      n.input(2) != kNoTensor,
                  Error::InvalidModel, describe(g, id), ": expects condition, X, Y and 1 output");
  const TensorId ci = n.inputs[0], xi = n.inputs[1], zi = n.inputs[2], yi = n.outputs[0];
  const Tensor& c = g.tensor(ci);
  const Tensor& x = g.tensor(xi);
  const Tensor& z = g.tensor(zi);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(c.dtype == DType::Bool, Error::InvalidModel, describe(g, id), ": condition must be bool");
  CHECK_OR_RETURN(x.dtype == y.dtype && z.dtype == y.dtype && x.quant == y.quant && z.quant == y.quant,
                  Error::NotSupported, describe(g, id), ": X '", x.name, "', Y '", z.name, "' and output '", y.name,
                  "' differ in dtype or quantization (a requantizing select is not implemented)");
  SelectParams p;
  const Span<const int64_t> ops[3] = {Span<const int64_t>(c.shape), Span<const int64_t>(x.shape),
                                      Span<const int64_t>(z.shape)};
  CHECK_OR_RETURN(prepare_select(Span<const int64_t>(y.shape), ops, 3, dtype_size(y.dtype), &p), Error::InvalidModel,
                  describe(g, id), ": operands do not broadcast to ", shape_str(y.shape), " (or rank > ",
                  kMaxSelectRank, ")");
  return make_step([=](const RunContext& ctx) {
    where(p, ctx.in<uint8_t>(ci), ctx.raw(xi), ctx.raw(zi), ctx.out<void>(yi));
  });
}

}  // namespace

StatusOr<StepPtr> bind_data_movement(const Graph& g, NodeId id) {
  switch (g.node(id).kind) {
    case OpKind::Reshape:
    case OpKind::Identity:
    case OpKind::Dropout: return bind_copy(g, id);
    case OpKind::Transpose: return bind_transpose(g, id);
    case OpKind::Slice: return bind_slice(g, id);
    case OpKind::Concat: return bind_concat(g, id);
    case OpKind::Split: return bind_split(g, id);
    case OpKind::Pad: return bind_pad(g, id);
    case OpKind::Cast: return bind_cast(g, id);
    case OpKind::Expand: return bind_expand(g, id);
    case OpKind::Gather: return bind_gather(g, id);
    case OpKind::Where: return bind_where(g, id);
    default: return error(Error::Internal, describe(g, id), ": not a data movement op");
  }
}

}  // namespace neutron
