#include "kernel_calls/kernel_calls.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <new>

#include "kernels/batch_matmul_int8.h"
#include "kernels/conv2d_f32.h"
#include "kernels/conv_int8.h"
#include "kernels/data_movement.h"
#include "kernels/elementwise.h"
#include "kernels/elementwise_int8.h"
#include "kernels/gemm_f32.h"
#include "kernels/gemm_int8.h"
#include "kernels/in_place_int8.h"
#include "kernels/index_ops.h"
#include "kernels/layer_norm_f32.h"
#include "kernels/layer_norm_int8.h"
#include "kernels/pool_f32.h"
#include "kernels/pool_int8.h"
#include "kernels/quantize.h"
#include "kernels/recurrent_f32.h"
#include "kernels/reduce.h"
#include "kernels/recurrent_int8.h"
#include "kernels/reduce_int8.h"
#include "kernels/requantize.h"
#include "kernels/resize.h"
#include "kernels/resize_int8.h"
#include "kernels/softmax_f32.h"
#include "kernels/softmax_int8.h"
#include "kernels/unary_f32.h"
#include "kernels/unary_int8.h"

namespace neutron::kernel_calls {

using npu::ElemType;
using npu::Instruction;
using npu::Opcode;
using npu::Region;
using npu::TensorDesc;

namespace {

constexpr int32_t kMaxNpuGeometry = 4096;     // kernel, stride, dilation, padding (the NPU's limits)
constexpr int32_t kMaxCpuGeometry = 1 << 24;  // the CPU kernels': the tensor dimension limit
constexpr uint32_t kMaxPrefetchChannels = 16;

CallStatus bad(Error e, const char* message) {
  CallStatus s;
  s.error = e;
  s.message = message;
  return s;
}
CallStatus invalid(const char* message) { return bad(Error::InvalidModel, message); }
CallStatus unsupported(const char* message) { return bad(Error::NotSupported, message); }
#define CALL_CHECK(cond, msg)            \
  do {                                  \
    if (!(cond)) return invalid(msg);   \
  } while (0)

// Bump allocator over the prepared-state memory. In the measuring pass it only counts.
// Host mode (`host`): conv and FC weights are repacked for the host's SIMD kernels into a second,
// host-only memory (host_alloc) instead of being read in place; the device memory (alloc) is laid
// out the same in both modes, so its size is what a device needs whatever the host does.
struct Arena {
  uint8_t* base = nullptr;
  size_t cap = 0;
  size_t used = 0;
  bool measuring = true;
  size_t workspace = 0;   // largest working memory any kernel asked for (in-place paths)
  uint8_t* ws = nullptr;  // the workspace (fill pass; the host workspace in host mode)
  bool host = false;
  uint8_t* host_base = nullptr;
  size_t host_cap = 0;
  size_t host_used = 0;
  size_t host_workspace = 0;  // largest working memory of the repacked paths

  template <typename T>
  T* host_alloc(size_t n) {
    const size_t off = npu::align16(host_used);
    host_used = off + n * sizeof(T);
    if (measuring || host_used > host_cap) return nullptr;
    return reinterpret_cast<T*>(host_base + off);
  }
  void host_need(size_t bytes) {
    if (bytes > host_workspace) host_workspace = bytes;
  }

