// STUB: replace with the real binder(s).
#include "exec/ops/binders.h"

namespace neutron {

StatusOr<StepPtr> bind_gemm(const Graph& g, NodeId id) {
  return error(Error::NotSupported, describe(g, id), ": no CPU kernel yet (bind_gemm)");
}
StatusOr<StepPtr> bind_matmul(const Graph& g, NodeId id) {
  return error(Error::NotSupported, describe(g, id), ": no CPU kernel yet (bind_matmul)");
}

}  // namespace neutron
