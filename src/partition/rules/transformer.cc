// The ops transformer exports add (issue 15). Not delegated yet, each with its reason; the
// partitioner keeps them on the CPU.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

OpSupport erf_support() {
  return not_delegated(OpKind::Erf, "erf.no_converter",
                       "Erf has no Neutron converter; the GELU pattern around it is fused into Gelu on import");
}

OpSupport expand_support() {
  return not_delegated(OpKind::Expand, "expand.not_yet", "Expand (broadcast copy) is not delegated yet");
}

OpSupport gather_support() {
  return not_delegated(OpKind::Gather, "gather.not_yet",
                       "Gather (embedding lookups, indexing) is not delegated yet: run-time indices need an "
                       "indirect load the NPU program does not have");
}

OpSupport gelu_support() {
  return not_delegated(OpKind::Gelu, "gelu.not_yet", "Gelu is not delegated yet");
}

OpSupport layer_normalization_support() {
  return not_delegated(OpKind::LayerNormalization, "layer_normalization.not_yet",
                       "LayerNormalization is not delegated yet");
}

OpSupport pow_support() {
  return not_delegated(OpKind::Pow, "pow.not_yet", "Pow is not delegated yet");
}

OpSupport where_support() {
  return not_delegated(OpKind::Where, "where.not_yet", "Where (select) is not delegated yet");
}

}  // namespace neutron
