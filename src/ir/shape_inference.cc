// Output dtype and shape rules, one function per op (operands and attributes: ir/op_attrs.h).
//
// Conventions shared by the rules:
//  * Every error names the node (describe()) and the operand or attribute at fault, with the
//    expected and the actual value.
//  * Data tensors of spatial ops are NCHW, or NHWC when the node has channels_last=1; kernel
//    attributes (kernel_shape, strides, pads, dilations) always refer to (H, W); weights keep ONNX
//    layouts (Conv OIHW, ConvTranspose IOHW).
//  * The output dtype of a compute op is its first data input's dtype; an op on quantized i8/u8
//    tensors is the integer version of the op and keeps the integer dtype. Exceptions: Cast (attr
//    `to`), DequantizeLinear (f32) and QuantizeLinear (keeps the dtype already set on its output
//    tensor, i8 when none is set yet).
//  * Pool output sizes with ceil_mode=1 drop a last window that would start in the right padding
//    (PyTorch and ONNX Runtime do this; e.g. in=6, k=2, s=2, pads=1+1 gives 4, not 5).
//  * Resize: scales[i] applies to the data tensor's i-th dimension as stored (the layout pass
//    permutes scales together with the data); out[i] = floor(in[i] * scales[i]) with a 1e-9 guard
//    so that scales computed as sizes/in give back exactly the sizes.
#include "ir/shape_inference.h"

#include "core/memory_budget.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace neutron {
namespace {

struct RuleCtx {
  const Graph& g;
  NodeId id;
  const Node& n;

  template <typename... Args>
  Status fail(const Args&... args) const {
    return error(Error::InvalidModel, describe(g, id), ": ", args...);
  }
  size_t num_inputs() const { return n.inputs.size(); }
  bool has_input(size_t i) const { return i < n.inputs.size() && n.inputs[i] != kNoTensor; }
  const Tensor& in(size_t i) const { return g.tensor(n.inputs[i]); }
  const Attributes& attrs() const { return n.attrs; }
};

using Outputs = std::vector<TensorType>;

// Largest element count a tensor may have; keeps every size computation far from int64 overflow.
constexpr int64_t kMaxElements = int64_t(1) << 40;

// num_elements() that reports negative dimensions and overflow instead of wrapping.
bool checked_elements(const Shape& s, int64_t* n) {
  for (int64_t d : s)
    if (d > kMaxElements) return false;
  return checked_num_elements(s, n) && *n <= kMaxElements;
}
using RuleFn = Status (*)(const RuleCtx&, Outputs*);

std::string operand_name(size_t i, const char* name) { return str_cat("input ", i, " (", name, ")"); }

// Checks that input `i` is present and has a known dtype.
Status require_input(const RuleCtx& c, size_t i, const char* name) {
  if (!c.has_input(i)) return c.fail("missing required ", operand_name(i, name));
  if (c.n.inputs[i] < 0 || size_t(c.n.inputs[i]) >= c.g.num_tensors())
    return c.fail(operand_name(i, name), " refers to tensor id ", c.n.inputs[i], ", which does not exist");
  if (c.in(i).dtype == DType::Invalid)
    return c.fail(operand_name(i, name), " '", c.in(i).name, "' has no dtype (its producer's types are unknown)");
  return Status::OK();
}

Status require_rank(const RuleCtx& c, size_t i, const char* name, size_t rank) {
  RETURN_IF_ERROR(require_input(c, i, name));
  if (c.in(i).shape.size() != rank)
    return c.fail(operand_name(i, name), " '", c.in(i).name, "' must have rank ", rank, ", has shape ",
                  shape_str(c.in(i).shape));
  return Status::OK();
}

Status check_input_count(const RuleCtx& c, size_t min_inputs, size_t max_inputs) {
  if (c.num_inputs() < min_inputs || c.num_inputs() > max_inputs) {
    if (min_inputs == max_inputs) return c.fail("expects ", min_inputs, " input(s), has ", c.num_inputs());
    return c.fail("expects ", min_inputs, " to ", max_inputs, " inputs, has ", c.num_inputs());
  }
  return Status::OK();
}

Status check_output_count(const RuleCtx& c, size_t count) {
  if (c.n.outputs.size() != count) return c.fail("expects ", count, " output(s), has ", c.n.outputs.size());
  return Status::OK();
}

bool is_float(DType t) { return t == DType::F32; }
// f32, or an integer tensor carrying quantization parameters (the integer version of the op).
bool is_float_or_quantized(const Tensor& t) { return t.dtype == DType::F32 || (is_quantized_integer(t.dtype) && t.is_quantized()); }

Status require_float_or_quantized(const RuleCtx& c, size_t i, const char* name) {
  RETURN_IF_ERROR(require_input(c, i, name));
  if (!is_float_or_quantized(c.in(i)))
    return c.fail(operand_name(i, name), " '", c.in(i).name, "' must be f32 or a quantized integer tensor, is ",
                  dtype_name(c.in(i).dtype), c.in(i).is_quantized() ? "" : " without quantization parameters");
  return Status::OK();
}

// Attribute lists of a fixed length, with a default when absent.
Status get_ints_of_size(const RuleCtx& c, const char* attr, size_t size, std::vector<int64_t> def,
                        std::vector<int64_t>* out) {
  *out = c.attrs().get_ints(attr, std::move(def));
  if (out->size() != size) return c.fail("attribute ", attr, " must have ", size, " values, has ", str_cat(*out));
  return Status::OK();
}

// Numpy (multidirectional) broadcasting of two shapes.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  const size_t rank = std::max(a.size(), b.size());
  out->assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    (*out)[i] = da == 1 ? db : da;
  }
  return true;
}

