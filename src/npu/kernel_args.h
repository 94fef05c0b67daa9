// Opcodes of the Neutron firmware kernel library and the argument block of each kernel call.
// Every args struct is plain int32/uint32 words (the instruction's argument words, little-endian).
// Tensor fields are indices into the microcode's tensor table; `*_offset` fields are byte offsets
// into the weights section. Adding a kernel: an opcode, an args struct here, its lowering in
// compiler/, its execution and cost in sim/.
#pragma once
#include <cstdint>

namespace neutron::npu {

#define NEUTRON_NPU_OPCODES(X)                                                         \
  X(Conv2D, 1, "conv2d")                 /* standard conv, groups >= 1 */              \
  X(DepthwiseConv2D, 2, "dwconv2d")      /* groups == in_c, any depth multiplier */   \
  X(FullyConnected, 3, "fully_connected")                                              \
  X(BatchMatMul, 4, "batch_matmul")      /* two int8 activations, any zero points */  \
  X(MaxPool2D, 5, "maxpool2d")                                                         \
  X(AvgPool2D, 6, "avgpool2d")                                                         \
  X(GlobalAvgPool, 7, "global_avgpool")                                                \
  X(Elementwise, 8, "elementwise")       /* Add, Sub, Mul, Max, Min with broadcast */  \
  X(Table, 9, "table")                   /* int8 -> int8 lookup: activations, requantize */ \
  X(Softmax, 10, "softmax")                                                            \
  X(Pad, 11, "pad")                                                                    \
  X(Slice, 12, "slice")                                                                \
  X(Concat, 13, "concat")                                                              \
  X(Transpose, 14, "transpose")                                                        \
  X(Resize, 15, "resize")                                                              \
  X(Reduce, 16, "reduce")                                                              \
  X(Copy, 17, "copy")                    /* reshape / identity between regions */      \
  X(LayerNorm, 18, "layer_norm")         /* over the last dim (transformers) */        \
  X(MaskedFill, 19, "masked_fill")       /* Where with a constant mask and fill */      \
  X(Gather, 20, "gather")                /* run-time indices (embedding lookups) */     \
  X(ChannelTable, 24, "channel_table")   /* per-channel int8 lookup: PRelu */          \
  X(L2Norm, 25, "l2_norm")               /* x / max(||x||_2, eps) along one axis */    \
  X(Recurrent, 40, "recurrent")          /* GRU / LSTM over a whole sequence */         \
  X(Prefetch, 32, "prefetch")            /* flash weights -> SRAM scratch */           \
  X(Quantize, 48, "quantize")            /* float32 -> int8 (CPU: float ops' edges) */ \
  X(Dequantize, 49, "dequantize")        /* int8 -> float32 */                          \
  X(ElementwiseF32, 50, "elementwise_f32")  /* float binary ops with broadcast */       \
  X(UnaryF32, 51, "unary_f32")           /* float unary ops (kernels/unary_f32.h) */   \
  X(SoftmaxF32, 52, "softmax_f32")                                                     \
  X(GemmF32, 53, "gemm_f32")             /* float Gemm / MatMul, constant B */          \
  X(ConvF32, 54, "conv_f32")             /* float Conv / ConvTranspose, NHWC */         \
  X(RecurrentF32, 55, "recurrent_f32")   /* float GRU / LSTM */                         \
  X(PoolF32, 56, "pool_f32")             /* float max / average pools, NHWC */          \
  X(Div, 72, "div")                      /* int8 a / b, run-time b, with broadcast */   \
  X(ReduceF32, 76, "reduce_f32")         /* float ReduceMean/Max/Min/Sum */             \
  X(ResizeF32, 77, "resize_f32")         /* float Resize nearest / linear, any 4 axes */ \
  X(LayerNormF32, 78, "layer_norm_f32")  /* float LayerNormalization over dims[3] */    \
  X(BatchMatMulF32, 79, "batch_matmul_f32")  /* float MatMul, B an activation */        \
  X(WhereF32, 80, "where_f32")           /* float select by a byte condition */        \
  X(GatherF32, 81, "gather_f32")         /* float Gather, run-time indices checked */  \
  X(Cast, 82, "cast")                    /* float32 / int32 / int64 conversions */     \
  X(RecurrentPeepholeF32, 84, "recurrent_peephole_f32")  /* float LSTM with peepholes */ \
  X(ConvAdd, 64, "conv2d_add")           /* a conv and the Add of its output: one call */ \
  X(WaitPrefetch, 33, "wait_prefetch")

enum class Opcode : uint16_t {
#define NEUTRON_X(name, value, text) k##name = value,
  NEUTRON_NPU_OPCODES(NEUTRON_X)
#undef NEUTRON_X
};

constexpr const char* opcode_name(Opcode op) {
  switch (op) {
#define NEUTRON_X(name, value, text) \
  case Opcode::k##name:              \
    return text;
    NEUTRON_NPU_OPCODES(NEUTRON_X)
#undef NEUTRON_X
  }
  return "unknown";
}

// Per-output-channel requantization in the weights section: `channels` entries of
// {int32 multiplier, int32 shift} (kernels/requantize.h FixedMultiplier), or one entry when
// per-tensor (FullyConnected's per_channel = 0). Conv2D/DepthwiseConv2D always have out_c entries.
// Every offset into the weights section must be aligned to its element (4 for int32 data, 8 for
// doubles); the writer's add_weights() gives 16.
// Zero points and the int8 output clamp come from the tensor descriptors and the args; the
// padding channels of packed weights (beyond in_c / out_c) are ignored and should be zero.
struct ConvArgs {  // Conv2D and DepthwiseConv2D
  uint32_t input, output;          // tensor table indices (NHWC)
  uint32_t weights_offset;         // int8 [out_c_padded][kh][kw][in_c_per_group_padded], padded to num_macs
  uint32_t bias_offset;            // int32 [out_c] in accumulator units
  uint32_t multipliers_offset;     // FixedMultiplier [out_c]
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  int32_t groups;
  int32_t in_c_padded, out_c_padded;  // the packed weight layout's channel counts
  int32_t act_min, act_max;        // int8 output clamp (fused activation)
  uint32_t tile_rows;              // output rows per tile (scratch tiling), 0 = whole output
};

struct FullyConnectedArgs {  // out[M][N] = in[M][K] x W^T, W int8 [N_padded][K_padded]
  uint32_t input, output;
  uint32_t weights_offset, bias_offset, multipliers_offset;
  int32_t rows, in_features, out_features, in_features_padded, out_features_padded;
  int32_t per_channel;  // 1: multipliers has out_features entries, 0: one
  int32_t act_min, act_max;
};

struct BatchMatMulArgs {
  uint32_t a, b, output;
  int32_t batch, m, k, n;
  int32_t multiplier, shift;
  int32_t act_min, act_max;
};

struct PoolArgs {  // MaxPool2D, AvgPool2D, GlobalAvgPool
  uint32_t input, output;
  int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right;
  int32_t count_include_pad;
  int32_t multiplier, shift;  // GlobalAvgPool: s_in / (s_out * H * W); MaxPool2D: s_in / s_out,
                              // multiplier 0 = same quantization in and out (values copied)
  int32_t act_min, act_max;
  uint32_t multipliers_offset;  // AvgPool2D: FixedMultiplier[kernel_h * kernel_w + 1] in the weights,
                                // entry c = s_in / (s_out * c) for a window of c taps (entry 0 unused)
};

enum class ElementwiseOp : int32_t { kAdd = 0, kSub = 1, kMul = 2, kMax = 3, kMin = 4 };

struct ElementwiseArgs {  // output NHWC; inputs broadcast per dimension (dims of 1)
  uint32_t a, b, output;
  int32_t op;  // ElementwiseOp
  int32_t multiplier_a, multiplier_b, shift;  // Add/Sub: the pair (FixedMultiplierPair);
                                              // Mul: multiplier_a, shift; Max/Min: unused
  int32_t act_min, act_max;
  uint32_t table_offset;  // Max/Min: int8 table_a[256] then table_b[256] in the weights: each input
                          // value (index q + 128) quantized to the output parameters
                          // (kernels/elementwise_int8.h prepare_binary_int8)
};

// int8 a / b with a run-time b (kernels/elementwise_int8.h, BinaryInt8Op::Div): exact int64
// division of m * (a - za) by (b - zb) << shift, M = sa / (sb * so) = m / 2^shift; b - zb = 0
// saturates to the sign of a - za (docs/integer-semantics.md). Broadcast as ElementwiseArgs.
struct DivArgs {
  uint32_t a, b, output;
  int32_t multiplier, shift;
  int32_t act_min, act_max;
};

// A conv (or depthwise conv) and the elementwise Add/Sub that reads its output, in one call: the
// conv's int8 result (conv.output's quantization) is stored where add.output is (the same storage:
// region, offset and dims), then add combines it with the other operand in place. Bit-exact with
// the two calls it replaces; saves a call and the result's round trip.
struct ConvAddArgs {
  ConvArgs conv;
  ElementwiseArgs add;  // add.a or add.b is conv.output; no broadcast; the other never overlaps add.output
};

struct TableArgs {  // out[i] = table[in[i] + 128]
  uint32_t input, output;
  uint32_t table_offset;  // int8[256] in the weights section
};

// out[i] = tables[(i / inner) % channels][in[i] + 128]: a 256-entry table per channel of one
// axis (PRelu's per-channel slopes; the axis need not be the last: `inner` is the element stride).
struct ChannelTableArgs {
  uint32_t input, output;
  uint32_t table_offset;  // int8[channels][256] in the weights section
  int32_t channels, inner;
};

// L2 normalization of the input viewed [outer, n, inner] along n (outer = elements / (n * inner)).
struct L2NormArgs {
  uint32_t input, output;
  uint32_t params_offset;  // double[2] in the weights (8-aligned): eps / s_in, s_out
                           // (kernels/reduce_int8.h L2NormInt8Params)
  int32_t n, inner;
};

struct SoftmaxArgs {  // over the last (channel) dimension
  uint32_t input, output;
  uint32_t table_offset;  // double[257] in the weights (8-aligned): [d] = exp(-s_in * d) for d in
                          // 0..255, then [256] = s_out (kernels/softmax_int8.h SoftmaxInt8Params)
  int32_t reserved;
};

struct PadArgs {
  uint32_t input, output;
  int32_t pad_before[4], pad_after[4];  // N, H, W, C
  int32_t mode;   // 0 constant, 1 reflect, 2 edge (replicate)
  int32_t value;  // int8 pad value for constant mode
};

struct SliceArgs {
  uint32_t input, output;
  int32_t begin[4];  // N, H, W, C; size = output dims
};

struct ConcatArgs {  // up to 8 inputs per call; more are split by the compiler
  uint32_t output;
  int32_t axis;  // 0..3 in NHWC
  uint32_t num_inputs;
  uint32_t inputs[8];
};

struct TransposeArgs {
  uint32_t input, output;
  int32_t perm[4];
};

struct ResizeArgs {  // NHWC, H and W resized; nearest: same quantization in and out
  uint32_t input, output;
  int32_t mode;  // 0 nearest, 1 bilinear
  int32_t align_corners, half_pixel_centers;
  uint32_t table_offset;  // nearest: int32 source row per output row [out_h], then source column
                          // per output column [out_w] (kernels/resize.h resize_nearest_table);
                          // bilinear: FixedMultiplier s_in / (s_out * 2^22), then int32 {i0, i1, w1}
                          // per output row [out_h], then per output column [out_w]
                          // (kernels/resize_int8.h resize_linear_table_int8)
};

struct ReduceArgs {  // output dims: the input's with reduced dims set to 1
  uint32_t input, output;
  int32_t op;        // 0 mean, 1 max, 2 min, 3 sum
  int32_t axes_mask;  // bit i: reduce NHWC dim i
  int32_t multiplier, shift;  // mean: s_in / (s_out * count), sum: s_in / s_out, applied to
                              // sum(q - z_in); max/min: same quantization in and out (copied)
};

struct LayerNormArgs {  // rows of dims[3] elements (kernels/layer_norm_int8.h)
  uint32_t input, output;
  uint32_t table_offset;  // double [2 * n + 1] in the weights (8-aligned): a[n], b[n], eps_q
  int32_t act_min, act_max;
};

struct MaskedFillArgs {  // out[i] = mask[i] ? fill : in[i]; same dims and quantization
  uint32_t input, output;
  uint32_t mask_offset;  // uint8 [count of output] in the weights
  int32_t fill;          // int8 value
};

// Gather along one axis: input viewed as [outer, axis_dim, inner] (int8, activation or a
// weights-region table), indices int32 or int64 (`count` values, negative counts from the end),
// output [outer, count, inner] with the input's quantization. An index outside
// [-axis_dim, axis_dim) fails the run (never an out-of-bounds read).
struct GatherArgs {
  uint32_t input, output, indices;
  int32_t outer, axis_dim, inner, count;
};

// GRU or LSTM of one direction over the whole sequence (kernels/recurrent_int8.h): the state
// stays in the kernel's working memory between steps. Input X int8 [seq][batch][input_size],
// output Y int8 [seq][batch][hidden] (the hidden state of every step, with its parameters);
// output_c: LSTM's final cell state Y_c int8 [batch][hidden] with its own parameters, or UINT32_MAX.
struct RecurrentArgs {
  uint32_t input, output, output_c;
  uint32_t weights_offset;    // int8 W [G*H][input_size], then R [G*H][hidden] (G = 3 GRU, 4 LSTM)
  uint32_t params_offset;     // int32 bias_x[G*H], bias_h[G*H], then FixedMultiplier mult_x[G*H],
                              // mult_h[G*H], h_to_q15, q15_to_h, q15_to_c
  uint32_t tables_offset;     // int16 sigmoid[513], tanh[513] (Q15)
  uint32_t initial_h_offset;  // int8 [batch][hidden], or UINT32_MAX: h = 0
  uint32_t initial_c_offset;  // int32 Q15 [batch][hidden] (LSTM), or UINT32_MAX: c = 0
  int32_t cell;               // 0 GRU, 1 LSTM
  int32_t seq, batch, input_size, hidden;
  int32_t reverse, linear_before_reset;
};

struct CopyArgs {
  uint32_t input, output;
};

// ---------------------------------------------------------------------------------------------
// Float32 kernel calls (opcodes 48-63 and 76-83): ops a program keeps in float (no int8 kernel, or kept in
// float by the user) run on the CPU's float kernels, between Quantize and Dequantize calls. Never
// delegated to the NPU. Float parameters travel as their IEEE-754 bits (`*_bits` words); float
// weights are float32 arrays in the weights section (4-aligned), read in place (gemm and conv
// weights packed for their kernel at compile time): no repacking at load. Tensors are ElemType::kFloat32 (zero point 0) except the int8 side of
// Quantize / Dequantize, gather_f32's int32 / int64 indices, where_f32's uint8 condition and
// cast's integer side.

// Quantize: out = saturate(round_half_even(in / scale) + z_out); Dequantize: out = (in - z_in) *
// scale (kernels/quantize.h, as the program's Quantize / Dequantize instructions). The zero point
// is the int8 tensor's.
struct QuantizeArgs {
  uint32_t input, output;
  uint32_t scale_bits;  // float
  int32_t reserved;
};

// out = op(a, b), numpy broadcasting over the 4-D dims (kernels/elementwise.h).
enum class ElementwiseF32Op : int32_t {
  kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kPRelu = 6,
  kPow = 7  // ONNX Pow with a tensor exponent (IR PowTensor)
};
struct ElementwiseF32Args {
  uint32_t a, b, output;
  int32_t op;  // ElementwiseF32Op
};

// out = op(in) (kernels/unary_f32.h UnaryOp values, UnaryParams fields as bits).
struct UnaryF32Args {
  uint32_t input, output;
  int32_t op;  // UnaryOp
  uint32_t alpha_bits, beta_bits, min_bits, max_bits;
};

// Softmax of the input viewed [outer, axis, inner] along axis (kernels/softmax_f32.h).
struct SoftmaxF32Args {
  uint32_t input, output;
  int32_t outer, axis, inner;
};

// out[rows][N] = in[rows][K] x (alpha * B) + bias; B (float [K][N], trans_b 0, or [N][K], 1) is in
// the weights packed at compile time by gemm_f32_pack_b (kernels/gemm_f32.h, alpha folded; an
// ISA-independent panel format), read in place; bias float [N] or absent (bias_offset 0xFFFFFFFF);
// then the clamp (act_relu: Relu's NaN and -0 handling, GemmF32Epilogue). alpha and trans_b record
// how B was packed.
struct GemmF32Args {
  uint32_t input, output;
  uint32_t weights_offset, bias_offset;
  int32_t rows, in_features, out_features, trans_b;
  uint32_t alpha_bits;
  int32_t act_relu;
  uint32_t act_min_bits, act_max_bits;
};

// Conv (transposed 0: ONNX weights OIHW [out_c][in_c/groups][kh][kw]) or ConvTranspose
// (transposed 1: IOHW [in_c][out_c/groups][kh][kw]) on NHWC tensors; the weights are packed at
// compile time by conv2d_f32_pack_weights / conv_transpose2d_f32_pack_weights for this geometry
// (kernels/conv2d_f32.h; the layout depends on the geometry only) and read in place; bias float
// [out_c] or absent (0xFFFFFFFF), then the clamp. ConvTranspose's output padding follows from the
// output dims.
struct ConvF32Args {
  uint32_t input, output;
  uint32_t weights_offset, bias_offset;
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  int32_t groups, transposed;
  int32_t act_relu;
  uint32_t act_min_bits, act_max_bits;
};

// GRU (lstm 0) or LSTM (1) in ONNX semantics (kernels/recurrent_f32.h): X [seq][batch][input];
// W, R, B float in the weights in ONNX layout; optional tensors are 0xFFFFFFFF (b_offset too).
// Outputs Y [seq][dirs][batch][hidden], Y_h / Y_c [dirs][batch][hidden].
struct RecurrentF32Args {
  uint32_t input, y, y_h, y_c, initial_h, initial_c;
  uint32_t w_offset, r_offset, b_offset;
  int32_t lstm, seq, batch, input_size, hidden, directions, reverse, linear_before_reset;
};

// An LSTM with peepholes: RecurrentF32Args's words (lstm 1), then the byte offset of P
// [dirs][3 * hidden] (gates i, o, f) in the weights. A separate opcode keeps recurrent_f32's
// argument size, so programs written before it still load.
struct RecurrentPeepholeF32Args {
  uint32_t input, y, y_h, y_c, initial_h, initial_c;
  uint32_t w_offset, r_offset, b_offset;
  int32_t lstm, seq, batch, input_size, hidden, directions, reverse, linear_before_reset;
  uint32_t p_offset;
};

// Max or average pooling on NHWC tensors (kernels/pool_f32.h): op 0 MaxPool, 1 AveragePool,
// 2 GlobalMaxPool, 3 GlobalAveragePool (window fields unused). The output size follows from the
// geometry with floor or ceil rounding.
struct PoolF32Args {
  uint32_t input, output;
  int32_t op;
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  int32_t count_include_pad;
};

// ReduceMean (op 0), Max (1), Min (2) or Sum (3) over the NHWC dims in axes_mask (bit i: dim i)
// (kernels/reduce.h); the output's dims are the input's with the reduced dims set to 1.
struct ReduceF32Args {
  uint32_t input, output;
  int32_t op;
  int32_t axes_mask;
};

// Resize nearest (mode 0) or linear (mode 1) of a dense 4-D tensor, every axis independently
// (kernels/resize.h). The table (weights, 4-aligned) has one entry per output index of axis 0,
// then of axis 1, 2 and 3: nearest int32 source index; linear {int32 i0, int32 i1, float w1}.
struct ResizeF32Args {
  uint32_t input, output;
  int32_t mode;
  uint32_t table_offset;
};

// LayerNormalization of rows of dims[3] elements (the input's other dims are the rows;
// kernels/layer_norm_f32.h): scale and bias float [dims[3]] in the weights (broadcast at compile
// time), read in place; bias absent: bias_offset kNoOperand.
struct LayerNormF32Args {
  uint32_t input, output;
  uint32_t scale_offset, bias_offset;
  uint32_t epsilon_bits;
};

// MatMul of two float activations (or a batched constant B), numpy batch broadcasting
// (kernels/gemm_f32.h, as the host's MatMul binder): for output batch i < batch, out[i] (m x n) =
// A slice (m x k) x B slice (k x n), B packed per slice into the working memory by
// gemm_f32_pack_b, then the clamp (act_relu as GemmF32Args). slices_offset: int32 {a_slice,
// b_slice} per output batch in the weights (4-aligned), each below its operand's slice count
// (count / (m * k), count / (k * n)); kNoOperand: slice i of both (A and B hold `batch` slices).
struct BatchMatMulF32Args {
  uint32_t a, b, output;
  int32_t batch, m, k, n;
  uint32_t slices_offset;
  int32_t act_relu;
  uint32_t act_min_bits, act_max_bits;
};

// out[i] = condition[i] != 0 ? x[i] : y[i] (kernels/index_ops.h where()): condition uint8 (a bool
// constant, one byte per element), x, y and output float32, each operand broadcast to the
// output's 4 dims (numpy rules on the right-aligned dims).
struct WhereF32Args {
  uint32_t condition, x, y, output;
};

// GatherF32 takes GatherArgs: float32 input (an activation or a weights-region table) and output,
// int32 or int64 indices; an index outside [-axis_dim, axis_dim) fails the run, as on the host.

// ONNX Cast between float32, int32 and int64 (kernels/data_movement.h cast(): float -> integer
// truncates toward zero, NaN gives 0, out-of-range values saturate; integer -> integer wraps).
// The element types are the tensors' own; the counts are equal.
struct CastArgs {
  uint32_t input, output;
};

constexpr uint32_t kNoOperand = 0xFFFFFFFFu;  // an absent optional tensor or weights offset

struct PrefetchArgs {  // copies weights [offset, offset + size) to SRAM scratch at sram_offset
  uint32_t weights_offset, size, sram_offset, channel;
};

struct WaitPrefetchArgs {
  uint32_t channel;
};

}  // namespace neutron::npu
