// Binder of int8 ReduceMean and ReduceSum (kernels/reduce_int8.h): one fixed-point requantization
// of sum(q - z_in), multiplier s_in / (s_out * count) for Mean and s_in / s_out for Sum. Any axes,
// any keepdims (keepdims changes only the output shape). ReduceMax/ReduceMin with the same
// quantization in and out stay in reduce.cc (they move values).
#include <algorithm>

#include "exec/ops/int8_common.h"
#include "lowering/int8_setup.h"

namespace neutron {


StatusOr<StepPtr> bind_reduce_int8(const Graph& g, NodeId id) {
  ASSIGN_OR_RETURN(int8::ReduceSetup s, int8::reduce_setup(g, id));
  const TensorId x = g.node(id).input(0), y = g.node(id).outputs[0];
  const ReduceInt8Params p = s.p;
  return make_step(
      [p, x, y](const RunContext& ctx) {
        reduce_sum_int8(p, ctx.in<int8_t>(x), ctx.out<int8_t>(y), ctx.scratch<void>());
      },
      reduce_sum_int8_scratch_bytes(p));
}

}  // namespace neutron
