// onnx::TensorProto -> TensorData. Every size read from the file is checked: dims must be
// non-negative, the element count must fit, and raw_data (or the typed field) must hold exactly
// count elements of the dtype.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>

#include "core/status.h"
#include "core/tensor_data.h"

namespace neutron {

// Largest constant or input we accept (elements); protects size arithmetic from overflow.
constexpr int64_t kMaxTensorElements = int64_t(1) << 32;

// ONNX TensorProto.DataType name ("FLOAT", "DOUBLE", ...) or "dtype <n>".
std::string onnx_dtype_name(int32_t onnx_type);
// The IR dtype of an ONNX element type; DType::Invalid when we do not support it.
DType dtype_from_onnx(int32_t onnx_type);
// The ONNX element type of an IR dtype.
int32_t onnx_from_dtype(DType t);

// `what` names the tensor in messages ("initializer 'w'").
StatusOr<TensorData> tensor_from_proto(const onnx::TensorProto& p, const std::string& what);

// Checks dims from the file and returns the shape; errors name `what`.
StatusOr<Shape> checked_shape(const google::protobuf::RepeatedField<int64_t>& dims, const std::string& what);

}  // namespace neutron
