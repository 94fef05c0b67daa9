#include "kernels/quantize.h"

#include <type_traits>

#include "kernels/cpu_isa.h"
#include "kernels/requantize_simd.h"

#include "kernels/requantize.h"

namespace neutron {

#if NEUTRON_X86_KERNELS
// quantize_real() on 8 values at once, for int8: the same double division (correctly rounded),
// round to nearest even, NaN -> the zero point, clamp.
NEUTRON_TARGET_AVX512 void quantize_row_int8_avx512(const float* x, int8_t* y, int64_t n, double scale, int32_t zp,
                                                   int32_t qmin, int32_t qmax) {
  const __m512d s = _mm512_set1_pd(scale), z = _mm512_set1_pd(double(zp));
  const __m512d lo = _mm512_set1_pd(double(qmin)), hi = _mm512_set1_pd(double(qmax));
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t left = n - i;
    const __mmask8 m = left >= 8 ? __mmask8(0xFF) : __mmask8((1u << left) - 1);
    __m512d q = _mm512_div_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i)), s);
    q = _mm512_roundscale_pd(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(q, q, _CMP_UNORD_Q), q, _mm512_setzero_pd());
    q = _mm512_min_pd(_mm512_max_pd(_mm512_add_pd(q, z), lo), hi);
    _mm_mask_storeu_epi8(y + i, m, _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(q)));
  }
}
#endif

template <typename T>
void quantize_linear(const QuantizeParams& p, const float* x, T* y) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t a = 0; a < p.axis; ++a) {
      const double scale = p.scales[a];
      const int32_t zp = p.zero_points[a];
      const int64_t base = (o * p.axis + a) * p.inner;
#if NEUTRON_X86_KERNELS
      if (std::is_same<T, int8_t>::value && kernel_isa() == KernelIsa::kAvx512) {
        quantize_row_int8_avx512(x + base, reinterpret_cast<int8_t*>(y + base), p.inner, scale, zp, p.qmin, p.qmax);
        continue;
      }
#endif
#if !NEUTRON_X86_KERNELS
      // Without a double-precision FPU (the Cortex-M33), the single-precision path: the same
      // integers (tests/kernels/quantize_f32_test.cc); x86 keeps the hardware double division.
      if (sizeof(T) <= 2) {
        const float s = p.scales[a];
        for (int64_t i = 0; i < p.inner; ++i) y[base + i] = T(quantize_real_f32(x[base + i], s, zp, p.qmin, p.qmax));
        continue;
      }
#endif
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
