// Builds a std::string from heterogeneous pieces (host side only).
#pragma once
#include <sstream>
#include <string>
#include <vector>

namespace neutron {

template <typename T>
void append_piece(std::ostringstream& os, const T& v) {
  os << v;
}
// Long lists (a hostile model's pads or shape can hold millions of values) are abbreviated so that
// a message stays one readable line: [0,1,2,...,(1000000 values)].
template <typename T>
void append_piece(std::ostringstream& os, const std::vector<T>& v) {
  constexpr size_t kShown = 32;
  os << '[';
  for (size_t i = 0; i < v.size() && i < kShown; ++i) os << (i ? "," : "") << v[i];
  if (v.size() > kShown) os << ",...,(" << v.size() << " values)";
  os << ']';
}
inline void append_piece(std::ostringstream& os, const int8_t& v) { os << int(v); }
inline void append_piece(std::ostringstream& os, const uint8_t& v) { os << int(v); }

template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (append_piece(os, args), ...);
  return os.str();
}

}  // namespace neutron
