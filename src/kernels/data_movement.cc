// Copies from an input to an output use memmove: a corrupted program file can make the two
// overlap, and the result must then be garbage, not undefined behaviour (pool_int8.cc and
// resize.cc do the same).
#include "kernels/data_movement.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace neutron {
namespace {

// Drops size-1 dims, merges dims contiguous in the input, computes output strides and picks
// the loop (see the header).
void finish_strided_copy(int rank, const int64_t* dims, const int64_t* strides, StridedCopyParams* p) {
  p->rank = 0;
  p->count = 1;
  for (int k = 0; k < rank; ++k) {
    p->count *= dims[k];
    if (dims[k] == 1) continue;
    if (p->rank > 0 && p->in_strides[p->rank - 1] == dims[k] * strides[k]) {
      p->dims[p->rank - 1] *= dims[k];
      p->in_strides[p->rank - 1] = strides[k];
    } else {
      p->dims[p->rank] = dims[k];
      p->in_strides[p->rank] = strides[k];
      ++p->rank;
    }
  }
  int64_t s = 1;
  for (int k = p->rank - 1; k >= 0; --k) {
    p->out_strides[k] = s;
    s *= p->dims[k];
  }
  p->tile_dim = -1;
  if (p->rank >= 2 && p->in_strides[p->rank - 1] != 1)
    for (int k = 0; k < p->rank - 1; ++k)
      if (p->in_strides[k] == 1) p->tile_dim = k;
}

// Calls f(in_offset, out_offset) for every index of the dims not in `skip` (a bit mask).
template <typename F>
inline void for_each_outer(const StridedCopyParams& p, unsigned skip, F f) {
  int64_t idx[kMaxCopyRank] = {0};
  int64_t io = p.in_offset, oo = 0;
  while (true) {
    f(io, oo);
    int d = p.rank - 1;
    for (; d >= 0; --d) {
      if (skip & (1u << d)) continue;
      io += p.in_strides[d];
      oo += p.out_strides[d];
      if (++idx[d] < p.dims[d]) break;
      io -= p.in_strides[d] * p.dims[d];
      oo -= p.out_strides[d] * p.dims[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// The tiled transpose when the output's last dim has only N elements (an NCHW image with 1 to 4
// channels going NHWC): N input streams read in step, one output stream; a loop bound known at
// compile time, where the generic tiles would spend their time on loop overhead.
template <int N, typename T>
void transpose_narrow(int64_t nq, int64_t osq, int64_t s, const T* ib, T* ob) {
  for (int64_t i = 0; i < nq; ++i)
    for (int j = 0; j < N; ++j) ob[i * osq + j] = ib[i + j * s];
}

template <typename T>
void strided_copy_typed(const StridedCopyParams& p, const T* in, T* out) {
  const int last = p.rank - 1;
  const int64_t n = p.dims[last];
  const int64_t s = p.in_strides[last];
  if (p.tile_dim >= 0) {
    const int q = p.tile_dim;
    const int64_t nq = p.dims[q], osq = p.out_strides[q];
    if (n <= 4) {
      for_each_outer(p, (1u << last) | (1u << q), [&](int64_t io, int64_t oo) {
        switch (n) {
          case 1: return transpose_narrow<1>(nq, osq, s, in + io, out + oo);
          case 2: return transpose_narrow<2>(nq, osq, s, in + io, out + oo);
          case 3: return transpose_narrow<3>(nq, osq, s, in + io, out + oo);
          default: return transpose_narrow<4>(nq, osq, s, in + io, out + oo);
        }
      });
      return;
    }
    constexpr int64_t B = sizeof(T) <= 2 ? 32 : 16;
    for_each_outer(p, (1u << last) | (1u << q), [&](int64_t io, int64_t oo) {
      const T* ib = in + io;
      T* ob = out + oo;
      for (int64_t i0 = 0; i0 < nq; i0 += B) {
        const int64_t i1 = i0 + B < nq ? i0 + B : nq;
        for (int64_t j0 = 0; j0 < n; j0 += B) {
          const int64_t j1 = j0 + B < n ? j0 + B : n;
          for (int64_t i = i0; i < i1; ++i) {
            T* orow = ob + i * osq;
            const T* icol = ib + i;
            for (int64_t j = j0; j < j1; ++j) orow[j] = icol[j * s];
          }
        }
      }
    });
    return;
  }
  for_each_outer(p, 1u << last, [&](int64_t io, int64_t oo) {
    const T* ir = in + io;
    T* orow = out + oo;
    for (int64_t j = 0; j < n; ++j) orow[j] = ir[j * s];
  });
}

}  // namespace

bool prepare_transpose(Span<const int64_t> in_shape, Span<const int64_t> perm, size_t elem_size, StridedCopyParams* p) {
  const size_t r = in_shape.size();
  if (perm.size() != r || r > size_t(kMaxCopyRank) || elem_size == 0) return false;
  int64_t in_strides[kMaxCopyRank];
  int64_t s = 1;
  for (size_t k = r; k-- > 0;) {
    in_strides[k] = s;
    s *= in_shape[k];
  }
  bool seen[kMaxCopyRank] = {};
  int64_t dims[kMaxCopyRank], strides[kMaxCopyRank];
  for (size_t k = 0; k < r; ++k) {
    const int64_t a = perm[k];
    if (a < 0 || a >= int64_t(r) || seen[a]) return false;
    seen[a] = true;
    dims[k] = in_shape[size_t(a)];
    strides[k] = in_strides[a];
  }
  p->elem_size = elem_size;
  p->in_offset = 0;
  finish_strided_copy(int(r), dims, strides, p);
  return true;
}

bool prepare_slice(Span<const int64_t> in_shape, Span<const int64_t> starts, Span<const int64_t> steps,
                   Span<const int64_t> out_shape, size_t elem_size, StridedCopyParams* p) {
  const size_t r = in_shape.size();
  if (starts.size() != r || steps.size() != r || out_shape.size() != r || r > size_t(kMaxCopyRank) || elem_size == 0)
    return false;
  int64_t in_strides[kMaxCopyRank];
  int64_t s = 1;
  for (size_t k = r; k-- > 0;) {
    in_strides[k] = s;
    s *= in_shape[k];
  }
  int64_t dims[kMaxCopyRank], strides[kMaxCopyRank];
  int64_t offset = 0;
  bool empty = false;
  for (size_t k = 0; k < r; ++k) {
    const int64_t n = out_shape[k];
    if (n < 0 || steps[k] == 0) return false;
    if (n == 0) {
      empty = true;
      continue;
    }
    const int64_t last = starts[k] + (n - 1) * steps[k];
    if (starts[k] < 0 || starts[k] >= in_shape[k] || last < 0 || last >= in_shape[k]) return false;
    dims[k] = n;
    strides[k] = steps[k] * in_strides[k];
    offset += starts[k] * in_strides[k];
  }
  p->elem_size = elem_size;
  if (empty) {
    p->rank = 0;
    p->count = 0;
    p->in_offset = 0;
    p->tile_dim = -1;
    return true;
  }
  p->in_offset = offset;
  finish_strided_copy(int(r), dims, strides, p);
  return true;
}

void strided_copy(const StridedCopyParams& p, const void* in, void* out) {
  if (p.count == 0) return;
  const size_t es = p.elem_size;
  const uint8_t* src = static_cast<const uint8_t*>(in);
  uint8_t* dst = static_cast<uint8_t*>(out);
  if (p.rank == 0) {
    std::memmove(dst, src + p.in_offset * int64_t(es), es);
    return;
  }
  const int last = p.rank - 1;
  if (p.in_strides[last] == 1) {
    const size_t run = size_t(p.dims[last]) * es;
    for_each_outer(p, 1u << last,
                   [&](int64_t io, int64_t oo) { std::memmove(dst + oo * int64_t(es), src + io * int64_t(es), run); });
    return;
  }
  switch (es) {
    case 1: return strided_copy_typed(p, static_cast<const uint8_t*>(in), static_cast<uint8_t*>(out));
    case 2: return strided_copy_typed(p, static_cast<const uint16_t*>(in), static_cast<uint16_t*>(out));
    case 4: return strided_copy_typed(p, static_cast<const uint32_t*>(in), static_cast<uint32_t*>(out));
    case 8: return strided_copy_typed(p, static_cast<const uint64_t*>(in), static_cast<uint64_t*>(out));
    default: break;
  }
  // Odd element sizes: one memcpy per element.
  const int64_t n = p.dims[last], s = p.in_strides[last];
  for_each_outer(p, 1u << last, [&](int64_t io, int64_t oo) {
    for (int64_t j = 0; j < n; ++j) std::memmove(dst + (oo + j) * int64_t(es), src + (io + j * s) * int64_t(es), es);
  });
}

void concat(int64_t outer, Span<const int64_t> chunk_bytes, const void* const* inputs, void* out) {
  uint8_t* dst = static_cast<uint8_t*>(out);
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < chunk_bytes.size(); ++i) {
      const size_t c = size_t(chunk_bytes[i]);
      if (c == 0) continue;
      std::memmove(dst, static_cast<const uint8_t*>(inputs[i]) + size_t(o) * c, c);
      dst += c;
    }
}

void split(int64_t outer, Span<const int64_t> chunk_bytes, const void* in, void* const* outputs) {
  const uint8_t* src = static_cast<const uint8_t*>(in);
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < chunk_bytes.size(); ++i) {
      const size_t c = size_t(chunk_bytes[i]);
      if (c == 0) continue;
      std::memmove(static_cast<uint8_t*>(outputs[i]) + size_t(o) * c, src, c);
      src += c;
    }
}

// ---------------------------------------------------------------------------------------------
// Pad

bool prepare_pad(Span<const int64_t> in_shape, Span<const int64_t> pads, PadMode mode, size_t elem_size,
                 const void* value, PadParams* p) {
  const size_t r = in_shape.size();
  if (pads.size() != 2 * r || r > size_t(kMaxPadRank) || elem_size == 0 || elem_size > sizeof(p->value)) return false;
  p->mode = mode;
  p->elem_size = elem_size;
  std::memset(p->value, 0, sizeof(p->value));
  if (mode == PadMode::Constant && value) std::memcpy(p->value, value, elem_size);
  // Trailing dims without padding form the block.
  size_t inner = r;
  int64_t block = int64_t(elem_size);
  while (inner > 0 && pads[inner - 1] == 0 && pads[r + inner - 1] == 0) {
    --inner;
    block *= in_shape[inner];
  }
  p->block_bytes = block;
  p->rank = 0;
  bool prev_unpadded = false;
  for (size_t k = 0; k < inner; ++k) {
    const int64_t n = in_shape[k], b = pads[k], e = pads[r + k];
    const int64_t o = n + b + e;
    if (n < 0 || o < 0) return false;
    if (n == 0 && o > 0 && mode != PadMode::Constant) return false;
    const bool unpadded = b == 0 && e == 0;
    if (unpadded && prev_unpadded) {
      p->in_dims[p->rank - 1] *= n;
      p->out_dims[p->rank - 1] *= n;
      continue;
    }
    p->in_dims[p->rank] = n;
    p->out_dims[p->rank] = o;
    p->pad_begin[p->rank] = b;
    ++p->rank;
    prev_unpadded = unpadded;
  }
  int64_t si = block, so = block;
  for (int k = p->rank - 1; k >= 0; --k) {
    p->in_stride_bytes[k] = si;
    p->out_stride_bytes[k] = so;
    si *= p->in_dims[k];
    so *= p->out_dims[k];
  }
  p->out_bytes = so;
  return true;
}

namespace {

// Input index feeding output index `o` of a dim, or -1 for the constant.
inline int64_t pad_source(int64_t o, int64_t pad_begin, int64_t n, PadMode mode) {
  int64_t i = o - pad_begin;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::Constant: return -1;
    case PadMode::Edge: return i < 0 ? 0 : n - 1;
    case PadMode::Reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      i %= period;
      if (i < 0) i += period;
      return i < n ? i : period - i;
    }
  }
  return -1;
}

void fill_value(const PadParams& p, uint8_t* out, int64_t bytes) {
  const size_t es = p.elem_size;
  bool uniform = true;
  for (size_t k = 1; k < es; ++k) uniform &= p.value[k] == p.value[0];
  if (uniform) {
    std::memset(out, p.value[0], size_t(bytes));
    return;
  }
  for (int64_t off = 0; off < bytes; off += int64_t(es)) std::memcpy(out + off, p.value, es);
}

void pad_dim(const PadParams& p, int d, const uint8_t* in, uint8_t* out) {
  const int64_t n = p.in_dims[d], on = p.out_dims[d], pb = p.pad_begin[d];
  const int64_t is = p.in_stride_bytes[d], os = p.out_stride_bytes[d];
  const bool last = d == p.rank - 1;
  int64_t o = 0;
  while (o < on) {
    const int64_t i = pad_source(o, pb, n, p.mode);
    if (i < 0) {
      // A run of constant positions.
      int64_t e = o + 1;
      while (e < on && pad_source(e, pb, n, p.mode) < 0) ++e;
      fill_value(p, out + o * os, (e - o) * os);
      o = e;
    } else if (last) {
      // A run of consecutive input blocks.
      int64_t e = o + 1;
      while (e < on && pad_source(e, pb, n, p.mode) == i + (e - o)) ++e;
      std::memmove(out + o * os, in + i * is, size_t((e - o) * os));
      o = e;
    } else {
      pad_dim(p, d + 1, in + i * is, out + o * os);
      ++o;
    }
  }
}

}  // namespace

