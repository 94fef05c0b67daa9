#include "kernels/index_ops.h"

#include <cstring>

namespace neutron {

void gather(const GatherParams& p, const void* data, const void* indices, bool index_is_64, void* out) {
  const size_t row = size_t(p.inner) * p.elem_size;
  const uint8_t* d = static_cast<const uint8_t*>(data);
  uint8_t* o = static_cast<uint8_t*>(out);
  for (int64_t a = 0; a < p.outer; ++a) {
    const uint8_t* base = d + size_t(a * p.axis_dim) * row;
    for (int64_t j = 0; j < p.count; ++j, o += row) {
      int64_t k = index_is_64 ? static_cast<const int64_t*>(indices)[j] : static_cast<const int32_t*>(indices)[j];
      if (k < 0) k += p.axis_dim;
      if (k < 0 || k >= p.axis_dim) {
        std::memset(o, 0, row);
        continue;
      }
      std::memcpy(o, base + size_t(k) * row, row);
    }
  }
}

bool prepare_select(Span<const int64_t> out, const Span<const int64_t>* operands, int num_operands, size_t elem_size,
                    SelectParams* p) {
  if (out.size() > size_t(kMaxSelectRank) || num_operands > 3) return false;
  *p = SelectParams{};
  p->rank = int(out.size());
  p->elem_size = elem_size;
  p->count = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    p->dims[i] = out[i];
    p->count *= out[i];
  }
  for (int k = 0; k < num_operands; ++k) {
    const Span<const int64_t>& s = operands[k];
    if (s.size() > out.size()) return false;
    const size_t lead = out.size() - s.size();
    int64_t stride = 1;
    for (size_t i = out.size(); i-- > 0;) {
      if (i < lead) {
        p->strides[k][i] = 0;
        continue;
      }
      const int64_t d = s[i - lead];
      if (d != out[i] && d != 1) return false;
      p->strides[k][i] = d == 1 ? 0 : stride;
      stride *= d;
    }
  }
  return true;
}

namespace {

// Calls f(out_index, off0, off1, off2) for every output element in order.
template <typename F>
void for_each(const SelectParams& p, F f) {
  if (p.count == 0) return;
  int64_t idx[kMaxSelectRank] = {};
  int64_t off[3] = {0, 0, 0};
  for (int64_t i = 0; i < p.count; ++i) {
    f(i, off[0], off[1], off[2]);
    for (int d = p.rank - 1; d >= 0; --d) {
      for (int k = 0; k < 3; ++k) off[k] += p.strides[k][d];
      if (++idx[d] < p.dims[d]) break;
      for (int k = 0; k < 3; ++k) off[k] -= p.strides[k][d] * p.dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

void expand(const SelectParams& p, const void* x, void* out) {
  const uint8_t* xs = static_cast<const uint8_t*>(x);
  uint8_t* o = static_cast<uint8_t*>(out);
  const size_t es = p.elem_size;
  for_each(p, [&](int64_t i, int64_t a, int64_t, int64_t) { std::memcpy(o + size_t(i) * es, xs + size_t(a) * es, es); });
}

void where(const SelectParams& p, const uint8_t* cond, const void* x, const void* y, void* out) {
  const uint8_t* xs = static_cast<const uint8_t*>(x);
  const uint8_t* ys = static_cast<const uint8_t*>(y);
  uint8_t* o = static_cast<uint8_t*>(out);
  const size_t es = p.elem_size;
  for_each(p, [&](int64_t i, int64_t c, int64_t a, int64_t b) {
    std::memcpy(o + size_t(i) * es, cond[c] ? xs + size_t(a) * es : ys + size_t(b) * es, es);
  });
}

void masked_fill_int8(const uint8_t* mask, int8_t fill, const int8_t* x, int8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = mask[i] ? fill : x[i];
}

}  // namespace neutron
