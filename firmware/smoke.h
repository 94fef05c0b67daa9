// The firmware placeholder's workload, shared by firmware/main.cc (Cortex-M33 under QEMU) and the
// host test helper (tests/firmware/smoke_host.cc), so the expected checksum comes from the same
// kernel calls on the host: fixed pseudo-random data through quantize_multiplier /
// requantize_to_int8 (kernels/requantize.h) and three int8 convolutions (kernels/conv_int8.h:
// im2col 3x3, depthwise 3x3 stride 2, pointwise 1x1). No heap: every buffer is static.
#pragma once
#include <cstdint>

namespace neutron::fw {

struct SmokeResult {
  uint32_t checksum = 0;     // FNV-1a over every output byte and multiplier
  uint32_t macs = 0;         // multiply-accumulates of the three convolutions
  const char* error = nullptr;  // set when a buffer is too small for a kernel's request
};

SmokeResult run_smoke();

}  // namespace neutron::fw
