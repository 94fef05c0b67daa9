// State of one ONNX import and the per-node context handed to the op mappers (ops_*.cc).
//
// A mapper reads its node's inputs (ONNX names resolved to IR tensors), attributes (converted to
// IR Attributes: INT -> int64, FLOAT -> double, STRING -> string, INTS, FLOATS; TENSOR attributes
// via tensor_attr) and constant operands, then either emits IR nodes (emit*), or binds its ONNX
// outputs to existing tensors (aliasing, e.g. Identity) or to new constants (folding). emit*()
// runs the IR shape rule at once, so later mappers see every input's dtype and shape, and folds
// cheap nodes whose inputs are all constants (constant_fold.h).
#pragma once
#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "import/onnx/onnx_importer.h"
#include "ir/graph.h"

namespace neutron {

struct ImportState {
  std::string file;                        // for messages
  const OnnxImportOptions* options = nullptr;
  int opset = 0;                           // of the default domain
  Graph g;
  std::map<std::string, TensorId> values;  // ONNX tensor name -> IR tensor
  std::set<std::string> used_names;        // names some node reads, and graph outputs
};

// An output of an emitted IR node.
struct EmitOut {
  std::string name;               // empty: a fresh temporary name
  DType dtype = DType::Invalid;   // preset (QuantizeLinear)
  QuantParams quant;              // preset (QuantizeLinear)
};

class NodeCtx {
 public:
  NodeCtx(ImportState& s, const onnx::NodeProto& p, std::string name) : s_(s), proto_(p), name_(std::move(name)) {}
  // Converts the node's attributes; errors name the attribute.
  Status init();

  const std::string& name() const { return name_; }
  const std::string& op() const { return proto_.op_type(); }
  int opset() const { return s_.opset; }
  Graph& g() { return s_.g; }
  const Graph& g() const { return s_.g; }
  const Attributes& attrs() const { return attrs_; }
  bool has_attr(const std::string& a) const { return attrs_.has(a) || tensor_attrs_.count(a); }
  // A STRINGS attribute's values (Attributes has no string lists); empty when absent.
  std::vector<std::string> strings_attr(const std::string& a) const;
  const onnx::TensorProto* tensor_attr(const std::string& a) const {
    auto it = tensor_attrs_.find(a);
    return it == tensor_attrs_.end() ? nullptr : it->second;
  }

  // "<file>: node 'name' (op T, opset N): <message>"
  template <typename... Args>
  Status fail(Error code, const Args&... args) const {
    return Status(code, prefix() + str_cat(args...));
  }
  std::string prefix() const;

  // ---- inputs (ONNX input slots; "" or missing = absent) ----
  size_t num_inputs() const { return size_t(proto_.input_size()); }
  bool has_input(size_t i) const { return i < num_inputs() && !proto_.input(int(i)).empty(); }
  const std::string& input_name(size_t i) const { return proto_.input(int(i)); }
  // The tensor of input i; kNoTensor when absent. Present inputs are defined (checked on entry).
  TensorId in(size_t i) const;
  // Required input: fails naming `what` when absent.
  StatusOr<TensorId> req(size_t i, const char* what) const;
  const Tensor& tensor(TensorId t) const { return s_.g.tensor(t); }
  const Shape& shape(TensorId t) const { return s_.g.tensor(t).shape; }
  // Constant operands: NotSupported naming `what` when the input is computed at run time.
  StatusOr<const TensorData*> constant(size_t i, const char* what) const;
  StatusOr<std::vector<int64_t>> constant_ints(size_t i, const char* what) const;
  StatusOr<std::vector<double>> constant_floats(size_t i, const char* what) const;

  // ---- outputs ----
  size_t num_outputs() const { return size_t(proto_.output_size()); }
  bool has_output(size_t i) const { return i < num_outputs() && !proto_.output(int(i)).empty(); }
  const std::string& output_name(size_t i) const { return proto_.output(int(i)); }
  // True when a later node or the graph outputs read output i.
  bool output_used(size_t i) const { return has_output(i) && s_.used_names.count(output_name(i)) != 0; }
  // Output i of the ONNX node is tensor t (aliasing; no IR node).
  void bind_output(size_t i, TensorId t) {
    if (has_output(i)) s_.values[output_name(i)] = t;
  }
  // Output i is a new constant.
  void bind_constant(size_t i, TensorData d);

  // ---- emission ----
  using Out = EmitOut;
  // Emits one IR node named after the ONNX node (+ "/" + suffix when not empty), creates its
  // outputs, infers their types and folds the node when possible. Returns the output tensors.
  StatusOr<std::vector<TensorId>> emit_node(OpKind kind, std::vector<TensorId> inputs, Attributes attrs,
                                            std::vector<Out> outs, const std::string& suffix = "");
  // Single-output node whose output is ONNX output `output_index` (bound).
  StatusOr<TensorId> emit(OpKind kind, std::vector<TensorId> inputs, Attributes attrs, size_t output_index = 0,
                          Out spec = {});
  // Single-output node with a temporary output.
  StatusOr<TensorId> emit_temp(OpKind kind, std::vector<TensorId> inputs, Attributes attrs, const std::string& suffix,
                               Out spec = {});
  TensorId add_constant(const std::string& suffix, TensorData d, QuantParams q = {});
  std::string temp_name(const std::string& suffix) { return s_.g.unique_tensor_name(name_ + "/" + suffix); }

  // Gives tensor *t the quantization parameters q (DequantizeLinear's input). A constant already
  // quantized differently is duplicated (the copy shares the data); other conflicts fail.
  Status attach_quant(TensorId* t, const QuantParams& q, const char* what);

 private:
  ImportState& s_;
  const onnx::NodeProto& proto_;
  std::string name_;
  Attributes attrs_;
  std::map<std::string, const onnx::TensorProto*> tensor_attrs_;
};

}  // namespace neutron
