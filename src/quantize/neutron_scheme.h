// The Neutron quantization scheme (neutron-backend-facts.md section 4), as one rule per op kind.
// Adding an op to the quantizer means adding its case to quant_rule() in neutron_scheme.cc.
#pragma once
#include <optional>
#include <vector>

#include "core/quant_params.h"
#include "ir/graph.h"
#include "quantize/observers.h"

namespace neutron {

// How one op takes part in quantization.
struct OpQuantRule {
  bool annotated = false;  // its data inputs and outputs get Q/DQ boundaries
  // The output shares one parameter set with data input 0 (pools, reshapes, pad, slice, ...), or
  // with all data inputs (Concat, Max, Min).
  enum class Share { kNone, kInput0, kAllInputs } share = Share::kNone;
  // The int8 path takes a shared input with parameters of its own, requantized on its branch
  // (fold-qdq's unbounded requantizing Clip before Concat, Where, Pad, Max and Min; ReduceSum's
  // multiplier): an input with fixed parameters, or far from its group, may then keep its own
  // instead of imposing them on the group (quantizer.cc).
  bool input_may_keep_params = false;
  std::optional<QuantParams> fixed_output;  // Sigmoid, Softmax (1/256, -128), Tanh (1/128, 0)
  // Constant float inputs quantized as weights: input index -> per-channel axis (-1: per tensor).
  std::vector<std::pair<int, int>> weights;
  int bias_input = -1;   // int32 bias with scale s_in * s_w (zero point 0)
  bool fuses_activation = false;  // Conv/Gemm/MatMul/Add/Sub: a following ReLU/ReLU6 shares its boundary
  // Data inputs quantized symmetric (zero point 0): the operands of a MatMul with a run-time B
  // (Neutron's BATCH_MATMUL needs zero points 0).
  bool symmetric_inputs = false;
  // Where's constant fill operand of a masked_fill (-inf or <= -1e4): not observed; it becomes the
  // lowest value of the output's parameters, whose range reaches at least kMaskFillRange below
  // the largest value, so a Softmax after it gives masked positions exp(-kMaskFillRange) ~ 0.
  int mask_fill_input = -1;
  // A clamp sharing its input's parameters: when it is the input's only reader (and the input is
  // produced by a node, not a graph input or output), the input's values outside the clamp's
  // output range never matter, so the shared range is observed on the output alone. Saturating
  // the input to that range and then clamping gives exactly the clamp's result.
  bool clamps_input = false;
  // Constant float inputs that stay float: the int8 lowering converts them itself (GRU/LSTM's B,
  // which holds biases of two scales, and the initial states).
  std::vector<int> float_inputs;
  // Outputs [0, shared_outputs) share one parameter set (GRU/LSTM: Y and Y_h are both the hidden
  // state; Y_h is a slice of Y).
  int shared_outputs = 0;
  // A data input in the shared outputs' group (GRU/LSTM initial_h: the state's first value), so
  // the state's range covers it.
  int state_input = -1;
};

constexpr double kMaskFillRange = 12.0;

OpQuantRule quant_rule(const Graph& g, NodeId id);

// Clip bounds Neutron runs as one RELU-family op with its own output parameters: (0, inf),
// (0, 6), (-1, 1), (0, 1) (upstream's RELU_COMPATIBLE_BOUNDS). Other bounds run as MINIMUM +
// MAXIMUM with the input's parameters, so the quantizer shares them.
bool is_relu_compatible_clip(const Graph& g, NodeId id);

// True when `act` (a Relu or a Clip with bounds (0, 6) or (0, +inf)) can be fused into the
// quantization boundary of its producer.
bool is_fusable_activation(const Graph& g, NodeId act);

}  // namespace neutron
