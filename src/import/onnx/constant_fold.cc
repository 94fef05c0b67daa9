#include "import/onnx/constant_fold.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/memory_budget.h"

namespace neutron {
namespace {

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

// Calls f(input_offset) for every output element in row-major order, where input offsets follow
// per-output-axis (start, step) over an input with strides `in_strides`.
template <typename F>
void walk(const Shape& out_shape, const std::vector<int64_t>& start, const std::vector<int64_t>& step,
          const std::vector<int64_t>& in_strides, F f) {
  const int64_t total = num_elements(out_shape);
  if (total == 0) return;
  const size_t rank = out_shape.size();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t off = 0;
    for (size_t d = 0; d < rank; ++d) off += (start[d] + idx[d] * step[d]) * in_strides[d];
    f(off);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
}

template <typename To>
To saturate_from_double(double v) {
  if (std::isnan(v)) return To(0);
  const double lo = double(std::numeric_limits<To>::lowest()), hi = double(std::numeric_limits<To>::max());
  if (v <= lo) return std::numeric_limits<To>::lowest();
  if (v >= hi) return std::numeric_limits<To>::max();
  return To(v);
}

void store(TensorData* t, int64_t i, double dv, int64_t iv, bool from_int) {
  switch (t->dtype) {
    case DType::F32: t->data<float>()[i] = from_int ? float(iv) : float(dv); break;
    case DType::I64: t->data<int64_t>()[i] = from_int ? iv : saturate_from_double<int64_t>(std::trunc(dv)); break;
    case DType::I32: t->data<int32_t>()[i] = from_int ? int32_t(iv) : saturate_from_double<int32_t>(std::trunc(dv)); break;
    case DType::I16: t->data<int16_t>()[i] = from_int ? int16_t(iv) : saturate_from_double<int16_t>(std::trunc(dv)); break;
    case DType::I8: t->data<int8_t>()[i] = from_int ? int8_t(iv) : saturate_from_double<int8_t>(std::trunc(dv)); break;
    case DType::U8: t->data<uint8_t>()[i] = from_int ? uint8_t(iv) : saturate_from_double<uint8_t>(std::trunc(dv)); break;
    case DType::Bool: t->data<uint8_t>()[i] = from_int ? iv != 0 : dv != 0; break;
    default: break;
  }
}

bool is_integer(DType t) { return t != DType::F32; }

}  // namespace

TensorData fold_cast(const TensorData& x, DType to) {
  TensorData r(to, x.shape);
  const bool from_int = is_integer(x.dtype);
  for (int64_t i = 0; i < x.count(); ++i)
    store(&r, i, from_int ? 0.0 : x.get_as_double(i), from_int ? x.get_as_int(i) : 0, from_int);
  return r;
}

TensorData fold_transpose(const TensorData& x, const std::vector<int64_t>& perm) {
  Shape out(perm.size());
  const auto in_strides = strides_of(x.shape);
  std::vector<int64_t> strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    out[i] = x.shape[size_t(perm[i])];
    strides[i] = in_strides[size_t(perm[i])];
  }
  TensorData r(x.dtype, out);
  const size_t es = dtype_size(x.dtype);
  uint8_t* dst = r.bytes.data();
  walk(out, std::vector<int64_t>(out.size(), 0), std::vector<int64_t>(out.size(), 1), strides, [&](int64_t off) {
    std::memcpy(dst, x.bytes.data() + size_t(off) * es, es);
    dst += es;
  });
  return r;
}

TensorData fold_slice(const TensorData& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                      const std::vector<int64_t>& steps) {
  Shape out = x.shape;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    const int64_t st = starts[d], en = ends[d], sp = steps[d];
    out[d] = sp > 0 ? (en > st ? (en - st + sp - 1) / sp : 0) : (st > en ? (st - en - sp - 1) / (-sp) : 0);
  }
  TensorData r(x.dtype, out);
  const size_t es = dtype_size(x.dtype);
  uint8_t* dst = r.bytes.data();
  walk(out, starts, steps, strides_of(x.shape), [&](int64_t off) {
    std::memcpy(dst, x.bytes.data() + size_t(off) * es, es);
    dst += es;
  });
  return r;
}