// True when `from` broadcasts to `to` without changing `to` (unidirectional broadcasting).
bool broadcasts_to(const Shape& from, const Shape& to) {
  Shape r;
  return from.size() <= to.size() && broadcast_shapes(from, to, &r) && r == to;
}

// ---- spatial helpers -------------------------------------------------------------------------

struct Spatial {
  bool channels_last = false;
  int64_t n = 0, c = 0, h = 0, w = 0;
  Shape make(int64_t c_out, int64_t h_out, int64_t w_out) const {
    return channels_last ? Shape{n, h_out, w_out, c_out} : Shape{n, c_out, h_out, w_out};
  }
};

Status get_spatial(const RuleCtx& c, Spatial* s) {
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const int64_t cl = c.attrs().get_int("channels_last", 0);
  if (cl != 0 && cl != 1) return c.fail("attribute channels_last must be 0 or 1, is ", cl);
  s->channels_last = cl == 1;
  if (x.size() != 4)
    return c.fail("input 0 (X) '", c.in(0).name, "' must be a 4-D ", s->channels_last ? "NHWC" : "NCHW",
                  " tensor (only 2-D spatial ops are supported), has shape ", shape_str(x));
  s->n = x[0];
  s->c = s->channels_last ? x[3] : x[1];
  s->h = s->channels_last ? x[1] : x[2];
  s->w = s->channels_last ? x[2] : x[3];
  return Status::OK();
}

struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;
};

Status get_window(const RuleCtx& c, const std::vector<int64_t>& default_kernel, Window* w) {
  const bool has_kernel = c.attrs().has("kernel_shape");
  if (!has_kernel && default_kernel.empty()) return c.fail("attribute kernel_shape is required");
  RETURN_IF_ERROR(get_ints_of_size(c, "kernel_shape", 2, default_kernel, &w->kernel));
  RETURN_IF_ERROR(get_ints_of_size(c, "strides", 2, {1, 1}, &w->strides));
  RETURN_IF_ERROR(get_ints_of_size(c, "dilations", 2, {1, 1}, &w->dilations));
  RETURN_IF_ERROR(get_ints_of_size(c, "pads", 4, {0, 0, 0, 0}, &w->pads));
  for (int i = 0; i < 2; ++i) {
    if (w->kernel[i] < 1) return c.fail("attribute kernel_shape must be positive, is ", str_cat(w->kernel));
    if (w->strides[i] < 1) return c.fail("attribute strides must be positive, is ", str_cat(w->strides));
    if (w->dilations[i] < 1) return c.fail("attribute dilations must be positive, is ", str_cat(w->dilations));
  }
  for (int64_t p : w->pads)
    if (p < 0) return c.fail("attribute pads must be non-negative, is ", str_cat(w->pads));
  return Status::OK();
}

// Output size along one spatial axis (pads: begin, end).
Status window_output(const RuleCtx& c, const char* axis, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb,
                     int64_t pe, bool ceil_mode, int64_t* out) {
  const int64_t eff_k = (k - 1) * d + 1;
  const int64_t span = in + pb + pe - eff_k;
  if (span < 0)
    return c.fail("the ", axis, " window (kernel ", k, ", dilation ", d, ") is larger than the padded input (", in,
                  " + pads ", pb, "+", pe, ")");
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (o - 1) * s >= in + pb) --o;  // last window would start in the end padding
  *out = o;
  return Status::OK();
}

// ---- rules -----------------------------------------------------------------------------------

Status rule_conv(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 3));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "X"));
  Spatial s;
  RETURN_IF_ERROR(get_spatial(c, &s));
  RETURN_IF_ERROR(require_rank(c, 1, "W", 4));
  const Shape& w = c.in(1).shape;
  Window win;
  RETURN_IF_ERROR(get_window(c, {w[2], w[3]}, &win));
  if (win.kernel[0] != w[2] || win.kernel[1] != w[3])
    return c.fail("attribute kernel_shape ", str_cat(win.kernel), " does not match the weights' shape ", shape_str(w));
  const int64_t group = c.attrs().get_int("group", 1);
  if (group < 1) return c.fail("attribute group must be positive, is ", group);
  if (s.c != w[1] * group)
    return c.fail("input 0 (X) has ", s.c, " channels, but the weights ", shape_str(w), " with group=", group,
                  " expect ", w[1] * group);
  if (w[0] % group != 0) return c.fail("input 1 (W) has ", w[0], " output channels, not a multiple of group=", group);
  if (c.has_input(2)) {
    RETURN_IF_ERROR(require_input(c, 2, "B"));
    if (c.in(2).shape != Shape{w[0]})
      return c.fail("input 2 (B) '", c.in(2).name, "' must have shape [", w[0], "], has ", shape_str(c.in(2).shape));
  }
  int64_t oh = 0, ow = 0;
  RETURN_IF_ERROR(window_output(c, "H", s.h, win.kernel[0], win.strides[0], win.dilations[0], win.pads[0], win.pads[2],
                                false, &oh));
  RETURN_IF_ERROR(window_output(c, "W", s.w, win.kernel[1], win.strides[1], win.dilations[1], win.pads[1], win.pads[3],
                                false, &ow));
  out->push_back({c.in(0).dtype, s.make(w[0], oh, ow)});
  return Status::OK();
}

