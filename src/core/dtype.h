// Element types of tensors. Embedded-safe (no strings, no heap).
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

#define NEUTRON_DTYPE_LIST(X)     \
  X(F32, float, "f32", 4)         \
  X(I8, int8_t, "i8", 1)          \
  X(U8, uint8_t, "u8", 1)         \
  X(I16, int16_t, "i16", 2)       \
  X(I32, int32_t, "i32", 4)       \
  X(I64, int64_t, "i64", 8)       \
  X(Bool, bool, "bool", 1)

enum class DType : uint8_t {
  Invalid = 0,
#define NEUTRON_X(name, ctype, text, size) name,
  NEUTRON_DTYPE_LIST(NEUTRON_X)
#undef NEUTRON_X
};

constexpr size_t dtype_size(DType t) {
  switch (t) {
#define NEUTRON_X(name, ctype, text, size) \
  case DType::name:                        \
    return size;
    NEUTRON_DTYPE_LIST(NEUTRON_X)
#undef NEUTRON_X
    default:
      return 0;
  }
}

constexpr const char* dtype_name(DType t) {
  switch (t) {
#define NEUTRON_X(name, ctype, text, size) \
  case DType::name:                        \
    return text;
    NEUTRON_DTYPE_LIST(NEUTRON_X)
#undef NEUTRON_X
    default:
      return "invalid";
  }
}

template <typename T>
struct DTypeOf;
#define NEUTRON_X(name, ctype, text, size) \
  template <>                              \
  struct DTypeOf<ctype> {                  \
    static constexpr DType value = DType::name; \
  };
NEUTRON_DTYPE_LIST(NEUTRON_X)
#undef NEUTRON_X

constexpr bool is_quantized_integer(DType t) { return t == DType::I8 || t == DType::U8 || t == DType::I32 || t == DType::I16; }

}  // namespace neutron