  template <typename T>
  T* alloc(size_t n) {
    const size_t off = npu::align16(used);
    used = off + n * sizeof(T);
    if (measuring || used > cap) return nullptr;
    return reinterpret_cast<T*>(base + off);
  }
  // The kernel's state struct: a local in the measuring pass, arena memory otherwise.
  template <typename S>
  S* state(S* local) {
    S* p = alloc<S>(1);
    if (measuring) return local;
    return new (p) S();
  }
  void need(size_t bytes) {
    if (bytes > workspace) workspace = bytes;
  }
};

int64_t count_of(const TensorDesc& d) {
  return int64_t(d.dims[0]) * d.dims[1] * d.dims[2] * d.dims[3];
}
bool is_int8(const TensorDesc& d) { return d.elem_type == uint8_t(ElemType::kInt8); }
bool same_dims(const TensorDesc& a, const TensorDesc& b) {
  return a.dims[0] == b.dims[0] && a.dims[1] == b.dims[1] && a.dims[2] == b.dims[2] && a.dims[3] == b.dims[3];
}
bool same_buffer(const TensorDesc& a, const TensorDesc& b) {
  if (a.region != b.region) return false;
  if ((a.region == uint8_t(Region::kInput) || a.region == uint8_t(Region::kOutput)) && a.index != b.index) return false;
  return true;
}
bool overlaps(const TensorDesc& a, const TensorDesc& b) {
  if (!same_buffer(a, b)) return false;
  return uint64_t(a.offset) < uint64_t(b.offset) + b.size && uint64_t(b.offset) < uint64_t(a.offset) + a.size;
}
bool identical(const TensorDesc& a, const TensorDesc& b) {
  return same_buffer(a, b) && a.offset == b.offset && a.size == b.size;
}
bool act_range_ok(int32_t lo, int32_t hi) { return lo >= -128 && lo <= hi && hi <= 127; }
int32_t max_geometry(Limits l) { return l == Limits::kNpu ? kMaxNpuGeometry : kMaxCpuGeometry; }

// Output size of a window op along one axis, or -1.
int64_t window_out(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_sum, bool ceil_mode) {
  const int64_t span = in + pad_sum - dilation * (k - 1) - 1;
  if (span < 0) return -1;
  return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
}

struct Ctx {
  const npu::MicrocodeView& mc;
  const uint8_t* weights;
  Limits limits;
  bool geometry_ok(int32_t v, int32_t lo) const { return v >= lo && v <= max_geometry(limits); }
};

// [offset, offset + bytes) inside the weights section and aligned to `align`.
bool weights_range_ok(const Ctx& c, uint64_t offset, uint64_t bytes, uint64_t align) {
  return offset % align == 0 && offset + bytes <= c.mc.weights_size();
}

bool multiplier_ok(const FixedMultiplier& m) {
  return m.multiplier >= 0 && m.shift >= kMinShift && m.shift <= kMaxShift;
}

// Copies `n` FixedMultipliers from the weights and checks them.
bool load_multipliers(const Ctx& c, uint32_t offset, size_t n, FixedMultiplier* out) {
  for (size_t i = 0; i < n; ++i) {
    FixedMultiplier m;
    std::memcpy(&m, c.weights + offset + i * sizeof(FixedMultiplier), sizeof(m));
    if (!multiplier_ok(m)) return false;
    if (out) out[i] = m;
  }
  return true;
}

// The int32 accumulators of conv and FC cannot overflow: for each output channel n with weights
// w[n][0..K) (NPU layout: `row_stride` bytes per channel) and bias b[n],
//   |b - z_in * sum(w)| + K * 128 * 128 < 2^31   (the general path: bias folded with z_in)
//   |b| + K * 255 * 128 < 2^31                    (the depthwise path: (x - z_in) * w)
// Real models are far inside; corrupted weights are rejected instead of overflowing.
bool accumulators_fit(const Ctx& c, uint32_t weights_offset, size_t row_stride, size_t taps, size_t per_tap,
                      size_t tap_stride, uint32_t bias_offset, int32_t channels, int32_t z_in) {
  // Per channel, with its actual weights (a bound on K alone would refuse every layer with
  // K = kH * kW * Cin/group above 65793, which the int32 kernels run fine):
  // |x| <= 128 and |x - z_in| <= 255 bound the products by 128 * sum|w| and 255 * sum|w|.
  const int64_t limit = (int64_t(1) << 31) - 1;
  for (int32_t n = 0; n < channels; ++n) {
    const int8_t* w = reinterpret_cast<const int8_t*>(c.weights + weights_offset + size_t(n) * row_stride);
    int64_t sum = 0, sum_abs = 0;
    if (per_tap == tap_stride || taps == 1) {
      for (size_t i = 0; i < taps * per_tap; ++i) {
        sum += w[i];
        sum_abs += w[i] < 0 ? -w[i] : w[i];
      }
    } else {
      for (size_t t = 0; t < taps; ++t)
        for (size_t i = 0; i < per_tap; ++i) {
          sum += w[t * tap_stride + i];
          sum_abs += w[t * tap_stride + i] < 0 ? -w[t * tap_stride + i] : w[t * tap_stride + i];
        }
    }
    int32_t b;
    std::memcpy(&b, c.weights + bias_offset + size_t(n) * 4, 4);
    const int64_t folded = int64_t(b) - int64_t(z_in) * sum;
    if ((folded < 0 ? -folded : folded) + sum_abs * 128 > limit) return false;
    if ((b < 0 ? -int64_t(b) : int64_t(b)) + sum_abs * 255 > limit) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Prepared state of each kernel family.

struct ConvState {
  TensorDesc in, out;
  Conv2DInt8Params p;
  bool in_place = true;  // else p's packed weights (host memory)
  const int8_t* weights = nullptr;  // in place: [out_c_padded][kh][kw][ic_stride] in the weights section
  int32_t ic_stride = 0;
};
struct FcState {
  TensorDesc in, out;
  QGemmInt8Params p;
  bool in_place = true;  // else p's packed weights (host memory)
  FullyConnectedInt8InPlace ip;
};
struct BatchMatMulState {
  TensorDesc a, b, out;
  BatchMatMulInt8Params p;
};
struct PoolState {
  TensorDesc in, out;
  Opcode op;
  PoolInt8Params p;
};
struct ElementwiseState {
  TensorDesc a, b, out;
  BroadcastParams bp;
  BinaryInt8Params p;
};
struct ConvAddState {  // the two kernels' own states, run one after the other
  const void* conv;
  const void* add;
};
struct TableState {
  TensorDesc in, out;
  const int8_t* table;  // in the weights section
};
struct LayerNormState {
  TensorDesc in, out;
  LayerNormInt8Params p;
};
struct MaskedFillState {
  TensorDesc in, out;
  const uint8_t* mask;  // in the weights section
  int8_t fill;
};
struct GatherState {
  TensorDesc in, out, idx;
  GatherParams p;
  bool index_is_64;
};
struct ChannelTableState {
  TensorDesc in, out;
  int64_t channels = 0, inner = 0;
  const int8_t* tables = nullptr;  // in the weights section
};
struct L2NormState {
  TensorDesc in, out;
  L2NormInt8Params p;
};
struct SoftmaxState {
  TensorDesc in, out;
  SoftmaxInt8Params p;
};
struct PadState {
  TensorDesc in, out;
  PadParams p;
};
struct CopyState {  // Slice, Transpose (strided copy) and Copy
  TensorDesc in, out;
  StridedCopyParams p;
};
struct ConcatState {
  TensorDesc out;
  uint32_t n;
  TensorDesc in[8];
  int64_t outer;
  int64_t chunk_bytes[8];
};
struct ResizeState {
  TensorDesc in, out;
  int32_t mode;
  ResizeParams p;                // nearest
  ResizeBilinearInt8Params bl;  // bilinear
};
struct ReduceState {
  TensorDesc in, out;
  int32_t op;
  ReduceInt8Params p;  // max/min: p.shape only
};
struct PrefetchState {
  npu::PrefetchArgs a;
};
// Float kernel calls.
struct QuantizeState {
  TensorDesc in, out;
  float scale;
  int32_t zero_point;
};
struct ElementwiseF32State {
  TensorDesc a, b, out;
  BroadcastParams bp;
  BinaryOp op;
};
struct UnaryF32State {
  TensorDesc in, out;
  UnaryParams p;
};
struct SoftmaxF32State {
  TensorDesc in, out;
  SoftmaxParams p;
};
struct GemmF32State {
  TensorDesc in, out;
  int64_t rows = 0, n = 0, k = 0;
  const float* packed = nullptr;  // prepared state
  GemmF32Epilogue ep;             // bias read from the weights where it lies
};
struct BatchMatMulF32State {
  TensorDesc a, b, out;
  int64_t batch = 0, m = 0, k = 0, n = 0;
  const int32_t* slices = nullptr;  // {a_slice, b_slice} per batch in the weights (checked), or null
  GemmF32Epilogue ep;
};
struct WhereF32State {
  TensorDesc cond, x, y, out;
  SelectParams p;
};
struct CastState {
  TensorDesc in, out;
  DType from, to;
};
struct ExpandState {
  TensorDesc in, out;
  SelectParams p;
};
struct ConvF32State {
  TensorDesc in, out;
  bool transposed = false;
  Conv2DF32Params p;
  ConvTranspose2DF32Params tp;
  const float* packed = nullptr;  // prepared state
  const float* bias = nullptr;    // in the weights, or null
};
struct LayerNormF32State {
  TensorDesc in, out;
  LayerNormParams p;
  const float* scale = nullptr;  // in the weights
  const float* bias = nullptr;   // in the weights, or null
};
struct ResizeF32State {
  TensorDesc in, out;
  int32_t mode;
  ResizeParams p;
};
struct ReduceF32State {
  TensorDesc in, out;
  ReduceOp op;
  bool l2 = false;  // ReduceL2: reduce_l2_f32 (op Sum over the squares)
  ReduceParams p;
};
struct PoolF32State {
  TensorDesc in, out;
  int32_t op;
  Pool2DParams p;
};
struct RecurrentF32State {
  TensorDesc in, y, y_h, y_c, h0, c0;
  bool has_y, has_y_h, has_y_c, has_h0, has_c0;
  RecurrentF32Params p;
  const float *w, *r, *b;  // in the weights, where they lie
  const float* peep;       // recurrent_peephole_f32's P, else null
};
struct RecurrentState {
  TensorDesc in, out, out_c;
  bool has_c;
  RecurrentInt8Params p;  // its pointers point into the weights section
};

// ---------------------------------------------------------------------------------------------
// Setup: validate the args against the kernel's semantics and fill its state.

CallStatus setup_conv(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::ConvArgs a = inst.as<npu::ConvArgs>();
  ConvState local;
  ConvState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  const TensorDesc &in = st->in, &out = st->out;
  CALL_CHECK(is_int8(in) && is_int8(out), "conv: input and output must be int8");
  CALL_CHECK(!overlaps(in, out), "conv: output overlaps the input");
  CALL_CHECK(in.dims[0] == out.dims[0], "conv: batch differs between input and output");
  CALL_CHECK(c.geometry_ok(a.kernel_h, 1) && c.geometry_ok(a.kernel_w, 1) && c.geometry_ok(a.stride_h, 1) &&
                c.geometry_ok(a.stride_w, 1) && c.geometry_ok(a.dilation_h, 1) && c.geometry_ok(a.dilation_w, 1),
            "conv: kernel, stride or dilation out of range");
  CALL_CHECK(c.geometry_ok(a.pad_top, 0) && c.geometry_ok(a.pad_left, 0) && c.geometry_ok(a.pad_bottom, 0) &&
                c.geometry_ok(a.pad_right, 0),
            "conv: padding out of range");
  const int32_t in_c = in.dims[3], out_c = out.dims[3];
  CALL_CHECK(a.groups >= 1 && in_c % a.groups == 0 && out_c % a.groups == 0, "conv: groups do not divide the channels");
  if (inst.opcode == Opcode::kDepthwiseConv2D) CALL_CHECK(a.groups == in_c, "dwconv: groups must equal input channels");
  CALL_CHECK(window_out(in.dims[1], a.kernel_h, a.stride_h, a.dilation_h, int64_t(a.pad_top) + a.pad_bottom, false) ==
                    out.dims[1] &&
                window_out(in.dims[2], a.kernel_w, a.stride_w, a.dilation_w, int64_t(a.pad_left) + a.pad_right, false) ==
                    out.dims[2],
            "conv: output height/width do not follow from the input and the geometry");
  const int64_t cin_g = in_c / a.groups;
  CALL_CHECK(a.in_c_padded >= cin_g && a.in_c_padded <= 65536 && a.out_c_padded >= out_c && a.out_c_padded <= (1 << 20),
            "conv: padded channel counts smaller than the channels");
  // The NPU's weight-volume limit; the CPU kernels' bound is the accumulator check below.
  CALL_CHECK(c.limits == Limits::kCpu || int64_t(a.kernel_h) * a.kernel_w * cin_g < 65536,
            "conv: kernel_h * kernel_w * in_c / groups too large");
  const uint64_t wbytes = uint64_t(a.out_c_padded) * uint64_t(a.kernel_h) * uint64_t(a.kernel_w) * uint64_t(a.in_c_padded);
  CALL_CHECK(weights_range_ok(c, a.weights_offset, wbytes, 1), "conv: weights outside the weights section");
  CALL_CHECK(weights_range_ok(c, a.bias_offset, uint64_t(out_c) * 4, 4), "conv: bias outside the weights section");
  CALL_CHECK(weights_range_ok(c, a.multipliers_offset, uint64_t(out_c) * sizeof(FixedMultiplier), 4),
            "conv: multipliers outside the weights section");
  CALL_CHECK(act_range_ok(a.act_min, a.act_max), "conv: activation range outside int8");
  CALL_CHECK(load_multipliers(c, a.multipliers_offset, size_t(out_c), nullptr), "conv: multiplier shift out of range");
  CALL_CHECK(accumulators_fit(c, a.weights_offset, size_t(a.kernel_h) * size_t(a.kernel_w) * size_t(a.in_c_padded),
                             size_t(a.kernel_h) * size_t(a.kernel_w), size_t(cin_g), size_t(a.in_c_padded),
                             a.bias_offset, out_c, in.zero_point),
            "conv: bias and weights could overflow the int32 accumulator");

  Conv2DInt8Params& p = st->p;
  p.batch = in.dims[0];
  p.in_h = in.dims[1];
  p.in_w = in.dims[2];
  p.in_c = in_c;
  p.out_h = out.dims[1];
  p.out_w = out.dims[2];
  p.out_c = out_c;
  p.kernel_h = a.kernel_h;
  p.kernel_w = a.kernel_w;
  p.stride_h = a.stride_h;
  p.stride_w = a.stride_w;
  p.dilation_h = a.dilation_h;
  p.dilation_w = a.dilation_w;
  p.pad_top = a.pad_top;
  p.pad_left = a.pad_left;
  p.groups = a.groups;
  p.input_zero_point = in.zero_point;
  p.output_zero_point = out.zero_point;
  p.qmin = a.act_min;
  p.qmax = a.act_max;
  conv2d_int8_choose_path(&p);
  st->in_place = !ar.host;
  if (st->in_place) {  // read where they lie: weights, bias and multipliers in the weights section
    st->weights = reinterpret_cast<const int8_t*>(c.weights + a.weights_offset);
    st->ic_stride = a.in_c_padded;
    p.bias = reinterpret_cast<const int32_t*>(c.weights + a.bias_offset);
    p.multipliers = reinterpret_cast<const FixedMultiplier*>(c.weights + a.multipliers_offset);
    *plan = st;
    return CallStatus();
  }

  const size_t packed_n = conv2d_int8_packed_weights_size(p);
  int16_t* packed = ar.host_alloc<int16_t>(packed_n);
  int32_t* bias = ar.host_alloc<int32_t>(size_t(out_c));
  FixedMultiplier* mult = ar.host_alloc<FixedMultiplier>(size_t(out_c));
  ar.host_need(conv2d_int8_scratch_bytes(p));
  ar.host_need(size_t(out_c) * 4);
  if (!ar.measuring) {
    // Packed straight from the NPU layout [out_c_padded][kh][kw][in_c_padded] (no OIHW copy).
    const int8_t* w = reinterpret_cast<const int8_t*>(c.weights + a.weights_offset);
    int32_t* raw_bias = reinterpret_cast<int32_t*>(ar.ws);
    std::memcpy(raw_bias, c.weights + a.bias_offset, size_t(out_c) * 4);
    conv2d_int8_pack_ohwi(p, w, a.in_c_padded, raw_bias, packed, bias);
    load_multipliers(c, a.multipliers_offset, size_t(out_c), mult);
    p.weights = packed;
    p.bias = bias;
    p.multipliers = mult;
  }
  *plan = st;
  return CallStatus();
}

CallStatus setup_fc(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::FullyConnectedArgs a = inst.as<npu::FullyConnectedArgs>();
  FcState local;
  FcState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "fully_connected: input and output must be int8");
  CALL_CHECK(!overlaps(st->in, st->out), "fully_connected: output overlaps the input");
  CALL_CHECK(a.rows >= 1 && a.in_features >= 1 && a.out_features >= 1, "fully_connected: empty shape");
  CALL_CHECK(a.in_features < 65536, "fully_connected: in_features too large");
  CALL_CHECK(count_of(st->in) == int64_t(a.rows) * a.in_features, "fully_connected: input size != rows * in_features");
  CALL_CHECK(count_of(st->out) == int64_t(a.rows) * a.out_features, "fully_connected: output size != rows * out_features");
  CALL_CHECK(a.in_features_padded >= a.in_features && a.out_features_padded >= a.out_features &&
                a.out_features_padded <= (1 << 24),
            "fully_connected: padded features smaller than the features");
  CALL_CHECK(a.per_channel == 0 || a.per_channel == 1, "fully_connected: per_channel must be 0 or 1");
  const int32_t K = a.in_features, N = a.out_features;
  const size_t n_mult = a.per_channel ? size_t(N) : 1;
  CALL_CHECK(weights_range_ok(c, a.weights_offset, uint64_t(a.out_features_padded) * uint64_t(a.in_features_padded), 1),
            "fully_connected: weights outside the weights section");
  CALL_CHECK(weights_range_ok(c, a.bias_offset, uint64_t(N) * 4, 4), "fully_connected: bias outside the weights section");
  CALL_CHECK(weights_range_ok(c, a.multipliers_offset, n_mult * sizeof(FixedMultiplier), 4),
            "fully_connected: multipliers outside the weights section");
  CALL_CHECK(act_range_ok(a.act_min, a.act_max), "fully_connected: activation range outside int8");
  CALL_CHECK(load_multipliers(c, a.multipliers_offset, n_mult, nullptr), "fully_connected: multiplier shift out of range");
  CALL_CHECK(accumulators_fit(c, a.weights_offset, size_t(a.in_features_padded), 1, size_t(K), 0, a.bias_offset, N,
                             st->in.zero_point),
            "fully_connected: bias and weights could overflow the int32 accumulator");

  QGemmInt8Params& p = st->p;
  p.rows = a.rows;
  p.cols = N;
  p.depth = K;
  p.output_zero_point = st->out.zero_point;
  p.qmin = a.act_min;
  p.qmax = a.act_max;
  st->in_place = !ar.host;
  if (st->in_place) {  // read where they lie
    FullyConnectedInt8InPlace& ip = st->ip;
    ip.rows = a.rows;
    ip.in_features = K;
    ip.out_features = N;
    ip.weights = reinterpret_cast<const int8_t*>(c.weights + a.weights_offset);
    ip.row_stride = a.in_features_padded;
    ip.bias = reinterpret_cast<const int32_t*>(c.weights + a.bias_offset);
    ip.multipliers = reinterpret_cast<const FixedMultiplier*>(c.weights + a.multipliers_offset);
    ip.per_channel = a.per_channel != 0;
    ip.input_zero_point = st->in.zero_point;
    ip.output_zero_point = st->out.zero_point;
    ip.qmin = a.act_min;
    ip.qmax = a.act_max;
    *plan = st;
    return CallStatus();
  }
  int16_t* packed = ar.host_alloc<int16_t>(qgemm_int8_packed_size(K, N));
  int32_t* bias = ar.host_alloc<int32_t>(size_t(N));
  FixedMultiplier* mult = ar.host_alloc<FixedMultiplier>(size_t(N));
  const size_t tmp_bias_off = npu::align16(size_t(N) * size_t(K));
  ar.host_need(qgemm_int8_scratch_bytes(K));
  ar.host_need(tmp_bias_off + size_t(N) * 4);
  if (!ar.measuring) {
    int8_t* nk = reinterpret_cast<int8_t*>(ar.ws);
    const int8_t* w = reinterpret_cast<const int8_t*>(c.weights + a.weights_offset);
    for (int32_t n = 0; n < N; ++n)
      std::memcpy(nk + size_t(n) * size_t(K), w + size_t(n) * size_t(a.in_features_padded), size_t(K));
    int32_t* raw_bias = reinterpret_cast<int32_t*>(ar.ws + tmp_bias_off);
    std::memcpy(raw_bias, c.weights + a.bias_offset, size_t(N) * 4);
    pack_weights_nk_int8(nk, K, N, false, packed);
    fold_zero_point_into_bias(packed, K, N, raw_bias, st->in.zero_point, bias);
    if (a.per_channel) {
      load_multipliers(c, a.multipliers_offset, size_t(N), mult);
    } else {
      load_multipliers(c, a.multipliers_offset, 1, mult);
      for (int32_t n = 1; n < N; ++n) mult[n] = mult[0];
    }
    p.weights = packed;
    p.bias = bias;
    p.multipliers = mult;
  }
  *plan = st;
  return CallStatus();
}

CallStatus setup_batch_matmul(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::BatchMatMulArgs a = inst.as<npu::BatchMatMulArgs>();
  BatchMatMulState local;
  BatchMatMulState* st = ar.state(&local);
  st->a = c.mc.tensor(a.a);
  st->b = c.mc.tensor(a.b);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->a) && is_int8(st->b) && is_int8(st->out), "batch_matmul: operands must be int8");
  CALL_CHECK(!overlaps(st->a, st->out) && !overlaps(st->b, st->out), "batch_matmul: output overlaps an input");
  CALL_CHECK(a.batch >= 1 && a.m >= 1 && a.k >= 1 && a.n >= 1 && a.n <= (1 << 20), "batch_matmul: bad batch/m/k/n");
  CALL_CHECK(a.k <= batch_matmul_int8_max_depth(st->a.zero_point, st->b.zero_point),
            "batch_matmul: k too deep for the int32 accumulator");
  CALL_CHECK(count_of(st->a) == int64_t(a.batch) * a.m * a.k && count_of(st->b) == int64_t(a.batch) * a.k * a.n &&
                count_of(st->out) == int64_t(a.batch) * a.m * a.n,
            "batch_matmul: operand sizes do not match batch/m/k/n");
  CALL_CHECK(int64_t(a.batch) * a.m <= INT32_MAX, "batch_matmul: batch * m too large");
  CALL_CHECK(act_range_ok(a.act_min, a.act_max), "batch_matmul: activation range outside int8");
  BatchMatMulInt8Params& p = st->p;
  p.multiplier = FixedMultiplier{a.multiplier, a.shift};
  CALL_CHECK(multiplier_ok(p.multiplier), "batch_matmul: multiplier shift out of range");
  p.batch = a.batch;
  p.m = a.m;
  p.k = a.k;
  p.n = a.n;
  p.a_batch_stride = int64_t(a.m) * a.k;
  p.b_batch_stride = int64_t(a.k) * a.n;
  p.a_zero_point = st->a.zero_point;
  p.b_zero_point = st->b.zero_point;
  p.output_zero_point = st->out.zero_point;
  p.qmin = a.act_min;
  p.qmax = a.act_max;
  // Per run: B - zb packed [n][k] int16, the folded bias, the GEMM's row scratch.
  ar.need(batch_matmul_int8_scratch_bytes(p));
  *plan = st;
  return CallStatus();
}

CallStatus setup_pool(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::PoolArgs a = inst.as<npu::PoolArgs>();
  PoolState local;
  PoolState* st = ar.state(&local);
  st->op = inst.opcode;
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  const TensorDesc &in = st->in, &out = st->out;
  CALL_CHECK(is_int8(in) && is_int8(out), "pool: input and output must be int8");
  CALL_CHECK(!overlaps(in, out), "pool: output overlaps the input");
  CALL_CHECK(in.dims[0] == out.dims[0] && in.dims[3] == out.dims[3], "pool: batch or channels differ");
  CALL_CHECK(act_range_ok(a.act_min, a.act_max), "pool: activation range outside int8");
  PoolInt8Params& p = st->p;
  p.batch = in.dims[0];
  p.in_h = in.dims[1];
  p.in_w = in.dims[2];
  p.channels = in.dims[3];
  p.out_h = out.dims[1];
  p.out_w = out.dims[2];
  p.input_zero_point = in.zero_point;
  p.output_zero_point = out.zero_point;
  p.qmin = a.act_min;
  p.qmax = a.act_max;
  if (inst.opcode == Opcode::kGlobalAvgPool) {
    CALL_CHECK(out.dims[1] == 1 && out.dims[2] == 1, "global_avgpool: output is not 1x1");
    CALL_CHECK(int64_t(p.in_h) * p.in_w * 255 < (int64_t(1) << 31), "global_avgpool: window too large");
    p.kernel_h = p.in_h;
    p.kernel_w = p.in_w;
    p.multiplier = FixedMultiplier{a.multiplier, a.shift};
    CALL_CHECK(multiplier_ok(p.multiplier), "global_avgpool: multiplier shift out of range");
    ar.need(pool_int8_scratch_bytes(p));
    *plan = st;
    return CallStatus();
  }
  CALL_CHECK(c.geometry_ok(a.kernel_h, 1) && c.geometry_ok(a.kernel_w, 1) && c.geometry_ok(a.stride_h, 1) &&
                c.geometry_ok(a.stride_w, 1),
            "pool: kernel or stride out of range");
  CALL_CHECK(a.pad_top >= 0 && a.pad_left >= 0 && a.pad_bottom >= 0 && a.pad_right >= 0 && a.pad_top < a.kernel_h &&
                a.pad_bottom < a.kernel_h && a.pad_left < a.kernel_w && a.pad_right < a.kernel_w,
            "pool: padding must be below the kernel size");
  const int64_t fh = window_out(p.in_h, a.kernel_h, a.stride_h, 1, int64_t(a.pad_top) + a.pad_bottom, false);
  const int64_t ch = window_out(p.in_h, a.kernel_h, a.stride_h, 1, int64_t(a.pad_top) + a.pad_bottom, true);
  const int64_t fw = window_out(p.in_w, a.kernel_w, a.stride_w, 1, int64_t(a.pad_left) + a.pad_right, false);
  const int64_t cw = window_out(p.in_w, a.kernel_w, a.stride_w, 1, int64_t(a.pad_left) + a.pad_right, true);
  CALL_CHECK((p.out_h == fh || p.out_h == ch) && fh > 0 && (p.out_w == fw || p.out_w == cw) && fw > 0,
            "pool: output height/width do not follow from the input and the geometry");
  p.kernel_h = a.kernel_h;
  p.kernel_w = a.kernel_w;
  p.stride_h = a.stride_h;
  p.stride_w = a.stride_w;
  p.pad_top = a.pad_top;
  p.pad_left = a.pad_left;
  p.pad_bottom = a.pad_bottom;
  p.pad_right = a.pad_right;
  if (inst.opcode == Opcode::kMaxPool2D) {
    p.requantize = a.multiplier != 0;
    p.multiplier = FixedMultiplier{a.multiplier, a.shift};
    CALL_CHECK(!p.requantize || multiplier_ok(p.multiplier), "maxpool2d: multiplier shift out of range");
    *plan = st;
    return CallStatus();
  }
  // AvgPool2D.
  CALL_CHECK(a.count_include_pad == 0 || a.count_include_pad == 1, "avgpool2d: count_include_pad must be 0 or 1");
  CALL_CHECK(int64_t(a.kernel_h) * a.kernel_w <= 65536, "avgpool2d: window too large");
  p.count_include_pad = a.count_include_pad != 0;
  const size_t n = size_t(a.kernel_h) * size_t(a.kernel_w) + 1;
  CALL_CHECK(weights_range_ok(c, a.multipliers_offset, n * sizeof(FixedMultiplier), 4),
            "avgpool2d: multipliers outside the weights section");
  // Entry 0 is never used by the kernel; check the rest.
  CALL_CHECK(load_multipliers(c, a.multipliers_offset + uint32_t(sizeof(FixedMultiplier)), n - 1, nullptr),
            "avgpool2d: multiplier shift out of range");
  // In place (entry 0, unchecked, is never read).
  p.count_multipliers = reinterpret_cast<const FixedMultiplier*>(c.weights + a.multipliers_offset);
  ar.need(pool_int8_scratch_bytes(p));
  *plan = st;
  return CallStatus();
}

// The messages of one binary call family's operand checks (they name the family).
struct BinaryCheckText {
  const char *int8, *overlap_a, *overlap_b, *broadcast, *act;
};
constexpr BinaryCheckText kElementwiseText = {
    "elementwise: operands must be int8", "elementwise: output partially overlaps input a",
    "elementwise: output partially overlaps input b", "elementwise: inputs do not broadcast to the output",
    "elementwise: activation range outside int8"};
constexpr BinaryCheckText kDivText = {"div: operands must be int8", "div: output partially overlaps input a",
                                      "div: output partially overlaps input b",
                                      "div: inputs do not broadcast to the output",
                                      "div: activation range outside int8"};

// Operands of a broadcasting int8 binary call (Elementwise, Div): int8 tensors, an output that
// overlaps an input only when identical, 4-D broadcast to the output, an int8 activation range.
// Fills the state's tensors, broadcast plan and zero points / clamp.
CallStatus setup_binary_operands(const Ctx& c, uint32_t a, uint32_t b, uint32_t output, int32_t act_min,
                                 int32_t act_max, const BinaryCheckText& text, ElementwiseState* st) {
  st->a = c.mc.tensor(a);
  st->b = c.mc.tensor(b);
  st->out = c.mc.tensor(output);
  CALL_CHECK(is_int8(st->a) && is_int8(st->b) && is_int8(st->out), text.int8);
  CALL_CHECK(!overlaps(st->a, st->out) || (identical(st->a, st->out) && same_dims(st->a, st->out)), text.overlap_a);
  CALL_CHECK(!overlaps(st->b, st->out) || (identical(st->b, st->out) && same_dims(st->b, st->out)), text.overlap_b);
  for (int k = 0; k < 4; ++k)
    CALL_CHECK((st->a.dims[k] == st->out.dims[k] || st->a.dims[k] == 1) &&
                  (st->b.dims[k] == st->out.dims[k] || st->b.dims[k] == 1),
              text.broadcast);
  const int64_t ad[4] = {st->a.dims[0], st->a.dims[1], st->a.dims[2], st->a.dims[3]};
  const int64_t bd[4] = {st->b.dims[0], st->b.dims[1], st->b.dims[2], st->b.dims[3]};
  CALL_CHECK(prepare_broadcast(Span<const int64_t>(ad, 4), Span<const int64_t>(bd, 4), &st->bp) &&
                st->bp.out_count == count_of(st->out),
            text.broadcast);
  CALL_CHECK(act_range_ok(act_min, act_max), text.act);
  BinaryInt8Params& p = st->p;
  p.a_zero_point = st->a.zero_point;
  p.b_zero_point = st->b.zero_point;
  p.output_zero_point = st->out.zero_point;
  p.qmin = act_min;
  p.qmax = act_max;
  return CallStatus();
}

// Div shares Elementwise's state and kernel (binary_int8 with BinaryInt8Op::Div).
CallStatus setup_div(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  // CPU and NPU alike (rules/binary.cc div_support: delegated with Mul's rule).
  const npu::DivArgs a = inst.as<npu::DivArgs>();
  ElementwiseState local;
  ElementwiseState* st = ar.state(&local);
  const CallStatus operands = setup_binary_operands(c, a.a, a.b, a.output, a.act_min, a.act_max, kDivText, st);
  if (!operands.ok()) return operands;
  BinaryInt8Params& p = st->p;
  p.op = BinaryInt8Op::Div;
  p.multiplier = FixedMultiplier{a.multiplier, a.shift};
  CALL_CHECK(multiplier_ok(p.multiplier), "div: multiplier shift out of range");
  *plan = st;
  return CallStatus();
}

CallStatus setup_elementwise(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::ElementwiseArgs a = inst.as<npu::ElementwiseArgs>();
  ElementwiseState local;
  ElementwiseState* st = ar.state(&local);
  const CallStatus operands =
      setup_binary_operands(c, a.a, a.b, a.output, a.act_min, a.act_max, kElementwiseText, st);
  if (!operands.ok()) return operands;
  BinaryInt8Params& p = st->p;
  switch (static_cast<npu::ElementwiseOp>(a.op)) {
    case npu::ElementwiseOp::kAdd:
    case npu::ElementwiseOp::kSub: {
      CALL_CHECK(a.multiplier_a >= 0 && a.multiplier_b >= 0 && a.shift >= kMinShift && a.shift <= kMaxShift,
                "elementwise: multiplier pair out of range");
      const bool sub = a.op == int32_t(npu::ElementwiseOp::kSub);
      p.op = sub ? BinaryInt8Op::Sub : BinaryInt8Op::Add;
      p.multiplier_a = a.multiplier_a;
      p.multiplier_b = (sub ? -1 : 1) * int64_t(a.multiplier_b);
      p.shift = a.shift;
      break;
    }
    case npu::ElementwiseOp::kMul:
      p.op = BinaryInt8Op::Mul;
      p.multiplier = FixedMultiplier{a.multiplier_a, a.shift};
      CALL_CHECK(multiplier_ok(p.multiplier), "elementwise: multiplier shift out of range");
      break;
    case npu::ElementwiseOp::kMax:
    case npu::ElementwiseOp::kMin: {
      p.op = a.op == int32_t(npu::ElementwiseOp::kMax) ? BinaryInt8Op::Max : BinaryInt8Op::Min;
      CALL_CHECK(weights_range_ok(c, a.table_offset, 512, 1), "elementwise: max/min tables outside the weights section");
      const int8_t* t = reinterpret_cast<const int8_t*>(c.weights + a.table_offset);
      for (int i = 0; i < 256; ++i) {
        p.table_a[i] = t[i];
        p.table_b[i] = t[256 + i];
      }
      break;
    }
    default:
      return invalid("elementwise: unknown op");
  }
  *plan = st;
  return CallStatus();
}

CallStatus setup_table(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::TableArgs a = inst.as<npu::TableArgs>();
  TableState local;
  TableState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "table: input and output must be int8");
  CALL_CHECK(count_of(st->in) == count_of(st->out), "table: input and output sizes differ");
  CALL_CHECK(!overlaps(st->in, st->out) || identical(st->in, st->out), "table: output partially overlaps the input");
  CALL_CHECK(weights_range_ok(c, a.table_offset, 256, 1), "table: table outside the weights section");
  st->table = reinterpret_cast<const int8_t*>(c.weights + a.table_offset);
  *plan = st;
  return CallStatus();
}

