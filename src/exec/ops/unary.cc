// Unary elementwise ops on f32, and Relu/Clip/Abs/Neg on plain integers.
// Quantized int8 nodes are lowered and run as kernel calls (bind_lowered_int8).
#include <cmath>
#include <limits>

#include "exec/ops/binders.h"
#include "kernels/unary_f32.h"

namespace neutron {
namespace {

bool unary_op_of(OpKind k, UnaryOp* op) {
  switch (k) {
    case OpKind::Relu: *op = UnaryOp::Relu; return true;
    case OpKind::Clip: *op = UnaryOp::Clip; return true;
    case OpKind::LeakyRelu: *op = UnaryOp::LeakyRelu; return true;
    case OpKind::Sigmoid: *op = UnaryOp::Sigmoid; return true;
    case OpKind::HardSigmoid: *op = UnaryOp::HardSigmoid; return true;
    case OpKind::HardSwish: *op = UnaryOp::HardSwish; return true;
    case OpKind::Tanh: *op = UnaryOp::Tanh; return true;
    case OpKind::Abs: *op = UnaryOp::Abs; return true;
    case OpKind::Neg: *op = UnaryOp::Neg; return true;
    case OpKind::Exp: *op = UnaryOp::Exp; return true;
    case OpKind::Log: *op = UnaryOp::Log; return true;
    case OpKind::Sqrt: *op = UnaryOp::Sqrt; return true;
    case OpKind::Reciprocal: *op = UnaryOp::Reciprocal; return true;
    case OpKind::Erf: *op = UnaryOp::Erf; return true;
    case OpKind::Gelu: *op = UnaryOp::Gelu; return true;  // GeluTanh by attribute (below)
    case OpKind::Pow: *op = UnaryOp::Pow; return true;
    default: return false;
  }
}

// Clip bounds for an integer type: the smallest/largest integer inside [lo, hi], saturated.
template <typename T>
void int_bounds(double lo, double hi, T* min, T* max) {
  const double tlo = double(std::numeric_limits<T>::lowest()), thi = double(std::numeric_limits<T>::max());
  const double l = std::ceil(lo), h = std::floor(hi);
  *min = l <= tlo ? std::numeric_limits<T>::lowest() : (l >= thi ? std::numeric_limits<T>::max() : T(l));
  *max = h >= thi ? std::numeric_limits<T>::max() : (h <= tlo ? std::numeric_limits<T>::lowest() : T(h));
}

}  // namespace

StatusOr<StepPtr> bind_unary(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  UnaryParams p;
  CHECK_OR_RETURN(unary_op_of(n.kind, &p.op), Error::Internal, describe(g, id), ": not a unary op");
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g, id), ": expects 1 input and 1 output");
  const TensorId xi = n.inputs[0], yi = n.outputs[0];
  const Tensor& x = g.tensor(xi);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(!x.is_quantized() && !y.is_quantized(), Error::NotSupported, describe(g, id), ": quantized ",
                  dtype_name(x.dtype), " tensors are only supported as int8");
  CHECK_OR_RETURN(x.dtype == y.dtype && x.shape == y.shape, Error::InvalidModel, describe(g, id), ": output ",
                  dtype_name(y.dtype), shape_str(y.shape), " differs from input ", dtype_name(x.dtype),
                  shape_str(x.shape));
  const double lo = n.attrs.get_float("min", -INFINITY), hi = n.attrs.get_float("max", INFINITY);
  switch (p.op) {
    case UnaryOp::LeakyRelu: p.alpha = float(n.attrs.get_float("alpha", 0.01)); break;
    case UnaryOp::HardSigmoid:
      p.alpha = float(n.attrs.get_float("alpha", 0.2));
      p.beta = float(n.attrs.get_float("beta", 0.5));
      break;
    case UnaryOp::Gelu:
      if (n.attrs.get_string("approximate", "none") == "tanh") p.op = UnaryOp::GeluTanh;
      break;
    case UnaryOp::Pow: p.alpha = float(n.attrs.get_float("exponent", 1.0)); break;
    case UnaryOp::Clip:
      CHECK_OR_RETURN(!std::isnan(lo) && !std::isnan(hi), Error::InvalidModel, describe(g, id),
                      ": Clip bounds must not be NaN");
      p.min = float(lo);
      p.max = float(hi);
      break;
    default: break;
  }
  const size_t count = size_t(num_elements(x.shape));
  if (x.dtype == DType::F32) {
    return make_step([=](const RunContext& ctx) { unary_f32(p, ctx.in<float>(xi), ctx.out<float>(yi), count); });
  }
  CHECK_OR_RETURN(unary_op_has_integer_version(p.op), Error::NotSupported, describe(g, id), ": no CPU kernel for ",
                  op_kind_name(n.kind), " on ", dtype_name(x.dtype), " (only f32 or quantized int8)");
  auto make = [&](auto tag) -> StepPtr {
    using T = decltype(tag);
    UnaryIntParams<T> ip;
    ip.op = p.op;
    int_bounds<T>(lo, hi, &ip.min, &ip.max);
    return make_step([=](const RunContext& ctx) { unary_int<T>(ip, ctx.in<T>(xi), ctx.out<T>(yi), count); });
  };
  switch (x.dtype) {
    case DType::I8: return make(int8_t{});
    case DType::U8: return make(uint8_t{});
    case DType::I16: return make(int16_t{});
    case DType::I32: return make(int32_t{});
    case DType::I64: return make(int64_t{});
    default: return error(Error::NotSupported, describe(g, id), ": no CPU kernel for ", dtype_name(x.dtype), " input");
  }
}

}  // namespace neutron
