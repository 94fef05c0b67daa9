// Individual graph passes. Each one rewrites the graph in place and keeps it verifiable.
#pragma once
#include "ir/graph.h"

namespace neutron {

// Removes nodes whose outputs are neither graph outputs nor read by a live node.
Status eliminate_dead_code(Graph& g);

// Converts uint8 quantized tensors inside the graph to int8 (zero point - 128, exact), then turns
// every DequantizeLinear -> op -> QuantizeLinear cluster whose op has an int8 kernel into that op
// on the int8 tensors. Clusters that cannot be folded stay in float, which is still exact QDQ.
Status fold_qdq(Graph& g);

// quantize-before-pad: QuantizeLinear after a float Pad (its only reader) moves before the Pad,
// which becomes int8 (exact; see quantize_before_pad.cc).
Status quantize_before_pad(Graph& g);

// dequantize-constants: a DequantizeLinear of an int8 constant left by fold-qdq (its reader stays
// in float) becomes the float32 constant it computes (see dequantize_constants.cc).
Status dequantize_constants(Graph& g);

// Gives spatial ops (Conv, ConvTranspose, pools, BatchNormalization, Resize) channels_last=1 with
// NCHW<->NHWC transposes around them, then sinks transposes through layout-agnostic ops and
// removes pairs that cancel, so a CNN runs NHWC from its first conv to its classifier.
Status layout_nhwc(Graph& g);
// The first half of layout_nhwc alone (every spatial op wrapped in its own transposes); tests use
// it as the reference that sinking and cancelling must not change.
Status wrap_spatial_ops_nhwc(Graph& g);

// ---- Passes on the float graph before post-training quantization (prequant_pipeline()). ----
// Upstream's ConvertConv1dToConv2dPass has no pass here: 1-D Conv/ConvTranspose are imported as
// Reshape -> 2-D op -> Reshape (import/onnx/ops_nn.cc, emit_1d_as_2d).

// fold-batchnorm: BatchNormalization after Conv, ConvTranspose, Gemm or 2-D MatMul with constant B
// (its only reader, constant BN parameters) folded into the weights and bias (created if absent).
Status fold_batchnorm(Graph& g);

// fold-constants: nodes whose inputs are all constants (and that have a CPU kernel) are evaluated
// with the executor and replaced by constants. Q/DQ, quantized tensors and graph outputs stay.
Status fold_constants(Graph& g);

// fuse-l2-normalize: F.normalize's ReduceL2 -> Clip(min=eps) -> Expand -> Div(x, .) becomes one
// LpNormalization(axis, p=2, eps) (src/passes/fuse_l2_normalize.cc).
Status fuse_l2_normalize(Graph& g);

// div-to-mul: Div by a constant f32 divisor (no |x| < 1e-12) becomes Mul by its reciprocal.
Status div_to_mul(Graph& g);

// fuse-hardswish: Mul(x, HardSigmoid(x) with alpha 1/6, beta 1/2) becomes HardSwish(x) (PyTorch's
// opset-13 export of hardswish).
Status fuse_hardswish(Graph& g);

// drop-empty-concat-inputs: Concat inputs with no elements are dropped (at least one input stays).
Status drop_empty_concat_inputs(Graph& g);

// gemm-bias: a Gemm's constant bias becomes a per-feature [N] vector (from one value) or an Add
// after the Gemm (from more than one row), the forms FULLY_CONNECTED takes.
Status gemm_bias(Graph& g);

// split-to-slices: Split becomes one Slice per output.
Status split_to_slices(Graph& g);

// split-grouped-conv: grouped, non-depthwise Conv (2 <= group <= 10, not group = Cin = Cout) with
// constant weights becomes per-group Slices, single-group Convs and a Concat on channels.
Status split_grouped_conv(Graph& g);

// fold-linear-add: Gemm (or MatMul with constant 2-D B) followed by an Add of a per-feature
// constant ([N], [1, N]) that is its only reader becomes one Gemm with the constant in its bias.
Status fold_linear_add(Graph& g);

// fuse-activation (host CPU pipeline only): Relu / Clip after a float Conv or Gemm becomes the
// producer's fused activation (act_relu, act_min/act_max), with the same float results.
Status fuse_activation(Graph& g);

// remove-identity: Identity and Dropout removed; a graph output keeps its name (or its node).
Status remove_identity(Graph& g);

}  // namespace neutron
