// STUB: replaced by the real pass.
#include "passes/passes.h"

namespace neutron {
Status layout_nhwc(Graph&) { return Status::OK(); }
}  // namespace neutron
