// The ONNX writer. One pass over the graph in topological order: check that each node is standard
// ONNX (not a CPU-pass artefact), then emit it with its normalized attributes turned back into
// ONNX attributes and constant inputs (the inverse of import/onnx/ops_*.cc). Everything is appended
// in a fixed order (tensor ids, topological node order), so the bytes are deterministic.
#include "export/onnx/onnx_writer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "core/output_files.h"
#include "ir/printer.h"

namespace neutron {
namespace {

constexpr int kMinOpset = 13;
constexpr int kMaxOpset = 17;  // newest opset the importer reads; Split/Reduce/Pad/Resize change in 18

int32_t onnx_elem_type(DType t) {
  switch (t) {
    case DType::F32: return onnx::TensorProto::FLOAT;
    case DType::U8: return onnx::TensorProto::UINT8;
    case DType::I8: return onnx::TensorProto::INT8;
    case DType::I16: return onnx::TensorProto::INT16;
    case DType::I32: return onnx::TensorProto::INT32;
    case DType::I64: return onnx::TensorProto::INT64;
    case DType::Bool: return onnx::TensorProto::BOOL;
    default: return onnx::TensorProto::UNDEFINED;
  }
}

bool is_data_movement(OpKind k) {
  switch (k) {
    case OpKind::Identity:
    case OpKind::Dropout:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::Split:
    case OpKind::Concat: return true;
    default: return false;
  }
}

// A scalar of dtype `t` holding v (Clip bounds, Pad's constant value).
StatusOr<TensorData> scalar_of(DType t, double v) {
  TensorData d(t, {});
  auto to_int = [&](double lo, double hi) { return int64_t(std::llround(std::clamp(v, lo, hi))); };
  switch (t) {
    case DType::F32: *d.data<float>() = float(v); break;
    case DType::I8: *d.data<int8_t>() = int8_t(to_int(-128, 127)); break;
    case DType::U8: *d.data<uint8_t>() = uint8_t(to_int(0, 255)); break;
    case DType::I16: *d.data<int16_t>() = int16_t(to_int(-32768, 32767)); break;
    case DType::I32: *d.data<int32_t>() = int32_t(to_int(-2147483648.0, 2147483647.0)); break;
    case DType::I64: *d.data<int64_t>() = to_int(-9.2e18, 9.2e18); break;
    default: return error(Error::NotSupported, "a ", dtype_name(t), " scalar operand cannot be written");
  }
  return d;
}

TensorData ints_1d(const std::vector<int64_t>& v) {
  TensorData t(DType::I64, {int64_t(v.size())});
  std::copy(v.begin(), v.end(), t.data<int64_t>());  // (TensorData::from memcpys, UB for an empty v)
  return t;
}

class Writer {
 public:
  Writer(const Graph& g, const OnnxExportOptions& opts) : g_(g), opts_(opts) {}
  StatusOr<std::string> run();

 private:
  // ---- names ----
  std::string fresh(const std::string& base);
  void assign_tensor_names();
  const std::string& name_of(TensorId t) const { return names_[size_t(t)]; }

  // ---- emission helpers ----
  void fill_type(onnx::ValueInfoProto* v, const std::string& name, const Tensor& t);
  void add_initializer(const std::string& name, const TensorData& d);
  // A new initializer named "<node>/<what>"; returns its name.
  std::string add_operand(const std::string& node, const std::string& what, const TensorData& d);
  Status check_node(NodeId id);
  Status write_node(NodeId id);
  Status write_attrs(NodeId id, onnx::NodeProto* p);
  Status quant_operands(NodeId id, TensorId q, onnx::NodeProto* p);
  Status write_outputs();

