// The op mappers (one per ONNX op or op family) and the table that routes ONNX op types to them.
#pragma once
#include "import/onnx/import_context.h"

namespace neutron {

using OnnxMapFn = Status (*)(NodeCtx& c);

struct OnnxOpEntry {
  const char* op_type;
  int min_opset;          // oldest opset whose semantics the mapper implements
  OnnxOpSupport support;
  OnnxMapFn map;
};
// nullptr for op types we do not import.
const OnnxOpEntry* find_onnx_op(const std::string& op_type);

// ---- shared helpers (ops_nn.cc) ----
// Resolves a 2-D Conv/pool window (kernel_shape, strides, dilations, pads, auto_pad) into the
// IR attributes kernel_shape, strides, dilations, pads. `kernel` is the weights' (kH, kW) for
// convolutions, empty for pools (then kernel_shape is required).
Status resolve_window(NodeCtx& c, const Shape& x, const std::vector<int64_t>& kernel, Attributes* out);
// Conv of already resolved operands (X, W, B?), shared by Conv and QLinearConv.
StatusOr<TensorId> emit_conv(NodeCtx& c, TensorId x, TensorId w, TensorId b, bool final_output);
// Reads a Q/DQ (scale, zero point) pair of constant inputs for a tensor of shape `shape`.
// zero_point_dtype receives the zero point's dtype (U8 when it is absent).
StatusOr<QuantParams> read_quant_params(NodeCtx& c, size_t scale_input, size_t zp_input, const Shape& shape,
                                        int64_t axis_attr, DType* zero_point_dtype);

// ---- ops_nn.cc ----
Status map_conv(NodeCtx& c);
Status map_conv_transpose(NodeCtx& c);
Status map_gemm(NodeCtx& c);
Status map_matmul(NodeCtx& c);
Status map_batchnorm(NodeCtx& c);
Status map_pool(NodeCtx& c);          // MaxPool, AveragePool
Status map_global_pool(NodeCtx& c);   // GlobalAveragePool, GlobalMaxPool
Status map_softmax(NodeCtx& c);
Status map_lp_normalization(NodeCtx& c);
Status map_recurrent(NodeCtx& c);  // GRU, LSTM
Status map_resize(NodeCtx& c);
Status map_upsample(NodeCtx& c);

// ---- ops_elementwise.cc ----
Status map_unary(NodeCtx& c);         // Relu, Sigmoid, Tanh, Abs, Neg, Exp, Log, Sqrt, Reciprocal, HardSwish
Status map_clip(NodeCtx& c);
Status map_leaky_relu(NodeCtx& c);
Status map_hard_sigmoid(NodeCtx& c);
Status map_prelu(NodeCtx& c);
Status map_binary(NodeCtx& c);        // Add, Sub, Mul, Div
Status map_variadic(NodeCtx& c);      // Max, Min

// ---- ops_shape.cc ----
Status map_identity(NodeCtx& c);
Status map_dropout(NodeCtx& c);
Status map_cast(NodeCtx& c);
Status map_reshape(NodeCtx& c);
Status map_flatten(NodeCtx& c);
Status map_squeeze(NodeCtx& c);
Status map_unsqueeze(NodeCtx& c);
Status map_transpose(NodeCtx& c);
Status map_slice(NodeCtx& c);
Status map_split(NodeCtx& c);
Status map_concat(NodeCtx& c);
Status map_pad(NodeCtx& c);
Status map_reduce(NodeCtx& c);        // ReduceL2, ReduceMean, ReduceMax, ReduceMin, ReduceSum

// ---- ops_constant.cc (constant-only ops) ----
Status map_constant(NodeCtx& c);
Status map_constant_of_shape(NodeCtx& c);
Status map_shape(NodeCtx& c);
Status map_floor_ceil(NodeCtx& c);  // Floor, Ceil (shape arithmetic of interpolate exports)

// ---- ops_transformer.cc ----
Status map_equal(NodeCtx& c);       // constants only
Status map_expand(NodeCtx& c);
Status map_gather(NodeCtx& c);
Status map_gelu(NodeCtx& c);
Status map_layer_norm(NodeCtx& c);
Status map_not(NodeCtx& c);         // constants only
Status map_pow(NodeCtx& c);
Status map_where(NodeCtx& c);

// ---- ops_quant.cc ----
Status map_quantize(NodeCtx& c);
Status map_dequantize(NodeCtx& c);
Status map_qlinear_conv(NodeCtx& c);
Status map_qlinear_matmul(NodeCtx& c);

// A Reshape of x to `shape` (fully resolved); binds ONNX output 0 unless `temp_suffix` is set.
StatusOr<TensorId> emit_reshape(NodeCtx& c, TensorId x, const Shape& shape, const std::string& temp_suffix = "");

}  // namespace neutron
