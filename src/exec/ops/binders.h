// Binder entry points, one per op family file in exec/ops/. The float binders dispatch to the
// *_int8 binders when the node's data tensors are quantized int8 (see docs/integer-semantics.md).
#pragma once
#include "exec/step.h"

namespace neutron {

// conv.cc
StatusOr<StepPtr> bind_conv(const Graph& g, NodeId id);
StatusOr<StepPtr> bind_conv_transpose(const Graph& g, NodeId id);
// gemm.cc
StatusOr<StepPtr> bind_gemm(const Graph& g, NodeId id);
StatusOr<StepPtr> bind_matmul(const Graph& g, NodeId id);
// pool.cc
StatusOr<StepPtr> bind_pool(const Graph& g, NodeId id);         // MaxPool, AveragePool
StatusOr<StepPtr> bind_global_pool(const Graph& g, NodeId id);  // GlobalAveragePool, GlobalMaxPool
// batchnorm.cc
StatusOr<StepPtr> bind_batchnorm(const Graph& g, NodeId id);
// resize.cc
StatusOr<StepPtr> bind_resize(const Graph& g, NodeId id);
// elementwise.cc: Add, Sub, Mul, Div, Max, Min, PRelu
StatusOr<StepPtr> bind_binary(const Graph& g, NodeId id);
// unary.cc: Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Abs, Neg, Exp, Log, Sqrt, Reciprocal
StatusOr<StepPtr> bind_unary(const Graph& g, NodeId id);
// softmax.cc
StatusOr<StepPtr> bind_softmax(const Graph& g, NodeId id);
// reduce.cc: ReduceMean, ReduceMax, ReduceMin, ReduceSum
StatusOr<StepPtr> bind_reduce(const Graph& g, NodeId id);
// data_movement.cc: Concat, Reshape, Transpose, Slice, Split, Pad, Identity, Dropout, Cast
StatusOr<StepPtr> bind_data_movement(const Graph& g, NodeId id);
// quantize.cc: QuantizeLinear, DequantizeLinear
StatusOr<StepPtr> bind_quantize(const Graph& g, NodeId id);

// Integer versions (files *_int8.cc). Called by the family binders above.
StatusOr<StepPtr> bind_conv_int8(const Graph& g, NodeId id);
StatusOr<StepPtr> bind_gemm_int8(const Graph& g, NodeId id);    // Gemm and MatMul with constant B
StatusOr<StepPtr> bind_pool_int8(const Graph& g, NodeId id);    // MaxPool, AveragePool, Global*
StatusOr<StepPtr> bind_binary_int8(const Graph& g, NodeId id);  // Add, Sub, Mul, Max, Min
StatusOr<StepPtr> bind_unary_int8(const Graph& g, NodeId id);   // all unary ops via a 256-entry table
StatusOr<StepPtr> bind_softmax_int8(const Graph& g, NodeId id);
StatusOr<StepPtr> bind_batch_matmul_int8(const Graph& g, NodeId id);   // MatMul with a runtime B
StatusOr<StepPtr> bind_reduce_int8(const Graph& g, NodeId id);         // ReduceMean, ReduceSum
StatusOr<StepPtr> bind_resize_linear_int8(const Graph& g, NodeId id);  // Resize mode "linear"

// True when the node's first input is an int8 tensor with quantization parameters.
bool is_int8_node(const Graph& g, NodeId id);

}  // namespace neutron
