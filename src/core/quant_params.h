// Affine quantization parameters: real = scale * (q - zero_point).
// Per-tensor when scale has one entry; per-axis (per-channel) along `axis` otherwise.
#pragma once
#include <cstdint>
#include <vector>

namespace neutron {

struct QuantParams {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int32_t axis = 0;  // only meaningful when per-axis

  bool empty() const { return scale.empty(); }
  bool per_axis() const { return scale.size() > 1; }
  bool operator==(const QuantParams& o) const {
    return scale == o.scale && zero_point == o.zero_point && (!per_axis() || axis == o.axis);
  }
  bool operator!=(const QuantParams& o) const { return !(*this == o); }

  static QuantParams per_tensor(float s, int32_t zp) { return QuantParams{{s}, {zp}, 0}; }
};

}  // namespace neutron
