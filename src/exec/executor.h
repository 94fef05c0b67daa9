// Runs a verified, shape-inferred Graph on the host CPU kernels.
// Construction binds every node once (weights packed, multipliers computed); run() only computes.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "exec/step.h"

namespace neutron {

class Executor {
 public:
  // Fails with a message naming the first node that has no CPU kernel or invalid operands.
  static StatusOr<std::unique_ptr<Executor>> create(const Graph& graph);

  // Inputs in graph-input order; each must match the declared dtype and shape exactly.
  Status run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs);

  // Called after each node with its id and the storage of every tensor (for calibration
  // observers and debugging dumps). Valid until run() returns.
  using NodeObserver = std::function<void(NodeId node, const RunContext& tensors)>;
  Status run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs, const NodeObserver& observer);

  const Graph& graph() const { return graph_; }

 private:
  explicit Executor(const Graph& g) : graph_(g) {}
  Graph graph_;  // own copy; constants are shared, not copied
  std::vector<NodeId> order_;
  std::vector<StepPtr> steps_;
  std::vector<std::vector<uint8_t>> buffers_;  // per tensor id; empty for constants and inputs
  std::vector<uint8_t> scratch_;
};

}  // namespace neutron
