// Shared checks and parameter helpers of the int8 lowering (lowering/lower.cc): every int8 IR node
// becomes kernel parameters through these (and kernels/requantize.h). Every check names the node
// and gives the offending values.
#pragma once
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kernels/layout_int8.h"
#include "kernels/requantize.h"
#include "kernels/unary_int8.h"

namespace neutron::int8 {

// The tensor is int8 with per-tensor quantization parameters.
inline Status check_per_tensor(const Graph& g, NodeId id, TensorId t, const char* what) {
  CHECK_OR_RETURN(t != kNoTensor, Error::InvalidModel, describe(g, id), ": missing ", what);
  const Tensor& x = g.tensor(t);
  CHECK_OR_RETURN(x.dtype == DType::I8 && x.is_quantized(), Error::NotSupported, describe(g, id), ": ", what, " '",
                  x.name, "' must be int8 with quantization parameters for the int8 kernel, got ", dtype_name(x.dtype),
                  x.is_quantized() ? " (quantized)" : " (not quantized)");
  CHECK_OR_RETURN(!x.quant.per_axis(), Error::NotSupported, describe(g, id), ": ", what, " '", x.name,
                  "' must be quantized per tensor, it has ", x.quant.scale.size(), " scales");
  CHECK_OR_RETURN(x.quant.zero_point.size() == 1 && x.quant.zero_point[0] >= -128 && x.quant.zero_point[0] <= 127,
                  Error::InvalidModel, describe(g, id), ": ", what, " '", x.name, "' has an int8 zero point out of range");
  return Status::OK();
}

inline double scale_of(const Graph& g, TensorId t) { return double(g.tensor(t).quant.scale[0]); }
inline int32_t zero_point_of(const Graph& g, TensorId t) { return g.tensor(t).quant.zero_point[0]; }

// real -> fixed point, or NotSupported with the numbers.
inline Status make_multiplier(const Graph& g, NodeId id, double real, const std::string& what, FixedMultiplier* out) {
  CHECK_OR_RETURN(quantize_multiplier(real, out), Error::NotSupported, describe(g, id), ": requantization multiplier ",
                  what, " = ", real, " is outside the supported range [2^-32, 2^30) of the int8 kernels");
  return Status::OK();
}

// The fused activation range [qmin, qmax] from the node's act_min/act_max attributes (real
// bounds, see ir/op_attrs.h), in the output's quantization.
inline void fused_activation_range(const Graph& g, NodeId id, TensorId out, int32_t* qmin, int32_t* qmax) {
  const Node& n = g.node(id);
  const double inf = std::numeric_limits<double>::infinity();
  activation_range_int8(n.attrs.get_float("act_min", -inf), n.attrs.get_float("act_max", inf), scale_of(g, out),
                        zero_point_of(g, out), qmin, qmax);
}

// N, C, H, W of a rank-4 activation in the node's layout (channels_last attribute).
struct Dims4 {
  int64_t n = 0, c = 0, h = 0, w = 0;
};
inline StatusOr<Dims4> spatial_dims(const Graph& g, NodeId id, TensorId t, bool channels_last) {
  const Shape& s = g.tensor(t).shape;
  CHECK_OR_RETURN(s.size() == 4, Error::NotSupported, describe(g, id), ": int8 kernel needs a rank-4 tensor, '",
                  g.tensor(t).name, "' is ", shape_str(s));
  if (channels_last) return Dims4{s[0], s[3], s[1], s[2]};
  return Dims4{s[0], s[1], s[2], s[3]};
}

// A constant int32 bias (per tensor or per channel, zero point 0) in accumulator units
// acc_scale[c]: copied when its scale times bias_multiplier (Gemm's beta / alpha) is within 1e-6
// relative of acc_scale[c], otherwise requantized (rounding half to even). A bias without
// quantization parameters is taken to be in accumulator units. Defined in int8_params.cc.
Status bias_to_accumulator_units(const Graph& g, NodeId id, TensorId b, const std::vector<double>& acc_scale,
                                 double bias_multiplier, std::vector<int32_t>* out);

// The UnaryParams of a unary IR op (attribute defaults as ONNX defines them), for the 256-entry table.
inline StatusOr<UnaryParams> unary_params(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  const double inf = std::numeric_limits<double>::infinity();
  UnaryParams up;
  switch (n.kind) {
    case OpKind::Relu: up.op = UnaryOp::Relu; break;
    case OpKind::Clip:
      up.op = UnaryOp::Clip;
      up.min = float(n.attrs.get_float("min", -inf));
      up.max = float(n.attrs.get_float("max", inf));
      break;
    case OpKind::LeakyRelu:
      up.op = UnaryOp::LeakyRelu;
      up.alpha = float(n.attrs.get_float("alpha", 0.01));
      break;
    case OpKind::Sigmoid: up.op = UnaryOp::Sigmoid; break;
    case OpKind::HardSigmoid:
      up.op = UnaryOp::HardSigmoid;
      up.alpha = float(n.attrs.get_float("alpha", 0.2));
      up.beta = float(n.attrs.get_float("beta", 0.5));
      break;
    case OpKind::HardSwish: up.op = UnaryOp::HardSwish; break;
    case OpKind::Tanh: up.op = UnaryOp::Tanh; break;
    case OpKind::Abs: up.op = UnaryOp::Abs; break;
    case OpKind::Neg: up.op = UnaryOp::Neg; break;
    case OpKind::Exp: up.op = UnaryOp::Exp; break;
    case OpKind::Log: up.op = UnaryOp::Log; break;
    case OpKind::Sqrt: up.op = UnaryOp::Sqrt; break;
    case OpKind::Reciprocal: up.op = UnaryOp::Reciprocal; break;
    case OpKind::Erf: up.op = UnaryOp::Erf; break;
    case OpKind::Gelu: up.op = n.attrs.get_string("approximate", "none") == "tanh" ? UnaryOp::GeluTanh : UnaryOp::Gelu; break;
    case OpKind::Pow:
      up.op = UnaryOp::Pow;
      up.alpha = float(n.attrs.get_float("exponent", 1.0));
      break;
    default: return error(Error::NotSupported, describe(g, id), ": no int8 kernel for ", op_kind_name(n.kind));
  }
  return up;
}

}  // namespace neutron::int8