CallStatus setup_layer_norm(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::LayerNormArgs a = inst.as<npu::LayerNormArgs>();
  LayerNormState local;
  LayerNormState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "layer_norm: input and output must be int8");
  CALL_CHECK(same_dims(st->in, st->out), "layer_norm: input and output dims differ");
  CALL_CHECK(!overlaps(st->in, st->out), "layer_norm: output overlaps the input");
  CALL_CHECK(a.act_min >= -128 && a.act_min <= a.act_max && a.act_max <= 127, "layer_norm: bad output clamp");
  LayerNormInt8Params& p = st->p;
  p.n = st->in.dims[3];
  p.rows = int64_t(st->in.dims[0]) * st->in.dims[1] * st->in.dims[2];
  CALL_CHECK(p.n > 0 && p.n <= (1 << 16), "layer_norm: row length must be in [1, 65536]");
  CALL_CHECK(weights_range_ok(c, a.table_offset, (2 * uint64_t(p.n) + 1) * sizeof(double), 8),
             "layer_norm: table outside the weights section");
  // Read in place (8-byte aligned, checked above).
  const double* t = reinterpret_cast<const double*>(c.weights + a.table_offset);
  for (int64_t i = 0; i < 2 * p.n + 1; ++i) {
    double v;
    std::memcpy(&v, c.weights + a.table_offset + size_t(i) * sizeof(double), sizeof(double));
    CALL_CHECK(std::isfinite(v), "layer_norm: table entry not finite");
    if (i == 2 * p.n) p.eps_q = v;
  }
  CALL_CHECK(p.eps_q >= 0, "layer_norm: negative epsilon");
  p.a = t;
  p.b = t + p.n;
  p.in_zero_point = st->in.zero_point;
  p.act_min = a.act_min;
  p.act_max = a.act_max;
  *plan = st;
  return CallStatus();
}

CallStatus setup_channel_table(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::ChannelTableArgs a = inst.as<npu::ChannelTableArgs>();
  ChannelTableState local;
  ChannelTableState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "channel_table: input and output must be int8");
  CALL_CHECK(count_of(st->in) == count_of(st->out), "channel_table: input and output sizes differ");
  CALL_CHECK(!overlaps(st->in, st->out) || identical(st->in, st->out), "channel_table: output partially overlaps the input");
  CALL_CHECK(a.channels >= 1 && a.channels <= (1 << 16) && a.inner >= 1 && int64_t(a.inner) <= count_of(st->in),
             "channel_table: channels or inner out of range");
  CALL_CHECK(weights_range_ok(c, a.table_offset, uint64_t(a.channels) * 256, 1),
             "channel_table: tables outside the weights section");
  st->channels = a.channels;
  st->inner = a.inner;
  st->tables = reinterpret_cast<const int8_t*>(c.weights + a.table_offset);
  *plan = st;
  return CallStatus();
}

CallStatus setup_masked_fill(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::MaskedFillArgs a = inst.as<npu::MaskedFillArgs>();
  MaskedFillState local;
  MaskedFillState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "masked_fill: input and output must be int8");
  CALL_CHECK(same_dims(st->in, st->out), "masked_fill: input and output dims differ");
  CALL_CHECK(!overlaps(st->in, st->out) || identical(st->in, st->out), "masked_fill: output partially overlaps the input");
  CALL_CHECK(a.fill >= -128 && a.fill <= 127, "masked_fill: fill out of the int8 range");
  const uint64_t n = uint64_t(count_of(st->out));
  CALL_CHECK(weights_range_ok(c, a.mask_offset, n, 1), "masked_fill: mask outside the weights section");
  st->mask = c.weights + a.mask_offset;  // in place
  st->fill = int8_t(a.fill);
  *plan = st;
  return CallStatus();
}

bool is_f32(const TensorDesc& d);

// gather (int8) and gather_f32 (float32, CPU only): the same byte copy per index.
CallStatus setup_gather(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const bool f32 = inst.opcode == Opcode::kGatherF32;
  if (f32 && c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::GatherArgs a = inst.as<npu::GatherArgs>();
  GatherState local;
  GatherState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  st->idx = c.mc.tensor(a.indices);
  if (f32) {
    CALL_CHECK(is_f32(st->in) && is_f32(st->out), "gather_f32: input and output must be float32");
  } else {
    CALL_CHECK(is_int8(st->in) && is_int8(st->out), "gather: input and output must be int8");
    CALL_CHECK(st->in.zero_point == st->out.zero_point, "gather: input and output zero points differ");
  }
  CALL_CHECK(st->idx.elem_type == uint8_t(ElemType::kInt32) || st->idx.elem_type == uint8_t(ElemType::kInt64),
             "gather: indices must be int32 or int64");
  CALL_CHECK(a.outer >= 1 && a.axis_dim >= 1 && a.inner >= 1 && a.count >= 1, "gather: sizes must be positive");
  const int64_t outer = a.outer, axis_dim = a.axis_dim, inner = a.inner, count = a.count;
  CALL_CHECK(count_of(st->idx) == count, "gather: indices hold a different count");
  // Two factors first (each below 2^31, so at most 2^62): the full products cannot overflow then.
  CALL_CHECK(outer * axis_dim <= count_of(st->in) && count_of(st->in) == outer * axis_dim * inner,
             "gather: input size differs from outer x axis_dim x inner");
  CALL_CHECK(outer * count <= count_of(st->out) && count_of(st->out) == outer * count * inner,
             "gather: output size differs from outer x count x inner");
  CALL_CHECK(!overlaps(st->in, st->out) && !overlaps(st->idx, st->out), "gather: output overlaps an operand");
  st->p.outer = outer;
  st->p.axis_dim = axis_dim;
  st->p.inner = inner;
  st->p.count = count;
  st->p.elem_size = f32 ? 4 : 1;
  st->index_is_64 = st->idx.elem_type == uint8_t(ElemType::kInt64);
  *plan = st;
  return CallStatus();
}

CallStatus setup_l2_norm(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::L2NormArgs a = inst.as<npu::L2NormArgs>();
  L2NormState local;
  L2NormState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "l2_norm: input and output must be int8");
  CALL_CHECK(count_of(st->in) == count_of(st->out), "l2_norm: input and output sizes differ");
  CALL_CHECK(!overlaps(st->in, st->out), "l2_norm: output overlaps the input");
  CALL_CHECK(a.n >= 1 && a.inner >= 1 && count_of(st->in) % (int64_t(a.n) * a.inner) == 0,
             "l2_norm: n * inner does not divide the element count");
  CALL_CHECK(weights_range_ok(c, a.params_offset, 2 * sizeof(double), 8), "l2_norm: parameters outside the weights section");
  double v[2];
  std::memcpy(v, c.weights + a.params_offset, sizeof(v));
  CALL_CHECK(std::isfinite(v[0]) && v[0] >= 0 && std::isfinite(v[1]) && v[1] > 0, "l2_norm: bad eps or output scale");
  L2NormInt8Params& p = st->p;
  p.n = a.n;
  p.inner = a.inner;
  p.outer = count_of(st->in) / (int64_t(a.n) * a.inner);
  p.input_zero_point = st->in.zero_point;
  p.output_zero_point = st->out.zero_point;
  p.eps_over_in_scale = v[0];
  p.out_scale = v[1];
  *plan = st;
  return CallStatus();
}

CallStatus setup_softmax(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::SoftmaxArgs a = inst.as<npu::SoftmaxArgs>();
  SoftmaxState local;
  SoftmaxState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "softmax: input and output must be int8");
  CALL_CHECK(same_dims(st->in, st->out), "softmax: input and output dims differ");
  CALL_CHECK(!overlaps(st->in, st->out), "softmax: output overlaps the input");
  CALL_CHECK(weights_range_ok(c, a.table_offset, 257 * sizeof(double), 8), "softmax: table outside the weights section");
  SoftmaxInt8Params& p = st->p;
  // Read in place (8-byte aligned, checked above): 2 KB less runtime state per call.
  p.exp_table = reinterpret_cast<const double*>(c.weights + a.table_offset);
  std::memcpy(&p.out_scale, c.weights + a.table_offset + 256 * sizeof(double), sizeof(double));
  for (int i = 0; i < 256; ++i)
    CALL_CHECK(std::isfinite(p.exp_table[i]) && p.exp_table[i] >= 0, "softmax: exp table entry not finite");
  CALL_CHECK(std::isfinite(p.out_scale) && p.out_scale > 0, "softmax: output scale not positive");
  p.out_zero_point = st->out.zero_point;
  p.outer = int64_t(st->in.dims[0]) * st->in.dims[1] * st->in.dims[2];
  p.axis = st->in.dims[3];
  p.inner = 1;
  *plan = st;
  return CallStatus();
}

CallStatus setup_pad(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::PadArgs a = inst.as<npu::PadArgs>();
  PadState local;
  PadState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(st->in.elem_type == st->out.elem_type, "pad: element types differ");
  CALL_CHECK(!overlaps(st->in, st->out), "pad: output overlaps the input");
  int64_t shape[4], pads[8];
  for (int k = 0; k < 4; ++k) {
    CALL_CHECK(a.pad_before[k] >= 0 && a.pad_after[k] >= 0 && a.pad_before[k] <= (1 << 24) && a.pad_after[k] <= (1 << 24),
              "pad: negative or huge padding");
    CALL_CHECK(int64_t(st->in.dims[k]) + a.pad_before[k] + a.pad_after[k] == st->out.dims[k],
              "pad: output dims != input dims + padding");
    shape[k] = st->in.dims[k];
    pads[k] = a.pad_before[k];
    pads[4 + k] = a.pad_after[k];
  }
  CALL_CHECK(a.mode >= 0 && a.mode <= 2, "pad: mode must be 0 (constant), 1 (reflect) or 2 (edge)");
  const uint32_t es = npu::elem_size(st->in.elem_type);
  uint8_t value[8] = {};
  if (a.mode == 0) {
    if (es == 1) {
      CALL_CHECK(st->in.elem_type == uint8_t(ElemType::kUint8) ? (a.value >= 0 && a.value <= 255)
                                                                 : (a.value >= -128 && a.value <= 127),
                "pad: value out of the element's range");
      value[0] = uint8_t(a.value);
    } else if (es == 2) {
      CALL_CHECK(a.value >= -32768 && a.value <= 32767, "pad: value out of the element's range");
      const int16_t v = int16_t(a.value);
      std::memcpy(value, &v, 2);
    } else {
      std::memcpy(value, &a.value, 4);
    }
  }
  CALL_CHECK(prepare_pad(Span<const int64_t>(shape, 4), Span<const int64_t>(pads, 8),
                        a.mode == 0 ? PadMode::Constant : a.mode == 1 ? PadMode::Reflect : PadMode::Edge, es, value,
                        &st->p),
            "pad: unsupported padding");
  *plan = st;
  return CallStatus();
}

