// The int8 lowering (lowering.h): every node becomes one or more kernel calls with the integer
// parameters of docs/integer-semantics.md, computed with the helpers of int8_common.h, int8_setup.h,
// kernels/requantize.h and the kernels' prepare functions.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <limits>

#include "lowering/lowering.h"
#include "lowering/int8_common.h"
#include "lowering/int8_setup.h"
#include "lowering/matmul_shape.h"
#include "lowering/resize_attrs.h"
#include "kernels/conv2d_f32.h"
#include "kernels/elementwise_int8.h"
#include "kernels/gemm_f32.h"
#include "kernels/index_ops.h"
#include "kernels/recurrent_int8.h"
#include "kernels/requantize.h"
#include "kernels/resize.h"
#include "kernels/softmax_int8.h"
#include "kernels/unary_f32.h"
#include "kernels/unary_int8.h"

namespace neutron::lowering {
namespace {

using npu::Opcode;
using npu::Region;
using Dims = std::array<int32_t, 4>;

constexpr int32_t kMaxDim = 1 << 24;  // the reader's limit per tensor dimension

int32_t round_up(int32_t v, int32_t m) { return m <= 1 ? v : (v + m - 1) / m * m; }

template <typename Args>
std::vector<uint32_t> to_words(const Args& a) {
  std::vector<uint32_t> w(sizeof(Args) / 4);
  std::memcpy(w.data(), &a, sizeof(Args));
  return w;
}

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

#define WORD_OF(Args, field) uint32_t(offsetof(npu::Args, field) / 4)

class Lowering {
 public:
  Lowering(const Graph& g, const LowerOptions& options, KernelProgram* out, std::vector<NodeId> nodes,
           std::vector<TensorId> inputs, std::vector<TensorId> outputs)
      : g_(g), opt_(options), p_(*out), map_(g.num_tensors(), -1), nodes_(std::move(nodes)),
        inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  Status run();

 private:
  // "node 'x' (Conv)" for a node, "partition 'g'" for the boundary (id -1).
  std::string where(NodeId id) const { return id >= 0 ? describe(g_, id) : "partition '" + g_.name + "'"; }

  // ---- tensors ----
  // The memory-order dims of an IR shape, right-aligned into 4 (leading 1s of longer shapes dropped).
  StatusOr<Dims> dims_of(NodeId id, TensorId t) const;
  // Maps an axis of a rank-`rank` IR tensor to its NHWC index (rank <= 4 only).
  static int nhwc_axis(size_t rank, int64_t axis) { return int(axis) + 4 - int(rank); }
  // Rank above 4 (5-D and up): the op's tensors, aligned axis by axis (same rank R), folded to at
  // most 4 axes without moving an element. An axis of size 1 in every tensor is dropped; two
  // neighbouring axes merge when `can_merge(i, j)` (the op treats them alike) and every tensor
  // either spans both or broadcasts over both. `groups` gets the original axes of each folded axis.
  // `max_groups` 0: any number of groups (then `folded` is left empty when there are more than 4).
  Status fold_axes(NodeId id, const std::vector<Shape>& shapes, const std::function<bool(size_t, size_t)>& can_merge,
                   std::vector<Dims>* folded, std::vector<std::vector<size_t>>* groups, size_t max_groups = 4) const;
  // tensor(id, t) viewed with `d` (an alias when its own dims differ).
  StatusOr<uint32_t> tensor_as(NodeId id, TensorId t, const Dims& d) {
    ASSIGN_OR_RETURN(uint32_t k, tensor(id, t));
    return p_.tensors[k].dims == d ? k : alias(k, d, ".4d");
  }
  // Ops that read axes from the IR shape take rank > 4 only as leading 1s (dims_of drops them).
  Status check_rank4_or_leading_ones(NodeId id, TensorId t) const {
    const Shape& s = g_.tensor(t).shape;
    size_t non_unit = 0, lead = 0;
    while (lead < s.size() && s[lead] == 1) ++lead;
    for (int64_t v : s) non_unit += v != 1;
    CHECK_OR_RETURN(s.size() <= 4 || s.size() - lead <= 4, Error::NotSupported, describe(g_, id), ": tensor '",
                    g_.tensor(t).name, "' ", shape_str(s), " has rank ", s.size(), " (", non_unit,
                    " dimensions that are not 1); ", op_kind_name(g_.node(id).kind),
                    " is lowered for at most 4 dimensions besides leading 1s");
    return Status::OK();
  }
  // The program tensor of an IR tensor: boundary tensors were created by run(); int8 constants get
  // a weights-region tensor; everything else a scratch tensor on first use.
  StatusOr<uint32_t> tensor(NodeId id, TensorId t);
  uint32_t add_tensor(ProgramTensor t) {
    p_.tensors.push_back(std::move(t));
    return uint32_t(p_.tensors.size() - 1);
  }
  // A scratch tensor the lowering adds (chained concat, requantized operands).
  uint32_t temp(NodeId id, const std::string& purpose, const Dims& dims, int32_t zero_point,
                npu::ElemType elem = npu::ElemType::kInt8) {
    ProgramTensor t;
    t.name = g_.node(id).name + "." + purpose;
    t.dims = dims;
    t.zero_point = zero_point;
    t.elem = elem;
    return add_tensor(std::move(t));
  }
  // Another view (dims) of tensor `of`'s storage.
  uint32_t alias(uint32_t of, const Dims& dims, const std::string& suffix) {
    ProgramTensor t = p_.tensors[of];
    while (t.alias_of >= 0) t = p_.tensors[size_t(t.alias_of)];
    const int32_t root = p_.tensors[of].alias_of >= 0 ? p_.tensors[of].alias_of : int32_t(of);
    t.name = p_.tensors[of].name + suffix;
    t.dims = dims;
    t.alias_of = root;
    t.first_use = t.last_use = -1;
    return add_tensor(std::move(t));
  }
  // NCHW spatial ops (a graph that did not go through layout-nhwc, e.g. on the host): the input
  // transposed into an NHWC temporary, the kernel on temporaries, the result transposed back.
  uint32_t transpose(NodeId id, uint32_t from, const Dims& to_dims, const std::string& purpose, const Dims& perm) {
    const uint32_t t = temp(id, purpose, to_dims, p_.tensors[from].zero_point);
    npu::TransposeArgs a{};
    a.input = from;
    a.output = t;
    for (int i = 0; i < 4; ++i) a.perm[i] = perm[size_t(i)];
    call(Opcode::kTranspose, id, a, {from}, {t});
    return t;
  }
  uint32_t to_nhwc(NodeId id, uint32_t x, const int8::Dims4& d) {
    return transpose(id, x, Dims{{int32_t(d.n), int32_t(d.h), int32_t(d.w), int32_t(d.c)}}, "nhwc_in", Dims{{0, 2, 3, 1}});
  }
  uint32_t nhwc_temp(NodeId id, uint32_t y, const int8::Dims4& d) {
    return temp(id, "nhwc_out", Dims{{int32_t(d.n), int32_t(d.h), int32_t(d.w), int32_t(d.c)}}, p_.tensors[y].zero_point);
  }
  void from_nhwc(NodeId id, uint32_t t, uint32_t y) {
    npu::TransposeArgs a{};
    a.input = t;
    a.output = y;
    const Dims perm{{0, 3, 1, 2}};
    for (int i = 0; i < 4; ++i) a.perm[i] = perm[size_t(i)];
    call(Opcode::kTranspose, id, a, {t}, {y});
  }
  uint32_t add_blob(NodeId id, const std::string& purpose, BlobKind kind, std::vector<uint8_t> data) {
    ConstBlob b;
    b.name = g_.node(id).name + "." + purpose;
    b.kind = kind;
    b.data = std::move(data);
    p_.blobs.push_back(std::move(b));
    return uint32_t(p_.blobs.size() - 1);
  }
  template <typename Args>
  KernelCall& call(Opcode op, NodeId id, const Args& args, std::vector<uint32_t> reads, std::vector<uint32_t> writes) {
    KernelCall c;
    c.op = op;
    c.origin = g_.node(id).name;
    c.args = to_words(args);
    c.reads = std::move(reads);
    c.writes = std::move(writes);
    p_.calls.push_back(std::move(c));
    return p_.calls.back();
  }
  static void ref(KernelCall& c, uint32_t word, uint32_t blob) {
    c.args[word] = blob;
    c.blob_refs.push_back(BlobRef{word, blob});
  }

  // ---- checks shared by the ops ----
  Status check_same_quant(NodeId id, TensorId a, TensorId b) const {
    const Tensor& x = g_.tensor(a);
    const Tensor& y = g_.tensor(b);
    CHECK_OR_RETURN(x.quant == y.quant && x.dtype == y.dtype, Error::NotSupported, describe(g_, id), ": tensors '",
                    x.name, "' and '", y.name, "' have different quantization parameters; the NPU data-movement kernels",
                    " do not requantize");
    return Status::OK();
  }
  Status check_rank4(NodeId id, TensorId t) const {
    CHECK_OR_RETURN(g_.tensor(t).shape.size() <= 4, Error::NotSupported, describe(g_, id), ": tensor '",
                    g_.tensor(t).name, "' ", shape_str(g_.tensor(t).shape), " has rank above 4");
    return Status::OK();
  }

  // ---- ops ----
  Status lower_node(NodeId id);
  struct ConvOperands {
    TensorId x = kNoTensor, b = kNoTensor, y = kNoTensor;
    const Tensor* wt = nullptr;
    bool channels_last = false;
    int8::Dims4 in, out;
    int64_t group = 1;
  };
  StatusOr<ConvOperands> conv_operands(NodeId id, const char* weights_layout);
  Status lower_conv(NodeId id);
  Status lower_conv_transpose(NodeId id);
  // ConvTranspose as stride_h * stride_w phase convolutions over the input and an interleave of
  // their outputs (instead of one convolution over the zero-inserted input). False: not applicable
  // (a phase without taps, or more than 8 phases per axis); the caller then inserts zeros.
  struct TransposePhases {
    uint32_t ti = 0, to = 0;  // NHWC input and output tensors
    TensorId y = kNoTensor;
    int8::Dims4 in, out;
    int64_t stride[2] = {1, 1}, dil[2] = {1, 1}, k[2] = {1, 1}, before[2] = {0, 0};
    int64_t group = 1, cout = 0, cin_g = 0;
    bool depthwise = false;
    const std::vector<uint8_t>* ohwi = nullptr;  // flipped kernel [cout][kh][kw][cin_g]
    const std::vector<int32_t>* bias = nullptr;
    const std::vector<FixedMultiplier>* mult = nullptr;
  };
  StatusOr<bool> lower_conv_transpose_phases(NodeId id, const TransposePhases& tp);
  // The phases of a group-1 ConvTranspose as ONE convolution with stride_h * stride_w * Cout output
  // channels over the union of their input windows (zero weights where a phase has no tap), then a
  // transpose that interleaves them (none for a 1-D stride). False: the windows do not align.
  template <typename PhaseT>
  StatusOr<bool> lower_conv_transpose_stacked(NodeId id, const TransposePhases& tp, const std::vector<PhaseT> (&phases)[2],
                                              const int64_t (&rows)[2]);
  // The shared tail of Conv and ConvTranspose: the kernel call on NHWC tensors ti -> to, weights
  // logical OHWI [cout][kh][kw][cin_g].
  struct ConvCall {
    int32_t kh = 1, kw = 1, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
    int32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    int32_t group = 1, cout = 0, cin_g = 0;
    bool depthwise = false;
  };
  void emit_conv(NodeId id, uint32_t ti, uint32_t to, TensorId y, const ConvCall& cc, std::vector<uint8_t> ohwi,
                 const std::vector<int32_t>& bias, const std::vector<FixedMultiplier>& mult);
  // Conv and ConvTranspose: checks of the quantization and the requantization per output channel
  // (weight scale of output channel c: wscale[c]).
  Status conv_requant(NodeId id, TensorId x, TensorId b, TensorId y, const std::vector<double>& wscale,
                      std::vector<int32_t>* bias, std::vector<FixedMultiplier>* mult);
  Status lower_fc(NodeId id);
  Status lower_batch_matmul(NodeId id);
  Status lower_reduce(NodeId id);
  Status lower_resize_linear(NodeId id);
  Status lower_pool(NodeId id);
  Status lower_binary(NodeId id);
  Status lower_unary(NodeId id);
  Status lower_prelu(NodeId id);
  Status lower_l2_norm(NodeId id);
  Status lower_softmax(NodeId id);
  Status lower_layer_norm(NodeId id);
  Status lower_where(NodeId id);
  Status lower_gather(NodeId id);
  // A reduce's output as the input's 4-D dims with the `axes_mask` axes set to 1 (keepdims=0
  // outputs have fewer dims): an alias when the output's own dims differ.
  uint32_t reduced_view(uint32_t input, uint32_t output, int32_t axes_mask);
  // The gather's geometry (outer, axis_dim, inner, count) checked and emitted as `op` (int8 or float).
  Status emit_gather(NodeId id, Opcode op);
  Status lower_recurrent(NodeId id);
  Status lower_pad(NodeId id);
  Status lower_slice(NodeId id, TensorId x, TensorId y, const std::vector<int64_t>& begin);
  Status lower_slice_node(NodeId id);
  Status lower_split(NodeId id);
  Status lower_concat(NodeId id);
  Status lower_transpose(NodeId id);
  Status lower_transpose_by_moves(NodeId id, const std::vector<std::vector<size_t>>& groups,
                                  const std::vector<int64_t>& inv);
  Status lower_copy(NodeId id);
  Status lower_resize(NodeId id);

  Status setup_boundary();

  // ---- float kernel calls (opcodes 48-63, 76-84): ops a program keeps in float ----
  // A node that computes in float: not Quantize/Dequantize, and a runtime operand is float32.
  bool is_float_node(NodeId id) const;
  Status lower_quantize(NodeId id);  // QuantizeLinear / DequantizeLinear inside a program
  Status lower_float(NodeId id);
  Status lower_float_binary(NodeId id);
  Status lower_float_unary(NodeId id);
  Status lower_float_softmax(NodeId id);
  Status lower_float_gemm(NodeId id);
  Status lower_float_conv(NodeId id);
  Status lower_float_recurrent(NodeId id);
  Status lower_float_pool(NodeId id);
  Status lower_float_reduce(NodeId id);
  Status lower_float_resize(NodeId id);
  Status lower_float_layer_norm(NodeId id);
  Status lower_float_batch_matmul(NodeId id);
  Status lower_float_where(NodeId id);
  Status lower_float_gather(NodeId id);
  Status lower_cast(NodeId id);
  Status lower_expand(NodeId id);
  // A constant float32 operand of a float kernel call as a weights blob.
  StatusOr<uint32_t> float_blob(NodeId id, TensorId t, const char* purpose, int64_t count);

