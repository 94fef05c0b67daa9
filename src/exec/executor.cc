#include "exec/executor.h"

#include <algorithm>
#include <cstring>

namespace neutron {

StatusOr<std::unique_ptr<Executor>> Executor::create(const Graph& graph) {
  std::unique_ptr<Executor> ex(new Executor(graph));
  const Graph& g = ex->graph_;
  ASSIGN_OR_RETURN(ex->order_, g.topological_order());
  size_t scratch = 0;
  for (NodeId id : ex->order_) {
    BindFn bind = find_binder(g.node(id).kind);
    CHECK_OR_RETURN(bind != nullptr, Error::NotSupported, describe(g, id), ": no CPU kernel for this op");
    auto step = bind(g, id);
    if (!step.ok()) return step.status();
    scratch = std::max(scratch, step.value()->scratch_bytes());
    ex->steps_.push_back(std::move(step).value());
  }
  ex->buffers_.resize(g.num_tensors());
  for (NodeId id : ex->order_)
    for (TensorId o : g.node(id).outputs)
      if (o != kNoTensor) {
        const Tensor& t = g.tensor(o);
        // Round up so vector kernels may read a little past the end safely.
        ex->buffers_[size_t(o)].resize(size_t(num_elements(t.shape)) * dtype_size(t.dtype) + 64);
      }
  ex->scratch_.resize(scratch + 64);
  return ex;
}

Status Executor::run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs) {
  return run(inputs, outputs, nullptr);
}

Status Executor::run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs,
                     const NodeObserver& observer) {
  const Graph& g = graph_;
  CHECK_OR_RETURN(inputs.size() == g.inputs.size(), Error::InvalidArgument, "model has ", g.inputs.size(),
                  " input(s), ", inputs.size(), " given");
  RunContext ctx(g.num_tensors());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = g.tensor(g.inputs[i]);
    CHECK_OR_RETURN(inputs[i].dtype == t.dtype, Error::InvalidArgument, "input ", i, " ('", t.name, "') must be ",
                    dtype_name(t.dtype), ", got ", dtype_name(inputs[i].dtype));
    CHECK_OR_RETURN(inputs[i].shape == t.shape, Error::InvalidArgument, "input ", i, " ('", t.name, "') must have shape ",
                    shape_str(t.shape), ", got ", shape_str(inputs[i].shape));
    ctx.bind(g.inputs[i], inputs[i].bytes.data());
  }
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    const Tensor& t = g.tensor(TensorId(i));
    if (t.is_constant()) ctx.bind(TensorId(i), t.data->bytes.data());
    if (!buffers_[i].empty()) ctx.bind(TensorId(i), buffers_[i].data());
  }
  ctx.set_scratch(scratch_.data());
  for (size_t s = 0; s < steps_.size(); ++s) {
    steps_[s]->run(ctx);
    if (observer) observer(order_[s], ctx);
  }
  outputs->clear();
  for (TensorId o : g.outputs) {
    const Tensor& t = g.tensor(o);
    TensorData d(t.dtype, t.shape);
    if (!d.bytes.empty()) std::memcpy(d.bytes.data(), ctx.raw(o), d.bytes.size());
    outputs->push_back(std::move(d));
  }
  return Status::OK();
}

}  // namespace neutron