CallStatus setup_slice(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::SliceArgs a = inst.as<npu::SliceArgs>();
  CopyState local;
  CopyState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(st->in.elem_type == st->out.elem_type, "slice: element types differ");
  CALL_CHECK(!overlaps(st->in, st->out), "slice: output overlaps the input");
  int64_t shape[4], starts[4], steps[4], out[4];
  for (int k = 0; k < 4; ++k) {
    CALL_CHECK(a.begin[k] >= 0 && int64_t(a.begin[k]) + st->out.dims[k] <= st->in.dims[k], "slice: window outside the input");
    shape[k] = st->in.dims[k];
    starts[k] = a.begin[k];
    steps[k] = 1;
    out[k] = st->out.dims[k];
  }
  CALL_CHECK(prepare_slice(Span<const int64_t>(shape, 4), Span<const int64_t>(starts, 4), Span<const int64_t>(steps, 4),
                          Span<const int64_t>(out, 4), npu::elem_size(st->in.elem_type), &st->p),
            "slice: unsupported slice");
  *plan = st;
  return CallStatus();
}

CallStatus setup_transpose(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::TransposeArgs a = inst.as<npu::TransposeArgs>();
  CopyState local;
  CopyState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(st->in.elem_type == st->out.elem_type, "transpose: element types differ");
  CALL_CHECK(!overlaps(st->in, st->out), "transpose: output overlaps the input");
  int64_t shape[4], perm[4];
  bool seen[4] = {};
  for (int k = 0; k < 4; ++k) {
    CALL_CHECK(a.perm[k] >= 0 && a.perm[k] < 4 && !seen[a.perm[k]], "transpose: perm is not a permutation of 0..3");
    seen[a.perm[k]] = true;
    CALL_CHECK(st->out.dims[k] == st->in.dims[a.perm[k]], "transpose: output dims are not the permuted input dims");
    shape[k] = st->in.dims[k];
    perm[k] = a.perm[k];
  }
  CALL_CHECK(prepare_transpose(Span<const int64_t>(shape, 4), Span<const int64_t>(perm, 4),
                              npu::elem_size(st->in.elem_type), &st->p),
            "transpose: unsupported");
  *plan = st;
  return CallStatus();
}

CallStatus setup_copy(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::CopyArgs a = inst.as<npu::CopyArgs>();
  CopyState local;
  CopyState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(st->in.size == st->out.size, "copy: input and output sizes differ");
  *plan = st;
  return CallStatus();
}

CallStatus setup_concat(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::ConcatArgs a = inst.as<npu::ConcatArgs>();
  ConcatState local;
  ConcatState* st = ar.state(&local);
  st->out = c.mc.tensor(a.output);
  st->n = a.num_inputs;  // 1..8, checked by the reader
  CALL_CHECK(a.axis >= 0 && a.axis < 4, "concat: axis out of range");
  const uint32_t es = npu::elem_size(st->out.elem_type);
  int64_t outer = 1, inner = 1, total = 0;
  for (int k = 0; k < a.axis; ++k) outer *= st->out.dims[k];
  for (int k = a.axis + 1; k < 4; ++k) inner *= st->out.dims[k];
  for (uint32_t i = 0; i < st->n; ++i) {
    st->in[i] = c.mc.tensor(a.inputs[i]);
    const TensorDesc& in = st->in[i];
    CALL_CHECK(in.elem_type == st->out.elem_type, "concat: element types differ");
    CALL_CHECK(!overlaps(in, st->out), "concat: output overlaps an input");
    for (int k = 0; k < 4; ++k)
      CALL_CHECK(k == a.axis || in.dims[k] == st->out.dims[k], "concat: inputs differ outside the axis");
    total += in.dims[a.axis];
    st->chunk_bytes[i] = int64_t(in.dims[a.axis]) * inner * es;
  }
  CALL_CHECK(total == st->out.dims[a.axis], "concat: input sizes along the axis do not add up to the output");
  st->outer = outer;
  *plan = st;
  return CallStatus();
}

CallStatus setup_resize(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::ResizeArgs a = inst.as<npu::ResizeArgs>();
  ResizeState local;
  ResizeState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  st->mode = a.mode;
  if (a.mode != 0 && a.mode != 1) return unsupported("resize: unknown mode (0 nearest, 1 bilinear)");
  CALL_CHECK(st->in.elem_type == st->out.elem_type && npu::elem_size(st->in.elem_type) == 1,
            "resize: input and output must be 8-bit");
  CALL_CHECK(!overlaps(st->in, st->out), "resize: output overlaps the input");
  CALL_CHECK(st->in.dims[0] == st->out.dims[0] && st->in.dims[3] == st->out.dims[3], "resize: batch or channels differ");
  const int32_t oh = st->out.dims[1], ow = st->out.dims[2];
  if (a.mode == 1) {
    // Bilinear (kernels/resize_int8.h): FixedMultiplier, then taps {i0, i1, w1} per output row and
    // per output column.
    CALL_CHECK(is_int8(st->in), "resize: bilinear needs int8 tensors");
    const uint64_t taps_bytes = (uint64_t(oh) + uint64_t(ow)) * sizeof(ResizeLinearTapInt8);
    CALL_CHECK(weights_range_ok(c, a.table_offset, sizeof(FixedMultiplier) + taps_bytes, 4),
              "resize: bilinear tables outside the weights section");
    ResizeBilinearInt8Params& p = st->bl;
    CALL_CHECK(load_multipliers(c, a.table_offset, 1, &p.multiplier), "resize: multiplier shift out of range");
    ResizeLinearTapInt8* th = ar.alloc<ResizeLinearTapInt8>(size_t(oh));
    ResizeLinearTapInt8* tw = ar.alloc<ResizeLinearTapInt8>(size_t(ow));
    ResizeLinearTapInt8 tap;
    const uint8_t* src = c.weights + a.table_offset + sizeof(FixedMultiplier);
    for (int32_t i = 0; i < oh + ow; ++i) {
      std::memcpy(&tap, src + size_t(i) * sizeof(tap), sizeof(tap));
      CALL_CHECK(resize_linear_table_int8_valid(i < oh ? st->in.dims[1] : st->in.dims[2], 1, &tap),
                "resize: bilinear tap out of range");
      if (!ar.measuring) (i < oh ? th[i] : tw[i - oh]) = tap;
    }
    p.outer = st->in.dims[0];
    p.in_h = st->in.dims[1];
    p.in_w = st->in.dims[2];
    p.out_h = oh;
    p.out_w = ow;
    p.inner = st->in.dims[3];
    p.taps_h = th;
    p.taps_w = tw;
    p.input_zero_point = st->in.zero_point;
    p.output_zero_point = st->out.zero_point;
    *plan = st;
    return CallStatus();
  }
  CALL_CHECK(weights_range_ok(c, a.table_offset, (uint64_t(oh) + uint64_t(ow)) * 4, 4),
            "resize: index tables outside the weights section");
  int64_t* th = ar.alloc<int64_t>(size_t(oh));
  int64_t* tw = ar.alloc<int64_t>(size_t(ow));
  for (int32_t i = 0; i < oh + ow; ++i) {
    int32_t v;
    std::memcpy(&v, c.weights + a.table_offset + size_t(i) * 4, 4);
    const int32_t lim = i < oh ? st->in.dims[1] : st->in.dims[2];
    CALL_CHECK(v >= 0 && v < lim, "resize: source index out of range");
    if (!ar.measuring) (i < oh ? th[i] : tw[i - oh]) = v;
  }
  ResizeParams& p = st->p;
  p.rank = 4;
  for (int k = 0; k < 4; ++k) {
    p.in_shape[k] = st->in.dims[k];
    p.out_shape[k] = st->out.dims[k];
  }
  p.nearest[1] = th;
  p.nearest[2] = tw;
  *plan = st;
  return CallStatus();
}

CallStatus setup_reduce(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::ReduceArgs a = inst.as<npu::ReduceArgs>();
  ReduceState local;
  ReduceState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "reduce: input and output must be int8");
  CALL_CHECK(!overlaps(st->in, st->out), "reduce: output overlaps the input");
  CALL_CHECK(a.op >= 0 && a.op <= 3, "reduce: unknown op");
  CALL_CHECK(a.axes_mask >= 0 && a.axes_mask < 16, "reduce: axes mask out of range");
  st->op = a.op;
  // A unit dimension in front, always reduced: prepare_reduce() reads no axes as "all axes", and
  // an empty mask must reduce nothing.
  int64_t shape[5] = {1, 0, 0, 0, 0}, axes[5] = {0, 0, 0, 0, 0};
  int n_axes = 1;
  for (int k = 0; k < 4; ++k) {
    const bool r = (a.axes_mask >> k) & 1;
    CALL_CHECK(st->out.dims[k] == (r ? 1 : st->in.dims[k]), "reduce: output dims do not match the reduction");
    shape[k + 1] = st->in.dims[k];
    if (r) axes[n_axes++] = k + 1;
  }
  ReduceInt8Params& p = st->p;
  CALL_CHECK(prepare_reduce(Span<const int64_t>(shape, 5), Span<const int64_t>(axes, size_t(n_axes)), &p.shape),
            "reduce: unsupported");
  if (a.op == 1 || a.op == 2) {
    CALL_CHECK(st->in.zero_point == st->out.zero_point, "reduce: max/min need the same quantization in and out");
  } else {
    CALL_CHECK(p.shape.reduce_count <= kReduceInt8MaxCount, "reduce: too many elements per output");
    p.multiplier = FixedMultiplier{a.multiplier, a.shift};
    CALL_CHECK(multiplier_ok(p.multiplier), "reduce: multiplier shift out of range");
    p.input_zero_point = st->in.zero_point;
    p.output_zero_point = st->out.zero_point;
    ar.need(reduce_sum_int8_scratch_bytes(p));
  }
  *plan = st;
  return CallStatus();
}

CallStatus setup_recurrent(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::RecurrentArgs a = inst.as<npu::RecurrentArgs>();
  RecurrentState local;
  RecurrentState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_int8(st->in) && is_int8(st->out), "recurrent: input and output must be int8");
  CALL_CHECK(!overlaps(st->in, st->out), "recurrent: output overlaps the input");
  CALL_CHECK(a.cell == 0 || a.cell == 1, "recurrent: cell must be 0 (GRU) or 1 (LSTM)");
  st->has_c = a.output_c != UINT32_MAX;
  if (st->has_c) {
    CALL_CHECK(a.cell == 1, "recurrent: only LSTM has a cell state output");
    st->out_c = c.mc.tensor(a.output_c);
    CALL_CHECK(is_int8(st->out_c), "recurrent: cell state output must be int8");
    CALL_CHECK(st->out_c.region == uint8_t(Region::kOutput) || st->out_c.region == uint8_t(Region::kScratch),
               "recurrent: cell state output outside the outputs and scratch");
    CALL_CHECK(!overlaps(st->in, st->out_c) && !overlaps(st->out, st->out_c),
               "recurrent: cell state output overlaps another operand");
    CALL_CHECK(count_of(st->out_c) == int64_t(a.batch) * a.hidden, "recurrent: cell state output size != batch * hidden");
  }
  CALL_CHECK((a.reverse == 0 || a.reverse == 1) && (a.linear_before_reset == 0 || a.linear_before_reset == 1),
             "recurrent: reverse and linear_before_reset must be 0 or 1");
  // Sizes keep every accumulator inside int32: |bias| < 2^30 and 32768 * 255 * 128 < 2^30.
  CALL_CHECK(a.seq >= 1 && a.batch >= 1 && a.input_size >= 1 && a.input_size <= 32768 && a.hidden >= 1 &&
                 a.hidden <= 32768,
             "recurrent: seq, batch, input_size or hidden out of range");
  const int64_t T = a.seq, B = a.batch, I = a.input_size, H = a.hidden, G = a.cell ? 4 : 3;
  // The state and gate buffers (working memory) stay far below 4 GiB on a 32-bit target.
  CALL_CHECK(B * H <= (int64_t(1) << 24), "recurrent: batch * hidden above 2^24");
  CALL_CHECK(count_of(st->in) == T * B * I, "recurrent: input size != seq * batch * input_size");
  CALL_CHECK(count_of(st->out) == T * B * H, "recurrent: output size != seq * batch * hidden");
  const uint64_t gh = uint64_t(G * H);
  CALL_CHECK(weights_range_ok(c, a.weights_offset, gh * uint64_t(I + H), 1), "recurrent: weights outside the weights section");
  const uint64_t params_bytes = gh * 8 + (2 * gh + 3) * sizeof(FixedMultiplier);
  CALL_CHECK(weights_range_ok(c, a.params_offset, params_bytes, 4), "recurrent: parameters outside the weights section");
  CALL_CHECK(weights_range_ok(c, a.tables_offset, 2 * kRecurrentTableSize * 2, 2),
             "recurrent: tables outside the weights section");
  CALL_CHECK(a.initial_h_offset == UINT32_MAX || weights_range_ok(c, a.initial_h_offset, uint64_t(B * H), 1),
             "recurrent: initial h outside the weights section");
  CALL_CHECK(a.initial_c_offset == UINT32_MAX || weights_range_ok(c, a.initial_c_offset, uint64_t(B * H) * 4, 4),
             "recurrent: initial c outside the weights section");
  const uint8_t* pb = c.weights + a.params_offset;
  CALL_CHECK(load_multipliers(c, uint32_t(a.params_offset + gh * 8), size_t(2 * gh + 3), nullptr),
             "recurrent: multiplier shift out of range");
  for (uint64_t g = 0; g < 2 * gh; ++g) {
    int32_t b;
    std::memcpy(&b, pb + g * 4, 4);
    CALL_CHECK(b > -(1 << 30) && b < (1 << 30), "recurrent: bias outside +-2^30");
  }
  RecurrentInt8Params& p = st->p;
  p.lstm = a.cell == 1;
  p.reverse = a.reverse == 1;
  p.linear_before_reset = a.linear_before_reset == 1;
  p.seq = T;
  p.batch = B;
  p.input = I;
  p.hidden = H;
  p.x_zero_point = st->in.zero_point;
  p.h_zero_point = st->out.zero_point;
  p.w = reinterpret_cast<const int8_t*>(c.weights + a.weights_offset);
  p.r = p.w + gh * uint64_t(I);
  p.bias_x = reinterpret_cast<const int32_t*>(pb);
  p.bias_h = p.bias_x + gh;
  p.mult_x = reinterpret_cast<const FixedMultiplier*>(pb + gh * 8);
  p.mult_h = p.mult_x + gh;
  std::memcpy(&p.h_to_q15, p.mult_h + gh, sizeof(FixedMultiplier));
  std::memcpy(&p.q15_to_h, p.mult_h + gh + 1, sizeof(FixedMultiplier));
  std::memcpy(&p.q15_to_c, p.mult_h + gh + 2, sizeof(FixedMultiplier));
  p.c_zero_point = st->has_c ? st->out_c.zero_point : 0;
  p.sigmoid = reinterpret_cast<const int16_t*>(c.weights + a.tables_offset);
  p.tanh = p.sigmoid + kRecurrentTableSize;
  p.h0 = a.initial_h_offset == UINT32_MAX ? nullptr : reinterpret_cast<const int8_t*>(c.weights + a.initial_h_offset);
  p.c0 = a.initial_c_offset == UINT32_MAX ? nullptr : reinterpret_cast<const int32_t*>(c.weights + a.initial_c_offset);
  ar.need(recurrent_int8_scratch_bytes(p));
  *plan = st;
  return CallStatus();
}