  const Graph& g_;
  const LowerOptions& opt_;
  KernelProgram& p_;
  std::vector<int32_t> map_;        // IR TensorId -> program tensor
  std::vector<NodeId> nodes_;       // in execution order
  std::vector<TensorId> inputs_, outputs_;  // the program's boundary
  std::vector<bool> skipped_;       // nodes absorbed by the boundary (CPU format conversion)
  std::vector<char> index_;         // IR tensors held as plain integers (int32/int64): Gather indices, Cast operands
  // Per node: the requantizing Clip folded into this max pool (-1: none). See fold_requantizations().
  std::vector<NodeId> folded_;
  void fold_requantizations();
};

StatusOr<Dims> Lowering::dims_of(NodeId id, TensorId t) const {
  Shape s = g_.tensor(t).shape;
  for (int64_t v : s) {
    CHECK_OR_RETURN(v != 0, Error::NotSupported, where(id), ": tensor '", g_.tensor(t).name, "' ",
                    shape_str(g_.tensor(t).shape), " is empty; program files hold no empty tensors (an empty slice "
                    "is supported only as a Concat input, which is dropped)");
    CHECK_OR_RETURN(v >= 1 && v <= kMaxDim, Error::NotSupported, where(id), ": tensor '", g_.tensor(t).name, "' ",
                    shape_str(g_.tensor(t).shape), " has a dimension outside [1, 2^24]");
  }
  // Rank above 4: 1s dropped (leading ones first), then leading dims merged. Memory order is kept,
  // so element-wise ops and copies see the same bytes; ops that read axes fold their own views
  // (fold_axes) or refuse (check_rank4_or_leading_ones).
  while (s.size() > 4 && s[0] == 1) s.erase(s.begin());
  for (size_t i = 0; s.size() > 4 && i < s.size();) {
    if (s[i] == 1) {
      s.erase(s.begin() + std::ptrdiff_t(i));
    } else {
      ++i;
    }
  }
  while (s.size() > 4) {
    s[1] *= s[0];
    s.erase(s.begin());
    CHECK_OR_RETURN(s[0] <= kMaxDim, Error::NotSupported, where(id), ": tensor '", g_.tensor(t).name, "' ",
                    shape_str(g_.tensor(t).shape), " folds to a dimension above 2^24");
  }
  Dims d{{1, 1, 1, 1}};
  for (size_t i = 0; i < s.size(); ++i) d[4 - s.size() + i] = int32_t(s[i]);
  return d;
}

Status Lowering::fold_axes(NodeId id, const std::vector<Shape>& shapes,
                           const std::function<bool(size_t, size_t)>& can_merge, std::vector<Dims>* folded,
                           std::vector<std::vector<size_t>>* groups, size_t max_groups) const {
  const size_t rank = shapes.front().size();
  Shape full(rank, 1);
  for (const Shape& s : shapes)
    for (size_t i = 0; i < rank; ++i) full[i] = std::max(full[i], s[i]);
  const auto bcast = [&](const Shape& s, size_t i) { return s[i] == 1 && full[i] != 1; };
  groups->clear();
  for (size_t i = 0; i < rank; ++i) {
    if (full[i] == 1) continue;  // 1 in every tensor
    if (!groups->empty()) {
      const size_t j = groups->back().back();
      bool ok = can_merge(j, i);
      for (const Shape& s : shapes) ok = ok && bcast(s, j) == bcast(s, i);
      if (ok) {
        groups->back().push_back(i);
        continue;
      }
    }
    groups->push_back({i});
  }
  size_t non_unit = 0;
  for (int64_t v : full) non_unit += v != 1;
  CHECK_OR_RETURN(max_groups == 0 || groups->size() <= max_groups, Error::NotSupported, describe(g_, id), ": ",
                  op_kind_name(g_.node(id).kind), " over rank ", rank, " (", non_unit, " dimensions that are not 1, ",
                  shape_str(full), ") does not fold to 4 dimensions");
  folded->clear();
  if (groups->size() > 4) return Status::OK();
  for (const Shape& s : shapes) {
    Dims d{{1, 1, 1, 1}};
    const size_t lead = 4 - groups->size();
    for (size_t k = 0; k < groups->size(); ++k) {
      int64_t v = 1;
      for (size_t i : (*groups)[k]) v *= s[i];
      CHECK_OR_RETURN(v <= kMaxDim, Error::NotSupported, describe(g_, id), ": folded dimension above 2^24");
      d[lead + k] = int32_t(v);
    }
    folded->push_back(d);
  }
  return Status::OK();
}

StatusOr<uint32_t> Lowering::tensor(NodeId id, TensorId t) {
  if (map_[size_t(t)] >= 0) return uint32_t(map_[size_t(t)]);
  const Tensor& x = g_.tensor(t);
  if ((x.dtype == DType::I32 || x.dtype == DType::I64) && size_t(t) < index_.size() && index_[size_t(t)]) {
    // Gather indices (token ids): integers as they are, zero point 0.
    ASSIGN_OR_RETURN(Dims d, dims_of(id, t));
    ProgramTensor pt;
    pt.name = x.name;
    pt.dims = d;
    pt.elem = x.dtype == DType::I64 ? npu::ElemType::kInt64 : npu::ElemType::kInt32;
    if (x.is_constant()) {
      pt.region = Region::kWeights;
      ConstBlob b;
      b.name = x.name;
      b.kind = BlobKind::kConstant;
      b.data.assign(x.data->bytes.begin(), x.data->bytes.end());
      p_.blobs.push_back(std::move(b));
      pt.blob = int32_t(p_.blobs.size() - 1);
    }
    const uint32_t i = add_tensor(std::move(pt));
    map_[size_t(t)] = int32_t(i);
    return i;
  }
  if (x.dtype == DType::Bool && x.is_constant()) {
    // A constant condition (where_f32): one byte per element, 0 or 1.
    ASSIGN_OR_RETURN(Dims d, dims_of(id, t));
    ProgramTensor pt;
    pt.name = x.name;
    pt.dims = d;
    pt.elem = npu::ElemType::kUint8;
    pt.region = Region::kWeights;
    ConstBlob b;
    b.name = x.name;
    b.kind = BlobKind::kConstant;
    b.data.assign(x.data->bytes.begin(), x.data->bytes.end());
    p_.blobs.push_back(std::move(b));
    pt.blob = int32_t(p_.blobs.size() - 1);
    const uint32_t i = add_tensor(std::move(pt));
    map_[size_t(t)] = int32_t(i);
    return i;
  }
  if (x.dtype == DType::F32 && !x.is_quantized()) {
    // A float kernel call's operand (or the float side of a Quantize / Dequantize call).
    ASSIGN_OR_RETURN(Dims d, dims_of(id, t));
    ProgramTensor pt;
    pt.name = x.name;
    pt.dims = d;
    pt.elem = npu::ElemType::kFloat32;
    if (x.is_constant()) {
      pt.region = Region::kWeights;
      ConstBlob b;
      b.name = x.name;
      b.kind = BlobKind::kFloat32;
      b.data.assign(x.data->bytes.begin(), x.data->bytes.end());
      p_.blobs.push_back(std::move(b));
      pt.blob = int32_t(p_.blobs.size() - 1);
    }
    const uint32_t i = add_tensor(std::move(pt));
    map_[size_t(t)] = int32_t(i);
    return i;
  }
  CHECK_OR_RETURN(x.dtype == DType::I8 && x.is_quantized() && !x.quant.per_axis(), Error::NotSupported, where(id),
                  ": tensor '", x.name, "' must be int8 with per-tensor quantization on the NPU, got ",
                  dtype_name(x.dtype), x.is_quantized() ? (x.quant.per_axis() ? " (per-axis)" : "") : " (not quantized)");
  ASSIGN_OR_RETURN(Dims d, dims_of(id, t));
  ProgramTensor pt;
  pt.name = x.name;
  pt.dims = d;
  pt.zero_point = x.quant.zero_point[0];
  if (x.is_constant()) {
    pt.region = Region::kWeights;
    ConstBlob b;
    b.name = x.name;
    b.kind = BlobKind::kConstant;
    b.data.assign(x.data->bytes.begin(), x.data->bytes.end());
    p_.blobs.push_back(std::move(b));
    pt.blob = int32_t(p_.blobs.size() - 1);
  }
  const uint32_t i = add_tensor(std::move(pt));
  map_[size_t(t)] = int32_t(i);
  return i;
}

// Boundary tensors: the partition's inputs and outputs in the input and output regions, in graph
// order. Without format conversion on the NPU, a Transpose NCHW -> NHWC that is an input's only
// reader (or NHWC -> NCHW that produces an output) is dropped and the IO flagged channels-last.
Status Lowering::setup_boundary() {
  const auto consumers = g_.consumers();
  skipped_.assign(g_.num_nodes(), false);
  p_.num_inputs = int(inputs_.size());
  p_.num_outputs = int(outputs_.size());
  CHECK_OR_RETURN(p_.num_inputs <= 255 && p_.num_outputs <= 255, Error::NotSupported, "partition '", g_.name,
                  "' has ", p_.num_inputs, " inputs and ", p_.num_outputs, " outputs; the payload header holds 255 each");
  p_.io.num_input_args = p_.num_inputs;
  p_.io.input_flags.assign(size_t(p_.num_inputs), 0);
  p_.io.output_flags.assign(size_t(p_.num_outputs), 0);
  for (int i = 0; i < p_.num_inputs; ++i) p_.io.input_map.push_back(uint8_t(i));
  for (int j = 0; j < p_.num_outputs; ++j) p_.io.output_map.push_back(uint8_t(j));

  auto is_perm = [](const Node& n, std::vector<int64_t> perm) {
    return n.kind == OpKind::Transpose && n.attrs.get_ints("perm") == perm;
  };
  for (int i = 0; i < p_.num_inputs; ++i) {
    const TensorId t = inputs_[size_t(i)];
    TensorId stored = t;
    const auto& cons = consumers[size_t(t)];
    if (!opt_.use_neutron_for_format_conversion && cons.size() == 1 && !g_.is_graph_output(t) &&
        is_perm(g_.node(cons[0]), {0, 2, 3, 1}) && !g_.is_graph_output(g_.node(cons[0]).outputs[0])) {
      stored = g_.node(cons[0]).outputs[0];
      skipped_[size_t(cons[0])] = true;
      p_.io.input_flags[size_t(i)] = 1;
    }
    ASSIGN_OR_RETURN(uint32_t k, tensor(-1, stored));
    p_.tensors[k].region = Region::kInput;
    p_.tensors[k].io_index = uint16_t(i);
    if (stored != t) map_[size_t(t)] = int32_t(k);  // the dropped transpose's input
  }
  for (int j = 0; j < p_.num_outputs; ++j) {
    const TensorId t = outputs_[size_t(j)];
    const NodeId prod = g_.tensor(t).producer;
    if (map_[size_t(t)] >= 0) continue;  // an input, or an output listed twice: copied in run()
    TensorId stored = t;
    if (!opt_.use_neutron_for_format_conversion && prod >= 0 && is_perm(g_.node(prod), {0, 3, 1, 2})) {
      const TensorId x = g_.node(prod).inputs[0];
      if (map_[size_t(x)] < 0 && !g_.is_graph_output(x) && g_.tensor(x).producer >= 0) {
        stored = x;
        skipped_[size_t(prod)] = true;
        p_.io.output_flags[size_t(j)] = 1;
      }
    }
    ASSIGN_OR_RETURN(uint32_t k, tensor(-1, stored));
    p_.tensors[k].region = Region::kOutput;
    p_.tensors[k].io_index = uint16_t(j);
    if (stored != t) map_[size_t(t)] = int32_t(k);
  }
  return Status::OK();
}

Status Lowering::run() {
  p_.name = g_.name;
  CHECK_OR_RETURN(g_.num_nodes() > 0 && !g_.live_nodes().empty(), Error::InvalidArgument, "partition '", g_.name,
                  "' has no nodes");
  index_.assign(g_.num_tensors(), 0);
  for (NodeId id : nodes_) {
    const Node& n = g_.node(id);
    if (n.kind == OpKind::Gather && n.inputs.size() == 2 && n.inputs[1] != kNoTensor) index_[size_t(n.inputs[1])] = 1;
    if (n.kind == OpKind::Cast)
      for (const auto* ts : {&n.inputs, &n.outputs})
        for (TensorId t : *ts)
          if (t != kNoTensor) index_[size_t(t)] = 1;
  }
  RETURN_IF_ERROR(setup_boundary());
  fold_requantizations();
  for (NodeId id : nodes_) {
    if (skipped_[size_t(id)]) continue;
    RETURN_IF_ERROR(lower_node(id));
  }
  // A graph output that is also a graph input (a partition that passes a tensor through), or that
  // is listed twice: copied into its output buffer.
  for (int j = 0; j < p_.num_outputs; ++j) {
    const TensorId t = outputs_[size_t(j)];
    const uint32_t src = uint32_t(map_[size_t(t)]);
    if (p_.tensors[src].region == Region::kOutput && p_.tensors[src].io_index == j) continue;
    ProgramTensor o = p_.tensors[src];
    o.region = Region::kOutput;
    o.io_index = uint16_t(j);
    o.offset = 0;
    o.alias_of = -1;
    o.blob = -1;
    const uint32_t dst = add_tensor(std::move(o));
    KernelCall c;
    c.op = Opcode::kCopy;
    c.origin = "output" + std::to_string(j);
    c.args = to_words(npu::CopyArgs{src, dst});
    c.reads = {src};
    c.writes = {dst};
    p_.calls.push_back(std::move(c));
  }
  CHECK_OR_RETURN(!p_.calls.empty(), Error::InvalidArgument, "partition '", g_.name, "' lowers to no kernel calls");
  return Status::OK();
}

// A max pool whose only reader is a requantizing Clip (fold-qdq's unbounded Clip, e.g. before a
// Pad with its own parameters) writes the requantized values itself: max commutes with the
// monotone requantization, so pool(q) requantized by the pool's multiplier equals the Clip's table
// applied to pool(q) wherever the multiplier and the table agree on all 256 values, which is
// checked here; otherwise nothing is folded. One kernel call instead of two, the same bytes. Only
// inside a lowered region (NPU partition, CPU group); a lone node (the host) keeps both calls.
void Lowering::fold_requantizations() {
  folded_.assign(g_.num_nodes(), -1);
  if (nodes_.size() < 2) return;
  std::vector<char> here(g_.num_nodes(), 0);
  for (NodeId id : nodes_) here[size_t(id)] = 1;
  const auto consumers = g_.consumers();
  const auto per_tensor_int8 = [&](TensorId t) {
    const Tensor& x = g_.tensor(t);
    return x.dtype == DType::I8 && x.is_quantized() && !x.quant.per_axis() && !x.is_constant();
  };
  const auto no_act = [](const Node& n) {
    return !n.attrs.has("act_min") && !n.attrs.has("act_max") && n.attrs.get_int("act_relu", 0) == 0;
  };
  for (NodeId id : nodes_) {
    const Node& n = g_.node(id);
    if ((n.kind != OpKind::MaxPool && n.kind != OpKind::GlobalMaxPool) || skipped_[size_t(id)] || n.outputs.size() != 1 ||
        n.inputs.empty() || !no_act(n))
      continue;
    const TensorId x = n.input(0), y = n.outputs[0];
    if (map_[size_t(y)] >= 0 || g_.is_graph_output(y) || consumers[size_t(y)].size() != 1) continue;
    const NodeId c = consumers[size_t(y)][0];
    const Node& cn = g_.node(c);
    if (!here[size_t(c)] || skipped_[size_t(c)] || cn.kind != OpKind::Clip || cn.outputs.size() != 1 || !no_act(cn) ||
        std::isfinite(cn.attrs.get_float("min", -INFINITY)) || std::isfinite(cn.attrs.get_float("max", INFINITY)))
      continue;
    const TensorId z = cn.outputs[0];
    if (!per_tensor_int8(x) || !per_tensor_int8(y) || !per_tensor_int8(z) || g_.tensor(x).quant != g_.tensor(y).quant ||
        g_.tensor(y).quant == g_.tensor(z).quant || g_.tensor(y).shape != g_.tensor(z).shape)
      continue;
    auto up = int8::unary_params(g_, c);
    FixedMultiplier m;
    if (!up.ok() || !int8::make_multiplier(g_, id, int8::scale_of(g_, y) / int8::scale_of(g_, z), "s_in / s_out", &m).ok())
      continue;
    int8_t table[256];
    build_unary_int8_table(up.value(), int8::scale_of(g_, y), int8::zero_point_of(g_, y), int8::scale_of(g_, z),
                           int8::zero_point_of(g_, z), table, -128, 127);
    bool exact = true;
    for (int v = -128; v < 128 && exact; ++v)
      exact = table[v + 128] == requantize_to_int8(v - int8::zero_point_of(g_, y), m, int8::zero_point_of(g_, z));
    if (!exact) continue;
    folded_[size_t(id)] = c;
    skipped_[size_t(c)] = true;
  }
}

Status Lowering::lower_node(NodeId id) {
  const Node& n = g_.node(id);
  if (n.kind == OpKind::Cast) {  // float or integer on both sides: a CPU kernel call either way
    CHECK_OR_RETURN(opt_.float_kernel_calls, Error::NotSupported, describe(g_, id),
                    ": Cast runs as a CPU kernel call; the NPU has no Cast");
    return lower_cast(id);
  }
  if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear || is_float_node(id)) {
    CHECK_OR_RETURN(opt_.float_kernel_calls, Error::NotSupported, describe(g_, id),
                    ": computes in float; the NPU runs int8 ops only (float ops run as CPU kernel calls)");
    return n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear ? lower_quantize(id) : lower_float(id);
  }
  switch (n.kind) {
    // Element-wise ops, copies and Softmax (which reads its axis from the IR shape) take any rank
    // (dims_of keeps memory order); binary, pad, transpose and reduce fold rank above 4 themselves.
    case OpKind::Conv:
    case OpKind::Gemm:
    case OpKind::MatMul:
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool:
    case OpKind::Resize:
      for (const auto* ts : {&n.inputs, &n.outputs})
        for (TensorId t : *ts)
          if (t != kNoTensor && !g_.tensor(t).is_constant()) RETURN_IF_ERROR(check_rank4_or_leading_ones(id, t));
      break;
    default:
      break;
  }
  switch (n.kind) {
    case OpKind::Conv: return lower_conv(id);
    case OpKind::ConvTranspose: return lower_conv_transpose(id);
    case OpKind::Gemm: return lower_fc(id);
    case OpKind::MatMul: {
      const TensorId b = n.inputs.size() > 1 ? n.input(1) : kNoTensor;
      return b != kNoTensor && !g_.tensor(b).is_constant() ? lower_batch_matmul(id) : lower_fc(id);
    }
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool: return lower_pool(id);
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Max:
    case OpKind::Min: return lower_binary(id);
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish:
    case OpKind::Tanh:
    case OpKind::Abs:
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sqrt:
    case OpKind::Reciprocal:
    case OpKind::Erf:
    case OpKind::Gelu:
    case OpKind::Pow: return lower_unary(id);
    case OpKind::PRelu: return lower_prelu(id);
    case OpKind::LpNormalization: return lower_l2_norm(id);
    case OpKind::Softmax: return lower_softmax(id);
    case OpKind::LayerNormalization: return lower_layer_norm(id);
    case OpKind::Where: return lower_where(id);
    case OpKind::Gather: return lower_gather(id);
    case OpKind::Expand: return lower_expand(id);
    case OpKind::GRU:
    case OpKind::LSTM: return lower_recurrent(id);
    case OpKind::Pad: return lower_pad(id);
    case OpKind::Slice: return lower_slice_node(id);
    case OpKind::Split: return lower_split(id);
    case OpKind::Concat: return lower_concat(id);
    case OpKind::Transpose: return lower_transpose(id);
    case OpKind::Reshape:
    case OpKind::Identity:
    case OpKind::Dropout: return lower_copy(id);
    case OpKind::Resize:
      return n.attrs.get_string("mode", "nearest") == "linear" ? lower_resize_linear(id) : lower_resize(id);
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceSum: return lower_reduce(id);
    default:
      return error(Error::NotSupported, describe(g_, id), ": no int8 lowering for ", op_kind_name(n.kind));
  }
}

// ---------------------------------------------------------------------------------------------
// The operands Conv and ConvTranspose check alike: per-tensor int8 input and output, constant int8
// 4-D weights (`weights_layout` names their ONNX layout in the error), channels-last unless the
// caller transposes NCHW, both NHWC shapes and the group count.

StatusOr<Lowering::ConvOperands> Lowering::conv_operands(NodeId id, const char* weights_layout) {
  const Node& n = g_.node(id);
  ConvOperands o;
  o.x = n.input(0);
  o.b = n.input(2);
  o.y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  const TensorId w = n.input(1);
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, o.x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, o.y, "output"));
  CHECK_OR_RETURN(w != kNoTensor, Error::InvalidModel, describe(g_, id), ": missing weights");
  const Tensor& wt = g_.tensor(w);
  CHECK_OR_RETURN(wt.is_constant() && wt.dtype == DType::I8 && wt.is_quantized() && wt.shape.size() == 4,
                  Error::NotSupported, describe(g_, id), ": weights '", wt.name, "' must be a constant int8 ",
                  weights_layout, " tensor with quantization parameters");
  o.wt = &wt;
  o.channels_last = n.attrs.get_int("channels_last", 0) != 0;
  CHECK_OR_RETURN(o.channels_last || opt_.transpose_nchw, Error::NotSupported, describe(g_, id), ": the NPU runs ",
                  op_kind_name(n.kind), " channels-last; run layout-nhwc on the partition first");
  ASSIGN_OR_RETURN(o.in, int8::spatial_dims(g_, id, o.x, o.channels_last));
  ASSIGN_OR_RETURN(o.out, int8::spatial_dims(g_, id, o.y, o.channels_last));
  o.group = n.attrs.get_int("group", 1);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Conv: Conv2D (groups >= 1) or DepthwiseConv2D (groups == in_c, out_c a multiple of in_c: the
// CPU kernel's depthwise path), NHWC. Weights OIHW -> [O][KH][KW][I/groups], padded to num_macs
// (depthwise: I/groups = 1 is not padded: its MACs run along the output channels).

Status Lowering::lower_conv(NodeId id) {
  const Node& n = g_.node(id);
  ASSIGN_OR_RETURN(ConvOperands ops, conv_operands(id, "OIHW"));
  const TensorId x = ops.x, b = ops.b, y = ops.y;
  const Tensor& wt = *ops.wt;
  const bool channels_last = ops.channels_last;
  const int8::Dims4 in = ops.in, out = ops.out;
  const int64_t group = ops.group;
  const int64_t cout = wt.shape[0], cin_g = wt.shape[1], kh = wt.shape[2], kw = wt.shape[3];
  CHECK_OR_RETURN(group >= 1 && in.c % group == 0 && cout % group == 0 && cin_g * group == in.c && out.c == cout,
                  Error::InvalidModel, describe(g_, id), ": weights ", shape_str(wt.shape), " with group ", group,
                  " do not fit input channels ", in.c, " and output channels ", out.c);
  const QuantParams& wq = wt.quant;
  CHECK_OR_RETURN(!wq.per_axis() || (wq.axis == 0 && int64_t(wq.scale.size()) == cout), Error::NotSupported,
                  describe(g_, id), ": weights '", wt.name, "' must be quantized per tensor or per output channel");
  for (int32_t z : wq.zero_point)
    CHECK_OR_RETURN(z == 0, Error::NotSupported, describe(g_, id), ": weights '", wt.name, "' have zero point ", z,
                    "; the NPU needs symmetric weights");
  const std::vector<int64_t> st = n.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> dl = n.attrs.get_ints("dilations", {1, 1});
  const std::vector<int64_t> pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
  CHECK_OR_RETURN(st.size() == 2 && dl.size() == 2 && pads.size() == 4, Error::NotSupported, describe(g_, id),
                  ": the NPU Conv is 2-D only");
  const bool depthwise = group > 1 && group == in.c && cout % in.c == 0;

  std::vector<double> wscale(static_cast<size_t>(cout));
  for (int64_t c = 0; c < cout; ++c) wscale[size_t(c)] = double(wq.scale[wq.per_axis() ? size_t(c) : 0]);
  std::vector<int32_t> bias;
  std::vector<FixedMultiplier> mult;
  RETURN_IF_ERROR(conv_requant(id, x, b, y, wscale, &bias, &mult));

  // OIHW -> OHWI (logical; pack-weights pads the channels).
  const int8_t* src = wt.data->data<int8_t>();
  std::vector<uint8_t> ohwi(size_t(cout * kh * kw * cin_g));
  const size_t taps = size_t(kh * kw), cin = size_t(cin_g);
  for (size_t o = 0; o < size_t(cout) && !opt_.check_only; ++o) {
    const int8_t* so = src + o * cin * taps;  // [I][KH][KW]
    uint8_t* d = &ohwi[o * taps * cin];       // [KH][KW][I]
    for (size_t i = 0; i < cin; ++i)
      for (size_t t = 0; t < taps; ++t) d[t * cin + i] = uint8_t(so[i * taps + t]);
  }

  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, x));
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, y));
  const uint32_t y_nchw = to;
  if (!channels_last) {
    ti = to_nhwc(id, ti, in);
    to = nhwc_temp(id, to, out);
  }
  ConvCall cc;
  cc.kh = int32_t(kh);
  cc.kw = int32_t(kw);
  cc.stride_h = int32_t(st[0]);
  cc.stride_w = int32_t(st[1]);
  cc.dil_h = int32_t(dl[0]);
  cc.dil_w = int32_t(dl[1]);
  cc.pad_top = int32_t(pads[0]);
  cc.pad_left = int32_t(pads[1]);
  cc.pad_bottom = int32_t(pads[2]);
  cc.pad_right = int32_t(pads[3]);
  cc.group = int32_t(group);
  cc.cout = int32_t(cout);
  cc.cin_g = int32_t(cin_g);
  cc.depthwise = depthwise;
  emit_conv(id, ti, to, y, cc, std::move(ohwi), bias, mult);
  if (!channels_last) from_nhwc(id, to, y_nchw);
  return Status::OK();
}

Status Lowering::conv_requant(NodeId id, TensorId x, TensorId b, TensorId y, const std::vector<double>& wscale,
                              std::vector<int32_t>* bias, std::vector<FixedMultiplier>* mult) {
  // Requantization: s_in * s_w[c] / s_out per output channel, bias in accumulator units.
  const double sx = int8::scale_of(g_, x), sy = int8::scale_of(g_, y);
  const size_t cout = wscale.size();
  std::vector<double> acc_scale(cout);
  mult->assign(cout, FixedMultiplier{});
  for (size_t c = 0; c < cout; ++c) {
    acc_scale[c] = sx * wscale[c];
    RETURN_IF_ERROR(int8::make_multiplier(g_, id, acc_scale[c] / sy, str_cat("s_in * s_w[", c, "] / s_out"),
                                          &(*mult)[c]));
  }
  bias->assign(cout, 0);
  if (b != kNoTensor) RETURN_IF_ERROR(int8::bias_to_accumulator_units(g_, id, b, acc_scale, 1.0, bias));
  return Status::OK();
}

void Lowering::emit_conv(NodeId id, uint32_t ti, uint32_t to, TensorId y, const ConvCall& cc, std::vector<uint8_t> ohwi,
                         const std::vector<int32_t>& bias, const std::vector<FixedMultiplier>& mult) {
  npu::ConvArgs a{};
  a.input = ti;
  a.output = to;
  a.kernel_h = cc.kh;
  a.kernel_w = cc.kw;
  a.stride_h = cc.stride_h;
  a.stride_w = cc.stride_w;
  a.dilation_h = cc.dil_h;
  a.dilation_w = cc.dil_w;
  a.pad_top = cc.pad_top;
  a.pad_left = cc.pad_left;
  a.pad_bottom = cc.pad_bottom;
  a.pad_right = cc.pad_right;
  a.groups = cc.group;
  const int32_t pad_i = cc.depthwise ? 1 : opt_.channel_multiple;
  a.in_c_padded = round_up(cc.cin_g, pad_i);
  a.out_c_padded = round_up(cc.cout, opt_.channel_multiple);
  int8::fused_activation_range(g_, id, y, &a.act_min, &a.act_max);
  a.tile_rows = 0;

  const uint32_t wb = add_blob(id, "weights", BlobKind::kConvWeights, std::move(ohwi));
  p_.blobs[wb].dims = {cc.cout, cc.kh, cc.kw, cc.cin_g};
  p_.blobs[wb].pad_o = opt_.channel_multiple;
  p_.blobs[wb].pad_i = pad_i;
  const uint32_t bb = add_blob(id, "bias", BlobKind::kBias, to_bytes(bias));
  const uint32_t mb = add_blob(id, "multipliers", BlobKind::kMultipliers, to_bytes(mult));
  KernelCall& c = call(cc.depthwise ? Opcode::kDepthwiseConv2D : Opcode::kConv2D, id, a, {ti}, {to});
  ref(c, WORD_OF(ConvArgs, weights_offset), wb);
  ref(c, WORD_OF(ConvArgs, bias_offset), bb);
  ref(c, WORD_OF(ConvArgs, multipliers_offset), mb);
}

// ---------------------------------------------------------------------------------------------
// ConvTranspose: zero insertion, then a stride-1 Conv with the flipped, transposed kernel, so any
// stride runs on the Conv kernels (no stride limit) with the same integers as a direct scatter:
//   y[o] = sum_{i, k: o = i*s - p + k*d} x[i] w[k]  =  conv(u, w[K-1-k]) with u[i*s] = x[i], else 0
// Zero insertion along W: x viewed [1, N*H*W, 1, C], a Pad of s_w - 1 zero-point columns after each
// pixel, viewed [N, H, W*s_w, C]; along H likewise on whole rows. The conv's padding is
// d*(K-1) - pad_begin before and d*(K-1) - pad_end + output_padding - (s - 1) after (the s - 1
// trailing inserted zeros are already there); a negative one becomes a Slice of the zero-inserted
// input. Weights [Cin, Cout/g, kH, kW] -> OHWI [Cout][kH][kW][Cin/g], flipped. The zero point
// stands for the real 0, so inserted and padded positions add nothing to the accumulators.

