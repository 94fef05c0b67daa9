// Test helper: .npy file bytes with a hand-written header, for inputs write_npy() cannot produce
// (hostile shapes, dtypes TensorData lacks, headers that lie about their data).
#pragma once
#include <cstddef>
#include <string>

namespace neutron::testing {

// A version-1 .npy: magic, header `dict` (e.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }")
// padded to 64 bytes with its newline, then `data_bytes` zero bytes.
inline std::string npy_bytes(const std::string& dict, size_t data_bytes) {
  std::string h = dict;
  h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(h.size() & 0xff);
  out += char(h.size() >> 8);
  return out + h + std::string(data_bytes, '\0');
}

}  // namespace neutron::testing
