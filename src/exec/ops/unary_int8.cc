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
  ASSIGN_OR_RETURN(const UnaryParams up, int8::unary_params(g, id));
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
