// The float kernels of f32_simd_impl.h built for AVX2 (this file's compile flags, set in
// src/CMakeLists.txt on x86-64 only); empty elsewhere.
#if defined(NEUTRON_F32_ISA_FILES)
#define NEUTRON_F32_NS f32_avx2
#include "kernels/f32_simd_impl.h"
#endif