Status Lowering::lower_conv_transpose(NodeId id) {
  const Node& n = g_.node(id);
  ASSIGN_OR_RETURN(ConvOperands ops, conv_operands(id, "[Cin, Cout/group, kH, kW]"));
  const TensorId x = ops.x, b = ops.b, y = ops.y;
  const Tensor& wt = *ops.wt;
  const bool channels_last = ops.channels_last;
  const int8::Dims4 in = ops.in, out = ops.out;
  const int64_t group = ops.group;
  const int64_t cin = wt.shape[0], cout_g = wt.shape[1], kh = wt.shape[2], kw = wt.shape[3];
  CHECK_OR_RETURN(group >= 1 && cin == in.c && cin % group == 0 && cout_g * group == out.c, Error::InvalidModel,
                  describe(g_, id), ": weights ", shape_str(wt.shape), " with group ", group, " do not fit input channels ",
                  in.c, " and output channels ", out.c);
  const int64_t cout = out.c, cin_g = cin / group;
  // Per output channel: axis 1 with one group; axis 0 when each group has one output channel.
  const QuantParams& wq = wt.quant;
  CHECK_OR_RETURN(!wq.per_axis() || (wq.axis == 1 && int64_t(wq.scale.size()) == cout_g && group == 1) ||
                      (wq.axis == 0 && int64_t(wq.scale.size()) == cin && cout_g == 1 && cin_g == 1),
                  Error::NotSupported, describe(g_, id), ": weights '", wt.name,
                  "' must be quantized per tensor or per output channel");
  for (int32_t z : wq.zero_point)
    CHECK_OR_RETURN(z == 0, Error::NotSupported, describe(g_, id), ": weights '", wt.name, "' have zero point ", z,
                    "; the NPU needs symmetric weights");
  const std::vector<int64_t> st = n.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> dl = n.attrs.get_ints("dilations", {1, 1});
  const std::vector<int64_t> pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> op = n.attrs.get_ints("output_padding", {0, 0});
  CHECK_OR_RETURN(st.size() == 2 && dl.size() == 2 && pads.size() == 4 && op.size() == 2, Error::NotSupported,
                  describe(g_, id), ": the int8 ConvTranspose is 2-D only");
  for (int a = 0; a < 2; ++a)
    CHECK_OR_RETURN(st[size_t(a)] >= 1 && st[size_t(a)] <= 64 && dl[size_t(a)] >= 1 && op[size_t(a)] >= 0 &&
                        op[size_t(a)] < std::max(st[size_t(a)], dl[size_t(a)]),
                    Error::NotSupported, describe(g_, id), ": strides ", st, ", dilations ", dl, ", output_padding ", op,
                    ": output_padding must be below the stride or the dilation, strides within [1, 64]");
  // Conv geometry over the zero-inserted input [N, H*s_h, W*s_w, C].
  const int64_t zh = in.h * st[0], zw = in.w * st[1];
  CHECK_OR_RETURN(zh <= kMaxDim && zw <= kMaxDim && in.n * in.h * in.w <= kMaxDim && in.n * in.h * zw * in.c <= kMaxDim,
                  Error::NotSupported, describe(g_, id), ": the zero-inserted input is too large");
  int64_t before[2], after[2];
  for (int a = 0; a < 2; ++a) {
    const int64_t span = dl[size_t(a)] * ((a == 0 ? kh : kw) - 1);
    before[a] = span - pads[size_t(a)];
    after[a] = span - pads[size_t(a) + 2] + op[size_t(a)] - (st[size_t(a)] - 1);
  }
  const int64_t crop_h = std::max<int64_t>(0, -before[0]) + std::max<int64_t>(0, -after[0]);
  const int64_t crop_w = std::max<int64_t>(0, -before[1]) + std::max<int64_t>(0, -after[1]);
  CHECK_OR_RETURN(zh - crop_h >= 1 && zw - crop_w >= 1 &&
                      zh - crop_h + std::max<int64_t>(0, before[0]) + std::max<int64_t>(0, after[0]) -
                              dl[0] * (kh - 1) ==
                          out.h &&
                      zw - crop_w + std::max<int64_t>(0, before[1]) + std::max<int64_t>(0, after[1]) -
                              dl[1] * (kw - 1) ==
                          out.w,
                  Error::InvalidModel, describe(g_, id), ": output ", out.h, "x", out.w,
                  " does not follow from the attributes");

  std::vector<double> wscale(static_cast<size_t>(cout));
  for (int64_t c = 0; c < cout; ++c) {
    size_t k = 0;
    if (wq.per_axis()) k = wq.axis == 1 ? size_t(c % cout_g) : size_t(c);
    wscale[size_t(c)] = double(wq.scale[k]);
  }
  std::vector<int32_t> bias;
  std::vector<FixedMultiplier> mult;
  RETURN_IF_ERROR(conv_requant(id, x, b, y, wscale, &bias, &mult));

  // [Cin][Cout/g][kH][kW] -> OHWI [Cout][kH][kW][Cin/g], taps flipped.
  const int8_t* src = wt.data->data<int8_t>();
  std::vector<uint8_t> ohwi(size_t(cout * kh * kw * cin_g));
  for (int64_t gi = 0; gi < group && !opt_.check_only; ++gi)
    for (int64_t o = 0; o < cout_g; ++o)
      for (int64_t i = 0; i < cin_g; ++i)
        for (int64_t ky = 0; ky < kh; ++ky)
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t s = (((gi * cin_g + i) * cout_g + o) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx);
            const int64_t d = (((gi * cout_g + o) * kh + ky) * kw + kx) * cin_g + i;
            ohwi[size_t(d)] = uint8_t(src[s]);
          }

  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, x));
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, y));
  const uint32_t y_nchw = to;
  if (!channels_last) {
    ti = to_nhwc(id, ti, in);
    to = nhwc_temp(id, to, out);
  }
  const bool depthwise = group > 1 && group == in.c;
  if ((st[0] > 1 || st[1] > 1) && opt_.conv_transpose_phases && (!depthwise || opt_.conv_transpose_depthwise_phases)) {
    TransposePhases tp;
    tp.ti = ti;
    tp.to = to;
    tp.y = y;
    tp.in = in;
    tp.out = out;
    tp.group = group;
    tp.cout = cout;
    tp.cin_g = cin_g;
    tp.depthwise = depthwise;
    tp.ohwi = &ohwi;
    tp.bias = &bias;
    tp.mult = &mult;
    for (int a = 0; a < 2; ++a) {
      tp.stride[a] = st[size_t(a)];
      tp.dil[a] = dl[size_t(a)];
      tp.before[a] = before[a];
    }
    tp.k[0] = kh;
    tp.k[1] = kw;
    ASSIGN_OR_RETURN(const bool done, lower_conv_transpose_phases(id, tp));
    if (done) {
      if (!channels_last) from_nhwc(id, to, y_nchw);
      return Status::OK();
    }
  }
  const int32_t N = int32_t(in.n), H = int32_t(in.h), W = int32_t(in.w), C = int32_t(in.c);
  const int32_t sh = int32_t(st[0]), sw = int32_t(st[1]);
  const int32_t zp = p_.tensors[ti].zero_point;
  auto zero_insert = [&](uint32_t from, const Dims& view, const Dims& padded, const Dims& result, const char* what) {
    const uint32_t v = alias(from, view, std::string(".") + what + "_view");
    const uint32_t t = temp(id, what, padded, zp);
    npu::PadArgs pa{};
    pa.input = v;
    pa.output = t;
    pa.pad_after[2] = padded[2] - view[2];
    pa.mode = 0;
    pa.value = zp;
    call(Opcode::kPad, id, pa, {v}, {t});
    return alias(t, result, "_nhwc");
  };
  uint32_t u = ti;
  if (sw > 1) u = zero_insert(u, Dims{{1, N * H * W, 1, C}}, Dims{{1, N * H * W, sw, C}}, Dims{{N, H, W * sw, C}}, "zero_insert_w");
  const int32_t ZW = W * sw;
  if (sh > 1) u = zero_insert(u, Dims{{1, N * H, 1, ZW * C}}, Dims{{1, N * H, sh, ZW * C}}, Dims{{N, H * sh, ZW, C}}, "zero_insert_h");
  if (crop_h > 0 || crop_w > 0) {
    const Dims cropped{{N, int32_t(zh - crop_h), int32_t(zw - crop_w), C}};
    const uint32_t t = temp(id, "crop", cropped, zp);
    npu::SliceArgs sa{};
    sa.input = u;
    sa.output = t;
    sa.begin[1] = int32_t(std::max<int64_t>(0, -before[0]));
    sa.begin[2] = int32_t(std::max<int64_t>(0, -before[1]));
    call(Opcode::kSlice, id, sa, {u}, {t});
    u = t;
  }
  ConvCall cc;
  cc.kh = int32_t(kh);
  cc.kw = int32_t(kw);
  cc.dil_h = int32_t(dl[0]);
  cc.dil_w = int32_t(dl[1]);
  cc.pad_top = int32_t(std::max<int64_t>(0, before[0]));
  cc.pad_left = int32_t(std::max<int64_t>(0, before[1]));
  cc.pad_bottom = int32_t(std::max<int64_t>(0, after[0]));
  cc.pad_right = int32_t(std::max<int64_t>(0, after[1]));
  cc.group = int32_t(group);
  cc.cout = int32_t(cout);
  cc.cin_g = int32_t(cin_g);
  cc.depthwise = group > 1 && group == in.c;
  emit_conv(id, u, to, y, cc, std::move(ohwi), bias, mult);
  if (!channels_last) from_nhwc(id, to, y_nchw);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Gemm / MatMul with constant B: FullyConnected, out[M][N] = in[M][K] x W^T, W logical [N][K].

Status Lowering::lower_fc(NodeId id) {
  const Node& n = g_.node(id);
  const bool is_gemm = n.kind == OpKind::Gemm;
  const TensorId a = n.input(0), b = n.input(1), c = is_gemm ? n.input(2) : kNoTensor;
  const TensorId y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, a, "input A"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  CHECK_OR_RETURN(b != kNoTensor, Error::InvalidModel, describe(g_, id), ": missing input B");
  const Tensor& bt = g_.tensor(b);
  CHECK_OR_RETURN(bt.is_constant() && bt.dtype == DType::I8 && bt.is_quantized() && bt.shape.size() == 2,
                  Error::NotSupported, describe(g_, id), ": input B '", bt.name,
                  "' must be a constant rank-2 int8 tensor with quantization parameters (two activations: BatchMatMul "
                  "is not lowered)");
  const Shape& as = g_.tensor(a).shape;
  const bool trans_b = is_gemm && n.attrs.get_int("transB", 0) != 0;
  CHECK_OR_RETURN(!is_gemm || n.attrs.get_int("transA", 0) == 0, Error::NotSupported, describe(g_, id),
                  ": Gemm with transA=1 is not supported");
  const double alpha = is_gemm ? n.attrs.get_float("alpha", 1.0) : 1.0;
  const double beta = is_gemm ? n.attrs.get_float("beta", 1.0) : 1.0;
  CHECK_OR_RETURN(alpha > 0, Error::NotSupported, describe(g_, id), ": Gemm needs alpha > 0, got ", alpha);
  const int64_t K = trans_b ? bt.shape[1] : bt.shape[0];
  const int64_t N = trans_b ? bt.shape[0] : bt.shape[1];
  CHECK_OR_RETURN(!as.empty() && as.back() == K, Error::InvalidModel, describe(g_, id), ": A ", shape_str(as),
                  " does not fit B ", shape_str(bt.shape));
  const int64_t M = num_elements(as) / K;
  const QuantParams& bq = bt.quant;
  const int32_t n_axis = trans_b ? 0 : 1;
  CHECK_OR_RETURN(!bq.per_axis() || (bq.axis == n_axis && int64_t(bq.scale.size()) == N), Error::NotSupported,
                  describe(g_, id), ": B '", bt.name, "' must be quantized per tensor or per output column");
  for (int32_t z : bq.zero_point)
    CHECK_OR_RETURN(z == 0, Error::NotSupported, describe(g_, id), ": B '", bt.name, "' has zero point ", z,
                    "; the NPU needs symmetric weights");
  CHECK_OR_RETURN(M <= INT32_MAX && K <= INT32_MAX && N <= INT32_MAX, Error::NotSupported, describe(g_, id),
                  ": matrix too large");

  // Requantization: alpha * s_a * s_b[n] / s_out, bias scaled by beta.
  const double sa = int8::scale_of(g_, a), sy = int8::scale_of(g_, y);
  std::vector<double> acc_scale(static_cast<size_t>(N));
  std::vector<FixedMultiplier> mult(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j) {
    const double sb = bq.scale[bq.per_axis() ? size_t(j) : 0];
    acc_scale[size_t(j)] = alpha * sa * sb;
    RETURN_IF_ERROR(int8::make_multiplier(g_, id, acc_scale[size_t(j)] / sy, str_cat("alpha * s_a * s_b[", j, "] / s_out"),
                                          &mult[size_t(j)]));
  }
  std::vector<int32_t> bias(size_t(N), 0);
  if (c != kNoTensor && beta != 0) RETURN_IF_ERROR(int8::bias_to_accumulator_units(g_, id, c, acc_scale, beta, &bias));
  if (!bq.per_axis()) mult.resize(1);

  const int8_t* src = bt.data->data<int8_t>();
  std::vector<uint8_t> nk(size_t(N * K));
  for (int64_t j = 0; j < N && !opt_.check_only; ++j)
    for (int64_t k = 0; k < K; ++k) nk[size_t(j * K + k)] = uint8_t(trans_b ? src[j * K + k] : src[k * N + j]);

  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, a));
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, y));
  npu::FullyConnectedArgs f{};
  f.input = ti;
  f.output = to;
  f.rows = int32_t(M);
  f.in_features = int32_t(K);
  f.out_features = int32_t(N);
  f.in_features_padded = round_up(int32_t(K), opt_.channel_multiple);
  f.out_features_padded = round_up(int32_t(N), opt_.channel_multiple);
  f.per_channel = bq.per_axis() ? 1 : 0;
  int8::fused_activation_range(g_, id, y, &f.act_min, &f.act_max);
  const uint32_t wb = add_blob(id, "weights", BlobKind::kFcWeights, std::move(nk));
  p_.blobs[wb].dims = {int32_t(N), int32_t(K), 1, 1};
  p_.blobs[wb].pad_o = opt_.channel_multiple;
  p_.blobs[wb].pad_i = opt_.channel_multiple;
  const uint32_t bb = add_blob(id, "bias", BlobKind::kBias, to_bytes(bias));
  const uint32_t mb = add_blob(id, "multipliers", BlobKind::kMultipliers, to_bytes(mult));
  KernelCall& k = call(Opcode::kFullyConnected, id, f, {ti}, {to});
  ref(k, WORD_OF(FullyConnectedArgs, weights_offset), wb);
  ref(k, WORD_OF(FullyConnectedArgs, bias_offset), bb);
  ref(k, WORD_OF(FullyConnectedArgs, multipliers_offset), mb);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Pools, NHWC. GlobalMaxPool is a MaxPool2D over the whole plane.

Status Lowering::lower_pool(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0);
  // A requantizing Clip folded into the max pool: the pool writes the Clip's output directly.
  const TensorId y = n.outputs.empty()                      ? kNoTensor
                     : size_t(id) < folded_.size() && folded_[size_t(id)] >= 0 ? g_.node(folded_[size_t(id)]).outputs[0]
                                                                                 : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  CHECK_OR_RETURN(n.outputs.size() == 1, Error::NotSupported, describe(g_, id), ": MaxPool Indices are not supported");
  const bool channels_last = n.attrs.get_int("channels_last", 0) != 0;
  CHECK_OR_RETURN(channels_last || opt_.transpose_nchw, Error::NotSupported, describe(g_, id),
                  ": the NPU runs pools channels-last; run layout-nhwc on the partition first");
  ASSIGN_OR_RETURN(int8::Dims4 in, int8::spatial_dims(g_, id, x, channels_last));
  ASSIGN_OR_RETURN(int8::Dims4 out, int8::spatial_dims(g_, id, y, channels_last));
  CHECK_OR_RETURN(in.n == out.n && in.c == out.c, Error::InvalidModel, describe(g_, id), ": output ",
                  shape_str(g_.tensor(y).shape), " does not fit input ", shape_str(g_.tensor(x).shape));
  const double sx = int8::scale_of(g_, x), sy = int8::scale_of(g_, y);
  const bool global = n.kind == OpKind::GlobalMaxPool || n.kind == OpKind::GlobalAveragePool;

  npu::PoolArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  const uint32_t y_nchw = a.output;
  if (!channels_last) {
    a.input = to_nhwc(id, a.input, in);
    a.output = nhwc_temp(id, a.output, out);
  }
  a.stride_h = a.stride_w = 1;
  if (global) {
    CHECK_OR_RETURN(out.h == 1 && out.w == 1, Error::InvalidModel, describe(g_, id), ": output is not 1x1");
    a.kernel_h = int32_t(in.h);
    a.kernel_w = int32_t(in.w);
  } else {
    const std::vector<int64_t> ks = n.attrs.get_ints("kernel_shape");
    const std::vector<int64_t> st = n.attrs.get_ints("strides", {1, 1});
    const std::vector<int64_t> dl = n.attrs.get_ints("dilations", {1, 1});
    const std::vector<int64_t> pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
    CHECK_OR_RETURN(ks.size() == 2 && st.size() == 2 && dl.size() == 2 && pads.size() == 4, Error::NotSupported,
                    describe(g_, id), ": the NPU pools are 2-D only");
    CHECK_OR_RETURN(dl[0] == 1 && dl[1] == 1, Error::NotSupported, describe(g_, id),
                    ": the NPU pools have no dilation, got dilations ", dl);
    a.kernel_h = int32_t(ks[0]);
    a.kernel_w = int32_t(ks[1]);
    a.stride_h = int32_t(st[0]);
    a.stride_w = int32_t(st[1]);
    a.pad_top = int32_t(pads[0]);
    a.pad_left = int32_t(pads[1]);
    a.pad_bottom = int32_t(pads[2]);
    a.pad_right = int32_t(pads[3]);
    a.count_include_pad = n.attrs.get_int("count_include_pad", 0) != 0 ? 1 : 0;
  }
  int8::fused_activation_range(g_, id, y, &a.act_min, &a.act_max);
  Opcode op = Opcode::kMaxPool2D;
  int32_t blob = -1;
  switch (n.kind) {
    case OpKind::MaxPool:
    case OpKind::GlobalMaxPool:
      if (g_.tensor(x).quant != g_.tensor(y).quant) {
        FixedMultiplier m;
        RETURN_IF_ERROR(int8::make_multiplier(g_, id, sx / sy, "s_in / s_out", &m));
        a.multiplier = m.multiplier;
        a.shift = m.shift;
      }
      break;
    case OpKind::GlobalAveragePool: {
      op = Opcode::kGlobalAvgPool;
      const double count = double(in.h) * double(in.w);
      FixedMultiplier m;
      RETURN_IF_ERROR(int8::make_multiplier(g_, id, sx / (sy * count), "s_in / (s_out * H * W)", &m));
      a.multiplier = m.multiplier;
      a.shift = m.shift;
      break;
    }
    default: {
      op = Opcode::kAvgPool2D;
      const int32_t max_count = a.kernel_h * a.kernel_w;
      std::vector<FixedMultiplier> counts(size_t(max_count) + 1);
      for (int32_t c = 1; c <= max_count; ++c)
        RETURN_IF_ERROR(int8::make_multiplier(g_, id, sx / (sy * c), str_cat("s_in / (s_out * ", c, ")"),
                                              &counts[size_t(c)]));
      a.multiplier = counts[size_t(max_count)].multiplier;
      a.shift = counts[size_t(max_count)].shift;
      blob = int32_t(add_blob(id, "count_multipliers", BlobKind::kMultipliers, to_bytes(counts)));
      break;
    }
  }
  KernelCall& c = call(op, id, a, {a.input}, {a.output});
  if (blob >= 0) ref(c, WORD_OF(PoolArgs, multipliers_offset), uint32_t(blob));
  if (!channels_last) from_nhwc(id, a.output, y_nchw);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Add, Sub, Mul, Div, Max, Min with per-dimension broadcasting of the right-aligned 4-D dims.

Status Lowering::lower_binary(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId a = n.input(0), b = n.input(1), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, a, "input A"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, b, "input B"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  Dims da, db, dy;
  const size_t rank = std::max({g_.tensor(a).shape.size(), g_.tensor(b).shape.size(), g_.tensor(y).shape.size()});
  if (rank > 4) {
    // Rank above 4: the three shapes aligned (numpy broadcasting) and folded together.
    std::vector<Shape> shapes;
    for (TensorId t : {a, b, y}) {
      Shape sh = g_.tensor(t).shape;
      sh.insert(sh.begin(), rank - sh.size(), 1);
      shapes.push_back(sh);
    }
    std::vector<Dims> f;
    std::vector<std::vector<size_t>> groups;
    RETURN_IF_ERROR(fold_axes(id, shapes, [](size_t, size_t) { return true; }, &f, &groups));
    da = f[0];
    db = f[1];
    dy = f[2];
  } else {
    ASSIGN_OR_RETURN(da, dims_of(id, a));
    ASSIGN_OR_RETURN(db, dims_of(id, b));
    ASSIGN_OR_RETURN(dy, dims_of(id, y));
  }
  for (int k = 0; k < 4; ++k)
    CHECK_OR_RETURN((da[size_t(k)] == dy[size_t(k)] || da[size_t(k)] == 1) && (db[size_t(k)] == dy[size_t(k)] || db[size_t(k)] == 1),
                    Error::InvalidModel, describe(g_, id), ": ", shape_str(g_.tensor(a).shape), " and ",
                    shape_str(g_.tensor(b).shape), " do not broadcast to ", shape_str(g_.tensor(y).shape));
  const double sa = int8::scale_of(g_, a), sb = int8::scale_of(g_, b), sy = int8::scale_of(g_, y);
  const int32_t za = int8::zero_point_of(g_, a), zb = int8::zero_point_of(g_, b), zy = int8::zero_point_of(g_, y);

  npu::ElementwiseArgs e{};
  ASSIGN_OR_RETURN(e.a, tensor_as(id, a, da));
  ASSIGN_OR_RETURN(e.b, tensor_as(id, b, db));
  ASSIGN_OR_RETURN(e.output, tensor_as(id, y, dy));
  int8::fused_activation_range(g_, id, y, &e.act_min, &e.act_max);
  if (n.kind == OpKind::Div) {
    // Its own opcode: exact int64 division by b - zb (kernels/elementwise_int8.h).
    npu::DivArgs d{};
    d.a = e.a;
    d.b = e.b;
    d.output = e.output;
    d.act_min = e.act_min;
    d.act_max = e.act_max;
    FixedMultiplier m;
    RETURN_IF_ERROR(int8::make_multiplier(g_, id, sa / (sb * sy), "s_a / (s_b * s_out)", &m));
    d.multiplier = m.multiplier;
    d.shift = m.shift;
    call(Opcode::kDiv, id, d, {d.a, d.b}, {d.output});
    return Status::OK();
  }
  int32_t blob = -1;
  // The CPU kernel's parameters (prepare_binary_int8), read back into the args.
  BinaryInt8Op op;
  switch (n.kind) {
    case OpKind::Add: op = BinaryInt8Op::Add; e.op = int32_t(npu::ElementwiseOp::kAdd); break;
    case OpKind::Sub: op = BinaryInt8Op::Sub; e.op = int32_t(npu::ElementwiseOp::kSub); break;
    case OpKind::Mul: op = BinaryInt8Op::Mul; e.op = int32_t(npu::ElementwiseOp::kMul); break;
    case OpKind::Max: op = BinaryInt8Op::Max; e.op = int32_t(npu::ElementwiseOp::kMax); break;
    default: op = BinaryInt8Op::Min; e.op = int32_t(npu::ElementwiseOp::kMin); break;
  }
  auto bp = std::make_unique<BinaryInt8Params>();
  CHECK_OR_RETURN(prepare_binary_int8(op, sa, za, sb, zb, sy, zy, e.act_min, e.act_max, bp.get()), Error::NotSupported,
                  describe(g_, id), ": requantization multipliers outside the supported range [2^-32, 2^30) (s_a ", sa,
                  ", s_b ", sb, ", s_out ", sy, ")");
  switch (op) {
    case BinaryInt8Op::Add:
    case BinaryInt8Op::Sub: {
      FixedMultiplierPair m;
      CHECK_OR_RETURN(quantize_multiplier_pair(sa / sy, sb / sy, &m), Error::NotSupported, describe(g_, id),
                      ": multiplier pair outside the supported range");
      e.multiplier_a = m.multiplier_a;
      e.multiplier_b = m.multiplier_b;
      e.shift = m.shift;
      break;
    }
    case BinaryInt8Op::Mul:
      e.multiplier_a = bp->multiplier.multiplier;
      e.shift = bp->multiplier.shift;
      break;
    default: {
      std::vector<uint8_t> tables(512);
      for (int q = 0; q < 256; ++q) {
        tables[size_t(q)] = uint8_t(bp->table_a[q]);
        tables[size_t(256 + q)] = uint8_t(bp->table_b[q]);
      }
      blob = int32_t(add_blob(id, "tables", BlobKind::kTable, std::move(tables)));
      break;
    }
  }
  KernelCall& c = call(Opcode::kElementwise, id, e, {e.a, e.b}, {e.output});
  if (blob >= 0) ref(c, WORD_OF(ElementwiseArgs, table_offset), uint32_t(blob));
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Unary ops and requantizing Clip: a 256-entry table (kernels/unary_int8.h).

Status Lowering::lower_unary(NodeId id) {
  const Node& n = g_.node(id);
  ASSIGN_OR_RETURN(const UnaryParams up, int8::unary_params(g_, id));
  const TensorId x = n.input(0), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  CHECK_OR_RETURN(num_elements(g_.tensor(x).shape) == num_elements(g_.tensor(y).shape), Error::InvalidModel,
                  describe(g_, id), ": output does not match input");
  int32_t qmin, qmax;
  int8::fused_activation_range(g_, id, y, &qmin, &qmax);
  int8_t table[256];
  build_unary_int8_table(up, int8::scale_of(g_, x), int8::zero_point_of(g_, x), int8::scale_of(g_, y),
                         int8::zero_point_of(g_, y), table, qmin, qmax);
  npu::TableArgs t{};
  ASSIGN_OR_RETURN(t.input, tensor(id, x));
  ASSIGN_OR_RETURN(t.output, tensor(id, y));
  const uint32_t blob = add_blob(id, "table", BlobKind::kTable, std::vector<uint8_t>(table, table + 256));
  KernelCall& c = call(Opcode::kTable, id, t, {t.input}, {t.output});
  ref(c, WORD_OF(TableArgs, table_offset), blob);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization over the last axis (kernels/layer_norm_int8.h): Scale and B (int8 or float
// constants) folded into per-element doubles a = gamma / s_out, b = beta / s_out + z_out.

namespace {

// Real values of a constant (dequantized when quantized), broadcast over the last n elements.
StatusOr<std::vector<double>> row_values(const Graph& g, NodeId id, TensorId t, int64_t n, double fill) {
  std::vector<double> v(size_t(n), fill);
  if (t == kNoTensor) return v;
  const Tensor& c = g.tensor(t);
  CHECK_OR_RETURN(c.is_constant() && (c.dtype == DType::F32 || (c.dtype == DType::I8 && c.is_quantized() &&
                                                                  !c.quant.per_axis())),
                  Error::NotSupported, describe(g, id), ": Scale and B must be float or per-tensor int8 constants");
  const int64_t count = c.data->count();
  CHECK_OR_RETURN(count == 1 || count == n, Error::NotSupported, describe(g, id),
                  ": Scale and B must have one value or one per element of the last axis");
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = count == 1 ? 0 : i;
    v[size_t(i)] = c.dtype == DType::F32 ? double(c.data->data<float>()[k])
                                         : double(c.quant.scale[0]) * double(c.data->get_as_int(k) - c.quant.zero_point[0]);
  }
  return v;
}

}  // namespace

Status Lowering::lower_layer_norm(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  const Shape& s = g_.tensor(x).shape;
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), s.size());
  CHECK_OR_RETURN(axis == int(s.size()) - 1 && g_.tensor(y).shape == s, Error::NotSupported, describe(g_, id),
                  ": only a normalization over the last axis has an int8 kernel");
  const int64_t len = s.back(), rows = len > 0 ? num_elements(s) / len : 0;
  CHECK_OR_RETURN(len >= 1 && len <= (1 << 16) && rows <= kMaxDim, Error::NotSupported, describe(g_, id),
                  ": the last axis must have 1 to 65536 elements");
  ASSIGN_OR_RETURN(auto gamma, row_values(g_, id, n.input(1), len, 1.0));
  ASSIGN_OR_RETURN(auto beta, row_values(g_, id, n.input(2), len, 0.0));
  const double s_in = int8::scale_of(g_, x), s_out = int8::scale_of(g_, y);
  const double z_out = int8::zero_point_of(g_, y);
  std::vector<double> table(size_t(2 * len + 1));
  for (int64_t i = 0; i < len; ++i) {
    table[size_t(i)] = gamma[size_t(i)] / s_out;
    table[size_t(len + i)] = beta[size_t(i)] / s_out + z_out;
  }
  table[size_t(2 * len)] = n.attrs.get_float("epsilon", 1e-5) / (s_in * s_in);
  for (double v : table)
    CHECK_OR_RETURN(std::isfinite(v), Error::NotSupported, describe(g_, id), ": parameters out of range");
  int32_t qmin, qmax;
  int8::fused_activation_range(g_, id, y, &qmin, &qmax);
  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, x));
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, y));
  const Dims d{{1, 1, int32_t(rows), int32_t(len)}};
  if (p_.tensors[ti].dims != d) ti = alias(ti, d, ".rows");
  if (p_.tensors[to].dims != d) to = alias(to, d, ".rows");
  npu::LayerNormArgs a{};
  a.input = ti;
  a.output = to;
  a.act_min = qmin;
  a.act_max = qmax;
  const uint32_t blob = add_blob(id, "norm_table", BlobKind::kNormTable, to_bytes(table));
  KernelCall& c = call(Opcode::kLayerNorm, id, a, {ti}, {to});
  ref(c, WORD_OF(LayerNormArgs, table_offset), blob);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Where with a constant condition and one constant scalar operand (masked_fill): the condition is
