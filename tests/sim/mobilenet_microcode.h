// The layer shapes of MobileNetV1-0.25 at 128x128 (fixtures/mobilenet_v1_025/model_int8.onnx:
// 27 convolutions, global average pool, 256 -> 1000 classifier; shapes as `neutron dump
// --after-passes` prints them) lowered by hand to Neutron microcode for the timing model: NPU
// weight layouts padded to num_macs, activations ping-ponging in scratch, and optionally the
// weights of each layer prefetched from flash one layer ahead (double buffering in SRAM), as the
// compiler's fetch_constants_to_sram lowering does. Weight values are zero: timing never reads
// values.
#pragma once
#include <cstring>
#include <vector>

#include "npu/microcode_writer.h"

namespace neutron::testing {

struct MobileNetLayer {
  int in_hw, in_c, out_c, stride;
  bool depthwise;
};

inline std::vector<MobileNetLayer> mobilenet_v1_025_layers() {
  std::vector<MobileNetLayer> l;
  l.push_back({128, 3, 8, 2, false});
  const int cfg[][3] = {{8, 16, 1},   {16, 32, 2},  {32, 32, 1},  {32, 64, 2},  {64, 64, 1},
                        {64, 128, 2}, {128, 128, 1}, {128, 128, 1}, {128, 128, 1}, {128, 128, 1},
                        {128, 128, 1}, {128, 256, 2}, {256, 256, 1}};
  int hw = 64;
  for (const auto& c : cfg) {
    l.push_back({hw, c[0], c[0], c[2], true});
    hw /= c[2];
    l.push_back({hw, c[0], c[1], 1, false});
  }
  return l;
}

enum class WeightPlacement { kFlashNoPrefetch, kFlashPrefetch, kSram };

inline npu::MicrocodeImage mobilenet_v1_025_microcode(WeightPlacement placement, int macs = 8) {
  using namespace npu;
  auto up = [macs](int v) { return (v + macs - 1) / macs * macs; };
  MicrocodeWriter w;
  const uint32_t ping = 0, pong = 64 * 64 * 16;  // largest activation: 64x64x16
  const auto layers = mobilenet_v1_025_layers();
  uint32_t cur = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 128, 128, 3}, 0);
  struct Blob {
    uint32_t offset, size;
  };
  std::vector<Blob> blobs;
  std::vector<ConvArgs> convs;
  std::vector<bool> dw;
  bool in_ping = false;
  for (const MobileNetLayer& l : layers) {
    const int out_hw = l.in_hw / l.stride;
    const uint32_t out = w.add_tensor(Region::kScratch, 0, in_ping ? pong : ping, ElemType::kInt8,
                                      {1, out_hw, out_hw, l.out_c}, 0);
    in_ping = !in_ping;
    ConvArgs a{};
    a.input = cur;
    a.output = out;
    const int k = l.depthwise ? 3 : (l.in_c == 3 ? 3 : 1);
    a.kernel_h = a.kernel_w = k;
    a.stride_h = a.stride_w = l.stride;
    a.dilation_h = a.dilation_w = 1;
    a.pad_top = a.pad_left = k / 2;
    a.pad_bottom = a.pad_right = k / 2;
    a.groups = l.depthwise ? l.in_c : 1;
    a.in_c_padded = l.depthwise ? 1 : up(l.in_c);
    a.out_c_padded = up(l.out_c);
    a.act_min = 0;
    a.act_max = 127;
    a.weights_offset = w.reserve_weights(size_t(a.out_c_padded) * k * k * a.in_c_padded);
    a.bias_offset = w.reserve_weights(size_t(l.out_c) * 4);
    a.multipliers_offset = w.reserve_weights(size_t(l.out_c) * 8);
    for (int c = 0; c < l.out_c; ++c) {
      const int32_t m[2] = {1 << 30, 20};
      std::memcpy(w.weights_at(a.multipliers_offset + uint32_t(c) * 8), m, 8);
    }
    // Weights, bias and multipliers are consecutive: one prefetch range per layer.
    blobs.push_back({a.weights_offset, uint32_t(a.multipliers_offset + size_t(l.out_c) * 8 - a.weights_offset)});
    convs.push_back(a);
    dw.push_back(l.depthwise);
    cur = out;
  }
  // Global average pool, flatten (copy), classifier.
  const uint32_t pooled = w.add_tensor(Region::kScratch, 0, in_ping ? pong : ping, ElemType::kInt8, {1, 1, 1, 256}, 0);
  const uint32_t flat = w.add_tensor(Region::kScratch, 0, in_ping ? ping : pong, ElemType::kInt8, {1, 1, 1, 256}, 0);
  const uint32_t logits = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 1, 1, 1000}, 0);
  FullyConnectedArgs f{};
  f.input = flat;
  f.output = logits;
  f.rows = 1;
  f.in_features = 256;
  f.out_features = 1000;
  f.in_features_padded = up(256);
  f.out_features_padded = up(1000);
  f.per_channel = 1;
  f.act_min = -128;
  f.act_max = 127;
  const uint32_t fbytes = uint32_t(f.in_features_padded * f.out_features_padded);
  f.weights_offset = w.reserve_weights(fbytes);
  f.bias_offset = w.reserve_weights(1000 * 4);
  f.multipliers_offset = w.reserve_weights(1000 * 8);
  for (int c = 0; c < 1000; ++c) {
    const int32_t m[2] = {1 << 30, 20};
    std::memcpy(w.weights_at(f.multipliers_offset + uint32_t(c) * 8), m, 8);
  }
  blobs.push_back({f.weights_offset, uint32_t(f.multipliers_offset + 1000 * 8 - f.weights_offset)});

  // Double-buffered prefetch: two SRAM halves, each as large as the largest blob.
  uint32_t half = 0;
  for (const Blob& b : blobs) half = b.size > half ? b.size : half;
  half = uint32_t(npu::align16(half));
  const bool prefetch = placement == WeightPlacement::kFlashPrefetch;
  auto issue = [&](size_t i) {
    w.append(Opcode::kPrefetch, PrefetchArgs{blobs[i].offset, blobs[i].size, uint32_t(i % 2) * half, uint32_t(i % 2)});
  };
  auto wait = [&](size_t i) { w.append(Opcode::kWaitPrefetch, WaitPrefetchArgs{uint32_t(i % 2)}); };
  if (prefetch) issue(0);
  for (size_t i = 0; i < convs.size(); ++i) {
    if (prefetch) {
      wait(i);
      issue(i + 1);
    }
    w.append(dw[i] ? Opcode::kDepthwiseConv2D : Opcode::kConv2D, convs[i]);
  }
  PoolArgs p{};
  p.input = cur;
  p.output = pooled;
  p.multiplier = 1 << 30;
  p.shift = 24;
  p.act_min = -128;
  p.act_max = 127;
  w.append(Opcode::kGlobalAvgPool, p);
  w.append(Opcode::kCopy, CopyArgs{pooled, flat});
  if (prefetch) wait(convs.size());
  w.append(Opcode::kFullyConnected, f);
  w.set_scratch_size(2 * 64 * 64 * 16);
  w.set_sram_scratch_size(prefetch ? 2 * half : 0);
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  auto img = w.finish();
  return img.ok() ? std::move(img).value() : npu::MicrocodeImage();
}

}  // namespace neutron::testing
