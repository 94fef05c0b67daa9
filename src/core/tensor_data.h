// An owned, dense, row-major host tensor: element type, shape and bytes.
// Used for IR constants, .npy files and executor inputs/outputs (host side only).
#pragma once
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace neutron {

struct TensorData {
  DType dtype = DType::Invalid;
  Shape shape;
  std::vector<uint8_t> bytes;

  TensorData() = default;
  TensorData(DType t, Shape s) : dtype(t), shape(std::move(s)), bytes(size_t(num_elements(shape)) * dtype_size(t)) {}

  int64_t count() const { return num_elements(shape); }
  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(bytes.data());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(bytes.data());
  }
  template <typename T>
  static TensorData from(Shape s, const std::vector<T>& values) {
    TensorData t(DTypeOf<T>::value, std::move(s));
    if (!t.bytes.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
    return t;
  }
  template <typename T>
  std::vector<T> to_vector() const {
    std::vector<T> v(static_cast<size_t>(count()));
    if (!bytes.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
  // Reads any integer or float element as double / int64 (for attributes and folding).
  double get_as_double(int64_t i) const;
  int64_t get_as_int(int64_t i) const;
};

inline double TensorData::get_as_double(int64_t i) const {
  switch (dtype) {
    case DType::F32: return data<float>()[i];
    case DType::I8: return data<int8_t>()[i];
    case DType::U8: return data<uint8_t>()[i];
    case DType::I16: return data<int16_t>()[i];
    case DType::I32: return data<int32_t>()[i];
    case DType::I64: return double(data<int64_t>()[i]);
    case DType::Bool: return data<uint8_t>()[i] ? 1.0 : 0.0;
    default: return 0;
  }
}
inline int64_t TensorData::get_as_int(int64_t i) const {
  if (dtype == DType::I64) return data<int64_t>()[i];
  if (dtype == DType::F32) return static_cast<int64_t>(data<float>()[i]);
  return static_cast<int64_t>(get_as_double(i));
}

}  // namespace neutron
