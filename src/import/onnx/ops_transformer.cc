// Mappers of the ops transformer exports add: Gather (embedding lookups and qkv[0] indexing),
// Where (masked_fill), Expand, Equal (constant masks and shape arithmetic), Pow (one constant
// exponent, or a tensor of them), Erf, Gelu (opset 20) and LayerNormalization (opset 17). Nodes whose inputs are all
// constant fold at emission (constant_fold.h).
#include <cmath>

#include "core/memory_budget.h"
#include "import/onnx/constant_fold.h"
#include "import/onnx/onnx_ops.h"
#include "import/onnx/tensor_proto.h"

namespace neutron {

Status map_gather(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId data, c.req(0, "data"));
  ASSIGN_OR_RETURN(TensorId indices, c.req(1, "indices"));
  const DType it = c.tensor(indices).dtype;
  if (it != DType::I64 && it != DType::I32)
    return c.fail(Error::InvalidModel, "input 1 (indices) must be int32 or int64, is ", dtype_name(it));
  const int64_t axis_attr = c.attrs().get_int("axis", 0);
  const int axis = normalize_axis(axis_attr, c.shape(data).size());
  if (axis < 0)
    return c.fail(Error::InvalidModel, "attribute axis=", axis_attr, " is out of range for shape ",
                  shape_str(c.shape(data)));
  if (c.tensor(indices).is_constant()) {  // constant indices out of range are a model error, not a zero row
    const TensorData& d = *c.tensor(indices).data;
    const int64_t dim = c.shape(data)[size_t(axis)];
    for (int64_t i = 0; i < d.count(); ++i)
      if (d.get_as_int(i) < -dim || d.get_as_int(i) >= dim)
        return c.fail(Error::InvalidModel, "index ", d.get_as_int(i), " is out of range for axis ", axis, " of size ",
                      dim);
  }
  const TensorData* cidx = c.tensor(indices).is_constant() ? c.tensor(indices).data.get() : nullptr;
  if (cidx && cidx->shape.empty() && !c.tensor(data).is_constant()) {
    // A constant scalar index (qkv[0], y[:, -1]) is a Slice of one and a Reshape dropping the axis:
    // data movement every backend already runs.
    const Shape xs = c.shape(data);  // a copy: emitting adds tensors
    int64_t k = cidx->get_as_int(0);
    if (k < 0) k += xs[size_t(axis)];
    std::vector<int64_t> starts(xs.size(), 0), ends(xs.begin(), xs.end()), axes(xs.size()), steps(xs.size(), 1);
    for (size_t i = 0; i < xs.size(); ++i) axes[i] = int64_t(i);
    starts[size_t(axis)] = k;
    ends[size_t(axis)] = k + 1;
    Attributes sa;
    sa.set("starts", starts);
    sa.set("ends", ends);
    sa.set("axes", axes);
    sa.set("steps", steps);
    ASSIGN_OR_RETURN(TensorId sl, c.emit_temp(OpKind::Slice, {data}, sa, "slice"));
    Shape out = xs;
    out.erase(out.begin() + axis);
    return emit_reshape(c, sl, out).status();
  }
  Attributes a;
  a.set("axis", int64_t(axis));
  return c.emit(OpKind::Gather, {data, indices}, a).status();
}

Status map_where(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId cond, c.req(0, "condition"));
  ASSIGN_OR_RETURN(TensorId x, c.req(1, "X"));
  ASSIGN_OR_RETURN(TensorId y, c.req(2, "Y"));
  return c.emit(OpKind::Where, {cond, x, y}, {}).status();
}

Status map_expand(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  ASSIGN_OR_RETURN(auto dims, c.constant_ints(1, "shape"));
  // ONNX Expand broadcasts the input and the given shape both ways (a 1 in `shape` keeps the
  // input's dimension).
  const Shape& xs = c.shape(x);
  const size_t rank = std::max(xs.size(), dims.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t a = i < rank - xs.size() ? 1 : xs[i - (rank - xs.size())];
    const int64_t b = i < rank - dims.size() ? 1 : dims[i - (rank - dims.size())];
    if (a != b && a != 1 && b != 1)
      return c.fail(Error::InvalidModel, "input shape ", shape_str(xs), " does not broadcast with shape ", str_cat(dims));
    if (b < 0 || b > kMaxTensorElements) return c.fail(Error::InvalidModel, "shape ", str_cat(dims), " is invalid");
    out[i] = a == 1 ? b : a;
  }
  if (out == xs) {
    c.bind_output(0, x);
    return Status::OK();
  }
  Attributes a;
  a.set("shape", std::vector<int64_t>(out.begin(), out.end()));
  return c.emit(OpKind::Expand, {x}, a).status();
}

