#include "exec/executor.h"

#include <algorithm>
#include <cstring>

#include "core/memory_budget.h"

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
  // Every activation buffer is allocated up front: their total is checked against the memory
  // budget first, naming the largest, since shapes come from the model's numbers.
  CHECK_OR_RETURN(scratch < (size_t(1) << 62), Error::InvalidModel, "scratch of ", scratch, " bytes is too large");
  int64_t total = int64_t(scratch) + 64, largest = -1;
  TensorId largest_id = kNoTensor;
  for (NodeId id : ex->order_)
    for (TensorId o : g.node(id).outputs) {
      if (o == kNoTensor) continue;
      const Tensor& t = g.tensor(o);
      int64_t bytes = 0;
      CHECK_OR_RETURN(checked_byte_size(t.dtype, t.shape, &bytes) && checked_add(bytes, 64, &bytes) &&
                          checked_add(total, bytes, &total),
                      Error::InvalidModel, describe(g, id), ": output '", t.name, "' of shape ", shape_str(t.shape),
                      " is too large to allocate");
      if (bytes > largest) {
        largest = bytes;
        largest_id = o;
      }
    }
  std::string detail;
  if (largest_id != kNoTensor) {
    const Tensor& t = g.tensor(largest_id);
    detail = str_cat("largest: tensor '", t.name, "', ", dtype_name(t.dtype), " shape ", shape_str(t.shape), ", ",
                     format_bytes(uint64_t(largest)));
  }
  RETURN_IF_ERROR(check_memory_budget(uint64_t(total), "the executor's activation memory", detail));
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
    if (!ctx.error().ok()) return ctx.error();
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
