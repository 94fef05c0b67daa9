// Graph IR -> ONNX ModelProto bytes: the inverse of the importer (import/onnx/), so that a float
// or QDQ graph (e.g. one `neutron quantize` produced) can be handed to other tools.
//
// What is written:
//   * constants become initializers (raw_data, little-endian); graph inputs and outputs carry
//     their dtypes and static shapes, and every intermediate tensor gets a value_info;
//   * each live node becomes one ONNX node of the same op type and name, in topological order;
//     attributes that ONNX takes as constant inputs become initializers again (Reshape shape,
//     Clip min/max, Pad pads and constant_value, Slice starts/ends/axes/steps, Split split,
//     Resize roi/scales (or sizes when a scale is not a float32 value), ReduceSum axes);
//   * QuantizeLinear / DequantizeLinear get (scale, zero point) initializers built from
//     Tensor::quant of Q's output / DQ's input (per-axis: 1-D plus the axis attribute); the zero
//     point has the quantized tensor's dtype (u8, i8, or i32 for DQ of biases).
//
// What is refused (NotSupported, naming the node): graphs after the CPU passes, i.e. nodes with
// channels_last=1, a fused activation (act_min/act_max) or quantized integer tensors as operands of
// compute ops (fold-qdq's int8 ops). Export before running cpu_pipeline(). Pure data movement
// (Identity, Dropout, Reshape, Transpose, Slice, Split, Concat) on quantized tensors is written
// when all its quantized operands share one set of parameters.
//
// Tensor names are kept; duplicates (not in a verified graph) and empty names are made unique
// deterministically (name_1, name_2, ... in tensor-id order). The same graph always gives the
// same bytes.
#pragma once
#include <cstdint>
#include <string>

#include "ir/graph.h"

namespace neutron {

struct OnnxExportOptions {
  // Opset of the default domain: 13 to 17 (the ops we write have the same form in all of them).
  // A graph with HardSwish (new in opset 14) is written with opset max(opset, 14).
  int opset = 13;
  int64_t ir_version = 8;  // at least 7 (opset 13)
  std::string producer_name = "neutron";
  std::string producer_version;  // empty: not written
};

StatusOr<std::string> export_onnx(const Graph& g, const OnnxExportOptions& opts = {});
// export_onnx, then writes the bytes to `path` atomically (core/output_files.h; IoError naming the path).
Status export_onnx_file(const Graph& g, const std::string& path, const OnnxExportOptions& opts = {});

}  // namespace neutron
