// The program file format (program.fbs, compiled by flatc into program_generated.h at build time):
// shared by the writer (compiler/program_file.h) and the reader (runtime/program_runner.h).
// Header-only and embedded-grade.
#pragma once
#include <cstddef>
#include <cstdint>

#include "program/program_generated.h"

namespace neutron::program {

// Bumped when a change would make old readers misread new files (fields are only appended).
constexpr uint32_t kProgramVersion = 1;
// Program files are loaded 16-byte aligned: payloads inside are 16-byte aligned relative to it.
constexpr size_t kProgramAlignment = 16;
constexpr uint32_t kMaxRank = 8;

constexpr size_t dtype_size(fb::DType t) {
  switch (t) {
    case fb::DType::Float32: return 4;
    case fb::DType::Int8: return 1;
    case fb::DType::UInt8: return 1;
    case fb::DType::Int32: return 4;
  }
  return 0;
}

constexpr const char* dtype_name(fb::DType t) {
  switch (t) {
    case fb::DType::Float32: return "f32";
    case fb::DType::Int8: return "i8";
    case fb::DType::UInt8: return "u8";
    case fb::DType::Int32: return "i32";
  }
  return "?";
}

// True when `data` starts with the program file identifier (bytes 4..7 "NPRG").
inline bool is_program_file(const void* data, size_t size) {
  return size >= 8 && flatbuffers::BufferHasIdentifier(data, fb::ProgramIdentifier());
}

}  // namespace neutron::program
