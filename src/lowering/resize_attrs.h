// A Resize node's attributes as the resize kernels read them, parsed once for the float and int8
// binder (exec/ops/resize.cc) and the int8 lowering (lowering/lower.cc).
#pragma once
#include <vector>

#include "ir/graph.h"
#include "kernels/resize.h"

namespace neutron {

struct ResizeAttrs {
  ResizeCoordMode coord = ResizeCoordMode::kHalfPixel;         // coordinate_transformation_mode
  ResizeNearestMode nearest = ResizeNearestMode::kRoundPreferFloor;  // nearest_mode
  std::vector<double> scales;  // per data axis: the attribute, or out/in when it is absent; on a
                               // channels_last node whose scales are still in NCHW order (they do
                               // not fit the NHWC shapes, their NCHW->NHWC permutation does), permuted
};

// `xs`, `ys`: the input and output shapes (same rank). Errors: NotSupported for an unknown mode,
// InvalidModel for scales of another rank or that do not turn `xs` into `ys`.
StatusOr<ResizeAttrs> resize_attrs(const Graph& g, NodeId id, const Shape& xs, const Shape& ys);

}  // namespace neutron
