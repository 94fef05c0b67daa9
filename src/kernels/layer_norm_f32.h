// LayerNormalization on f32 (ONNX opset 17, the normalized output only): each of `rows` rows of
// `n` contiguous elements becomes (x - mean) / sqrt(var + epsilon) * scale + bias, with the
// population variance; mean and variance accumulate in double (deterministic, no cancellation
// trouble for the row sizes of transformers).
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

struct LayerNormParams {
  int64_t rows = 0, n = 0;
  float epsilon = 1e-5f;
};

// scale and bias hold n values each (bias may be null: 0).
void layer_norm_f32(const LayerNormParams& p, const float* x, const float* scale, const float* bias, float* y);

}  // namespace neutron
