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
template <typename T>
void append_piece(std::ostringstream& os, const std::vector<T>& v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
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
