// Binder of Resize (kernels/resize.h), modes nearest (any element type; int8 when the input and
// output quantization are equal) and linear (f32; int8 lowered, bind_lowered_int8), any rank and layout.
// The `scales` attribute is per data axis; on a channels_last node whose scales are still in NCHW
// order (they do not fit the NHWC shapes but their NCHW->NHWC permutation does) the permutation
// is used.
#include <cmath>
#include <vector>

#include "exec/ops/binders.h"
#include "lowering/resize_attrs.h"
#include "kernels/resize.h"

namespace neutron {
namespace {

class ResizeStep final : public Step {
 public:
  bool linear = false;
  size_t elem_size = 4;
  ResizeParams p;
  std::vector<std::vector<int64_t>> nearest_tables;
  std::vector<std::vector<ResizeLinearTap>> linear_tables;
  TensorId x = kNoTensor, y = kNoTensor;

  size_t scratch_bytes() const override { return linear ? sizeof(float) * resize_linear_f32_scratch_floats(p) : 0; }
  void run(const RunContext& ctx) const override {
    if (linear) {
      resize_linear_f32(p, ctx.in<float>(x), ctx.out<float>(y), ctx.scratch<float>());
      return;
    }
    switch (elem_size) {
      case 1: resize_nearest<uint8_t>(p, ctx.in<uint8_t>(x), ctx.out<uint8_t>(y)); break;
      case 4: resize_nearest<int32_t>(p, ctx.in<int32_t>(x), ctx.out<int32_t>(y)); break;
      default: resize_nearest<int64_t>(p, ctx.in<int64_t>(x), ctx.out<int64_t>(y)); break;
    }
  }
};

}  // namespace

StatusOr<StepPtr> bind_resize(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g, id), ": expects one input X and one output");
  const Tensor& xt = g.tensor(n.input(0));
  const Tensor& yt = g.tensor(n.outputs[0]);
  const std::string mode = n.attrs.get_string("mode", "nearest");
  if (mode == "linear" && is_int8_node(g, id)) return bind_lowered_int8(g, id);
  CHECK_OR_RETURN(mode == "nearest" || mode == "linear", Error::NotSupported, describe(g, id), ": mode '", mode,
                  "' is not supported (nearest, linear)");
  CHECK_OR_RETURN(n.attrs.get_int("antialias", 0) == 0, Error::NotSupported, describe(g, id),
                  ": antialias is not supported");
  const bool linear = mode == "linear";
  CHECK_OR_RETURN(xt.dtype == yt.dtype && xt.quant == yt.quant, Error::NotSupported, describe(g, id),
                  ": input and output must have the same element type and quantization");
  if (linear)
    CHECK_OR_RETURN(xt.dtype == DType::F32, Error::NotSupported, describe(g, id), ": linear resize of ",
                    dtype_name(xt.dtype), " is not supported (f32 only)");
  const size_t elem = dtype_size(xt.dtype);
  CHECK_OR_RETURN(elem == 1 || elem == 4 || elem == 8, Error::NotSupported, describe(g, id), ": element type ",
                  dtype_name(xt.dtype), " is not supported");
  const Shape& xs = xt.shape;
  const Shape& ys = yt.shape;
  CHECK_OR_RETURN(xs.size() == ys.size() && !xs.empty(), Error::InvalidModel, describe(g, id), ": input ",
                  shape_str(xs), " and output ", shape_str(ys), " ranks differ");
  CHECK_OR_RETURN(int(xs.size()) <= kResizeMaxRank, Error::NotSupported, describe(g, id), ": rank ", xs.size(),
                  " is above ", kResizeMaxRank);
  for (size_t a = 0; a < xs.size(); ++a)
    CHECK_OR_RETURN(xs[a] >= 1 && ys[a] >= 1, Error::NotSupported, describe(g, id), ": empty tensors (input ",
                    shape_str(xs), ", output ", shape_str(ys), ")");

  ASSIGN_OR_RETURN(const ResizeAttrs attrs, resize_attrs(g, id, xs, ys));
  const ResizeCoordMode cmode = attrs.coord;
  const ResizeNearestMode nmode = attrs.nearest;
  const std::vector<double>& scales = attrs.scales;

  auto step = std::make_unique<ResizeStep>();
  ResizeStep& s = *step;
  s.linear = linear;
  s.elem_size = elem;
  s.x = n.input(0);
  s.y = n.outputs[0];
  s.p.rank = int(xs.size());
  s.nearest_tables.resize(xs.size());
  s.linear_tables.resize(xs.size());
  for (size_t a = 0; a < xs.size(); ++a) {
    s.p.in_shape[a] = xs[a];
    s.p.out_shape[a] = ys[a];
    if (linear) {
      auto& t = s.linear_tables[a];
      t.resize(size_t(ys[a]));
      resize_linear_table(cmode, xs[a], ys[a], scales[a], t.data());
      if (!resize_linear_table_is_identity(xs[a], ys[a], t.data())) s.p.linear[a] = t.data();
    } else {
      auto& t = s.nearest_tables[a];
      t.resize(size_t(ys[a]));
      resize_nearest_table(cmode, nmode, xs[a], ys[a], scales[a], t.data());
      if (!resize_nearest_table_is_identity(xs[a], ys[a], t.data())) s.p.nearest[a] = t.data();
    }
  }
  return StepPtr(std::move(step));
}

}  // namespace neutron
