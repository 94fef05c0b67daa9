// Internals of the int8 GEMM shared by conv_int8.cc and batch_matmul_int8.cc (not a public API).
//
// Packed weights: panels of 16 output columns; in a panel, K in groups of 4, and per group the 16
// columns' 4 consecutive k values:
//   packed[(n / 16) * Kp * 16 + (k / 4) * 64 + (n % 16) * 4 + k % 4] = W[n][k]   (0 past N or K)
// with Kp = K rounded up to 4. It is the operand layout of VNNI's vpdpbusd (u8 x s8, 4 products
// per int32 lane); the AVX2 path widens it to int16 pairs and the scalar path reads it directly.
//
// A is fed as u8 = int8 + 128 (x ^ 0x80), so every path computes sum_k (a + 128) * w and the
// bias carries -(za + 128) * sum_k w. All int32 arithmetic wraps (mod 2^32), so the final sum is
// the exact accumulator whenever that fits int32 (the callers' precondition).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/gemm_int8.h"

namespace neutron {
namespace qgemm_detail {

constexpr int32_t kPanel = 16;       // output columns per packed panel
constexpr int32_t kTileRows = 48;    // rows of A prepared at a time (a multiple of every row tile: 2, 6, 8, 12, 16)

inline int32_t round4(int32_t k) { return (k + 3) & ~3; }
inline size_t packed_bytes(int32_t K, int32_t N) {
  return size_t((N + kPanel - 1) / kPanel) * size_t(kPanel) * size_t(round4(K));
}

// Packs element (n, k) = at(n, k) for n < N, k < K.
template <typename F>
void pack_panels(int32_t K, int32_t N, F&& at, int8_t* packed) {
  const int32_t Kp = round4(K);
  const int32_t panels = (N + kPanel - 1) / kPanel;
  for (int32_t pn = 0; pn < panels; ++pn)
    for (int32_t k = 0; k < Kp; ++k)
      for (int32_t j = 0; j < kPanel; ++j) {
        const int32_t n = pn * kPanel + j;
        packed[size_t(pn) * size_t(Kp) * kPanel + size_t(k / 4) * 64 + size_t(j) * 4 + size_t(k % 4)] =
            (n < N && k < K) ? at(n, k) : int8_t(0);
      }
}

// Column sums of packed weights (wrapping int32).
void column_sums(const int8_t* packed, int32_t K, int32_t N, int32_t* sums);

// One row of int8 A as u8 (x ^ 0x80), zero padded from K to round4(K).
void to_u8_row(const int8_t* src, uint8_t* dst, int32_t K);

struct Job {
  int32_t rows = 0, cols = 0, depth = 0;
  const int8_t* weights = nullptr;  // packed as above
  const int32_t* bias = nullptr;    // [cols], with -(za + 128) * sum_k W folded in
  const FixedMultiplier* multipliers = nullptr;
  int32_t output_zero_point = 0, qmin = -128, qmax = 127;
  const int32_t* row_offset = nullptr;  // [rows] added to every column of a row, or null
  bool a_signed = false;  // A is int8 as it is (the kernel adds 128); only when accepts_signed_a()
  // Implicit im2col (only when accepts_signed_a()): row r of A is `segments` runs of
  // segment_groups * 4 u8 bytes, the first at row_ptrs[r], each next one segment_stride further.
  const uint8_t* const* row_ptrs = nullptr;
  int32_t segments = 1, segment_groups = 0;
  size_t segment_stride = 0;
};

// True when qgemm_u8 takes a_signed (raw int8 A read in place; round4(depth) == depth) and
// row_ptrs (segments * segment_groups * 4 == depth).
bool accepts_signed_a();

// C[m][n] for prepared A: u8 rows with stride lda >= round4(depth).
void qgemm_u8(const Job& j, const uint8_t* a, size_t lda, int8_t* c, size_t ldc);

// AMX tiles (cpu_isa.h kernel_amx()) for the implicit im2col: A is "virtual rows" v in [0, count);
// row v is j.segments runs of j.segment_groups * 4 u8 bytes, the first at base + v * row_stride,
// each next one j.segment_stride further. Virtual row v is row (v / vwidth) * valid + v % vwidth of
// C when v % vwidth < valid and is dropped otherwise (a convolution computed over the padded width,
// so that rows are equally spaced for the tile loads).
struct AmxRows {
  const uint8_t* base = nullptr;
  size_t row_stride = 0;
  int32_t count = 0, vwidth = 1, valid = 1;
};
// A block reads up to kAmxBlockRows - 1 rows past `count`; the caller's buffer has room for them
// (their bytes only reach dropped rows).
constexpr int32_t kAmxBlockRows = 32;
// Explicit A for the AMX tiles: kAmxChunkRows u8 rows of round64(K) bytes (zero past K) at a time.
// The last tile of a row then reads B up to 15 groups past the panel's end, which meet zero A
// bytes; packed weights used this way carry kAmxWeightSlack bytes after the last panel.
constexpr int32_t kAmxChunkRows = 64;
constexpr size_t kAmxWeightSlack = 1024;
inline int32_t round64(int32_t k) { return (k + 63) & ~63; }

// True when qgemm_amx can run `j`: kernel_amx(), row_ptrs-style segments of whole 64-byte tiles.
bool amx_accepts(const Job& j);
void qgemm_amx(const Job& j, const AmxRows& r, int8_t* c, size_t ldc);

}  // namespace qgemm_detail
}  // namespace neutron
