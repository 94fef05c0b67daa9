// QuantizeLinear / DequantizeLinear and the QLinear ops. The (scale, zero point) operands move into
// Tensor::quant: QuantizeLinear's output and DequantizeLinear's input carry them. QLinearConv and
// QLinearMatMul become DequantizeLinear -> Conv/MatMul -> QuantizeLinear.
#include <cmath>

#include "import/onnx/onnx_ops.h"

namespace neutron {

StatusOr<QuantParams> read_quant_params(NodeCtx& c, size_t scale_input, size_t zp_input, const Shape& shape,
                                        int64_t axis_attr, DType* zero_point_dtype) {
  ASSIGN_OR_RETURN(const TensorData* scale, c.constant(scale_input, "scale"));
  if (scale->dtype != DType::F32)
    return c.fail(Error::NotSupported, "input ", scale_input, " (scale) must be float32, is ", dtype_name(scale->dtype));
  if (scale->shape.size() > 1 || scale->count() == 0)
    return c.fail(Error::InvalidModel, "input ", scale_input, " (scale) must be a scalar or 1-D, has shape ",
                  shape_str(scale->shape));
  QuantParams q;
  for (int64_t i = 0; i < scale->count(); ++i) {
    const float s = scale->data<float>()[i];
    if (!(s > 0) || !std::isfinite(s))
      return c.fail(Error::InvalidModel, "input ", scale_input, " (scale) holds ", s, "; scales must be positive and finite");
    q.scale.push_back(s);
  }
  *zero_point_dtype = DType::U8;
  if (c.has_input(zp_input)) {
    ASSIGN_OR_RETURN(const TensorData* zp, c.constant(zp_input, "zero_point"));
    if (zp->dtype != DType::U8 && zp->dtype != DType::I8 && zp->dtype != DType::I32)
      return c.fail(Error::NotSupported, "input ", zp_input, " (zero_point) is ", dtype_name(zp->dtype),
                    "; u8, i8 and i32 are supported");
    if (zp->shape != scale->shape && !(zp->count() == 1 && scale->count() == 1))
      return c.fail(Error::InvalidModel, "zero point shape ", shape_str(zp->shape), " differs from scale shape ",
                    shape_str(scale->shape));
    *zero_point_dtype = zp->dtype;
    for (int64_t i = 0; i < zp->count(); ++i) q.zero_point.push_back(int32_t(zp->get_as_int(i)));
  } else {
    q.zero_point.assign(q.scale.size(), 0);
  }
  if (scale->shape.size() == 1 && scale->count() > 1) {
    const int axis = normalize_axis(axis_attr, shape.size());
    if (axis < 0 || shape[size_t(axis)] != scale->count())
      return c.fail(Error::InvalidModel, "per-axis scale with ", scale->count(), " values on axis ", axis_attr,
                    " does not fit the tensor shape ", shape_str(shape));
    q.axis = axis;
  }
  return q;
}

Status map_quantize(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "x"));
  if (c.tensor(x).dtype != DType::F32)
    return c.fail(Error::NotSupported, "input 0 (x) '", c.tensor(x).name, "' is ", dtype_name(c.tensor(x).dtype),
                  "; only float32 is quantized");
  DType zdt;
  ASSIGN_OR_RETURN(QuantParams q, read_quant_params(c, 1, 2, c.shape(x), c.attrs().get_int("axis", 1), &zdt));
  if (zdt != DType::U8 && zdt != DType::I8)
    return c.fail(Error::NotSupported, "quantizing to ", dtype_name(zdt), " is not supported (u8 and i8 are)");
  NodeCtx::Out out;
  out.dtype = zdt;
  out.quant = q;
  return c.emit(OpKind::QuantizeLinear, {x}, {}, 0, out).status();
}

Status map_dequantize(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "x"));
  const DType xdt = c.tensor(x).dtype;
  if (xdt != DType::U8 && xdt != DType::I8 && xdt != DType::I32)
    return c.fail(Error::NotSupported, "input 0 (x) '", c.tensor(x).name, "' is ", dtype_name(xdt),
                  "; u8, i8 and i32 are supported");
  DType zdt;
  ASSIGN_OR_RETURN(QuantParams q, read_quant_params(c, 1, 2, c.shape(x), c.attrs().get_int("axis", 1), &zdt));
  if (c.has_input(2) && zdt != xdt)
    return c.fail(Error::InvalidModel, "zero point is ", dtype_name(zdt), " but x is ", dtype_name(xdt));
  RETURN_IF_ERROR(c.attach_quant(&x, q, "input 0 (x)"));
  return c.emit(OpKind::DequantizeLinear, {x}, {}).status();
}

