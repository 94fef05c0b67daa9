// Ops that produce constants at import: Constant, ConstantOfShape, Shape (shapes are static), and
// Floor and Ceil on constants (the shape arithmetic of exported graphs).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/memory_budget.h"
#include "import/onnx/constant_fold.h"
#include "import/onnx/onnx_ops.h"
#include "import/onnx/tensor_proto.h"

namespace neutron {

Status map_constant(NodeCtx& c) {
  const auto& a = c.attrs();
  if (const onnx::TensorProto* t = c.tensor_attr("value")) {
    auto d = tensor_from_proto(*t, c.prefix() + "attribute value");
    if (!d.ok()) return d.status();
    c.bind_constant(0, std::move(d).value());
  } else if (a.has("value_float")) {
    c.bind_constant(0, TensorData::from<float>({}, {float(a.get_float("value_float", 0))}));
  } else if (a.has("value_floats")) {
    std::vector<float> v;
    for (double f : a.get_floats("value_floats")) v.push_back(float(f));
    c.bind_constant(0, TensorData::from<float>({int64_t(v.size())}, v));
  } else if (a.has("value_int")) {
    c.bind_constant(0, TensorData::from<int64_t>({}, {a.get_int("value_int", 0)}));
  } else if (a.has("value_ints")) {
    auto v = a.get_ints("value_ints");
    c.bind_constant(0, TensorData::from<int64_t>({int64_t(v.size())}, v));
  } else if (a.has("sparse_value") || a.has("value_string") || a.has("value_strings")) {
    return c.fail(Error::NotSupported, "sparse and string constants are not supported");
  } else {
    return c.fail(Error::InvalidModel, "has no value attribute");
  }
  return Status::OK();
}

Status map_constant_of_shape(NodeCtx& c) {
  ASSIGN_OR_RETURN(auto dims, c.constant_ints(0, "input"));
  const Shape shape(dims.begin(), dims.end());
  int64_t count = 0;
  if (!checked_num_elements(shape, &count) || count > kMaxTensorElements)
    return c.fail(Error::InvalidModel, "shape ", str_cat(dims), " is negative or too large");
  TensorData value = TensorData::from<float>({1}, {0.0f});
  if (const onnx::TensorProto* t = c.tensor_attr("value")) {
    auto d = tensor_from_proto(*t, c.prefix() + "attribute value");
    if (!d.ok()) return d.status();
    value = std::move(d).value();
    if (value.count() != 1) return c.fail(Error::InvalidModel, "attribute value must hold one element, holds ", value.count());
  }
  // A few bytes of model ask for `count` elements: checked before they are allocated.
  RETURN_IF_ERROR(tensor_bytes_within_budget(value.dtype, shape, c.prefix() + "output").status());
  TensorData r(value.dtype, shape);
  const size_t es = dtype_size(value.dtype);
  for (int64_t i = 0; i < count; ++i) std::memcpy(r.bytes.data() + size_t(i) * es, value.bytes.data(), es);
  c.bind_constant(0, std::move(r));
  return Status::OK();
}

Status map_shape(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "data"));
  const Shape& xs = c.shape(x);
  const int64_t rank = int64_t(xs.size());
  int64_t start = c.attrs().get_int("start", 0), end = c.attrs().get_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(xs[size_t(i)]);
  c.bind_constant(0, TensorData::from<int64_t>({int64_t(dims.size())}, dims));
  return Status::OK();
}

Status map_floor_ceil(NodeCtx& c) {
  ASSIGN_OR_RETURN(const TensorData* x, c.constant(0, "X"));
  if (x->dtype != DType::F32) return c.fail(Error::NotSupported, "input 0 (X) must be float32, is ", dtype_name(x->dtype));
  TensorData r = *x;
  const bool floor = c.op() == "Floor";
  for (int64_t i = 0; i < r.count(); ++i) r.data<float>()[i] = floor ? std::floor(r.data<float>()[i]) : std::ceil(r.data<float>()[i]);
  c.bind_constant(0, std::move(r));
  return Status::OK();
}

}  // namespace neutron