Status rule_conv_transpose(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 3));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "X"));
  Spatial s;
  RETURN_IF_ERROR(get_spatial(c, &s));
  RETURN_IF_ERROR(require_rank(c, 1, "W", 4));
  const Shape& w = c.in(1).shape;
  Window win;
  RETURN_IF_ERROR(get_window(c, {w[2], w[3]}, &win));
  if (win.kernel[0] != w[2] || win.kernel[1] != w[3])
    return c.fail("attribute kernel_shape ", str_cat(win.kernel), " does not match the weights' shape ", shape_str(w));
  std::vector<int64_t> output_padding;
  RETURN_IF_ERROR(get_ints_of_size(c, "output_padding", 2, {0, 0}, &output_padding));
  const int64_t group = c.attrs().get_int("group", 1);
  if (group < 1) return c.fail("attribute group must be positive, is ", group);
  if (s.c != w[0])
    return c.fail("input 0 (X) has ", s.c, " channels, but the weights ", shape_str(w), " (IOHW) expect ", w[0]);
  if (w[0] % group != 0) return c.fail("input 1 (W) has ", w[0], " input channels, not a multiple of group=", group);
  const int64_t c_out = w[1] * group;
  if (c.has_input(2)) {
    RETURN_IF_ERROR(require_input(c, 2, "B"));
    if (c.in(2).shape != Shape{c_out})
      return c.fail("input 2 (B) '", c.in(2).name, "' must have shape [", c_out, "], has ", shape_str(c.in(2).shape));
  }
  int64_t o[2];
  const int64_t in[2] = {s.h, s.w};
  for (int i = 0; i < 2; ++i) {
    if (output_padding[i] < 0 || output_padding[i] >= std::max(win.strides[i], win.dilations[i]))
      return c.fail("attribute output_padding ", str_cat(output_padding),
                    " must be non-negative and smaller than the stride or the dilation");
    o[i] = win.strides[i] * (in[i] - 1) + output_padding[i] + (win.kernel[i] - 1) * win.dilations[i] + 1 -
           win.pads[i] - win.pads[i + 2];
    if (o[i] < 1) return c.fail("the pads ", str_cat(win.pads), " leave an empty output");
  }
  out->push_back({c.in(0).dtype, s.make(c_out, o[0], o[1])});
  return Status::OK();
}

Status rule_gemm(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 3));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "A"));
  RETURN_IF_ERROR(require_rank(c, 0, "A", 2));
  RETURN_IF_ERROR(require_rank(c, 1, "B", 2));
  const Shape& a = c.in(0).shape;
  const Shape& b = c.in(1).shape;
  const bool ta = c.attrs().get_int("transA", 0) != 0, tb = c.attrs().get_int("transB", 0) != 0;
  const int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  const int64_t kb = tb ? b[1] : b[0], nn = tb ? b[0] : b[1];
  if (k != kb)
    return c.fail("inner dimensions differ: A ", shape_str(a), (ta ? " (transposed)" : ""), " and B ", shape_str(b),
                  (tb ? " (transposed)" : ""));
  if (c.has_input(2)) {
    RETURN_IF_ERROR(require_input(c, 2, "C"));
    if (!broadcasts_to(c.in(2).shape, {m, nn}))
      return c.fail("input 2 (C) '", c.in(2).name, "' shape ", shape_str(c.in(2).shape), " does not broadcast to [",
                    m, ",", nn, "]");
  }
  out->push_back({c.in(0).dtype, {m, nn}});
  return Status::OK();
}

Status rule_matmul(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 2));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "A"));
  RETURN_IF_ERROR(require_input(c, 1, "B"));
  Shape a = c.in(0).shape, b = c.in(1).shape;
  if (a.empty() || b.empty()) return c.fail("operands must have rank >= 1, are ", shape_str(a), " and ", shape_str(b));
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  if (a.back() != b[b.size() - 2])
    return c.fail("inner dimensions differ: A ", shape_str(c.in(0).shape), " and B ", shape_str(c.in(1).shape));
  Shape batch;
  if (!broadcast_shapes(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2), &batch))
    return c.fail("batch dimensions of A ", shape_str(c.in(0).shape), " and B ", shape_str(c.in(1).shape),
                  " do not broadcast");
  Shape r = batch;
  if (!a_vec) r.push_back(a[a.size() - 2]);
  if (!b_vec) r.push_back(b.back());
  out->push_back({c.in(0).dtype, r});
  return Status::OK();
}

Status rule_batchnorm(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 5, 5));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const bool cl = c.attrs().get_int("channels_last", 0) == 1;
  if (x.size() < 2) return c.fail("input 0 (X) must have rank >= 2, has shape ", shape_str(x));
  const int64_t ch = cl ? x.back() : x[1];
  static const char* kNames[] = {"X", "scale", "B", "mean", "var"};
  for (size_t i = 1; i < 5; ++i) {
    RETURN_IF_ERROR(require_input(c, i, kNames[i]));
    if (c.in(i).shape != Shape{ch})
      return c.fail(operand_name(i, kNames[i]), " '", c.in(i).name, "' must have shape [", ch, "], has ",
                    shape_str(c.in(i).shape));
  }
  out->push_back({c.in(0).dtype, x});
  return Status::OK();
}

// Relu, Sigmoid, Tanh, Abs, Neg, Exp, Log, Sqrt, Reciprocal, HardSwish, Clip, LeakyRelu, HardSigmoid,
// Identity, Dropout, Softmax.
Status rule_unary(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  out->push_back({c.in(0).dtype, c.in(0).shape});
  return Status::OK();
}

Status rule_unary_numeric(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(rule_unary(c, out));
  if (c.in(0).dtype == DType::Bool) return c.fail("input 0 (X) '", c.in(0).name, "' is bool, a number is required");
  return Status::OK();
}

