// Element-selecting kernels of transformer graphs, generic over the element size (they move
// bytes and never look at values): Gather (nn.Embedding lookups and qkv[0]-style indexing),
// Expand (broadcast copy) and Where (per-element select with numpy broadcasting).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/span.h"

namespace neutron {

constexpr int kMaxSelectRank = 8;

// Gather along one axis: data viewed as [outer, axis_dim, inner], indices flattened to `count`
// values; out is [outer, count, inner]. A negative index counts from the end; an index still
// outside [0, axis_dim) yields zero bytes (run-time indices must not read out of bounds).
struct GatherParams {
  int64_t outer = 1, axis_dim = 0, inner = 1, count = 0;
  size_t elem_size = 1;
};
// indices are int64 (index_is_64 = true) or int32.
void gather(const GatherParams& p, const void* data, const void* indices, bool index_is_64, void* out);

// Broadcast iteration over an output of rank <= kMaxSelectRank: per operand, the element stride
// of each output dim (0 where the operand is broadcast).
struct SelectParams {
  int rank = 0;
  int64_t dims[kMaxSelectRank] = {};
  int64_t strides[3][kMaxSelectRank] = {};  // operand k's element stride per output dim
  int64_t count = 0;
  size_t elem_size = 1;
};
// Fills strides for up to 3 operand shapes broadcasting (numpy rules) to `out`. False when an
// operand does not broadcast or the rank is too large.
bool prepare_select(Span<const int64_t> out, const Span<const int64_t>* operands, int num_operands, size_t elem_size,
                    SelectParams* p);

// Expand: out[i] = x[broadcast index] (operand 0).
void expand(const SelectParams& p, const void* x, void* out);
// Where: out[i] = cond[i] ? x[i] : y[i] (operands 0, 1, 2 = cond (1 byte), x, y).
void where(const SelectParams& p, const uint8_t* cond, const void* x, const void* y, void* out);

// masked_fill on int8 (Where with a constant condition and a constant scalar operand, as the
// int8 lowering emits it): out[i] = mask[i] ? fill : x[i], mask one byte per element.
void masked_fill_int8(const uint8_t* mask, int8_t fill, const int8_t* x, int8_t* out, size_t n);

}  // namespace neutron