  const Graph& g_;
  const OnnxExportOptions& opts_;
  onnx::ModelProto model_;
  onnx::GraphProto* gp_ = nullptr;
  std::vector<std::string> names_;            // per tensor id; empty for unreferenced tensors
  std::vector<char> referenced_;
  std::set<std::string> used_names_;          // every value name in the file
  std::map<TensorId, std::string> init_name_; // constants written under another name
  std::map<TensorId, std::pair<std::string, std::string>> quant_inits_;  // (scale, zero point)
  std::vector<onnx::NodeProto> pre_nodes_, post_nodes_;  // Identity nodes for graph outputs
  std::vector<std::string> output_names_;
  int opset_ = 13;  // written: opts.opset, raised for ops that need newer ones
};

std::string Writer::fresh(const std::string& base) {
  if (used_names_.insert(base).second) return base;
  for (int k = 1;; ++k) {
    std::string c = base + "_" + std::to_string(k);
    if (used_names_.insert(c).second) return c;
  }
}

void Writer::assign_tensor_names() {
  referenced_.assign(g_.num_tensors(), 0);
  for (TensorId t : g_.inputs) referenced_[size_t(t)] = 1;
  for (TensorId t : g_.outputs) referenced_[size_t(t)] = 1;
  for (NodeId id : g_.live_nodes()) {
    const Node& n = g_.node(id);
    for (TensorId t : n.inputs)
      if (t != kNoTensor) referenced_[size_t(t)] = 1;
    for (TensorId t : n.outputs)
      if (t != kNoTensor) referenced_[size_t(t)] = 1;
  }
  // First reserve every referenced name as is, so that a name's first owner keeps it and only
  // later duplicates (or empty names) are renamed.
  names_.assign(g_.num_tensors(), std::string());
  std::vector<char> renamed(g_.num_tensors(), 0);
  for (size_t i = 0; i < g_.num_tensors(); ++i) {
    if (!referenced_[i]) continue;
    const std::string& nm = g_.tensor(TensorId(i)).name;
    if (!nm.empty() && used_names_.insert(nm).second) names_[i] = nm;
    else renamed[i] = 1;
  }
  for (size_t i = 0; i < g_.num_tensors(); ++i) {
    if (!renamed[i]) continue;
    const std::string& nm = g_.tensor(TensorId(i)).name;
    names_[i] = fresh(nm.empty() ? "tensor_" + std::to_string(i) : nm);
  }
}

void Writer::fill_type(onnx::ValueInfoProto* v, const std::string& name, const Tensor& t) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx_elem_type(t.dtype));
  auto* shape = tt->mutable_shape();
  for (int64_t d : t.shape) shape->add_dim()->set_dim_value(d);
}

void Writer::add_initializer(const std::string& name, const TensorData& d) {
  onnx::TensorProto* p = gp_->add_initializer();
  p->set_name(name);
  p->set_data_type(onnx_elem_type(d.dtype));
  for (int64_t s : d.shape) p->add_dims(s);
  // IR constants are host-order bytes; every host we build for is little-endian, as ONNX's
  // raw_data is.
  p->set_raw_data(std::string(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size()));
}

std::string Writer::add_operand(const std::string& node, const std::string& what, const TensorData& d) {
  const std::string name = fresh(node + "/" + what);
  add_initializer(name, d);
  return name;
}

