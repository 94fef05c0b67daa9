#include "quantize/neutron_scheme.h"

#include <cmath>

namespace neutron {
namespace {

bool is_constant_input(const Graph& g, NodeId id, size_t i) {
  const Node& n = g.node(id);
  return i < n.inputs.size() && n.inputs[i] != kNoTensor && g.tensor(n.inputs[i]).is_constant();
}

}  // namespace

bool is_fusable_activation(const Graph& g, NodeId act) {
  const Node& n = g.node(act);
  if (n.kind == OpKind::Relu) return true;
  if (n.kind != OpKind::Clip) return false;
  const double lo = n.attrs.get_float("min", -INFINITY), hi = n.attrs.get_float("max", INFINITY);
  return lo == 0 && (hi == 6 || std::isinf(hi));
}

bool is_relu_compatible_clip(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.kind == OpKind::Relu) return true;
  if (n.kind != OpKind::Clip) return false;
  const double lo = n.attrs.get_float("min", -INFINITY), hi = n.attrs.get_float("max", INFINITY);
  return (lo == 0 && (hi == 6 || hi == 1 || std::isinf(hi))) || (lo == -1 && hi == 1);
}

OpQuantRule quant_rule(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  OpQuantRule r;
  r.annotated = true;
  switch (n.kind) {
    // Compute ops with weights.
    case OpKind::Conv:
      r.weights = {{1, 0}};  // per-channel symmetric along Cout
      r.bias_input = 2;
      r.fuses_activation = true;
      if (!is_constant_input(g, id, 1)) r.annotated = false;
      return r;
    case OpKind::Gemm:
      // Weights per tensor; bias only when it broadcasts as a vector over the output features.
      r.weights = {{1, -1}};
      r.bias_input = 2;
      r.fuses_activation = true;
      if (!is_constant_input(g, id, 1) || n.attrs.get_int("transA", 0) != 0) r.annotated = false;
      return r;
    case OpKind::MatMul:
      r.fuses_activation = true;
      if (!is_constant_input(g, id, 1)) {  // attention: two activations, zero points 0
        r.symmetric_inputs = true;
        return r;
      }
      r.weights = {{1, -1}};
      return r;
    case OpKind::ConvTranspose:
    {
      // Weights [Cin, Cout/group, kH, kW]: per output channel is axis 1 with one group, axis 0 when
      // every group has one input and one output channel (depthwise); per tensor otherwise.
      const int64_t group = n.attrs.get_int("group", 1);
      const Tensor* w = n.inputs.size() > 1 && n.inputs[1] != kNoTensor ? &g.tensor(n.inputs[1]) : nullptr;
      const bool dw = w && w->shape.size() == 4 && group > 1 && w->shape[0] == group && w->shape[1] == 1;
      r.weights = {{1, group == 1 ? 1 : dw ? 0 : -1}};
      r.bias_input = 2;
      r.fuses_activation = true;
      if (!is_constant_input(g, id, 1)) r.annotated = false;
      return r;
    }
    case OpKind::PRelu:
      r.weights = {{1, -1}};
      if (!is_constant_input(g, id, 1)) r.annotated = false;
      return r;
    // Shared input/output parameters (the NPU requires them; upstream's SharedSpecPattern).
    // ReduceSum's output may exceed its input's range: the shared observer sees both (as the
    // shared observer of PT2E does), so neither saturates.
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::Split:
    case OpKind::Pad:
    case OpKind::Resize:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceMean:
    case OpKind::ReduceSum:
    case OpKind::Identity:
    case OpKind::Dropout:
    case OpKind::Expand:
    case OpKind::Gather:  // an embedding table is quantized per tensor with its output
      r.share = OpQuantRule::Share::kInput0;
      // The two whose output can leave the input's range (a constant Pad value, a sum): a fixed
      // input (Sigmoid's [0, 1)) would clamp them, so it keeps its parameters and the output gets
      // its own. The others' outputs stay inside their input's range.
      r.input_may_keep_params = (n.kind == OpKind::Pad && n.attrs.get_string("mode", "constant") == "constant") ||
                                n.kind == OpKind::ReduceSum;
      return r;
    case OpKind::Where:  // a select: X, Y and the output share parameters (the condition is bool)
      r.share = OpQuantRule::Share::kAllInputs;
      r.input_may_keep_params = true;
      for (int i = 1; i <= 2; ++i) {
        if (!is_constant_input(g, id, size_t(i))) continue;
        const Tensor& c = g.tensor(n.inputs[size_t(i)]);
        if (c.dtype == DType::F32 && c.data->count() == 1 && c.data->data<float>()[0] <= -1e4f) r.mask_fill_input = i;
      }
      return r;
    case OpKind::LayerNormalization:
      r.weights = {{1, -1}, {2, -1}};  // Scale and B symmetric per tensor
      return r;
    case OpKind::Concat:
    case OpKind::Max:
    case OpKind::Min:
      r.share = OpQuantRule::Share::kAllInputs;
      r.input_may_keep_params = true;
      return r;
    // Fixed output parameters.
    case OpKind::Sigmoid:
    case OpKind::Softmax:
      r.fixed_output = QuantParams::per_tensor(1.0f / 256.0f, -128);
      return r;
    case OpKind::Tanh:
    case OpKind::LpNormalization:  // in [-1, 1], as TFLite's L2_NORMALIZATION
      r.fixed_output = QuantParams::per_tensor(1.0f / 128.0f, 0);
      return r;
    // Own output parameters. Add/Sub -> ReLU shares one boundary after the activation, as
    // PyTorch's add_relu does (a residual sum quantized before its ReLU wastes half the range).
    case OpKind::Add:
    case OpKind::Sub:
      r.fuses_activation = true;
      return r;
    // Clip/hardtanh/clamp: RELU-family bounds keep their own output parameters; any other bounds
    // run as MINIMUM + MAXIMUM on the input's parameters (upstream's ClampPattern/HardTanhPattern).
    case OpKind::Clip:
      if (!is_relu_compatible_clip(g, id)) {
        r.share = OpQuantRule::Share::kInput0;
        r.clamps_input = true;
      }
      return r;
    case OpKind::Mul:
    case OpKind::Div:  // by a run-time tensor (div-to-mul took constant divisors): int8 Div kernel
    case OpKind::Relu:
    case OpKind::LeakyRelu:
    case OpKind::HardSwish:
    case OpKind::HardSigmoid:
    case OpKind::Abs:
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sqrt:
    case OpKind::Reciprocal:
    case OpKind::Erf:
    case OpKind::Gelu:
    case OpKind::Pow:
      return r;
    // Stay float: no int8 meaning in the Neutron scheme (BatchNormalization is folded before;
    // ReduceL2 has no int8 kernel: F.normalize's becomes LpNormalization in fuse-l2-normalize).
    // GRU/LSTM: W and R symmetric per gate row (both directions share a row's scale); the hidden state's observed range
    // (Y, Y_h and initial_h share it, the kernel re-quantizes h to it every step); B and initial_c
    // stay float for the lowering; the gates have fixed ranges inside the kernel (sigmoid/tanh
    // tables over Q12 pre-activations, Q15 outputs).
    case OpKind::GRU:
    case OpKind::LSTM: {
      const bool seq_lens = n.inputs.size() > 4 && n.inputs[4] != kNoTensor;
      const bool peepholes = n.input(7) != kNoTensor;  // no int8 kernel: float on the CPU
      if (seq_lens || peepholes || !is_constant_input(g, id, 1) || !is_constant_input(g, id, 2)) break;
      for (int i : {3, 5, 6})
        if (size_t(i) < n.inputs.size() && n.inputs[size_t(i)] != kNoTensor && !is_constant_input(g, id, size_t(i)))
          r.annotated = false;
      if (!r.annotated) return r;
      r.weights = {{1, 1}, {2, 1}};
      r.float_inputs = {3, 6};
      r.shared_outputs = 2;
      r.state_input = 5;
      return r;
    }
    case OpKind::ReduceL2:
    case OpKind::BatchNormalization:
    case OpKind::PowTensor:
    case OpKind::Cast:
    case OpKind::QuantizeLinear:
    case OpKind::DequantizeLinear:
    case OpKind::kCount:
      break;
  }
  r.annotated = false;
  return r;
}

}  // namespace neutron
