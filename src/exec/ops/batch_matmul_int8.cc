// Binder of the int8 MatMul of two runtime tensors (kernels/batch_matmul_int8.h): ONNX batch
// broadcasting, any zero points, the fused activation act_min/act_max. MatMul with a constant B is
// gemm_int8.cc's (bind_matmul dispatches).
#include <algorithm>
#include <climits>

#include "exec/ops/int8_common.h"
#include "lowering/int8_setup.h"
#include "lowering/matmul_shape.h"

namespace neutron {


namespace {

class BatchMatMulInt8Step final : public Step {
 public:
  TensorId a = kNoTensor, b = kNoTensor, y = kNoTensor;
  int8::BatchMatMulSetup s;

  size_t scratch_bytes() const override { return batch_matmul_int8_scratch_bytes(s.p); }
  void run(const RunContext& ctx) const override {
    const int8_t* av = ctx.in<int8_t>(a);
    const int8_t* bv = ctx.in<int8_t>(b);
    int8_t* out = ctx.out<int8_t>(y);
    if (s.a_offset.empty()) {
      batch_matmul_int8(s.p, av, bv, out, ctx.scratch<void>());
      return;
    }
    const size_t step = size_t(s.p.m) * size_t(s.p.n);
    for (size_t i = 0; i < s.a_offset.size(); ++i)
      batch_matmul_int8(s.p, av + s.a_offset[i], bv + s.b_offset[i], out + i * step, ctx.scratch<void>());
  }
};

}  // namespace

StatusOr<StepPtr> bind_batch_matmul_int8(const Graph& g, NodeId id) {
  auto step = std::make_unique<BatchMatMulInt8Step>();
  ASSIGN_OR_RETURN(step->s, int8::batch_matmul_setup(g, id));
  const Node& n = g.node(id);
  step->a = n.input(0);
  step->b = n.input(1);
  step->y = n.outputs[0];
  return StepPtr(std::move(step));
}

}  // namespace neutron
