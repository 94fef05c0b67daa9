// ONNX -> graph IR. Reads ModelProto with Debian's libonnx protobuf classes, folds constant
// subgraphs (Constant, Identity, Cast-of-constant, ConstantOfShape, Shape, Gather and the shape
// arithmetic PyTorch exports), normalizes constant operands into attributes (ir/op_attrs.h),
// moves Q/DQ scales and zero points into tensor quantization parameters and infers every shape.
// Opsets up to 17 of the default domain; older opsets are accepted op by op where the ONNX
// semantics we implement are those of the old version too (see op_table.cc).
//
// Files of this directory:
//   onnx_importer.cc   parse, opsets, initializers, graph inputs/outputs, node loop
//   import_context.*   the per-model state and the per-node context the op mappers use
//   tensor_proto.*     TensorProto -> TensorData with every size checked
//   constant_fold.*    small evaluators for constant subgraphs (shape arithmetic)
//   op_table.cc        the declarative table: ONNX op type -> min opset, support, mapper
//   ops_*.cc           the mappers, one function per ONNX op (or op family)
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

// How the importer handles an ONNX op type of the default domain.
enum class OnnxOpSupport {
  kUnsupported,   // import fails with "unsupported operator"
  kSupported,     // imported (possibly as several IR ops)
  kConstantOnly,  // only when its inputs are constants (folded at import), e.g. Gather, ConstantOfShape
};
OnnxOpSupport onnx_op_support(const std::string& op_type);

}  // namespace neutron
