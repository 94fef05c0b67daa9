// The program file format (program.fbs, compiled by flatc into program_generated.h at build time):
// shared by the writer (compiler/program_file.h) and the reader (runtime/program_runner.h).
// Header-only and embedded-grade.
#pragma once
#include <cstddef>
#include <cstdint>

#include "program/program_generated.h"

namespace neutron::program {

// Bumped when a change would make old readers misread new files (fields are only appended).
// 2: the checksum trailer (below).
constexpr uint32_t kProgramVersion = 2;
// Program files are loaded 16-byte aligned: payloads inside are 16-byte aligned relative to it.
constexpr size_t kProgramAlignment = 16;
constexpr uint32_t kMaxRank = 8;

constexpr size_t dtype_size(fb::DType t) {
  switch (t) {
    case fb::DType::Float32: return 4;
    case fb::DType::Int8: return 1;
    case fb::DType::UInt8: return 1;
    case fb::DType::Int32: return 4;
    case fb::DType::Int64: return 8;
  }
  return 0;
}

constexpr const char* dtype_name(fb::DType t) {
  switch (t) {
    case fb::DType::Float32: return "f32";
    case fb::DType::Int8: return "i8";
    case fb::DType::UInt8: return "u8";
    case fb::DType::Int32: return "i32";
    case fb::DType::Int64: return "i64";
  }
  return "?";
}

// True when `data` starts with the program file identifier (bytes 4..7 "NPRG").
inline bool is_program_file(const void* data, size_t size) {
  return size >= 8 && flatbuffers::BufferHasIdentifier(data, fb::ProgramIdentifier());
}

// ---- Checksum trailer (version 2 on) ----
//
// A program file is the FlatBuffer followed by a fixed 16-byte trailer, little-endian:
//   [0, 4)   magic "NPCK"
//   [4, 8)   algorithm: 1 = CRC-32 (ISO-HDLC: zlib's crc32, reflected polynomial 0xEDB88320)
//   [8, 12)  bytes of the FlatBuffer before the trailer (= file size - 16)
//   [12, 16) CRC-32 of every byte of the file before this field (the FlatBuffer and trailer[0, 12))
// A trailer rather than a field of the root table: the reader checks it at a fixed place before it
// parses anything (so any flipped byte reads as "corrupted", not as whatever the flip broke), in
// one pass over the bytes as they lie in flash, without a copy and without a heap.
constexpr size_t kTrailerBytes = 16;
constexpr uint32_t kTrailerMagic = 0x4b43504eu;  // "NPCK" read little-endian
constexpr uint32_t kChecksumCrc32 = 1;

// CRC-32 lookup tables for slicing by 4 (4 KiB of read-only data), built at compile time:
// v[0] is the byte-wise table, v[k][i] the CRC of byte i followed by k zero bytes.
struct Crc32Table {
  uint32_t v[4][256] = {};
  constexpr Crc32Table() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      v[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int k = 1; k < 4; ++k) v[k][i] = (v[k - 1][i] >> 8) ^ v[0][v[k - 1][i] & 0xffu];
  }
};
inline constexpr Crc32Table kCrc32Table{};

// CRC-32 of `size` bytes, continuing from `crc` (0 to start); crc32("123456789") = 0xCBF43926.
// Four bytes a step (one word load, four table loads): about twice the speed of the byte loop.
inline uint32_t crc32(const void* data, size_t size, uint32_t crc = 0) {
  const auto* p = static_cast<const uint8_t*>(data);
  const uint32_t *t0 = kCrc32Table.v[0], *t1 = kCrc32Table.v[1], *t2 = kCrc32Table.v[2], *t3 = kCrc32Table.v[3];
  const uint8_t* words_end = p + (size & ~size_t(3));
  const uint8_t* end = p + size;
  uint32_t c = ~crc;
  while (p != words_end) {
    c ^= uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    c = t3[c & 0xffu] ^ t2[(c >> 8) & 0xffu] ^ t1[(c >> 16) & 0xffu] ^ t0[c >> 24];
    p += 4;
  }
  while (p != end) c = t0[(c ^ *p++) & 0xffu] ^ (c >> 8);
  return ~c;
}

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = uint8_t(v >> (8 * k));
}

// The trailer for a FlatBuffer of `content_bytes` bytes (< 4 GiB) at `content`.
inline void make_trailer(const uint8_t* content, size_t content_bytes, uint8_t trailer[kTrailerBytes]) {
  store_le32(trailer, kTrailerMagic);
  store_le32(trailer + 4, kChecksumCrc32);
  store_le32(trailer + 8, uint32_t(content_bytes));
  const uint32_t crc = crc32(trailer, 12, crc32(content, content_bytes));
  store_le32(trailer + 12, crc);
}

// True when the last 16 bytes of a `size`-byte file carry the trailer magic.
inline bool has_trailer(const void* data, size_t size) {
  return size >= kTrailerBytes &&
         load_le32(static_cast<const uint8_t*>(data) + size - kTrailerBytes) == kTrailerMagic;
}

}  // namespace neutron::program
