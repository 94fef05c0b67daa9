// The ONNX operators we import: op type, the oldest opset whose semantics the mapper implements,
// and the mapper. Opsets newer than kMaxOpset (onnx_importer.cc) are rejected for the whole model.
// Older opsets with different semantics (e.g. Add before 7 with its `broadcast` attribute) are
// rejected with the opset in the message.
#include "import/onnx/onnx_ops.h"

namespace neutron {
namespace {

constexpr OnnxOpSupport kYes = OnnxOpSupport::kSupported;
constexpr OnnxOpSupport kConst = OnnxOpSupport::kConstantOnly;

const OnnxOpEntry kOps[] = {
    // op type            min opset  support  mapper
    {"Abs", 1, kYes, map_unary},
    {"Add", 7, kYes, map_binary},
    {"AveragePool", 7, kYes, map_pool},
    {"BatchNormalization", 7, kYes, map_batchnorm},
    {"Cast", 6, kYes, map_cast},
    {"Ceil", 6, kConst, map_floor_ceil},
    {"Clip", 1, kYes, map_clip},
    {"Concat", 4, kYes, map_concat},
    {"Constant", 1, kYes, map_constant},
    {"ConstantOfShape", 9, kConst, map_constant_of_shape},
    {"Conv", 1, kYes, map_conv},
    {"ConvTranspose", 1, kYes, map_conv_transpose},
    {"DequantizeLinear", 10, kYes, map_dequantize},
    {"Div", 7, kYes, map_binary},
    {"Dropout", 7, kYes, map_dropout},
    {"Equal", 7, kConst, map_equal},
    {"Erf", 9, kYes, map_unary},
    {"Exp", 1, kYes, map_unary},
    {"Expand", 8, kYes, map_expand},
    {"Flatten", 1, kYes, map_flatten},
    {"Floor", 6, kConst, map_floor_ceil},
    {"Gather", 1, kYes, map_gather},
    {"Gelu", 20, kYes, map_gelu},
    {"Gemm", 7, kYes, map_gemm},
    {"GlobalAveragePool", 1, kYes, map_global_pool},
    {"GlobalMaxPool", 1, kYes, map_global_pool},
    {"GRU", 7, kYes, map_recurrent},
    {"HardSigmoid", 1, kYes, map_hard_sigmoid},
    {"HardSwish", 14, kYes, map_unary},
    {"Identity", 1, kYes, map_identity},
    {"LayerNormalization", 17, kYes, map_layer_norm},
    {"LeakyRelu", 1, kYes, map_leaky_relu},
    {"Log", 1, kYes, map_unary},
    {"LpNormalization", 1, kYes, map_lp_normalization},
    {"LSTM", 7, kYes, map_recurrent},
    {"MatMul", 1, kYes, map_matmul},
    {"Max", 6, kYes, map_variadic},
    {"MaxPool", 1, kYes, map_pool},
    {"Min", 6, kYes, map_variadic},
    {"Mul", 7, kYes, map_binary},
    {"Neg", 1, kYes, map_unary},
    {"Not", 1, kConst, map_not},
    {"Pad", 2, kYes, map_pad},
    {"Pow", 7, kYes, map_pow},
    {"PRelu", 7, kYes, map_prelu},
    {"QLinearConv", 10, kYes, map_qlinear_conv},
    {"QLinearMatMul", 10, kYes, map_qlinear_matmul},
    {"QuantizeLinear", 10, kYes, map_quantize},
    {"Reciprocal", 1, kYes, map_unary},
    {"ReduceL2", 1, kYes, map_reduce},
    {"ReduceMax", 1, kYes, map_reduce},
    {"ReduceMean", 1, kYes, map_reduce},
    {"ReduceMin", 1, kYes, map_reduce},
    {"ReduceSum", 1, kYes, map_reduce},
    {"Relu", 1, kYes, map_unary},
    {"Reshape", 5, kYes, map_reshape},
    {"Resize", 10, kYes, map_resize},
    {"Shape", 1, kYes, map_shape},  // shapes are static: always a constant
    {"Sigmoid", 1, kYes, map_unary},
    {"Slice", 1, kYes, map_slice},
    {"Softmax", 1, kYes, map_softmax},
    {"Split", 2, kYes, map_split},
    {"Sqrt", 1, kYes, map_unary},
    {"Squeeze", 1, kYes, map_squeeze},
    {"Sub", 7, kYes, map_binary},
    {"Tanh", 1, kYes, map_unary},
    {"Transpose", 1, kYes, map_transpose},
    {"Unsqueeze", 1, kYes, map_unsqueeze},
    {"Upsample", 7, kYes, map_upsample},
    {"Where", 9, kYes, map_where},
};

}  // namespace

const OnnxOpEntry* find_onnx_op(const std::string& op_type) {
  for (const auto& e : kOps)
    if (op_type == e.op_type) return &e;
  return nullptr;
}

OnnxOpSupport onnx_op_support(const std::string& op_type) {
  const OnnxOpEntry* e = find_onnx_op(op_type);
  return e ? e->support : OnnxOpSupport::kUnsupported;
}

}  // namespace neutron
