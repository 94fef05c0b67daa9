#include "kernels/pool_f32.h"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "kernels/cpu_isa.h"
#include "kernels/f32_isa.h"

namespace neutron {
namespace {

// Taps k in [*lo, *hi) with 0 <= start + k * dilation < len.
inline void valid_taps(int64_t start, int64_t dilation, int64_t kernel, int64_t len, int64_t* lo, int64_t* hi) {
  int64_t l = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  int64_t h = start > len - 1 ? 0 : std::min(kernel, (len - 1 - start) / dilation + 1);
  *lo = std::min(l, kernel);
  *hi = std::max(h, *lo);
}

template <typename T>
constexpr T lowest() {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
}

}  // namespace

Error pool2d_prepare(const Pool2DParams& p) {
  if (p.batch < 0 || p.in_h < 1 || p.in_w < 1 || p.channels < 0 || p.out_h < 1 || p.out_w < 1 || p.kernel_h < 1 ||
      p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1 || p.pad_top < 0 ||
      p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0)
    return Error::InvalidArgument;
  return Error::Ok;
}

template <typename T>
void maxpool2d_nhwc(const Pool2DParams& p, const T* x, T* y) {
  if constexpr (std::is_same<T, float>::value) {  // vectorized per ISA (f32_simd_impl.h), same floats
    switch (kernel_isa()) {
#if defined(NEUTRON_F32_ISA_FILES)
      case KernelIsa::kAvx512: return f32_avx512::maxpool_nhwc(p, x, y);
      case KernelIsa::kAvx2: return f32_avx2::maxpool_nhwc(p, x, y);
#endif
      default: return f32_base::maxpool_nhwc(p, x, y);
    }
  }
  const int64_t C = p.channels;
  for (int64_t n = 0; n < p.batch; ++n) {
    const T* xb = x + n * p.in_h * p.in_w * C;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const int64_t ih0 = oh * p.stride_h - p.pad_top;
      int64_t kh_lo, kh_hi;
      valid_taps(ih0, p.dilation_h, p.kernel_h, p.in_h, &kh_lo, &kh_hi);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_left;
        int64_t kw_lo, kw_hi;
        valid_taps(iw0, p.dilation_w, p.kernel_w, p.in_w, &kw_lo, &kw_hi);
        T* yp = y + ((n * p.out_h + oh) * p.out_w + ow) * C;
        for (int64_t c = 0; c < C; ++c) yp[c] = lowest<T>();
        for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
          for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
            const T* xp = xb + ((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C;
            for (int64_t c = 0; c < C; ++c) yp[c] = std::max(yp[c], xp[c]);
          }
      }
    }
  }
}
template void maxpool2d_nhwc<float>(const Pool2DParams&, const float*, float*);
template void maxpool2d_nhwc<int8_t>(const Pool2DParams&, const int8_t*, int8_t*);
template void maxpool2d_nhwc<uint8_t>(const Pool2DParams&, const uint8_t*, uint8_t*);

void avgpool2d_nhwc_f32(const Pool2DParams& p, const float* x, float* y) {
  const int64_t C = p.channels;
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* xb = x + n * p.in_h * p.in_w * C;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const int64_t ih0 = oh * p.stride_h - p.pad_top;
      int64_t kh_lo, kh_hi;
      valid_taps(ih0, p.dilation_h, p.kernel_h, p.in_h, &kh_lo, &kh_hi);
      // Window positions inside the padded image (for count_include_pad).
      int64_t ph_lo, ph_hi;
      valid_taps(ih0 + p.pad_top, p.dilation_h, p.kernel_h, p.in_h + p.pad_top + p.pad_bottom, &ph_lo, &ph_hi);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_left;
        int64_t kw_lo, kw_hi;
        valid_taps(iw0, p.dilation_w, p.kernel_w, p.in_w, &kw_lo, &kw_hi);
        int64_t pw_lo, pw_hi;
        valid_taps(iw0 + p.pad_left, p.dilation_w, p.kernel_w, p.in_w + p.pad_left + p.pad_right, &pw_lo, &pw_hi);
        const int64_t count =
            p.count_include_pad ? (ph_hi - ph_lo) * (pw_hi - pw_lo) : (kh_hi - kh_lo) * (kw_hi - kw_lo);
        float* yp = y + ((n * p.out_h + oh) * p.out_w + ow) * C;
        for (int64_t c = 0; c < C; ++c) yp[c] = 0.0f;
        for (int64_t kh = kh_lo; kh < kh_hi; ++kh)
          for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
            const float* xp = xb + ((ih0 + kh * p.dilation_h) * p.in_w + iw0 + kw * p.dilation_w) * C;
            for (int64_t c = 0; c < C; ++c) yp[c] += xp[c];
          }
        // A true division, as numpy's mean; 0 / 0 = NaN for a window entirely in the padding, as
        // in the ONNX reference.
        const float divisor = float(count);
        for (int64_t c = 0; c < C; ++c) yp[c] /= divisor;
      }
    }
  }
}

template <typename T>
void global_maxpool_nhwc(int64_t batch, int64_t pixels, int64_t channels, const T* x, T* y) {
  for (int64_t n = 0; n < batch; ++n) {
    T* yp = y + n * channels;
    for (int64_t c = 0; c < channels; ++c) yp[c] = lowest<T>();
    for (int64_t i = 0; i < pixels; ++i) {
      const T* xp = x + (n * pixels + i) * channels;
      for (int64_t c = 0; c < channels; ++c) yp[c] = std::max(yp[c], xp[c]);
    }
  }
}
template void global_maxpool_nhwc<float>(int64_t, int64_t, int64_t, const float*, float*);
template void global_maxpool_nhwc<int8_t>(int64_t, int64_t, int64_t, const int8_t*, int8_t*);
template void global_maxpool_nhwc<uint8_t>(int64_t, int64_t, int64_t, const uint8_t*, uint8_t*);

void global_avgpool_nhwc_f32(int64_t batch, int64_t pixels, int64_t channels, const float* x, float* y) {
  for (int64_t n = 0; n < batch; ++n) {
    float* yp = y + n * channels;
    for (int64_t c = 0; c < channels; ++c) yp[c] = 0.0f;
    for (int64_t i = 0; i < pixels; ++i) {
      const float* xp = x + (n * pixels + i) * channels;
      for (int64_t c = 0; c < channels; ++c) yp[c] += xp[c];
    }
    const float divisor = float(pixels);
    for (int64_t c = 0; c < channels; ++c) yp[c] /= divisor;
  }
}

}  // namespace neutron
