#include "import/onnx/import_context.h"

#include "import/onnx/constant_fold.h"
#include "import/onnx/tensor_proto.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"

namespace neutron {

std::string NodeCtx::prefix() const { return str_cat(s_.file, ": node '", name_, "' (op ", op(), ", opset ", opset(), "): "); }

Status NodeCtx::init() {
  for (const auto& a : proto_.attribute()) {
    auto type = a.type();
    if (type == onnx::AttributeProto::UNDEFINED) {  // old writers leave the type out
      if (a.has_f()) type = onnx::AttributeProto::FLOAT;
      else if (a.has_i()) type = onnx::AttributeProto::INT;
      else if (a.has_s()) type = onnx::AttributeProto::STRING;
      else if (a.has_t()) type = onnx::AttributeProto::TENSOR;
      else if (a.ints_size()) type = onnx::AttributeProto::INTS;
      else if (a.floats_size()) type = onnx::AttributeProto::FLOATS;
    }
    switch (type) {
      case onnx::AttributeProto::FLOAT: attrs_.set(a.name(), double(a.f())); break;
      case onnx::AttributeProto::INT: attrs_.set(a.name(), int64_t(a.i())); break;
      case onnx::AttributeProto::STRING: attrs_.set(a.name(), a.s()); break;
      case onnx::AttributeProto::INTS: attrs_.set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end())); break;
      case onnx::AttributeProto::FLOATS: attrs_.set(a.name(), std::vector<double>(a.floats().begin(), a.floats().end())); break;
      case onnx::AttributeProto::TENSOR: tensor_attrs_[a.name()] = &a.t(); break;
      default:
        // Graphs, sparse tensors, string lists: no op we map reads them; keep the name so that
        // mappers that care (Constant) can reject them.
        attrs_.set(a.name(), std::string("<unsupported attribute type ") + std::to_string(int(type)) + ">");
        break;
    }
  }
  return Status::OK();
}

std::vector<std::string> NodeCtx::strings_attr(const std::string& a) const {
  for (const auto& at : proto_.attribute())
    if (at.name() == a) return std::vector<std::string>(at.strings().begin(), at.strings().end());
  return {};
}

TensorId NodeCtx::in(size_t i) const {
  if (!has_input(i)) return kNoTensor;
  auto it = s_.values.find(input_name(i));
  return it == s_.values.end() ? kNoTensor : it->second;
}

StatusOr<TensorId> NodeCtx::req(size_t i, const char* what) const {
  TensorId t = in(i);
  if (t == kNoTensor) return fail(Error::InvalidModel, "required input ", i, " (", what, ") is missing");
  return t;
}

StatusOr<const TensorData*> NodeCtx::constant(size_t i, const char* what) const {
  ASSIGN_OR_RETURN(TensorId t, req(i, what));
  const Tensor& tt = tensor(t);
  if (!tt.is_constant())
    return fail(Error::NotSupported, "input ", i, " (", what, ") '", tt.name,
                "' must be a constant (an initializer or computed from constants); it is computed at run time");
  return tt.data.get();
}

StatusOr<std::vector<int64_t>> NodeCtx::constant_ints(size_t i, const char* what) const {
  ASSIGN_OR_RETURN(const TensorData* d, constant(i, what));
  if (d->dtype != DType::I64 && d->dtype != DType::I32)
    return fail(Error::InvalidModel, "input ", i, " (", what, ") must be int64, is ", dtype_name(d->dtype));
  std::vector<int64_t> r(size_t(d->count()));
  for (int64_t k = 0; k < d->count(); ++k) r[size_t(k)] = d->get_as_int(k);
  return r;
}

StatusOr<std::vector<double>> NodeCtx::constant_floats(size_t i, const char* what) const {
  ASSIGN_OR_RETURN(const TensorData* d, constant(i, what));
  if (d->dtype == DType::Bool) return fail(Error::InvalidModel, "input ", i, " (", what, ") must be numeric, is bool");
  std::vector<double> r(size_t(d->count()));
  for (int64_t k = 0; k < d->count(); ++k) r[size_t(k)] = d->get_as_double(k);
  return r;
}