Status rule_clip(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(rule_unary_numeric(c, out));
  const double lo = c.attrs().get_float("min", -INFINITY), hi = c.attrs().get_float("max", INFINITY);
  if (std::isnan(lo) || std::isnan(hi)) return c.fail("attributes min/max must not be NaN");
  if (lo > hi) return c.fail("min (", lo, ") is greater than max (", hi, "): the output range is empty");
  return Status::OK();
}

Status rule_softmax(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "X"));
  const int64_t axis = c.attrs().get_int("axis", -1);
  if (normalize_axis(axis, c.in(0).shape.size()) < 0)
    return c.fail("attribute axis=", axis, " is out of range for input shape ", shape_str(c.in(0).shape));
  out->push_back({c.in(0).dtype, c.in(0).shape});
  return Status::OK();
}

Status rule_lp_normalization(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "X"));
  const int64_t axis = c.attrs().get_int("axis", -1);
  if (normalize_axis(axis, c.in(0).shape.size()) < 0)
    return c.fail("attribute axis=", axis, " is out of range for input shape ", shape_str(c.in(0).shape));
  if (c.attrs().get_int("p", 2) != 2) return c.fail("attribute p=", c.attrs().get_int("p", 2), ": only p = 2 is supported");
  if (!(c.attrs().get_float("eps", 0.0) >= 0.0)) return c.fail("attribute eps must be >= 0");
  out->push_back({c.in(0).dtype, c.in(0).shape});
  return Status::OK();
}

// GRU (gates 3) and LSTM (gates 4): X [T, B, I] -> Y [T, D, B, H], Y_h (and LSTM's Y_c) [D, B, H].
Status rule_recurrent(const RuleCtx& c, Outputs* out) {
  const bool lstm = c.n.kind == OpKind::LSTM;
  const int64_t gates = lstm ? 4 : 3;
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  RETURN_IF_ERROR(require_input(c, 1, "W"));
  RETURN_IF_ERROR(require_input(c, 2, "R"));
  if (c.has_input(4)) return c.fail("sequence_lens is not supported (every sequence has the full length)");
  const std::string dir = c.attrs().get_string("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    return c.fail("attribute direction \"", dir, "\" is not forward, reverse or bidirectional");
  const int64_t D = dir == "bidirectional" ? 2 : 1;
  const int64_t H = c.attrs().get_int("hidden_size", 0);
  const Shape& x = c.in(0).shape;
  if (x.size() != 3) return c.fail("input 0 (X) must be [seq_length, batch, input_size], has shape ", shape_str(x));
  if (H <= 0 || H > (1 << 20)) return c.fail("attribute hidden_size ", H, " must be in [1, 2^20]");
  const Shape w = c.in(1).shape, r = c.in(2).shape;
  if (w != Shape{D, gates * H, x[2]}) return c.fail("input 1 (W) has shape ", shape_str(w), ", expected ", shape_str(Shape{D, gates * H, x[2]}));
  if (r != Shape{D, gates * H, H}) return c.fail("input 2 (R) has shape ", shape_str(r), ", expected ", shape_str(Shape{D, gates * H, H}));
  if (c.has_input(3) && c.in(3).shape != Shape{D, 2 * gates * H})
    return c.fail("input 3 (B) has shape ", shape_str(c.in(3).shape), ", expected ", shape_str(Shape{D, 2 * gates * H}));
  if (c.has_input(7) && (!lstm || c.in(7).shape != Shape{D, 3 * H}))
    return c.fail(lstm ? str_cat("input 7 (P, peepholes) has shape ", shape_str(c.in(7).shape), ", expected ",
                                 shape_str(Shape{D, 3 * H}))
                       : std::string("a GRU has no input 7"));
  for (size_t i : lstm ? std::vector<size_t>{5, 6} : std::vector<size_t>{5})
    if (c.has_input(i) && c.in(i).shape != Shape{D, x[1], H})
      return c.fail("input ", i, " (initial state) has shape ", shape_str(c.in(i).shape), ", expected ",
                    shape_str(Shape{D, x[1], H}));
  if (c.attrs().get_int("layout", 0) != 0) return c.fail("attribute layout 1 (batch first) is not supported");
  if (c.attrs().has("clip")) return c.fail("attribute clip is not supported");
  if (c.attrs().has("activations")) return c.fail("attribute activations is not supported (only the defaults)");
  if (lstm && c.attrs().get_int("input_forget", 0) != 0) return c.fail("attribute input_forget 1 is not supported");
  const DType dt = c.in(0).dtype;
  out->push_back({dt, Shape{x[0], D, x[1], H}});
  out->push_back({dt, Shape{D, x[1], H}});
  if (lstm) out->push_back({dt, Shape{D, x[1], H}});
  return Status::OK();
}

Status rule_prelu(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 2));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  RETURN_IF_ERROR(require_input(c, 1, "slope"));
  if (!broadcasts_to(c.in(1).shape, c.in(0).shape))
    return c.fail("input 1 (slope) '", c.in(1).name, "' shape ", shape_str(c.in(1).shape),
                  " does not broadcast to X's shape ", shape_str(c.in(0).shape));
  out->push_back({c.in(0).dtype, c.in(0).shape});
  return Status::OK();
}

