#include "core/npy.h"

#include "core/output_files.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace neutron {
namespace {

struct NpyType {
  const char* descr;
  DType dtype;
};
// '|' marks byte-sized types where byte order does not apply.
constexpr NpyType kTypes[] = {
    {"<f4", DType::F32}, {"|i1", DType::I8}, {"|u1", DType::U8}, {"<i2", DType::I16},
    {"<i4", DType::I32}, {"<i8", DType::I64}, {"|b1", DType::Bool},
};

const char* descr_of(DType t) {
  for (const auto& e : kTypes)
    if (e.dtype == t) return e.descr;
  return nullptr;
}

// Extracts the value text for `key` from the header dict, e.g. 'descr': '<f4'.
bool find_value(const std::string& h, const std::string& key, std::string* out) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t colon = h.find(':', k);
  if (colon == std::string::npos) return false;
  size_t i = colon + 1;
  while (i < h.size() && h[i] == ' ') ++i;
  if (i >= h.size()) return false;
  size_t end;
  if (h[i] == '\'') {
    end = h.find('\'', i + 1);
    if (end == std::string::npos) return false;
    *out = h.substr(i + 1, end - i - 1);
  } else if (h[i] == '(') {
    end = h.find(')', i);
    if (end == std::string::npos) return false;
    *out = h.substr(i + 1, end - i - 1);
  } else {
    end = h.find_first_of(",}", i);
    if (end == std::string::npos) return false;
    *out = h.substr(i, end - i);
  }
  return true;
}

}  // namespace

StatusOr<TensorData> parse_npy(const std::string& b, const std::string& name) {
  const auto bad = [&](const std::string& why) { return error(Error::InvalidArgument, name, ": not a valid .npy file: ", why); };
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) return bad("missing \\x93NUMPY magic");
  uint8_t major = uint8_t(b[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = uint8_t(b[8]) | (size_t(uint8_t(b[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) return bad("truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= size_t(uint8_t(b[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    return bad(str_cat("unsupported format version ", int(major)));
  }
  if (header_start + header_len > b.size()) return bad("truncated header");
  std::string h = b.substr(header_start, header_len);
  std::string descr, fortran, shape_text;
  if (!find_value(h, "descr", &descr) || !find_value(h, "fortran_order", &fortran) || !find_value(h, "shape", &shape_text))
    return bad("header lacks descr, fortran_order or shape");
  if (fortran.find("True") != std::string::npos)
    return error(Error::NotSupported, name, ": Fortran-order arrays are not supported; save with np.ascontiguousarray()");
  if (descr.size() == 3 && descr[0] == '>' && descr.substr(1) != "i1" && descr.substr(1) != "u1")
    return error(Error::NotSupported, name, ": big-endian data ('", descr, "') is not supported; convert with arr.astype(arr.dtype.newbyteorder('<'))");
  // Byte-sized types may be written with '<', '>', '|' or '='.
  std::string norm = descr;
  if (norm.size() == 3 && (norm[1] == 'i' || norm[1] == 'u' || norm[1] == 'b') && norm[2] == '1') norm[0] = '|';
  if (norm.size() == 3 && norm[0] == '=') norm[0] = '<';
  DType dtype = DType::Invalid;
  for (const auto& e : kTypes)
    if (norm == e.descr) dtype = e.dtype;
  if (dtype == DType::Invalid)
    return error(Error::NotSupported, name, ": dtype '", descr, "' is not supported (f32, i8, u8, i16, i32, i64, bool are)");
  Shape shape;
  std::stringstream ss(shape_text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t p = item.find_first_not_of(" ");
    if (p == std::string::npos) continue;
    char* endp = nullptr;
    long long v = std::strtoll(item.c_str() + p, &endp, 10);
    if (endp == item.c_str() + p || v < 0) return bad("malformed shape '(" + shape_text + ")'");
    shape.push_back(v);
  }
  TensorData t(dtype, shape);
  size_t data_start = header_start + header_len;
  if (b.size() - data_start != t.bytes.size())
    return bad(str_cat("expected ", t.bytes.size(), " data bytes for shape ", shape_str(shape), ", found ", b.size() - data_start));
  if (!t.bytes.empty()) std::memcpy(t.bytes.data(), b.data() + data_start, t.bytes.size());
  return t;
}

StatusOr<TensorData> read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return error(Error::NotFound, path, ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_npy(ss.str(), path);
}

std::string serialize_npy(const TensorData& t) {
  std::string h = str_cat("{'descr': '", descr_of(t.dtype), "', 'fortran_order': False, 'shape': (");
  for (size_t i = 0; i < t.shape.size(); ++i) h += std::to_string(t.shape[i]) + (t.shape.size() == 1 || i + 1 < t.shape.size() ? "," : "");
  h += "), }";
  // Pad so that the data starts on a 64-byte boundary, header ends with '\n'.
  size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(h.size() & 0xff);
  out += char(h.size() >> 8);
  out += h;
  out.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  return out;
}

StatusOr<std::string> encode_npy(const TensorData& t, const std::string& name) {
  if (!descr_of(t.dtype)) return error(Error::NotSupported, name, ": cannot write dtype ", dtype_name(t.dtype));
  return serialize_npy(t);
}

Status write_npy(const std::string& path, const TensorData& t) {
  ASSIGN_OR_RETURN(std::string bytes, encode_npy(t, path));
  return write_file_atomically(path, std::move(bytes));
}

}  // namespace neutron
