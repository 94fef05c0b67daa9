// Error codes shared by every layer, including the embedded runtime (no strings, no heap).
// Grouped by value range as in ExecuTorch's runtime/core/error.h.
#pragma once
#include <cstdint>

namespace neutron {

#define NEUTRON_ERROR_LIST(X)                                                     \
  X(Ok, 0x00, "ok")                                                               \
  X(Internal, 0x01, "internal error")                                             \
  /* Logical: the input is nonsense or does not match what was declared. */       \
  X(InvalidArgument, 0x10, "invalid argument")                                    \
  X(InvalidModel, 0x11, "invalid model")                                          \
  X(InvalidProgram, 0x12, "invalid program")                                      \
  X(NotFound, 0x13, "not found")                                                  \
  /* Valid, but not implemented or not possible on this target. */                \
  X(NotSupported, 0x20, "not supported")                                          \
  /* Resources. */                                                                \
  X(OutOfMemory, 0x30, "out of memory")                                           \
  X(IoError, 0x31, "i/o error")                                                   \
  /* Delegate / driver. */                                                        \
  X(DelegateFailed, 0x40, "delegate failed")

enum class Error : uint32_t {
#define NEUTRON_X(name, value, text) name = value,
  NEUTRON_ERROR_LIST(NEUTRON_X)
#undef NEUTRON_X
};

constexpr const char* to_string(Error e) {
  switch (e) {
#define NEUTRON_X(name, value, text) \
  case Error::name:                  \
    return text;
    NEUTRON_ERROR_LIST(NEUTRON_X)
#undef NEUTRON_X
  }
  return "unknown error";
}

}  // namespace neutron
