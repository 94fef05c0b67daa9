// Test helper: builds a graph with one op and runs it on the CPU executor.
#pragma once
#include <string>
#include <vector>

#include "exec/executor.h"
#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace neutron::testing {

struct Operand {
  TensorData value;       // runtime input value, or the constant's data
  bool constant = false;  // true: baked into the graph as a constant
  QuantParams quant;      // for quantized operands
  bool absent = false;    // an omitted optional input
  static Operand input(TensorData v, QuantParams q = {}) { return Operand{std::move(v), false, std::move(q), false}; }
  static Operand constant_of(TensorData v, QuantParams q = {}) { return Operand{std::move(v), true, std::move(q), false}; }
  static Operand none() { return Operand{{}, false, {}, true}; }
};

struct OutputSpec {
  QuantParams quant;  // set for quantized outputs; dtype/shape come from shape inference
};

// Builds the graph, runs shape inference and the verifier. Output dtypes and shapes are inferred.
inline StatusOr<Graph> make_single_op_graph(OpKind kind, const std::vector<Operand>& operands, const Attributes& attrs,
                                            const std::vector<OutputSpec>& outputs = {OutputSpec{}}) {
  Graph g;
  Node n;
  n.kind = kind;
  n.name = "op";
  n.attrs = attrs;
  for (size_t i = 0; i < operands.size(); ++i) {
    const Operand& o = operands[i];
    if (o.absent) {
      n.inputs.push_back(kNoTensor);
      continue;
    }
    std::string name = "in" + std::to_string(i);
    if (o.constant) {
      n.inputs.push_back(g.add_constant(name, o.value, o.quant));
    } else {
      Tensor t;
      t.name = name;
      t.dtype = o.value.dtype;
      t.shape = o.value.shape;
      t.quant = o.quant;
      TensorId id = g.add_tensor(t);
      g.inputs.push_back(id);
      n.inputs.push_back(id);
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor t;
    t.name = "out" + std::to_string(i);
    t.quant = outputs[i].quant;
    TensorId id = g.add_tensor(t);
    n.outputs.push_back(id);
    g.outputs.push_back(id);
  }
  g.add_node(std::move(n));
  RETURN_IF_ERROR(infer_shapes(g));
  RETURN_IF_ERROR(verify_graph(g));
  return g;
}

// Runs the graph with the runtime operands (constants skipped), returns all outputs.
inline StatusOr<std::vector<TensorData>> run_graph(const Graph& g, const std::vector<TensorData>& runtime_inputs) {
  ASSIGN_OR_RETURN(auto ex, Executor::create(g));
  std::vector<TensorData> outs;
  RETURN_IF_ERROR(ex->run(runtime_inputs, &outs));
  return outs;
}

inline StatusOr<std::vector<TensorData>> run_single_op(OpKind kind, const std::vector<Operand>& operands,
                                                       const Attributes& attrs,
                                                       const std::vector<OutputSpec>& outputs = {OutputSpec{}}) {
  ASSIGN_OR_RETURN(Graph g, make_single_op_graph(kind, operands, attrs, outputs));
  std::vector<TensorData> runtime;
  for (const auto& o : operands)
    if (!o.constant && !o.absent) runtime.push_back(o.value);
  return run_graph(g, runtime);
}

}  // namespace neutron::testing
