// THE integer semantics of the project, defined once. CPU int8 kernels, the NPU simulator, the
// compiler and the tests all call these functions; docs/integer-semantics.md explains them.
//
//   real value          r = scale * (q - zero_point)
//   int8 op             acc = sum of int32 products of zero-point-corrected int8 operands
//                       (+ int32 bias quantized with scale s_in * s_w, zero point 0)
//   requantization      q_out = clamp(zero_point_out + round_half_even(acc * M), qmin, qmax)
//                       with M = s_in * s_w / s_out held as a fixed-point multiplier m * 2^-shift,
//                       m in [2^30, 2^31), shift in [1, 62]; acc * m is exact in int64 and is
//                       rounded ONCE, half to even (as ONNX QuantizeLinear rounds).
//   float -> int8       q = clamp(round_half_even(x / scale) + zero_point), x / scale in double.
//
// The only difference from an exact evaluation in real numbers is the 31-bit multiplier, so a
// result can differ by 1 LSB only when acc * M lies within about 2^-31 relative of a .5 tie.
#pragma once
#include <cmath>
#include <cstdint>

namespace neutron {

struct FixedMultiplier {
  int32_t multiplier = 0;  // m in [2^30, 2^31), or 0 for a zero real multiplier
  int32_t shift = 1;       // right shift in [1, 62]
};

constexpr int kMinShift = 1;
constexpr int kMaxShift = 62;

// Converts a real multiplier to fixed point. Returns false when `real` is negative, not finite, or
// outside what a shift in [1, 62] can express (about [2^-32, 2^30)); callers report NotSupported.
bool quantize_multiplier(double real, FixedMultiplier* out);

// round_half_even(value / 2^shift) for shift in [1, 62]. Exact for any int64 value.
inline int64_t round_shift_half_even(int64_t value, int shift) {
  const int64_t floor_q = value >> shift;  // arithmetic shift: floor division
  const int64_t rem = value - (floor_q * (int64_t(1) << shift));
  const int64_t half = int64_t(1) << (shift - 1);
  return floor_q + ((rem > half) | ((rem == half) & (floor_q & 1)));
}

// round_half_even(acc * M) for a 32-bit accumulator. acc * m < 2^62, so no overflow.
inline int64_t apply_multiplier(int32_t acc, FixedMultiplier m) {
  return round_shift_half_even(int64_t(acc) * m.multiplier, m.shift);
}

inline int32_t clamp_i32(int64_t v, int32_t lo, int32_t hi) { return int32_t(v < lo ? lo : (v > hi ? hi : v)); }

// The requantization step of every int8 op: accumulator -> output int8 in [qmin, qmax].
inline int8_t requantize_to_int8(int32_t acc, FixedMultiplier m, int32_t out_zero_point, int32_t qmin = -128,
                                 int32_t qmax = 127) {
  return int8_t(clamp_i32(apply_multiplier(acc, m) + out_zero_point, qmin, qmax));
}

// Two real multipliers sharing one shift, for ops that add two rescaled operands (int8 Add/Sub):
//   round_half_even(xa * Ma + xb * Mb) ~= round_shift_half_even(xa * ma + xb * mb, shift)
// The larger multiplier is held exactly as quantize_multiplier() holds it (m in [2^30, 2^31)); the
// smaller one uses the same shift, so its absolute error is at most 2^-(shift+1). The sum is
// rounded ONCE. Requires |xa|, |xb| <= 2^30 (int8 operands minus zero points are within +-255).
struct FixedMultiplierPair {
  int32_t multiplier_a = 0;  // in [0, 2^31)
  int32_t multiplier_b = 0;  // in [0, 2^31)
  int32_t shift = 1;         // in [1, 62]
};

// Returns false when either multiplier is negative or not finite, or the larger one is outside
// quantize_multiplier()'s domain.
bool quantize_multiplier_pair(double real_a, double real_b, FixedMultiplierPair* out);

inline int64_t apply_multiplier_pair(int32_t xa, int32_t xb, FixedMultiplierPair m) {
  return round_shift_half_even(int64_t(xa) * m.multiplier_a + int64_t(xb) * m.multiplier_b, m.shift);
}

// float -> int8/uint8 quantization (QuantizeLinear), computed in double.
inline int32_t quantize_real(double x, double scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  double q = std::nearbyint(x / scale);  // default rounding mode: to nearest, ties to even
  if (!(q == q)) q = 0;                  // NaN maps to the zero point
  q += zero_point;
  return int32_t(q < qmin ? qmin : (q > qmax ? qmax : q));
}
// quantize_real() for float operands in single precision, for CPUs whose FPU has no double (the
// Cortex-M33: a double division is a ~1,000-instruction library call). The float quotient t is
// within a quarter of an integer of x / scale (|t| < 2^22), so its nearest integer k is off by at
// most one; fma(k +- 0.5, scale, -x) is (k +- 0.5) * scale - x rounded once, so its sign is the
// exact comparison of x / scale with k +- 0.5 (scale > 0), and one step fixes k, ties to even.
// The same integer as quantize_real(x, scale, ...) for every x and scale; what the float path
// cannot bound goes to it: scale not in [2^-100, 3.4e38] (below, a nonzero fma result could
// underflow to 0 and lose its sign; above it, a multiple of 2^-149 it is exact), |x| >= 2^100,
// |t| >= 2^22.
inline int32_t quantize_real_f32(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  if (!(scale >= 7.88860905e-31f) || !(scale <= 3.4e38f) || !(std::fabs(x) < 1.2676506e30f))
    return quantize_real(double(x), double(scale), zero_point, qmin, qmax);
  const float t = x / scale;
  if (!(std::fabs(t) < 4194304.0f)) return quantize_real(double(x), double(scale), zero_point, qmin, qmax);
  float k = std::nearbyint(t);
  const float above = std::fma(k + 0.5f, scale, -x);  // < 0: x / scale > k + 0.5
  const float below = std::fma(k - 0.5f, scale, -x);  // > 0: x / scale < k - 0.5
  const bool odd = (int32_t(k) & 1) != 0;
  if (above < 0.0f || (above == 0.0f && odd)) {
    k += 1.0f;
  } else if (below > 0.0f || (below == 0.0f && odd)) {
    k -= 1.0f;
  }
  const int64_t q = int64_t(k) + zero_point;
  return int32_t(q < qmin ? qmin : (q > qmax ? qmax : q));
}

inline int8_t quantize_to_int8(double x, double scale, int32_t zero_point) {
  return int8_t(quantize_real(x, scale, zero_point, -128, 127));
}

// The int8 range a fused activation keeps: [act_min, act_max] in real numbers -> [qmin, qmax].
inline void activation_range_int8(double act_min, double act_max, double scale, int32_t zero_point, int32_t* qmin,
                                  int32_t* qmax) {
  *qmin = std::isfinite(act_min) ? quantize_real(act_min, scale, zero_point, -128, 127) : -128;
  *qmax = std::isfinite(act_max) ? quantize_real(act_max, scale, zero_point, -128, 127) : 127;
}

}  // namespace neutron
