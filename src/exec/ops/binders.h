// Binder entry points, one per op family file in exec/ops/. The family binders send nodes whose
// data tensors are quantized int8 to bind_lowered_int8 (see docs/integer-semantics.md).
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
// unary.cc: Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Abs, Neg, Exp, Log, Sqrt, Reciprocal,
// Erf, Gelu, Pow
StatusOr<StepPtr> bind_unary(const Graph& g, NodeId id);
// layer_norm.cc
StatusOr<StepPtr> bind_layer_norm(const Graph& g, NodeId id);
// softmax.cc
StatusOr<StepPtr> bind_softmax(const Graph& g, NodeId id);
// recurrent.cc: GRU, LSTM (float32)
StatusOr<StepPtr> bind_recurrent(const Graph& g, NodeId id);
// reduce.cc: LpNormalization (p = 2)
StatusOr<StepPtr> bind_lp_normalization(const Graph& g, NodeId id);
// reduce.cc: ReduceMean, ReduceMax, ReduceMin, ReduceSum
StatusOr<StepPtr> bind_reduce(const Graph& g, NodeId id);
// data_movement.cc: Concat, Reshape, Transpose, Slice, Split, Pad, Identity, Dropout, Cast, Expand, Gather, Where
StatusOr<StepPtr> bind_data_movement(const Graph& g, NodeId id);
// quantize.cc: QuantizeLinear, DequantizeLinear
StatusOr<StepPtr> bind_quantize(const Graph& g, NodeId id);

// int8 nodes (lowered_int8.cc): lowered by the shared int8 lowering (lowering/lowering.h) and run
// as kernel calls by kernel_calls::Executor. The family binders above send every int8 compute
// node here; data movement moves int8 bytes like any other dtype.
StatusOr<StepPtr> bind_lowered_int8(const Graph& g, NodeId id);

// True when the node's first input is an int8 tensor with quantization parameters.
bool is_int8_node(const Graph& g, NodeId id);

}  // namespace neutron
