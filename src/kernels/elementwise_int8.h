// Quantized int8 binary elementwise ops with numpy broadcasting (BroadcastParams from
// elementwise.h): Add, Sub, Mul, Max, Min. a, b, out are int8 with per-tensor (scale, zero point).
//
//   Add/Sub  out = clamp(zo + round_half_even(Ma * (a - za) +- Mb * (b - zb)), qmin, qmax)
//            Ma = sa / so, Mb = sb / so as one FixedMultiplierPair (one shared shift, one rounding
//            of the exact int64 sum): two 32x32->64 multiplies, an add and the rounding shift per
//            element (no per-call tables: a kernel call's state stays small on the device).
//   Mul      out = clamp(zo + round_half_even((a - za) * (b - zb) * M), qmin, qmax), M = sa*sb/so
//   Max/Min  each input is quantized to the output parameters first (a 256-entry table computed
//            exactly in double: quantize_real((q - z) * s, so, zo)), then max/min. Quantization is
//            monotone, so this equals quantizing max/min of the real values.
//   Div      out = clamp(zo + round_half_even(M * (a - za) / (b - zb)), qmin, qmax), M = sa/(sb*so)
//            as FixedMultiplier m / 2^shift: the quotient m*(a-za) / ((b-zb) << shift) is rounded
//            by exact int64 division (no reciprocal approximation). b - zb = 0 (division by a real
//            zero) saturates to the sign of a - za: qmax for > 0, qmin for < 0, clamp(zo) for 0/0.
// [qmin, qmax] is the fused activation range (activation_range_int8), [-128, 127] without one.
#pragma once
#include <cstdint>

#include "kernels/elementwise.h"
#include "kernels/requantize.h"

namespace neutron {

enum class BinaryInt8Op : uint8_t { Add, Sub, Mul, Max, Min, Div };

struct BinaryInt8Params {
  BinaryInt8Op op = BinaryInt8Op::Add;
  int32_t a_zero_point = 0, b_zero_point = 0, output_zero_point = 0;
  int32_t qmin = -128, qmax = 127;
  // Add/Sub: Ma and Mb (Mb negated for Sub) of the multiplier pair, and its shift.
  int64_t multiplier_a = 0, multiplier_b = 0;
  int32_t shift = 1;
  // Max/Min: each input value q (index q + 128) quantized to the output parameters.
  int8_t table_a[256] = {};
  int8_t table_b[256] = {};
  FixedMultiplier multiplier;  // Mul: sa*sb/so; Div: sa/(sb*so)
};

// Fills the tables and multipliers. Returns false when a multiplier is outside
// quantize_multiplier()'s domain (the caller reports NotSupported with the scales).
bool prepare_binary_int8(BinaryInt8Op op, double a_scale, int32_t a_zero_point, double b_scale, int32_t b_zero_point,
                         double out_scale, int32_t out_zero_point, int32_t qmin, int32_t qmax, BinaryInt8Params* p);

void binary_int8(const BinaryInt8Params& p, const BroadcastParams& bp, const int8_t* a, const int8_t* b, int8_t* out);

}  // namespace neutron
