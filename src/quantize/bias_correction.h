// Bias correction (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
// Correction", ICCV 2019, section 4.2; here the empirical variant, with calibration statistics).
//
// Quantizing the weights W of a linear layer y = W x + b to Wq = dequant(quant(W)) shifts the
// expected output by (Wq - W) E[x], one constant per output channel: a systematic error that
// rounding noise does not average away. It is removed by moving it into the float bias before
// the bias is quantized:
//
//   b' = b + W E[x] - Wq E[xq]
//
// E[x] is the mean of the float model's input of the layer and E[xq] that of the quantized
// model's (equal to E[x] in the "float statistics" form, where the correction is -(Wq - W) E[x];
// the empirical form measures E[xq] on the quantized graph and so also removes the mean shift that
// the quantization of the layers upstream causes). Then E[y'] = E[y] over the calibration set.
//
// The means are per input element as the layer reads it: for Conv, one value per input channel
// and kernel tap, the mean over samples, batch and output positions of the input under that tap
// (E over the im2col patches, zero padding counted as 0, so that border taps are exact); for Gemm
// and MatMul, one value per input feature (mean over samples and rows).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor_data.h"
#include "ir/graph.h"

namespace neutron {

// True for the layers bias correction applies to: 2-D NCHW Conv (any group) and Gemm
// (transA = 0, alpha != 0) with constant rank-2/4 f32 weights, and MatMul with a rank-2 A and a
// constant rank-2 f32 B (which gets a bias by becoming a Gemm).
bool bias_correctable(const Graph& g, NodeId id);

// Number of output channels of a correctable layer (Conv: Cout; Gemm/MatMul: N).
int64_t output_channels(const Graph& g, NodeId id);

// Running sum of one float tensor over calibration samples, for its elementwise mean.
class TensorMean {
 public:
  explicit TensorMean(int64_t elements = 0) : sum_(size_t(elements), 0.0) {}
  void add(const float* x) {
    for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += double(x[i]);
    ++samples_;
  }
  int64_t samples() const { return samples_; }
  std::vector<double> mean() const;  // all zeros before the first sample

 private:
  std::vector<double> sum_;
  int64_t samples_ = 0;
};

// E[x] as layer `id` reads it, from the elementwise mean of its input tensor (shape as in `g`):
// Conv [Cin, kH, kW] patch means; Gemm/MatMul [K].
StatusOr<std::vector<double>> layer_input_mean(const Graph& g, NodeId id, const std::vector<double>& x_mean);

// The layer's expected output without its bias, per output channel: W E[x] (Gemm: alpha W E[x]),
// for weights `w` shaped like the layer's weight input (the float weights or their dequantized
// values) and `input_mean` from layer_input_mean().
StatusOr<std::vector<double>> expected_output(const Graph& g, NodeId id, const TensorData& w,
                                              const std::vector<double>& input_mean);

}  // namespace neutron
