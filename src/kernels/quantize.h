// QuantizeLinear (float -> int8/uint8/int16/int32) and DequantizeLinear (the reverse), per tensor
// or per axis. Semantics are those of kernels/requantize.h:
//   quantize    q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax), x / scale in double
//   dequantize  x = float(q - zero_point) * scale     (the subtraction is exact, as in ONNX Runtime)
// The tensor is viewed as [outer, axis, inner]; scale/zero point k applies along the axis. Per
// tensor is outer = 1, axis = 1, inner = element count.
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

struct QuantizeParams {
  const float* scales = nullptr;         // `axis` entries (1 per tensor)
  const int32_t* zero_points = nullptr;  // `axis` entries
  int64_t outer = 1;
  int64_t axis = 1;
  int64_t inner = 0;
  int32_t qmin = -128;  // clamp range of the integer type (quantize only)
  int32_t qmax = 127;
};

// T = int8_t, uint8_t, int16_t or int32_t.
template <typename T>
void quantize_linear(const QuantizeParams& p, const float* x, T* y);
template <typename T>
void dequantize_linear(const QuantizeParams& p, const T* x, float* y);

}  // namespace neutron
