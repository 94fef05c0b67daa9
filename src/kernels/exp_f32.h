// A vectorizable float32 exp for the hot loops (Sigmoid, Exp, Softmax): Cephes' expf
// (range reduction x = n*ln2 + r with ln2 split in two, degree-6 polynomial for exp(r)) written
// without libm calls, float->int conversions or branches with arithmetic in them, so that GCC vectorizes the loops that
// call it. Relative error below 1.5 float ulps over the finite range (checked against std::exp in
// tests/kernels/unary_f32_test.cc); +inf above 88.72, gradual underflow to 0 below -87.3, NaN in
// gives NaN out (it flows through the polynomial).
#pragma once
#include <cstdint>
#include <cstring>

namespace neutron {

inline float exp_f32(float x) {
  // Above ln(FLT_MAX) = 88.72 the result must be +inf: clamping to 89 keeps n <= 128 and makes
  // p * 2^n overflow to +inf by itself. Below -103.97 the result rounds to 0.
  const float hi = 89.f, lo = -103.9720840454f;
  // Quiet comparisons (no FP exception on NaN) so GCC may turn the selects into vector blends.
  float c = __builtin_isless(x, lo) ? lo : x;
  c = __builtin_isgreater(c, hi) ? hi : c;
  // n = round(c / ln2) with the 1.5 * 2^23 trick; the integer n is read from t's low bits.
  const float magic = 12582912.f;
  const float t = c * 1.44269504088896341f + magic;
  const float n = t - magic;
  int32_t tb;
  std::memcpy(&tb, &t, 4);
  const int32_t ni = tb - 0x4B400000;  // bits of `magic`
  float r = c - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  // 2^n in two factors so that n in [-150, 128] stays representable.
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  // Unsigned shifts: for a NaN input ni is garbage and must not overflow a signed shift.
  const uint32_t b1 = uint32_t(n1 + 127) << 23, b2 = uint32_t(n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  return p * s1 * s2;
}

}  // namespace neutron
