#include "passes/pipeline.h"

#include "ir/verifier.h"
#include "passes/passes.h"

namespace neutron {

const std::vector<PassInfo>& cpu_pipeline() {
  static const std::vector<PassInfo> kPasses = {
      {"fold-qdq", "turn DequantizeLinear -> op -> QuantizeLinear clusters into int8 ops", fold_qdq},
      {"layout-nhwc", "run spatial ops channels-last; sink and cancel the transposes", layout_nhwc},
      {"fuse-activation", "fold Relu/Clip after a float Conv, Gemm or same-shape Add/Sub into its output clamp", fuse_activation},
      {"dce", "remove nodes whose outputs nobody reads", eliminate_dead_code},
  };
  return kPasses;
}

const std::vector<PassInfo>& compile_pipeline() {
  static const std::vector<PassInfo> kPasses = {
      {"fold-qdq", "turn DequantizeLinear -> op -> QuantizeLinear clusters into int8 ops", fold_qdq},
      {"drop-empty-concat-inputs", "drop Concat inputs with no elements (empty slices)", drop_empty_concat_inputs},
      {"quantize-before-pad", "quantize before a float Pad so the Pad runs in int8", quantize_before_pad},
      {"dequantize-constants", "dequantize int8 constants read by ops that stay in float", dequantize_constants},
      {"dce", "remove nodes whose outputs nobody reads", eliminate_dead_code},
  };
  return kPasses;
}

const std::vector<PassInfo>& prequant_pipeline() {
  // Order: Identity/Dropout go first so they do not hide Conv -> BatchNormalization pairs; constants
  // are folded before the rewrites that need constant operands (a weight computed by a Transpose
  // or a Mul is constant afterwards); BatchNormalization is folded before split-grouped-conv (one
  // fold instead of one per group) and before fold-linear-add (which then sees the BN's bias).
  static const std::vector<PassInfo> kPasses = {
      {"remove-identity", "remove Identity and Dropout", remove_identity},
      {"fold-constants", "evaluate nodes whose inputs are all constants", fold_constants},
      {"fuse-l2-normalize", "turn F.normalize's ReduceL2 -> Clip -> Expand -> Div into one LpNormalization",
       fuse_l2_normalize},
      {"div-to-mul", "turn Div by a constant into Mul by its reciprocal", div_to_mul},
      {"fuse-hardswish", "turn Mul(x, HardSigmoid(x)) (opset-13 hardswish) into HardSwish", fuse_hardswish},
      {"split-to-slices", "turn Split into one Slice per output", split_to_slices},
      {"drop-empty-concat-inputs", "drop Concat inputs with no elements (empty slices)", drop_empty_concat_inputs},
      {"fold-batchnorm", "fold BatchNormalization into the preceding Conv, ConvTranspose, Gemm or MatMul", fold_batchnorm},
      {"split-grouped-conv", "split grouped (not depthwise) Conv into per-group Convs and a Concat", split_grouped_conv},
      {"fold-linear-add", "fold an Add of a per-feature constant into the preceding Gemm or MatMul", fold_linear_add},
      {"gemm-bias", "make a Gemm's constant bias a per-feature vector, or an Add after it", gemm_bias},
      {"dce", "remove nodes whose outputs nobody reads", eliminate_dead_code},
  };
  return kPasses;
}

Status run_passes(Graph& g, const std::vector<PassInfo>& passes,
                  const std::function<void(const PassInfo&, const Graph&)>& after_each) {
  for (const PassInfo& p : passes) {
    RETURN_IF_ERROR(p.run(g).with_context(std::string("pass ") + p.name));
    g.compact();
    RETURN_IF_ERROR(verify_graph(g).with_context(std::string("verifier after pass ") + p.name));
    if (after_each) after_each(p, g);
  }
  return Status::OK();
}

}  // namespace neutron