CallStatus setup_prefetch(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  PrefetchState local;
  PrefetchState* st = ar.state(&local);
  std::memset(&st->a, 0, sizeof(st->a));
  if (inst.opcode == Opcode::kPrefetch) {
    st->a = inst.as<npu::PrefetchArgs>();
    CALL_CHECK(weights_range_ok(c, st->a.weights_offset, st->a.size, 1), "prefetch: source outside the weights section");
    CALL_CHECK(uint64_t(st->a.sram_offset) + st->a.size <= c.mc.sram_scratch_size(),
              "prefetch: destination outside the SRAM scratch");
  } else {
    st->a.channel = inst.as<npu::WaitPrefetchArgs>().channel;
  }
  CALL_CHECK(st->a.channel < kMaxPrefetchChannels, "prefetch: channel out of range");
  *plan = st;
  return CallStatus();
}


// ---------------------------------------------------------------------------------------------
// Float kernel calls (CPU only): ops a program keeps in float, and the Quantize / Dequantize
// calls at their edges.

bool is_f32(const TensorDesc& d) { return d.elem_type == uint8_t(ElemType::kFloat32); }
float float_of(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
const float* weights_f32(const Ctx& c, uint32_t offset) { return reinterpret_cast<const float*>(c.weights + offset); }
// A float array of `n` values in the weights section, 4-aligned (weights are 16-aligned).
bool f32_weights_ok(const Ctx& c, uint32_t offset, uint64_t n) { return weights_range_ok(c, offset, n * 4, 4); }
// The clamp of a fused activation: not NaN, ordered.
bool clamp_ok(float lo, float hi) { return !std::isnan(lo) && !std::isnan(hi) && lo <= hi; }

CallStatus setup_quantize(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::QuantizeArgs a = inst.as<npu::QuantizeArgs>();
  QuantizeState local;
  QuantizeState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  const bool q = inst.opcode == Opcode::kQuantize;
  CALL_CHECK(q ? (is_f32(st->in) && is_int8(st->out)) : (is_int8(st->in) && is_f32(st->out)),
             "quantize: float32 -> int8 (dequantize: int8 -> float32)");
  CALL_CHECK(count_of(st->in) == count_of(st->out), "quantize: input and output sizes differ");
  CALL_CHECK(!overlaps(st->in, st->out), "quantize: output overlaps the input");
  st->scale = float_of(a.scale_bits);
  CALL_CHECK(std::isfinite(st->scale) && st->scale > 0, "quantize: scale must be finite and positive");
  st->zero_point = q ? st->out.zero_point : st->in.zero_point;
  *plan = st;
  return CallStatus();
}

CallStatus setup_elementwise_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::ElementwiseF32Args a = inst.as<npu::ElementwiseF32Args>();
  ElementwiseF32State local;
  ElementwiseF32State* st = ar.state(&local);
  st->a = c.mc.tensor(a.a);
  st->b = c.mc.tensor(a.b);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->a) && is_f32(st->b) && is_f32(st->out), "elementwise_f32: operands must be float32");
  CALL_CHECK(!overlaps(st->a, st->out) || (identical(st->a, st->out) && same_dims(st->a, st->out)),
             "elementwise_f32: output partially overlaps input a");
  CALL_CHECK(!overlaps(st->b, st->out) || (identical(st->b, st->out) && same_dims(st->b, st->out)),
             "elementwise_f32: output partially overlaps input b");
  CALL_CHECK(a.op >= 0 && a.op <= int32_t(npu::ElementwiseF32Op::kPow), "elementwise_f32: unknown op");
  const int64_t ad[4] = {st->a.dims[0], st->a.dims[1], st->a.dims[2], st->a.dims[3]};
  const int64_t bd[4] = {st->b.dims[0], st->b.dims[1], st->b.dims[2], st->b.dims[3]};
  for (int k = 0; k < 4; ++k)
    CALL_CHECK((ad[k] == st->out.dims[k] || ad[k] == 1) && (bd[k] == st->out.dims[k] || bd[k] == 1),
               "elementwise_f32: inputs do not broadcast to the output");
  CALL_CHECK(prepare_broadcast(Span<const int64_t>(ad, 4), Span<const int64_t>(bd, 4), &st->bp) &&
                 st->bp.out_count == count_of(st->out),
             "elementwise_f32: inputs do not broadcast to the output");
  static const BinaryOp kOps[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div,
                                  BinaryOp::Max, BinaryOp::Min, BinaryOp::PRelu, BinaryOp::Pow};
  st->op = kOps[a.op];
  *plan = st;
  return CallStatus();
}

CallStatus setup_unary_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::UnaryF32Args a = inst.as<npu::UnaryF32Args>();
  UnaryF32State local;
  UnaryF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->in) && is_f32(st->out), "unary_f32: input and output must be float32");
  CALL_CHECK(count_of(st->in) == count_of(st->out), "unary_f32: input and output sizes differ");
  CALL_CHECK(!overlaps(st->in, st->out) || identical(st->in, st->out), "unary_f32: output partially overlaps the input");
  CALL_CHECK(a.op >= 0 && a.op <= int32_t(UnaryOp::Pow), "unary_f32: unknown op");
  st->p.op = static_cast<UnaryOp>(a.op);
  st->p.alpha = float_of(a.alpha_bits);
  st->p.beta = float_of(a.beta_bits);
  st->p.min = float_of(a.min_bits);
  st->p.max = float_of(a.max_bits);
  CALL_CHECK(st->p.op != UnaryOp::Clip || (!std::isnan(st->p.min) && !std::isnan(st->p.max)),
             "unary_f32: clip bounds are NaN");
  *plan = st;
  return CallStatus();
}

CallStatus setup_softmax_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::SoftmaxF32Args a = inst.as<npu::SoftmaxF32Args>();
  SoftmaxF32State local;
  SoftmaxF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->in) && is_f32(st->out), "softmax_f32: input and output must be float32");
  CALL_CHECK(!overlaps(st->in, st->out), "softmax_f32: output overlaps the input");
  // outer x axis first (at most 2^62): the product of all three cannot overflow once it fits.
  CALL_CHECK(a.outer >= 1 && a.axis >= 1 && a.inner >= 1 && count_of(st->in) == count_of(st->out) &&
                 int64_t(a.outer) * a.axis <= count_of(st->in) &&
                 int64_t(a.outer) * a.axis * a.inner == count_of(st->in),
             "softmax_f32: outer x axis x inner differs from the element count");
  st->p.outer = a.outer;
  st->p.axis = a.axis;
  st->p.inner = a.inner;
  ar.need(softmax_f32_scratch_bytes(st->p));
  *plan = st;
  return CallStatus();
}

CallStatus setup_gemm_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::GemmF32Args a = inst.as<npu::GemmF32Args>();
  GemmF32State local;
  GemmF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->in) && is_f32(st->out), "gemm_f32: input and output must be float32");
  CALL_CHECK(!overlaps(st->in, st->out), "gemm_f32: output overlaps the input");
  CALL_CHECK(a.rows >= 1 && a.in_features >= 1 && a.out_features >= 1 && a.in_features <= (1 << 24) &&
                 a.out_features <= (1 << 24) && (a.trans_b == 0 || a.trans_b == 1),
             "gemm_f32: bad rows, features or trans_b");
  CALL_CHECK(count_of(st->in) == int64_t(a.rows) * a.in_features && count_of(st->out) == int64_t(a.rows) * a.out_features,
             "gemm_f32: tensor sizes differ from rows x features");
  // B packed at compile time (gemm_f32_pack_b's panels, alpha folded), read in place.
  const uint64_t packed_n = uint64_t(gemm_f32_packed_b_floats(a.in_features, a.out_features));
  CALL_CHECK(f32_weights_ok(c, a.weights_offset, packed_n), "gemm_f32: weights outside the weights section");
  CALL_CHECK(a.bias_offset == npu::kNoOperand || f32_weights_ok(c, a.bias_offset, uint64_t(a.out_features)),
             "gemm_f32: bias outside the weights section");
  st->ep.relu = a.act_relu != 0;
  st->ep.min = float_of(a.act_min_bits);
  st->ep.max = float_of(a.act_max_bits);
  CALL_CHECK(clamp_ok(st->ep.min, st->ep.max), "gemm_f32: bad output clamp");
  CALL_CHECK(std::isfinite(float_of(a.alpha_bits)), "gemm_f32: alpha not finite");
  st->rows = a.rows;
  st->k = a.in_features;
  st->n = a.out_features;
  st->ep.bias = a.bias_offset == npu::kNoOperand ? nullptr : weights_f32(c, a.bias_offset);
  st->packed = weights_f32(c, a.weights_offset);
  *plan = st;
  return CallStatus();
}

CallStatus setup_conv_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::ConvF32Args a = inst.as<npu::ConvF32Args>();
  ConvF32State local;
  ConvF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  const TensorDesc &in = st->in, &out = st->out;
  CALL_CHECK(is_f32(in) && is_f32(out), "conv_f32: input and output must be float32");
  CALL_CHECK(!overlaps(in, out), "conv_f32: output overlaps the input");
  CALL_CHECK(in.dims[0] == out.dims[0], "conv_f32: batch differs between input and output");
  CALL_CHECK(c.geometry_ok(a.kernel_h, 1) && c.geometry_ok(a.kernel_w, 1) && c.geometry_ok(a.stride_h, 1) &&
                 c.geometry_ok(a.stride_w, 1) && c.geometry_ok(a.dilation_h, 1) && c.geometry_ok(a.dilation_w, 1) &&
                 c.geometry_ok(a.pad_top, 0) && c.geometry_ok(a.pad_left, 0) && c.geometry_ok(a.pad_bottom, 0) &&
                 c.geometry_ok(a.pad_right, 0),
             "conv_f32: kernel, stride, dilation or padding out of range");
  CALL_CHECK(a.transposed == 0 || a.transposed == 1, "conv_f32: transposed must be 0 or 1");
  const int32_t in_c = in.dims[3], out_c = out.dims[3];
  CALL_CHECK(a.groups >= 1 && in_c % a.groups == 0 && out_c % a.groups == 0, "conv_f32: groups do not divide the channels");
  const float lo = float_of(a.act_min_bits), hi = float_of(a.act_max_bits);
  CALL_CHECK(clamp_ok(lo, hi), "conv_f32: bad output clamp");
  CALL_CHECK(a.bias_offset == npu::kNoOperand || f32_weights_ok(c, a.bias_offset, uint64_t(out_c)),
             "conv_f32: bias outside the weights section");
  st->bias = a.bias_offset == npu::kNoOperand ? nullptr : weights_f32(c, a.bias_offset);
  st->transposed = a.transposed != 0;
  size_t packed_n = 0;
  if (!st->transposed) {
    CALL_CHECK(window_out(in.dims[1], a.kernel_h, a.stride_h, a.dilation_h, int64_t(a.pad_top) + a.pad_bottom, false) ==
                       out.dims[1] &&
                   window_out(in.dims[2], a.kernel_w, a.stride_w, a.dilation_w, int64_t(a.pad_left) + a.pad_right,
                              false) == out.dims[2],
               "conv_f32: output height/width do not follow from the input and the geometry");
    Conv2DF32Params& p = st->p;
    p.batch = in.dims[0];
    p.in_h = in.dims[1];
    p.in_w = in.dims[2];
    p.in_c = in_c;
    p.out_h = out.dims[1];
    p.out_w = out.dims[2];
    p.out_c = out_c;
    p.kernel_h = a.kernel_h;
    p.kernel_w = a.kernel_w;
    p.stride_h = a.stride_h;
    p.stride_w = a.stride_w;
    p.dilation_h = a.dilation_h;
    p.dilation_w = a.dilation_w;
    p.pad_top = a.pad_top;
    p.pad_left = a.pad_left;
    p.groups = a.groups;
    p.act_min = lo;
    p.act_max = hi;
    p.act_relu = a.act_relu != 0;
    CALL_CHECK(conv2d_f32_prepare(&p) == Error::Ok, "conv_f32: invalid convolution geometry");
    packed_n = conv2d_f32_packed_weights_floats(p);
    ar.need(conv2d_f32_scratch_bytes(p));
  } else {
    CALL_CHECK(a.act_relu == 0, "conv_f32: a transposed convolution has no fused Relu");
    // out = (in - 1) * stride + (k - 1) * dilation + 1 - pads + output_padding, 0 <= output_padding < stride.
    const int64_t bh = (int64_t(in.dims[1]) - 1) * a.stride_h + int64_t(a.kernel_h - 1) * a.dilation_h + 1 -
                       a.pad_top - a.pad_bottom;
    const int64_t bw = (int64_t(in.dims[2]) - 1) * a.stride_w + int64_t(a.kernel_w - 1) * a.dilation_w + 1 -
                       a.pad_left - a.pad_right;
    CALL_CHECK(out.dims[1] >= bh && out.dims[1] - bh < std::max(a.stride_h, a.dilation_h) && out.dims[2] >= bw &&
                   out.dims[2] - bw < std::max(a.stride_w, a.dilation_w),
               "conv_f32: output height/width do not follow from the input and the geometry");
    ConvTranspose2DF32Params& p = st->tp;
    p.batch = in.dims[0];
    p.in_h = in.dims[1];
    p.in_w = in.dims[2];
    p.in_c = in_c;
    p.out_h = out.dims[1];
    p.out_w = out.dims[2];
    p.out_c = out_c;
    p.kernel_h = a.kernel_h;
    p.kernel_w = a.kernel_w;
    p.stride_h = a.stride_h;
    p.stride_w = a.stride_w;
    p.dilation_h = a.dilation_h;
    p.dilation_w = a.dilation_w;
    p.pad_top = a.pad_top;
    p.pad_left = a.pad_left;
    p.groups = a.groups;
    p.act_min = lo;
    p.act_max = hi;
    CALL_CHECK(conv_transpose2d_f32_prepare(&p) == Error::Ok, "conv_f32: invalid transposed convolution geometry");
    packed_n = conv_transpose2d_f32_packed_weights_floats(p);
    ar.need(conv_transpose2d_f32_scratch_bytes(p));
  }
  // Packed at compile time for this geometry's algorithm (conv2d_f32_pack_weights /
  // conv_transpose2d_f32_pack_weights), read in place.
  CALL_CHECK(packed_n < (size_t(1) << 30) && f32_weights_ok(c, a.weights_offset, uint64_t(packed_n)),
             "conv_f32: weights outside the weights section");
  st->packed = weights_f32(c, a.weights_offset);
  *plan = st;
  return CallStatus();
}


CallStatus setup_pool_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::PoolF32Args a = inst.as<npu::PoolF32Args>();
  PoolF32State local;
  PoolF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  const TensorDesc &in = st->in, &out = st->out;
  CALL_CHECK(is_f32(in) && is_f32(out), "pool_f32: input and output must be float32");
  CALL_CHECK(!overlaps(in, out), "pool_f32: output overlaps the input");
  CALL_CHECK(in.dims[0] == out.dims[0] && in.dims[3] == out.dims[3], "pool_f32: batch or channels differ");
  CALL_CHECK(a.op >= 0 && a.op <= 3, "pool_f32: unknown op");
  st->op = a.op;
  Pool2DParams& p = st->p;
  p.batch = in.dims[0];
  p.in_h = in.dims[1];
  p.in_w = in.dims[2];
  p.channels = in.dims[3];
  p.out_h = out.dims[1];
  p.out_w = out.dims[2];
  if (a.op >= 2) {
    CALL_CHECK(out.dims[1] == 1 && out.dims[2] == 1, "pool_f32: a global pool's output is not 1x1");
    *plan = st;
    return CallStatus();
  }
  CALL_CHECK(c.geometry_ok(a.kernel_h, 1) && c.geometry_ok(a.kernel_w, 1) && c.geometry_ok(a.stride_h, 1) &&
                 c.geometry_ok(a.stride_w, 1) && c.geometry_ok(a.dilation_h, 1) && c.geometry_ok(a.dilation_w, 1) &&
                 c.geometry_ok(a.pad_top, 0) && c.geometry_ok(a.pad_left, 0) && c.geometry_ok(a.pad_bottom, 0) &&
                 c.geometry_ok(a.pad_right, 0) && (a.count_include_pad == 0 || a.count_include_pad == 1),
             "pool_f32: kernel, stride, dilation or padding out of range");
  p.kernel_h = a.kernel_h;
  p.kernel_w = a.kernel_w;
  p.stride_h = a.stride_h;
  p.stride_w = a.stride_w;
  p.dilation_h = a.dilation_h;
  p.dilation_w = a.dilation_w;
  p.pad_top = a.pad_top;
  p.pad_left = a.pad_left;
  p.pad_bottom = a.pad_bottom;
  p.pad_right = a.pad_right;
  p.count_include_pad = a.count_include_pad != 0;
  const int64_t fh = window_out(p.in_h, a.kernel_h, a.stride_h, a.dilation_h, int64_t(a.pad_top) + a.pad_bottom, false);
  const int64_t ch = window_out(p.in_h, a.kernel_h, a.stride_h, a.dilation_h, int64_t(a.pad_top) + a.pad_bottom, true);
  const int64_t fw = window_out(p.in_w, a.kernel_w, a.stride_w, a.dilation_w, int64_t(a.pad_left) + a.pad_right, false);
  const int64_t cw = window_out(p.in_w, a.kernel_w, a.stride_w, a.dilation_w, int64_t(a.pad_left) + a.pad_right, true);
  CALL_CHECK(fh > 0 && fw > 0 && (p.out_h == fh || p.out_h == ch) && (p.out_w == fw || p.out_w == cw),
             "pool_f32: output height/width do not follow from the input and the geometry");
  CALL_CHECK(pool2d_prepare(p) == Error::Ok, "pool_f32: invalid pooling geometry");
  *plan = st;
  return CallStatus();
}

