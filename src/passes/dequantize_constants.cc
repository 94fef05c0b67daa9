// dequantize-constants (compile pipeline, after fold-qdq): a DequantizeLinear of an int8 constant
// (or of an int32 bias) that fold-qdq left in place feeds an op that stays in float (no int8
// kernel, or kept in float by the user). It becomes the float32 constant the DequantizeLinear
// computes, with the same kernel (kernels/quantize.h dequantize_linear), so a program's float
// kernel calls read float weights from the program and compute what the host executor computes.
// Graph outputs stay.
#include "kernels/quantize.h"
#include "passes/passes.h"

namespace neutron {

Status dequantize_constants(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind != OpKind::DequantizeLinear || n.inputs.empty() || n.outputs.size() != 1) continue;
    const TensorId xi = n.inputs[0], yi = n.outputs[0];
    const Tensor& x = g.tensor(xi);
    const Tensor& y = g.tensor(yi);
    if (!x.is_constant() || (x.dtype != DType::I8 && x.dtype != DType::I32) || y.dtype != DType::F32 ||
        g.is_graph_output(yi))
      continue;
    const QuantParams& qp = x.quant;
    if (qp.empty() || qp.scale.size() != qp.zero_point.size() || x.shape != y.shape) continue;
    QuantizeParams p;
    p.inner = num_elements(x.shape);
    if (qp.per_axis()) {
      const int axis = normalize_axis(qp.axis, x.shape.size());
      if (axis < 0 || x.shape[size_t(axis)] != int64_t(qp.scale.size())) continue;
      p.outer = 1;
      for (int i = 0; i < axis; ++i) p.outer *= x.shape[size_t(i)];
      p.axis = x.shape[size_t(axis)];
      p.inner = 1;
      for (size_t i = size_t(axis) + 1; i < x.shape.size(); ++i) p.inner *= x.shape[i];
    }
    p.scales = qp.scale.data();
    p.zero_points = qp.zero_point.data();
    TensorData d(DType::F32, y.shape);
    if (x.dtype == DType::I32) {  // a bias (int32, scale s_in * s_w) of an op that stays in float
      dequantize_linear<int32_t>(p, x.data->data<int32_t>(), d.data<float>());
    } else {
      dequantize_linear<int8_t>(p, x.data->data<int8_t>(), d.data<float>());
    }
    const TensorId c = g.add_constant(g.unique_tensor_name(y.name + "_f32"), std::move(d));
    g.replace_uses(yi, c);
    g.remove_node(id);
  }
  return Status::OK();
}

}  // namespace neutron