// Equal on constants only (causal masks built from buffers, and the shape arithmetic of
// Expand/Reshape exports); a run-time Equal has no kernel.
Status map_equal(NodeCtx& c) {
  ASSIGN_OR_RETURN(const TensorData* a, c.constant(0, "A"));
  ASSIGN_OR_RETURN(const TensorData* b, c.constant(1, "B"));
  if (a->dtype != b->dtype)
    return c.fail(Error::InvalidModel, "operands have different dtypes ", dtype_name(a->dtype), " and ",
                  dtype_name(b->dtype));
  const size_t rank = std::max(a->shape.size(), b->shape.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t x = i < rank - a->shape.size() ? 1 : a->shape[i - (rank - a->shape.size())];
    const int64_t y = i < rank - b->shape.size() ? 1 : b->shape[i - (rank - b->shape.size())];
    if (x != y && x != 1 && y != 1)
      return c.fail(Error::InvalidModel, "shapes ", shape_str(a->shape), " and ", shape_str(b->shape),
                    " do not broadcast");
    out[i] = x == 1 ? y : x;
  }
  c.bind_constant(0, fold_equal(*a, *b, out));
  return Status::OK();
}

// Not on constants only (inverted masks).
Status map_not(NodeCtx& c) {
  ASSIGN_OR_RETURN(const TensorData* x, c.constant(0, "X"));
  if (x->dtype != DType::Bool) return c.fail(Error::InvalidModel, "input 0 (X) must be bool, is ", dtype_name(x->dtype));
  TensorData r = *x;
  for (auto& b : r.bytes) b = b ? 0 : 1;
  c.bind_constant(0, std::move(r));
  return Status::OK();
}

namespace {

bool is_plain_number(DType t) { return t == DType::F32 || t == DType::I32 || t == DType::I64; }

StatusOr<TensorId> cast_to(NodeCtx& c, TensorId t, DType to, const char* suffix) {
  if (c.tensor(t).dtype == to) return t;
  Attributes a;
  a.set("to", int64_t(to));
  return c.emit_temp(OpKind::Cast, {t}, a, suffix);
}

// Pow with a tensor of exponents (run-time, or a constant that is not one value): PowTensor on
// X's dtype, as ONNX's Pow (output of X's type). Y of another type is cast to X's; an integer X with
// a float Y is evaluated in float and cast back (the reference's pow(x, y).astype(x.dtype)).
Status emit_pow_tensor(NodeCtx& c, TensorId x, TensorId y) {
  const DType xt = c.tensor(x).dtype, yt = c.tensor(y).dtype;
  if (!is_plain_number(xt) || !is_plain_number(yt) || c.tensor(x).is_quantized() || c.tensor(y).is_quantized())
    return c.fail(Error::NotSupported, "Pow of ", dtype_name(xt), " by ", dtype_name(yt),
                  " exponents: only f32, i32 and i64 operands are supported");
  if (xt != DType::F32 && yt == DType::F32) {
    ASSIGN_OR_RETURN(TensorId xf, cast_to(c, x, DType::F32, "base_f32"));
    ASSIGN_OR_RETURN(TensorId pf, c.emit_temp(OpKind::PowTensor, {xf, y}, {}, "pow_f32"));
    Attributes a;
    a.set("to", int64_t(xt));
    return c.emit(OpKind::Cast, {pf}, a).status();
  }
  ASSIGN_OR_RETURN(TensorId yc, cast_to(c, y, xt, "exponent_cast"));
  return c.emit(OpKind::PowTensor, {x, yc}, {}).status();
}

}  // namespace

Status map_pow(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(TensorId y, c.req(1, "Y"));
  const bool one_constant = c.tensor(y).is_constant() && c.tensor(y).data->count() == 1;
  if (!one_constant || c.tensor(x).dtype != DType::F32) return emit_pow_tensor(c, x, y);
  ASSIGN_OR_RETURN(auto e, c.constant_floats(1, "Y"));
  if (e[0] == 1.0) {
    c.bind_output(0, x);
    return Status::OK();
  }
  if (e[0] == 0.5) return c.emit(OpKind::Sqrt, {x}, {}).status();
  Attributes a;
  a.set("exponent", e[0]);
  return c.emit(OpKind::Pow, {x}, a).status();
}

