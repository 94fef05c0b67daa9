// ONNX -> graph IR. Reads ModelProto with Debian's libonnx protobuf classes, folds Constant,
// Identity, Dropout and Cast-of-constant, normalizes constant operands into attributes
// (ir/op_attrs.h), moves Q/DQ scales and zero points into tensor quantization parameters and
// infers every shape. Opsets 11 to 17 of the default domain.
#pragma once
#include <map>
#include <string>

#include "ir/graph.h"

namespace neutron {

struct OnnxImportOptions {
  // Graph inputs to treat as constants with these values (e.g. weights that the ONNX node tests
  // feed as inputs). Keyed by input name.
  std::map<std::string, TensorData> input_values_as_constants;
};

// Errors name the file, and the node (name, op type, opset) or tensor that is at fault.
StatusOr<Graph> import_onnx_file(const std::string& path, const OnnxImportOptions& options = {});
StatusOr<Graph> import_onnx_bytes(const std::string& bytes, const std::string& name_for_errors,
                                  const OnnxImportOptions& options = {});

}  // namespace neutron
