// ReduceMean/Max/Min/Sum. f32 for all; plain integers for Max/Min/Sum; quantized tensors for
// Max/Min when input and output share the quantization (max/min commute with it); quantized int8
// Mean/Sum lowered (bind_lowered_int8).
#include "kernels/reduce.h"

#include "exec/ops/binders.h"

namespace neutron {

StatusOr<StepPtr> bind_reduce(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  ReduceOp op;
  bool l2 = false;
  switch (n.kind) {
    case OpKind::ReduceL2: op = ReduceOp::Sum; l2 = true; break;
    case OpKind::ReduceMean: op = ReduceOp::Mean; break;
    case OpKind::ReduceMax: op = ReduceOp::Max; break;
    case OpKind::ReduceMin: op = ReduceOp::Min; break;
    case OpKind::ReduceSum: op = ReduceOp::Sum; break;
    default: return error(Error::Internal, describe(g, id), ": not a reduce op");
  }
  if (is_int8_node(g, id) && (op == ReduceOp::Mean || op == ReduceOp::Sum)) return bind_lowered_int8(g, id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g, id), ": expects 1 input and 1 output");
  const TensorId xi = n.inputs[0], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(x.dtype == y.dtype, Error::InvalidModel, describe(g, id), ": output dtype ", dtype_name(y.dtype),
                  " differs from input dtype ", dtype_name(x.dtype));
  if (l2) CHECK_OR_RETURN(x.dtype == DType::F32 && !x.is_quantized(), Error::NotSupported, describe(g, id),
                          ": ReduceL2 runs on float32 only, got ", dtype_name(x.dtype));
  if (x.is_quantized() || y.is_quantized()) {
    CHECK_OR_RETURN(op == ReduceOp::Max || op == ReduceOp::Min, Error::NotSupported, describe(g, id),
                    ": no CPU kernel for quantized ", op_kind_name(n.kind));
    CHECK_OR_RETURN(x.quant == y.quant && !x.quant.per_axis(), Error::NotSupported, describe(g, id),
                    ": input and output quantization differ (requantization not implemented)");
  }
  std::vector<int64_t> axes;
  std::vector<char> seen(x.shape.size(), 0);
  for (int64_t a : n.attrs.get_ints("axes")) {
    const int ax = normalize_axis(a, x.shape.size());
    CHECK_OR_RETURN(ax >= 0, Error::InvalidModel, describe(g, id), ": axis ", a, " is out of range for shape ",
                    shape_str(x.shape));
    if (!seen[size_t(ax)]) axes.push_back(ax);
    seen[size_t(ax)] = 1;
  }
  ReduceParams p;
  CHECK_OR_RETURN(prepare_reduce(Span<const int64_t>(x.shape), Span<const int64_t>(axes), &p), Error::NotSupported,
                  describe(g, id), ": cannot reduce shape ", shape_str(x.shape), " (rank above ", kMaxReduceRank, "?)");
  CHECK_OR_RETURN(p.out_count == num_elements(y.shape), Error::InvalidModel, describe(g, id), ": output shape ",
                  shape_str(y.shape), " does not match the reduction of ", shape_str(x.shape));
  auto make = [&](auto tag) -> StepPtr {
    using T = decltype(tag);
    return make_step([=](const RunContext& ctx) { reduce<T>(op, p, ctx.in<T>(xi), ctx.out<T>(yi)); });
  };
  if (l2)
    return make_step([=](const RunContext& ctx) { reduce_l2_f32(p, ctx.in<float>(xi), ctx.out<float>(yi), ctx.scratch<float>()); },
                     size_t(p.in_count) * sizeof(float));
  if (x.dtype == DType::F32) return make(float{});
  CHECK_OR_RETURN(op != ReduceOp::Mean, Error::NotSupported, describe(g, id), ": no CPU kernel for ReduceMean on ",
                  dtype_name(x.dtype));
  switch (x.dtype) {
    case DType::I8: return make(int8_t{});
    case DType::U8: return make(uint8_t{});
    case DType::I16: return make(int16_t{});
    case DType::I32: return make(int32_t{});
    case DType::I64: return make(int64_t{});
    default: return error(Error::NotSupported, describe(g, id), ": no CPU kernel for ", dtype_name(x.dtype), " input");
  }
}

StatusOr<StepPtr> bind_lp_normalization(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g, id), ": expects 1 input and 1 output");
  const TensorId xi = n.inputs[0], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  CHECK_OR_RETURN(x.dtype == DType::F32 && !x.is_quantized() && g.tensor(yi).dtype == DType::F32, Error::NotSupported,
                  describe(g, id), ": LpNormalization runs on float32 or as an int8 op, got ", dtype_name(x.dtype));
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), x.shape.size());
  CHECK_OR_RETURN(axis >= 0 && n.attrs.get_int("p", 2) == 2, Error::NotSupported, describe(g, id),
                  ": only p = 2 along an axis of the input");
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.shape[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < x.shape.size(); ++i) inner *= x.shape[i];
  const int64_t len = x.shape[size_t(axis)];
  const double eps = n.attrs.get_float("eps", 0.0);
  return make_step([=](const RunContext& ctx) { l2_normalize_f32(outer, len, inner, eps, ctx.in<float>(xi), ctx.out<float>(yi)); });
}

}  // namespace neutron
