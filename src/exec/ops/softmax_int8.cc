// Binder of the int8 Softmax (kernels/softmax_int8.h).
#include "exec/ops/int8_common.h"
#include "kernels/softmax_int8.h"

namespace neutron {
namespace {

class SoftmaxInt8Step final : public Step {
 public:
  TensorId x = kNoTensor, y = kNoTensor;
  SoftmaxInt8Params p;
  void run(const RunContext& ctx) const override { softmax_int8(p, ctx.in<int8_t>(x), ctx.out<int8_t>(y)); }
};

}  // namespace

StatusOr<StepPtr> bind_softmax_int8(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  const TensorId x = n.input(0), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, y, "output"));
  const Shape& s = g.tensor(x).shape;
  CHECK_OR_RETURN(g.tensor(y).shape == s, Error::InvalidModel, describe(g, id), ": output ",
                  shape_str(g.tensor(y).shape), " differs from input ", shape_str(s));
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), s.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g, id), ": axis ", n.attrs.get_int("axis", -1),
                  " out of range for ", shape_str(s));
  auto step = std::make_unique<SoftmaxInt8Step>();
  step->x = x;
  step->y = y;
  SoftmaxInt8Params& p = step->p;
  p.outer = p.inner = 1;
  for (int i = 0; i < axis; ++i) p.outer *= s[size_t(i)];
  p.axis = s[size_t(axis)];
  for (size_t i = size_t(axis) + 1; i < s.size(); ++i) p.inner *= s[i];
  prepare_softmax_int8(int8::scale_of(g, x), int8::scale_of(g, y), int8::zero_point_of(g, y), &p);
  return StepPtr(std::move(step));
}

}  // namespace neutron
