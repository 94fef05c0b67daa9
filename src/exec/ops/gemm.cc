// Binders of the float32 Gemm and MatMul (kernels/gemm_f32.h). Constant B operands are packed
// (with Gemm's alpha folded in) once here; runtime B operands are packed into scratch per run.
// Optional attributes act_relu / act_min / act_max (a fused activation, ir/op_attrs.h) clamp the output.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "exec/ops/binders.h"
#include "lowering/matmul_shape.h"
#include "kernels/gemm_f32.h"

namespace neutron {
namespace {

GemmF32Epilogue activation_of(const Node& n) {
  GemmF32Epilogue ep;
  ep.min = float(n.attrs.get_float("act_min", -std::numeric_limits<double>::infinity()));
  ep.max = float(n.attrs.get_float("act_max", std::numeric_limits<double>::infinity()));
  ep.relu = n.attrs.get_int("act_relu", 0) != 0;
  return ep;
}

Status check_f32(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  for (TensorId t : n.inputs)
    if (t != kNoTensor)
      CHECK_OR_RETURN(g.tensor(t).dtype == DType::F32, Error::NotSupported, describe(g, id), ": operand '",
                      g.tensor(t).name, "' is ", dtype_name(g.tensor(t).dtype), ", the float kernel needs f32");
  CHECK_OR_RETURN(n.outputs.size() == 1 && g.tensor(n.outputs[0]).dtype == DType::F32, Error::NotSupported,
                  describe(g, id), ": the float kernel needs one f32 output");
  return Status::OK();
}

class GemmStep final : public Step {
 public:
  int64_t M = 0, N = 0, K = 0;
  bool trans_a = false, trans_b = false;
  float alpha = 1, beta = 1;
  TensorId a = kNoTensor, b = kNoTensor, c = kNoTensor, y = kNoTensor;
  std::vector<float> packed_b;  // empty when B is packed per run
  std::vector<float> bias;      // beta * C as a per-column bias, when C is a constant row
  int64_t c_stride_m = 0, c_stride_n = 0;  // broadcast strides of C when it is added per run
  GemmF32Epilogue ep;

  size_t a_scratch_floats() const { return trans_a ? size_t(M * K) : 0; }
  size_t scratch_bytes() const override {
    return sizeof(float) * (a_scratch_floats() + (packed_b.empty() ? gemm_f32_packed_b_floats(K, N) : 0));
  }
  void run(const RunContext& ctx) const override {
    float* scratch = ctx.scratch<float>();
    const float* av = ctx.in<float>(a);
    float* out = ctx.out<float>(y);
    if (trans_a) {  // A is [K, M]
      for (int64_t m = 0; m < M; ++m)
        for (int64_t k = 0; k < K; ++k) scratch[m * K + k] = av[k * M + m];
      av = scratch;
    }
    const float* pb = packed_b.data();
    if (packed_b.empty()) {
      float* dst = scratch + a_scratch_floats();
      gemm_f32_pack_b(ctx.in<float>(b), trans_b ? K : N, trans_b, K, N, alpha, dst);
      pb = dst;
    }
    GemmF32Epilogue e = ep;
    if (!bias.empty()) {
      e.bias = bias.data();
    } else if (c != kNoTensor && beta != 0.0f) {
      const float* cv = ctx.in<float>(c);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) out[m * N + n] = beta * cv[m * c_stride_m + n * c_stride_n];
      e.accumulate = true;
    }
    gemm_f32(M, N, K, av, K, pb, out, N, e);
  }
};

class MatMulStep final : public Step {
 public:
  int64_t M = 0, N = 0, K = 0;
  int64_t batches = 1;                           // output batch count
  std::vector<int64_t> a_offset, b_slice;        // per output batch: A element offset, B slice index
  std::vector<float> packed_b;                   // all B slices, packed (constant B), else empty
  TensorId a = kNoTensor, b = kNoTensor, y = kNoTensor;
  GemmF32Epilogue ep;

  size_t slice_floats() const { return gemm_f32_packed_b_floats(K, N); }
  size_t scratch_bytes() const override { return packed_b.empty() ? sizeof(float) * slice_floats() : 0; }
  void run(const RunContext& ctx) const override {
    const float* av = ctx.in<float>(a);
    float* out = ctx.out<float>(y);
    if (a_offset.empty()) {  // B has no batch: all of A's rows in one GEMM
      const float* pb = packed_b.data();
      if (packed_b.empty()) {
        gemm_f32_pack_b(ctx.in<float>(b), N, false, K, N, 1.0f, ctx.scratch<float>());
        pb = ctx.scratch<float>();
      }
      gemm_f32(batches * M, N, K, av, K, pb, out, N, ep);
      return;
    }
    for (int64_t i = 0; i < batches; ++i) {
      const float* pb;
      if (packed_b.empty()) {
        float* dst = ctx.scratch<float>();
        gemm_f32_pack_b(ctx.in<float>(b) + b_slice[size_t(i)] * K * N, N, false, K, N, 1.0f, dst);
        pb = dst;
      } else {
        pb = packed_b.data() + size_t(b_slice[size_t(i)]) * slice_floats();
      }
      gemm_f32(M, N, K, av + a_offset[size_t(i)], K, pb, out + i * M * N, N, ep);
    }
  }
};

}  // namespace

