#include "exec/step.h"

#include "exec/ops/binders.h"

namespace neutron {

bool is_int8_node(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.inputs.empty() || n.inputs[0] == kNoTensor) return false;
  const Tensor& t = g.tensor(n.inputs[0]);
  return t.dtype == DType::I8 && t.is_quantized();
}

BindFn find_binder(OpKind kind) {
  switch (kind) {
    case OpKind::Conv: return bind_conv;
    case OpKind::ConvTranspose: return bind_conv_transpose;
    case OpKind::Gemm: return bind_gemm;
    case OpKind::MatMul: return bind_matmul;
    case OpKind::MaxPool:
    case OpKind::AveragePool: return bind_pool;
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool: return bind_global_pool;
    case OpKind::BatchNormalization: return bind_batchnorm;
    case OpKind::Resize: return bind_resize;
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::PowTensor:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::PRelu: return bind_binary;
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish:
    case OpKind::Tanh:
    case OpKind::Abs:
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sqrt:
    case OpKind::Reciprocal:
    case OpKind::Erf:
    case OpKind::Gelu:
    case OpKind::Pow: return bind_unary;
    case OpKind::LayerNormalization: return bind_layer_norm;
    case OpKind::Softmax: return bind_softmax;
    case OpKind::GRU:
    case OpKind::LSTM: return bind_recurrent;
    case OpKind::LpNormalization: return bind_lp_normalization;
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceSum: return bind_reduce;
    case OpKind::ReduceL2: return bind_reduce;
    case OpKind::Concat:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::Split:
    case OpKind::Pad:
    case OpKind::Identity:
    case OpKind::Dropout:
    case OpKind::Cast:
    case OpKind::Expand:
    case OpKind::Gather:
    case OpKind::Where: return bind_data_movement;
    case OpKind::QuantizeLinear:
    case OpKind::DequantizeLinear: return bind_quantize;
    case OpKind::kCount: break;
  }
  return nullptr;
}

}  // namespace neutron
