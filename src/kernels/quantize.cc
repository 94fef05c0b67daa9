#include "kernels/quantize.h"

#include "kernels/requantize.h"

namespace neutron {

template <typename T>
void quantize_linear(const QuantizeParams& p, const float* x, T* y) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t a = 0; a < p.axis; ++a) {
      const double scale = p.scales[a];
      const int32_t zp = p.zero_points[a];
      const int64_t base = (o * p.axis + a) * p.inner;
      for (int64_t i = 0; i < p.inner; ++i) y[base + i] = T(quantize_real(x[base + i], scale, zp, p.qmin, p.qmax));
    }
}

template <typename T>
void dequantize_linear(const QuantizeParams& p, const T* x, float* y) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t a = 0; a < p.axis; ++a) {
      const float scale = p.scales[a];
      const int64_t zp = p.zero_points[a];
      const int64_t base = (o * p.axis + a) * p.inner;
      for (int64_t i = 0; i < p.inner; ++i) y[base + i] = float(int64_t(x[base + i]) - zp) * scale;
    }
}

template void quantize_linear<int8_t>(const QuantizeParams&, const float*, int8_t*);
template void quantize_linear<uint8_t>(const QuantizeParams&, const float*, uint8_t*);
template void quantize_linear<int16_t>(const QuantizeParams&, const float*, int16_t*);
template void quantize_linear<int32_t>(const QuantizeParams&, const float*, int32_t*);
template void dequantize_linear<int8_t>(const QuantizeParams&, const int8_t*, float*);
template void dequantize_linear<uint8_t>(const QuantizeParams&, const uint8_t*, float*);
template void dequantize_linear<int16_t>(const QuantizeParams&, const int16_t*, float*);
template void dequantize_linear<int32_t>(const QuantizeParams&, const int32_t*, float*);

}  // namespace neutron