TensorData fold_concat(const std::vector<const TensorData*>& xs, int axis) {
  Shape out = xs[0]->shape;
  out[size_t(axis)] = 0;
  for (const TensorData* x : xs) out[size_t(axis)] += x->shape[size_t(axis)];
  TensorData r(xs[0]->dtype, out);
  const size_t es = dtype_size(r.dtype);
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= out[size_t(d)];
  uint8_t* dst = r.bytes.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (const TensorData* x : xs) {
      int64_t inner = 1;
      for (size_t d = size_t(axis); d < x->shape.size(); ++d) inner *= x->shape[d];
      const size_t n = size_t(inner) * es;
      if (n) std::memcpy(dst, x->bytes.data() + size_t(o) * n, n);
      dst += n;
    }
  }
  return r;
}

StatusOr<TensorData> fold_gather(const TensorData& data, const TensorData& indices, int axis) {
  const int64_t dim = data.shape[size_t(axis)];
  Shape out(data.shape.begin(), data.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), data.shape.begin() + axis + 1, data.shape.end());
  TensorData r(data.dtype, out);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= data.shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < data.shape.size(); ++d) inner *= data.shape[d];
  const size_t es = dtype_size(data.dtype), row = size_t(inner) * es;
  uint8_t* dst = r.bytes.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < indices.count(); ++k) {
      int64_t i = indices.get_as_int(k);
      if (i < 0) i += dim;
      if (i < 0 || i >= dim)
        return error(Error::InvalidModel, "index ", indices.get_as_int(k), " is out of range for axis ", axis,
                     " of size ", dim);
      if (row) std::memcpy(dst, data.bytes.data() + size_t(o * dim + i) * row, row);
      dst += row;
    }
  }
  return r;
}

namespace {

// Element offsets into an operand of shape `in` for every element of the broadcast shape `out`
// (numpy rules; `in` must broadcast to `out`).
std::vector<int64_t> broadcast_offsets(const Shape& in, const Shape& out) {
  const size_t rank = out.size();
  Shape e(rank, 1);
  for (size_t i = 0; i < in.size(); ++i) e[rank - in.size() + i] = in[i];
  auto st = strides_of(e);
  for (size_t i = 0; i < rank; ++i)
    if (e[i] == 1) st[i] = 0;
  std::vector<int64_t> r(size_t(num_elements(out)));
  std::vector<int64_t> idx(rank, 0);
  int64_t off = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    r[i] = off;
    for (size_t d = rank; d-- > 0;) {
      off += st[d];
      if (++idx[d] < out[d]) break;
      off -= st[d] * out[d];
      idx[d] = 0;
    }
  }
  return r;
}

}  // namespace

TensorData fold_where(const TensorData& cond, const TensorData& x, const TensorData& y, const Shape& out) {
  TensorData r(x.dtype, out);
  const size_t es = dtype_size(x.dtype);
  const auto oc = broadcast_offsets(cond.shape, out), ox = broadcast_offsets(x.shape, out),
             oy = broadcast_offsets(y.shape, out);
  for (size_t i = 0; i < oc.size(); ++i) {
    const uint8_t* src = cond.bytes[size_t(oc[i])] ? &x.bytes[size_t(ox[i]) * es] : &y.bytes[size_t(oy[i]) * es];
    std::memcpy(&r.bytes[i * es], src, es);
  }
  return r;
}

TensorData fold_expand(const TensorData& x, const Shape& out) {
  TensorData r(x.dtype, out);
  const size_t es = dtype_size(x.dtype);
  const auto ox = broadcast_offsets(x.shape, out);
  for (size_t i = 0; i < ox.size(); ++i) std::memcpy(&r.bytes[i * es], &x.bytes[size_t(ox[i]) * es], es);
  return r;
}

