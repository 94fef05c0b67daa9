// Binder of the int8 unary ops: a 256-entry table of the exact QDQ function (kernels/unary_int8.h).
#include <cmath>
#include <limits>

#include "exec/ops/int8_common.h"
#include "kernels/unary_int8.h"

namespace neutron {
namespace {

class UnaryInt8Step final : public Step {
 public:
  TensorId x = kNoTensor, y = kNoTensor;
  size_t count = 0;
  int8_t table[256];
  void run(const RunContext& ctx) const override { unary_int8_lut(table, ctx.in<int8_t>(x), ctx.out<int8_t>(y), count); }
};

}  // namespace

StatusOr<StepPtr> bind_unary_int8(const Graph& g, NodeId id) {
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
    default: return error(Error::NotSupported, describe(g, id), ": no int8 kernel for ", op_kind_name(n.kind));
  }
  const TensorId x = n.input(0), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, y, "output"));
  CHECK_OR_RETURN(num_elements(g.tensor(x).shape) == num_elements(g.tensor(y).shape), Error::InvalidModel,
                  describe(g, id), ": output ", shape_str(g.tensor(y).shape), " does not match input ",
                  shape_str(g.tensor(x).shape));
  auto step = std::make_unique<UnaryInt8Step>();
  step->x = x;
  step->y = y;
  step->count = size_t(num_elements(g.tensor(x).shape));
  int32_t qmin, qmax;
  int8::fused_activation_range(g, id, y, &qmin, &qmax);
  build_unary_int8_table(up, int8::scale_of(g, x), int8::zero_point_of(g, x), int8::scale_of(g, y),
                         int8::zero_point_of(g, y), step->table, qmin, qmax);
  return StepPtr(std::move(step));
}

}  // namespace neutron
