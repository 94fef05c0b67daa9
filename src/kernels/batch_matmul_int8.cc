#include "kernels/batch_matmul_int8.h"

#include <climits>

#include "kernels/gemm_int8.h"
#include "kernels/gemm_int8_impl.h"

namespace neutron {
namespace {

using qgemm_detail::kTileRows;
using qgemm_detail::round4;

constexpr size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

struct Scratch {
  int8_t* packed;
  int32_t* bias;
  FixedMultiplier* multipliers;
  int32_t* row_offset;
  uint8_t* tile;
};

Scratch carve(const BatchMatMulInt8Params& p, void* scratch) {
  uint8_t* s = static_cast<uint8_t*>(scratch);
  Scratch r;
  r.packed = reinterpret_cast<int8_t*>(s);
  s += align64(qgemm_detail::packed_bytes(p.k, p.n));
  r.bias = reinterpret_cast<int32_t*>(s);
  s += align64(size_t(p.n) * sizeof(int32_t));
  r.multipliers = reinterpret_cast<FixedMultiplier*>(s);
  s += align64(size_t(p.n) * sizeof(FixedMultiplier));
  r.row_offset = reinterpret_cast<int32_t*>(s);
  s += align64(size_t(kTileRows) * sizeof(int32_t));
  r.tile = s;
  return r;
}

// Packs B raw; bias[n] = (za + 128) * (K * zb - sum_k B[k][n]).
void pack_b(const BatchMatMulInt8Params& p, const int8_t* b, const Scratch& s) {
  const int32_t K = p.k, N = p.n;
  qgemm_detail::pack_panels(K, N, [&](int32_t n, int32_t k) { return b[size_t(k) * size_t(N) + size_t(n)]; }, s.packed);
  qgemm_detail::column_sums(s.packed, K, N, s.bias);
  const uint32_t za = uint32_t(p.a_zero_point + 128), kzb = uint32_t(K) * uint32_t(p.b_zero_point);
  for (int32_t n = 0; n < N; ++n) s.bias[n] = int32_t(za * (kzb - uint32_t(s.bias[n])));
}

// Y = A * B for `rows` rows of A (row stride K).
void multiply(const BatchMatMulInt8Params& p, const Scratch& s, qgemm_detail::Job j, const int8_t* a, int32_t rows,
              int8_t* y) {
  const int32_t K = p.k, Kp = round4(K);
  const uint32_t zb = uint32_t(p.b_zero_point);
  for (int32_t m0 = 0; m0 < rows; m0 += kTileRows) {
    j.rows = rows - m0 < kTileRows ? rows - m0 : kTileRows;
    for (int32_t r = 0; r < j.rows; ++r) {
      uint8_t* row = s.tile + size_t(r) * size_t(Kp);
      qgemm_detail::to_u8_row(a + size_t(m0 + r) * size_t(K), row, K);
      uint32_t sum = 0;
      for (int32_t k = 0; k < K; ++k) sum += row[k];
      s.row_offset[r] = int32_t(0u - zb * sum);
    }
    qgemm_detail::qgemm_u8(j, s.tile, size_t(Kp), y + size_t(m0) * size_t(p.n), size_t(p.n));
  }
}

}  // namespace

size_t batch_matmul_int8_scratch_bytes(const BatchMatMulInt8Params& p) {
  return align64(qgemm_detail::packed_bytes(p.k, p.n)) + align64(size_t(p.n) * sizeof(int32_t)) +
         align64(size_t(p.n) * sizeof(FixedMultiplier)) + align64(size_t(kTileRows) * sizeof(int32_t)) +
         size_t(kTileRows) * size_t(round4(p.k));
}

void batch_matmul_int8(const BatchMatMulInt8Params& p, const int8_t* a, const int8_t* b, int8_t* y, void* scratch) {
  const Scratch s = carve(p, scratch);
  for (int32_t n = 0; n < p.n; ++n) s.multipliers[n] = p.multiplier;
  qgemm_detail::Job j;
  j.cols = p.n;
  j.depth = p.k;
  j.weights = s.packed;
  j.bias = s.bias;
  j.multipliers = s.multipliers;
  j.output_zero_point = p.output_zero_point;
  j.qmin = p.qmin;
  j.qmax = p.qmax;
  j.row_offset = s.row_offset;
  const size_t out_step = size_t(p.m) * size_t(p.n);
  if (p.b_batch_stride == 0 && p.a_batch_stride == int64_t(p.m) * p.k && int64_t(p.m) * p.batch <= INT32_MAX) {
    // B shared by every batch: one GEMM over all of A's rows.
    pack_b(p, b, s);
    multiply(p, s, j, a, p.m * p.batch, y);
    return;
  }
  for (int32_t i = 0; i < p.batch; ++i) {
    if (i == 0 || p.b_batch_stride != 0) pack_b(p, b + i * p.b_batch_stride, s);
    multiply(p, s, j, a + i * p.a_batch_stride, p.m, y + size_t(i) * out_step);
  }
}

}  // namespace neutron
