// QuantizeLinear (f32 -> i8/u8/i16/i32) and DequantizeLinear (the reverse). The parameters come
// from Tensor::quant: QuantizeLinear's output, DequantizeLinear's input; per tensor or per axis.
#include "kernels/quantize.h"

#include <limits>

#include "exec/ops/binders.h"

namespace neutron {
namespace {

Status make_params(const Graph& g, NodeId id, const Tensor& q, QuantizeParams* p) {
  const QuantParams& qp = q.quant;
  CHECK_OR_RETURN(!qp.empty(), Error::InvalidModel, describe(g, id), ": tensor '", q.name,
                  "' has no quantization parameters");
  CHECK_OR_RETURN(qp.scale.size() == qp.zero_point.size(), Error::InvalidModel, describe(g, id), ": tensor '", q.name,
                  "' has ", qp.scale.size(), " scales and ", qp.zero_point.size(), " zero points");
  const int64_t count = num_elements(q.shape);
  p->outer = 1;
  p->axis = 1;
  p->inner = count;
  if (qp.per_axis()) {
    const int axis = normalize_axis(qp.axis, q.shape.size());
    CHECK_OR_RETURN(axis >= 0 && q.shape[size_t(axis)] == int64_t(qp.scale.size()), Error::InvalidModel,
                    describe(g, id), ": per-axis quantization of '", q.name, "' with ", qp.scale.size(),
                    " scales on axis ", qp.axis, " does not fit shape ", shape_str(q.shape));
    for (int i = 0; i < axis; ++i) p->outer *= q.shape[size_t(i)];
    p->axis = q.shape[size_t(axis)];
    p->inner = 1;
    for (size_t i = size_t(axis) + 1; i < q.shape.size(); ++i) p->inner *= q.shape[i];
  }
  switch (q.dtype) {
    case DType::I8: p->qmin = -128, p->qmax = 127; break;
    case DType::U8: p->qmin = 0, p->qmax = 255; break;
    case DType::I16: p->qmin = -32768, p->qmax = 32767; break;
    case DType::I32:
      p->qmin = std::numeric_limits<int32_t>::min(), p->qmax = std::numeric_limits<int32_t>::max();
      break;
    default:
      return error(Error::NotSupported, describe(g, id), ": quantized tensor '", q.name, "' is ", dtype_name(q.dtype),
                   ", only i8, u8, i16 and i32 are supported");
  }
  return Status::OK();
}

}  // namespace

StatusOr<StepPtr> bind_quantize(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g, id), ": expects 1 input and 1 output");
  const TensorId xi = n.inputs[0], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(x.shape == y.shape, Error::InvalidModel, describe(g, id), ": output shape ", shape_str(y.shape),
                  " differs from input shape ", shape_str(x.shape));
  const bool quantize = n.kind == OpKind::QuantizeLinear;
  const Tensor& q = quantize ? y : x;
  const Tensor& f = quantize ? x : y;
  CHECK_OR_RETURN(f.dtype == DType::F32, Error::NotSupported, describe(g, id), ": float side '", f.name, "' is ",
                  dtype_name(f.dtype), ", only f32 is supported");
  QuantizeParams p;
  RETURN_IF_ERROR(make_params(g, id, q, &p));
  // The step owns the parameter arrays; pointers are set at run time so copies stay valid.
  const std::vector<float> scales = q.quant.scale;
  const std::vector<int32_t> zero_points = q.quant.zero_point;
  auto make = [&](auto tag) -> StepPtr {
    using T = decltype(tag);
    if (quantize)
      return make_step([=](const RunContext& ctx) {
        QuantizeParams r = p;
        r.scales = scales.data();
        r.zero_points = zero_points.data();
        quantize_linear<T>(r, ctx.in<float>(xi), ctx.out<T>(yi));
      });
    return make_step([=](const RunContext& ctx) {
      QuantizeParams r = p;
      r.scales = scales.data();
      r.zero_points = zero_points.data();
      dequantize_linear<T>(r, ctx.in<T>(xi), ctx.out<float>(yi));
    });
  };
  switch (q.dtype) {
    case DType::I8: return make(int8_t{});
    case DType::U8: return make(uint8_t{});
    case DType::I16: return make(int16_t{});
    case DType::I32: return make(int32_t{});
    default: return error(Error::Internal, describe(g, id), ": unexpected dtype");
  }
}

}  // namespace neutron
