// Builds small ONNX ModelProtos in C++ for importer tests.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "import/onnx/onnx_importer.h"
#include "ir/graph.h"

namespace neutron::testing {

class OnnxBuilder {
 public:
  explicit OnnxBuilder(int opset = 13) {
    m_.set_ir_version(8);
    m_.set_producer_name("test");
    auto* o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g_ = m_.mutable_graph();
    g_->set_name("test");
  }

  onnx::ModelProto& model() { return m_; }
  onnx::GraphProto& graph() { return *g_; }

  OnnxBuilder& input(const std::string& name, int elem, const std::vector<int64_t>& shape) {
    set_type(g_->add_input(), name, elem, shape);
    return *this;
  }
  // An output with no declared type, or with one.
  OnnxBuilder& output(const std::string& name) {
    g_->add_output()->set_name(name);
    return *this;
  }
  OnnxBuilder& output(const std::string& name, int elem, const std::vector<int64_t>& shape) {
    set_type(g_->add_output(), name, elem, shape);
    return *this;
  }

  static onnx::TensorProto tensor(const std::string& name, const TensorData& d) {
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(onnx_type(d.dtype));
    for (int64_t s : d.shape) t.add_dims(s);
    t.set_raw_data(std::string(d.bytes.begin(), d.bytes.end()));
    return t;
  }
  OnnxBuilder& init(const std::string& name, const TensorData& d) {
    *g_->add_initializer() = tensor(name, d);
    return *this;
  }
  template <typename T>
  OnnxBuilder& init(const std::string& name, const std::vector<int64_t>& shape, const std::vector<T>& v) {
    return init(name, TensorData::from<T>(shape, v));
  }

  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
                        const std::string& name = "") {
    auto* n = g_->add_node();
    n->set_op_type(op);
    if (!name.empty()) n->set_name(name);
    for (auto& i : in) n->add_input(i);
    for (auto& o : out) n->add_output(o);
    return n;
  }

  // Constant node producing `d` (as PyTorch exports Clip bounds, shapes, scales).
  onnx::NodeProto* constant(const std::string& out, const TensorData& d) {
    auto* n = node("Constant", {}, {out}, out + "_const");
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = tensor("", d);
    return n;
  }

  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
  }

  std::string bytes() const { return m_.SerializeAsString(); }
  StatusOr<Graph> import(const OnnxImportOptions& options = {}) const {
    return import_onnx_bytes(bytes(), "model.onnx", options);
  }

  static int onnx_type(DType t) {
    switch (t) {
      case DType::F32: return onnx::TensorProto::FLOAT;
      case DType::U8: return onnx::TensorProto::UINT8;
      case DType::I8: return onnx::TensorProto::INT8;
      case DType::I16: return onnx::TensorProto::INT16;
      case DType::I32: return onnx::TensorProto::INT32;
      case DType::I64: return onnx::TensorProto::INT64;
      case DType::Bool: return onnx::TensorProto::BOOL;
      default: return 0;
    }
  }

 private:
  static void set_type(onnx::ValueInfoProto* v, const std::string& name, int elem, const std::vector<int64_t>& shape) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* s = tt->mutable_shape();
    for (int64_t d : shape) s->add_dim()->set_dim_value(d);
  }

  onnx::ModelProto m_;
  onnx::GraphProto* g_;
};

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kUint8 = onnx::TensorProto::UINT8;
constexpr int kInt8 = onnx::TensorProto::INT8;
constexpr int kInt32 = onnx::TensorProto::INT32;
constexpr int kInt64 = onnx::TensorProto::INT64;

// The live nodes of g in topological order.
inline std::vector<const Node*> nodes_of(const Graph& g) {
  std::vector<const Node*> r;
  auto order = g.topological_order();
  for (NodeId id : order.value()) r.push_back(&g.node(id));
  return r;
}

inline std::vector<OpKind> kinds_of(const Graph& g) {
  std::vector<OpKind> r;
  for (const Node* n : nodes_of(g)) r.push_back(n->kind);
  return r;
}

}  // namespace neutron::testing