namespace {

// Attaches (scale, zero point) inputs to tensor input `data` and emits its DequantizeLinear.
StatusOr<TensorId> dequantize_operand(NodeCtx& c, size_t data, size_t scale, size_t zp, int64_t axis, const char* what,
                                      QuantParams* params) {
  ASSIGN_OR_RETURN(TensorId t, c.req(data, what));
  DType zdt;
  ASSIGN_OR_RETURN(*params, read_quant_params(c, scale, zp, c.shape(t), axis, &zdt));
  if (c.has_input(zp) && zdt != c.tensor(t).dtype)
    return c.fail(Error::InvalidModel, what, " is ", dtype_name(c.tensor(t).dtype), " but its zero point is ", dtype_name(zdt));
  RETURN_IF_ERROR(c.attach_quant(&t, *params, what));
  return c.emit_temp(OpKind::DequantizeLinear, {t}, {}, std::string("dequantize_") + what);
}

Status quantize_result(NodeCtx& c, TensorId y, size_t scale, size_t zp) {
  DType zdt;
  ASSIGN_OR_RETURN(QuantParams q, read_quant_params(c, scale, zp, c.shape(y), 1, &zdt));
  if (q.per_axis()) return c.fail(Error::InvalidModel, "the output scale must be a scalar");
  NodeCtx::Out out;
  out.dtype = zdt;
  out.quant = q;
  if (c.has_output(0)) out.name = c.output_name(0);
  ASSIGN_OR_RETURN(auto ys, c.emit_node(OpKind::QuantizeLinear, {y}, {}, {out}, "quantize"));
  c.bind_output(0, ys[0]);
  return Status::OK();
}

}  // namespace

Status map_qlinear_conv(NodeCtx& c) {
  QuantParams xq, wq;
  ASSIGN_OR_RETURN(TensorId x, dequantize_operand(c, 0, 1, 2, 1, "x", &xq));
  ASSIGN_OR_RETURN(TensorId w, dequantize_operand(c, 3, 4, 5, 0, "w", &wq));
  TensorId b = kNoTensor;
  if (c.has_input(8)) {
    ASSIGN_OR_RETURN(TensorId bias, c.req(8, "B"));
    if (c.tensor(bias).dtype != DType::I32)
      return c.fail(Error::InvalidModel, "input 8 (B) must be int32, is ", dtype_name(c.tensor(bias).dtype));
    QuantParams bq;  // scale x_scale * w_scale (per output channel), zero point 0
    for (float ws : wq.scale) bq.scale.push_back(xq.scale[0] * ws);
    bq.zero_point.assign(bq.scale.size(), 0);
    bq.axis = 0;
    RETURN_IF_ERROR(c.attach_quant(&bias, bq, "input 8 (B)"));
    ASSIGN_OR_RETURN(b, c.emit_temp(OpKind::DequantizeLinear, {bias}, {}, "dequantize_B"));
  }
  ASSIGN_OR_RETURN(TensorId y, emit_conv(c, x, w, b, false));
  return quantize_result(c, y, 6, 7);
}

Status map_qlinear_matmul(NodeCtx& c) {
  QuantParams aq, bq;
  ASSIGN_OR_RETURN(TensorId a0, c.req(0, "a"));
  ASSIGN_OR_RETURN(TensorId b0, c.req(3, "b"));
  const int64_t a_axis = int64_t(c.shape(a0).size()) - 2, b_axis = int64_t(c.shape(b0).size()) - 1;
  ASSIGN_OR_RETURN(TensorId a, dequantize_operand(c, 0, 1, 2, a_axis, "a", &aq));
  ASSIGN_OR_RETURN(TensorId b, dequantize_operand(c, 3, 4, 5, b_axis, "b", &bq));
  ASSIGN_OR_RETURN(auto y, c.emit_node(OpKind::MatMul, {a, b}, {}, {NodeCtx::Out{}}));
  return quantize_result(c, y[0], 6, 7);
}

}  // namespace neutron