StatusOr<StepPtr> bind_gemm(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor, Error::InvalidModel,
                  describe(g, id), ": expects inputs A, B, C?");
  RETURN_IF_ERROR(check_f32(g, id));
  const Shape& as = g.tensor(n.input(0)).shape;
  const Tensor& bt = g.tensor(n.input(1));
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  CHECK_OR_RETURN(as.size() == 2 && bt.shape.size() == 2 && ys.size() == 2, Error::InvalidModel, describe(g, id),
                  ": A ", shape_str(as), ", B ", shape_str(bt.shape), " and Y ", shape_str(ys), " must be 2-D");
  auto step = std::make_unique<GemmStep>();
  GemmStep& s = *step;
  s.trans_a = n.attrs.get_int("transA", 0) != 0;
  s.trans_b = n.attrs.get_int("transB", 0) != 0;
  s.alpha = float(n.attrs.get_float("alpha", 1.0));
  s.beta = float(n.attrs.get_float("beta", 1.0));
  s.M = s.trans_a ? as[1] : as[0];
  s.K = s.trans_a ? as[0] : as[1];
  s.N = s.trans_b ? bt.shape[0] : bt.shape[1];
  const int64_t kb = s.trans_b ? bt.shape[1] : bt.shape[0];
  CHECK_OR_RETURN(kb == s.K && ys[0] == s.M && ys[1] == s.N, Error::InvalidModel, describe(g, id), ": A ",
                  shape_str(as), " (transA=", int(s.trans_a), "), B ", shape_str(bt.shape), " (transB=",
                  int(s.trans_b), ") and Y ", shape_str(ys), " do not fit together");
  s.a = n.input(0);
  s.b = n.input(1);
  s.y = n.outputs[0];
  s.ep = activation_of(n);
  if (bt.is_constant()) {
    s.packed_b.resize(gemm_f32_packed_b_floats(s.K, s.N));
    gemm_f32_pack_b(bt.data->data<float>(), s.trans_b ? s.K : s.N, s.trans_b, s.K, s.N, s.alpha, s.packed_b.data());
  }
  const TensorId c = n.input(2);
  if (c != kNoTensor && s.beta != 0.0f) {
    const Tensor& ct = g.tensor(c);
    CHECK_OR_RETURN(ct.shape.size() <= 2, Error::InvalidModel, describe(g, id), ": C ", shape_str(ct.shape),
                    " does not broadcast to ", shape_str(ys));
    Shape cs = ct.shape;
    while (cs.size() < 2) cs.insert(cs.begin(), 1);
    CHECK_OR_RETURN((cs[0] == 1 || cs[0] == s.M) && (cs[1] == 1 || cs[1] == s.N), Error::InvalidModel,
                    describe(g, id), ": C ", shape_str(ct.shape), " does not broadcast to ", shape_str(ys));
    s.c_stride_n = cs[1] == 1 ? 0 : 1;
    s.c_stride_m = cs[0] == 1 ? 0 : cs[1];
    if (ct.is_constant() && s.c_stride_m == 0) {
      s.bias.resize(size_t(s.N));
      for (int64_t j = 0; j < s.N; ++j) s.bias[size_t(j)] = s.beta * ct.data->data<float>()[j * s.c_stride_n];
    } else {
      s.c = c;
    }
  }
  return StepPtr(std::move(step));
}

StatusOr<StepPtr> bind_matmul(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor, Error::InvalidModel,
                  describe(g, id), ": expects inputs A, B");
  RETURN_IF_ERROR(check_f32(g, id));
  const Shape& as = g.tensor(n.input(0)).shape;
  const Tensor& bt = g.tensor(n.input(1));
  const Shape& bs = bt.shape;
  const Shape& ys = g.tensor(n.outputs[0]).shape;
  ASSIGN_OR_RETURN(const MatMulShape ms, matmul_shape(g, id, as, bs, ys));
  auto step = std::make_unique<MatMulStep>();
  MatMulStep& s = *step;
  s.M = ms.M;
  s.K = ms.K;
  s.N = ms.N;
  s.a = n.input(0);
  s.b = n.input(1);
  s.y = n.outputs[0];
  s.ep = activation_of(n);
  s.batches = num_elements(ms.out_batch);
  const int64_t b_slices = num_elements(ms.b_batch);
  if (bt.is_constant()) {
    s.packed_b.resize(size_t(b_slices) * s.slice_floats());
    for (int64_t i = 0; i < b_slices; ++i)
      gemm_f32_pack_b(bt.data->data<float>() + i * s.K * s.N, s.N, false, s.K, s.N, 1.0f,
                      s.packed_b.data() + size_t(i) * s.slice_floats());
  }
  if (b_slices == 1) return StepPtr(std::move(step));  // one GEMM over all of A's rows

  // Per output batch: offsets of the A slice and index of the B slice (broadcast dims repeat).
  for (int64_t i = 0; i < s.batches; ++i) {
    int64_t a_index, b_index;
    ms.slice_indices(i, &a_index, &b_index);
    s.a_offset.push_back(a_index * s.M * s.K);
    s.b_slice.push_back(b_index);
  }
  return StepPtr(std::move(step));
}

}  // namespace neutron