// broadcast to the output into a byte mask of the positions that take the fill.

Status Lowering::lower_where(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 3 && !n.outputs.empty(), Error::InvalidModel, describe(g_, id), ": bad operands");
  const TensorId c = n.input(0), y = n.outputs[0];
  const Tensor& ct = g_.tensor(c);
  CHECK_OR_RETURN(ct.is_constant() && ct.dtype == DType::Bool, Error::NotSupported, describe(g_, id),
                  ": only a constant condition (a mask) has an int8 kernel");
  int fill_at = -1;
  for (int i = 1; i <= 2; ++i) {
    const Tensor& t = g_.tensor(n.inputs[size_t(i)]);
    if (t.is_constant() && t.data->count() == 1) fill_at = fill_at < 0 ? i : fill_at;
  }
  CHECK_OR_RETURN(fill_at > 0, Error::NotSupported, describe(g_, id), ": one of X and Y must be a constant scalar");
  const TensorId f = n.inputs[size_t(fill_at)], x = n.inputs[size_t(3 - fill_at)];
  RETURN_IF_ERROR(check_same_quant(id, x, y));
  RETURN_IF_ERROR(check_same_quant(id, f, y));
  const Shape& ys = g_.tensor(y).shape;
  CHECK_OR_RETURN(g_.tensor(x).shape == ys, Error::NotSupported, describe(g_, id),
                  ": the non-constant operand must have the output's shape");
  // Byte mask: broadcast the condition (numpy rules) to the output's shape.
  const int64_t count = num_elements(ys);
  std::vector<uint8_t> mask(static_cast<size_t>(count));
  const size_t rank = ys.size();
  Shape cs(rank, 1);
  for (size_t i = 0; i < ct.shape.size(); ++i) cs[rank - ct.shape.size() + i] = ct.shape[i];
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < rank; ++d) off = off * cs[d] + (cs[d] == 1 ? 0 : idx[d]);
    const bool cond = ct.data->bytes[size_t(off)] != 0;
    mask[size_t(i)] = uint8_t(cond == (fill_at == 1) ? 1 : 0);
    for (size_t d = rank; d-- > 0;)
      if (++idx[d] < ys[d]) break;
      else idx[d] = 0;
  }
  npu::MaskedFillArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  a.fill = int32_t(g_.tensor(f).data->get_as_int(0));
  const uint32_t blob = add_blob(id, "mask", BlobKind::kConstant, std::move(mask));
  KernelCall& k = call(Opcode::kMaskedFill, id, a, {a.input}, {a.output});
  ref(k, WORD_OF(MaskedFillArgs, mask_offset), blob);
  return Status::OK();
}

// PRelu with a constant slope: one 256-entry table per slope value of the exact QDQ function
// Q_out(x < 0 ? slope[c] * x : x), x = DQ_in(q). The slope broadcasts to X and varies along at
// most one axis (PyTorch's [C, 1, 1]): that axis's channels each get a table (ChannelTable), a
// single slope a plain Table.

Status Lowering::lower_prelu(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), s = n.input(1), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  CHECK_OR_RETURN(s != kNoTensor, Error::InvalidModel, describe(g_, id), ": missing slope");
  const Tensor& st = g_.tensor(s);
  CHECK_OR_RETURN(st.is_constant() && st.dtype == DType::I8 && st.is_quantized(), Error::NotSupported,
                  describe(g_, id), ": slope '", st.name, "' must be a constant int8 tensor with quantization parameters");
  const Shape& xs = g_.tensor(x).shape;
  CHECK_OR_RETURN(g_.tensor(y).shape == xs && st.shape.size() <= xs.size(), Error::InvalidModel, describe(g_, id),
                  ": slope ", shape_str(st.shape), " does not broadcast to ", shape_str(xs));
  // The one axis (of X) along which the slope varies, if any.
  int axis = -1;
  const size_t off = xs.size() - st.shape.size();
  for (size_t i = 0; i < st.shape.size(); ++i) {
    if (st.shape[i] == 1) continue;
    CHECK_OR_RETURN(st.shape[i] == xs[off + i] && axis < 0, Error::NotSupported, describe(g_, id), ": slope ",
                    shape_str(st.shape), " must vary along one axis of ", shape_str(xs));
    axis = int(off + i);
  }
  const int64_t channels = axis < 0 ? 1 : xs[size_t(axis)];
  int64_t inner = 1;
  for (size_t i = size_t(axis + 1); axis >= 0 && i < xs.size(); ++i) inner *= xs[i];
  CHECK_OR_RETURN(channels <= (1 << 16) && inner <= kMaxDim, Error::NotSupported, describe(g_, id),
                  ": slope with ", channels, " channels is too large");
  const QuantParams& sq = st.quant;
  const double sx = int8::scale_of(g_, x), sy = int8::scale_of(g_, y);
  const int32_t zx = int8::zero_point_of(g_, x), zy = int8::zero_point_of(g_, y);
  std::vector<uint8_t> tables(size_t(channels) * 256);
  const int8_t* sv = st.data->data<int8_t>();
  const int64_t scount = st.data->count();
  for (int64_t c = 0; c < channels; ++c) {
    // Per-axis slope parameters are along the slope's only non-1 axis, so index c.
    const size_t k = sq.per_axis() ? size_t(c) % sq.scale.size() : 0;
    const double slope = double(int32_t(sv[scount == 1 ? 0 : c]) - sq.zero_point[k]) * double(sq.scale[k]);
    for (int q = -128; q < 128; ++q) {
      const double v = sx * double(q - zx);
      tables[size_t(c) * 256 + size_t(q + 128)] = uint8_t(int8_t(quantize_real(v < 0 ? slope * v : v, sy, zy, -128, 127)));
    }
  }
  ASSIGN_OR_RETURN(const uint32_t ti, tensor(id, x));
  ASSIGN_OR_RETURN(const uint32_t to, tensor(id, y));
  if (channels == 1) {
    npu::TableArgs t{};
    t.input = ti;
    t.output = to;
    const uint32_t blob = add_blob(id, "table", BlobKind::kTable, std::move(tables));
    KernelCall& c = call(Opcode::kTable, id, t, {ti}, {to});
    ref(c, WORD_OF(TableArgs, table_offset), blob);
    return Status::OK();
  }
  npu::ChannelTableArgs t{};
  t.input = ti;
  t.output = to;
  t.channels = int32_t(channels);
  t.inner = int32_t(inner);
  const uint32_t blob = add_blob(id, "tables", BlobKind::kTable, std::move(tables));
  KernelCall& c = call(Opcode::kChannelTable, id, t, {ti}, {to});
  ref(c, WORD_OF(ChannelTableArgs, table_offset), blob);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// LpNormalization (p = 2): L2Norm over the axis, the input viewed [outer, n, inner].

Status Lowering::lower_l2_norm(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  const Shape& xs = g_.tensor(x).shape;
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), xs.size());
  CHECK_OR_RETURN(axis >= 0 && n.attrs.get_int("p", 2) == 2 && g_.tensor(y).shape == xs, Error::InvalidModel,
                  describe(g_, id), ": axis or p out of range, or the output shape differs");
  int64_t inner = 1;
  for (size_t i = size_t(axis) + 1; i < xs.size(); ++i) inner *= xs[i];
  CHECK_OR_RETURN(xs[size_t(axis)] <= kMaxDim && inner <= kMaxDim, Error::NotSupported, describe(g_, id),
                  ": normalized axis or inner size above 2^24");
  const double params[2] = {n.attrs.get_float("eps", 0.0) / int8::scale_of(g_, x), int8::scale_of(g_, y)};
  npu::L2NormArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  a.n = int32_t(xs[size_t(axis)]);
  a.inner = int32_t(inner);
  std::vector<uint8_t> bytes(sizeof(params));
  std::memcpy(bytes.data(), params, sizeof(params));
  const uint32_t blob = add_blob(id, "params", BlobKind::kParams, std::move(bytes));
  KernelCall& c = call(Opcode::kL2Norm, id, a, {a.input}, {a.output});
  ref(c, WORD_OF(L2NormArgs, params_offset), blob);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Gather along one axis with int32/int64 indices (an nn.Embedding lookup of token ids, or a
// constant index): a byte copy per index, so data and output share their quantization. The
// kernel checks run-time indices against the table before it reads.

Status Lowering::lower_gather(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g_, id), ": expects data, indices and 1 output");
  const TensorId x = n.inputs[0], y = n.outputs[0];
  const Tensor& it = g_.tensor(n.inputs[1]);
  CHECK_OR_RETURN(it.dtype == DType::I32 || it.dtype == DType::I64, Error::NotSupported, describe(g_, id),
                  ": indices must be int32 or int64, are ", dtype_name(it.dtype));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "data"));
  RETURN_IF_ERROR(check_same_quant(id, x, y));
  return emit_gather(id, Opcode::kGather);
}

uint32_t Lowering::reduced_view(uint32_t input, uint32_t output, int32_t axes_mask) {
  Dims dy = p_.tensors[input].dims;
  for (int k = 0; k < 4; ++k)
    if ((axes_mask >> k) & 1) dy[size_t(k)] = 1;
  return p_.tensors[output].dims != dy ? alias(output, dy, ".keepdims") : output;
}

Status Lowering::emit_gather(NodeId id, Opcode op) {
  const Node& n = g_.node(id);
  const TensorId x = n.inputs[0], ix = n.inputs[1], y = n.outputs[0];
  const Tensor& xt = g_.tensor(x);
  const Tensor& it = g_.tensor(ix);
  const int axis = normalize_axis(n.attrs.get_int("axis", 0), xt.shape.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g_, id), ": axis out of range for ", shape_str(xt.shape));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= xt.shape[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < xt.shape.size(); ++i) inner *= xt.shape[i];
  const int64_t axis_dim = xt.shape[size_t(axis)], count = num_elements(it.shape);
  CHECK_OR_RETURN(outer * count * inner == num_elements(g_.tensor(y).shape), Error::InvalidModel, describe(g_, id),
                  ": output shape ", shape_str(g_.tensor(y).shape), " does not match the gather");
  CHECK_OR_RETURN(outer <= kMaxDim && axis_dim <= kMaxDim && inner <= kMaxDim && count >= 1 && count <= kMaxDim,
                  Error::NotSupported, describe(g_, id), ": gather sizes outside [1, 2^24]");
  npu::GatherArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.indices, tensor(id, ix));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  a.outer = int32_t(outer);
  a.axis_dim = int32_t(axis_dim);
  a.inner = int32_t(inner);
  a.count = int32_t(count);
  call(op, id, a, {a.input, a.indices}, {a.output});
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// GRU and LSTM: one recurrent kernel call per direction over the whole sequence, so W and R are
// stored once and the state stays in the kernel between steps (kernels/recurrent_int8.h has the
// integer semantics). X and Y (= every step's h) are int8 per tensor; W and R int8 constants,
// symmetric, per tensor or per gate row (axis 1); initial_h an int8 constant with Y's parameters;
// B, initial_c (and a float initial_h) float constants that the lowering converts (bias to
// accumulator units, h0 to Y's parameters, c0 to Q15). Y_h is a slice of Y's last step (same
// parameters); LSTM's Y_c the kernel's second output. Bidirectional: two calls (the second runs
// backwards) and a Concat of each output along its direction axis.

Status Lowering::lower_recurrent(NodeId id) {
  const Node& n = g_.node(id);
  const bool lstm = n.kind == OpKind::LSTM;
  const int64_t G = lstm ? 4 : 3;
  CHECK_OR_RETURN(n.inputs.size() >= 3 && n.outputs.size() == size_t(lstm ? 3 : 2), Error::InvalidModel,
                  describe(g_, id), ": expects X, W, R and ", lstm ? 3 : 2, " outputs");
  const std::string dir = n.attrs.get_string("direction", "forward");
  CHECK_OR_RETURN(dir == "forward" || dir == "reverse" || dir == "bidirectional", Error::InvalidModel,
                  describe(g_, id), ": bad direction \"", dir, "\"");
  const int64_t D = dir == "bidirectional" ? 2 : 1;
  const auto input_or_none = [&](size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoTensor; };
  CHECK_OR_RETURN(input_or_none(4) == kNoTensor, Error::NotSupported, describe(g_, id), ": sequence_lens is not supported");
  CHECK_OR_RETURN(input_or_none(7) == kNoTensor, Error::NotSupported, describe(g_, id),
                  ": LSTM peepholes (input P) have no int8 kernel");
  const TensorId x = n.inputs[0], y = n.outputs[0], yh = n.outputs[1], yc = lstm ? n.outputs[2] : kNoTensor;
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "X"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "Y"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, yh, "Y_h"));
  if (lstm) RETURN_IF_ERROR(int8::check_per_tensor(g_, id, yc, "Y_c"));
  CHECK_OR_RETURN(g_.tensor(y).quant == g_.tensor(yh).quant, Error::NotSupported, describe(g_, id),
                  ": Y and Y_h must share quantization parameters (both are the hidden state)");
  const Shape& xs = g_.tensor(x).shape;
  const int64_t H = n.attrs.get_int("hidden_size", 0);
  CHECK_OR_RETURN(xs.size() == 3 && H >= 1, Error::InvalidModel, describe(g_, id), ": bad X shape or hidden_size");
  const int64_t T = xs[0], B = xs[1], I = xs[2];
  CHECK_OR_RETURN(T <= kMaxDim && B <= kMaxDim && I <= 32768 && H <= 32768, Error::NotSupported, describe(g_, id),
                  ": input_size and hidden_size above 32768 (the kernel's int32 accumulator bound)");
  // Weights: int8 constants, zero point 0, per tensor or one scale per gate row (shared by the
  // directions).
  std::vector<double> sw(size_t(G * H)), sr(size_t(G * H));
  for (int k = 1; k <= 2; ++k) {
    const TensorId wt = n.inputs[size_t(k)];
    const Tensor& w = g_.tensor(wt);
    const QuantParams& q = w.quant;
    CHECK_OR_RETURN(w.is_constant() && w.dtype == DType::I8 && w.is_quantized() && w.shape.size() == 3 && w.shape[0] == D,
                    Error::NotSupported, describe(g_, id), ": ", k == 1 ? "W" : "R", " '", w.name,
                    "' must be a constant int8 tensor with quantization parameters");
    const bool per_row = q.per_axis();
    CHECK_OR_RETURN(!per_row || (q.axis == 1 && int64_t(q.scale.size()) == G * H), Error::NotSupported,
                    describe(g_, id), ": ", k == 1 ? "W" : "R", " '", w.name,
                    "' must be quantized per tensor or per gate row (axis 1)");
    for (int32_t z : q.zero_point)
      CHECK_OR_RETURN(z == 0, Error::NotSupported, describe(g_, id), ": ", k == 1 ? "W" : "R", " '", w.name,
                      "' must be quantized symmetrically (zero point 0)");
    for (int64_t r = 0; r < G * H; ++r) (k == 1 ? sw : sr)[size_t(r)] = double(q.scale[per_row ? size_t(r) : 0]);
  }
  // Constants the lowering converts: float, or int8 per tensor (dequantized here).
  std::vector<std::vector<float>> held;
  const auto float_const = [&](size_t i, int64_t count, const char* what) -> StatusOr<const float*> {
    const TensorId t = input_or_none(i);
    if (t == kNoTensor) return static_cast<const float*>(nullptr);
    const Tensor& c = g_.tensor(t);
    const bool q8 = c.dtype == DType::I8 && c.is_quantized() && !c.quant.per_axis();
    CHECK_OR_RETURN(c.is_constant() && (c.dtype == DType::F32 || q8) && c.data->count() == count, Error::NotSupported,
                    describe(g_, id), ": ", what, " '", c.name,
                    "' must be a float or int8 constant (the lowering converts it)");
    if (!q8) return c.data->data<float>();
    held.emplace_back(size_t(count));
    for (int64_t k = 0; k < count; ++k)
      held.back()[size_t(k)] = float(double(c.quant.scale[0]) * (c.data->data<int8_t>()[k] - c.quant.zero_point[0]));
    return held.back().data();
  };
  ASSIGN_OR_RETURN(const float* bias, float_const(3, D * 2 * G * H, "B"));
  // initial_h: an int8 constant with Y's parameters (the quantizer puts it in the state's group),
  // or a float constant quantized here to them.
  const float* h0 = nullptr;
  const TensorId h0t = input_or_none(5);
  const bool h0_int8 = h0t != kNoTensor && g_.tensor(h0t).dtype == DType::I8;
  if (h0_int8) {
    const Tensor& t = g_.tensor(h0t);
    CHECK_OR_RETURN(t.is_constant() && t.quant == g_.tensor(y).quant && t.data->count() == D * B * H,
                    Error::NotSupported, describe(g_, id), ": initial_h '", t.name,
                    "' must be a constant with Y's quantization parameters");
  } else {
    ASSIGN_OR_RETURN(h0, float_const(5, D * B * H, "initial_h"));
  }
  const float* c0 = nullptr;
  if (lstm) {
    ASSIGN_OR_RETURN(c0, float_const(6, D * B * H, "initial_c"));
  }

  const double sx = int8::scale_of(g_, x), sh = int8::scale_of(g_, y);
  const int32_t zh = int8::zero_point_of(g_, y);
  const double q12 = double(1 << kRecurrentPreShift), q15 = double(1 << kRecurrentStateShift);
  std::vector<FixedMultiplier> mult(size_t(2 * G * H + 3));
  for (int64_t r = 0; r < G * H; ++r) {
    RETURN_IF_ERROR(
        int8::make_multiplier(g_, id, sx * sw[size_t(r)] * q12, str_cat("s_x * s_w[", r, "] * 2^12"), &mult[size_t(r)]));
    RETURN_IF_ERROR(int8::make_multiplier(g_, id, sh * sr[size_t(r)] * q12, str_cat("s_h * s_r[", r, "] * 2^12"),
                                          &mult[size_t(G * H + r)]));
  }
  RETURN_IF_ERROR(int8::make_multiplier(g_, id, sh * q15, "s_h * 2^15", &mult[size_t(2 * G * H)]));
  RETURN_IF_ERROR(int8::make_multiplier(g_, id, 1.0 / (q15 * sh), "2^-15 / s_h", &mult[size_t(2 * G * H + 1)]));
  const double sc = lstm ? int8::scale_of(g_, yc) : sh;
  RETURN_IF_ERROR(int8::make_multiplier(g_, id, 1.0 / (q15 * sc), "2^-15 / s_c", &mult[size_t(2 * G * H + 2)]));
  std::vector<int16_t> tables(2 * kRecurrentTableSize);
  recurrent_int8_tables(tables.data(), tables.data() + kRecurrentTableSize);

  ASSIGN_OR_RETURN(const uint32_t xin, tensor(id, x));
  ASSIGN_OR_RETURN(const uint32_t yout, tensor(id, y));
  ASSIGN_OR_RETURN(Dims yd, dims_of(id, y));
  CHECK_OR_RETURN(yd == (Dims{{int32_t(T), int32_t(D), int32_t(B), int32_t(H)}}), Error::InvalidModel,
                  describe(g_, id), ": Y must be [seq, directions, batch, hidden]");
  // Y_h and Y_c that nothing reads (not a program output, no consumer) are not computed.
  const auto consumers = g_.consumers();
  const auto unread = [&](TensorId t) {
    if (std::find(outputs_.begin(), outputs_.end(), t) != outputs_.end()) return false;
    for (NodeId c : consumers[size_t(t)])
      if (!g_.node(c).dead) return false;
    return true;
  };
  const bool want_h = !unread(yh), want_c = lstm && !unread(yc);
  uint32_t yhout = UINT32_MAX, ycout = UINT32_MAX;
  if (want_h) {
    ASSIGN_OR_RETURN(yhout, tensor_as(id, yh, Dims{{1, int32_t(D), int32_t(B), int32_t(H)}}));
  }
  if (want_c) {
    ASSIGN_OR_RETURN(ycout, tensor_as(id, yc, Dims{{1, int32_t(D), int32_t(B), int32_t(H)}}));
  }
  const int32_t zc = want_c ? p_.tensors[ycout].zero_point : 0;
  const Dims step_dims{{1, 1, int32_t(B), int32_t(H)}};
  // Per direction: one recurrent call (into Y itself for one direction, else a [T, 1, B, H]
  // temporary), Y_h's slice of its last step (the first when it runs backwards); two directions
  // are concatenated along axis 1 of Y, Y_h and Y_c.
  std::vector<uint32_t> ys, yhs, ycs;
  for (int64_t d = 0; d < D; ++d) {
    const std::string sfx = D > 1 ? (d == 0 ? "_fwd" : "_bwd") : "";
    npu::RecurrentArgs a{};
    a.input = xin;
    a.output = D == 1 ? yout : temp(id, "y" + sfx, Dims{{int32_t(T), 1, int32_t(B), int32_t(H)}}, zh);
    a.output_c = UINT32_MAX;
    std::vector<uint32_t> writes = {a.output};
    if (want_c) {
      a.output_c = D == 1 ? ycout : temp(id, "y_c" + sfx, step_dims, zc);
      writes.push_back(a.output_c);
    }
    a.cell = lstm ? 1 : 0;
    a.seq = int32_t(T);
    a.batch = int32_t(B);
    a.input_size = int32_t(I);
    a.hidden = int32_t(H);
    a.reverse = dir == "reverse" || d == 1 ? 1 : 0;
    a.linear_before_reset = !lstm && n.attrs.get_int("linear_before_reset", 0) != 0 ? 1 : 0;
    a.initial_h_offset = UINT32_MAX;
    a.initial_c_offset = UINT32_MAX;
    // W_d then R_d; the parameters: biases of this direction, then the multipliers.
    std::vector<uint8_t> wr;
    for (int k = 1; k <= 2; ++k) {
      const auto& bytes = g_.tensor(n.inputs[size_t(k)]).data->bytes;
      const size_t per = bytes.size() / size_t(D);
      wr.insert(wr.end(), bytes.begin() + std::ptrdiff_t(per * size_t(d)), bytes.begin() + std::ptrdiff_t(per * size_t(d + 1)));
    }
    std::vector<int32_t> biases(size_t(2 * G * H), 0);
    if (bias) {
      const auto to_acc = [](double v, double scale) {
        if (!(scale > 0)) return int32_t(0);
        const double q = std::nearbyint(v / scale), lim = double((1 << 30) - 1);
        return int32_t(q < -lim ? -lim : (q > lim ? lim : q));
      };
      const float* bd = bias + d * 2 * G * H;
      for (int64_t r = 0; r < G * H; ++r) {
        biases[size_t(r)] = to_acc(bd[r], sx * sw[size_t(r)]);
        biases[size_t(G * H + r)] = to_acc(bd[G * H + r], sh * sr[size_t(r)]);
      }
    }
    std::vector<uint8_t> params = to_bytes(biases);
    const std::vector<uint8_t> mb = to_bytes(mult);
    params.insert(params.end(), mb.begin(), mb.end());
    const uint32_t b_w = add_blob(id, "weights" + sfx, BlobKind::kConstant, std::move(wr));
    const uint32_t b_p = add_blob(id, "params" + sfx, BlobKind::kMultipliers, std::move(params));
    const uint32_t b_t = add_blob(id, "tables", BlobKind::kTable, to_bytes(tables));
    KernelCall& k = call(Opcode::kRecurrent, id, a, {a.input}, writes);
    ref(k, WORD_OF(RecurrentArgs, weights_offset), b_w);
    ref(k, WORD_OF(RecurrentArgs, params_offset), b_p);
    ref(k, WORD_OF(RecurrentArgs, tables_offset), b_t);
    const int64_t at = d * B * H;
    if (h0_int8) {
      const auto& bytes = g_.tensor(h0t).data->bytes;
      const uint32_t b = add_blob(id, "initial_h" + sfx, BlobKind::kConstant,
                                  std::vector<uint8_t>(bytes.begin() + std::ptrdiff_t(at),
                                                       bytes.begin() + std::ptrdiff_t(at + B * H)));
      ref(p_.calls.back(), WORD_OF(RecurrentArgs, initial_h_offset), b);
    } else if (h0) {
      std::vector<int8_t> hq(size_t(B * H));
      for (int64_t i = 0; i < B * H; ++i) hq[size_t(i)] = quantize_to_int8(h0[at + i], sh, zh);
      const uint32_t b = add_blob(id, "initial_h" + sfx, BlobKind::kConstant, to_bytes(hq));
      ref(p_.calls.back(), WORD_OF(RecurrentArgs, initial_h_offset), b);
    }
    if (c0) {
      std::vector<int32_t> cq(size_t(B * H));
      for (int64_t i = 0; i < B * H; ++i) {
        const double v = std::nearbyint(double(c0[at + i]) * q15), lim = 2147483647.0;
        cq[size_t(i)] = int32_t(v < -lim ? -lim : (v > lim ? lim : v));
      }
      const uint32_t b = add_blob(id, "initial_c" + sfx, BlobKind::kConstant, to_bytes(cq));
      ref(p_.calls.back(), WORD_OF(RecurrentArgs, initial_c_offset), b);
    }
    // Y_h of this direction: its last step.
    if (want_h) {
      npu::SliceArgs s{};
      s.input = a.output;
      s.output = D == 1 ? yhout : temp(id, "y_h" + sfx, step_dims, zh);
      s.begin[0] = a.reverse ? 0 : int32_t(T - 1);
      call(Opcode::kSlice, id, s, {s.input}, {s.output});
      yhs.push_back(s.output);
    }
    ys.push_back(a.output);
    if (want_c) ycs.push_back(a.output_c);
  }
  if (D == 2) {
    const auto concat = [&](const std::vector<uint32_t>& parts, uint32_t out) {
      npu::ConcatArgs c{};
      c.output = out;
      c.axis = 1;
      c.num_inputs = 2;
      c.inputs[0] = parts[0];
      c.inputs[1] = parts[1];
      call(Opcode::kConcat, id, c, parts, {out});
    };
    concat(ys, yout);
    if (want_h) concat(yhs, yhout);
    if (want_c) concat(ycs, ycout);
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Softmax over an axis that is last in memory (every later dim 1): the kernel sees [1, 1, rows, n].

Status Lowering::lower_softmax(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs.empty() ? kNoTensor : n.outputs[0];
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "input"));
  RETURN_IF_ERROR(int8::check_per_tensor(g_, id, y, "output"));
  const Shape& s = g_.tensor(x).shape;
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), s.size());
  CHECK_OR_RETURN(axis >= 0 && g_.tensor(y).shape == s, Error::InvalidModel, describe(g_, id), ": bad axis or shapes");
  int64_t inner = 1, outer = 1;
  for (size_t i = size_t(axis) + 1; i < s.size(); ++i) inner *= s[i];
  for (int i = 0; i < axis; ++i) outer *= s[size_t(i)];
  CHECK_OR_RETURN(outer <= kMaxDim && s[size_t(axis)] <= kMaxDim && inner <= kMaxDim, Error::NotSupported,
                  describe(g_, id), ": tensor too large");
  SoftmaxInt8Params sp;
  std::vector<double> table(257);
  prepare_softmax_int8(int8::scale_of(g_, x), int8::scale_of(g_, y), int8::zero_point_of(g_, y), table.data(), &sp);
  table[256] = sp.out_scale;
  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, x));
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, y));
  const int32_t rows = int32_t(outer), len = int32_t(s[size_t(axis)]), cols = int32_t(inner);
  uint32_t y_strided = UINT32_MAX;
  if (inner != 1) {
    // The axis is not last in memory: [outer][n][inner] transposed to [outer][inner][n] and back.
    CHECK_OR_RETURN(outer * inner <= kMaxDim, Error::NotSupported, describe(g_, id), ": tensor too large");
    const Dims strided{{1, rows, len, cols}};
    ti = transpose(id, p_.tensors[ti].dims != strided ? alias(ti, strided, ".axis") : ti, Dims{{1, rows, cols, len}},
                   "axis_last_in", Dims{{0, 1, 3, 2}});
    y_strided = p_.tensors[to].dims != strided ? alias(to, strided, ".axis") : to;
    to = temp(id, "axis_last_out", Dims{{1, rows, cols, len}}, p_.tensors[to].zero_point);
  }
  const Dims d{{1, 1, rows * cols, len}};
  if (p_.tensors[ti].dims != d) ti = alias(ti, d, ".rows");
  if (p_.tensors[to].dims != d) to = alias(to, d, ".rows");
  npu::SoftmaxArgs a{};
  a.input = ti;
  a.output = to;
  const uint32_t blob = add_blob(id, "exp_table", BlobKind::kSoftmaxTable, to_bytes(table));
  KernelCall& c = call(Opcode::kSoftmax, id, a, {ti}, {to});
  ref(c, WORD_OF(SoftmaxArgs, table_offset), blob);
  if (y_strided != UINT32_MAX) {
    const uint32_t t = alias(to, Dims{{1, rows, cols, len}}, ".t");
    npu::TransposeArgs back{};
    back.input = t;
    back.output = y_strided;
    const Dims perm{{0, 1, 3, 2}};
    for (int i = 0; i < 4; ++i) back.perm[i] = perm[size_t(i)];
    call(Opcode::kTranspose, id, back, {t}, {y_strided});
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Data movement: the quantization passes through unchanged (checked), bytes move.

Status Lowering::lower_pad(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs[0];
  RETURN_IF_ERROR(check_same_quant(id, x, y));
  const std::string mode = n.attrs.get_string("mode", "constant");
  // edge (replicate) runs on the CPU only: the partition rule keeps it there, as upstream does.
  CHECK_OR_RETURN(mode == "constant" || mode == "reflect" || mode == "edge", Error::NotSupported, describe(g_, id),
                  ": pad mode '", mode, "' is not supported (constant, reflect, edge)");
  const size_t rank = g_.tensor(x).shape.size();
  const std::vector<int64_t> pads = n.attrs.get_ints("pads");
  CHECK_OR_RETURN(pads.size() == 2 * rank, Error::InvalidModel, describe(g_, id), ": pads ", pads, " for rank ", rank);
  npu::PadArgs a{};
  // Folded axes (rank above 4: unpadded neighbours merge, a padded axis stays alone): its first
  // original axis, for the pads.
  std::vector<size_t> first_axis;
  if (rank > 4) {
    const auto padded = [&](size_t i) { return pads[i] != 0 || pads[rank + i] != 0; };
    std::vector<Dims> f;
    std::vector<std::vector<size_t>> groups;
    RETURN_IF_ERROR(fold_axes(id, {g_.tensor(x).shape, g_.tensor(y).shape},
                              [&](size_t i, size_t j) { return !padded(i) && !padded(j); }, &f, &groups));
    ASSIGN_OR_RETURN(a.input, tensor_as(id, x, f[0]));
    ASSIGN_OR_RETURN(a.output, tensor_as(id, y, f[1]));
    for (const auto& grp : groups) first_axis.push_back(grp.front());
  } else {
    ASSIGN_OR_RETURN(a.input, tensor(id, x));
    ASSIGN_OR_RETURN(a.output, tensor(id, y));
  }
  for (size_t i = 0; i < rank; ++i) {
    CHECK_OR_RETURN(pads[i] >= 0 && pads[rank + i] >= 0, Error::NotSupported, describe(g_, id),
                    ": negative pads (cropping) are not supported on the NPU: ", pads);
    if (pads[i] == 0 && pads[rank + i] == 0) continue;
    int ax = nhwc_axis(rank, int64_t(i));
    if (rank > 4) {
      const size_t k = size_t(std::find(first_axis.begin(), first_axis.end(), i) - first_axis.begin());
      ax = int(4 - first_axis.size() + k);
    }
    a.pad_before[ax] = int32_t(pads[i]);
    a.pad_after[ax] = int32_t(pads[rank + i]);
    if (mode == "reflect")
      CHECK_OR_RETURN(pads[i] < g_.tensor(x).shape[i] && pads[rank + i] < g_.tensor(x).shape[i], Error::NotSupported,
                      describe(g_, id), ": reflect pads must be smaller than the dimension");
  }
  a.mode = mode == "reflect" ? 1 : mode == "edge" ? 2 : 0;
  const Tensor& xt = g_.tensor(x);
  if (xt.dtype == DType::F32) {  // a float Pad: the value's bits
    const float v = float(n.attrs.get_float("value", 0.0));
    std::memcpy(&a.value, &v, 4);
  } else {
    a.value = mode == "constant"
                  ? quantize_real(n.attrs.get_float("value", 0.0), xt.quant.scale[0], xt.quant.zero_point[0], -128, 127)
                  : 0;
  }
  call(Opcode::kPad, id, a, {a.input}, {a.output});
  return Status::OK();
}

Status Lowering::lower_slice(NodeId id, TensorId x, TensorId y, const std::vector<int64_t>& begin) {
  RETURN_IF_ERROR(check_same_quant(id, x, y));
  RETURN_IF_ERROR(check_rank4(id, x));
  const Shape& xs = g_.tensor(x).shape;
  const Shape& ys = g_.tensor(y).shape;
  CHECK_OR_RETURN(xs.size() == ys.size(), Error::InvalidModel, describe(g_, id), ": ranks differ");
  npu::SliceArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  for (size_t i = 0; i < xs.size(); ++i) {
    CHECK_OR_RETURN(begin[i] >= 0 && begin[i] + ys[i] <= xs[i], Error::InvalidModel, describe(g_, id), ": slice [",
                    begin[i], ", +", ys[i], ") outside dimension ", xs[i]);
    a.begin[nhwc_axis(xs.size(), int64_t(i))] = int32_t(begin[i]);
  }
  call(Opcode::kSlice, id, a, {a.input}, {a.output});
  return Status::OK();
}

Status Lowering::lower_slice_node(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs[0];
  const Shape& xs = g_.tensor(x).shape;
  const std::vector<int64_t> starts = n.attrs.get_ints("starts"), axes = n.attrs.get_ints("axes"),
                             steps = n.attrs.get_ints("steps");
  std::vector<int64_t> begin(xs.size(), 0);
  for (size_t k = 0; k < starts.size(); ++k) {
    const int axis = normalize_axis(k < axes.size() ? axes[k] : int64_t(k), xs.size());
    CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g_, id), ": slice axis out of range");
    const int64_t step = k < steps.size() ? steps[k] : 1;
    CHECK_OR_RETURN(step == 1, Error::NotSupported, describe(g_, id), ": the int8 Slice kernel needs step 1, got ", step,
                    " on axis ", axis);
    int64_t s = starts[k];
    if (s < 0) s += xs[size_t(axis)];
    begin[size_t(axis)] = std::min(std::max<int64_t>(s, 0), xs[size_t(axis)]);
  }
  return lower_slice(id, x, y, begin);
}

