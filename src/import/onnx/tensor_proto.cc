#include "import/onnx/tensor_proto.h"

#include <cstring>

#include "core/memory_budget.h"

namespace neutron {

std::string onnx_dtype_name(int32_t t) {
  if (onnx::TensorProto_DataType_IsValid(t)) return onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(t));
  return str_cat("dtype ", t);
}

DType dtype_from_onnx(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT: return DType::F32;
    case onnx::TensorProto::UINT8: return DType::U8;
    case onnx::TensorProto::INT8: return DType::I8;
    case onnx::TensorProto::INT16: return DType::I16;
    case onnx::TensorProto::INT32: return DType::I32;
    case onnx::TensorProto::INT64: return DType::I64;
    case onnx::TensorProto::BOOL: return DType::Bool;
    default: return DType::Invalid;
  }
}

int32_t onnx_from_dtype(DType t) {
  switch (t) {
    case DType::F32: return onnx::TensorProto::FLOAT;
    case DType::U8: return onnx::TensorProto::UINT8;
    case DType::I8: return onnx::TensorProto::INT8;
    case DType::I16: return onnx::TensorProto::INT16;
    case DType::I32: return onnx::TensorProto::INT32;
    case DType::I64: return onnx::TensorProto::INT64;
    case DType::Bool: return onnx::TensorProto::BOOL;
    default: return onnx::TensorProto::UNDEFINED;
  }
}

StatusOr<Shape> checked_shape(const google::protobuf::RepeatedField<int64_t>& dims, const std::string& what) {
  Shape s(dims.begin(), dims.end());
  for (int64_t d : s) CHECK_OR_RETURN(d >= 0, Error::InvalidModel, what, ": negative dimension ", d);
  int64_t count = 0;
  if (!checked_num_elements(s, &count) || count > kMaxTensorElements)
    return error(Error::NotSupported, what, ": shape ", shape_str(s), " has more than 2^32 elements");
  return s;
}

namespace {

template <typename Field, typename T>
void copy_field(const Field& f, TensorData* t) {
  T* out = t->data<T>();
  for (int i = 0; i < f.size(); ++i) out[i] = static_cast<T>(f.Get(i));
}

}  // namespace

StatusOr<TensorData> tensor_from_proto(const onnx::TensorProto& p, const std::string& what) {
  if (p.has_data_location() && p.data_location() == onnx::TensorProto::EXTERNAL)
    return error(Error::NotSupported, what, ": tensors stored in external data files are not supported");
  if (p.has_segment()) return error(Error::NotSupported, what, ": segmented tensors are not supported");
  const DType dt = dtype_from_onnx(p.data_type());
  if (dt == DType::Invalid)
    return error(p.data_type() == onnx::TensorProto::UNDEFINED ? Error::InvalidModel : Error::NotSupported, what,
                 ": element type ", onnx_dtype_name(p.data_type()), " is not supported");
  ASSIGN_OR_RETURN(Shape shape, checked_shape(p.dims(), what));
  // The claimed size is compared with the data the file holds, then with the memory budget, before
  // anything of that size is allocated: a few bytes may claim gigabytes.
  const int64_t count = num_elements(shape);  // at most 2^32 (checked_shape)
  if (p.has_raw_data()) {
    const std::string& raw = p.raw_data();
    const size_t expected = size_t(count) * dtype_size(dt);
    CHECK_OR_RETURN(raw.size() == expected, Error::InvalidModel, what, ": raw_data holds ", raw.size(),
                    " bytes, but ", onnx_dtype_name(p.data_type()), shape_str(shape), " needs ", expected);
    RETURN_IF_ERROR(tensor_bytes_within_budget(dt, shape, what).status());
    TensorData t(dt, shape);
    if (expected) std::memcpy(t.bytes.data(), raw.data(), expected);
    if (dt == DType::Bool)
      for (auto& b : t.bytes) b = b ? 1 : 0;
    return t;
  }
  int64_t have = 0;
  const char* field = "";
  switch (dt) {
    case DType::F32: have = p.float_data_size(); field = "float_data"; break;
    case DType::I64: have = p.int64_data_size(); field = "int64_data"; break;
    default: have = p.int32_data_size(); field = "int32_data"; break;
  }
  CHECK_OR_RETURN(have == count, Error::InvalidModel, what, ": ", field, " holds ", have, " values, but ",
                  onnx_dtype_name(p.data_type()), shape_str(shape), " needs ", count);
  RETURN_IF_ERROR(tensor_bytes_within_budget(dt, shape, what).status());
  TensorData t(dt, shape);
  switch (dt) {
    case DType::F32: copy_field<decltype(p.float_data()), float>(p.float_data(), &t); break;
    case DType::I64: copy_field<decltype(p.int64_data()), int64_t>(p.int64_data(), &t); break;
    case DType::I32: copy_field<decltype(p.int32_data()), int32_t>(p.int32_data(), &t); break;
    case DType::I16: copy_field<decltype(p.int32_data()), int16_t>(p.int32_data(), &t); break;
    case DType::I8: copy_field<decltype(p.int32_data()), int8_t>(p.int32_data(), &t); break;
    case DType::U8: copy_field<decltype(p.int32_data()), uint8_t>(p.int32_data(), &t); break;
    case DType::Bool: {
      for (int i = 0; i < p.int32_data_size(); ++i) t.bytes[size_t(i)] = p.int32_data(i) ? 1 : 0;
      break;
    }
    default: return error(Error::Internal, what, ": unhandled dtype");
  }
  return t;
}

}  // namespace neutron
