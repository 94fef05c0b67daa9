// Quantized int8 unary ops through a 256-entry lookup table built once from the exact double
// function: table[q] = quantize_real(f(s_in * (q - z_in)), s_out, z_out). The table IS the QDQ
// meaning of the op, so every unary op (Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
// Tanh, Abs, Neg, Exp, Log, Sqrt, Reciprocal; see unary_f32.h for each f) is exact by
// construction. NaN results (Log or Sqrt of a negative) quantize to the zero point, +-inf
// saturate.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/unary_f32.h"

namespace neutron {

// f(x) in double, with the attributes of `p` (alpha, beta, min, max).
double unary_reference_f64(const UnaryParams& p, double x);

// table[q + 128] for q in [-128, 127]. [qmin, qmax] clamps the result further (fused activation).
void build_unary_int8_table(const UnaryParams& p, double in_scale, int32_t in_zero_point, double out_scale,
                            int32_t out_zero_point, int8_t table[256], int32_t qmin = -128, int32_t qmax = 127);

// y[i] = table[x[i] + 128]. x and y may be the same buffer.
void unary_int8_lut(const int8_t table[256], const int8_t* x, int8_t* y, size_t n);

// One table per channel of one axis: y[i] = tables[(i / inner) % channels][x[i] + 128] (PRelu's
// per-channel slopes). x and y may be the same buffer.
void channel_int8_lut(const int8_t* tables, int64_t channels, int64_t inner, const int8_t* x, int8_t* y, size_t n);

}  // namespace neutron