Status rule_binary(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 2));
  RETURN_IF_ERROR(require_input(c, 0, "A"));
  RETURN_IF_ERROR(require_input(c, 1, "B"));
  const Tensor& a = c.in(0);
  const Tensor& b = c.in(1);
  if (a.dtype != b.dtype)
    return c.fail("operands have different dtypes: A '", a.name, "' is ", dtype_name(a.dtype), ", B '", b.name, "' is ",
                  dtype_name(b.dtype));
  if (a.dtype == DType::Bool) return c.fail("input 0 (A) '", a.name, "' is bool, a number is required");
  Shape r;
  if (!broadcast_shapes(a.shape, b.shape, &r))
    return c.fail("shapes of A ", shape_str(a.shape), " and B ", shape_str(b.shape), " do not broadcast");
  out->push_back({a.dtype, r});
  return Status::OK();
}

// MaxPool also takes plain integer tensors (it only compares values); AveragePool needs f32 or
// quantized integers.
Status require_pool_input(const RuleCtx& c) {
  if (c.n.kind == OpKind::MaxPool || c.n.kind == OpKind::GlobalMaxPool) {
    RETURN_IF_ERROR(require_input(c, 0, "X"));
    if (c.in(0).dtype == DType::Bool) return c.fail("input 0 (X) '", c.in(0).name, "' is bool, a number is required");
    return Status::OK();
  }
  return require_float_or_quantized(c, 0, "X");
}

Status rule_pool(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_pool_input(c));
  Spatial s;
  RETURN_IF_ERROR(get_spatial(c, &s));
  Window win;
  RETURN_IF_ERROR(get_window(c, {}, &win));
  if (c.n.kind == OpKind::AveragePool && (win.dilations[0] != 1 || win.dilations[1] != 1))
    return c.fail("AveragePool has no dilations, attribute is ", str_cat(win.dilations));
  for (int i = 0; i < 2; ++i)
    if (win.pads[i] >= (win.kernel[i] - 1) * win.dilations[i] + 1 || win.pads[i + 2] >= (win.kernel[i] - 1) * win.dilations[i] + 1)
      return c.fail("pads ", str_cat(win.pads), " must be smaller than the kernel ", str_cat(win.kernel));
  const bool ceil_mode = c.attrs().get_int("ceil_mode", 0) != 0;
  int64_t oh = 0, ow = 0;
  RETURN_IF_ERROR(window_output(c, "H", s.h, win.kernel[0], win.strides[0], win.dilations[0], win.pads[0], win.pads[2],
                                ceil_mode, &oh));
  RETURN_IF_ERROR(window_output(c, "W", s.w, win.kernel[1], win.strides[1], win.dilations[1], win.pads[1], win.pads[3],
                                ceil_mode, &ow));
  out->push_back({c.in(0).dtype, s.make(s.c, oh, ow)});
  return Status::OK();
}

Status rule_global_pool(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_pool_input(c));
  Spatial s;
  RETURN_IF_ERROR(get_spatial(c, &s));
  out->push_back({c.in(0).dtype, s.make(s.c, 1, 1)});
  return Status::OK();
}

Status rule_concat(const RuleCtx& c, Outputs* out) {
  if (c.num_inputs() < 1) return c.fail("expects at least one input");
  for (size_t i = 0; i < c.num_inputs(); ++i) RETURN_IF_ERROR(require_input(c, i, "X"));
  const Tensor& first = c.in(0);
  const int64_t axis_attr = c.attrs().get_int("axis", 0);
  const int axis = normalize_axis(axis_attr, first.shape.size());
  if (axis < 0) return c.fail("attribute axis=", axis_attr, " is out of range for input shape ", shape_str(first.shape));
  Shape r = first.shape;
  for (size_t i = 1; i < c.num_inputs(); ++i) {
    const Tensor& t = c.in(i);
    if (t.dtype != first.dtype)
      return c.fail("input ", i, " '", t.name, "' is ", dtype_name(t.dtype), ", input 0 is ", dtype_name(first.dtype));
    bool ok = t.shape.size() == r.size();
    for (size_t d = 0; ok && d < r.size(); ++d)
      if (int(d) != axis && t.shape[d] != r[d]) ok = false;
    if (!ok)
      return c.fail("input ", i, " '", t.name, "' shape ", shape_str(t.shape), " does not match input 0 shape ",
                    shape_str(first.shape), " outside axis ", axis);
    r[size_t(axis)] += t.shape[size_t(axis)];
  }
  out->push_back({first.dtype, r});
  return Status::OK();
}

Status rule_reshape(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  if (!c.attrs().has("shape")) return c.fail("attribute shape is required");
  const Shape shape = c.attrs().get_ints("shape");
  for (int64_t d : shape)
    if (d < 0) return c.fail("attribute shape ", shape_str(shape), " must be fully resolved (no -1)");
  int64_t count = 0;
  if (!checked_elements(shape, &count)) return c.fail("attribute shape ", shape_str(shape), " is too large");
  if (count != num_elements(c.in(0).shape))
    return c.fail("cannot reshape ", shape_str(c.in(0).shape), " (", num_elements(c.in(0).shape), " elements) to ",
                  shape_str(shape), " (", num_elements(shape), " elements)");
  out->push_back({c.in(0).dtype, shape});
  return Status::OK();
}

