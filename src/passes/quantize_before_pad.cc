// quantize-before-pad: QuantizeLinear(Pad(x)) with a float Pad whose only reader is the quantize
// becomes Pad(QuantizeLinear(x)), the Pad now int8 with the quantize's parameters. Exact:
// quantization is elementwise, and the int8 Pad fills with quantize(value) by the same rounding
// (PyTorch exports a model's first padding this way, before its input QuantizeLinear; moved, the
// Pad joins the NPU partition instead of running in float on the CPU).
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {

Status quantize_before_pad(Graph& g) {
  auto consumers = g.consumers();
  for (NodeId qid : g.live_nodes()) {
    const Node& q = g.node(qid);
    if (q.kind != OpKind::QuantizeLinear || q.inputs.empty() || q.outputs.size() != 1) continue;
    const TensorId padded = q.inputs[0];
    const NodeId pid = rewrite::live_producer(g, padded);
    if (pid < 0 || g.node(pid).kind != OpKind::Pad || !rewrite::is_plain_float(g, padded)) continue;
    if (!rewrite::has_single_consumer(g, consumers, padded)) continue;
    const Node& pad = g.node(pid);
    if (pad.inputs.empty() || pad.outputs.size() != 1 || !rewrite::is_plain_float(g, pad.inputs[0])) continue;
    // Only the data input may be a runtime tensor (pads/value as attributes or constants).
    bool constant_operands = true;
    for (size_t k = 1; k < pad.inputs.size(); ++k)
      constant_operands &= pad.inputs[k] == kNoTensor || g.tensor(pad.inputs[k]).is_constant();
    if (!constant_operands) continue;
    const Tensor& out = g.tensor(q.outputs[0]);
    if (out.quant.per_axis()) continue;  // per-axis along a padded dim would change meaning

    const TensorId x = pad.inputs[0];
    Tensor xq = g.tensor(x);
    xq.name = g.unique_tensor_name(g.tensor(x).name + "_quantized");
    xq.dtype = out.dtype;
    xq.quant = out.quant;
    xq.data.reset();
    xq.producer = -1;
    const TensorId xq_id = g.add_tensor(std::move(xq));
    Node nq = g.node(qid);
    nq.name = g.node(qid).name;
    nq.inputs[0] = x;
    nq.outputs = {xq_id};
    Node np = g.node(pid);
    np.inputs[0] = xq_id;
    np.outputs = {g.node(qid).outputs[0]};
    g.remove_node(qid);
    g.remove_node(pid);
    g.add_node(std::move(nq));
    g.add_node(std::move(np));
    consumers = g.consumers();
  }
  return Status::OK();
}

}  // namespace neutron
