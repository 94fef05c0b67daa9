// Recognises the decomposed forms PyTorch exports of LayerNorm (opset < 17) and GELU (exact and
// tanh, every opset before 20) in an imported graph and replaces each by one LayerNormalization
// or Gelu node. A pattern matches only as a whole: every intermediate value must feed the pattern
// alone, every constant must have the expected value; otherwise the plain ops stay (never a
// wrong fusion). Also splits a fused q/k/v projection before its 5-D reshape (try_qkv_split).
#pragma once
#include "ir/graph.h"

namespace neutron {

// Returns the number of fusions made.
int fuse_transformer_patterns(Graph& g);

}  // namespace neutron