TensorData fold_equal(const TensorData& a, const TensorData& b, const Shape& out) {
  TensorData r(DType::Bool, out);
  const auto oa = broadcast_offsets(a.shape, out), ob = broadcast_offsets(b.shape, out);
  const bool integer = is_integer(a.dtype) || a.dtype == DType::Bool;
  for (size_t i = 0; i < oa.size(); ++i)
    r.bytes[i] = integer ? a.get_as_int(oa[i]) == b.get_as_int(ob[i]) : a.get_as_double(oa[i]) == b.get_as_double(ob[i]);
  return r;
}

StatusOr<TensorData> fold_binary(OpKind kind, const TensorData& a, const TensorData& b) {
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  Shape out(rank), ea(rank, 1), eb(rank, 1);
  for (size_t i = 0; i < a.shape.size(); ++i) ea[rank - a.shape.size() + i] = a.shape[i];
  for (size_t i = 0; i < b.shape.size(); ++i) eb[rank - b.shape.size() + i] = b.shape[i];
  for (size_t i = 0; i < rank; ++i) {
    if (ea[i] != eb[i] && ea[i] != 1 && eb[i] != 1)
      return error(Error::InvalidModel, "shapes ", shape_str(a.shape), " and ", shape_str(b.shape), " do not broadcast");
    out[i] = ea[i] == 1 ? eb[i] : ea[i];
  }
  auto sa = strides_of(ea), sb = strides_of(eb);
  for (size_t i = 0; i < rank; ++i) {
    if (ea[i] == 1) sa[i] = 0;
    if (eb[i] == 1) sb[i] = 0;
  }
  // Both operands' offsets in one walk (no per-element index arrays: broadcasting two small
  // constants can make a large output).
  const int64_t total = num_elements(out);
  TensorData r(a.dtype, out);
  const bool integer = is_integer(a.dtype);
  std::vector<int64_t> idx(rank, 0);
  int64_t off_a = 0, off_b = 0;
  for (int64_t i = 0; i < total; ++i) {
    if (i > 0) {  // advance the row-major index, keeping both offsets in step
      for (size_t d = rank; d-- > 0;) {
        off_a += sa[d];
        off_b += sb[d];
        if (++idx[d] < out[d]) break;
        off_a -= sa[d] * out[d];
        off_b -= sb[d] * out[d];
        idx[d] = 0;
      }
    }
    const int64_t ia = off_a, ib = off_b;
    if (integer) {
      const int64_t x = a.get_as_int(ia), y = b.get_as_int(ib);
      int64_t v = 0;
      switch (kind) {
        case OpKind::Add: v = int64_t(uint64_t(x) + uint64_t(y)); break;
        case OpKind::Sub: v = int64_t(uint64_t(x) - uint64_t(y)); break;
        case OpKind::Mul: v = int64_t(uint64_t(x) * uint64_t(y)); break;
        case OpKind::Div:
          if (y == 0) return error(Error::InvalidModel, "integer division by zero");
          v = (x == std::numeric_limits<int64_t>::min() && y == -1) ? x : x / y;
          break;
        case OpKind::Max: v = std::max(x, y); break;
        case OpKind::Min: v = std::min(x, y); break;
        default: return error(Error::Internal, "fold_binary: unexpected op");
      }
      store(&r, i, 0, v, true);
    } else {
      const float x = float(a.get_as_double(ia)), y = float(b.get_as_double(ib));
      float v = 0;
      switch (kind) {
        case OpKind::Add: v = x + y; break;
        case OpKind::Sub: v = x - y; break;
        case OpKind::Mul: v = x * y; break;
        case OpKind::Div: v = x / y; break;
        case OpKind::Max: v = std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y); break;
        case OpKind::Min: v = std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y); break;
        default: return error(Error::Internal, "fold_binary: unexpected op");
      }
      r.data<float>()[i] = v;
    }
  }
  return r;
}

