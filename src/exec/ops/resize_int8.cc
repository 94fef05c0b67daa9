// Binder of the int8 linear Resize (kernels/resize_int8.h): at most two adjacent axes resized (H
// and W of NCHW or NHWC), any coordinate_transformation_mode of kernels/resize.h, input and output
// quantization may differ (one requantization). Nearest Resize stays in resize.cc (it moves bytes).
#include <climits>
#include <cmath>
#include <string>

#include "exec/ops/int8_common.h"
#include "lowering/int8_setup.h"
#include "lowering/resize_attrs.h"

namespace neutron {


namespace {

class ResizeLinearInt8Step final : public Step {
 public:
  TensorId x = kNoTensor, y = kNoTensor;
  int8::ResizeLinearSetup s;

  void run(const RunContext& ctx) const override {
    ResizeBilinearInt8Params p = s.p;
    p.taps_h = s.taps_h.data();
    p.taps_w = s.taps_w.data();
    resize_bilinear_int8(p, ctx.in<int8_t>(x), ctx.out<int8_t>(y));
  }
};

}  // namespace

StatusOr<StepPtr> bind_resize_linear_int8(const Graph& g, NodeId id) {
  auto step = std::make_unique<ResizeLinearInt8Step>();
  ASSIGN_OR_RETURN(step->s, int8::resize_linear_setup(g, id));
  step->x = g.node(id).input(0);
  step->y = g.node(id).outputs[0];
  return StepPtr(std::move(step));
}

}  // namespace neutron
