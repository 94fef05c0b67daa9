// STUB: replace with the real binder(s).
#include "exec/ops/binders.h"

namespace neutron {

StatusOr<StepPtr> bind_gemm_int8(const Graph& g, NodeId id) {
  return error(Error::NotSupported, describe(g, id), ": no CPU kernel yet (bind_gemm_int8)");
}

}  // namespace neutron
