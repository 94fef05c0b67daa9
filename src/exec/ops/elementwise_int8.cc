// Binder of the int8 binary ops Add, Sub, Mul, Max, Min (kernels/elementwise_int8.h).
#include "exec/ops/int8_common.h"
#include "kernels/elementwise_int8.h"

namespace neutron {
namespace {

class BinaryInt8Step final : public Step {
 public:
  TensorId a = kNoTensor, b = kNoTensor, y = kNoTensor;
  BroadcastParams bp;
  BinaryInt8Params p;
  void run(const RunContext& ctx) const override {
    binary_int8(p, bp, ctx.in<int8_t>(a), ctx.in<int8_t>(b), ctx.out<int8_t>(y));
  }
};

}  // namespace

StatusOr<StepPtr> bind_binary_int8(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  BinaryInt8Op op;
  switch (n.kind) {
    case OpKind::Add: op = BinaryInt8Op::Add; break;
    case OpKind::Sub: op = BinaryInt8Op::Sub; break;
    case OpKind::Mul: op = BinaryInt8Op::Mul; break;
    case OpKind::Max: op = BinaryInt8Op::Max; break;
    case OpKind::Min: op = BinaryInt8Op::Min; break;
    default:
      return error(Error::NotSupported, describe(g, id), ": no int8 kernel for ", op_kind_name(n.kind));
  }
  const TensorId a = n.input(0), b = n.input(1), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, a, "input A"));
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, b, "input B"));
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, y, "output"));
  auto step = std::make_unique<BinaryInt8Step>();
  step->a = a;
  step->b = b;
  step->y = y;
  const Shape& as = g.tensor(a).shape;
  const Shape& bs = g.tensor(b).shape;
  CHECK_OR_RETURN(prepare_broadcast(Span<const int64_t>(as.data(), as.size()), Span<const int64_t>(bs.data(), bs.size()),
                                    &step->bp),
                  Error::NotSupported, describe(g, id), ": shapes ", shape_str(as), " and ", shape_str(bs),
                  " do not broadcast (or exceed rank ", kMaxBroadcastRank, ")");
  CHECK_OR_RETURN(step->bp.out_count == num_elements(g.tensor(y).shape), Error::InvalidModel, describe(g, id),
                  ": output ", shape_str(g.tensor(y).shape), " does not match the broadcast of ", shape_str(as), " and ",
                  shape_str(bs));
  int32_t qmin, qmax;
  int8::fused_activation_range(g, id, y, &qmin, &qmax);
  const double sa = int8::scale_of(g, a), sb = int8::scale_of(g, b), sy = int8::scale_of(g, y);
  CHECK_OR_RETURN(prepare_binary_int8(op, sa, int8::zero_point_of(g, a), sb, int8::zero_point_of(g, b), sy,
                                      int8::zero_point_of(g, y), qmin, qmax, &step->p),
                  Error::NotSupported, describe(g, id), ": requantization multipliers outside the supported range [2^-32, 2^30)",
                  " (s_a ", sa, ", s_b ", sb, ", s_out ", sy, ")");
  return StepPtr(std::move(step));
}

}  // namespace neutron
