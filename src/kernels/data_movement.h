// Data movement kernels, generic over the element size (they move bytes, never look at values,
// except Cast): strided copy (Transpose, Slice), Concat, Split, Pad and Cast.
//
// Transpose and Slice both become a *strided copy*: the output is written contiguously while the
// input is read at `in_offset + sum(index[k] * in_strides[k])` (strides in elements, negative for
// negative slice steps). prepare_* drops size-1 dims and merges dims that are contiguous in the
// input, then strided_copy() picks one of three loops:
//   - the innermost dim is contiguous in the input  -> memcpy of whole runs
//   - another dim is contiguous in the input (a real transpose, e.g. NCHW <-> NHWC, which
//     collapses to [N, C, H*W] -> [N, H*W, C])  -> 2-D blocked tiles over those two dims
//   - otherwise (strided slices)  -> element loop
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/span.h"

namespace neutron {

constexpr int kMaxCopyRank = 8;

struct StridedCopyParams {
  int rank = 0;                       // collapsed rank (0: copy one element)
  int64_t dims[kMaxCopyRank];         // collapsed output dims
  int64_t in_strides[kMaxCopyRank];   // input element stride per collapsed output dim
  int64_t out_strides[kMaxCopyRank];  // contiguous output strides
  int64_t in_offset = 0;              // input element index of output element 0
  int64_t count = 0;                  // output elements
  size_t elem_size = 1;
  int tile_dim = -1;  // a dim (not the last) with input stride 1 while the last dim's is not 1
};

// Transpose: out dim k is in dim perm[k]. perm must be a permutation of 0..rank-1.
bool prepare_transpose(Span<const int64_t> in_shape, Span<const int64_t> perm, size_t elem_size, StridedCopyParams* p);

// Slice with one (start, step) per input dim (step 1 and start 0 for untouched dims; steps may be
// negative). out_shape holds the slice lengths. Every addressed element must be in bounds.
bool prepare_slice(Span<const int64_t> in_shape, Span<const int64_t> starts, Span<const int64_t> steps,
                   Span<const int64_t> out_shape, size_t elem_size, StridedCopyParams* p);

void strided_copy(const StridedCopyParams& p, const void* in, void* out);

// Concat: the output is `outer` rows, each made of one chunk per input in order;
// chunk_bytes[i] = (input i's size along the axis) * (product of dims after the axis) * elem size.
void concat(int64_t outer, Span<const int64_t> chunk_bytes, const void* const* inputs, void* out);

// Split: the inverse of concat.
void split(int64_t outer, Span<const int64_t> chunk_bytes, const void* in, void* const* outputs);

enum class PadMode : uint8_t { Constant, Reflect, Edge };

constexpr int kMaxPadRank = 8;

// Pad (ONNX semantics, any rank; negative pads crop). Trailing dims without padding form one
// contiguous "block" moved with memcpy; adjacent unpadded dims are merged.
//   constant  out-of-range positions get `value`
//   edge      index clamped to [0, n-1]
//   reflect   mirrored without repeating the edge (numpy "reflect"), periodic for large pads
struct PadParams {
  int rank = 0;  // collapsed rank, excluding the trailing block
  int64_t in_dims[kMaxPadRank];
  int64_t out_dims[kMaxPadRank];
  int64_t pad_begin[kMaxPadRank];  // may be negative
  int64_t in_stride_bytes[kMaxPadRank];
  int64_t out_stride_bytes[kMaxPadRank];
  int64_t block_bytes = 0;  // bytes of the trailing unpadded block (>= elem_size)
  int64_t out_bytes = 0;
  PadMode mode = PadMode::Constant;
  size_t elem_size = 1;
  uint8_t value[8] = {};  // one element holding the constant (constant mode)
};

// pads = [begin_0..begin_{r-1}, end_0..end_{r-1}]; `value` points at one element (elem_size
// bytes, ignored unless constant mode). Returns false for an empty input dim with edge/reflect
// padding, an output dim below 0, or a rank above kMaxPadRank.
bool prepare_pad(Span<const int64_t> in_shape, Span<const int64_t> pads, PadMode mode, size_t elem_size,
                 const void* value, PadParams* p);
void pad(const PadParams& p, const void* in, void* out);

// Cast between F32, I8, U8, I16, I32, I64 and Bool (ONNX Cast):
//   float -> integer   truncation toward zero; NaN gives 0 and out-of-range values saturate
//                      (ONNX leaves them undefined)
//   integer -> integer two's complement wrap-around (higher bits dropped)
//   x -> bool          x != 0 (NaN is true); bool -> x  gives 0 or 1
// Returns false for an unsupported dtype.
bool cast(DType from, DType to, const void* in, void* out, size_t n);

}  // namespace neutron
