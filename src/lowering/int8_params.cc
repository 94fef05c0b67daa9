// Kernel parameters computed once from an int8 IR node (lowering/int8_common.h, int8_setup.h).
#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "lowering/int8_common.h"
#include "lowering/int8_setup.h"
#include "lowering/matmul_shape.h"
#include "lowering/resize_attrs.h"

namespace neutron {
namespace int8 {

StatusOr<BatchMatMulSetup> batch_matmul_setup(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  CHECK_OR_RETURN(n.kind == OpKind::MatMul, Error::Internal, describe(g, id), ": not a MatMul");
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.outputs.size() == 1, Error::InvalidModel, describe(g, id),
                  ": expects inputs A, B and one output");
  const TensorId a = n.input(0), b = n.input(1), y = n.outputs[0];
  RETURN_IF_ERROR(check_per_tensor(g, id, a, "input A"));
  RETURN_IF_ERROR(check_per_tensor(g, id, b, "input B"));
  RETURN_IF_ERROR(check_per_tensor(g, id, y, "output"));
  const Shape& as = g.tensor(a).shape;
  const Shape& bs = g.tensor(b).shape;
  const Shape& ys = g.tensor(y).shape;
  ASSIGN_OR_RETURN(const MatMulShape ms, matmul_shape(g, id, as, bs, ys));
  const int64_t M = ms.M, K = ms.K, N = ms.N;
  CHECK_OR_RETURN(M >= 1 && N >= 1 && K >= 1, Error::NotSupported, describe(g, id), ": empty operands A ",
                  shape_str(as), ", B ", shape_str(bs));
  const int32_t max_k = batch_matmul_int8_max_depth(zero_point_of(g, a), zero_point_of(g, b));
  CHECK_OR_RETURN(K <= max_k, Error::NotSupported, describe(g, id), ": inner dimension K = ", K, " is above ", max_k,
                  " (the int32 accumulator of the int8 kernel with zero points ", zero_point_of(g, a), " and ",
                  zero_point_of(g, b), ")");
  const int64_t batches = num_elements(ms.out_batch), a_batches = num_elements(ms.a_batch),
                b_batches = num_elements(ms.b_batch);
  CHECK_OR_RETURN(batches * M <= INT32_MAX && M * K <= INT32_MAX && K * N <= INT32_MAX && M * N <= INT32_MAX,
                  Error::NotSupported, describe(g, id), ": operands too large for the int8 kernel");

  BatchMatMulSetup s;
  BatchMatMulInt8Params& p = s.p;
  p.m = int32_t(M);
  p.k = int32_t(K);
  p.n = int32_t(N);
  p.a_zero_point = zero_point_of(g, a);
  p.b_zero_point = zero_point_of(g, b);
  p.output_zero_point = zero_point_of(g, y);
  fused_activation_range(g, id, y, &p.qmin, &p.qmax);
  const double sa = scale_of(g, a), sb = scale_of(g, b), sy = scale_of(g, y);
  RETURN_IF_ERROR(make_multiplier(g, id, sa * sb / sy, str_cat("s_a * s_b / s_out (", sa, " * ", sb, " / ", sy, ")"),
                                  &p.multiplier));
  // One stride per operand when each is either complete (every output batch has its own slice) or
  // a single slice; otherwise per-batch offsets.
  if ((a_batches == batches || a_batches == 1) && (b_batches == batches || b_batches == 1)) {
    p.batch = int32_t(batches);
    p.a_batch_stride = a_batches == 1 ? 0 : M * K;
    p.b_batch_stride = b_batches == 1 ? 0 : K * N;
    return s;
  }
  p.batch = 1;
  for (int64_t i = 0; i < batches; ++i) {
    int64_t a_index, b_index;
    ms.slice_indices(i, &a_index, &b_index);
    s.a_offset.push_back(a_index * M * K);
    s.b_offset.push_back(b_index * K * N);
  }
  return s;
}

}  // namespace int8

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

Status int8::bias_to_accumulator_units(const Graph& g, NodeId id, TensorId b, const std::vector<double>& acc_scale,
                                 double bias_multiplier, std::vector<int32_t>* out) {
  const Tensor& t = g.tensor(b);
  const size_t n = acc_scale.size();
  CHECK_OR_RETURN(t.is_constant(), Error::NotSupported, describe(g, id), ": bias '", t.name,
                  "' must be a constant for the int8 kernel");
  CHECK_OR_RETURN(t.dtype == DType::I32, Error::NotSupported, describe(g, id), ": bias '", t.name,
                  "' must be int32 for the int8 kernel, got ", dtype_name(t.dtype));
  const int64_t count = t.data->count();
  CHECK_OR_RETURN(count == int64_t(n) || count == 1, Error::NotSupported, describe(g, id), ": bias '", t.name, "' has ",
                  count, " elements, expected ", n);
  const QuantParams& q = t.quant;
  if (!q.empty()) {
    CHECK_OR_RETURN(q.scale.size() == 1 || q.scale.size() == n, Error::NotSupported, describe(g, id), ": bias '", t.name,
                    "' has ", q.scale.size(), " scales for ", n, " channels");
    for (int32_t z : q.zero_point)
      CHECK_OR_RETURN(z == 0, Error::NotSupported, describe(g, id), ": bias '", t.name, "' has zero point ", z,
                      ", the int8 kernels need 0");
  }
  const int32_t* data = t.data->data<int32_t>();
  out->resize(n);
  for (size_t c = 0; c < n; ++c) {
    const int32_t v = data[count == 1 ? 0 : c];
    // Without quantization parameters the bias is taken to be in accumulator units already.
    const double s = (q.empty() ? acc_scale[c] : double(q.scale[q.scale.size() == 1 ? 0 : c])) * bias_multiplier;
    if (std::fabs(s - acc_scale[c]) <= 1e-6 * acc_scale[c]) {
      (*out)[c] = v;
      continue;
    }
    const double r = std::nearbyint(double(v) * s / acc_scale[c]);
    CHECK_OR_RETURN(std::fabs(r) < 2147483647.0, Error::NotSupported, describe(g, id), ": bias '", t.name, "'[", c,
                    "] = ", v, " with scale ", s, " does not fit int32 in accumulator units of scale ", acc_scale[c]);
    (*out)[c] = int32_t(r);
  }
  return Status::OK();
}

}  // namespace neutron
