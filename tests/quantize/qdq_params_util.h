// Helpers of the quantizer's shared-group tests: quantize a one-input graph (input "memory") with
// given samples, and read back the parameters the QDQ graph gave a float tensor.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"

namespace neutron::testing {

inline StatusOr<Graph> quantize(const Graph& g, const TensorData& samples, QuantizeReport* report) {
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({"memory", samples});
  auto calib = make_calibration_set(model_inputs(g), std::move(arrays));
  if (!calib.ok()) return calib.status();
  return quantize_graph(g, calib.value(), QuantizeOptions{}, report);
}

// The parameters of the float tensor named `name` in the QDQ graph: those of the
// DequantizeLinear producing it (a graph output keeps its name there), else of the
// QuantizeLinear reading it.
inline std::optional<QuantParams> params_of(const Graph& q, const std::string& name) {
  for (NodeId id : q.live_nodes()) {
    const Node& n = q.node(id);
    if (n.kind == OpKind::DequantizeLinear && q.tensor(n.outputs[0]).name == name) return q.tensor(n.inputs[0]).quant;
  }
  for (NodeId id : q.live_nodes()) {
    const Node& n = q.node(id);
    if (n.kind == OpKind::QuantizeLinear && q.tensor(n.inputs[0]).name == name) return q.tensor(n.outputs[0]).quant;
  }
  return std::nullopt;
}

}  // namespace neutron::testing