Status Lowering::lower_split(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0);
  const Shape& xs = g_.tensor(x).shape;
  const int axis = normalize_axis(n.attrs.get_int("axis", 0), xs.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g_, id), ": split axis out of range");
  int64_t at = 0;
  for (TensorId y : n.outputs) {
    std::vector<int64_t> begin(xs.size(), 0);
    begin[size_t(axis)] = at;
    RETURN_IF_ERROR(lower_slice(id, x, y, begin));
    at += g_.tensor(y).shape[size_t(axis)];
  }
  return Status::OK();
}

Status Lowering::lower_concat(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId y = n.outputs[0];
  const size_t rank = g_.tensor(y).shape.size();
  RETURN_IF_ERROR(check_rank4(id, y));
  const int axis = normalize_axis(n.attrs.get_int("axis", 0), rank);
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g_, id), ": concat axis out of range");
  std::vector<uint32_t> ins;
  for (TensorId x : n.inputs) {
    RETURN_IF_ERROR(check_same_quant(id, x, y));
    ASSIGN_OR_RETURN(uint32_t t, tensor(id, x));
    ins.push_back(t);
  }
  ASSIGN_OR_RETURN(uint32_t out, tensor(id, y));
  const int ax = nhwc_axis(rank, axis);
  // Up to 8 inputs per call: longer lists concatenate their first inputs into a temporary, which
  // then heads the next call's list.
  size_t next = 0;
  uint32_t carry = UINT32_MAX;
  int part = 0;
  while (true) {
    npu::ConcatArgs a{};
    a.axis = ax;
    std::vector<uint32_t> list;
    if (carry != UINT32_MAX) list.push_back(carry);
    while (list.size() < 8 && next < ins.size()) list.push_back(ins[next++]);
    const bool last = next == ins.size();
    uint32_t dst = out;
    if (!last) {
      Dims d = p_.tensors[list[0]].dims;
      d[size_t(ax)] = 0;
      for (uint32_t t : list) d[size_t(ax)] += p_.tensors[t].dims[size_t(ax)];
      dst = temp(id, "part" + std::to_string(part++), d, p_.tensors[out].zero_point, p_.tensors[out].elem);
    }
    a.output = dst;
    a.num_inputs = uint32_t(list.size());
    for (size_t i = 0; i < list.size(); ++i) a.inputs[i] = list[i];
    call(Opcode::kConcat, id, a, list, {dst});
    if (last) break;
    carry = dst;
  }
  return Status::OK();
}

Status Lowering::lower_transpose(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs[0];
  RETURN_IF_ERROR(check_same_quant(id, x, y));
  const size_t rank = g_.tensor(x).shape.size();
  const std::vector<int64_t> perm = n.attrs.get_ints("perm");
  CHECK_OR_RETURN(perm.size() == rank, Error::InvalidModel, describe(g_, id), ": perm ", perm, " for rank ", rank);
  npu::TransposeArgs a{};
  if (rank > 4) {
    // Rank above 4: input axes that stay neighbours in the output merge (1s drop out).
    std::vector<int64_t> inv(rank);
    for (size_t j = 0; j < rank; ++j) inv[size_t(perm[j])] = int64_t(j);
    const Shape& xs = g_.tensor(x).shape;
    const auto next_kept = [&](size_t j) {  // the output position after j that is not a 1
      for (size_t k = j + 1; k < rank; ++k)
        if (xs[size_t(perm[k])] != 1) return int64_t(k);
      return int64_t(-1);
    };
    std::vector<Dims> f;
    std::vector<std::vector<size_t>> groups;
    RETURN_IF_ERROR(fold_axes(id, {xs}, [&](size_t i, size_t j) { return next_kept(size_t(inv[i])) == inv[j]; }, &f,
                              &groups, 0));
    if (groups.size() > 4) return lower_transpose_by_moves(id, groups, inv);
    // The folded input axes in output order.
    std::vector<size_t> order(groups.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(),
              [&](size_t p, size_t q) { return inv[groups[p].front()] < inv[groups[q].front()]; });
    const int lead = 4 - int(groups.size());
    Dims dy{{1, 1, 1, 1}};
    for (int i = 0; i < lead; ++i) a.perm[i] = i;
    for (size_t j = 0; j < order.size(); ++j) {
      a.perm[lead + int(j)] = lead + int(order[j]);
      dy[size_t(lead) + j] = f[0][size_t(lead) + order[j]];
    }
    ASSIGN_OR_RETURN(a.input, tensor_as(id, x, f[0]));
    ASSIGN_OR_RETURN(a.output, tensor_as(id, y, dy));
    call(Opcode::kTranspose, id, a, {a.input}, {a.output});
    return Status::OK();
  }
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  const int lead = 4 - int(rank);
  for (int i = 0; i < lead; ++i) a.perm[i] = i;
  for (size_t i = 0; i < rank; ++i) a.perm[lead + int(i)] = int32_t(perm[i]) + lead;
  call(Opcode::kTranspose, id, a, {a.input}, {a.output});
  return Status::OK();
}

// A transpose of more than 4 axis groups (none of them neighbours in both orders): one axis group
// moved at a time into its place (insertion), each move a 4-block transpose [A][B][x][C] ->
// [A][x][B][C] through scratch temporaries, the last into the output.
Status Lowering::lower_transpose_by_moves(NodeId id, const std::vector<std::vector<size_t>>& groups,
                                          const std::vector<int64_t>& inv) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs[0];
  const Shape& xs = g_.tensor(x).shape;
  const size_t G = groups.size();
  std::vector<int64_t> size(G, 1);
  for (size_t k = 0; k < G; ++k)
    for (size_t i : groups[k]) size[k] *= xs[i];
  std::vector<size_t> order(G);  // output position -> group
  for (size_t k = 0; k < G; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t p, size_t q) { return inv[groups[p].front()] < inv[groups[q].front()]; });
  std::vector<std::pair<size_t, size_t>> moves;  // (to, from) positions
  std::vector<size_t> cur(G);
  for (size_t k = 0; k < G; ++k) cur[k] = k;
  for (size_t j = 0; j < G; ++j) {
    const size_t k = size_t(std::find(cur.begin(), cur.end(), order[j]) - cur.begin());
    if (k == j) continue;
    moves.emplace_back(j, k);
    std::rotate(cur.begin() + std::ptrdiff_t(j), cur.begin() + std::ptrdiff_t(k), cur.begin() + std::ptrdiff_t(k) + 1);
  }
  for (size_t k = 0; k < G; ++k) cur[k] = k;
  ASSIGN_OR_RETURN(uint32_t src, tensor(id, x));
  const int32_t zp = p_.tensors[src].zero_point;
  for (size_t m = 0; m < moves.size(); ++m) {
    const auto [j, k] = moves[m];
    const auto prod = [&](size_t a, size_t b) {
      int64_t v = 1;
      for (size_t t = a; t < b; ++t) v *= size[cur[t]];
      return v;
    };
    const int64_t A = prod(0, j), B = prod(j, k), X = size[cur[k]], C = prod(k + 1, G);
    for (int64_t v : {A, B, X, C})
      CHECK_OR_RETURN(v <= kMaxDim, Error::NotSupported, describe(g_, id), ": folded dimension above 2^24");
    const Dims din{{int32_t(A), int32_t(B), int32_t(X), int32_t(C)}};
    const Dims dout{{int32_t(A), int32_t(X), int32_t(B), int32_t(C)}};
    const uint32_t in = p_.tensors[src].dims == din ? src : alias(src, din, ".move");
    std::rotate(cur.begin() + std::ptrdiff_t(j), cur.begin() + std::ptrdiff_t(k), cur.begin() + std::ptrdiff_t(k) + 1);
    uint32_t dst;
    if (m + 1 == moves.size()) {
      ASSIGN_OR_RETURN(dst, tensor_as(id, y, dout));
    } else {
      dst = temp(id, "move" + std::to_string(m), dout, zp, p_.tensors[src].elem);
    }
    npu::TransposeArgs a{};
    a.input = in;
    a.output = dst;
    const Dims perm{{0, 2, 1, 3}};
    for (int i = 0; i < 4; ++i) a.perm[i] = perm[size_t(i)];
    call(Opcode::kTranspose, id, a, {in}, {dst});
    src = dst;
  }
  return Status::OK();
}

// Reshape, Identity, Dropout: a view of the same bytes. Between two scratch tensors the output
// becomes an alias of the input (no kernel); a boundary tensor on either side needs a Copy.
Status Lowering::lower_copy(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs[0];
  RETURN_IF_ERROR(check_same_quant(id, x, y));
  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, x));
  if (map_[size_t(y)] < 0 && p_.tensors[ti].region == Region::kScratch) {
    ASSIGN_OR_RETURN(Dims d, dims_of(id, y));
    const uint32_t v = alias(ti, d, "");
    p_.tensors[v].name = g_.tensor(y).name;
    map_[size_t(y)] = int32_t(v);
    return Status::OK();
  }
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, y));
  call(Opcode::kCopy, id, npu::CopyArgs{ti, to}, {ti}, {to});
  return Status::OK();
}

// Resize nearest (any coordinate mode the CPU kernel has): two adjacent axes change size; the
// kernel sees [outer, H, W, inner] and reads the CPU's source-index tables.
Status Lowering::lower_resize(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs[0];
  RETURN_IF_ERROR(check_same_quant(id, x, y));
  CHECK_OR_RETURN(n.attrs.get_string("mode", "nearest") == "nearest", Error::NotSupported, describe(g_, id),
                  ": Resize mode '", n.attrs.get_string("mode", "nearest"),
                  "' is not supported on the NPU (nearest, linear)");
  const Shape& xs = g_.tensor(x).shape;
  const Shape& ys = g_.tensor(y).shape;
  CHECK_OR_RETURN(xs.size() == ys.size() && !xs.empty(), Error::InvalidModel, describe(g_, id), ": ranks differ");
  // Tables per axis exactly as bind_resize computes them.
  ASSIGN_OR_RETURN(const ResizeAttrs attrs, resize_attrs(g_, id, xs, ys));
  const std::vector<double>& scales = attrs.scales;
  const std::string ctm = n.attrs.get_string("coordinate_transformation_mode", "half_pixel");
  std::vector<std::vector<int64_t>> tables(xs.size());
  std::vector<size_t> changed;
  for (size_t k = 0; k < xs.size(); ++k) {
    tables[k].resize(size_t(ys[k]));
    resize_nearest_table(attrs.coord, attrs.nearest, xs[k], ys[k], scales[k], tables[k].data());
    if (!resize_nearest_table_is_identity(xs[k], ys[k], tables[k].data())) changed.push_back(k);
  }
  // The two axes the kernel resizes: the changed ones (adjacent), padded with a neighbour.
  CHECK_OR_RETURN(changed.size() <= 2 && (changed.size() < 2 || changed[1] == changed[0] + 1), Error::NotSupported,
                  describe(g_, id), ": the NPU Resize changes two adjacent axes, ", shape_str(xs), " -> ",
                  shape_str(ys), " is not");
  CHECK_OR_RETURN(xs.size() >= 2 && xs.size() <= 4, Error::NotSupported, describe(g_, id), ": the int8 Resize kernel needs rank 2 to 4");
  size_t h = 0;
  if (changed.size() == 2) h = changed[0];
  else if (changed.size() == 1) h = changed[0] + 1 < xs.size() ? changed[0] : changed[0] - 1;
  const size_t w = h + 1;
  auto fold = [&](const Shape& s, Dims* d) -> Status {
    int64_t outer = 1, inner = 1;
    for (size_t k = 0; k < h; ++k) outer *= s[k];
    for (size_t k = w + 1; k < s.size(); ++k) inner *= s[k];
    const int64_t hh = s[h], ww = s[w];
    CHECK_OR_RETURN(outer <= kMaxDim && inner <= kMaxDim && hh <= kMaxDim && ww <= kMaxDim, Error::NotSupported,
                    describe(g_, id), ": tensor too large");
    *d = Dims{{int32_t(outer), int32_t(hh), int32_t(ww), int32_t(inner)}};
    return Status::OK();
  };
  Dims dx, dy;
  RETURN_IF_ERROR(fold(xs, &dx));
  RETURN_IF_ERROR(fold(ys, &dy));
  std::vector<int32_t> table;
  for (int64_t v : tables[h]) table.push_back(int32_t(v));
  for (int64_t v : tables[w]) table.push_back(int32_t(v));
  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, x));
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, y));
  if (p_.tensors[ti].dims != dx) ti = alias(ti, dx, ".hw");
  if (p_.tensors[to].dims != dy) to = alias(to, dy, ".hw");
  npu::ResizeArgs a{};
  a.input = ti;
  a.output = to;
  a.mode = 0;
  a.align_corners = ctm == "align_corners" ? 1 : 0;
  a.half_pixel_centers = (ctm == "half_pixel" || ctm == "pytorch_half_pixel") ? 1 : 0;
  const uint32_t blob = add_blob(id, "index_table", BlobKind::kIndexTable, to_bytes(table));
  KernelCall& c = call(Opcode::kResize, id, a, {ti}, {to});
  ref(c, WORD_OF(ResizeArgs, table_offset), blob);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul: MatMul of two int8 activations (int8::batch_matmul_setup). The
// kernel reads A [batch][m][k], B [batch][k][n] and writes [batch][m][n]; a B shared by every
// batch folds the batches into the rows. Other broadcasts stay on the CPU.