Status map_gelu(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  const std::string approx = c.attrs().get_string("approximate", "none");
  if (approx != "none" && approx != "tanh")
    return c.fail(Error::InvalidModel, "attribute approximate must be \"none\" or \"tanh\", is \"", approx, "\"");
  Attributes a;
  a.set("approximate", approx);
  return c.emit(OpKind::Gelu, {x}, a).status();
}

namespace {

// LayerNormalization whose training outputs Mean and InvStdDev are used: the reference's own
// float steps as IR nodes (mean, x - mean, mean of squares, 1 / sqrt(var + epsilon), then scale and
// bias), so every output is exact to the reference's float32 arithmetic (stash_type 1). Models
// exported for inference use output 0 only and get one LayerNormalization node.
Status emit_layer_norm_with_statistics(NodeCtx& c, TensorId x, TensorId scale, TensorId bias, int axis,
                                       double epsilon) {
  if (c.tensor(x).dtype != DType::F32)
    return c.fail(Error::NotSupported, "outputs Mean and InvStdDev need a float input X, is ",
                  dtype_name(c.tensor(x).dtype));
  if (c.attrs().get_int("stash_type", 1) != 1)
    return c.fail(Error::NotSupported, "outputs Mean and InvStdDev are computed in float32 (stash_type 1) only");
  std::vector<int64_t> axes;
  for (size_t i = size_t(axis); i < c.shape(x).size(); ++i) axes.push_back(int64_t(i));
  Attributes ra;
  ra.set("axes", axes);
  ra.set("keepdims", int64_t(1));
  ASSIGN_OR_RETURN(TensorId mean, c.output_used(1) ? c.emit(OpKind::ReduceMean, {x}, ra, 1)
                                                   : c.emit_temp(OpKind::ReduceMean, {x}, ra, "mean"));
  ASSIGN_OR_RETURN(TensorId diff, c.emit_temp(OpKind::Sub, {x, mean}, {}, "diff"));
  ASSIGN_OR_RETURN(TensorId square, c.emit_temp(OpKind::Mul, {diff, diff}, {}, "square"));
  ASSIGN_OR_RETURN(TensorId var, c.emit_temp(OpKind::ReduceMean, {square}, ra, "variance"));
  const TensorId eps = c.add_constant("epsilon", TensorData::from<float>({}, {float(epsilon)}));
  ASSIGN_OR_RETURN(TensorId var_eps, c.emit_temp(OpKind::Add, {var, eps}, {}, "variance_eps"));
  ASSIGN_OR_RETURN(TensorId std_dev, c.emit_temp(OpKind::Sqrt, {var_eps}, {}, "std_dev"));
  ASSIGN_OR_RETURN(TensorId inv, c.output_used(2) ? c.emit(OpKind::Reciprocal, {std_dev}, {}, 2)
                                                  : c.emit_temp(OpKind::Reciprocal, {std_dev}, {}, "inv_std_dev"));
  ASSIGN_OR_RETURN(TensorId normalized, c.emit_temp(OpKind::Mul, {diff, inv}, {}, "normalized"));
  if (bias == kNoTensor) return c.emit(OpKind::Mul, {normalized, scale}, {}).status();
  ASSIGN_OR_RETURN(TensorId scaled, c.emit_temp(OpKind::Mul, {normalized, scale}, {}, "scaled"));
  return c.emit(OpKind::Add, {scaled, bias}, {}).status();
}

}  // namespace

Status map_layer_norm(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(TensorId scale, c.req(1, "Scale"));
  const TensorId bias = c.in(2);
  Attributes a;
  const int64_t axis_attr = c.attrs().get_int("axis", -1);
  const int axis = normalize_axis(axis_attr, c.shape(x).size());
  if (axis < 0)
    return c.fail(Error::InvalidModel, "attribute axis=", axis_attr, " is out of range for shape ", shape_str(c.shape(x)));
  const double epsilon = c.attrs().get_float("epsilon", 1e-5);
  if (c.output_used(1) || c.output_used(2)) return emit_layer_norm_with_statistics(c, x, scale, bias, axis, epsilon);
  a.set("axis", int64_t(axis));
  a.set("epsilon", epsilon);
  std::vector<TensorId> ins = {x, scale};
  if (bias != kNoTensor) ins.push_back(bias);
  return c.emit(OpKind::LayerNormalization, ins, a).status();
}

}  // namespace neutron
