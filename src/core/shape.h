// Tensor shapes (host side). Dimensions are int64 as in ONNX; all shapes in the IR are static.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace neutron {

using Shape = std::vector<int64_t>;

inline int64_t num_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// "[1,3,224,224]"; a hostile rank is abbreviated after 32 dimensions, as str_cat does for lists.
inline std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size() && i < 32; ++i) r += (i ? "," : "") + std::to_string(s[i]);
  if (s.size() > 32) r += ",...,(" + std::to_string(s.size()) + " values)";
  return r + "]";
}

// Normalizes a possibly negative axis against `rank`; returns -1 when out of range.
inline int normalize_axis(int64_t axis, size_t rank) {
  int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) return -1;
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

}  // namespace neutron