Status Lowering::lower_batch_matmul(NodeId id) {
  const Node& n = g_.node(id);
  ASSIGN_OR_RETURN(int8::BatchMatMulSetup s, int8::batch_matmul_setup(g_, id));
  const BatchMatMulInt8Params& p = s.p;
  const int64_t mk = int64_t(p.m) * p.k, kn = int64_t(p.k) * p.n;
  int32_t batch = p.batch, m = p.m;
  if (s.a_offset.empty() && batch > 1 && p.b_batch_stride == 0 && p.a_batch_stride == mk) {
    m = p.m * p.batch;  // batch_matmul_setup() checked batch * m against INT32_MAX
    batch = 1;
  }
  CHECK_OR_RETURN(s.a_offset.empty() && (batch == 1 || (p.a_batch_stride == mk && p.b_batch_stride == kn)),
                  Error::NotSupported, describe(g_, id), ": the int8 BatchMatMul kernel needs A and B with the same batch (A ",
                  shape_str(g_.tensor(n.input(0)).shape), ", B ", shape_str(g_.tensor(n.input(1)).shape), ")");
  npu::BatchMatMulArgs a{};
  ASSIGN_OR_RETURN(a.a, tensor(id, n.input(0)));
  ASSIGN_OR_RETURN(a.b, tensor(id, n.input(1)));
  ASSIGN_OR_RETURN(a.output, tensor(id, n.outputs[0]));
  a.batch = batch;
  a.m = m;
  a.k = p.k;
  a.n = p.n;
  a.multiplier = p.multiplier.multiplier;
  a.shift = p.multiplier.shift;
  a.act_min = p.qmin;
  a.act_max = p.qmax;
  call(Opcode::kBatchMatMul, id, a, {a.a, a.b}, {a.output});
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Reduce over any axes of a tensor of rank <= 4 (after dropping leading 1s): the axes become a
// mask over the right-aligned NHWC dims, the output keeps the reduced dims as 1 (keepdims only
// changes the IR shape). Mean/Sum take int8::reduce_setup()'s multiplier; Max/Min move values and
// need one quantization.

Status Lowering::lower_reduce(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.outputs.size() == 1, Error::InvalidModel, describe(g_, id),
                  ": expects 1 input and 1 output");
  const TensorId x = n.input(0), y = n.outputs[0];
  npu::ReduceArgs a{};
  std::vector<int64_t> axes;
  if (n.kind == OpKind::ReduceMean || n.kind == OpKind::ReduceSum) {
    ASSIGN_OR_RETURN(int8::ReduceSetup s, int8::reduce_setup(g_, id));
    axes = s.axes;
    a.op = n.kind == OpKind::ReduceMean ? 0 : 3;
    a.multiplier = s.p.multiplier.multiplier;
    a.shift = s.p.multiplier.shift;
  } else {
    RETURN_IF_ERROR(check_same_quant(id, x, y));
    RETURN_IF_ERROR(int8::check_per_tensor(g_, id, x, "input"));
    a.op = n.kind == OpKind::ReduceMax ? 1 : 2;
    const size_t rank = g_.tensor(x).shape.size();
    std::vector<char> seen(rank, 0);
    for (int64_t v : n.attrs.get_ints("axes")) {
      const int ax = normalize_axis(v, rank);
      CHECK_OR_RETURN(ax >= 0, Error::InvalidModel, describe(g_, id), ": axis ", v, " out of range");
      seen[size_t(ax)] = 1;
    }
    const bool all = std::find(seen.begin(), seen.end(), 1) == seen.end();
    for (size_t k = 0; k < rank; ++k)
      if (all || seen[k]) axes.push_back(int64_t(k));
  }
  const Shape& xs = g_.tensor(x).shape;
  std::vector<char> reduced(xs.size(), 0);
  for (int64_t v : axes) reduced[size_t(v)] = 1;
  if (xs.size() > 4) {
    // Rank above 4: reduced neighbours merge, kept neighbours merge, 1s drop (reducing them
    // changes nothing); the output is viewed with the folded kept dims.
    Shape ks = xs;
    for (size_t i = 0; i < ks.size(); ++i)
      if (reduced[i]) ks[i] = 1;
    std::vector<Dims> f;
    std::vector<std::vector<size_t>> groups;
    const bool max_min = n.kind == OpKind::ReduceMax || n.kind == OpKind::ReduceMin;
    RETURN_IF_ERROR(fold_axes(id, {xs, ks}, [&](size_t i, size_t j) { return reduced[i] == reduced[j]; }, &f, &groups,
                              max_min ? 0 : 4));
    if (groups.size() > 4) {
      // Max/Min over axes that alternate with kept ones: one axis at a time ([1][before][axis][after],
      // exact: no requantization in between), the last step into the output.
      Shape cur = xs;
      ASSIGN_OR_RETURN(uint32_t src, tensor(id, x));
      std::vector<size_t> todo;
      for (size_t i = 0; i < xs.size(); ++i)
        if (reduced[i] && xs[i] != 1) todo.push_back(i);
      for (size_t m = 0; m < todo.size(); ++m) {
        const size_t r = todo[m];
        int64_t before = 1, after = 1;
        for (size_t i = 0; i < r; ++i) before *= cur[i];
        for (size_t i = r + 1; i < cur.size(); ++i) after *= cur[i];
        CHECK_OR_RETURN(before <= kMaxDim && after <= kMaxDim, Error::NotSupported, describe(g_, id),
                        ": folded dimension above 2^24");
        const Dims din{{1, int32_t(before), int32_t(cur[r]), int32_t(after)}};
        const Dims dout{{1, int32_t(before), 1, int32_t(after)}};
        npu::ReduceArgs step = a;
        step.axes_mask = 1 << 2;
        step.input = p_.tensors[src].dims == din ? src : alias(src, din, ".axis");
        if (m + 1 == todo.size()) {
          ASSIGN_OR_RETURN(step.output, tensor_as(id, y, dout));
        } else {
          step.output = temp(id, "reduce" + std::to_string(m), dout, p_.tensors[src].zero_point);
        }
        call(Opcode::kReduce, id, step, {step.input}, {step.output});
        src = step.output;
        cur[r] = 1;
      }
      return Status::OK();
    }
    for (size_t k = 0; k < groups.size(); ++k)
      if (reduced[groups[k].front()]) a.axes_mask |= 1 << int(4 - groups.size() + k);
    ASSIGN_OR_RETURN(a.input, tensor_as(id, x, f[0]));
    ASSIGN_OR_RETURN(a.output, tensor_as(id, y, f[1]));
  } else {
    for (int64_t v : axes) a.axes_mask |= 1 << nhwc_axis(xs.size(), v);
    ASSIGN_OR_RETURN(a.input, tensor(id, x));
    ASSIGN_OR_RETURN(a.output, tensor(id, y));
    a.output = reduced_view(a.input, a.output, a.axes_mask);
  }
  call(Opcode::kReduce, id, a, {a.input}, {a.output});
  return Status::OK();
}

// Resize linear (int8::resize_linear_setup): the tensor folded to
// [outer, H, W, inner] around the two resized axes; the weights hold the requantization
// multiplier and the fixed-point taps (kernels/resize_int8.h).
Status Lowering::lower_resize_linear(NodeId id) {
  const Node& n = g_.node(id);
  ASSIGN_OR_RETURN(int8::ResizeLinearSetup s, int8::resize_linear_setup(g_, id));
  const ResizeBilinearInt8Params& p = s.p;
  for (int64_t v : {p.outer, p.in_h, p.in_w, p.out_h, p.out_w, p.inner})
    CHECK_OR_RETURN(v >= 1 && v <= kMaxDim, Error::NotSupported, describe(g_, id), ": tensor too large");
  const Dims dx{{int32_t(p.outer), int32_t(p.in_h), int32_t(p.in_w), int32_t(p.inner)}};
  const Dims dy{{int32_t(p.outer), int32_t(p.out_h), int32_t(p.out_w), int32_t(p.inner)}};
  std::vector<int32_t> table{p.multiplier.multiplier, p.multiplier.shift};
  for (const auto* taps : {&s.taps_h, &s.taps_w})
    for (const ResizeLinearTapInt8& t : *taps) table.insert(table.end(), {t.i0, t.i1, t.w1});
  ASSIGN_OR_RETURN(uint32_t ti, tensor(id, n.input(0)));
  ASSIGN_OR_RETURN(uint32_t to, tensor(id, n.outputs[0]));
  if (p_.tensors[ti].dims != dx) ti = alias(ti, dx, ".hw");
  if (p_.tensors[to].dims != dy) to = alias(to, dy, ".hw");
  const std::string ctm = n.attrs.get_string("coordinate_transformation_mode", "half_pixel");
  npu::ResizeArgs a{};
  a.input = ti;
  a.output = to;
  a.mode = 1;
  a.align_corners = ctm == "align_corners" ? 1 : 0;
  a.half_pixel_centers = (ctm == "half_pixel" || ctm == "pytorch_half_pixel") ? 1 : 0;
  const uint32_t blob = add_blob(id, "bilinear_table", BlobKind::kIndexTable, to_bytes(table));
  KernelCall& c = call(Opcode::kResize, id, a, {ti}, {to});
  ref(c, WORD_OF(ResizeArgs, table_offset), blob);
  return Status::OK();
}



// The zero-inserted convolution reads input pixel i at output o through tap k when
// o + d * k - before == s * i. Output row o = s * m + p (phase p) thus sees only the taps with
// (p + d * k - before) = 0 mod s, every s / gcd(d, s)-th tap from the first, k0, reading
// i = m + c0 + t * (d / gcd(d, s)) with c0 = (p + d * k0 - before) / s: a stride-1 convolution of the
// input itself with those taps. Per axis every phase computes ceil(out / s) rows (the last row of a
// shorter phase is padding and cut off); the phases are interleaved by two concatenations (along W
// in [N * Mh, Mw, sw, C] views, then along H in [N * Mh, sh, Mw * sw, C]) and sliced to the output.
// The same int32 sums as the zero-inserted convolution (its inserted zeros are the input zero
// point, which adds nothing), so the same bytes, with stride_h * stride_w times fewer MACs.
StatusOr<bool> Lowering::lower_conv_transpose_phases(NodeId id, const TransposePhases& tp) {
  struct Phase {
    std::vector<int64_t> taps;
    int64_t dd = 1, c0 = 0, start = 0, end = 0, pad_before = 0, pad_after = 0;
  };
  std::vector<Phase> phases[2];
  int64_t rows[2];
  const int64_t in_len[2] = {tp.in.h, tp.in.w}, out_len[2] = {tp.out.h, tp.out.w};
  for (int a = 0; a < 2; ++a) {
    const int64_t s = tp.stride[a], d = tp.dil[a];
    if (s > 8) return false;
    rows[a] = (out_len[a] + s - 1) / s;
    for (int64_t p = 0; p < s; ++p) {
      Phase ph;
      for (int64_t k = 0; k < tp.k[a]; ++k)
        if ((((p + d * k - tp.before[a]) % s) + s) % s == 0) ph.taps.push_back(k);
      if (ph.taps.empty()) return false;
      const int64_t q = ph.taps.size() > 1 ? ph.taps[1] - ph.taps[0] : s;
      ph.dd = ph.taps.size() > 1 ? d * q / s : 1;  // one tap: no dilation
      for (size_t t = 1; t < ph.taps.size(); ++t)
        if (ph.taps[t] - ph.taps[t - 1] != q || (d * q) % s != 0) return false;  // (never: number theory)
      const int64_t c0 = (p + d * ph.taps[0] - tp.before[a]) / s;  // exact
      ph.c0 = c0;
      const int64_t last = rows[a] - 1 + c0 + int64_t(ph.taps.size() - 1) * ph.dd;
      ph.start = std::max<int64_t>(0, c0);
      ph.end = std::min<int64_t>(in_len[a], last + 1);
      if (ph.end <= ph.start) return false;
      ph.pad_before = std::max<int64_t>(0, -c0);
      ph.pad_after = std::max<int64_t>(0, last + 1 - in_len[a]);
      if (ph.pad_before > kMaxDim || ph.pad_after > kMaxDim) return false;
      phases[a].push_back(std::move(ph));
    }
  }
  const int64_t sh = tp.stride[0], sw = tp.stride[1], Mh = rows[0], Mw = rows[1];
  const int64_t N = tp.in.n, C = tp.in.c, O = tp.cout;
  if (N * Mh * sh > kMaxDim || Mw * sw > kMaxDim || N * Mh * Mw * sw * O > (int64_t(1) << 31)) return false;
  if (tp.group == 1) {
    ASSIGN_OR_RETURN(const bool stacked, lower_conv_transpose_stacked(id, tp, phases, rows));
    if (stacked) return true;
  }
  const int32_t zx = p_.tensors[tp.ti].zero_point, zy = p_.tensors[tp.to].zero_point;
  const auto d32 = [](int64_t a, int64_t b, int64_t c, int64_t e) {
    return Dims{{int32_t(a), int32_t(b), int32_t(c), int32_t(e)}};
  };
  const std::vector<uint8_t>& w = *tp.ohwi;
  // The last concatenation writes a scratch output in place when nothing is cut off.
  const bool direct = Mh * sh == tp.out.h && Mw * sw == tp.out.w && p_.tensors[tp.to].region == Region::kScratch;
  std::vector<uint32_t> row_parts;  // per H phase: its W phases interleaved, [N * Mh, 1, Mw * sw, O]
  for (int64_t ph = 0; ph < sh; ++ph) {
    std::vector<uint32_t> cols;  // per W phase: [N * Mh, Mw, 1, O]
    for (int64_t pw = 0; pw < sw; ++pw) {
      const Phase& a = phases[0][size_t(ph)];
      const Phase& b = phases[1][size_t(pw)];
      uint32_t src = tp.ti;
      if (a.start > 0 || b.start > 0 || a.end < in_len[0] || b.end < in_len[1]) {
        src = temp(id, str_cat("phase", ph, "_", pw, "_in"), d32(N, a.end - a.start, b.end - b.start, C), zx);
        npu::SliceArgs sa{};
        sa.input = tp.ti;
        sa.output = src;
        sa.begin[1] = int32_t(a.start);
        sa.begin[2] = int32_t(b.start);
        call(Opcode::kSlice, id, sa, {tp.ti}, {src});
      }
      const int64_t th = int64_t(a.taps.size()), tw = int64_t(b.taps.size());
      std::vector<uint8_t> sub(size_t(O * th * tw * tp.cin_g));
      if (!opt_.check_only)
        for (int64_t o = 0; o < O; ++o)
          for (int64_t y = 0; y < th; ++y)
            for (int64_t x = 0; x < tw; ++x)
              std::memcpy(&sub[size_t(((o * th + y) * tw + x) * tp.cin_g)],
                          &w[size_t(((o * tp.k[0] + a.taps[size_t(y)]) * tp.k[1] + b.taps[size_t(x)]) * tp.cin_g)],
                          size_t(tp.cin_g));
      const uint32_t out = temp(id, str_cat("phase", ph, "_", pw), d32(N, Mh, Mw, O), zy);
      ConvCall cc;
      cc.kh = int32_t(th);
      cc.kw = int32_t(tw);
      cc.dil_h = int32_t(a.dd);
      cc.dil_w = int32_t(b.dd);
      cc.pad_top = int32_t(a.pad_before);
      cc.pad_bottom = int32_t(a.pad_after);
      cc.pad_left = int32_t(b.pad_before);
      cc.pad_right = int32_t(b.pad_after);
      cc.group = int32_t(tp.group);
      cc.cout = int32_t(O);
      cc.cin_g = int32_t(tp.cin_g);
      cc.depthwise = tp.depthwise;
      emit_conv(id, src, out, tp.y, cc, std::move(sub), *tp.bias, *tp.mult);
      cols.push_back(sw > 1 ? alias(out, d32(N * Mh, Mw, 1, O), ".cols") : out);
    }
    if (sw == 1) {
      row_parts.push_back(alias(cols[0], d32(N * Mh, 1, Mw, O), ".rows"));
      continue;
    }
    const uint32_t t = sh == 1 && direct ? alias(tp.to, d32(N * Mh, Mw, sw, O), ".phases")
                                         : temp(id, str_cat("phase", ph, "_w"), d32(N * Mh, Mw, sw, O), zy);
    npu::ConcatArgs ca{};
    ca.output = t;
    ca.axis = 2;
    ca.num_inputs = uint32_t(cols.size());
    for (size_t i = 0; i < cols.size(); ++i) ca.inputs[i] = cols[i];
    call(Opcode::kConcat, id, ca, cols, {t});
    row_parts.push_back(alias(t, d32(N * Mh, 1, Mw * sw, O), ".rows"));
  }
  uint32_t full = row_parts[0];
  if (sh > 1) {
    full = direct ? alias(tp.to, d32(N * Mh, sh, Mw * sw, O), ".phases") : temp(id, "phases", d32(N * Mh, sh, Mw * sw, O), zy);
    npu::ConcatArgs ca{};
    ca.output = full;
    ca.axis = 1;
    ca.num_inputs = uint32_t(row_parts.size());
    for (size_t i = 0; i < row_parts.size(); ++i) ca.inputs[i] = row_parts[i];
    call(Opcode::kConcat, id, ca, row_parts, {full});
  }
  if (direct) return true;  // the last concatenation wrote the output
  // [N, Mh * sh, Mw * sw, O] cut to the output: a slice (a copy when nothing is cut).
  const uint32_t view = alias(full, d32(N, Mh * sh, Mw * sw, O), ".nhwc");
  if (Mh * sh == tp.out.h && Mw * sw == tp.out.w) {
    call(Opcode::kCopy, id, npu::CopyArgs{view, tp.to}, {view}, {tp.to});
  } else {
    npu::SliceArgs sa{};
    sa.input = view;
    sa.output = tp.to;
    call(Opcode::kSlice, id, sa, {view}, {tp.to});
  }
  return true;
}

template <typename PhaseT>
StatusOr<bool> Lowering::lower_conv_transpose_stacked(NodeId id, const TransposePhases& tp,
                                                      const std::vector<PhaseT> (&phases)[2], const int64_t (&rows)[2]) {
  const int64_t in_len[2] = {tp.in.h, tp.in.w};
  int64_t dd[2], cmin[2], tu[2], start[2], end[2], pb[2], pa[2];
  std::vector<int64_t> off[2];  // per phase: its first tap's position in the union window
  for (int a = 0; a < 2; ++a) {
    dd[a] = 1;
    for (const PhaseT& p : phases[a])
      if (p.taps.size() > 1) dd[a] = p.dd;
    for (const PhaseT& p : phases[a])
      if (p.taps.size() > 1 && p.dd != dd[a]) return false;
    cmin[a] = INT64_MAX;
    int64_t cmax = INT64_MIN;
    for (const PhaseT& p : phases[a]) {
      cmin[a] = std::min(cmin[a], p.c0);
      cmax = std::max(cmax, p.c0 + int64_t(p.taps.size() - 1) * dd[a]);
    }
    for (const PhaseT& p : phases[a]) {
      if ((p.c0 - cmin[a]) % dd[a] != 0) return false;
      off[a].push_back((p.c0 - cmin[a]) / dd[a]);
    }
    tu[a] = (cmax - cmin[a]) / dd[a] + 1;
    const int64_t last = rows[a] - 1 + cmax;
    start[a] = std::max<int64_t>(0, cmin[a]);
    end[a] = std::min<int64_t>(in_len[a], last + 1);
    if (end[a] <= start[a] || tu[a] > kMaxDim) return false;
    pb[a] = std::max<int64_t>(0, -cmin[a]);
    pa[a] = std::max<int64_t>(0, last + 1 - in_len[a]);
    if (pb[a] > kMaxDim || pa[a] > kMaxDim) return false;
  }
  const int64_t sh = tp.stride[0], sw = tp.stride[1], Mh = rows[0], Mw = rows[1];
  const int64_t N = tp.in.n, C = tp.in.c, O = tp.cout, P = sh * sw, cin = tp.cin_g;
  if (P * O > kMaxDim || sw * O > kMaxDim || N * Mh > kMaxDim) return false;
  const int32_t zx = p_.tensors[tp.ti].zero_point, zy = p_.tensors[tp.to].zero_point;
  const auto d32 = [](int64_t a, int64_t b, int64_t c, int64_t e) {
    return Dims{{int32_t(a), int32_t(b), int32_t(c), int32_t(e)}};
  };
  uint32_t src = tp.ti;
  if (start[0] > 0 || start[1] > 0 || end[0] < in_len[0] || end[1] < in_len[1]) {
    src = temp(id, "phases_in", d32(N, end[0] - start[0], end[1] - start[1], C), zx);
    npu::SliceArgs sa{};
    sa.input = tp.ti;
    sa.output = src;
    sa.begin[1] = int32_t(start[0]);
    sa.begin[2] = int32_t(start[1]);
    call(Opcode::kSlice, id, sa, {tp.ti}, {src});
  }
  // Output channel (ph * sw + pw) * O + o holds phase (ph, pw) of channel o.
  std::vector<uint8_t> wst(size_t(P * O * tu[0] * tu[1] * cin), 0);
  std::vector<int32_t> bias;
  std::vector<FixedMultiplier> mult;
  const std::vector<uint8_t>& w = *tp.ohwi;
  for (int64_t ph = 0; ph < sh; ++ph)
    for (int64_t pw = 0; pw < sw; ++pw) {
      const PhaseT& a = phases[0][size_t(ph)];
      const PhaseT& b = phases[1][size_t(pw)];
      for (int64_t o = 0; o < O; ++o) {
        bias.push_back((*tp.bias)[size_t(o)]);
        mult.push_back((*tp.mult)[size_t(o)]);
        const int64_t oc = (ph * sw + pw) * O + o;
        for (size_t y = 0; y < a.taps.size() && !opt_.check_only; ++y)
          for (size_t x = 0; x < b.taps.size(); ++x) {
            const int64_t uy = off[0][size_t(ph)] + int64_t(y), ux = off[1][size_t(pw)] + int64_t(x);
            std::memcpy(&wst[size_t(((oc * tu[0] + uy) * tu[1] + ux) * cin)],
                        &w[size_t(((o * tp.k[0] + a.taps[y]) * tp.k[1] + b.taps[x]) * cin)], size_t(cin));
          }
      }
    }
  const bool exact = Mh * sh == tp.out.h && Mw * sw == tp.out.w;
  const bool in_place = exact && p_.tensors[tp.to].region == Region::kScratch;
  // sh == 1: the conv output [N, Mh, Mw, sw * O] is already the interleaved [N, Mh, Mw * sw, O].
  const uint32_t conv_out = sh == 1 && in_place ? alias(tp.to, d32(N, Mh, Mw, P * O), ".phases")
                                                : temp(id, "phases", d32(N, Mh, Mw, P * O), zy);
  ConvCall cc;
  cc.kh = int32_t(tu[0]);
  cc.kw = int32_t(tu[1]);
  cc.dil_h = int32_t(dd[0]);
  cc.dil_w = int32_t(dd[1]);
  cc.pad_top = int32_t(pb[0]);
  cc.pad_bottom = int32_t(pa[0]);
  cc.pad_left = int32_t(pb[1]);
  cc.pad_right = int32_t(pa[1]);
  cc.group = 1;
  cc.cout = int32_t(P * O);
  cc.cin_g = int32_t(cin);
  emit_conv(id, src, conv_out, tp.y, cc, std::move(wst), bias, mult);
  if (sh == 1 && in_place) return true;
  uint32_t full = alias(conv_out, d32(N, Mh, Mw * sw, O), ".nhwc");
  if (sh > 1) {
    // [N * Mh, Mw, sh, sw * O] -> [N * Mh, sh, Mw, sw * O] = [N, Mh * sh, Mw * sw, O].
    const uint32_t v = alias(conv_out, d32(N * Mh, Mw, sh, sw * O), ".by_row_phase");
    const uint32_t t = in_place ? alias(tp.to, d32(N * Mh, sh, Mw, sw * O), ".interleaved")
                                : temp(id, "interleaved", d32(N * Mh, sh, Mw, sw * O), zy);
    npu::TransposeArgs ta{};
    ta.input = v;
    ta.output = t;
    const Dims perm{{0, 2, 1, 3}};
    for (int i = 0; i < 4; ++i) ta.perm[i] = perm[size_t(i)];
    call(Opcode::kTranspose, id, ta, {v}, {t});
    if (in_place) return true;
    full = alias(t, d32(N, Mh * sh, Mw * sw, O), ".nhwc");
  }
  if (exact) {
    call(Opcode::kCopy, id, npu::CopyArgs{full, tp.to}, {full}, {tp.to});
  } else {
    npu::SliceArgs sa{};
    sa.input = full;
    sa.output = tp.to;
    call(Opcode::kSlice, id, sa, {full}, {tp.to});
  }
  return true;
}
// ---------------------------------------------------------------------------------------------
// Float kernel calls: an op a program keeps in float (no int8 kernel, or kept in float by the
// user) runs on the CPU's float kernels with the parameters the host executor's binders give
// them (src/exec/ops), so the program computes the host's floats bit for bit. Its edges are
// Quantize / Dequantize calls. CPU only: the partitioner never delegates a float op.