Status rule_transpose(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  std::vector<int64_t> perm(x.size());
  for (size_t i = 0; i < x.size(); ++i) perm[i] = int64_t(x.size() - 1 - i);
  perm = c.attrs().get_ints("perm", perm);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool ok = perm.size() == x.size();
  for (size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == int64_t(i);
  if (!ok) return c.fail("attribute perm ", str_cat(perm), " is not a permutation of the ", x.size(), " input axes");
  Shape r(x.size());
  for (size_t i = 0; i < x.size(); ++i) r[i] = x[size_t(perm[i])];
  out->push_back({c.in(0).dtype, r});
  return Status::OK();
}

Status rule_slice(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const auto starts = c.attrs().get_ints("starts"), ends = c.attrs().get_ints("ends");
  auto axes = c.attrs().get_ints("axes");
  auto steps = c.attrs().get_ints("steps");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return c.fail("attributes starts ", str_cat(starts), ", ends ", str_cat(ends), ", axes ", str_cat(axes), ", steps ",
                  str_cat(steps), " must have the same length");
  Shape r = x;
  std::vector<char> seen(x.size(), 0);
  for (size_t i = 0; i < starts.size(); ++i) {
    if (axes[i] < 0 || size_t(axes[i]) >= x.size() || seen[size_t(axes[i])])
      return c.fail("attribute axes ", str_cat(axes), " must hold distinct axes in [0, ", x.size(), ")");
    seen[size_t(axes[i])] = 1;
    const int64_t d = x[size_t(axes[i])];
    const int64_t st = starts[i], en = ends[i], sp = steps[i];
    int64_t n = 0;
    if (sp > 0) {
      if (st < 0 || st > d || en < 0 || en > d)
        return c.fail("slice [", st, ":", en, ":", sp, "] on axis ", axes[i], " (size ", d,
                      ") is not clamped to [0, ", d, "]");
      n = en > st ? (en - st + sp - 1) / sp : 0;
    } else if (sp < 0) {
      if (st < 0 || st > std::max<int64_t>(d - 1, 0) || en < -1 || en > d - 1)
        return c.fail("slice [", st, ":", en, ":", sp, "] on axis ", axes[i], " (size ", d,
                      ") is not clamped (start in [0, ", d - 1, "], end in [-1, ", d - 1, "])");
      n = st > en ? (st - en - sp - 1) / (-sp) : 0;
    } else {
      return c.fail("attribute steps ", str_cat(steps), " must not contain 0");
    }
    r[size_t(axes[i])] = n;
  }
  out->push_back({c.in(0).dtype, r});
  return Status::OK();
}

Status rule_split(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const int64_t axis_attr = c.attrs().get_int("axis", 0);
  const int axis = normalize_axis(axis_attr, x.size());
  if (axis < 0) return c.fail("attribute axis=", axis_attr, " is out of range for input shape ", shape_str(x));
  const size_t n_out = c.n.outputs.size();
  if (n_out == 0) return c.fail("has no outputs");
  std::vector<int64_t> split = c.attrs().get_ints("split");
  if (split.empty()) {
    if (x[size_t(axis)] % int64_t(n_out) != 0)
      return c.fail("axis ", axis, " of size ", x[size_t(axis)], " does not split evenly into ", n_out, " outputs");
    split.assign(n_out, x[size_t(axis)] / int64_t(n_out));
  }
  if (split.size() != n_out) return c.fail("attribute split ", str_cat(split), " has ", split.size(), " sizes for ", n_out, " outputs");
  int64_t total = 0;
  for (int64_t s : split) {
    if (s < 0 || s > x[size_t(axis)])
      return c.fail("attribute split ", str_cat(split), " has a size outside [0, ", x[size_t(axis)], "]");
    total += s;
  }
  if (total != x[size_t(axis)])
    return c.fail("attribute split ", str_cat(split), " sums to ", total, ", but axis ", axis, " has size ", x[size_t(axis)]);
  for (int64_t s : split) {
    Shape r = x;
    r[size_t(axis)] = s;
    out->push_back({c.in(0).dtype, r});
  }
  return Status::OK();
}

Status rule_pad(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const auto pads = c.attrs().get_ints("pads");
  if (pads.size() != 2 * x.size())
    return c.fail("attribute pads ", str_cat(pads), " must have ", 2 * x.size(), " values for input shape ", shape_str(x));
  const std::string mode = c.attrs().get_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return c.fail("attribute mode \"", mode, "\" is not one of constant, reflect, edge");
  Shape r = x;
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t b = pads[i], e = pads[i + x.size()];
    if (b > kMaxElements || b < -kMaxElements || e > kMaxElements || e < -kMaxElements)
      return c.fail("attribute pads ", str_cat(pads), " are out of range");
    r[i] = x[i] + b + e;
    if (r[i] < 0) return c.fail("attribute pads ", str_cat(pads), " removes more than axis ", i, " holds (", x[i], ")");
    if (mode == "reflect" && (b >= x[i] || e >= x[i]) && (b > 0 || e > 0))
      return c.fail("reflect padding ", b, "+", e, " on axis ", i, " needs pads smaller than the size ", x[i]);
    if (mode == "edge" && x[i] == 0 && (b > 0 || e > 0)) return c.fail("edge padding of the empty axis ", i);
  }
  out->push_back({c.in(0).dtype, r});
  return Status::OK();
}

Status rule_resize(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const auto scales = c.attrs().get_floats("scales");
  if (scales.size() != x.size())
    return c.fail("attribute scales ", str_cat(scales), " must have one value per input axis (", x.size(), ")");
  const std::string mode = c.attrs().get_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear") return c.fail("attribute mode \"", mode, "\" is not nearest or linear");
  Shape r(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(scales[i] > 0) || !std::isfinite(scales[i]))
      return c.fail("attribute scales ", str_cat(scales), " must be positive");
    const double size = std::floor(double(x[i]) * scales[i] + 1e-9);
    if (size > double(kMaxElements)) return c.fail("attribute scales ", str_cat(scales), " gives a too large output");
    r[i] = int64_t(size);
    if (r[i] < 1 && x[i] > 0) return c.fail("attribute scales ", str_cat(scales), " gives an empty axis ", i);
  }
  out->push_back({c.in(0).dtype, r});
  return Status::OK();
}

