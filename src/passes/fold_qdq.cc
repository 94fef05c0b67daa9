// STUB: replaced by the real pass.
#include "passes/passes.h"

namespace neutron {
Status fold_qdq(Graph&) { return Status::OK(); }
}  // namespace neutron
