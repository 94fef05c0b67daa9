// IR ops that are never delegated, each with the reason (and where it is handled instead).
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

OpSupport batch_normalization_support() {
  return not_delegated(OpKind::BatchNormalization, "batch_normalization.no_converter",
                       "standalone batch normalization has no Neutron converter; fold-batchnorm folds it into a "
                       "preceding Conv or Gemm",
                       "aten.batch_norm (not supported)");
}

OpSupport cast_support() {
  return not_delegated(OpKind::Cast, "cast.no_converter",
                       "type conversions have no Neutron converter; a Cast between float32, int32 and int64 (e.g. "
                       "token ids into float, or into a Gather's indices) runs on the CPU as a cast kernel call");
}

OpSupport pow_tensor_support() {
  return not_delegated(OpKind::PowTensor, "pow_tensor.no_int8",
                       "Pow with a tensor of exponents has no int8 kernel and no Neutron converter (a single "
                       "constant exponent is delegated as a table); it runs on the CPU in float",
                       "aten.pow.Tensor_Tensor (not supported)");
}

OpSupport global_max_pool_support() {
  return not_delegated(OpKind::GlobalMaxPool, "global_max_pool.no_converter",
                       "adaptive max pooling has no Neutron converter (ReduceMax over H and W is delegated)",
                       "aten.adaptive_max_pool2d (not supported)");
}

OpSupport hard_sigmoid_support() {
  return not_delegated(OpKind::HardSigmoid, "hard_sigmoid.no_converter",
                       "HardSigmoid has no Neutron converter (it runs as an int8 table on the CPU); "
                       "Mul(x, HardSigmoid(x)), PyTorch's opset-13 hardswish, becomes a delegated HardSwish (fuse-hardswish pass)");
}

OpSupport reduce_l2_support() {
  return not_delegated(OpKind::ReduceL2, "reduce_l2.no_int8",
                       "ReduceL2 has no int8 kernel; F.normalize's ReduceL2 -> Clip -> Expand -> Div becomes one "
                       "LpNormalization (fuse-l2-normalize), which is delegated; alone it runs on the CPU in float "
                       "(reduce_f32 l2)",
                       "aten.linalg_vector_norm (not supported alone)");
}

OpSupport sqrt_support() {
  return not_delegated(OpKind::Sqrt, "sqrt.no_converter",
                       "Sqrt has no Neutron converter; upstream delegates rsqrt as RSQRT, but our IR has no Rsqrt op "
                       "and no Reciprocal(Sqrt(x)) fusion yet, so both stay on the CPU",
                       "aten.sqrt (not supported); aten.rsqrt -> RSQRT");
}

OpSupport reciprocal_support() {
  return not_delegated(OpKind::Reciprocal, "reciprocal.no_converter",
                       "Reciprocal has no Neutron converter; upstream delegates rsqrt as RSQRT, but our IR has no "
                       "Rsqrt op and no Reciprocal(Sqrt(x)) fusion yet",
                       "aten.reciprocal (not supported); aten.rsqrt -> RSQRT");
}

OpSupport split_support() {
  return not_delegated(OpKind::Split, "split.no_converter",
                       "Split has no Neutron converter; split-to-slices rewrites it into Slice ops, which are "
                       "delegated",
                       "aten.split (rewritten to slice_copy upstream)");
}

OpSupport quantize_linear_support() {
  return not_delegated(OpKind::QuantizeLinear, "quantize_linear.float_boundary",
                       "QuantizeLinear converts float to int8 at a float/int8 boundary (the model input, or the "
                       "result of an op that stays in float); it runs on the CPU (upstream: removed by "
                       "RemoveIOQuantOpsPass or kept outside the delegate)",
                       "quantize_per_tensor (cluster boundary)");
}

OpSupport dequantize_linear_support() {
  return not_delegated(OpKind::DequantizeLinear, "dequantize_linear.float_boundary",
                       "DequantizeLinear converts int8 to float at a float/int8 boundary (the model output, or the "
                       "input of an op that stays in float); it runs on the CPU (upstream: removed by "
                       "RemoveIOQuantOpsPass or kept outside the delegate)",
                       "dequantize_per_tensor (cluster boundary)");
}

}  // namespace neutron
