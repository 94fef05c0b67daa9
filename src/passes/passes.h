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

// Gives spatial ops (Conv, ConvTranspose, pools, BatchNormalization, Resize) channels_last=1 with
// NCHW<->NHWC transposes around them, then sinks transposes through layout-agnostic ops and
// removes pairs that cancel, so a CNN runs NHWC from its first conv to its classifier.
Status layout_nhwc(Graph& g);
// The first half of layout_nhwc alone (every spatial op wrapped in its own transposes); tests use
// it as the reference that sinking and cancelling must not change.
Status wrap_spatial_ops_nhwc(Graph& g);

}  // namespace neutron