void pad(const PadParams& p, const void* in, void* out) {
  const uint8_t* src = static_cast<const uint8_t*>(in);
  uint8_t* dst = static_cast<uint8_t*>(out);
  if (p.out_bytes == 0) return;
  if (p.rank == 0) {
    std::memmove(dst, src, size_t(p.block_bytes));
    return;
  }
  pad_dim(p, 0, src, dst);
}

// ---------------------------------------------------------------------------------------------
// Cast

namespace {

template <typename To, typename From>
inline To convert(From v) {
  if constexpr (std::is_floating_point<From>::value && std::is_integral<To>::value) {
    if (!(v == v)) return To(0);
    const double t = std::trunc(double(v));
    if (t <= double(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (t >= double(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return To(t);
  } else if constexpr (std::is_integral<From>::value && std::is_integral<To>::value) {
    using U = std::make_unsigned_t<To>;
    return To(U(v));  // modular
  } else {
    return To(v);
  }
}

// Bool is stored as one byte; any nonzero byte reads as true.
template <typename To, typename From>
void cast_loop(const void* in, void* out, size_t n, bool from_bool, bool to_bool) {
  const From* x = static_cast<const From*>(in);
  To* y = static_cast<To*>(out);
  if (to_bool) {
    for (size_t i = 0; i < n; ++i) y[i] = To(x[i] != From(0) ? 1 : 0);
  } else if (from_bool) {
    for (size_t i = 0; i < n; ++i) y[i] = To(x[i] != From(0) ? 1 : 0);
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = convert<To, From>(x[i]);
  }
}

template <typename From>
bool cast_from(DType to, const void* in, void* out, size_t n, bool from_bool) {
  switch (to) {
    case DType::F32: cast_loop<float, From>(in, out, n, from_bool, false); return true;
    case DType::I8: cast_loop<int8_t, From>(in, out, n, from_bool, false); return true;
    case DType::U8: cast_loop<uint8_t, From>(in, out, n, from_bool, false); return true;
    case DType::I16: cast_loop<int16_t, From>(in, out, n, from_bool, false); return true;
    case DType::I32: cast_loop<int32_t, From>(in, out, n, from_bool, false); return true;
    case DType::I64: cast_loop<int64_t, From>(in, out, n, from_bool, false); return true;
    case DType::Bool: cast_loop<uint8_t, From>(in, out, n, from_bool, true); return true;
    default: return false;
  }
}

}  // namespace

bool cast(DType from, DType to, const void* in, void* out, size_t n) {
  if (from == to && dtype_size(from) != 0 && from != DType::Bool) {
    if (n) std::memmove(out, in, n * dtype_size(from));
    return true;
  }
  switch (from) {
    case DType::F32: return cast_from<float>(to, in, out, n, false);
    case DType::I8: return cast_from<int8_t>(to, in, out, n, false);
    case DType::U8: return cast_from<uint8_t>(to, in, out, n, false);
    case DType::I16: return cast_from<int16_t>(to, in, out, n, false);
    case DType::I32: return cast_from<int32_t>(to, in, out, n, false);
    case DType::I64: return cast_from<int64_t>(to, in, out, n, false);
    case DType::Bool: return cast_from<uint8_t>(to, in, out, n, true);
    default: return false;
  }
}

}  // namespace neutron
