// Binder of int8 Gemm and MatMul with a constant B (kernels/gemm_int8.h). B is packed to [N][K]
// once (transB handled here), the bias is brought into accumulator units alpha * s_a * s_b[n]
// and the input zero point is folded into it.
#include <vector>

#include "exec/ops/int8_common.h"
#include "kernels/gemm_int8.h"

namespace neutron {
namespace {

class GemmInt8Step final : public Step {
 public:
  TensorId a = kNoTensor, y = kNoTensor;
  std::vector<int16_t> packed;
  std::vector<int32_t> bias;
  std::vector<FixedMultiplier> multipliers;
  QGemmInt8Params p;

  void finalize() {
    p.weights = packed.data();
    p.bias = bias.data();
    p.multipliers = multipliers.data();
  }
  void run(const RunContext& ctx) const override {
    QGemmInt8Params q = p;
    q.scratch = ctx.scratch<int16_t>();
    qgemm_int8(q, ctx.in<int8_t>(a), size_t(p.depth), ctx.out<int8_t>(y), size_t(p.cols));
  }
  size_t scratch_bytes() const override { return qgemm_int8_scratch_bytes(p.depth); }
};

}  // namespace

StatusOr<StepPtr> bind_gemm_int8(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  const bool is_gemm = n.kind == OpKind::Gemm;
  CHECK_OR_RETURN(is_gemm || n.kind == OpKind::MatMul, Error::Internal, describe(g, id), ": not a Gemm or MatMul");
  const TensorId a = n.input(0), b = n.input(1), c = is_gemm ? n.input(2) : kNoTensor;
  const TensorId y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, a, "input A"));
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, y, "output"));
  CHECK_OR_RETURN(b != kNoTensor, Error::InvalidModel, describe(g, id), ": missing input B");
  const Tensor& bt = g.tensor(b);
  CHECK_OR_RETURN(bt.is_constant(), Error::NotSupported, describe(g, id), ": input B '", bt.name,
                  "' must be constant for the int8 kernel");
  CHECK_OR_RETURN(bt.dtype == DType::I8 && bt.is_quantized(), Error::NotSupported, describe(g, id), ": input B '",
                  bt.name, "' must be int8 with quantization parameters, got ", dtype_name(bt.dtype));
  CHECK_OR_RETURN(bt.shape.size() == 2, Error::NotSupported, describe(g, id), ": input B '", bt.name,
                  "' must be rank 2 for the int8 kernel, got ", shape_str(bt.shape));

  const Shape& as = g.tensor(a).shape;
  const bool trans_b = is_gemm && n.attrs.get_int("transB", 0) != 0;
  CHECK_OR_RETURN(!is_gemm || n.attrs.get_int("transA", 0) == 0, Error::NotSupported, describe(g, id),
                  ": the int8 Gemm does not support transA=1");
  const double alpha = is_gemm ? n.attrs.get_float("alpha", 1.0) : 1.0;
  const double beta = is_gemm ? n.attrs.get_float("beta", 1.0) : 1.0;
  CHECK_OR_RETURN(alpha > 0, Error::NotSupported, describe(g, id), ": the int8 Gemm needs alpha > 0, got ", alpha);
  const int64_t K = trans_b ? bt.shape[1] : bt.shape[0];
  const int64_t N = trans_b ? bt.shape[0] : bt.shape[1];
  CHECK_OR_RETURN(!as.empty() && as.back() == K && (is_gemm ? as.size() == 2 : true), Error::InvalidModel,
                  describe(g, id), ": A ", shape_str(as), " does not fit B ", shape_str(bt.shape),
                  trans_b ? " (transB)" : "");
  const int64_t M = num_elements(as) / K;
  CHECK_OR_RETURN(num_elements(g.tensor(y).shape) == M * N, Error::InvalidModel, describe(g, id), ": output ",
                  shape_str(g.tensor(y).shape), " does not hold ", M, "x", N, " values");

  const QuantParams& bq = bt.quant;
  const int32_t n_axis = trans_b ? 0 : 1;
  CHECK_OR_RETURN(!bq.per_axis() || (bq.axis == n_axis && int64_t(bq.scale.size()) == N), Error::NotSupported,
                  describe(g, id), ": B '", bt.name, "' must be quantized per tensor or per output column (axis ", n_axis,
                  "), got ", bq.scale.size(), " scales on axis ", bq.axis);
  for (int32_t z : bq.zero_point)
    CHECK_OR_RETURN(z == 0, Error::NotSupported, describe(g, id), ": B '", bt.name, "' has zero point ", z,
                    "; the int8 kernel needs symmetric weights (zero point 0)");

  auto step = std::make_unique<GemmInt8Step>();
  step->a = a;
  step->y = y;
  QGemmInt8Params& p = step->p;
  p.rows = int32_t(M);
  p.cols = int32_t(N);
  p.depth = int32_t(K);
  p.output_zero_point = int8::zero_point_of(g, y);
  int8::fused_activation_range(g, id, y, &p.qmin, &p.qmax);
  const double sa = int8::scale_of(g, a), sy = int8::scale_of(g, y);
  std::vector<double> acc_scale(static_cast<size_t>(N));
  step->multipliers.resize(size_t(N));
  for (int64_t j = 0; j < N; ++j) {
    const double sb = bq.scale[bq.per_axis() ? size_t(j) : 0];
    acc_scale[size_t(j)] = alpha * sa * sb;
    RETURN_IF_ERROR(int8::make_multiplier(g, id, acc_scale[size_t(j)] / sy,
                                          str_cat("alpha * s_a * s_b[", j, "] / s_out (", alpha, " * ", sa, " * ", sb,
                                                  " / ", sy, ")"),
                                          &step->multipliers[size_t(j)]));
  }
  std::vector<int32_t> bias;
  if (c != kNoTensor && beta != 0) RETURN_IF_ERROR(int8::bias_to_accumulator_units(g, id, c, acc_scale, beta, &bias));
  step->packed.resize(qgemm_int8_packed_size(int32_t(K), int32_t(N)));
  pack_weights_nk_int8(bt.data->data<int8_t>(), int32_t(K), int32_t(N), !trans_b, step->packed.data());
  step->bias.resize(size_t(N));
  fold_zero_point_into_bias(step->packed.data(), int32_t(K), int32_t(N), bias.empty() ? nullptr : bias.data(),
                            int8::zero_point_of(g, a), step->bias.data());
  step->finalize();
  return StepPtr(std::move(step));
}

}  // namespace neutron