// Whether node `id` is standard ONNX: no CPU-pass attributes, no int8 compute.
Status Writer::check_node(NodeId id) {
  const Node& n = g_.node(id);
  const char* kAdvice = "; export the graph before the CPU passes (cpu_pipeline: fold-qdq, layout-nhwc)";
  if (n.attrs.get_int("channels_last", 0) != 0)
    return error(Error::NotSupported, describe(g_, id),
                 " has channels_last=1 (NHWC, set by layout-nhwc), which standard ONNX cannot express", kAdvice);
  if (n.attrs.has("act_min") || n.attrs.has("act_max"))
    return error(Error::NotSupported, describe(g_, id),
                 " has a fused activation (act_min/act_max, set by fold-qdq), which standard ONNX cannot express",
                 kAdvice);
  auto quantized = [&](TensorId t) { return t != kNoTensor && g_.tensor(t).is_quantized(); };
  if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear) {
    const bool q = n.kind == OpKind::QuantizeLinear;
    const TensorId x = n.input(0);
    const TensorId y = n.outputs.empty() ? kNoTensor : n.outputs[0];
    if (n.inputs.size() != 1 || n.outputs.size() != 1 || x == kNoTensor || y == kNoTensor)
      return error(Error::InvalidModel, describe(g_, id), " must have one input and one output");
    const Tensor& qt = g_.tensor(q ? y : x);
    const Tensor& ft = g_.tensor(q ? x : y);
    if (ft.dtype != DType::F32 || ft.is_quantized())
      return error(Error::NotSupported, describe(g_, id), ": ", q ? "input" : "output", " '", ft.name, "' is ",
                   dtype_name(ft.dtype), "; ONNX ", op_kind_name(n.kind), " needs a float32 ", q ? "input" : "output");
    const bool ok_dtype = qt.dtype == DType::I8 || qt.dtype == DType::U8 || (!q && qt.dtype == DType::I32);
    if (!ok_dtype)
      return error(Error::NotSupported, describe(g_, id), ": ", q ? "output" : "input", " '", qt.name, "' is ",
                   dtype_name(qt.dtype), "; ONNX ", op_kind_name(n.kind), " (opsets ", kMinOpset, " to ", kMaxOpset,
                   ") supports ", q ? "u8 and i8" : "u8, i8 and i32");
    if (!qt.is_quantized())
      return error(Error::InvalidModel, describe(g_, id), ": '", qt.name, "' has no quantization parameters");
    return Status::OK();
  }
  std::vector<TensorId> io = n.inputs;
  io.insert(io.end(), n.outputs.begin(), n.outputs.end());
  const Tensor* first_q = nullptr;
  for (TensorId t : io) {
    if (!quantized(t)) continue;
    const Tensor& tt = g_.tensor(t);
    if (!is_data_movement(n.kind))
      return error(Error::NotSupported, describe(g_, id), " computes on the quantized tensor '", tt.name, "' (",
                   tensor_type_str(tt), "), an integer op (fold-qdq) that standard ONNX cannot express",
                   kAdvice);
    if (first_q && first_q->quant != tt.quant)
      return error(Error::NotSupported, describe(g_, id), " moves quantized data from '", first_q->name, "' to '",
                   tt.name, "' with different quantization parameters (a requantization) that standard ONNX cannot express",
                   kAdvice);
    if (!first_q) first_q = &tt;
  }
  return Status::OK();
}

// Copies IR attributes to ONNX attributes and records which ones were consumed, so that an IR
// attribute the writer does not know is an error instead of being dropped silently.
class AttrWriter {
 public:
  AttrWriter(const Graph& g, NodeId id, onnx::NodeProto* p) : g_(g), id_(id), n_(g.node(id)), p_(p) {}
  const Attributes& attrs() const { return n_.attrs; }
  bool has(const char* name) const { return n_.attrs.has(name); }
  void consume(const char* name) { consumed_.insert(name); }

