// Binary elementwise ops (Add, Sub, Mul, Div, Max, Min, PRelu, PowTensor) on f32 and plain integers.
// Quantized int8 nodes are lowered and run as kernel calls (bind_lowered_int8).
// A float Add/Sub may carry a fused activation (act_relu / act_min / act_max, set by the
// fuse-activation pass for same-shape operands; ir/op_attrs.h), applied in the same pass.
#include <cmath>
#include <limits>

#include "kernels/elementwise.h"

#include "exec/ops/binders.h"

namespace neutron {
namespace {

bool binary_op_of(OpKind k, BinaryOp* op) {
  switch (k) {
    case OpKind::Add: *op = BinaryOp::Add; return true;
    case OpKind::Sub: *op = BinaryOp::Sub; return true;
    case OpKind::Mul: *op = BinaryOp::Mul; return true;
    case OpKind::Div: *op = BinaryOp::Div; return true;
    case OpKind::Max: *op = BinaryOp::Max; return true;
    case OpKind::Min: *op = BinaryOp::Min; return true;
    case OpKind::PRelu: *op = BinaryOp::PRelu; return true;
    case OpKind::PowTensor: *op = BinaryOp::Pow; return true;
    default: return false;
  }
}

}  // namespace

StatusOr<StepPtr> bind_binary(const Graph& g, NodeId id) {
  if (is_int8_node(g, id)) return bind_lowered_int8(g, id);
  const Node& n = g.node(id);
  BinaryOp op;
  CHECK_OR_RETURN(binary_op_of(n.kind, &op), Error::Internal, describe(g, id), ": not a binary op");
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g, id), ": expects 2 inputs and 1 output");
  const TensorId ai = n.inputs[0], bi = n.inputs[1], yi = n.outputs[0];
  const Tensor& a = g.tensor(ai);
  const Tensor& b = g.tensor(bi);
  const Tensor& y = g.tensor(yi);
  CHECK_OR_RETURN(!a.is_quantized() && !b.is_quantized() && !y.is_quantized(), Error::NotSupported, describe(g, id),
                  ": quantized ", dtype_name(a.dtype), " operands are only supported as int8 with quantized input 0");
  CHECK_OR_RETURN(a.dtype == b.dtype && a.dtype == y.dtype, Error::InvalidModel, describe(g, id), ": operand dtypes ",
                  dtype_name(a.dtype), ", ", dtype_name(b.dtype), " and output ", dtype_name(y.dtype), " differ");
  BroadcastParams bp;
  CHECK_OR_RETURN(prepare_broadcast(Span<const int64_t>(a.shape), Span<const int64_t>(b.shape), &bp),
                  Error::InvalidModel, describe(g, id), ": shapes ", shape_str(a.shape), " and ", shape_str(b.shape),
                  " do not broadcast (or rank > ", kMaxBroadcastRank, ")");
  CHECK_OR_RETURN(bp.out_count == num_elements(y.shape), Error::InvalidModel, describe(g, id), ": output shape ",
                  shape_str(y.shape), " is not the broadcast of ", shape_str(a.shape), " and ", shape_str(b.shape));
  const bool act_relu = n.attrs.get_int("act_relu", 0) != 0;
  const bool has_act = act_relu || n.attrs.has("act_min") || n.attrs.has("act_max");
  if (has_act) {
    const float lo = float(n.attrs.get_float("act_min", -INFINITY)), hi = float(n.attrs.get_float("act_max", INFINITY));
    CHECK_OR_RETURN(a.dtype == DType::F32 && (op == BinaryOp::Add || op == BinaryOp::Sub) && a.shape == b.shape &&
                        a.shape == y.shape && !std::isnan(lo) && !std::isnan(hi) && lo <= hi,
                    Error::InvalidModel, describe(g, id),
                    ": a fused activation needs a float Add/Sub of same-shape operands and ordered bounds");
    const int64_t count = bp.out_count;
    return make_step([=](const RunContext& ctx) {
      binary_f32_act(op, count, ctx.in<float>(ai), ctx.in<float>(bi), ctx.out<float>(yi), act_relu, lo, hi);
    });
  }
  auto make = [&](auto tag) -> StepPtr {
    using T = decltype(tag);
    return make_step(
        [=](const RunContext& ctx) { binary_broadcast<T>(op, bp, ctx.in<T>(ai), ctx.in<T>(bi), ctx.out<T>(yi)); });
  };
  switch (a.dtype) {
    case DType::F32: return make(float{});
    case DType::I8: return make(int8_t{});
    case DType::U8: return make(uint8_t{});
    case DType::I16: return make(int16_t{});
    case DType::I32: return make(int32_t{});
    case DType::I64: return make(int64_t{});
    default:
      return error(Error::NotSupported, describe(g, id), ": no CPU kernel for ", dtype_name(a.dtype), " operands");
  }
}

}  // namespace neutron
