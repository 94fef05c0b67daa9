// Post-training quantization of a float graph in the Neutron scheme.
//
//   plan       quant_rule() per node decides which tensors are quantization boundaries, which
//              share one parameter set (union-find groups), which have fixed parameters, and
//              which constants are weights (int8 symmetric) or biases (int32, scale s_in * s_w)
//   calibrate  the float graph runs on the CPU executor over the calibration set; one observer
//              per group sees every value of its tensors
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

struct QuantizeOptions {
  ObserverKind observer = ObserverKind::kHistogram;
  double percentile = 99.99;  // for kPercentile
  ProgressCallback progress;
};

// One quantized activation group, for reports.
struct QuantizedGroup {
  std::vector<std::string> tensors;
  QuantParams params;
  float observed_min = 0, observed_max = 0;
  bool fixed = false;
};

struct QuantizeReport {
  std::vector<QuantizedGroup> groups;
  std::vector<std::string> float_nodes;  // nodes left in float, with the reason
  int64_t samples = 0;
};

// The model inputs a calibration set must match.
std::vector<ModelInput> model_inputs(const Graph& g);

// `g` must be a float graph (no QuantizeLinear/DequantizeLinear), before layout passes.
StatusOr<Graph> quantize_graph(const Graph& g, const CalibrationSet& calib, const QuantizeOptions& options,
                               QuantizeReport* report = nullptr);

}  // namespace neutron
