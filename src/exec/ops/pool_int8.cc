// Binder of the int8 pools (kernels/pool_int8.h): MaxPool, AveragePool, GlobalAveragePool,
// GlobalMaxPool. Multipliers per window divisor are computed here.
#include <vector>

#include "exec/ops/int8_common.h"
#include "kernels/pool_int8.h"

namespace neutron {
namespace {

class PoolInt8Step final : public Step {
 public:
  OpKind kind{};
  TensorId x = kNoTensor, y = kNoTensor;
  int8::LayoutAdapter layout;
  std::vector<FixedMultiplier> count_multipliers;
  PoolInt8Params p;

  void run(const RunContext& ctx) const override {
    layout.run(ctx.in<int8_t>(x), ctx.out<int8_t>(y), ctx.scratch<uint8_t>(),
               [&](const int8_t* in, int8_t* out, uint8_t* scratch) {
                 switch (kind) {
                   case OpKind::MaxPool: max_pool_int8_nhwc(p, in, out); break;
                   case OpKind::AveragePool: average_pool_int8_nhwc(p, in, out, scratch); break;
                   case OpKind::GlobalMaxPool: global_max_pool_int8_nhwc(p, in, out); break;
                   default: global_average_pool_int8_nhwc(p, in, out, scratch); break;
                 }
               });
  }
  size_t scratch_bytes() const override { return layout.extra_bytes() + pool_int8_scratch_bytes(p); }
};

}  // namespace

StatusOr<StepPtr> bind_pool_int8(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.kind == OpKind::MaxPool || n.kind == OpKind::AveragePool || n.kind == OpKind::GlobalMaxPool ||
                      n.kind == OpKind::GlobalAveragePool,
                  Error::Internal, describe(g, id), ": not a pool");
  const TensorId x = n.input(0), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g, id, y, "output"));
  CHECK_OR_RETURN(n.outputs.size() == 1, Error::NotSupported, describe(g, id),
                  ": the int8 MaxPool does not produce the Indices output");
  const bool channels_last = n.attrs.get_int("channels_last", 0) != 0;
  ASSIGN_OR_RETURN(int8::Dims4 in, int8::spatial_dims(g, id, x, channels_last));
  ASSIGN_OR_RETURN(int8::Dims4 out, int8::spatial_dims(g, id, y, channels_last));
  CHECK_OR_RETURN(in.n == out.n && in.c == out.c, Error::InvalidModel, describe(g, id), ": output ",
                  shape_str(g.tensor(y).shape), " does not fit input ", shape_str(g.tensor(x).shape));

  auto step = std::make_unique<PoolInt8Step>();
  step->kind = n.kind;
  step->x = x;
  step->y = y;
  step->layout = int8::LayoutAdapter{!channels_last, in, out};
  PoolInt8Params& p = step->p;
  p.batch = int32_t(in.n);
  p.channels = int32_t(in.c);
  p.in_h = int32_t(in.h);
  p.in_w = int32_t(in.w);
  p.out_h = int32_t(out.h);
  p.out_w = int32_t(out.w);
  p.input_zero_point = int8::zero_point_of(g, x);
  p.output_zero_point = int8::zero_point_of(g, y);
  int8::fused_activation_range(g, id, y, &p.qmin, &p.qmax);
  const double sx = int8::scale_of(g, x), sy = int8::scale_of(g, y);
  const bool global = n.kind == OpKind::GlobalMaxPool || n.kind == OpKind::GlobalAveragePool;
  if (global) {
    CHECK_OR_RETURN(out.h == 1 && out.w == 1, Error::InvalidModel, describe(g, id), ": output ",
                    shape_str(g.tensor(y).shape), " is not 1x1");
    p.kernel_h = p.in_h;
    p.kernel_w = p.in_w;
  } else {
    const std::vector<int64_t> ks = n.attrs.get_ints("kernel_shape");
    const std::vector<int64_t> st = n.attrs.get_ints("strides", {1, 1});
    const std::vector<int64_t> dl = n.attrs.get_ints("dilations", {1, 1});
    const std::vector<int64_t> pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
    CHECK_OR_RETURN(ks.size() == 2 && st.size() == 2 && dl.size() == 2 && pads.size() == 4, Error::NotSupported,
                    describe(g, id), ": the int8 pools are 2-D only (kernel_shape ", ks, ", strides ", st, ", pads ", pads,
                    ")");
    CHECK_OR_RETURN(n.kind == OpKind::MaxPool || (dl[0] == 1 && dl[1] == 1), Error::NotSupported, describe(g, id),
                    ": the int8 AveragePool does not support dilations ", dl);
    p.kernel_h = int32_t(ks[0]);
    p.kernel_w = int32_t(ks[1]);
    p.stride_h = int32_t(st[0]);
    p.stride_w = int32_t(st[1]);
    p.dilation_h = int32_t(dl[0]);
    p.dilation_w = int32_t(dl[1]);
    p.pad_top = int32_t(pads[0]);
    p.pad_left = int32_t(pads[1]);
    p.pad_bottom = int32_t(pads[2]);
    p.pad_right = int32_t(pads[3]);
    p.count_include_pad = n.attrs.get_int("count_include_pad", 0) != 0;
  }
  switch (n.kind) {
    case OpKind::MaxPool:
    case OpKind::GlobalMaxPool:
      p.requantize = g.tensor(x).quant != g.tensor(y).quant;
      if (p.requantize) RETURN_IF_ERROR(int8::make_multiplier(g, id, sx / sy, str_cat("s_in / s_out (", sx, " / ", sy, ")"), &p.multiplier));
      break;
    case OpKind::GlobalAveragePool: {
      const double count = double(in.h) * double(in.w);
      RETURN_IF_ERROR(int8::make_multiplier(g, id, sx / (sy * count),
                                            str_cat("s_in / (s_out * H * W) (", sx, " / (", sy, " * ", count, "))"),
                                            &p.multiplier));
      break;
    }
    default: {
      const int32_t max_count = p.kernel_h * p.kernel_w;
      step->count_multipliers.resize(size_t(max_count) + 1);
      for (int32_t c = 1; c <= max_count; ++c)
        RETURN_IF_ERROR(int8::make_multiplier(g, id, sx / (sy * c),
                                              str_cat("s_in / (s_out * count) (", sx, " / (", sy, " * ", c, "))"),
                                              &step->count_multipliers[size_t(c)]));
      p.count_multipliers = step->count_multipliers.data();
      break;
    }
  }
  return StepPtr(std::move(step));
}

}  // namespace neutron
