#include "kernels/batch_matmul_int8.h"

#include <climits>

#include "kernels/gemm_int8.h"

namespace neutron {
namespace {

constexpr size_t align16(size_t n) { return (n + 15) & ~size_t(15); }

struct Scratch {
  int16_t* packed;
  int32_t* bias;
  FixedMultiplier* multipliers;
  int16_t* rows;
};

Scratch carve(const BatchMatMulInt8Params& p, void* scratch) {
  uint8_t* s = static_cast<uint8_t*>(scratch);
  Scratch r;
  r.packed = reinterpret_cast<int16_t*>(s);
  s += align16(size_t(p.n) * size_t(p.k) * sizeof(int16_t));
  r.bias = reinterpret_cast<int32_t*>(s);
  s += align16(size_t(p.n) * sizeof(int32_t));
  r.multipliers = reinterpret_cast<FixedMultiplier*>(s);
  s += align16(size_t(p.n) * sizeof(FixedMultiplier));
  r.rows = reinterpret_cast<int16_t*>(s);
  return r;
}

// packed[n][k] = B[k][n] - zb, and bias[n] = -za * sum_k packed[n][k].
void pack_b(const BatchMatMulInt8Params& p, const int8_t* b, const Scratch& s) {
  const int32_t K = p.k, N = p.n, zb = p.b_zero_point;
  for (int32_t k = 0; k < K; ++k) {
    const int8_t* row = b + size_t(k) * size_t(N);
    for (int32_t n = 0; n < N; ++n) s.packed[size_t(n) * size_t(K) + size_t(k)] = int16_t(row[n] - zb);
  }
  fold_zero_point_into_bias(s.packed, K, N, nullptr, p.a_zero_point, s.bias);
}

}  // namespace

size_t batch_matmul_int8_scratch_bytes(const BatchMatMulInt8Params& p) {
  return align16(size_t(p.n) * size_t(p.k) * sizeof(int16_t)) + align16(size_t(p.n) * sizeof(int32_t)) +
         align16(size_t(p.n) * sizeof(FixedMultiplier)) + qgemm_int8_scratch_bytes(p.k);
}

void batch_matmul_int8(const BatchMatMulInt8Params& p, const int8_t* a, const int8_t* b, int8_t* y, void* scratch) {
  const Scratch s = carve(p, scratch);
  for (int32_t n = 0; n < p.n; ++n) s.multipliers[n] = p.multiplier;
  QGemmInt8Params g;
  g.rows = p.m;
  g.cols = p.n;
  g.depth = p.k;
  g.weights = s.packed;
  g.bias = s.bias;
  g.multipliers = s.multipliers;
  g.output_zero_point = p.output_zero_point;
  g.qmin = p.qmin;
  g.qmax = p.qmax;
  g.scratch = s.rows;
  const size_t out_step = size_t(p.m) * size_t(p.n);
  if (p.b_batch_stride == 0 && p.a_batch_stride == int64_t(p.m) * p.k && int64_t(p.m) * p.batch <= INT32_MAX) {
    // B shared by every batch: one GEMM over all of A's rows.
    pack_b(p, b, s);
    g.rows = p.m * p.batch;
    qgemm_int8(g, a, size_t(p.k), y, size_t(p.n));
    return;
  }
  for (int32_t i = 0; i < p.batch; ++i) {
    if (i == 0 || p.b_batch_stride != 0) pack_b(p, b + i * p.b_batch_stride, s);
    qgemm_int8(g, a + i * p.a_batch_stride, size_t(p.k), y + size_t(i) * out_step, size_t(p.n));
  }
}

}  // namespace neutron
