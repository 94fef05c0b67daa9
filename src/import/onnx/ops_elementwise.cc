// Mappers of elementwise ops: unary math and activations, Clip, binary arithmetic, and the
// variadic Max/Min (a chain of binary nodes).
#include "import/onnx/onnx_ops.h"

namespace neutron {
namespace {

OpKind kind_of(NodeCtx& c) { return *op_kind_from_name(c.op()); }  // table entries name IR ops

StatusOr<double> scalar_operand(NodeCtx& c, size_t i, const char* what) {
  ASSIGN_OR_RETURN(auto v, c.constant_floats(i, what));
  if (v.size() != 1) return c.fail(Error::InvalidModel, "input ", i, " (", what, ") must hold one value, holds ", v.size());
  return v[0];
}

}  // namespace

Status map_unary(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  return c.emit(kind_of(c), {x}, {}).status();
}

Status map_clip(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "input"));
  Attributes a;
  if (c.opset() < 11) {
    if (c.attrs().has("min")) a.set("min", c.attrs().get_float("min", 0));
    if (c.attrs().has("max")) a.set("max", c.attrs().get_float("max", 0));
  } else {
    if (c.has_input(1)) {
      ASSIGN_OR_RETURN(double lo, scalar_operand(c, 1, "min"));
      a.set("min", lo);
    }
    if (c.has_input(2)) {
      ASSIGN_OR_RETURN(double hi, scalar_operand(c, 2, "max"));
      a.set("max", hi);
    }
  }
  return c.emit(OpKind::Clip, {x}, a).status();
}

Status map_leaky_relu(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  Attributes a;
  a.set("alpha", c.attrs().get_float("alpha", 0.01));
  return c.emit(OpKind::LeakyRelu, {x}, a).status();
}

Status map_hard_sigmoid(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  Attributes a;
  a.set("alpha", c.attrs().get_float("alpha", 0.2));
  a.set("beta", c.attrs().get_float("beta", 0.5));
  return c.emit(OpKind::HardSigmoid, {x}, a).status();
}

Status map_prelu(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId x, c.req(0, "X"));
  ASSIGN_OR_RETURN(TensorId slope, c.req(1, "slope"));
  return c.emit(OpKind::PRelu, {x, slope}, {}).status();
}

Status map_binary(NodeCtx& c) {
  ASSIGN_OR_RETURN(TensorId a, c.req(0, "A"));
  ASSIGN_OR_RETURN(TensorId b, c.req(1, "B"));
  return c.emit(kind_of(c), {a, b}, {}).status();
}

Status map_variadic(NodeCtx& c) {
  if (c.num_inputs() == 0) return c.fail(Error::InvalidModel, "needs at least one input");
  ASSIGN_OR_RETURN(TensorId acc, c.req(0, "data_0"));
  if (c.num_inputs() == 1) {
    c.bind_output(0, acc);
    return Status::OK();
  }
  for (size_t i = 1; i < c.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(TensorId next, c.req(i, "data_i"));
    if (i + 1 == c.num_inputs()) {
      ASSIGN_OR_RETURN(acc, c.emit(kind_of(c), {acc, next}, {}));
    } else {
      ASSIGN_OR_RETURN(acc, c.emit_temp(kind_of(c), {acc, next}, {}, str_cat("partial", i)));
    }
  }
  return Status::OK();
}

}  // namespace neutron
