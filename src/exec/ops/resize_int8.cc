// Binder of the int8 linear Resize (kernels/resize_int8.h): at most two adjacent axes resized (H
// and W of NCHW or NHWC), any coordinate_transformation_mode of kernels/resize.h, input and output
// quantization may differ (one requantization). Nearest Resize stays in resize.cc (it moves bytes).
#include <climits>
#include <cmath>
#include <string>

#include "exec/ops/int8_common.h"
#include "exec/ops/int8_setup.h"
#include "exec/ops/resize_attrs.h"

namespace neutron {

namespace int8 {

StatusOr<ResizeLinearSetup> resize_linear_setup(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.kind == OpKind::Resize && n.attrs.get_string("mode", "nearest") == "linear", Error::Internal,
                  describe(g, id), ": not a linear Resize");
  CHECK_OR_RETURN(!n.inputs.empty() && n.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects one input X and one output");
  CHECK_OR_RETURN(n.attrs.get_int("antialias", 0) == 0, Error::NotSupported, describe(g, id),
                  ": antialias is not supported");
  const TensorId x = n.input(0), y = n.outputs[0];
  RETURN_IF_ERROR(check_per_tensor(g, id, x, "input"));
  RETURN_IF_ERROR(check_per_tensor(g, id, y, "output"));
  const Shape& xs = g.tensor(x).shape;
  const Shape& ys = g.tensor(y).shape;
  CHECK_OR_RETURN(xs.size() == ys.size() && !xs.empty(), Error::InvalidModel, describe(g, id), ": input ",
                  shape_str(xs), " and output ", shape_str(ys), " ranks differ");
  for (size_t a = 0; a < xs.size(); ++a)
    CHECK_OR_RETURN(xs[a] >= 1 && ys[a] >= 1 && xs[a] <= INT32_MAX && ys[a] <= INT32_MAX, Error::NotSupported,
                    describe(g, id), ": input ", shape_str(xs), ", output ", shape_str(ys), " (empty or too large)");
  ASSIGN_OR_RETURN(const ResizeAttrs attrs, resize_attrs(g, id, xs, ys));
  const ResizeCoordMode cmode = attrs.coord;
  const std::vector<double>& scales = attrs.scales;
  CHECK_OR_RETURN(cmode != ResizeCoordMode::kTfHalfPixelForNearest, Error::NotSupported, describe(g, id),
                  ": coordinate_transformation_mode '", n.attrs.get_string("coordinate_transformation_mode", ""),
                  "' is not supported by the int8 linear Resize");

  // Per-axis tables; the resized axes must be at most two and adjacent.
  const size_t rank = xs.size();
  std::vector<std::vector<ResizeLinearTapInt8>> tables(rank);
  std::vector<size_t> changed;
  for (size_t a = 0; a < rank; ++a) {
    tables[a].resize(size_t(ys[a]));
    resize_linear_table_int8(cmode, xs[a], ys[a], scales[a], tables[a].data());
    if (!resize_linear_table_int8_is_identity(xs[a], ys[a], tables[a].data())) changed.push_back(a);
  }
  CHECK_OR_RETURN(changed.size() <= 2 && (changed.size() < 2 || changed[1] == changed[0] + 1), Error::NotSupported,
                  describe(g, id), ": the int8 linear Resize changes at most two adjacent axes, ", shape_str(xs),
                  " -> ", shape_str(ys), " is not");
  ResizeLinearSetup s;
  if (rank == 1) {
    s.h_axis = -1;
  } else if (changed.size() == 2) {
    s.h_axis = int(changed[0]);
  } else if (changed.size() == 1) {
    s.h_axis = changed[0] + 1 < rank ? int(changed[0]) : int(changed[0]) - 1;
  } else {
    s.h_axis = int(rank) - 2;
  }
  const size_t w = size_t(s.h_axis + 1);
  ResizeBilinearInt8Params& p = s.p;
  p.outer = 1;
  p.inner = 1;
  for (int a = 0; a < s.h_axis; ++a) p.outer *= xs[size_t(a)];
  for (size_t a = w + 1; a < rank; ++a) p.inner *= xs[a];
  if (s.h_axis >= 0) {
    p.in_h = xs[size_t(s.h_axis)];
    p.out_h = ys[size_t(s.h_axis)];
    s.taps_h = tables[size_t(s.h_axis)];
  } else {
    s.taps_h.resize(1);  // the unit H axis of a rank-1 tensor: i0 = i1 = 0, w1 = 0
  }
  p.in_w = xs[w];
  p.out_w = ys[w];
  s.taps_w = tables[w];
  p.input_zero_point = zero_point_of(g, x);
  p.output_zero_point = zero_point_of(g, y);
  const double sx = scale_of(g, x), sy = scale_of(g, y);
  CHECK_OR_RETURN(resize_bilinear_int8_multiplier(sx, sy, &p.multiplier), Error::NotSupported, describe(g, id),
                  ": requantization multiplier s_in / (s_out * 2^22) = ", sx, " / (", sy,
                  " * 2^22) is outside the supported range [2^-32, 2^30) of the int8 kernels");
  return s;
}

}  // namespace int8

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
