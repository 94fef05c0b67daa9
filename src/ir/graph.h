// The graph IR: tensors (typed values, optionally constant and/or quantized) and nodes (ops with
// typed attributes) in a flat, index-addressed graph. Shapes are static.
//
// Ownership: the Graph owns tensors and nodes; ids are indices and stay valid until compact().
// Removing a node only marks it dead; compact() drops dead nodes and unreferenced tensors.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/quant_params.h"
#include "core/shape.h"
#include "core/status.h"
#include "core/tensor_data.h"

namespace neutron {

enum class OpKind : uint16_t {
#define X(name, text, category) name,
#include "ir/op_kinds.def"
#undef X
  kCount
};
const char* op_kind_name(OpKind k);

enum class OpCategory : uint8_t {
  Compute,        // Conv, ConvTranspose, Gemm, MatMul: weights and accumulators
  Pool,           // MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool
  UnaryMath,      // one input, each output element a function of the same input element
  Binary,         // two inputs with numpy broadcasting
  DataMovement,   // moves or copies elements without arithmetic (Reshape, Concat, Pad, ...)
  Reduce,         // ReduceMean/Max/Min/Sum
  Softmax,
  Resize,
  Normalization,  // BatchNormalization
  Conversion,     // Cast, QuantizeLinear, DequantizeLinear
};
OpCategory op_category(OpKind k);
std::optional<OpKind> op_kind_from_name(const std::string& name);

using TensorId = int32_t;
using NodeId = int32_t;
constexpr TensorId kNoTensor = -1;  // an omitted optional input

struct Tensor {
  std::string name;
  DType dtype = DType::Invalid;
  Shape shape;
  QuantParams quant;                          // empty unless the tensor holds quantized integers
  std::shared_ptr<const TensorData> data;     // set for constants (shared between graph copies)
  NodeId producer = -1;                       // -1 for graph inputs and constants

  bool is_constant() const { return data != nullptr; }
  bool is_quantized() const { return !quant.empty(); }
};

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

// Attributes by name, ordered so that dumps are deterministic.
class Attributes {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, AttrValue v) { values_[name] = std::move(v); }
  void erase(const std::string& name) { values_.erase(name); }
  int64_t get_int(const std::string& name, int64_t def) const;
  double get_float(const std::string& name, double def) const;
  std::string get_string(const std::string& name, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> def = {}) const;
  std::vector<double> get_floats(const std::string& name, std::vector<double> def = {}) const;
  const std::map<std::string, AttrValue>& all() const { return values_; }

 private:
  std::map<std::string, AttrValue> values_;
};

struct Node {
  OpKind kind{};
  std::string name;
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  Attributes attrs;
  bool dead = false;

  TensorId input(size_t i) const { return i < inputs.size() ? inputs[i] : kNoTensor; }
};

class Graph {
 public:
  std::string name;
  std::vector<TensorId> inputs;   // runtime inputs, in user order
  std::vector<TensorId> outputs;  // in user order

  TensorId add_tensor(Tensor t);
  TensorId add_constant(const std::string& name, TensorData data, QuantParams quant = {});
  NodeId add_node(Node n);  // sets producer of its outputs
  void remove_node(NodeId id) { nodes_[size_t(id)].dead = true; }

  Tensor& tensor(TensorId id) { return tensors_[size_t(id)]; }
  const Tensor& tensor(TensorId id) const { return tensors_[size_t(id)]; }
  Node& node(NodeId id) { return nodes_[size_t(id)]; }
  const Node& node(NodeId id) const { return nodes_[size_t(id)]; }
  size_t num_tensors() const { return tensors_.size(); }
  size_t num_nodes() const { return nodes_.size(); }
  std::vector<NodeId> live_nodes() const;

  // Live consumers of each tensor (recomputed on each call; cheap for our graph sizes).
  std::vector<std::vector<NodeId>> consumers() const;
  // Live nodes in a deterministic topological order, or an error naming a node on a cycle.
  StatusOr<std::vector<NodeId>> topological_order() const;
  // Replaces every use of `from` (node inputs and graph outputs) by `to`.
  void replace_uses(TensorId from, TensorId to);
  std::optional<TensorId> find_tensor(const std::string& name) const;
  bool is_graph_output(TensorId id) const;
  // Drops dead nodes and tensors nothing refers to; renumbers ids, keeps order otherwise.
  void compact();
  // A name not yet used by any tensor, derived from `base`.
  std::string unique_tensor_name(const std::string& base);

 private:
  std::vector<Tensor> tensors_;
  std::vector<Node> nodes_;
  std::map<std::string, int> name_counter_;
};

// "node 'conv1' (Conv)" for messages.
std::string describe(const Graph& g, NodeId id);

}  // namespace neutron