void NodeCtx::bind_constant(size_t i, TensorData d) {
  if (!has_output(i)) return;
  s_.values[output_name(i)] = s_.g.add_constant(output_name(i), std::move(d));
}

TensorId NodeCtx::add_constant(const std::string& suffix, TensorData d, QuantParams q) {
  return s_.g.add_constant(temp_name(suffix), std::move(d), std::move(q));
}

StatusOr<std::vector<TensorId>> NodeCtx::emit_node(OpKind kind, std::vector<TensorId> inputs, Attributes attrs,
                                                   std::vector<Out> outs, const std::string& suffix) {
  Graph& g = s_.g;
  Node n;
  n.kind = kind;
  n.name = suffix.empty() ? name_ : name_ + "/" + suffix;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  for (auto& o : outs) {
    Tensor t;
    t.name = o.name.empty() ? temp_name(suffix.empty() ? std::string(op_kind_name(kind)) : suffix) : o.name;
    t.dtype = o.dtype;
    t.quant = o.quant;
    n.outputs.push_back(g.add_tensor(std::move(t)));
  }
  const NodeId id = g.add_node(std::move(n));
  std::vector<TensorType> types;
  Status st = infer_node_types(g, id, &types);
  if (!st.ok()) {
    g.remove_node(id);
    std::string msg = st.message();
    const std::string own = describe(g, id) + ": ";
    if (suffix.empty() && msg.compare(0, own.size(), own) == 0) msg = msg.substr(own.size());
    return fail(st.code(), msg);
  }
  const std::vector<TensorId> result = g.node(id).outputs;
  for (size_t i = 0; i < types.size() && i < result.size(); ++i) {
    g.tensor(result[i]).dtype = types[i].dtype;
    g.tensor(result[i]).shape = types[i].shape;
  }
  auto folded = try_fold_node(g, id);
  if (!folded.ok()) return fail(folded.status().code(), "constant folding: ", folded.status().message());
  if (folded.value().has_value()) {
    g.remove_node(id);
    Tensor& t = g.tensor(result[0]);
    t.data = std::make_shared<const TensorData>(std::move(*folded.value()));
    t.producer = -1;
  }
  return result;
}

StatusOr<TensorId> NodeCtx::emit(OpKind kind, std::vector<TensorId> inputs, Attributes attrs, size_t output_index,
                                 Out spec) {
  if (has_output(output_index)) spec.name = output_name(output_index);
  ASSIGN_OR_RETURN(auto outs, emit_node(kind, std::move(inputs), std::move(attrs), {std::move(spec)}));
  bind_output(output_index, outs[0]);
  return outs[0];
}

StatusOr<TensorId> NodeCtx::emit_temp(OpKind kind, std::vector<TensorId> inputs, Attributes attrs,
                                      const std::string& suffix, Out spec) {
  spec.name.clear();
  ASSIGN_OR_RETURN(auto outs, emit_node(kind, std::move(inputs), std::move(attrs), {std::move(spec)}, suffix));
  return outs[0];
}

Status NodeCtx::attach_quant(TensorId* t, const QuantParams& q, const char* what) {
  Tensor& tt = s_.g.tensor(*t);
  if (!is_quantized_integer(tt.dtype))
    return fail(Error::NotSupported, what, " '", tt.name, "' is ", dtype_name(tt.dtype),
                "; quantized tensors must be i8, u8, i16 or i32");
  if (tt.quant.empty()) {
    tt.quant = q;
    return Status::OK();
  }
  if (tt.quant == q) return Status::OK();
  if (tt.is_constant()) {
    Tensor copy = tt;
    copy.name = s_.g.unique_tensor_name(tt.name + "_q");
    copy.quant = q;
    copy.producer = -1;
    *t = s_.g.add_tensor(std::move(copy));
    return Status::OK();
  }
  Tensor probe = tt;
  probe.quant = q;
  return fail(Error::NotSupported, what, " '", tt.name, "' is dequantized as ", tensor_type_str(probe),
              ", but it is already quantized as ", tensor_type_str(tt));
}

}  // namespace neutron
