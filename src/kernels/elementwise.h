// Binary elementwise kernels with numpy broadcasting: Add, Sub, Mul, Div, Max, Min, PRelu, Pow.
//
// prepare_broadcast() turns the two operand shapes into a collapsed iteration space once:
// operands are right-aligned (numpy rules), output dims of size 1 are dropped and adjacent dims
// with the same broadcast pattern are merged. Every case then runs as an odometer over the outer
// dims around one contiguous inner loop of three kinds: vector-vector, scalar-vector or
// vector-scalar. The common cases therefore cost no index arithmetic per element:
//   same shape            -> rank 1, vector-vector
//   scalar operand        -> rank 1, scalar-vector / vector-scalar
//   per-channel, NHWC     -> [N*H*W, C]: outer odometer, inner vector-vector
//   per-channel, NCHW     -> [N, C, H*W]: inner vector-scalar
//
// Integer semantics (no quantization here; quantized int8 has its own kernels): Add, Sub and Mul
// wrap around (two's complement), Div truncates toward zero, Pow multiplies with wrap-around (a
// negative exponent truncates 1 / a^|b|). Division by zero gives 0 and
// INT_MIN / -1 wraps, so no input can trap.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/span.h"

namespace neutron {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, Max, Min, PRelu, Pow };

constexpr int kMaxBroadcastRank = 8;

struct BroadcastParams {
  int rank = 0;                          // collapsed rank; 0 means one element (all dims 1)
  int64_t out_dims[kMaxBroadcastRank];   // collapsed output dims, outermost first
  int64_t a_strides[kMaxBroadcastRank];  // element strides of A per collapsed dim (0 = broadcast)
  int64_t b_strides[kMaxBroadcastRank];
  int64_t out_count = 0;  // number of output elements
};

// Fills `p` for operands of shapes `a` and `b` (any ranks <= kMaxBroadcastRank). Returns false if
// the shapes do not broadcast or the rank is too large.
bool prepare_broadcast(Span<const int64_t> a, Span<const int64_t> b, BroadcastParams* p);

// out = op(a, b) elementwise with broadcasting. T is float, int8_t, uint8_t, int16_t, int32_t or
// int64_t. PRelu computes a < 0 ? a * b : a (b is the slope).
template <typename T>
void binary_broadcast(BinaryOp op, const BroadcastParams& p, const T* a, const T* b, T* out);

// Float Add or Sub of two operands of the same shape (n elements) with a fused activation (the
// fuse-activation pass folds a following Relu/Clip into the node): v = a op b, then if relu
// v > 0 ? v : 0 (NaN and -0 give +0, as the Relu op), then the Clip op's clamp to [lo, hi] (an
// infinite bound clamps nothing). The same floats as the separate ops; vectorized per ISA at run
// time (cpu_isa.h). op must be Add or Sub.
void binary_f32_act(BinaryOp op, int64_t n, const float* a, const float* b, float* out, bool relu, float lo,
                    float hi);

}  // namespace neutron
