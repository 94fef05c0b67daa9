// Binder of the int8 MatMul of two runtime tensors (kernels/batch_matmul_int8.h): ONNX batch
// broadcasting, any zero points, the fused activation act_min/act_max. MatMul with a constant B is
// gemm_int8.cc's (bind_matmul dispatches).
#include <algorithm>
#include <climits>

#include "exec/ops/int8_common.h"
#include "exec/ops/int8_setup.h"
#include "exec/ops/matmul_shape.h"

namespace neutron {

namespace int8 {

StatusOr<BatchMatMulSetup> batch_matmul_setup(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.kind == OpKind::MatMul, Error::Internal, describe(g, id), ": not a MatMul");
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects inputs A, B and one output");
  const TensorId a = n.input(0), b = n.input(1), y = n.outputs[0];
  RETURN_IF_ERROR(check_per_tensor(g, id, a, "input A"));
  RETURN_IF_ERROR(check_per_tensor(g, id, b, "input B"));
  RETURN_IF_ERROR(check_per_tensor(g, id, y, "output"));
  const Shape& as = g.tensor(a).shape;
  const Shape& bs = g.tensor(b).shape;
  const Shape& ys = g.tensor(y).shape;
  ASSIGN_OR_RETURN(const MatMulShape ms, matmul_shape(g, id, as, bs, ys));
  const int64_t M = ms.M, K = ms.K, N = ms.N;
  CHECK_OR_RETURN(M >= 1 && N >= 1 && K >= 1, Error::NotSupported, describe(g, id), ": empty operands A ",
                  shape_str(as), ", B ", shape_str(bs));
  const int32_t max_k = batch_matmul_int8_max_depth(zero_point_of(g, a), zero_point_of(g, b));
  CHECK_OR_RETURN(K <= max_k, Error::NotSupported, describe(g, id), ": inner dimension K = ", K, " is above ", max_k,
                  " (the int32 accumulator of the int8 kernel with zero points ", zero_point_of(g, a), " and ",
                  zero_point_of(g, b), ")");
  const int64_t batches = num_elements(ms.out_batch), a_batches = num_elements(ms.a_batch),
                b_batches = num_elements(ms.b_batch);
  CHECK_OR_RETURN(batches * M <= INT32_MAX && M * K <= INT32_MAX && K * N <= INT32_MAX && M * N <= INT32_MAX,
                  Error::NotSupported, describe(g, id), ": operands too large for the int8 kernel");

  BatchMatMulSetup s;
  BatchMatMulInt8Params& p = s.p;
  p.m = int32_t(M);
  p.k = int32_t(K);
  p.n = int32_t(N);
  p.a_zero_point = zero_point_of(g, a);
  p.b_zero_point = zero_point_of(g, b);
  p.output_zero_point = zero_point_of(g, y);
  fused_activation_range(g, id, y, &p.qmin, &p.qmax);
  const double sa = scale_of(g, a), sb = scale_of(g, b), sy = scale_of(g, y);
  RETURN_IF_ERROR(make_multiplier(g, id, sa * sb / sy, str_cat("s_a * s_b / s_out (", sa, " * ", sb, " / ", sy, ")"),
                                  &p.multiplier));
  // One stride per operand when each is either complete (every output batch has its own slice) or
  // a single slice; otherwise per-batch offsets.
  if ((a_batches == batches || a_batches == 1) && (b_batches == batches || b_batches == 1)) {
    p.batch = int32_t(batches);
    p.a_batch_stride = a_batches == 1 ? 0 : M * K;
    p.b_batch_stride = b_batches == 1 ? 0 : K * N;
    return s;
  }
  p.batch = 1;
  for (int64_t i = 0; i < batches; ++i) {
    int64_t a_index, b_index;
    ms.slice_indices(i, &a_index, &b_index);
    s.a_offset.push_back(a_index * M * K);
    s.b_offset.push_back(b_index * K * N);
  }
  return s;
}

}  // namespace int8

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
