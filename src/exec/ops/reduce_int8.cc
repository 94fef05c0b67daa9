// Binder of int8 ReduceMean and ReduceSum (kernels/reduce_int8.h): one fixed-point requantization
// of sum(q - z_in), multiplier s_in / (s_out * count) for Mean and s_in / s_out for Sum. Any axes,
// any keepdims (keepdims changes only the output shape). ReduceMax/ReduceMin with the same
// quantization in and out stay in reduce.cc (they move values).
#include <algorithm>

#include "exec/ops/int8_common.h"
#include "exec/ops/int8_setup.h"

namespace neutron {

namespace int8 {

StatusOr<ReduceSetup> reduce_setup(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.kind == OpKind::ReduceMean || n.kind == OpKind::ReduceSum, Error::Internal, describe(g, id),
                  ": not a ReduceMean or ReduceSum");
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects 1 input and 1 output");
  const TensorId x = n.input(0), y = n.outputs[0];
  RETURN_IF_ERROR(check_per_tensor(g, id, x, "input"));
  RETURN_IF_ERROR(check_per_tensor(g, id, y, "output"));
  const Shape& xs = g.tensor(x).shape;
  ReduceSetup s;
  std::vector<char> seen(xs.size(), 0);
  for (int64_t a : n.attrs.get_ints("axes")) {
    const int ax = normalize_axis(a, xs.size());
    CHECK_OR_RETURN(ax >= 0, Error::InvalidModel, describe(g, id), ": axis ", a, " is out of range for shape ",
                    shape_str(xs));
    seen[size_t(ax)] = 1;
  }
  const bool all = std::find(seen.begin(), seen.end(), 1) == seen.end();
  for (size_t a = 0; a < xs.size(); ++a)
    if (all || seen[a]) s.axes.push_back(int64_t(a));
  ReduceInt8Params& p = s.p;
  CHECK_OR_RETURN(prepare_reduce(Span<const int64_t>(xs), Span<const int64_t>(s.axes), &p.shape), Error::NotSupported,
                  describe(g, id), ": cannot reduce shape ", shape_str(xs), " (rank above ", kMaxReduceRank, "?)");
  CHECK_OR_RETURN(p.shape.out_count == num_elements(g.tensor(y).shape), Error::InvalidModel, describe(g, id),
                  ": output shape ", shape_str(g.tensor(y).shape), " does not match the reduction of ", shape_str(xs));
  const int64_t count = p.shape.reduce_count;
  CHECK_OR_RETURN(count >= 1 && count <= kReduceInt8MaxCount && p.shape.in_count > 0, Error::NotSupported,
                  describe(g, id), ": ", count, " elements per output; the int8 kernel reduces 1 to ",
                  kReduceInt8MaxCount);
  p.input_zero_point = zero_point_of(g, x);
  p.output_zero_point = zero_point_of(g, y);
  const double sx = scale_of(g, x), sy = scale_of(g, y);
  if (n.kind == OpKind::ReduceMean) {
    RETURN_IF_ERROR(make_multiplier(g, id, sx / (sy * double(count)),
                                    str_cat("s_in / (s_out * count) (", sx, " / (", sy, " * ", count, "))"),
                                    &p.multiplier));
  } else {
    RETURN_IF_ERROR(make_multiplier(g, id, sx / sy, str_cat("s_in / s_out (", sx, " / ", sy, ")"), &p.multiplier));
  }
  return s;
}

}  // namespace int8

StatusOr<StepPtr> bind_reduce_int8(const Graph& g, NodeId id) {
  ASSIGN_OR_RETURN(int8::ReduceSetup s, int8::reduce_setup(g, id));
  const TensorId x = g.node(id).input(0), y = g.node(id).outputs[0];
  const ReduceInt8Params p = s.p;
  return make_step(
      [p, x, y](const RunContext& ctx) {
        reduce_sum_int8(p, ctx.in<int8_t>(x), ctx.out<int8_t>(y), ctx.scratch<void>());
      },
      reduce_sum_int8_scratch_bytes(p));
}

}  // namespace neutron
