// Post-training quantization of a float graph in the Neutron scheme.
//
//   plan       quant_rule() per node decides which tensors are quantization boundaries, which
//              share one parameter set (union-find groups), which have fixed parameters, and
//              which constants are weights (int8 symmetric) or biases (int32, scale s_in * s_w)
//   calibrate  the float graph runs on the CPU executor over the calibration set; one observer
//              per group sees every value of its tensors (and the input of each Conv/Gemm/MatMul
//              is averaged, for bias correction)
//   correct    bias correction (quantize/bias_correction.h, on by default): each Conv/Gemm/MatMul
//              bias absorbs the mean output shift its weights' rounding causes, before the bias is
//              quantized; kEmpirical also measures the inputs on the quantized graph, level by level
//   rewrite    boundaries get QuantizeLinear -> DequantizeLinear pairs; weights and biases become
//              DequantizeLinear of integer constants. The result is a QDQ float graph: exported as
//              ONNX it loads anywhere; fold-qdq turns it into int8 ops for our kernels.
#pragma once
#include <string>
#include <vector>

#include "core/progress.h"
#include "ir/graph.h"
#include "quantize/calibration_data.h"

namespace neutron {

enum class ObserverKind { kMinMax, kHistogram, kPercentile };
StatusOr<ObserverKind> parse_observer_kind(const std::string& name);

// Bias correction of Conv/Gemm/MatMul (quantize/bias_correction.h): b' = b + W E[x] - Wq E[xq].
// A layer without a bias gets one when the correction is not zero (a 2-D MatMul becomes a Gemm);
// a layer whose weights have no rounding error is left exactly as kOff leaves it.
enum class BiasCorrection {
  kOff,        // the biases are the float model's
  kFloat,      // E[xq] = E[x]: the weights' error only, from the float calibration run (fast)
  kEmpirical,  // E[xq] measured on the quantized graph, one run per layer level (exact sequential
               // correction: also the mean shift that the quantization upstream causes; slower)
};
StatusOr<BiasCorrection> parse_bias_correction(const std::string& name);  // off, float, empirical
const char* bias_correction_name(BiasCorrection b);

struct QuantizeOptions {
  ObserverKind observer = ObserverKind::kHistogram;
  double percentile = 99.99;  // for kPercentile
  BiasCorrection bias_correction = BiasCorrection::kFloat;
  ProgressCallback progress;
  // Calibration samples run on this many threads (>= 1); the observers still see every tensor in
  // sample order, so the quantized model is the same for any count.
  int threads = 1;
  // Ops kept in float: op type names (e.g. "Softmax") or node names. They get no int8 rule; their
  // float operands and results get Q/DQ edges, and a program runs them as float kernel calls.
  std::vector<std::string> keep_float;
};

// One layer whose bias was corrected, for reports.
struct CorrectedBias {
  std::string node;
  int64_t channels = 0;
  double max_abs_shift = 0;   // max over channels |b' - b|
  double max_abs_bias = 0;    // max over channels |b| (0 when the layer had no bias)
};

// One quantized activation group, for reports.
struct QuantizedGroup {
  std::vector<std::string> tensors;
  QuantParams params;
  float observed_min = 0, observed_max = 0;
  bool fixed = false;
};

// A group member whose observed range lies outside its group's parameters by more than half a
// step (more than the group's observer chose to clip): the quantized model clamps it to a range it
// did not see. Reported as a warning.
struct ClampedMember {
  std::string tensor;
  float observed_min = 0, observed_max = 0;
  float range_min = 0, range_max = 0;  // what the group's parameters represent
  std::vector<std::string> group;      // the group's tensors
};

struct QuantizeReport {
  std::vector<QuantizedGroup> groups;
  std::vector<std::string> own_params;        // inputs of sharing ops with fixed parameters or far from their
                                              // group: own parameters, requantized on their branch
  std::vector<ClampedMember> clamped_members;  // warnings (see ClampedMember)
  std::vector<std::string> float_nodes;  // nodes left in float, with the reason
  int64_t samples = 0;
  BiasCorrection bias_correction = BiasCorrection::kOff;
  int bias_correction_passes = 0;  // kEmpirical: runs of the quantized graph (one per layer level)
  std::vector<CorrectedBias> corrected_biases;
};

// The model inputs a calibration set must match.
std::vector<ModelInput> model_inputs(const Graph& g);

// `g` must be a float graph (no QuantizeLinear/DequantizeLinear), before layout passes.
StatusOr<Graph> quantize_graph(const Graph& g, const CalibrationSet& calib, const QuantizeOptions& options,
                               QuantizeReport* report = nullptr);

}  // namespace neutron