CallStatus setup_layer_norm_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::LayerNormF32Args a = inst.as<npu::LayerNormF32Args>();
  LayerNormF32State local;
  LayerNormF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->in) && is_f32(st->out), "layer_norm_f32: input and output must be float32");
  CALL_CHECK(!overlaps(st->in, st->out), "layer_norm_f32: output overlaps the input");
  for (int k = 0; k < 4; ++k) CALL_CHECK(st->in.dims[k] == st->out.dims[k], "layer_norm_f32: input and output dims differ");
  const int64_t n = st->in.dims[3];
  CALL_CHECK(f32_weights_ok(c, a.scale_offset, uint64_t(n)), "layer_norm_f32: scale outside the weights section");
  CALL_CHECK(a.bias_offset == npu::kNoOperand || f32_weights_ok(c, a.bias_offset, uint64_t(n)),
             "layer_norm_f32: bias outside the weights section");
  st->p.n = n;
  st->p.rows = int64_t(st->in.dims[0]) * st->in.dims[1] * st->in.dims[2];
  st->p.epsilon = float_of(a.epsilon_bits);
  st->scale = weights_f32(c, a.scale_offset);
  st->bias = a.bias_offset == npu::kNoOperand ? nullptr : weights_f32(c, a.bias_offset);
  *plan = st;
  return CallStatus();
}

// B packed per batch into the working memory, as the host's MatMul binder packs a run-time B;
// every slice index from the weights is checked here, once.
CallStatus setup_batch_matmul_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::BatchMatMulF32Args a = inst.as<npu::BatchMatMulF32Args>();
  BatchMatMulF32State local;
  BatchMatMulF32State* st = ar.state(&local);
  st->a = c.mc.tensor(a.a);
  st->b = c.mc.tensor(a.b);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->a) && is_f32(st->b) && is_f32(st->out), "batch_matmul_f32: operands must be float32");
  CALL_CHECK(!overlaps(st->a, st->out) && !overlaps(st->b, st->out), "batch_matmul_f32: output overlaps an input");
  // Each of m x k, k x n and m x n at most 2^31 (a tensor's largest count), so no product overflows.
  const auto fits = [](int64_t x, int64_t y) { return x <= (int64_t(1) << 31) / y; };
  CALL_CHECK(a.batch >= 1 && a.m >= 1 && a.k >= 1 && a.n >= 1 && a.k <= (1 << 24) && a.n <= (1 << 24) &&
                 fits(a.m, a.k) && fits(a.k, a.n) && fits(a.m, a.n),
             "batch_matmul_f32: bad batch/m/k/n");
  const int64_t mk = int64_t(a.m) * a.k, kn = int64_t(a.k) * a.n, mn = int64_t(a.m) * a.n;
  CALL_CHECK(count_of(st->out) == int64_t(a.batch) * mn, "batch_matmul_f32: output size differs from batch x m x n");
  if (a.slices_offset == npu::kNoOperand) {
    CALL_CHECK(count_of(st->a) == int64_t(a.batch) * mk && count_of(st->b) == int64_t(a.batch) * kn,
               "batch_matmul_f32: operand sizes differ from batch x m x k and batch x k x n");
  } else {
    CALL_CHECK(count_of(st->a) % mk == 0 && count_of(st->b) % kn == 0,
               "batch_matmul_f32: operand sizes are not whole m x k / k x n slices");
    const int64_t a_slices = count_of(st->a) / mk, b_slices = count_of(st->b) / kn;
    CALL_CHECK(weights_range_ok(c, a.slices_offset, uint64_t(a.batch) * 8, 4),
               "batch_matmul_f32: slice table outside the weights section");
    const uint8_t* t = c.weights + a.slices_offset;
    for (int32_t i = 0; i < a.batch; ++i) {
      int32_t v[2];
      std::memcpy(v, t + size_t(i) * 8, 8);
      CALL_CHECK(v[0] >= 0 && v[0] < a_slices && v[1] >= 0 && v[1] < b_slices,
                 "batch_matmul_f32: slice index out of range");
    }
    st->slices = reinterpret_cast<const int32_t*>(t);
  }
  st->ep.relu = a.act_relu != 0;
  st->ep.min = float_of(a.act_min_bits);
  st->ep.max = float_of(a.act_max_bits);
  CALL_CHECK(clamp_ok(st->ep.min, st->ep.max), "batch_matmul_f32: bad output clamp");
  st->batch = a.batch;
  st->m = a.m;
  st->k = a.k;
  st->n = a.n;
  ar.need(gemm_f32_packed_b_floats(a.k, a.n) * sizeof(float));
  *plan = st;
  return CallStatus();
}

// Operands broadcast to the output's 4 dims (numpy rules), as the host's Where binder does on the
// IR shapes: a select moves values, so any broadcast order gives the same bytes.
CallStatus setup_where_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::WhereF32Args a = inst.as<npu::WhereF32Args>();
  WhereF32State local;
  WhereF32State* st = ar.state(&local);
  st->cond = c.mc.tensor(a.condition);
  st->x = c.mc.tensor(a.x);
  st->y = c.mc.tensor(a.y);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(st->cond.elem_type == uint8_t(ElemType::kUint8), "where_f32: the condition must be uint8");
  CALL_CHECK(is_f32(st->x) && is_f32(st->y) && is_f32(st->out), "where_f32: x, y and output must be float32");
  CALL_CHECK(!overlaps(st->cond, st->out) && !overlaps(st->x, st->out) && !overlaps(st->y, st->out),
             "where_f32: output overlaps an operand");
  const int64_t od[4] = {st->out.dims[0], st->out.dims[1], st->out.dims[2], st->out.dims[3]};
  const int64_t cd[4] = {st->cond.dims[0], st->cond.dims[1], st->cond.dims[2], st->cond.dims[3]};
  const int64_t xd[4] = {st->x.dims[0], st->x.dims[1], st->x.dims[2], st->x.dims[3]};
  const int64_t yd[4] = {st->y.dims[0], st->y.dims[1], st->y.dims[2], st->y.dims[3]};
  const Span<const int64_t> ops[3] = {Span<const int64_t>(cd, 4), Span<const int64_t>(xd, 4), Span<const int64_t>(yd, 4)};
  CALL_CHECK(prepare_select(Span<const int64_t>(od, 4), ops, 3, sizeof(float), &st->p) && st->p.count == count_of(st->out),
             "where_f32: operands do not broadcast to the output");
  *plan = st;
  return CallStatus();
}

bool dtype_of(const TensorDesc& d, DType* t) {
  switch (static_cast<ElemType>(d.elem_type)) {
    case ElemType::kFloat32: *t = DType::F32; return true;
    case ElemType::kInt32: *t = DType::I32; return true;
    case ElemType::kInt64: *t = DType::I64; return true;
    default: return false;
  }
}

CallStatus setup_cast(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::CastArgs a = inst.as<npu::CastArgs>();
  CastState local;
  CastState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(dtype_of(st->in, &st->from) && dtype_of(st->out, &st->to),
             "cast: input and output must be float32, int32 or int64");
  CALL_CHECK(count_of(st->in) == count_of(st->out), "cast: input and output sizes differ");
  CALL_CHECK(!overlaps(st->in, st->out), "cast: output overlaps the input");
  *plan = st;
  return CallStatus();
}

// A broadcast copy on the right-aligned 4-D dims, as the host's Expand binder does on the IR
// shapes (the same bytes): int8 with one zero point, or float32.
CallStatus setup_expand(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("expand runs on the CPU only");
  const npu::ExpandArgs a = inst.as<npu::ExpandArgs>();
  ExpandState local;
  ExpandState* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK((is_int8(st->in) && is_int8(st->out) && st->in.zero_point == st->out.zero_point) ||
                 (is_f32(st->in) && is_f32(st->out)),
             "expand: input and output must be int8 with one zero point, or float32");
  CALL_CHECK(!overlaps(st->in, st->out), "expand: output overlaps the input");
  const int64_t od[4] = {st->out.dims[0], st->out.dims[1], st->out.dims[2], st->out.dims[3]};
  const int64_t id[4] = {st->in.dims[0], st->in.dims[1], st->in.dims[2], st->in.dims[3]};
  const Span<const int64_t> ops[1] = {Span<const int64_t>(id, 4)};
  CALL_CHECK(prepare_select(Span<const int64_t>(od, 4), ops, 1, is_f32(st->in) ? 4 : 1, &st->p) &&
                 st->p.count == count_of(st->out),
             "expand: the input does not broadcast to the output");
  *plan = st;
  return CallStatus();
}

// Tables per axis from the weights, every index checked; an identity axis gets no table, as in
// the host binder, so the linear passes (and their roundings) are the host's.
CallStatus setup_resize_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::ResizeF32Args a = inst.as<npu::ResizeF32Args>();
  ResizeF32State local;
  ResizeF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->in) && is_f32(st->out), "resize_f32: input and output must be float32");
  CALL_CHECK(!overlaps(st->in, st->out), "resize_f32: output overlaps the input");
  CALL_CHECK(a.mode == 0 || a.mode == 1, "resize_f32: unknown mode (0 nearest, 1 linear)");
  st->mode = a.mode;
  const uint64_t entry = a.mode == 0 ? 4 : 12;
  uint64_t entries = 0;
  for (int k = 0; k < 4; ++k) entries += uint64_t(st->out.dims[k]);
  CALL_CHECK(weights_range_ok(c, a.table_offset, entries * entry, 4), "resize_f32: tables outside the weights section");
  ResizeParams& p = st->p;
  ResizeParams sizing;  // non-null taps on the resized axes, for the scratch size
  static const ResizeLinearTap kDummy;
  p.rank = sizing.rank = 4;
  const uint8_t* src = c.weights + a.table_offset;
  for (int k = 0; k < 4; ++k) {
    const int64_t in_len = st->in.dims[k], out_len = st->out.dims[k];
    p.in_shape[k] = sizing.in_shape[k] = in_len;
    p.out_shape[k] = sizing.out_shape[k] = out_len;
    bool identity = in_len == out_len;
    int64_t* idx = a.mode == 0 ? ar.alloc<int64_t>(size_t(out_len)) : nullptr;
    ResizeLinearTap* taps = a.mode == 1 ? ar.alloc<ResizeLinearTap>(size_t(out_len)) : nullptr;
    for (int64_t o = 0; o < out_len; ++o, src += entry) {
      int32_t i0, i1 = 0;
      float w1 = 0.0f;
      std::memcpy(&i0, src, 4);
      if (a.mode == 1) {
        std::memcpy(&i1, src + 4, 4);
        std::memcpy(&w1, src + 8, 4);
      }
      CALL_CHECK(i0 >= 0 && i0 < in_len && i1 >= 0 && i1 < in_len, "resize_f32: source index out of range");
      // resize_*_table_is_identity: every output reads its own index (linear: with weight 0).
      identity = identity && i0 == o && (a.mode == 0 || w1 == 0.0f || i1 == o);
      if (ar.measuring) continue;
      if (a.mode == 0) {
        idx[o] = i0;
      } else {
        taps[o].i0 = i0;
        taps[o].i1 = i1;
        taps[o].w1 = w1;
      }
    }
    if (identity) continue;
    if (a.mode == 0)
      p.nearest[k] = idx;
    else
      p.linear[k] = taps;
    sizing.linear[k] = &kDummy;
  }
  if (a.mode == 1) ar.need(resize_linear_f32_scratch_floats(sizing) * sizeof(float));
  *plan = st;
  return CallStatus();
}

// Same collapse as the int8 reduce (and as the host binder: prepare_reduce drops unit dims), so
// the float sums run in the host executor's order.
CallStatus setup_reduce_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  const npu::ReduceF32Args a = inst.as<npu::ReduceF32Args>();
  ReduceF32State local;
  ReduceF32State* st = ar.state(&local);
  st->in = c.mc.tensor(a.input);
  st->out = c.mc.tensor(a.output);
  CALL_CHECK(is_f32(st->in) && is_f32(st->out), "reduce_f32: input and output must be float32");
  CALL_CHECK(!overlaps(st->in, st->out), "reduce_f32: output overlaps the input");
  CALL_CHECK(a.op >= 0 && a.op <= 4, "reduce_f32: unknown op");
  CALL_CHECK(a.axes_mask >= 0 && a.axes_mask < 16, "reduce_f32: axes mask out of range");
  static const ReduceOp kOps[] = {ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum, ReduceOp::Sum};
  st->op = kOps[a.op];
  st->l2 = a.op == 4;
  if (st->l2) ar.need(size_t(count_of(st->in)) * sizeof(float));
  // A unit dimension in front, always reduced: prepare_reduce() reads no axes as "all axes", and
  // an empty mask must reduce nothing.
  int64_t shape[5] = {1, 0, 0, 0, 0}, axes[5] = {0, 0, 0, 0, 0};
  int n_axes = 1;
  for (int k = 0; k < 4; ++k) {
    const bool r = (a.axes_mask >> k) & 1;
    CALL_CHECK(st->out.dims[k] == (r ? 1 : st->in.dims[k]), "reduce_f32: output dims do not match the reduction");
    shape[k + 1] = st->in.dims[k];
    if (r) axes[n_axes++] = k + 1;
  }
  CALL_CHECK(prepare_reduce(Span<const int64_t>(shape, 5), Span<const int64_t>(axes, size_t(n_axes)), &st->p),
             "reduce_f32: unsupported");
  *plan = st;
  return CallStatus();
}