uint32_t float_bits(double v) {
  const float f = float(v);
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

bool Lowering::is_float_node(NodeId id) const {
  const Node& n = g_.node(id);
  if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear) return false;
  for (TensorId t : n.inputs)
    if (t != kNoTensor && !g_.tensor(t).is_constant() && g_.tensor(t).dtype == DType::F32) return true;
  for (TensorId t : n.outputs)
    if (t != kNoTensor && g_.tensor(t).dtype == DType::F32) return true;
  return false;
}

Status Lowering::lower_quantize(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g_, id), ": expects 1 input and 1 output");
  const bool q = n.kind == OpKind::QuantizeLinear;
  const TensorId x = n.input(0), y = n.outputs[0];
  const Tensor& qt = g_.tensor(q ? y : x);
  const Tensor& ft = g_.tensor(q ? x : y);
  CHECK_OR_RETURN(ft.dtype == DType::F32 && !ft.is_constant() && qt.dtype == DType::I8 && qt.is_quantized() &&
                      !qt.quant.per_axis(),
                  Error::NotSupported, describe(g_, id), ": program files ", q ? "quantize" : "dequantize",
                  " float32 activations to int8 with per-tensor parameters (got ", dtype_name(ft.dtype), " <-> ",
                  dtype_name(qt.dtype), qt.quant.per_axis() ? ", per-axis" : "", ")");
  CHECK_OR_RETURN(g_.tensor(x).shape == g_.tensor(y).shape, Error::InvalidModel, describe(g_, id),
                  ": input and output shapes differ");
  npu::QuantizeArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  a.scale_bits = float_bits(qt.quant.scale[0]);
  call(q ? Opcode::kQuantize : Opcode::kDequantize, id, a, {a.input}, {a.output});
  return Status::OK();
}

StatusOr<uint32_t> Lowering::float_blob(NodeId id, TensorId t, const char* purpose, int64_t count) {
  const Tensor& x = g_.tensor(t);
  CHECK_OR_RETURN(x.is_constant() && x.dtype == DType::F32 && num_elements(x.shape) == count, Error::NotSupported,
                  describe(g_, id), ": the float kernel call needs its ", purpose, " '", x.name, "' as a float32 constant of ",
                  count, " values, got ", dtype_name(x.dtype), shape_str(x.shape), x.is_constant() ? "" : " computed at run time");
  return add_blob(id, purpose, BlobKind::kFloat32, x.data->bytes);
}

Status Lowering::lower_float(NodeId id) {
  const Node& n = g_.node(id);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const TensorId t = n.inputs[i];
    // A Gather's int32 / int64 indices and a Where's bool condition: their lowerings check them.
    if ((n.kind == OpKind::Gather && i == 1) || (n.kind == OpKind::Where && i == 0)) continue;
    if (t != kNoTensor && !g_.tensor(t).is_constant())
      CHECK_OR_RETURN(g_.tensor(t).dtype == DType::F32 && !g_.tensor(t).is_quantized(), Error::NotSupported,
                      describe(g_, id), ": computes in float but its input '", g_.tensor(t).name, "' is ",
                      dtype_name(g_.tensor(t).dtype), "; float kernel calls read float32 only");
  }
  for (TensorId t : n.outputs)
    if (t != kNoTensor)
      CHECK_OR_RETURN(g_.tensor(t).dtype == DType::F32, Error::NotSupported, describe(g_, id),
                      ": computes in float but its output '", g_.tensor(t).name, "' is ",
                      dtype_name(g_.tensor(t).dtype), "; float kernel calls write float32 only");
  switch (n.kind) {
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::PRelu:
    case OpKind::PowTensor: return lower_float_binary(id);
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish:
    case OpKind::Tanh:
    case OpKind::Abs:
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sqrt:
    case OpKind::Reciprocal:
    case OpKind::Erf:
    case OpKind::Gelu:
    case OpKind::Pow: return lower_float_unary(id);
    case OpKind::Softmax: return lower_float_softmax(id);
    case OpKind::Gemm: return lower_float_gemm(id);
    case OpKind::MatMul: {
      // A constant 2-D B is packed at compile time (gemm_f32); a run-time or batched B per run.
      const TensorId b = n.inputs.size() == 2 ? n.input(1) : kNoTensor;
      const bool constant_2d = b != kNoTensor && g_.tensor(b).is_constant() && g_.tensor(b).shape.size() == 2;
      return constant_2d ? lower_float_gemm(id) : lower_float_batch_matmul(id);
    }
    case OpKind::Conv:
    case OpKind::ConvTranspose: return lower_float_conv(id);
    case OpKind::GRU:
    case OpKind::LSTM: return lower_float_recurrent(id);
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalMaxPool:
    case OpKind::GlobalAveragePool: return lower_float_pool(id);
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceSum:
    case OpKind::ReduceL2: return lower_float_reduce(id);
    case OpKind::Resize: return lower_float_resize(id);
    case OpKind::LayerNormalization: return lower_float_layer_norm(id);
    case OpKind::Where: return lower_float_where(id);
    case OpKind::Gather: return lower_float_gather(id);
    case OpKind::Expand: return lower_expand(id);
    // Data movement is the same kernel call for any element size.
    case OpKind::Pad: return lower_pad(id);
    case OpKind::Slice: return lower_slice_node(id);
    case OpKind::Split: return lower_split(id);
    case OpKind::Concat: return lower_concat(id);
    case OpKind::Transpose: return lower_transpose(id);
    case OpKind::Reshape:
    case OpKind::Identity:
    case OpKind::Dropout: return lower_copy(id);
    default:
      return error(Error::NotSupported, describe(g_, id), ": no float kernel call for ", op_kind_name(n.kind),
                   " (a program runs float ops with the elementwise, unary, softmax, gemm, batch-matmul, conv, pool, "
                   "reduce, resize, layer-norm, recurrent, where, gather, cast and expand kernels and data movement); quantize "
                   "it, or run the ONNX model with `neutron run MODEL.onnx`");
  }
}

Status Lowering::lower_float_binary(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g_, id), ": expects 2 inputs and 1 output");
  const TensorId ai = n.input(0), bi = n.input(1), yi = n.outputs[0];
  for (TensorId t : {ai, bi, yi}) {
    CHECK_OR_RETURN(g_.tensor(t).dtype == DType::F32, Error::NotSupported, describe(g_, id), ": operand '",
                    g_.tensor(t).name, "' is ", dtype_name(g_.tensor(t).dtype), ", the float kernel needs float32");
    RETURN_IF_ERROR(check_rank4(id, t));
  }
  const size_t rank = g_.tensor(yi).shape.size();
  CHECK_OR_RETURN(g_.tensor(ai).shape.size() <= rank && g_.tensor(bi).shape.size() <= rank, Error::InvalidModel,
                  describe(g_, id), ": an operand has a higher rank than the output");
  CHECK_OR_RETURN(!n.attrs.has("act_min") && !n.attrs.has("act_max") && n.attrs.get_int("act_relu", 0) == 0,
                  Error::NotSupported, describe(g_, id), ": a fused activation on a float binary op is host-only");
  npu::ElementwiseF32Args a{};
  ASSIGN_OR_RETURN(a.a, tensor(id, ai));
  ASSIGN_OR_RETURN(a.b, tensor(id, bi));
  ASSIGN_OR_RETURN(a.output, tensor(id, yi));
  switch (n.kind) {
    case OpKind::Add: a.op = int32_t(npu::ElementwiseF32Op::kAdd); break;
    case OpKind::Sub: a.op = int32_t(npu::ElementwiseF32Op::kSub); break;
    case OpKind::Mul: a.op = int32_t(npu::ElementwiseF32Op::kMul); break;
    case OpKind::Div: a.op = int32_t(npu::ElementwiseF32Op::kDiv); break;
    case OpKind::Max: a.op = int32_t(npu::ElementwiseF32Op::kMax); break;
    case OpKind::Min: a.op = int32_t(npu::ElementwiseF32Op::kMin); break;
    case OpKind::PowTensor: a.op = int32_t(npu::ElementwiseF32Op::kPow); break;
    default: a.op = int32_t(npu::ElementwiseF32Op::kPRelu); break;
  }
  call(Opcode::kElementwiseF32, id, a, {a.a, a.b}, {a.output});
  return Status::OK();
}

Status Lowering::lower_float_unary(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g_, id), ": expects 1 input and 1 output");
  const TensorId x = n.input(0), y = n.outputs[0];
  CHECK_OR_RETURN(g_.tensor(x).shape == g_.tensor(y).shape, Error::InvalidModel, describe(g_, id),
                  ": output shape differs from the input's");
  // The parameters of bind_unary (src/exec/ops/unary.cc).
  UnaryOp op = UnaryOp::Relu;
  double alpha = 0, beta = 0, lo = 0, hi = 0;
  switch (n.kind) {
    case OpKind::Relu: op = UnaryOp::Relu; break;
    case OpKind::Clip:
      op = UnaryOp::Clip;
      lo = n.attrs.get_float("min", -INFINITY);
      hi = n.attrs.get_float("max", INFINITY);
      CHECK_OR_RETURN(!std::isnan(lo) && !std::isnan(hi), Error::InvalidModel, describe(g_, id),
                      ": Clip bounds must not be NaN");
      break;
    case OpKind::LeakyRelu: op = UnaryOp::LeakyRelu, alpha = n.attrs.get_float("alpha", 0.01); break;
    case OpKind::Sigmoid: op = UnaryOp::Sigmoid; break;
    case OpKind::HardSigmoid:
      op = UnaryOp::HardSigmoid, alpha = n.attrs.get_float("alpha", 0.2), beta = n.attrs.get_float("beta", 0.5);
      break;
    case OpKind::HardSwish: op = UnaryOp::HardSwish; break;
    case OpKind::Tanh: op = UnaryOp::Tanh; break;
    case OpKind::Abs: op = UnaryOp::Abs; break;
    case OpKind::Neg: op = UnaryOp::Neg; break;
    case OpKind::Exp: op = UnaryOp::Exp; break;
    case OpKind::Log: op = UnaryOp::Log; break;
    case OpKind::Sqrt: op = UnaryOp::Sqrt; break;
    case OpKind::Reciprocal: op = UnaryOp::Reciprocal; break;
    case OpKind::Erf: op = UnaryOp::Erf; break;
    case OpKind::Gelu:
      op = n.attrs.get_string("approximate", "none") == "tanh" ? UnaryOp::GeluTanh : UnaryOp::Gelu;
      break;
    default: op = UnaryOp::Pow, alpha = n.attrs.get_float("exponent", 1.0); break;
  }
  npu::UnaryF32Args a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  a.op = int32_t(op);
  a.alpha_bits = float_bits(alpha);
  a.beta_bits = float_bits(beta);
  a.min_bits = float_bits(lo);
  a.max_bits = float_bits(hi);
  call(Opcode::kUnaryF32, id, a, {a.input}, {a.output});
  return Status::OK();
}

Status Lowering::lower_float_softmax(NodeId id) {
  const Node& n = g_.node(id);
  const TensorId x = n.input(0), y = n.outputs[0];
  const Shape& xs = g_.tensor(x).shape;
  CHECK_OR_RETURN(xs == g_.tensor(y).shape, Error::InvalidModel, describe(g_, id), ": output shape differs from the input's");
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), xs.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g_, id), ": axis out of range");
  npu::SoftmaxF32Args a{};
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= xs[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < xs.size(); ++i) inner *= xs[i];
  CHECK_OR_RETURN(outer <= INT32_MAX && inner <= INT32_MAX && xs[size_t(axis)] <= INT32_MAX, Error::NotSupported,
                  describe(g_, id), ": softmax view too large");
  a.outer = int32_t(outer);
  a.axis = int32_t(xs[size_t(axis)]);
  a.inner = int32_t(inner);
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  call(Opcode::kSoftmaxF32, id, a, {a.input}, {a.output});
  return Status::OK();
}

// Gemm (A [M, K], constant B, transA 0, C a constant row or absent) and MatMul by a constant 2-D B
// (A's leading dims are rows), as bind_gemm / bind_matmul compute them: B packed with alpha,
// bias = beta * C.
Status Lowering::lower_float_gemm(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g_, id), ": expects inputs A, B");
  const TensorId ai = n.input(0), bi = n.input(1), yi = n.outputs[0];
  const Tensor& bt = g_.tensor(bi);
  const Shape& as = g_.tensor(ai).shape;
  CHECK_OR_RETURN(bt.is_constant() && bt.dtype == DType::F32 && bt.shape.size() == 2, Error::NotSupported,
                  describe(g_, id), ": the float gemm kernel call needs a constant 2-D float32 B, got '", bt.name, "' ",
                  dtype_name(bt.dtype), shape_str(bt.shape), bt.is_constant() ? "" : " computed at run time");
  const bool gemm = n.kind == OpKind::Gemm;
  const bool trans_b = gemm && n.attrs.get_int("transB", 0) != 0;
  CHECK_OR_RETURN(!gemm || n.attrs.get_int("transA", 0) == 0, Error::NotSupported, describe(g_, id),
                  ": transA is not supported by the float gemm kernel call");
  const int64_t K = trans_b ? bt.shape[1] : bt.shape[0], N = trans_b ? bt.shape[0] : bt.shape[1];
  CHECK_OR_RETURN(!as.empty() && as.back() == K && (!gemm || as.size() == 2), Error::InvalidModel, describe(g_, id),
                  ": A ", shape_str(as), " and B ", shape_str(bt.shape), " do not fit together");
  const int64_t rows = num_elements(as) / K;
  CHECK_OR_RETURN(num_elements(g_.tensor(yi).shape) == rows * N, Error::InvalidModel, describe(g_, id),
                  ": output size differs from rows x N");
  CHECK_OR_RETURN(rows <= INT32_MAX && K <= (1 << 24) && N <= (1 << 24), Error::NotSupported, describe(g_, id),
                  ": gemm too large");
  npu::GemmF32Args a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, ai));
  ASSIGN_OR_RETURN(a.output, tensor(id, yi));
  a.rows = int32_t(rows);
  a.in_features = int32_t(K);
  a.out_features = int32_t(N);
  a.trans_b = trans_b ? 1 : 0;
  a.alpha_bits = float_bits(gemm ? n.attrs.get_float("alpha", 1.0) : 1.0);
  a.act_relu = n.attrs.get_int("act_relu", 0) != 0 ? 1 : 0;
  a.act_min_bits = float_bits(n.attrs.get_float("act_min", -INFINITY));
  a.act_max_bits = float_bits(n.attrs.get_float("act_max", INFINITY));
  a.bias_offset = npu::kNoOperand;
  uint32_t bias_blob = UINT32_MAX;
  const float beta = float(gemm ? n.attrs.get_float("beta", 1.0) : 1.0);
  const TensorId c = gemm ? n.input(2) : kNoTensor;
  if (c != kNoTensor && beta != 0.0f) {
    const Tensor& ct = g_.tensor(c);
    Shape cs = ct.shape;
    while (cs.size() < 2) cs.insert(cs.begin(), 1);
    CHECK_OR_RETURN(ct.is_constant() && ct.dtype == DType::F32 && cs.size() == 2 && cs[0] == 1 &&
                        (cs[1] == 1 || cs[1] == N),
                    Error::NotSupported, describe(g_, id), ": the float gemm kernel call needs C as a constant row, got '",
                    ct.name, "' ", shape_str(ct.shape));
    std::vector<float> bias(static_cast<size_t>(N));
    for (int64_t j = 0; j < N; ++j) bias[size_t(j)] = beta * ct.data->data<float>()[cs[1] == 1 ? 0 : j];
    bias_blob = add_blob(id, "bias", BlobKind::kFloat32, to_bytes(bias));
  }
  // B packed here, as bind_gemm / bind_matmul pack it (alpha folded): the runtime reads it in place.
  std::vector<float> packed(gemm_f32_packed_b_floats(K, N), 0.0f);
  if (!opt_.check_only)
    gemm_f32_pack_b(bt.data->data<float>(), trans_b ? K : N, trans_b, K, N, float(gemm ? n.attrs.get_float("alpha", 1.0) : 1.0),
                    packed.data());
  const uint32_t wblob = add_blob(id, "weights", BlobKind::kFloat32, to_bytes(packed));
  KernelCall& k = call(Opcode::kGemmF32, id, a, {a.input}, {a.output});
  ref(k, WORD_OF(GemmF32Args, weights_offset), wblob);
  if (bias_blob != UINT32_MAX) ref(k, WORD_OF(GemmF32Args, bias_offset), bias_blob);
  return Status::OK();
}

Status Lowering::lower_float_conv(NodeId id) {
  const Node& n = g_.node(id);
  const bool transposed = n.kind == OpKind::ConvTranspose;
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g_, id), ": expects inputs X, W, B? and one output");
  CHECK_OR_RETURN(n.attrs.get_int("channels_last", 0) == 1, Error::NotSupported, describe(g_, id),
                  ": NCHW data; the float conv kernel call runs channels-last (layout-nhwc)");
  const TensorId x = n.input(0), y = n.outputs[0];
  const Tensor& w = g_.tensor(n.input(1));
  const Shape& xs = g_.tensor(x).shape;
  const Shape& ys = g_.tensor(y).shape;
  CHECK_OR_RETURN(xs.size() == 4 && ys.size() == 4 && w.shape.size() == 4, Error::NotSupported, describe(g_, id),
                  ": only 2-D convolutions become float conv kernel calls");
  const auto ks = n.attrs.get_ints("kernel_shape", {w.shape[2], w.shape[3]});
  const auto st = n.attrs.get_ints("strides", {1, 1});
  const auto dl = n.attrs.get_ints("dilations", {1, 1});
  const auto pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
  CHECK_OR_RETURN(ks.size() == 2 && st.size() == 2 && dl.size() == 2 && pads.size() == 4 && ks[0] == w.shape[2] &&
                      ks[1] == w.shape[3],
                  Error::NotSupported, describe(g_, id), ": only 2-D convolutions become float conv kernel calls");
  for (int64_t v : {ks[0], ks[1], st[0], st[1], dl[0], dl[1], pads[0], pads[1], pads[2], pads[3]})
    CHECK_OR_RETURN(v >= 0 && v <= kMaxDim, Error::NotSupported, describe(g_, id), ": geometry out of range");
  const int64_t group = n.attrs.get_int("group", 1);
  CHECK_OR_RETURN(group >= 1 && group <= kMaxDim, Error::InvalidModel, describe(g_, id), ": group ", group);
  npu::ConvF32Args a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  a.kernel_h = int32_t(ks[0]);
  a.kernel_w = int32_t(ks[1]);
  a.stride_h = int32_t(st[0]);
  a.stride_w = int32_t(st[1]);
  a.dilation_h = int32_t(dl[0]);
  a.dilation_w = int32_t(dl[1]);
  a.pad_top = int32_t(pads[0]);
  a.pad_left = int32_t(pads[1]);
  a.pad_bottom = int32_t(pads[2]);
  a.pad_right = int32_t(pads[3]);
  a.groups = int32_t(group);
  a.transposed = transposed ? 1 : 0;
  a.act_relu = n.attrs.get_int("act_relu", 0) != 0 ? 1 : 0;
  a.act_min_bits = float_bits(n.attrs.get_float("act_min", -INFINITY));
  a.act_max_bits = float_bits(n.attrs.get_float("act_max", INFINITY));
  a.bias_offset = npu::kNoOperand;
  CHECK_OR_RETURN(w.is_constant() && w.dtype == DType::F32, Error::NotSupported, describe(g_, id),
                  ": the float conv kernel call needs float32 constant weights, got '", w.name, "'");
  // The weights packed here for the kernel's algorithm (a function of the geometry only), as the
  // host binders pack them: the runtime reads them in place.
  std::vector<float> packed;
  if (!transposed) {
    Conv2DF32Params p;
    p.batch = xs[0], p.in_h = xs[1], p.in_w = xs[2], p.in_c = xs[3];
    p.out_h = ys[1], p.out_w = ys[2], p.out_c = ys[3];
    p.kernel_h = ks[0], p.kernel_w = ks[1], p.stride_h = st[0], p.stride_w = st[1];
    p.dilation_h = dl[0], p.dilation_w = dl[1], p.pad_top = pads[0], p.pad_left = pads[1];
    p.groups = group;
    CHECK_OR_RETURN(conv2d_f32_prepare(&p) == Error::Ok && w.shape[0] == p.out_c && w.shape[1] * group == p.in_c,
                    Error::InvalidModel, describe(g_, id), ": invalid convolution geometry");
    packed.assign(conv2d_f32_packed_weights_floats(p), 0.0f);
    if (!opt_.check_only) conv2d_f32_pack_weights(p, w.data->data<float>(), packed.data());
  } else {
    ConvTranspose2DF32Params p;
    p.batch = xs[0], p.in_h = xs[1], p.in_w = xs[2], p.in_c = xs[3];
    p.out_h = ys[1], p.out_w = ys[2], p.out_c = ys[3];
    p.kernel_h = ks[0], p.kernel_w = ks[1], p.stride_h = st[0], p.stride_w = st[1];
    p.dilation_h = dl[0], p.dilation_w = dl[1], p.pad_top = pads[0], p.pad_left = pads[1];
    p.groups = group;
    CHECK_OR_RETURN(conv_transpose2d_f32_prepare(&p) == Error::Ok && w.shape[0] == p.in_c &&
                        w.shape[1] * group == p.out_c,
                    Error::InvalidModel, describe(g_, id), ": invalid transposed convolution geometry");
    packed.assign(conv_transpose2d_f32_packed_weights_floats(p), 0.0f);
    if (!opt_.check_only) conv_transpose2d_f32_pack_weights(p, w.data->data<float>(), packed.data());
  }
  const uint32_t wblob = add_blob(id, "weights", BlobKind::kFloat32, to_bytes(packed));
  uint32_t bblob = UINT32_MAX;
  if (n.input(2) != kNoTensor) {
    ASSIGN_OR_RETURN(bblob, float_blob(id, n.input(2), "bias", ys[3]));
  }
  KernelCall& k = call(Opcode::kConvF32, id, a, {a.input}, {a.output});
  ref(k, WORD_OF(ConvF32Args, weights_offset), wblob);
  if (bblob != UINT32_MAX) ref(k, WORD_OF(ConvF32Args, bias_offset), bblob);
  return Status::OK();
}


Status Lowering::lower_float_pool(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::NotSupported,
                  describe(g_, id), ": expects one input and one output (no MaxPool Indices)");
  CHECK_OR_RETURN(n.attrs.get_int("channels_last", 0) == 1, Error::NotSupported, describe(g_, id),
                  ": NCHW data; the float pool kernel call runs channels-last (layout-nhwc)");
  const TensorId x = n.input(0), y = n.outputs[0];
  CHECK_OR_RETURN(g_.tensor(x).shape.size() == 4 && g_.tensor(y).shape.size() == 4, Error::NotSupported,
                  describe(g_, id), ": only 2-D pools become float pool kernel calls");
  npu::PoolF32Args a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  a.kernel_h = a.kernel_w = a.stride_h = a.stride_w = a.dilation_h = a.dilation_w = 1;
  switch (n.kind) {
    case OpKind::MaxPool: a.op = 0; break;
    case OpKind::AveragePool: a.op = 1; break;
    case OpKind::GlobalMaxPool: a.op = 2; break;
    default: a.op = 3; break;
  }
  if (a.op < 2) {
    const auto ks = n.attrs.get_ints("kernel_shape");
    const auto st = n.attrs.get_ints("strides", {1, 1});
    const auto dl = n.attrs.get_ints("dilations", {1, 1});
    const auto pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
    CHECK_OR_RETURN(ks.size() == 2 && st.size() == 2 && dl.size() == 2 && pads.size() == 4, Error::NotSupported,
                    describe(g_, id), ": only 2-D pools become float pool kernel calls");
    for (int64_t v : {ks[0], ks[1], st[0], st[1], dl[0], dl[1], pads[0], pads[1], pads[2], pads[3]})
      CHECK_OR_RETURN(v >= 0 && v <= kMaxDim, Error::NotSupported, describe(g_, id), ": geometry out of range");
    a.kernel_h = int32_t(ks[0]);
    a.kernel_w = int32_t(ks[1]);
    a.stride_h = int32_t(st[0]);
    a.stride_w = int32_t(st[1]);
    a.dilation_h = int32_t(dl[0]);
    a.dilation_w = int32_t(dl[1]);
    a.pad_top = int32_t(pads[0]);
    a.pad_left = int32_t(pads[1]);
    a.pad_bottom = int32_t(pads[2]);
    a.pad_right = int32_t(pads[3]);
    a.count_include_pad = n.attrs.get_int("count_include_pad", 0) != 0 ? 1 : 0;
  }
  call(Opcode::kPoolF32, id, a, {a.input}, {a.output});
  return Status::OK();
}

