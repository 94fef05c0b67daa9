#include "lowering/resize_attrs.h"

#include <string>

namespace neutron {
namespace {

bool scales_fit(const Shape& in, const Shape& out, const std::vector<double>& scales) {
  for (size_t a = 0; a < in.size(); ++a) {
    const double r = double(in[a]) * scales[a];
    if (!(scales[a] > 0) || r < double(out[a]) - 1e-6 || r >= double(out[a]) + 1) return false;
  }
  return true;
}

StatusOr<ResizeCoordMode> coord_mode(const Graph& g, NodeId id, const std::string& s) {
  if (s == "half_pixel") return ResizeCoordMode::kHalfPixel;
  if (s == "half_pixel_symmetric") return ResizeCoordMode::kHalfPixelSymmetric;
  if (s == "pytorch_half_pixel") return ResizeCoordMode::kPytorchHalfPixel;
  if (s == "align_corners") return ResizeCoordMode::kAlignCorners;
  if (s == "asymmetric") return ResizeCoordMode::kAsymmetric;
  if (s == "tf_half_pixel_for_nn" || s == "tf_half_pixel_for_nearest")
    return ResizeCoordMode::kTfHalfPixelForNearest;
  return error(Error::NotSupported, describe(g, id), ": coordinate_transformation_mode '", s, "' is not supported");
}

StatusOr<ResizeNearestMode> nearest_mode(const Graph& g, NodeId id, const std::string& s) {
  if (s == "round_prefer_floor") return ResizeNearestMode::kRoundPreferFloor;
  if (s == "round_prefer_ceil") return ResizeNearestMode::kRoundPreferCeil;
  if (s == "floor") return ResizeNearestMode::kFloor;
  if (s == "ceil") return ResizeNearestMode::kCeil;
  return error(Error::NotSupported, describe(g, id), ": nearest_mode '", s, "' is not supported");
}

}  // namespace

StatusOr<ResizeAttrs> resize_attrs(const Graph& g, NodeId id, const Shape& xs, const Shape& ys) {
  const Node& n = g.node(id);
  ResizeAttrs r;
  ASSIGN_OR_RETURN(r.coord, coord_mode(g, id, n.attrs.get_string("coordinate_transformation_mode", "half_pixel")));
  ASSIGN_OR_RETURN(r.nearest, nearest_mode(g, id, n.attrs.get_string("nearest_mode", "round_prefer_floor")));
  CHECK_OR_RETURN(xs.size() == ys.size(), Error::InvalidModel, describe(g, id), ": input ", shape_str(xs),
                  " and output ", shape_str(ys), " ranks differ");
  std::vector<double>& scales = r.scales;
  scales = n.attrs.get_floats("scales");
  if (scales.size() != xs.size()) {
    CHECK_OR_RETURN(scales.empty(), Error::InvalidModel, describe(g, id), ": scales ", scales, " do not match rank ",
                    xs.size());
    for (size_t a = 0; a < xs.size(); ++a) scales.push_back(double(ys[a]) / double(xs[a]));
  }
  if (!scales_fit(xs, ys, scales) && n.attrs.get_int("channels_last", 0) == 1 && xs.size() >= 3) {
    std::vector<double> perm{scales[0]};  // NCHW order -> NHWC order
    perm.insert(perm.end(), scales.begin() + 2, scales.end());
    perm.push_back(scales[1]);
    if (scales_fit(xs, ys, perm)) scales = perm;
  }
  CHECK_OR_RETURN(scales_fit(xs, ys, scales), Error::InvalidModel, describe(g, id), ": scales ", scales,
                  " do not turn input ", shape_str(xs), " into output ", shape_str(ys));
  return r;
}

}  // namespace neutron
