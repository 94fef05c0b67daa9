// split-to-slices: Split becomes one Slice per output (upstream's DecomposeSplitToSlicesPass):
// output i is x[offset_i : offset_i + split_i] along the split axis, written to the same tensor,
// so output names survive. Slices are single-output ops the quantizer and the NPU handle like any
// data-movement op.
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace neutron {

Status split_to_slices(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    if (g.node(id).kind != OpKind::Split) continue;
    const Node n = g.node(id);
    if (n.inputs.size() != 1 || n.outputs.empty()) continue;
    const Shape& xs = g.tensor(n.inputs[0]).shape;
    const int axis = normalize_axis(n.attrs.get_int("axis", 0), xs.size());
    if (axis < 0) continue;
    std::vector<int64_t> sizes;
    for (TensorId o : n.outputs) {
      if (o == kNoTensor || g.tensor(o).shape.size() != xs.size()) break;  // an omitted output: leave the Split
      sizes.push_back(g.tensor(o).shape[size_t(axis)]);
    }
    if (sizes.size() != n.outputs.size()) continue;
    g.remove_node(id);
    int64_t offset = 0;
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      Attributes a;
      a.set("starts", std::vector<int64_t>{offset});
      a.set("ends", std::vector<int64_t>{offset + sizes[i]});
      a.set("axes", std::vector<int64_t>{axis});
      a.set("steps", std::vector<int64_t>{1});
      offset += sizes[i];
      rewrite::add_op(g, OpKind::Slice, n.name + "_slice" + std::to_string(i), {n.inputs[0]}, {n.outputs[i]}, a);
    }
  }
  return Status::OK();
}

}  // namespace neutron
