#include "smoke.h"

#include <cstddef>
#include <cstdint>

#include "kernels/conv_int8.h"
#include "kernels/requantize.h"

namespace neutron::fw {
namespace {

struct Rng {  // 32-bit LCG (Numerical Recipes): the same sequence on every target
  uint32_t s;
  uint32_t next() { return s = s * 1664525u + 1013904223u; }
  int8_t i8() { return int8_t(next() >> 24); }
  int32_t range(int32_t lo, int32_t hi) { return lo + int32_t((next() >> 8) % uint32_t(hi - lo + 1)); }
};

struct Fnv {
  uint32_t h = 2166136261u;
  void byte(uint8_t b) { h = (h ^ b) * 16777619u; }
  void bytes(const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) byte(static_cast<const uint8_t*>(p)[i]);
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) byte(uint8_t(v >> (8 * i)));
  }
};

constexpr int32_t kH = 12, kW = 12, kC = 16, kOutC = 24, kK = 3;
constexpr size_t kMaxElems = size_t(kH) * kW * kOutC;

int8_t g_in[size_t(kH) * kW * kC];
int8_t g_out[kMaxElems];
int8_t g_w[size_t(kOutC) * kC * kK * kK];
int32_t g_bias[kOutC];
int32_t g_bias_packed[kOutC];
int16_t g_packed[size_t(kOutC) * kC * kK * kK];
FixedMultiplier g_mult[kOutC];
alignas(16) uint8_t g_scratch[16384];

// Requantization: 64 multipliers in [2^-12, 4), 32 accumulators each.
void smoke_requantize(Rng* rng, Fnv* h) {
  for (int i = 0; i < 64; ++i) {
    const double real = double(rng->next() >> 8) / double(1u << 24) * 4.0 + 1.0 / 4096.0;
    FixedMultiplier m;
    if (!quantize_multiplier(real, &m)) m = FixedMultiplier{};
    h->u32(uint32_t(m.multiplier));
    h->u32(uint32_t(m.shift));
    const int32_t zp = rng->range(-128, 127);
    for (int j = 0; j < 32; ++j) {
      const int32_t acc = int32_t(rng->next()) >> rng->range(8, 24);
      h->byte(uint8_t(requantize_to_int8(acc, m, zp, -100, 120)));
    }
  }
}

// One convolution on fresh random weights/bias/multipliers; returns an error text or null.
const char* smoke_conv(Conv2DInt8Params p, Rng* rng, Fnv* h, uint32_t* macs) {
  conv2d_int8_choose_path(&p);
  const int32_t cin_g = p.in_c / p.groups;
  const size_t wn = size_t(p.out_c) * size_t(cin_g) * size_t(p.kernel_h) * size_t(p.kernel_w);
  if (wn > sizeof(g_w) || size_t(p.out_c) > kOutC) return "conv weights exceed the static buffers";
  if (conv2d_int8_packed_weights_size(p) > sizeof(g_packed) / sizeof(g_packed[0]))
    return "packed conv weights exceed the static buffer";
  if (conv2d_int8_scratch_bytes(p) > sizeof(g_scratch)) return "conv scratch exceeds the static buffer";
  if (size_t(p.out_h) * size_t(p.out_w) * size_t(p.out_c) > kMaxElems) return "conv output exceeds the buffer";
  for (size_t i = 0; i < wn; ++i) g_w[i] = rng->i8();
  for (int32_t oc = 0; oc < p.out_c; ++oc) {
    g_bias[oc] = rng->range(-2000, 2000);
    if (!quantize_multiplier(0.0005 + double(rng->range(0, 1000)) * 1e-5, &g_mult[oc])) return "bad multiplier";
  }
  conv2d_int8_pack(p, g_w, g_bias, g_packed, g_bias_packed);
  p.weights = g_packed;
  p.bias = g_bias_packed;
  p.multipliers = g_mult;
  conv2d_int8_nhwc(p, g_in, g_out, g_scratch);
  h->bytes(g_out, size_t(p.out_h) * size_t(p.out_w) * size_t(p.out_c));
  *macs += uint32_t(p.out_h) * uint32_t(p.out_w) * uint32_t(p.out_c) * uint32_t(cin_g) * uint32_t(p.kernel_h) *
           uint32_t(p.kernel_w);
  return nullptr;
}

}  // namespace

SmokeResult run_smoke() {
  SmokeResult r;
  Rng rng{12345u};
  Fnv h;
  smoke_requantize(&rng, &h);
  for (int8_t& v : g_in) v = rng.i8();

  Conv2DInt8Params base;
  base.in_h = kH;
  base.in_w = kW;
  base.in_c = kC;
  base.input_zero_point = -3;
  base.output_zero_point = 5;

  Conv2DInt8Params c3 = base;  // 3x3, stride 1, pad 1, ReLU-like range: im2col path
  c3.out_h = kH;
  c3.out_w = kW;
  c3.out_c = kOutC;
  c3.kernel_h = c3.kernel_w = kK;
  c3.pad_top = c3.pad_left = 1;
  c3.qmin = 5;

  Conv2DInt8Params dw = base;  // depthwise 3x3, stride 2, pad 1
  dw.out_h = kH / 2;
  dw.out_w = kW / 2;
  dw.out_c = kC;
  dw.groups = kC;
  dw.kernel_h = dw.kernel_w = kK;
  dw.stride_h = dw.stride_w = 2;
  dw.pad_top = dw.pad_left = 1;

  Conv2DInt8Params pw = base;  // 1x1 pointwise: reads input rows directly
  pw.out_h = kH;
  pw.out_w = kW;
  pw.out_c = kOutC;

  const Conv2DInt8Params convs[] = {c3, dw, pw};
  for (const Conv2DInt8Params& p : convs) {
    r.error = smoke_conv(p, &rng, &h, &r.macs);
    if (r.error != nullptr) return r;
  }
  r.checksum = h.h;
  return r;
}

}  // namespace neutron::fw