CallStatus setup_recurrent_f32(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  if (c.limits == Limits::kNpu) return unsupported("float kernel calls run on the CPU only");
  // recurrent_peephole_f32's args begin with recurrent_f32's.
  const npu::RecurrentF32Args a = inst.as<npu::RecurrentF32Args>();
  const bool peepholes = inst.opcode == Opcode::kRecurrentPeepholeF32;
  RecurrentF32State local;
  RecurrentF32State* st = ar.state(&local);
  CALL_CHECK(a.lstm == 0 || a.lstm == 1, "recurrent_f32: lstm must be 0 or 1");
  CALL_CHECK(a.seq >= 1 && a.batch >= 1 && a.input_size >= 1 && a.hidden >= 1 && a.seq <= (1 << 24) &&
                 a.input_size <= (1 << 24) && a.hidden <= (1 << 20) && (a.directions == 1 || a.directions == 2) &&
                 (a.reverse == 0 || a.reverse == 1) && (a.linear_before_reset == 0 || a.linear_before_reset == 1),
             "recurrent_f32: bad sizes or flags");
  const int64_t G = a.lstm ? 4 : 3, H = a.hidden, B = a.batch, D = a.directions;
  st->in = c.mc.tensor(a.input);
  CALL_CHECK(is_f32(st->in) && count_of(st->in) == int64_t(a.seq) * B * a.input_size,
             "recurrent_f32: input must be float32 [seq][batch][input]");
  const int64_t state_count = D * B * H;
  struct Opt {
    uint32_t index;
    TensorDesc* desc;
    bool* has;
    int64_t count;
    bool written;
  } opts[] = {{a.y, &st->y, &st->has_y, int64_t(a.seq) * state_count, true},
              {a.y_h, &st->y_h, &st->has_y_h, state_count, true},
              {a.y_c, &st->y_c, &st->has_y_c, state_count, true},
              {a.initial_h, &st->h0, &st->has_h0, state_count, false},
              {a.initial_c, &st->c0, &st->has_c0, state_count, false}};
  for (const Opt& o : opts) {
    *o.has = o.index != npu::kNoOperand;
    if (!*o.has) continue;
    *o.desc = c.mc.tensor(o.index);  // indices checked by the reader
    CALL_CHECK(is_f32(*o.desc) && count_of(*o.desc) == o.count, "recurrent_f32: an operand has the wrong type or size");
    if (o.written) {
      CALL_CHECK(o.desc->region == uint8_t(Region::kOutput) || o.desc->region == uint8_t(Region::kScratch),
                 "recurrent_f32: an output outside the outputs and scratch");
      CALL_CHECK(!overlaps(*o.desc, st->in), "recurrent_f32: an output overlaps the input");
    }
  }
  CALL_CHECK(a.lstm == 1 || (!st->has_y_c && !st->has_c0), "recurrent_f32: a GRU has no cell state");
  CALL_CHECK(st->has_y || st->has_y_h || st->has_y_c, "recurrent_f32: no output");
  // Outputs overlap neither each other nor the initial states (read once per direction).
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j)
      if (i != j && *opts[i].has && *opts[j].has)
        CALL_CHECK(!overlaps(*opts[i].desc, *opts[j].desc), "recurrent_f32: operands overlap");
  CALL_CHECK(f32_weights_ok(c, a.w_offset, uint64_t(D * G * H) * uint64_t(a.input_size)),
             "recurrent_f32: W outside the weights section");
  CALL_CHECK(f32_weights_ok(c, a.r_offset, uint64_t(D * G * H) * uint64_t(H)), "recurrent_f32: R outside the weights section");
  CALL_CHECK(a.b_offset == npu::kNoOperand || f32_weights_ok(c, a.b_offset, uint64_t(D * 2 * G * H)),
             "recurrent_f32: B outside the weights section");
  RecurrentF32Params& p = st->p;
  p.lstm = a.lstm != 0;
  p.seq = a.seq;
  p.batch = B;
  p.input = a.input_size;
  p.hidden = H;
  p.directions = D;
  p.reverse = a.reverse != 0;
  p.linear_before_reset = a.linear_before_reset != 0;
  st->w = weights_f32(c, a.w_offset);
  st->r = weights_f32(c, a.r_offset);
  st->b = a.b_offset == npu::kNoOperand ? nullptr : weights_f32(c, a.b_offset);
  st->peep = nullptr;
  if (peepholes) {
    const uint32_t p_offset = inst.as<npu::RecurrentPeepholeF32Args>().p_offset;
    CALL_CHECK(a.lstm == 1, "recurrent_peephole_f32: only an LSTM has peepholes");
    CALL_CHECK(f32_weights_ok(c, p_offset, uint64_t(D * 3 * H)), "recurrent_peephole_f32: P outside the weights section");
    st->peep = weights_f32(c, p_offset);
  }
  ar.need(recurrent_f32_scratch_floats(p) * sizeof(float));
  *plan = st;
  return CallStatus();
}

// The parts of a conv2d_add call as instructions of their own (the args are the two structs, in order).
Instruction conv_part(const Instruction& inst) {
  Instruction sub = inst;
  sub.opcode = Opcode::kConv2D;
  sub.arg_words = uint16_t(sizeof(npu::ConvArgs) / 4);
  return sub;
}
Instruction add_part(const Instruction& inst) {
  Instruction sub = inst;
  sub.opcode = Opcode::kElementwise;
  sub.arg_words = uint16_t(sizeof(npu::ElementwiseArgs) / 4);
  sub.args = inst.args + sizeof(npu::ConvArgs);
  return sub;
}

CallStatus setup_conv_add(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  const npu::ConvAddArgs a = inst.as<npu::ConvAddArgs>();
  ConvAddState local;
  ConvAddState* st = ar.state(&local);
  const TensorDesc conv_out = c.mc.tensor(a.conv.output), out = c.mc.tensor(a.add.output);
  const bool a_is_conv = a.add.a == a.conv.output, b_is_conv = a.add.b == a.conv.output;
  CALL_CHECK(a_is_conv != b_is_conv, "conv2d_add: exactly one add operand must be the conv's output");
  const TensorDesc other = c.mc.tensor(a_is_conv ? a.add.b : a.add.a);
  CALL_CHECK(conv_out.region == out.region && conv_out.index == out.index && conv_out.offset == out.offset &&
                 same_dims(conv_out, out),
             "conv2d_add: the conv's output must be the add output's storage");
  CALL_CHECK(same_dims(other, out), "conv2d_add: the other add operand must have the output's dims");
  CALL_CHECK(!overlaps(other, out), "conv2d_add: the other add operand overlaps the output");
  CALL_CHECK(a.add.op == int32_t(npu::ElementwiseOp::kAdd) || a.add.op == int32_t(npu::ElementwiseOp::kSub),
             "conv2d_add: the elementwise op must be add or sub");
  CallStatus s = setup_conv(c, conv_part(inst), ar, &st->conv);
  if (!s.ok()) return s;
  s = setup_elementwise(c, add_part(inst), ar, &st->add);
  if (!s.ok()) return s;
  *plan = st;
  return CallStatus();
}

CallStatus setup(const Ctx& c, const Instruction& inst, Arena& ar, const void** plan) {
  switch (inst.opcode) {
    case Opcode::kConvAdd: return setup_conv_add(c, inst, ar, plan);
    case Opcode::kConv2D:
    case Opcode::kDepthwiseConv2D: return setup_conv(c, inst, ar, plan);
    case Opcode::kFullyConnected: return setup_fc(c, inst, ar, plan);
    case Opcode::kBatchMatMul: return setup_batch_matmul(c, inst, ar, plan);
    case Opcode::kMaxPool2D:
    case Opcode::kAvgPool2D:
    case Opcode::kGlobalAvgPool: return setup_pool(c, inst, ar, plan);
    case Opcode::kElementwise: return setup_elementwise(c, inst, ar, plan);
    case Opcode::kDiv: return setup_div(c, inst, ar, plan);
    case Opcode::kTable: return setup_table(c, inst, ar, plan);
    case Opcode::kChannelTable: return setup_channel_table(c, inst, ar, plan);
    case Opcode::kL2Norm: return setup_l2_norm(c, inst, ar, plan);
    case Opcode::kSoftmax: return setup_softmax(c, inst, ar, plan);
    case Opcode::kPad: return setup_pad(c, inst, ar, plan);
    case Opcode::kSlice: return setup_slice(c, inst, ar, plan);
    case Opcode::kConcat: return setup_concat(c, inst, ar, plan);
    case Opcode::kTranspose: return setup_transpose(c, inst, ar, plan);
    case Opcode::kResize: return setup_resize(c, inst, ar, plan);
    case Opcode::kReduce: return setup_reduce(c, inst, ar, plan);
    case Opcode::kCopy: return setup_copy(c, inst, ar, plan);
    case Opcode::kLayerNorm: return setup_layer_norm(c, inst, ar, plan);
    case Opcode::kMaskedFill: return setup_masked_fill(c, inst, ar, plan);
    case Opcode::kGather: return setup_gather(c, inst, ar, plan);
    case Opcode::kRecurrent: return setup_recurrent(c, inst, ar, plan);
    case Opcode::kPrefetch:
    case Opcode::kWaitPrefetch: return setup_prefetch(c, inst, ar, plan);
    case Opcode::kQuantize:
    case Opcode::kDequantize: return setup_quantize(c, inst, ar, plan);
    case Opcode::kElementwiseF32: return setup_elementwise_f32(c, inst, ar, plan);
    case Opcode::kUnaryF32: return setup_unary_f32(c, inst, ar, plan);
    case Opcode::kSoftmaxF32: return setup_softmax_f32(c, inst, ar, plan);
    case Opcode::kGemmF32: return setup_gemm_f32(c, inst, ar, plan);
    case Opcode::kConvF32: return setup_conv_f32(c, inst, ar, plan);
    case Opcode::kRecurrentF32:
    case Opcode::kRecurrentPeepholeF32: return setup_recurrent_f32(c, inst, ar, plan);
    case Opcode::kPoolF32: return setup_pool_f32(c, inst, ar, plan);
    case Opcode::kReduceF32: return setup_reduce_f32(c, inst, ar, plan);
    case Opcode::kResizeF32: return setup_resize_f32(c, inst, ar, plan);
    case Opcode::kLayerNormF32: return setup_layer_norm_f32(c, inst, ar, plan);
    case Opcode::kBatchMatMulF32: return setup_batch_matmul_f32(c, inst, ar, plan);
    case Opcode::kWhereF32: return setup_where_f32(c, inst, ar, plan);
    case Opcode::kGatherF32: return setup_gather(c, inst, ar, plan);
    case Opcode::kCast: return setup_cast(c, inst, ar, plan);
    case Opcode::kExpand: return setup_expand(c, inst, ar, plan);
  }
  return invalid("unknown opcode");
}

// One pass over the instructions: measuring (sizes only) or filling `plans`.
CallStatus walk(const npu::MicrocodeView& mc, const uint8_t* weights, Limits limits, Arena& ar, const void** plans) {
  if (weights == nullptr && mc.weights_size() > 0) return bad(Error::InvalidArgument, "weights are null");
  if (reinterpret_cast<uintptr_t>(weights) % npu::kAlignment != 0)
    return bad(Error::InvalidArgument, "weights are not 16-byte aligned");
  Ctx c{mc, weights, limits};
  npu::InstructionCursor cur(mc);
  Instruction inst;
  uint32_t i = 0;
  while (cur.next(&inst)) {
    const void* plan = nullptr;
    CallStatus s = setup(c, inst, ar, &plan);
    if (!s.ok()) {
      s.instruction = i;
      return s;
    }
    if (!ar.measuring) {
      if (ar.used > ar.cap || ar.host_used > ar.host_cap)
        return bad(Error::OutOfMemory, "prepared state larger than measured");
      plans[i] = plan;
    }
    ++i;
  }
  return CallStatus();
}

// ---------------------------------------------------------------------------------------------
// Run.

struct Bufs {
  const RunBuffers& b;
  const uint8_t* weights;
  uint32_t num_inputs, num_outputs;
};

uint8_t* resolve(const TensorDesc& d, const Bufs& r) {
  uint8_t* base = nullptr;
  switch (static_cast<Region>(d.region)) {
    case Region::kInput: base = r.b.inputs ? const_cast<uint8_t*>(r.b.inputs[d.index]) : nullptr; break;
    case Region::kOutput: base = r.b.outputs ? r.b.outputs[d.index] : nullptr; break;
    case Region::kScratch: base = r.b.scratch; break;
    case Region::kWeights: base = const_cast<uint8_t*>(r.weights); break;
    case Region::kSramWeights: base = r.b.sram_weights; break;
  }
  return base ? base + d.offset : nullptr;
}

#define SIM_PTR(var, desc)                                                      \
  uint8_t* var = resolve(desc, r);                                              \
  if (var == nullptr) return bad(Error::InvalidArgument, "a tensor's buffer is null")

