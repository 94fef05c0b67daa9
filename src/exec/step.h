// The executor's unit of work: one bound node. Binders (exec/ops/*.cc) validate a node once,
// precompute everything that does not depend on input values (packed weights, requantization
// multipliers, lookup tables) and return a Step whose run() only computes.
#pragma once
#include <memory>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace neutron {

// Storage of every tensor during one run, indexed by TensorId. Constants point at their data.
class RunContext {
 public:
  explicit RunContext(size_t num_tensors) : buffers_(num_tensors, nullptr) {}
  void bind(TensorId id, const void* p) { buffers_[size_t(id)] = const_cast<void*>(p); }
  template <typename T>
  const T* in(TensorId id) const {
    return static_cast<const T*>(buffers_[size_t(id)]);
  }
  template <typename T>
  T* out(TensorId id) const {
    return static_cast<T*>(buffers_[size_t(id)]);
  }
  const void* raw(TensorId id) const { return buffers_[size_t(id)]; }
  // Scratch memory shared by all steps (sized to the largest Step::scratch_bytes()).
  void set_scratch(void* p) { scratch_ = p; }
  template <typename T>
  T* scratch() const {
    return static_cast<T*>(scratch_);
  }
  // A step that finds run-time values it cannot compute on (an index out of range) records why
  // here instead of writing a guess; the executor stops after that step and returns the error.
  void fail(Status s) const {
    if (error_.ok()) error_ = std::move(s);
  }
  const Status& error() const { return error_; }

 private:
  std::vector<void*> buffers_;
  void* scratch_ = nullptr;
  mutable Status error_;
};

class Step {
 public:
  virtual ~Step() = default;
  virtual void run(const RunContext& ctx) const = 0;
  // Bytes of scratch this step needs during run(); the executor provides the maximum over steps.
  virtual size_t scratch_bytes() const { return 0; }
};

using StepPtr = std::unique_ptr<Step>;

// A Step built from a lambda-like callable, for kernels without precomputed state beyond captures.
template <typename F>
class FnStep final : public Step {
 public:
  FnStep(F f, size_t scratch = 0) : f_(std::move(f)), scratch_(scratch) {}
  void run(const RunContext& ctx) const override { f_(ctx); }
  size_t scratch_bytes() const override { return scratch_; }

 private:
  F f_;
  size_t scratch_;
};
template <typename F>
StepPtr make_step(F f, size_t scratch = 0) {
  return std::make_unique<FnStep<F>>(std::move(f), scratch);
}

// Binds one node of a verified, shape-inferred graph.
using BindFn = StatusOr<StepPtr> (*)(const Graph& g, NodeId id);

// Returns the binder of an op, or nullptr if the CPU executor has no kernel for it.
BindFn find_binder(OpKind kind);

}  // namespace neutron
