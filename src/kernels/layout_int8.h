// NCHW <-> NHWC copies of int8 activations, for int8 kernels bound to channels-first tensors
// (the layout pass normally makes them channels-last; these keep unconverted graphs runnable).
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

inline void nchw_to_nhwc_int8(const int8_t* in, int8_t* out, int64_t n, int64_t c, int64_t hw) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const int8_t* src = in + (b * c + ch) * hw;
      int8_t* dst = out + b * c * hw + ch;
      for (int64_t i = 0; i < hw; ++i) dst[i * c] = src[i];
    }
}

inline void nhwc_to_nchw_int8(const int8_t* in, int8_t* out, int64_t n, int64_t c, int64_t hw) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const int8_t* src = in + b * c * hw + ch;
      int8_t* dst = out + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) dst[i] = src[i * c];
    }
}

}  // namespace neutron