StatusOr<std::optional<TensorData>> try_fold_node(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  switch (n.kind) {
    case OpKind::Identity: case OpKind::Dropout: case OpKind::Cast: case OpKind::Reshape: case OpKind::Transpose:
    case OpKind::Slice: case OpKind::Concat: case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
    case OpKind::Max: case OpKind::Min: case OpKind::Neg: case OpKind::Abs: case OpKind::Expand: case OpKind::Gather:
    case OpKind::Where:
      break;
    default:
      return std::optional<TensorData>();
  }
  if (n.inputs.empty() || n.outputs.size() != 1) return std::optional<TensorData>();
  std::vector<const TensorData*> in;
  for (TensorId t : n.inputs) {
    if (t == kNoTensor || !g.tensor(t).is_constant() || g.tensor(t).is_quantized()) return std::optional<TensorData>();
    in.push_back(g.tensor(t).data.get());
  }
  const Tensor& out = g.tensor(n.outputs[0]);
  // Folding allocates the output: a broadcast or Concat of small constants can claim gigabytes.
  RETURN_IF_ERROR(tensor_bytes_within_budget(out.dtype, out.shape, str_cat("output '", out.name, "'")).status());
  switch (n.kind) {
    case OpKind::Identity:
    case OpKind::Dropout:
      return std::optional<TensorData>(*in[0]);
    case OpKind::Cast:
      return std::optional<TensorData>(fold_cast(*in[0], out.dtype));
    case OpKind::Reshape: {
      TensorData r = *in[0];
      r.shape = out.shape;
      return std::optional<TensorData>(std::move(r));
    }
    case OpKind::Transpose: {
      std::vector<int64_t> perm(in[0]->shape.size());
      for (size_t i = 0; i < perm.size(); ++i) perm[i] = int64_t(perm.size() - 1 - i);
      return std::optional<TensorData>(fold_transpose(*in[0], n.attrs.get_ints("perm", perm)));
    }
    case OpKind::Slice: {
      const size_t rank = in[0]->shape.size();
      std::vector<int64_t> starts(rank, 0), ends(in[0]->shape), steps(rank, 1);
      const auto s = n.attrs.get_ints("starts"), e = n.attrs.get_ints("ends"), st = n.attrs.get_ints("steps");
      auto axes = n.attrs.get_ints("axes");
      for (size_t i = 0; i < s.size(); ++i) {
        const size_t ax = i < axes.size() ? size_t(axes[i]) : i;
        starts[ax] = s[i];
        ends[ax] = e[i];
        steps[ax] = i < st.size() ? st[i] : 1;
      }
      return std::optional<TensorData>(fold_slice(*in[0], starts, ends, steps));
    }
    case OpKind::Expand: return std::optional<TensorData>(fold_expand(*in[0], out.shape));
    case OpKind::Where: return std::optional<TensorData>(fold_where(*in[0], *in[1], *in[2], out.shape));
    case OpKind::Gather: {
      ASSIGN_OR_RETURN(TensorData r, fold_gather(*in[0], *in[1], normalize_axis(n.attrs.get_int("axis", 0),
                                                                                in[0]->shape.size())));
      return std::optional<TensorData>(std::move(r));
    }
    case OpKind::Concat:
      return std::optional<TensorData>(
          fold_concat(in, normalize_axis(n.attrs.get_int("axis", 0), in[0]->shape.size())));
    case OpKind::Neg:
    case OpKind::Abs: {
      TensorData r(out.dtype, out.shape);
      for (int64_t i = 0; i < r.count(); ++i) {
        if (is_integer(r.dtype)) {
          const int64_t v = in[0]->get_as_int(i);
          const int64_t neg = int64_t(0 - uint64_t(v));  // wraps for INT64_MIN instead of overflowing
          store(&r, i, 0, n.kind == OpKind::Neg || v < 0 ? neg : v, true);
        } else {
          const float v = float(in[0]->get_as_double(i));
          r.data<float>()[i] = n.kind == OpKind::Neg ? -v : std::fabs(v);
        }
      }
      return std::optional<TensorData>(std::move(r));
    }
    default: {
      ASSIGN_OR_RETURN(TensorData r, fold_binary(n.kind, *in[0], *in[1]));
      return std::optional<TensorData>(std::move(r));
    }
  }
}

}  // namespace neutron