CallStatus run_one(const Instruction& inst, const void* plan, const Bufs& r, uint8_t* ws, const PrefetchHooks* hooks) {
  switch (inst.opcode) {
    case Opcode::kConvAdd: {
      const auto* st = static_cast<const ConvAddState*>(plan);
      const CallStatus s = run_one(conv_part(inst), st->conv, r, ws, hooks);
      if (!s.ok()) return s;
      return run_one(add_part(inst), st->add, r, ws, hooks);
    }
    case Opcode::kConv2D:
    case Opcode::kDepthwiseConv2D: {
      const auto* st = static_cast<const ConvState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      if (st->in_place)
        conv2d_int8_nhwc_in_place(st->p, st->weights, st->ic_stride, st->p.bias, st->p.multipliers,
                                  reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out));
      else
        conv2d_int8_nhwc(st->p, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out), ws);
      break;
    }
    case Opcode::kFullyConnected: {
      const auto* st = static_cast<const FcState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      if (st->in_place) {
        fully_connected_int8_in_place(st->ip, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out));
        break;
      }
      QGemmInt8Params p = st->p;
      p.scratch = reinterpret_cast<int16_t*>(ws);
      qgemm_int8(p, reinterpret_cast<const int8_t*>(in), size_t(p.depth), reinterpret_cast<int8_t*>(out), size_t(p.cols));
      break;
    }
    case Opcode::kBatchMatMul: {
      const auto* st = static_cast<const BatchMatMulState*>(plan);
      SIM_PTR(a, st->a);
      SIM_PTR(b, st->b);
      SIM_PTR(out, st->out);
      batch_matmul_int8(st->p, reinterpret_cast<const int8_t*>(a), reinterpret_cast<const int8_t*>(b),
                        reinterpret_cast<int8_t*>(out), ws);
      break;
    }
    case Opcode::kMaxPool2D:
    case Opcode::kAvgPool2D:
    case Opcode::kGlobalAvgPool: {
      const auto* st = static_cast<const PoolState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      const int8_t* x = reinterpret_cast<const int8_t*>(in);
      int8_t* y = reinterpret_cast<int8_t*>(out);
      if (inst.opcode == Opcode::kMaxPool2D)
        max_pool_int8_nhwc(st->p, x, y);
      else if (inst.opcode == Opcode::kAvgPool2D)
        average_pool_int8_nhwc(st->p, x, y, ws);
      else
        global_average_pool_int8_nhwc(st->p, x, y, ws);
      break;
    }
    case Opcode::kElementwise:
    case Opcode::kDiv: {
      const auto* st = static_cast<const ElementwiseState*>(plan);
      SIM_PTR(a, st->a);
      SIM_PTR(b, st->b);
      SIM_PTR(out, st->out);
      binary_int8(st->p, st->bp, reinterpret_cast<const int8_t*>(a), reinterpret_cast<const int8_t*>(b),
                  reinterpret_cast<int8_t*>(out));
      break;
    }
    case Opcode::kTable: {
      const auto* st = static_cast<const TableState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      unary_int8_lut(st->table, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out),
                     size_t(count_of(st->in)));
      break;
    }
    case Opcode::kMaskedFill: {
      const auto* st = static_cast<const MaskedFillState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      masked_fill_int8(st->mask, st->fill, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out),
                       size_t(count_of(st->out)));
      break;
    }
    case Opcode::kGather:
    case Opcode::kGatherF32: {
      const auto* st = static_cast<const GatherState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      SIM_PTR(idx, st->idx);
      // Run-time indices (token ids) are checked before any byte moves.
      if (!gather_indices_in_range(idx, st->index_is_64, st->p.count, st->p.axis_dim))
        return bad(Error::InvalidArgument, "gather: an index is outside the table (token id out of range)");
      gather(st->p, in, idx, st->index_is_64, out);
      break;
    }
    case Opcode::kRecurrent: {
      const auto* st = static_cast<const RecurrentState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      int8_t* out_c = nullptr;
      if (st->has_c) {
        SIM_PTR(oc, st->out_c);
        out_c = reinterpret_cast<int8_t*>(oc);
      }
      recurrent_int8(st->p, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out), out_c, nullptr, ws);
      break;
    }
    case Opcode::kLayerNorm: {
      const auto* st = static_cast<const LayerNormState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      layer_norm_int8(st->p, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out));
      break;
    }
    case Opcode::kChannelTable: {
      const auto* st = static_cast<const ChannelTableState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      channel_int8_lut(st->tables, st->channels, st->inner, reinterpret_cast<const int8_t*>(in),
                       reinterpret_cast<int8_t*>(out), size_t(count_of(st->in)));
      break;
    }
    case Opcode::kL2Norm: {
      const auto* st = static_cast<const L2NormState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      l2_normalize_int8(st->p, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out));
      break;
    }
    case Opcode::kSoftmax: {
      const auto* st = static_cast<const SoftmaxState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      softmax_int8(st->p, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out));
      break;
    }
    case Opcode::kPad: {
      const auto* st = static_cast<const PadState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      pad(st->p, in, out);
      break;
    }
    case Opcode::kSlice:
    case Opcode::kTranspose: {
      const auto* st = static_cast<const CopyState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      strided_copy(st->p, in, out);
      break;
    }
    case Opcode::kCopy: {
      const auto* st = static_cast<const CopyState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      if (in != out) std::memmove(out, in, st->out.size);
      break;
    }
    case Opcode::kConcat: {
      const auto* st = static_cast<const ConcatState*>(plan);
      SIM_PTR(out, st->out);
      const void* ins[8];
      for (uint32_t i = 0; i < st->n; ++i) {
        SIM_PTR(p, st->in[i]);
        ins[i] = p;
      }
      concat(st->outer, Span<const int64_t>(st->chunk_bytes, st->n), ins, out);
      break;
    }
    case Opcode::kResize: {
      const auto* st = static_cast<const ResizeState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      if (st->mode == 1)
        resize_bilinear_int8(st->bl, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(out));
      else
        resize_nearest<uint8_t>(st->p, in, out);
      break;
    }
    case Opcode::kReduce: {
      const auto* st = static_cast<const ReduceState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      const int8_t* x = reinterpret_cast<const int8_t*>(in);
      int8_t* y = reinterpret_cast<int8_t*>(out);
      if (st->op == 1 || st->op == 2)
        reduce<int8_t>(st->op == 1 ? ReduceOp::Max : ReduceOp::Min, st->p.shape, x, y);
      else
        reduce_sum_int8(st->p, x, y, ws);
      break;
    }
    case Opcode::kQuantize:
    case Opcode::kDequantize: {
      const auto* st = static_cast<const QuantizeState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      QuantizeParams p;
      p.scales = &st->scale;
      p.zero_points = &st->zero_point;
      p.inner = count_of(st->in);
      if (inst.opcode == Opcode::kQuantize)
        quantize_linear<int8_t>(p, reinterpret_cast<const float*>(in), reinterpret_cast<int8_t*>(out));
      else
        dequantize_linear<int8_t>(p, reinterpret_cast<const int8_t*>(in), reinterpret_cast<float*>(out));
      break;
    }
    case Opcode::kElementwiseF32: {
      const auto* st = static_cast<const ElementwiseF32State*>(plan);
      SIM_PTR(a, st->a);
      SIM_PTR(b, st->b);
      SIM_PTR(out, st->out);
      binary_broadcast<float>(st->op, st->bp, reinterpret_cast<const float*>(a), reinterpret_cast<const float*>(b),
                              reinterpret_cast<float*>(out));
      break;
    }
    case Opcode::kUnaryF32: {
      const auto* st = static_cast<const UnaryF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      unary_f32(st->p, reinterpret_cast<const float*>(in), reinterpret_cast<float*>(out), size_t(count_of(st->in)));
      break;
    }
    case Opcode::kSoftmaxF32: {
      const auto* st = static_cast<const SoftmaxF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      softmax_f32(st->p, reinterpret_cast<const float*>(in), reinterpret_cast<float*>(out), reinterpret_cast<float*>(ws));
      break;
    }
    case Opcode::kGemmF32: {
      const auto* st = static_cast<const GemmF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      gemm_f32(st->rows, st->n, st->k, reinterpret_cast<const float*>(in), st->k, st->packed,
               reinterpret_cast<float*>(out), st->n, st->ep);
      break;
    }
    case Opcode::kConvF32: {
      const auto* st = static_cast<const ConvF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      const float* x = reinterpret_cast<const float*>(in);
      float* y = reinterpret_cast<float*>(out);
      if (st->transposed)
        conv_transpose2d_f32(st->tp, x, st->packed, st->bias, y, reinterpret_cast<float*>(ws));
      else
        conv2d_f32(st->p, x, st->packed, st->bias, y, reinterpret_cast<float*>(ws));
      break;
    }
    case Opcode::kRecurrentF32:
    case Opcode::kRecurrentPeepholeF32: {
      const auto* st = static_cast<const RecurrentF32State*>(plan);
      SIM_PTR(in, st->in);
      const float* h0 = nullptr;
      const float* c0 = nullptr;
      float *y = nullptr, *yh = nullptr, *yc = nullptr;
      if (st->has_h0) {
        SIM_PTR(p, st->h0);
        h0 = reinterpret_cast<const float*>(p);
      }
      if (st->has_c0) {
        SIM_PTR(p, st->c0);
        c0 = reinterpret_cast<const float*>(p);
      }
      if (st->has_y) {
        SIM_PTR(p, st->y);
        y = reinterpret_cast<float*>(p);
      }
      if (st->has_y_h) {
        SIM_PTR(p, st->y_h);
        yh = reinterpret_cast<float*>(p);
      }
      if (st->has_y_c) {
        SIM_PTR(p, st->y_c);
        yc = reinterpret_cast<float*>(p);
      }
      recurrent_f32(st->p, reinterpret_cast<const float*>(in), st->w, st->r, st->b, h0, c0, y, yh, yc,
                    reinterpret_cast<float*>(ws), st->peep);
      break;
    }
    case Opcode::kBatchMatMulF32: {
      const auto* st = static_cast<const BatchMatMulF32State*>(plan);
      SIM_PTR(pa, st->a);
      SIM_PTR(pb, st->b);
      SIM_PTR(out, st->out);
      const float* av = reinterpret_cast<const float*>(pa);
      const float* bv = reinterpret_cast<const float*>(pb);
      float* y = reinterpret_cast<float*>(out);
      float* packed = reinterpret_cast<float*>(ws);
      const int64_t mk = st->m * st->k, kn = st->k * st->n, mn = st->m * st->n;
      for (int64_t i = 0; i < st->batch; ++i) {
        const int64_t ai = st->slices ? st->slices[2 * i] : i, bi = st->slices ? st->slices[2 * i + 1] : i;
        gemm_f32_pack_b(bv + bi * kn, st->n, false, st->k, st->n, 1.0f, packed);
        gemm_f32(st->m, st->n, st->k, av + ai * mk, st->k, packed, y + i * mn, st->n, st->ep);
      }
      break;
    }
    case Opcode::kWhereF32: {
      const auto* st = static_cast<const WhereF32State*>(plan);
      SIM_PTR(cond, st->cond);
      SIM_PTR(x, st->x);
      SIM_PTR(y, st->y);
      SIM_PTR(out, st->out);
      where(st->p, cond, x, y, out);
      break;
    }
    case Opcode::kExpand: {
      const auto* st = static_cast<const ExpandState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      expand(st->p, in, out);
      break;
    }
    case Opcode::kCast: {
      const auto* st = static_cast<const CastState*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      cast(st->from, st->to, in, out, size_t(count_of(st->in)));
      break;
    }
    case Opcode::kLayerNormF32: {
      const auto* st = static_cast<const LayerNormF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      layer_norm_f32(st->p, reinterpret_cast<const float*>(in), st->scale, st->bias, reinterpret_cast<float*>(out));
      break;
    }
    case Opcode::kResizeF32: {
      const auto* st = static_cast<const ResizeF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      if (st->mode == 0)
        resize_nearest<int32_t>(st->p, reinterpret_cast<const int32_t*>(in), reinterpret_cast<int32_t*>(out));
      else
        resize_linear_f32(st->p, reinterpret_cast<const float*>(in), reinterpret_cast<float*>(out),
                          reinterpret_cast<float*>(ws));
      break;
    }
    case Opcode::kReduceF32: {
      const auto* st = static_cast<const ReduceF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      if (st->l2)
        reduce_l2_f32(st->p, reinterpret_cast<const float*>(in), reinterpret_cast<float*>(out),
                      reinterpret_cast<float*>(ws));
      else
        reduce<float>(st->op, st->p, reinterpret_cast<const float*>(in), reinterpret_cast<float*>(out));
      break;
    }
    case Opcode::kPoolF32: {
      const auto* st = static_cast<const PoolF32State*>(plan);
      SIM_PTR(in, st->in);
      SIM_PTR(out, st->out);
      const float* x = reinterpret_cast<const float*>(in);
      float* y = reinterpret_cast<float*>(out);
      const Pool2DParams& p = st->p;
      if (st->op == 0)
        maxpool2d_nhwc<float>(p, x, y);
      else if (st->op == 1)
        avgpool2d_nhwc_f32(p, x, y);
      else if (st->op == 2)
        global_maxpool_nhwc<float>(p.batch, p.in_h * p.in_w, p.channels, x, y);
      else
        global_avgpool_nhwc_f32(p.batch, p.in_h * p.in_w, p.channels, x, y);
      break;
    }
    case Opcode::kPrefetch: {
      const auto* st = static_cast<const PrefetchState*>(plan);
      if (r.b.sram_weights == nullptr && st->a.size > 0) return bad(Error::InvalidArgument, "SRAM weights buffer is null");
      if (st->a.size == 0) break;
      uint8_t* dst = r.b.sram_weights + st->a.sram_offset;
      uint8_t* src = const_cast<uint8_t*>(r.weights) + st->a.weights_offset;
      if (hooks && hooks->copy)
        hooks->copy(dst, src, st->a.size, st->a.channel);
      else
        std::memcpy(dst, src, st->a.size);
      break;
    }
    case Opcode::kWaitPrefetch: {
      const auto* st = static_cast<const PrefetchState*>(plan);
      if (hooks && hooks->wait) hooks->wait(st->a.channel);
      break;
    }
  }
  return CallStatus();
}

}  // namespace

CallStatus Executor::measure(const npu::MicrocodeView& mc, const uint8_t* weights, Limits limits, bool host,
                             MemoryNeeds* needs) {
  Arena ar;
  ar.measuring = true;
  ar.host = host;
  CallStatus s = walk(mc, weights, limits, ar, nullptr);
  if (!s.ok()) return s;
  MemoryNeeds n;
  n.state = ((size_t(mc.num_instructions()) * sizeof(void*) + 63) & ~size_t(63)) + npu::align16(ar.used);
  n.workspace = ar.workspace;
  if (host) {
    n.host = npu::align16(ar.host_used);
    // The repacked kernels run on the host workspace, which serves the in-place ones too.
    n.host_workspace = ar.host_workspace > ar.workspace ? ar.host_workspace : ar.workspace;
  }
  *needs = n;
  return CallStatus();
}

CallStatus Executor::required_memory(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                     Limits limits) {
  MemoryNeeds n;
  CallStatus s = measure(mc, weights, limits, false, &n);
  if (s.ok()) *bytes = n.state + npu::align16(n.workspace);
  return s;
}

CallStatus Executor::required_memory(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                     size_t* workspace_bytes, Limits limits) {
  MemoryNeeds n;
  CallStatus s = measure(mc, weights, limits, false, &n);
  if (!s.ok()) return s;
  *bytes = n.state;
  *workspace_bytes = n.workspace;
  return CallStatus();
}

CallStatus Executor::host_memory_needed(const npu::MicrocodeView& mc, const uint8_t* weights, size_t* bytes,
                                        Limits limits) {
  MemoryNeeds n;
  CallStatus s = measure(mc, weights, limits, true, &n);
  if (s.ok()) *bytes = n.host + npu::align16(n.host_workspace);
  return s;
}

CallStatus Executor::prepare(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                             Limits limits, HostMemory host) {
  return prepare_impl(mc, weights, memory, bytes, nullptr, 0, limits, host);
}

CallStatus Executor::prepare(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                             uint8_t* workspace, size_t workspace_bytes, Limits limits, HostMemory host) {
  if (workspace == nullptr) return bad(Error::InvalidArgument, "workspace is null");
  return prepare_impl(mc, weights, memory, bytes, workspace, workspace_bytes, limits, host);
}

CallStatus Executor::prepare_impl(const npu::MicrocodeView& mc, const uint8_t* weights, void* memory, size_t bytes,
                                  uint8_t* workspace, size_t workspace_bytes, Limits limits, HostMemory host) {
  plans_ = nullptr;
  if (memory == nullptr) return bad(Error::InvalidArgument, "prepare memory is null");
  if (reinterpret_cast<uintptr_t>(memory) % npu::kAlignment != 0)
    return bad(Error::InvalidArgument, "prepare memory is not 16-byte aligned");
  if (workspace != nullptr && reinterpret_cast<uintptr_t>(workspace) % npu::kAlignment != 0)
    return bad(Error::InvalidArgument, "workspace is not 16-byte aligned");
  if (host.data != nullptr && reinterpret_cast<uintptr_t>(host.data) % npu::kAlignment != 0)
    return bad(Error::InvalidArgument, "host memory is not 16-byte aligned");
  const bool host_mode = host.data != nullptr;
  MemoryNeeds need;
  CallStatus s = measure(mc, weights, limits, host_mode, &need);
  if (!s.ok()) return s;
  // Device layout (the same in both modes): plan pointers, workspace (at a 64-byte offset) unless
  // the caller supplies it, prepared states. Host layout: host workspace unless the caller supplies
  // it, repacked weights.
  uint8_t* base = static_cast<uint8_t*>(memory);
  const size_t ws_off = (size_t(mc.num_instructions()) * sizeof(void*) + 63) & ~size_t(63);
  const size_t own_ws = workspace != nullptr ? 0 : npu::align16(need.workspace);
  const size_t ws_need = host_mode ? need.host_workspace : need.workspace;
  if (workspace != nullptr && workspace_bytes < ws_need)
    return bad(Error::OutOfMemory, "workspace smaller than required_memory()");
  if (bytes < need.state + own_ws) return bad(Error::OutOfMemory, "prepare memory smaller than required_memory()");
  const size_t own_host_ws = host_mode && workspace == nullptr ? npu::align16(need.host_workspace) : 0;
  if (host_mode && host.bytes < own_host_ws + need.host)
    return bad(Error::OutOfMemory, "host memory smaller than host_memory_needed()");
  Arena fill;
  fill.measuring = false;
  fill.host = host_mode;
  uint8_t* dev_ws = workspace != nullptr ? workspace : base + ws_off;
  uint8_t* host_ws = workspace != nullptr ? workspace : host.data;
  fill.ws = host_mode ? host_ws : dev_ws;
  fill.base = base + ws_off + own_ws;
  fill.cap = bytes - (ws_off + own_ws);
  if (host_mode) {
    fill.host_base = host.data + own_host_ws;
    fill.host_cap = host.bytes - own_host_ws;
  }
  const void** plans = reinterpret_cast<const void**>(base);
  s = walk(mc, weights, limits, fill, plans);
  if (!s.ok()) return s;
  mc_ = mc;
  weights_ = weights;
  workspace_ = workspace != nullptr ? nullptr : (host_mode ? host_ws : dev_ws);
  workspace_bytes_ = ws_need;
  host_bytes_ = host_mode ? own_host_ws + need.host : 0;
  plans_ = plans;
  return CallStatus();
}

CallStatus Executor::run(const RunBuffers& buffers, const PrefetchHooks* hooks) const {
  if (plans_ == nullptr) return bad(Error::InvalidArgument, "kernel calls not prepared");
  if (mc_.scratch_size() > 0 && buffers.scratch == nullptr) return bad(Error::InvalidArgument, "scratch is null");
  if (mc_.num_inputs() > 0 && buffers.inputs == nullptr) return bad(Error::InvalidArgument, "inputs are null");
  if (mc_.num_outputs() > 0 && buffers.outputs == nullptr) return bad(Error::InvalidArgument, "outputs are null");
  uint8_t* ws = workspace_;
  if (ws == nullptr) {  // prepared with a caller workspace: this run's
    if (workspace_bytes_ > 0 && buffers.workspace == nullptr) return bad(Error::InvalidArgument, "workspace is null");
    ws = buffers.workspace;
  }
  Bufs r{buffers, weights_, mc_.num_inputs(), mc_.num_outputs()};
  npu::InstructionCursor cur(mc_);
  Instruction inst;
  uint32_t i = 0;
  while (cur.next(&inst)) {
    CallStatus s = run_one(inst, plans_[i], r, ws, hooks);
    if (!s.ok()) {
      s.instruction = i;
      return s;
    }
    ++i;
  }
  return CallStatus();
}

}  // namespace neutron::kernel_calls