Status rule_reduce(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const auto axes_attr = c.attrs().get_ints("axes");
  const bool keepdims = c.attrs().get_int("keepdims", 1) != 0;
  std::vector<char> reduced(x.size(), axes_attr.empty() ? 1 : 0);
  for (int64_t a : axes_attr) {
    const int ax = normalize_axis(a, x.size());
    if (ax < 0) return c.fail("attribute axes ", str_cat(axes_attr), " is out of range for input shape ", shape_str(x));
    reduced[size_t(ax)] = 1;
  }
  Shape r;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!reduced[i]) r.push_back(x[i]);
    else if (keepdims) r.push_back(1);
  }
  out->push_back({c.in(0).dtype, r});
  return Status::OK();
}

Status rule_cast(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  if (!c.attrs().has("to")) return c.fail("attribute to is required");
  const int64_t to = c.attrs().get_int("to", 0);
  if (to <= int64_t(DType::Invalid) || dtype_size(DType(to)) == 0 || to > 255)
    return c.fail("attribute to=", to, " is not a known dtype");
  out->push_back({DType(to), c.in(0).shape});
  return Status::OK();
}

Status rule_quantize(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  if (!is_float(c.in(0).dtype))
    return c.fail("input 0 (X) '", c.in(0).name, "' must be f32, is ", dtype_name(c.in(0).dtype));
  if (c.n.outputs.empty() || c.n.outputs[0] == kNoTensor) return c.fail("has no output");
  const Tensor& y = c.g.tensor(c.n.outputs[0]);
  DType t = y.dtype == DType::Invalid ? DType::I8 : y.dtype;
  if (t != DType::I8 && t != DType::U8 && t != DType::I16 && t != DType::I32)
    return c.fail("output '", y.name, "' must be i8, u8, i16 or i32, is ", dtype_name(t));
  if (y.quant.empty()) return c.fail("output '", y.name, "' has no quantization parameters");
  out->push_back({t, c.in(0).shape});
  return Status::OK();
}

Status rule_dequantize(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const Tensor& x = c.in(0);
  if (!is_quantized_integer(x.dtype))
    return c.fail("input 0 (X) '", x.name, "' must be i8, u8, i16 or i32, is ", dtype_name(x.dtype));
  if (x.quant.empty()) return c.fail("input 0 (X) '", x.name, "' has no quantization parameters");
  out->push_back({DType::F32, x.shape});
  return Status::OK();
}

Status rule_pow(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(rule_unary_numeric(c, out));
  if (!c.attrs().has("exponent")) return c.fail("attribute exponent is required");
  return Status::OK();
}

Status rule_gelu(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(rule_unary_numeric(c, out));
  const std::string a = c.attrs().get_string("approximate", "none");
  if (a != "none" && a != "tanh") return c.fail("attribute approximate must be \"none\" or \"tanh\", is \"", a, "\"");
  return Status::OK();
}

Status rule_layer_norm(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 3));
  RETURN_IF_ERROR(require_float_or_quantized(c, 0, "X"));
  const Shape& x = c.in(0).shape;
  const int64_t axis_attr = c.attrs().get_int("axis", -1);
  const int axis = normalize_axis(axis_attr, x.size());
  if (axis < 0) return c.fail("attribute axis=", axis_attr, " is out of range for input shape ", shape_str(x));
  const Shape tail(x.begin() + axis, x.end());
  static const char* kNames[] = {"X", "Scale", "B"};
  for (size_t i = 1; i < 3; ++i) {
    if (i == 2 && !c.has_input(2)) continue;
    RETURN_IF_ERROR(require_input(c, i, kNames[i]));
    if (!broadcasts_to(c.in(i).shape, tail))
      return c.fail(operand_name(i, kNames[i]), " '", c.in(i).name, "' shape ", shape_str(c.in(i).shape),
                    " does not broadcast to the normalized dims ", shape_str(tail));
  }
  if (!(c.attrs().get_float("epsilon", 1e-5) >= 0)) return c.fail("attribute epsilon must be non-negative");
  out->push_back({c.in(0).dtype, x});
  return Status::OK();
}

Status rule_expand(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 1, 1));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  const auto shape = c.attrs().get_ints("shape");
  if (!c.attrs().has("shape")) return c.fail("attribute shape is required");
  const Shape to(shape.begin(), shape.end());
  if (!broadcasts_to(c.in(0).shape, to))
    return c.fail("input 0 (X) '", c.in(0).name, "' shape ", shape_str(c.in(0).shape), " does not broadcast to ",
                  shape_str(to));
  out->push_back({c.in(0).dtype, to});
  return Status::OK();
}

Status rule_gather(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 2, 2));
  RETURN_IF_ERROR(require_input(c, 0, "X"));
  RETURN_IF_ERROR(require_input(c, 1, "indices"));
  const Shape& x = c.in(0).shape;
  const Tensor& idx = c.in(1);
  if (idx.dtype != DType::I64 && idx.dtype != DType::I32)
    return c.fail("input 1 (indices) '", idx.name, "' must be i32 or i64, is ", dtype_name(idx.dtype));
  const int64_t axis_attr = c.attrs().get_int("axis", 0);
  const int axis = normalize_axis(axis_attr, x.size());
  if (axis < 0) return c.fail("attribute axis=", axis_attr, " is out of range for input shape ", shape_str(x));
  Shape r(x.begin(), x.begin() + axis);
  r.insert(r.end(), idx.shape.begin(), idx.shape.end());
  r.insert(r.end(), x.begin() + axis + 1, x.end());
  out->push_back({c.in(0).dtype, r});
  return Status::OK();
}