// The axes as the host binder reads them (none: all), as a mask over the right-aligned NHWC dims;
// rank above 4 folds reduced and kept neighbours (at most 4 groups).
Status Lowering::lower_float_reduce(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g_, id), ": expects 1 input and 1 output");
  const TensorId x = n.input(0), y = n.outputs[0];
  npu::ReduceF32Args a{};
  switch (n.kind) {
    case OpKind::ReduceMean: a.op = 0; break;
    case OpKind::ReduceMax: a.op = 1; break;
    case OpKind::ReduceMin: a.op = 2; break;
    case OpKind::ReduceL2: a.op = 4; break;
    default: a.op = 3; break;
  }
  const Shape& xs = g_.tensor(x).shape;
  std::vector<char> reduced(xs.size(), 0);
  bool any = false;
  for (int64_t v : n.attrs.get_ints("axes")) {
    const int ax = normalize_axis(v, xs.size());
    CHECK_OR_RETURN(ax >= 0, Error::InvalidModel, describe(g_, id), ": axis ", v, " out of range");
    reduced[size_t(ax)] = 1;
    any = true;
  }
  if (!any) std::fill(reduced.begin(), reduced.end(), 1);
  if (xs.size() > 4) {
    Shape ks = xs;
    for (size_t i = 0; i < ks.size(); ++i)
      if (reduced[i]) ks[i] = 1;
    std::vector<Dims> f;
    std::vector<std::vector<size_t>> groups;
    RETURN_IF_ERROR(fold_axes(id, {xs, ks}, [&](size_t i, size_t j) { return reduced[i] == reduced[j]; }, &f, &groups, 4));
    for (size_t k = 0; k < groups.size(); ++k)
      if (reduced[groups[k].front()]) a.axes_mask |= 1 << int(4 - groups.size() + k);
    ASSIGN_OR_RETURN(a.input, tensor_as(id, x, f[0]));
    ASSIGN_OR_RETURN(a.output, tensor_as(id, y, f[1]));
  } else {
    for (size_t k = 0; k < xs.size(); ++k)
      if (reduced[k]) a.axes_mask |= 1 << nhwc_axis(xs.size(), int64_t(k));
    ASSIGN_OR_RETURN(a.input, tensor(id, x));
    ASSIGN_OR_RETURN(a.output, tensor(id, y));
    a.output = reduced_view(a.input, a.output, a.axes_mask);
  }
  call(Opcode::kReduceF32, id, a, {a.input}, {a.output});
  return Status::OK();
}

// MatMul with a run-time B (attention's Q x K^T, scores x V) or a batched constant B: per output
// batch one GEMM over the A and B slices bind_matmul pairs (matmul_shape), B packed per run as the
// host packs a run-time B (a constant B packs to the same panels). A B without batch folds every
// batch into the rows of one GEMM, as bind_matmul does.
Status Lowering::lower_float_batch_matmul(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g_, id), ": expects inputs A, B and one output");
  const TensorId ai = n.input(0), bi = n.input(1), yi = n.outputs[0];
  for (TensorId t : {ai, bi})
    CHECK_OR_RETURN(g_.tensor(t).dtype == DType::F32 && !g_.tensor(t).is_quantized(), Error::NotSupported,
                    describe(g_, id), ": the float batch_matmul kernel call needs float32 A and B, got '",
                    g_.tensor(t).name, "' ", dtype_name(g_.tensor(t).dtype));
  ASSIGN_OR_RETURN(const MatMulShape ms, matmul_shape(g_, id, g_.tensor(ai).shape, g_.tensor(bi).shape,
                                                      g_.tensor(yi).shape));
  const int64_t batches = num_elements(ms.out_batch), b_slices = num_elements(ms.b_batch);
  CHECK_OR_RETURN(ms.M >= 1 && ms.K >= 1 && ms.N >= 1 && ms.K <= kMaxDim && ms.N <= kMaxDim &&
                      batches * ms.M <= INT32_MAX,
                  Error::NotSupported, describe(g_, id), ": matmul empty or too large");
  npu::BatchMatMulF32Args a{};
  ASSIGN_OR_RETURN(a.a, tensor(id, ai));
  ASSIGN_OR_RETURN(a.b, tensor(id, bi));
  ASSIGN_OR_RETURN(a.output, tensor(id, yi));
  a.k = int32_t(ms.K);
  a.n = int32_t(ms.N);
  a.slices_offset = npu::kNoOperand;
  a.act_relu = n.attrs.get_int("act_relu", 0) != 0 ? 1 : 0;
  a.act_min_bits = float_bits(n.attrs.get_float("act_min", -INFINITY));
  a.act_max_bits = float_bits(n.attrs.get_float("act_max", INFINITY));
  std::vector<int32_t> slices;  // {a_slice, b_slice} per output batch, unless slice i of both
  if (b_slices == 1) {
    a.batch = 1;
    a.m = int32_t(batches * ms.M);
  } else {
    a.batch = int32_t(batches);
    a.m = int32_t(ms.M);
    bool diagonal = true;
    for (int64_t i = 0; i < batches; ++i) {
      int64_t as_i, bs_i;
      ms.slice_indices(i, &as_i, &bs_i);
      slices.push_back(int32_t(as_i));
      slices.push_back(int32_t(bs_i));
      diagonal = diagonal && as_i == i && bs_i == i;
    }
    if (diagonal) slices.clear();
  }
  KernelCall& c = call(Opcode::kBatchMatMulF32, id, a, {a.a, a.b}, {a.output});
  if (!slices.empty()) ref(c, WORD_OF(BatchMatMulF32Args, slices_offset), add_blob(id, "slices", BlobKind::kIndexTable, to_bytes(slices)));
  return Status::OK();
}

// Where with float X and Y and a constant bool condition (a byte per element in the weights): the
// operands broadcast on their right-aligned 4-D dims. Programs hold no bool activations, so a
// condition computed at run time is refused.
Status Lowering::lower_float_where(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 3 && n.input(0) != kNoTensor && n.input(1) != kNoTensor &&
                      n.input(2) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g_, id), ": expects condition, X, Y and 1 output");
  const TensorId ci = n.input(0), xi = n.input(1), zi = n.input(2), yi = n.outputs[0];
  const Tensor& ct = g_.tensor(ci);
  CHECK_OR_RETURN(ct.dtype == DType::Bool, Error::InvalidModel, describe(g_, id), ": condition '", ct.name,
                  "' must be bool, is ", dtype_name(ct.dtype));
  CHECK_OR_RETURN(ct.is_constant(), Error::NotSupported, describe(g_, id), ": the condition '", ct.name,
                  "' is computed at run time; program files hold no bool tensors, so only a constant condition "
                  "runs in a program (run the ONNX model with `neutron run MODEL.onnx`)");
  for (TensorId t : {xi, zi})
    CHECK_OR_RETURN(g_.tensor(t).dtype == DType::F32 && !g_.tensor(t).is_quantized(), Error::NotSupported,
                    describe(g_, id), ": the float where kernel call needs float32 X and Y, got '", g_.tensor(t).name,
                    "' ", dtype_name(g_.tensor(t).dtype));
  for (TensorId t : {ci, xi, zi, yi}) RETURN_IF_ERROR(check_rank4(id, t));
  npu::WhereF32Args a{};
  ASSIGN_OR_RETURN(a.condition, tensor(id, ci));
  ASSIGN_OR_RETURN(a.x, tensor(id, xi));
  ASSIGN_OR_RETURN(a.y, tensor(id, zi));
  ASSIGN_OR_RETURN(a.output, tensor(id, yi));
  call(Opcode::kWhereF32, id, a, {a.condition, a.x, a.y}, {a.output});
  return Status::OK();
}

// Gather of float data (a float embedding table or an activation) with int32 / int64 indices: the
// int8 gather's byte copy on 4-byte elements; the kernel checks run-time indices before it reads.
Status Lowering::lower_float_gather(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::InvalidModel, describe(g_, id), ": expects data, indices and 1 output");
  const Tensor& xt = g_.tensor(n.inputs[0]);
  const Tensor& it = g_.tensor(n.inputs[1]);
  CHECK_OR_RETURN(xt.dtype == DType::F32 && !xt.is_quantized(), Error::NotSupported, describe(g_, id),
                  ": the float gather kernel call needs float32 data, got '", xt.name, "' ", dtype_name(xt.dtype));
  CHECK_OR_RETURN(it.dtype == DType::I32 || it.dtype == DType::I64, Error::NotSupported, describe(g_, id),
                  ": indices '", it.name, "' must be int32 or int64, are ", dtype_name(it.dtype));
  return emit_gather(id, Opcode::kGatherF32);
}

// Cast between the plain element types program tensors carry: float32, int32 and int64 (token
// ids, an index path into a Gather, positions into float). bool, float16/64 and plain 8/16-bit
// integers have no program tensor; a quantized operand is a QuantizeLinear's job.
Status Lowering::lower_cast(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() == 1 && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g_, id), ": expects 1 input and 1 output");
  const TensorId x = n.input(0), y = n.outputs[0];
  const Tensor& xt = g_.tensor(x);
  const Tensor& yt = g_.tensor(y);
  CHECK_OR_RETURN(xt.shape == yt.shape, Error::InvalidModel, describe(g_, id), ": output shape differs from the input's");
  const auto plain = [](const Tensor& t) {
    return !t.is_quantized() && (t.dtype == DType::F32 || t.dtype == DType::I32 || t.dtype == DType::I64);
  };
  CHECK_OR_RETURN(plain(xt) && plain(yt), Error::NotSupported, describe(g_, id), ": Cast ", dtype_name(xt.dtype),
                  xt.is_quantized() ? " (quantized)" : "", " -> ", dtype_name(yt.dtype), yt.is_quantized() ? " (quantized)" : "",
                  " has no program kernel; program tensors are float32, int32 or int64 besides the int8 activations");
  npu::CastArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  call(Opcode::kCast, id, a, {a.input}, {a.output});
  return Status::OK();
}

// Expand, a broadcast copy of an int8 (same parameters in and out) or float32 tensor: one expand
// call on the shapes right-aligned to 4 dims (numpy broadcasting, as the host's binder does).
Status Lowering::lower_expand(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(!n.inputs.empty() && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g_, id), ": expects 1 input and 1 output");
  const TensorId x = n.input(0), y = n.outputs[0];
  const Tensor& xt = g_.tensor(x);
  const Tensor& yt = g_.tensor(y);
  if (xt.dtype == DType::F32 || yt.dtype == DType::F32) {
    CHECK_OR_RETURN(xt.dtype == DType::F32 && yt.dtype == DType::F32 && !xt.is_quantized() && !yt.is_quantized(),
                    Error::NotSupported, describe(g_, id), ": the expand kernel call needs float32 in and out, got ",
                    dtype_name(xt.dtype), " -> ", dtype_name(yt.dtype));
  } else {
    RETURN_IF_ERROR(check_same_quant(id, x, y));
  }
  RETURN_IF_ERROR(check_rank4_or_leading_ones(id, x));
  RETURN_IF_ERROR(check_rank4_or_leading_ones(id, y));
  npu::ExpandArgs a{};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  call(Opcode::kExpand, id, a, {a.input}, {a.output});
  return Status::OK();
}

// Rows of the normalized dims (axis to the end); Scale and B constants broadcast to them at
// compile time as bind_layer_norm does.
Status Lowering::lower_float_layer_norm(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(n.inputs.size() >= 2 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.outputs.size() == 1,
                  Error::NotSupported, describe(g_, id), ": expects X, Scale, B? and 1 output (no Mean/InvStdDev)");
  const TensorId x = n.input(0), y = n.outputs[0];
  const Shape& xs = g_.tensor(x).shape;
  const int axis = normalize_axis(n.attrs.get_int("axis", -1), xs.size());
  CHECK_OR_RETURN(axis >= 0, Error::InvalidModel, describe(g_, id), ": axis out of range");
  const Shape tail(xs.begin() + axis, xs.end());
  const int64_t cols = num_elements(tail), rows = cols == 0 ? 0 : num_elements(xs) / cols;
  CHECK_OR_RETURN(cols >= 1 && rows >= 1 && cols <= kMaxDim && rows <= kMaxDim, Error::NotSupported,
                  describe(g_, id), ": empty or too large rows");
  auto broadcast = [&](TensorId t, const char* what) -> StatusOr<std::vector<float>> {
    const Tensor& c = g_.tensor(t);
    CHECK_OR_RETURN(c.is_constant() && c.dtype == DType::F32 && !c.is_quantized(), Error::NotSupported,
                    describe(g_, id), ": the float layer_norm kernel call needs ", what, " '", c.name,
                    "' as a float32 constant");
    SelectParams sp;
    const Span<const int64_t> ops[1] = {Span<const int64_t>(c.shape)};
    CHECK_OR_RETURN(prepare_select(Span<const int64_t>(tail), ops, 1, sizeof(float), &sp), Error::InvalidModel,
                    describe(g_, id), ": ", what, " ", shape_str(c.shape), " does not broadcast to ", shape_str(tail));
    std::vector<float> out(static_cast<size_t>(cols));
    expand(sp, c.data->data<float>(), out.data());
    return out;
  };
  npu::LayerNormF32Args a{};
  ASSIGN_OR_RETURN(std::vector<float> scale, broadcast(n.input(1), "Scale"));
  std::vector<float> bias;
  if (n.input(2) != kNoTensor) {
    ASSIGN_OR_RETURN(bias, broadcast(n.input(2), "B"));
  }
  const float eps = float(n.attrs.get_float("epsilon", 1e-5));
  std::memcpy(&a.epsilon_bits, &eps, 4);
  const Dims d{{1, 1, int32_t(rows), int32_t(cols)}};
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  if (p_.tensors[a.input].dims != d) a.input = alias(a.input, d, ".rows");
  if (p_.tensors[a.output].dims != d) a.output = alias(a.output, d, ".rows");
  a.bias_offset = npu::kNoOperand;
  const uint32_t sblob = add_blob(id, "scale", BlobKind::kFloat32, to_bytes(scale));
  const uint32_t bblob = bias.empty() ? 0 : add_blob(id, "bias", BlobKind::kFloat32, to_bytes(bias));
  KernelCall& c = call(Opcode::kLayerNormF32, id, a, {a.input}, {a.output});
  ref(c, WORD_OF(LayerNormF32Args, scale_offset), sblob);
  if (!bias.empty()) ref(c, WORD_OF(LayerNormF32Args, bias_offset), bblob);
  return Status::OK();
}

// Per-axis tables exactly as bind_resize computes them, on the tensor right-aligned to 4 axes (the
// leading unit axes get identity tables).
Status Lowering::lower_float_resize(NodeId id) {
  const Node& n = g_.node(id);
  CHECK_OR_RETURN(!n.inputs.empty() && n.input(0) != kNoTensor && n.outputs.size() == 1, Error::InvalidModel,
                  describe(g_, id), ": expects one input X and one output");
  const std::string mode = n.attrs.get_string("mode", "nearest");
  CHECK_OR_RETURN(mode == "nearest" || mode == "linear", Error::NotSupported, describe(g_, id), ": mode '", mode,
                  "' is not supported (nearest, linear)");
  CHECK_OR_RETURN(n.attrs.get_int("antialias", 0) == 0, Error::NotSupported, describe(g_, id),
                  ": antialias is not supported");
  const TensorId x = n.input(0), y = n.outputs[0];
  const Shape& xs = g_.tensor(x).shape;
  const Shape& ys = g_.tensor(y).shape;
  CHECK_OR_RETURN(xs.size() == ys.size() && !xs.empty() && xs.size() <= 4, Error::NotSupported, describe(g_, id),
                  ": the float resize kernel call takes equal ranks 1 to 4, got ", shape_str(xs), " -> ", shape_str(ys));
  for (size_t k = 0; k < xs.size(); ++k)
    CHECK_OR_RETURN(xs[k] >= 1 && ys[k] >= 1 && xs[k] <= kMaxDim && ys[k] <= kMaxDim, Error::NotSupported,
                    describe(g_, id), ": empty or too large tensors");
  ASSIGN_OR_RETURN(const ResizeAttrs attrs, resize_attrs(g_, id, xs, ys));
  const bool linear = mode == "linear";
  const size_t lead = 4 - xs.size();
  std::vector<int32_t> table;  // int32 words: nearest index, or linear {i0, i1, w1 bits}
  Dims dx{{1, 1, 1, 1}}, dy{{1, 1, 1, 1}};
  for (size_t k = 0; k < lead; ++k) {
    table.push_back(0);
    if (linear) table.insert(table.end(), {0, 0});
  }
  for (size_t k = 0; k < xs.size(); ++k) {
    dx[lead + k] = int32_t(xs[k]);
    dy[lead + k] = int32_t(ys[k]);
    if (linear) {
      std::vector<ResizeLinearTap> t(static_cast<size_t>(ys[k]));
      resize_linear_table(attrs.coord, xs[k], ys[k], attrs.scales[k], t.data());
      for (const ResizeLinearTap& tap : t) {
        int32_t w;
        std::memcpy(&w, &tap.w1, 4);
        table.insert(table.end(), {int32_t(tap.i0), int32_t(tap.i1), w});
      }
    } else {
      std::vector<int64_t> t(static_cast<size_t>(ys[k]));
      resize_nearest_table(attrs.coord, attrs.nearest, xs[k], ys[k], attrs.scales[k], t.data());
      for (int64_t v : t) table.push_back(int32_t(v));
    }
  }
  npu::ResizeF32Args a{};
  a.mode = linear ? 1 : 0;
  ASSIGN_OR_RETURN(a.input, tensor(id, x));
  ASSIGN_OR_RETURN(a.output, tensor(id, y));
  if (p_.tensors[a.input].dims != dx) a.input = alias(a.input, dx, ".4d");
  if (p_.tensors[a.output].dims != dy) a.output = alias(a.output, dy, ".4d");
  const uint32_t blob = add_blob(id, linear ? "linear_table" : "index_table", BlobKind::kIndexTable, to_bytes(table));
  KernelCall& c = call(Opcode::kResizeF32, id, a, {a.input}, {a.output});
  ref(c, WORD_OF(ResizeF32Args, table_offset), blob);
  return Status::OK();
}

Status Lowering::lower_float_recurrent(NodeId id) {
  const Node& n = g_.node(id);
  const bool lstm = n.kind == OpKind::LSTM;
  CHECK_OR_RETURN(n.inputs.size() >= 3 && n.input(0) != kNoTensor && n.input(1) != kNoTensor && n.input(2) != kNoTensor,
                  Error::InvalidModel, describe(g_, id), ": expects inputs X, W, R");
  CHECK_OR_RETURN(n.input(4) == kNoTensor, Error::NotSupported, describe(g_, id), ": sequence_lens is not supported");
  const bool peepholes = lstm && n.input(7) != kNoTensor;
  const Shape& xs = g_.tensor(n.input(0)).shape;
  CHECK_OR_RETURN(xs.size() == 3, Error::InvalidModel, describe(g_, id), ": X must be [seq, batch, input]");
  const int64_t H = n.attrs.get_int("hidden_size", 0);
  const std::string dir = n.attrs.get_string("direction", "forward");
  const int64_t D = dir == "bidirectional" ? 2 : 1, G = lstm ? 4 : 3;
  CHECK_OR_RETURN(H >= 1 && H <= (1 << 20) && xs[0] <= kMaxDim && xs[1] <= kMaxDim && xs[2] <= kMaxDim, Error::NotSupported,
                  describe(g_, id), ": hidden_size ", H, " or X ", shape_str(xs), " out of range");
  npu::RecurrentF32Args a{};
  a.y = a.y_h = a.y_c = a.initial_h = a.initial_c = npu::kNoOperand;
  a.b_offset = npu::kNoOperand;
  ASSIGN_OR_RETURN(a.input, tensor(id, n.input(0)));
  std::vector<uint32_t> reads{a.input}, writes;
  if (n.input(5) != kNoTensor) {
    ASSIGN_OR_RETURN(a.initial_h, tensor(id, n.input(5)));
    reads.push_back(a.initial_h);
  }
  if (lstm && n.input(6) != kNoTensor) {
    ASSIGN_OR_RETURN(a.initial_c, tensor(id, n.input(6)));
    reads.push_back(a.initial_c);
  }
  uint32_t* outs[3] = {&a.y, &a.y_h, &a.y_c};
  for (size_t i = 0; i < n.outputs.size() && i < 3; ++i) {
    if (n.outputs[i] == kNoTensor) continue;
    ASSIGN_OR_RETURN(*outs[i], tensor(id, n.outputs[i]));
    writes.push_back(*outs[i]);
  }
  CHECK_OR_RETURN(!writes.empty(), Error::InvalidModel, describe(g_, id), ": no output is used");
  a.lstm = lstm ? 1 : 0;
  a.seq = int32_t(xs[0]);
  a.batch = int32_t(xs[1]);
  a.input_size = int32_t(xs[2]);
  a.hidden = int32_t(H);
  a.directions = int32_t(D);
  a.reverse = dir == "reverse" ? 1 : 0;
  a.linear_before_reset = n.attrs.get_int("linear_before_reset", 0) != 0 ? 1 : 0;
  ASSIGN_OR_RETURN(uint32_t wb, float_blob(id, n.input(1), "W", D * G * H * xs[2]));
  ASSIGN_OR_RETURN(uint32_t rb, float_blob(id, n.input(2), "R", D * G * H * H));
  uint32_t bb = UINT32_MAX;
  if (n.input(3) != kNoTensor) {
    ASSIGN_OR_RETURN(bb, float_blob(id, n.input(3), "B", D * 2 * G * H));
  }
  if (peepholes) {  // its own opcode: recurrent_f32's argument size stays what old programs have
    ASSIGN_OR_RETURN(uint32_t pb, float_blob(id, n.input(7), "P", D * 3 * H));
    npu::RecurrentPeepholeF32Args ap{};
    static_assert(sizeof(ap) == sizeof(a) + 4, "recurrent_peephole_f32 args are recurrent_f32's and p_offset");
    std::memcpy(&ap, &a, sizeof(a));
    ap.p_offset = npu::kNoOperand;
    KernelCall& k = call(Opcode::kRecurrentPeepholeF32, id, ap, reads, writes);
    ref(k, WORD_OF(RecurrentPeepholeF32Args, w_offset), wb);
    ref(k, WORD_OF(RecurrentPeepholeF32Args, r_offset), rb);
    if (bb != UINT32_MAX) ref(k, WORD_OF(RecurrentPeepholeF32Args, b_offset), bb);
    ref(k, WORD_OF(RecurrentPeepholeF32Args, p_offset), pb);
    return Status::OK();
  }
  KernelCall& k = call(Opcode::kRecurrentF32, id, a, reads, writes);
  ref(k, WORD_OF(RecurrentF32Args, w_offset), wb);
  ref(k, WORD_OF(RecurrentF32Args, r_offset), rb);
  if (bb != UINT32_MAX) ref(k, WORD_OF(RecurrentF32Args, b_offset), bb);
  return Status::OK();
}
}  // namespace

Status lower_graph(const Graph& g, const LowerOptions& options, KernelProgram* out) {
  *out = KernelProgram();
  CHECK_OR_RETURN(options.channel_multiple >= 1 && options.channel_multiple <= 64, Error::InvalidArgument,
                  "lowering '", g.name, "': channel multiple ", options.channel_multiple, "; expected 1..64");
  ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  Lowering l(g, options, out, std::move(order), g.inputs, g.outputs);
  return l.run();
}

Status can_lower(const Graph& g, NodeId id) {
  // fold-qdq asks about int8 ops; a node with a float runtime operand is not one (programs lower
  // those as float kernel calls, not as the int8 op fold-qdq would make).
  const Node& n = g.node(id);
  for (const auto* ts : {&n.inputs, &n.outputs})
    for (TensorId t : *ts)
      if (t != kNoTensor && !g.tensor(t).is_constant() && g.tensor(t).dtype == DType::F32)
        return error(Error::NotSupported, describe(g, id), ": computes in float");
  KernelProgram scratch;
  LowerOptions o;
  o.check_only = true;
  return lower_node(g, id, o, &scratch);
}

Status lower_node(const Graph& g, NodeId id, const LowerOptions& options, KernelProgram* out) {
  *out = KernelProgram();
  const Node& n = g.node(id);
  std::vector<TensorId> inputs;
  for (TensorId t : n.inputs)
    if (t != kNoTensor && !g.tensor(t).is_constant() && std::find(inputs.begin(), inputs.end(), t) == inputs.end())
      inputs.push_back(t);
  std::vector<TensorId> outputs;
  for (TensorId t : n.outputs)
    if (t != kNoTensor) outputs.push_back(t);
  Lowering l(g, options, out, {id}, std::move(inputs), std::move(outputs));
  RETURN_IF_ERROR(l.run());
  out->name = n.name;
  return Status::OK();
}

}  // namespace neutron::lowering