  void put_int(const char* name, int64_t v) {
    auto* a = add(name, onnx::AttributeProto::INT);
    a->set_i(v);
  }
  void put_float(const char* name, double v) {
    auto* a = add(name, onnx::AttributeProto::FLOAT);
    a->set_f(float(v));
  }
  void put_string(const char* name, const std::string& v) {
    auto* a = add(name, onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  void put_ints(const char* name, const std::vector<int64_t>& v) {
    auto* a = add(name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  // Copy when present (IR attribute name = ONNX attribute name).
  void copy_int(const char* name) {
    consume(name);
    if (has(name)) put_int(name, n_.attrs.get_int(name, 0));
  }
  void copy_float(const char* name) {
    consume(name);
    if (has(name)) put_float(name, n_.attrs.get_float(name, 0));
  }
  void copy_string(const char* name) {
    consume(name);
    if (has(name)) put_string(name, n_.attrs.get_string(name, ""));
  }
  void copy_ints(const char* name) {
    consume(name);
    if (has(name)) put_ints(name, n_.attrs.get_ints(name));
  }
  // Every IR attribute must have been consumed.
  Status finish() const {
    for (const auto& [k, v] : n_.attrs.all())
      if (!consumed_.count(k))
        return error(Error::NotSupported, describe(g_, id_), ": attribute ", k,
                     " has no ONNX equivalent (not an attribute of the ONNX op, nor one of its inputs)");
    return Status::OK();
  }

 private:
  onnx::AttributeProto* add(const char* name, onnx::AttributeProto::AttributeType type) {
    consumed_.insert(name);
    auto* a = p_->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }
  const Graph& g_;
  NodeId id_;
  const Node& n_;
  onnx::NodeProto* p_;
  std::set<std::string> consumed_;
};

// The (scale, zero point) initializers of quantized tensor q, shared by its Q and DQ nodes, and
// the axis attribute when per-axis.
Status Writer::quant_operands(NodeId id, TensorId q, onnx::NodeProto* p) {
  const Tensor& t = g_.tensor(q);
  const QuantParams& qp = t.quant;
  auto it = quant_inits_.find(q);
  if (it == quant_inits_.end()) {
    if (qp.zero_point.size() != qp.scale.size())
      return error(Error::InvalidModel, describe(g_, id), ": '", t.name, "' has ", qp.scale.size(), " scales but ",
                   qp.zero_point.size(), " zero points");
    const Shape shape = qp.per_axis() ? Shape{int64_t(qp.scale.size())} : Shape{};
    TensorData scale = TensorData::from<float>(shape, qp.scale);
    TensorData zp(t.dtype, shape);
    for (size_t i = 0; i < qp.zero_point.size(); ++i) {
      const int32_t z = qp.zero_point[i];
      switch (t.dtype) {
        case DType::I8: zp.data<int8_t>()[i] = int8_t(z); break;
        case DType::U8: zp.data<uint8_t>()[i] = uint8_t(z); break;
        case DType::I32: zp.data<int32_t>()[i] = z; break;
        default: return error(Error::Internal, describe(g_, id), ": unexpected quantized dtype");
      }
    }
    const std::string sname = fresh(name_of(q) + "_scale");
    const std::string zname = fresh(name_of(q) + "_zero_point");
    add_initializer(sname, scale);
    add_initializer(zname, zp);
    it = quant_inits_.emplace(q, std::make_pair(sname, zname)).first;
  }
  p->add_input(it->second.first);
  p->add_input(it->second.second);
  if (qp.per_axis()) {
    auto* a = p->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(qp.axis);
  }
  return Status::OK();
}

Status Writer::write_attrs(NodeId id, onnx::NodeProto* p) {
  const Node& n = g_.node(id);
  AttrWriter a(g_, id, p);
  a.consume("channels_last");  // 0 here (check_node)
  a.consume("keep_float");     // the quantizer's mark; ONNX has no place for it (dropped)
  const TensorId x = n.input(0);
  const Tensor* xt = x == kNoTensor ? nullptr : &g_.tensor(x);
  // Appends constant operand `d` as ONNX input slot `slot` (earlier absent slots become "").
  auto operand = [&](int slot, const std::string& what, const TensorData& d) {
    while (p->input_size() < slot) p->add_input("");
    p->add_input(add_operand(p->name(), what, d));
  };
  switch (n.kind) {
    case OpKind::Conv:
    case OpKind::ConvTranspose:
      a.copy_ints("kernel_shape");
      a.copy_ints("strides");
      a.copy_ints("dilations");
      a.copy_ints("pads");
      a.copy_int("group");
      if (n.kind == OpKind::ConvTranspose) a.copy_ints("output_padding");
      break;
    case OpKind::Gemm:
      a.copy_float("alpha");
      a.copy_float("beta");
      a.copy_int("transA");
      a.copy_int("transB");
      break;
    case OpKind::BatchNormalization: a.copy_float("epsilon"); break;
    case OpKind::Clip: {
      a.consume("min");
      a.consume("max");
      if (!xt) break;
      if (a.has("min")) {
        ASSIGN_OR_RETURN(TensorData lo, scalar_of(xt->dtype, a.attrs().get_float("min", 0)));
        operand(1, "min", lo);
      }
      if (a.has("max")) {
        ASSIGN_OR_RETURN(TensorData hi, scalar_of(xt->dtype, a.attrs().get_float("max", 0)));
        operand(2, "max", hi);
      }
      break;
    }
    case OpKind::LeakyRelu: a.copy_float("alpha"); break;
    case OpKind::Gather: a.copy_int("axis"); break;
    case OpKind::Gelu: a.copy_string("approximate"); break;  // opset 20
    case OpKind::LayerNormalization:  // opset 17
      a.copy_int("axis");
      a.copy_float("epsilon");
      break;
    case OpKind::Expand:
      a.consume("shape");
      operand(1, "shape", ints_1d(a.attrs().get_ints("shape")));
      break;
    case OpKind::Pow:
      a.consume("exponent");
      operand(1, "exponent", TensorData::from<float>({}, {float(a.attrs().get_float("exponent", 1.0))}));
      break;
    case OpKind::HardSigmoid:
      a.copy_float("alpha");
      a.copy_float("beta");
      break;
    case OpKind::Softmax:
    case OpKind::Concat: a.copy_int("axis"); break;
    case OpKind::GRU:
    case OpKind::LSTM:
      a.copy_int("hidden_size");
      a.copy_string("direction");
      a.copy_int("linear_before_reset");
      break;
    case OpKind::LpNormalization:
      // ONNX LpNormalization has no eps: F.normalize's max(||x||, eps) differs only for vectors whose
      // norm is below eps (our kernels give 0 for a zero vector either way).
      a.copy_int("axis");
      a.copy_int("p");
      a.consume("eps");
      break;
    case OpKind::MaxPool:
    case OpKind::AveragePool:
      a.copy_ints("kernel_shape");
      a.copy_ints("strides");
      a.copy_ints("pads");
      a.copy_int("ceil_mode");
      if (n.kind == OpKind::MaxPool) {
        a.copy_ints("dilations");
      } else {
        a.copy_int("count_include_pad");
        a.consume("dilations");  // AveragePool has no dilations before opset 19: only all ones
        for (int64_t d : a.attrs().get_ints("dilations"))
          if (d != 1)
            return error(Error::NotSupported, describe(g_, id), ": dilations ", a.attrs().get_ints("dilations"),
                         " cannot be written (ONNX AveragePool has no dilations before opset 19)");
      }
      break;
    case OpKind::Reshape: {
      a.consume("shape");
      const Shape shape = a.attrs().get_ints("shape");
      for (size_t i = 0; i < shape.size(); ++i) {
        // ONNX Reshape copies the input dimension for a 0 unless allowzero=1 (opset 14).
        if (shape[i] != 0 || (xt && i < xt->shape.size() && xt->shape[i] == 0)) continue;
        if (opset_ < 14)
          return error(Error::NotSupported, describe(g_, id), ": shape ", shape,
                       " has a zero dimension, which needs allowzero (opset 14 or newer)");
        a.put_int("allowzero", 1);
        break;
      }
      operand(1, "shape", ints_1d(shape));
      break;
    }
    case OpKind::Transpose: a.copy_ints("perm"); break;
    case OpKind::Slice: {
      for (const char* k : {"starts", "ends", "axes", "steps"}) a.consume(k);
      std::vector<int64_t> ends = a.attrs().get_ints("ends");
      // The IR's end -1 (negative step: through index 0) would mean "last index" in ONNX.
      for (auto& e : ends)
        if (e < 0) e = std::numeric_limits<int64_t>::min();
      operand(1, "starts", ints_1d(a.attrs().get_ints("starts")));
      operand(2, "ends", ints_1d(ends));
      if (a.has("axes")) operand(3, "axes", ints_1d(a.attrs().get_ints("axes")));
      if (a.has("steps")) operand(4, "steps", ints_1d(a.attrs().get_ints("steps")));
      break;
    }
    case OpKind::Split:
      a.copy_int("axis");
      a.consume("split");
      if (a.has("split")) operand(1, "split", ints_1d(a.attrs().get_ints("split")));
      break;
    case OpKind::Pad: {
      a.copy_string("mode");
      a.consume("pads");
      a.consume("value");
      operand(1, "pads", ints_1d(a.attrs().get_ints("pads")));
      const double value = a.attrs().get_float("value", 0);
      if (xt && (value != 0 || a.attrs().get_string("mode", "constant") == "constant")) {
        ASSIGN_OR_RETURN(TensorData v, scalar_of(xt->dtype, value));
        operand(2, "constant_value", v);
      }
      break;
    }
    case OpKind::Resize: {
      a.copy_string("mode");
      a.copy_string("coordinate_transformation_mode");
      a.copy_string("nearest_mode");
      a.consume("scales");
      operand(1, "roi", TensorData(DType::F32, {0}));
      const std::vector<double> scales = a.attrs().get_floats("scales");
      const bool exact = std::all_of(scales.begin(), scales.end(), [](double s) { return double(float(s)) == s; });
      if (exact && !scales.empty()) {
        std::vector<float> f(scales.begin(), scales.end());
        operand(2, "scales", TensorData::from<float>({int64_t(f.size())}, f));
      } else {
        // Scales computed as sizes / input (not float32 values): the output size says it exactly.
        if (n.outputs.empty() || n.outputs[0] == kNoTensor)
          return error(Error::InvalidModel, describe(g_, id), " has no output");
        operand(3, "sizes", ints_1d(g_.tensor(n.outputs[0]).shape));
      }
      break;
    }
    case OpKind::ReduceSum:
    case OpKind::ReduceL2:
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin: {
      a.copy_int("keepdims");
      a.consume("axes");
      const auto axes = a.attrs().get_ints("axes");
      if (!axes.empty()) {
        // Opset 13 takes ReduceSum's axes as an input; the other reductions from opset 18.
        if (n.kind == OpKind::ReduceSum || opset_ >= 18) operand(1, "axes", ints_1d(axes));
        else a.put_ints("axes", axes);
      }
      break;
    }
    case OpKind::Cast: {
      a.consume("to");
      const int64_t to = a.attrs().get_int("to", 0);
      const int32_t onnx_to = to > 0 && to < 256 ? onnx_elem_type(DType(to)) : int32_t(onnx::TensorProto::UNDEFINED);
      if (onnx_to == onnx::TensorProto::UNDEFINED)
        return error(Error::InvalidModel, describe(g_, id), ": attribute to=", to, " is not a known dtype");
      a.put_int("to", onnx_to);
      break;
    }
    case OpKind::QuantizeLinear: RETURN_IF_ERROR(quant_operands(id, n.outputs[0], p)); break;
    case OpKind::DequantizeLinear: RETURN_IF_ERROR(quant_operands(id, n.inputs[0], p)); break;
    default: break;  // no attributes: MatMul, unary ops, PRelu, binary ops, global pools, Identity, Dropout
  }
  return a.finish();
}

Status Writer::write_node(NodeId id) {
  const Node& n = g_.node(id);
  RETURN_IF_ERROR(check_node(id));
  onnx::NodeProto* p = gp_->add_node();
  p->set_name(n.name.empty() ? str_cat(op_kind_name(n.kind), "_", id) : n.name);
  // PowTensor is ONNX Pow with a tensor exponent; every other IR op is the ONNX op of its name.
  p->set_op_type(n.kind == OpKind::PowTensor ? "Pow" : op_kind_name(n.kind));
  for (TensorId t : n.inputs) p->add_input(t == kNoTensor ? std::string() : name_of(t));
  for (TensorId t : n.outputs) p->add_output(t == kNoTensor ? std::string() : name_of(t));
  // Trailing omitted inputs and outputs are left out (ONNX allows both spellings).
  while (p->input_size() > 0 && p->input(p->input_size() - 1).empty()) p->mutable_input()->RemoveLast();
  while (p->output_size() > 0 && p->output(p->output_size() - 1).empty()) p->mutable_output()->RemoveLast();
  RETURN_IF_ERROR(write_attrs(id, p));
  for (TensorId t : n.outputs) {
    if (t == kNoTensor || g_.is_graph_output(t)) continue;
    const Tensor& tt = g_.tensor(t);
    if (onnx_elem_type(tt.dtype) != onnx::TensorProto::UNDEFINED) fill_type(gp_->add_value_info(), name_of(t), tt);
  }
  return Status::OK();
}

// Graph outputs. A constant output is written as Identity(initializer); a tensor listed twice
// gets an Identity copy under a new name (ONNX graph outputs are distinct values).
Status Writer::write_outputs() {
  std::set<TensorId> listed;
  for (TensorId t : g_.outputs) {
    const Tensor& tt = g_.tensor(t);
    std::string out = name_of(t);
    auto identity = [&](const std::string& from, const std::string& to) {
      onnx::NodeProto p;
      p.set_name(to + "/identity");
      p.set_op_type("Identity");
      p.add_input(from);
      p.add_output(to);
      return p;
    };
    if (listed.count(t)) {
      out = fresh(name_of(t));
      post_nodes_.push_back(identity(name_of(t), out));
    } else if (tt.is_constant()) {
      const std::string init = fresh(name_of(t) + "_value");
      init_name_[t] = init;
      pre_nodes_.push_back(identity(init, out));
    }
    listed.insert(t);
    output_names_.push_back(out);
    if (onnx_elem_type(tt.dtype) == onnx::TensorProto::UNDEFINED)
      return error(Error::NotSupported, "graph output '", tt.name, "' has dtype ", dtype_name(tt.dtype));
  }
  return Status::OK();
}

StatusOr<std::string> Writer::run() {
  if (opts_.opset < kMinOpset || opts_.opset > kMaxOpset)
    return error(Error::InvalidArgument, "ONNX export: opset ", opts_.opset, " is not supported (", kMinOpset, " to ",
                 kMaxOpset, " are)");
  if (opts_.ir_version < 7)
    return error(Error::InvalidArgument, "ONNX export: IR version ", opts_.ir_version, " is too old for opset ",
                 opts_.opset, " (7 or newer is needed)");
  ASSIGN_OR_RETURN(std::vector<NodeId> order, g_.topological_order());
  opset_ = opts_.opset;
  for (NodeId id : order)
    switch (g_.node(id).kind) {
      case OpKind::HardSwish: opset_ = std::max(opset_, 14); break;
      case OpKind::LayerNormalization: opset_ = std::max(opset_, 17); break;
      case OpKind::Gelu: opset_ = std::max(opset_, 20); break;  // the importer reads up to 20
      default: break;
    }

  model_.set_ir_version(opts_.ir_version);
  model_.set_producer_name(opts_.producer_name);
  if (!opts_.producer_version.empty()) model_.set_producer_version(opts_.producer_version);
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset_);
  gp_ = model_.mutable_graph();
  gp_->set_name(g_.name.empty() ? "main" : g_.name);

  assign_tensor_names();
  RETURN_IF_ERROR(write_outputs());

  for (TensorId t : g_.inputs) {
    const Tensor& tt = g_.tensor(t);
    if (onnx_elem_type(tt.dtype) == onnx::TensorProto::UNDEFINED)
      return error(Error::NotSupported, "graph input '", tt.name, "' has dtype ", dtype_name(tt.dtype));
    fill_type(gp_->add_input(), name_of(t), tt);
  }
  for (size_t i = 0; i < g_.num_tensors(); ++i) {
    const Tensor& tt = g_.tensor(TensorId(i));
    if (!referenced_[i] || !tt.is_constant()) continue;
    if (onnx_elem_type(tt.data->dtype) == onnx::TensorProto::UNDEFINED)
      return error(Error::NotSupported, "constant '", tt.name, "' has dtype ", dtype_name(tt.data->dtype));
    auto renamed = init_name_.find(TensorId(i));
    add_initializer(renamed == init_name_.end() ? name_of(TensorId(i)) : renamed->second, *tt.data);
  }
  for (auto& p : pre_nodes_) *gp_->add_node() = std::move(p);
  for (NodeId id : order) RETURN_IF_ERROR(write_node(id));
  for (auto& p : post_nodes_) *gp_->add_node() = std::move(p);
  for (size_t i = 0; i < g_.outputs.size(); ++i) fill_type(gp_->add_output(), output_names_[i], g_.tensor(g_.outputs[i]));

  const size_t size = model_.ByteSizeLong();
  if (size > size_t(INT_MAX))
    return error(Error::NotSupported, "ONNX export: the model needs ", size,
                 " bytes; protobuf files are limited to 2 GiB (external data is not supported)");
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream sos(&bytes);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    if (!model_.SerializeToCodedStream(&cos)) return error(Error::Internal, "ONNX export: protobuf serialization failed");
  }
  return bytes;
}

}  // namespace

StatusOr<std::string> export_onnx(const Graph& g, const OnnxExportOptions& opts) { return Writer(g, opts).run(); }

Status export_onnx_file(const Graph& g, const std::string& path, const OnnxExportOptions& opts) {
  ASSIGN_OR_RETURN(std::string bytes, export_onnx(g, opts));
  return write_file_atomically(path, std::move(bytes));
}

}  // namespace neutron