Status rule_where(const RuleCtx& c, Outputs* out) {
  RETURN_IF_ERROR(check_input_count(c, 3, 3));
  RETURN_IF_ERROR(require_input(c, 0, "condition"));
  RETURN_IF_ERROR(require_input(c, 1, "X"));
  RETURN_IF_ERROR(require_input(c, 2, "Y"));
  if (c.in(0).dtype != DType::Bool)
    return c.fail("input 0 (condition) '", c.in(0).name, "' must be bool, is ", dtype_name(c.in(0).dtype));
  if (c.in(1).dtype != c.in(2).dtype)
    return c.fail("X '", c.in(1).name, "' is ", dtype_name(c.in(1).dtype), ", Y '", c.in(2).name, "' is ",
                  dtype_name(c.in(2).dtype), "; they must have the same dtype");
  Shape xy, r;
  if (!broadcast_shapes(c.in(1).shape, c.in(2).shape, &xy) || !broadcast_shapes(c.in(0).shape, xy, &r))
    return c.fail("shapes of condition ", shape_str(c.in(0).shape), ", X ", shape_str(c.in(1).shape), " and Y ",
                  shape_str(c.in(2).shape), " do not broadcast");
  out->push_back({c.in(1).dtype, r});
  return Status::OK();
}

RuleFn find_rule(OpKind k) {
  switch (k) {
    case OpKind::Conv: return rule_conv;
    case OpKind::ConvTranspose: return rule_conv_transpose;
    case OpKind::Gemm: return rule_gemm;
    case OpKind::MatMul: return rule_matmul;
    case OpKind::BatchNormalization: return rule_batchnorm;
    case OpKind::Relu:
    case OpKind::Sigmoid:
    case OpKind::Tanh:
    case OpKind::Abs:
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sqrt:
    case OpKind::Reciprocal:
    case OpKind::HardSwish:
    case OpKind::LeakyRelu:
    case OpKind::HardSigmoid:
    case OpKind::Erf: return rule_unary_numeric;
    case OpKind::Gelu: return rule_gelu;
    case OpKind::Pow: return rule_pow;
    case OpKind::LayerNormalization: return rule_layer_norm;
    case OpKind::Expand: return rule_expand;
    case OpKind::Gather: return rule_gather;
    case OpKind::Where: return rule_where;
    case OpKind::Clip: return rule_clip;
    case OpKind::Identity:
    case OpKind::Dropout: return rule_unary;
    case OpKind::Softmax: return rule_softmax;
    case OpKind::GRU:
    case OpKind::LSTM: return rule_recurrent;
    case OpKind::LpNormalization: return rule_lp_normalization;
    case OpKind::PRelu: return rule_prelu;
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::PowTensor:
    case OpKind::Max:
    case OpKind::Min: return rule_binary;
    case OpKind::MaxPool:
    case OpKind::AveragePool: return rule_pool;
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool: return rule_global_pool;
    case OpKind::Concat: return rule_concat;
    case OpKind::Reshape: return rule_reshape;
    case OpKind::Transpose: return rule_transpose;
    case OpKind::Slice: return rule_slice;
    case OpKind::Split: return rule_split;
    case OpKind::Pad: return rule_pad;
    case OpKind::Resize: return rule_resize;
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceSum: return rule_reduce;
    case OpKind::ReduceL2: return rule_reduce;
    case OpKind::Cast: return rule_cast;
    case OpKind::QuantizeLinear: return rule_quantize;
    case OpKind::DequantizeLinear: return rule_dequantize;
    case OpKind::kCount: break;
  }
  return nullptr;
}

}  // namespace

Status infer_node_types(const Graph& g, NodeId id, std::vector<TensorType>* outputs) {
  outputs->clear();
  if (id < 0 || size_t(id) >= g.num_nodes()) return error(Error::Internal, "infer_node_types: node id ", id, " out of range");
  const Node& n = g.node(id);
  RuleFn rule = find_rule(n.kind);
  RuleCtx c{g, id, n};
  if (!rule) return c.fail("has no shape rule");
  for (TensorId o : n.outputs)
    if (o == kNoTensor || o < 0 || size_t(o) >= g.num_tensors()) return c.fail("has an invalid output tensor id ", o);
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.inputs[i] != kNoTensor && (n.inputs[i] < 0 || size_t(n.inputs[i]) >= g.num_tensors()))
      return c.fail("input ", i, " refers to tensor id ", n.inputs[i], ", which does not exist");
  RETURN_IF_ERROR(rule(c, outputs));
  RETURN_IF_ERROR(check_output_count(c, outputs->size()));
  for (const TensorType& t : *outputs) {
    int64_t count = 0;
    if (!checked_elements(t.shape, &count))
      return c.fail("output shape ", shape_str(t.shape), " is negative or has more than 2^40 elements");
  }
  return Status::OK();
}

Status infer_shapes(Graph& g) {
  ASSIGN_OR_RETURN(auto order, g.topological_order());
  std::vector<TensorType> types;
  for (NodeId id : order) {
    RETURN_IF_ERROR(infer_node_types(g, id, &types));
    const Node& n = g.node(id);
    for (size_t i = 0; i < types.size() && i < n.outputs.size(); ++i) {
      Tensor& t = g.tensor(n.outputs[i]);
      t.dtype = types[i].dtype;
      t.shape = types[i].shape;
    }
  }
  return Status::OK();
}

}  // namespace neutron
