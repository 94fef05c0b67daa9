#include "compiler/args_format.h"

#include <cstring>
#include <sstream>

namespace neutron::compiler {
namespace {

using npu::Opcode;
constexpr FieldKind T = FieldKind::kTensor, O = FieldKind::kOffset, I = FieldKind::kInt, U = FieldKind::kUint,
                    E = FieldKind::kOp, F = FieldKind::kFloat;

constexpr ArgField kConv[] = {{"input", T, 1},        {"output", T, 1},     {"weights_offset", O, 1},
                              {"bias_offset", O, 1},  {"multipliers_offset", O, 1},
                              {"kernel_h", I, 1},     {"kernel_w", I, 1},   {"stride_h", I, 1},
                              {"stride_w", I, 1},     {"dilation_h", I, 1}, {"dilation_w", I, 1},
                              {"pad_top", I, 1},      {"pad_left", I, 1},   {"pad_bottom", I, 1},
                              {"pad_right", I, 1},    {"groups", I, 1},     {"in_c_padded", I, 1},
                              {"out_c_padded", I, 1}, {"act_min", I, 1},    {"act_max", I, 1},
                              {"tile_rows", U, 1}};
constexpr ArgField kFc[] = {{"input", T, 1},        {"output", T, 1},          {"weights_offset", O, 1},
                            {"bias_offset", O, 1},  {"multipliers_offset", O, 1}, {"rows", I, 1},
                            {"in_features", I, 1},  {"out_features", I, 1},    {"in_features_padded", I, 1},
                            {"out_features_padded", I, 1}, {"per_channel", I, 1}, {"act_min", I, 1},
                            {"act_max", I, 1}};
constexpr ArgField kBmm[] = {{"a", T, 1},          {"b", T, 1},     {"output", T, 1}, {"batch", I, 1},
                             {"m", I, 1},          {"k", I, 1},     {"n", I, 1},      {"multiplier", I, 1},
                             {"shift", I, 1},      {"act_min", I, 1}, {"act_max", I, 1}};
constexpr ArgField kPool[] = {{"input", T, 1},      {"output", T, 1},    {"kernel_h", I, 1},   {"kernel_w", I, 1},
                              {"stride_h", I, 1},   {"stride_w", I, 1},  {"pad_top", I, 1},    {"pad_left", I, 1},
                              {"pad_bottom", I, 1}, {"pad_right", I, 1}, {"count_include_pad", I, 1},
                              {"multiplier", I, 1}, {"shift", I, 1},     {"act_min", I, 1},    {"act_max", I, 1},
                              {"multipliers_offset", O, 1}};
constexpr ArgField kElementwise[] = {{"a", T, 1},          {"b", T, 1},       {"output", T, 1},
                                     {"op", E, 1},         {"multiplier_a", I, 1}, {"multiplier_b", I, 1},
                                     {"shift", I, 1},      {"act_min", I, 1}, {"act_max", I, 1},
                                     {"table_offset", O, 1}};
constexpr ArgField kDiv[] = {{"a", T, 1},     {"b", T, 1},       {"output", T, 1},  {"multiplier", I, 1},
                             {"shift", I, 1}, {"act_min", I, 1}, {"act_max", I, 1}};
constexpr ArgField kConvAdd[] = {{"input", T, 1},        {"output", T, 1},     {"weights_offset", O, 1},
                                 {"bias_offset", O, 1},  {"multipliers_offset", O, 1},
                                 {"kernel_h", I, 1},     {"kernel_w", I, 1},   {"stride_h", I, 1},
                                 {"stride_w", I, 1},     {"dilation_h", I, 1}, {"dilation_w", I, 1},
                                 {"pad_top", I, 1},      {"pad_left", I, 1},   {"pad_bottom", I, 1},
                                 {"pad_right", I, 1},    {"groups", I, 1},     {"in_c_padded", I, 1},
                                 {"out_c_padded", I, 1}, {"act_min", I, 1},    {"act_max", I, 1},
                                 {"tile_rows", U, 1},    {"add_a", T, 1},      {"add_b", T, 1},
                                 {"add_output", T, 1},   {"add_op", E, 1},     {"multiplier_a", I, 1},
                                 {"multiplier_b", I, 1}, {"shift", I, 1},      {"add_act_min", I, 1},
                                 {"add_act_max", I, 1},  {"add_table_offset", O, 1}};
constexpr ArgField kTable[] = {{"input", T, 1}, {"output", T, 1}, {"table_offset", O, 1}};
constexpr ArgField kChannelTable[] = {{"input", T, 1}, {"output", T, 1}, {"table_offset", O, 1},
                                      {"channels", I, 1}, {"inner", I, 1}};
constexpr ArgField kL2Norm[] = {{"input", T, 1}, {"output", T, 1}, {"params_offset", O, 1}, {"n", I, 1},
                                {"inner", I, 1}};
constexpr ArgField kSoftmax[] = {{"input", T, 1}, {"output", T, 1}, {"table_offset", O, 1}, {"reserved", I, 1}};
constexpr ArgField kPad[] = {{"input", T, 1},      {"output", T, 1}, {"pad_before", I, 4},
                             {"pad_after", I, 4},  {"mode", E, 1},   {"value", I, 1}};
constexpr ArgField kSlice[] = {{"input", T, 1}, {"output", T, 1}, {"begin", I, 4}};
constexpr ArgField kConcat[] = {{"output", T, 1}, {"axis", I, 1}, {"num_inputs", U, 1}, {"inputs", T, 8}};
constexpr ArgField kTranspose[] = {{"input", T, 1}, {"output", T, 1}, {"perm", I, 4}};
constexpr ArgField kResize[] = {{"input", T, 1}, {"output", T, 1}, {"mode", E, 1}, {"align_corners", I, 1},
                                {"half_pixel_centers", I, 1}, {"table_offset", O, 1}};
constexpr ArgField kReduce[] = {{"input", T, 1}, {"output", T, 1}, {"op", E, 1},
                                {"axes_mask", U, 1}, {"multiplier", I, 1}, {"shift", I, 1}};
constexpr ArgField kRecurrent[] = {{"input", T, 1},          {"output", T, 1},           {"output_c", T, 1},
                                   {"weights_offset", O, 1},
                                   {"params_offset", O, 1},   {"tables_offset", O, 1},    {"initial_h_offset", O, 1},
                                   {"initial_c_offset", O, 1}, {"cell", E, 1},            {"seq", I, 1},
                                   {"batch", I, 1},           {"input_size", I, 1},       {"hidden", I, 1},
                                   {"reverse", I, 1},         {"linear_before_reset", I, 1}};
constexpr ArgField kCopy[] = {{"input", T, 1}, {"output", T, 1}};
constexpr ArgField kMaskedFill[] = {{"input", T, 1}, {"output", T, 1}, {"mask_offset", O, 1}, {"fill", I, 1}};
constexpr ArgField kGather[] = {{"input", T, 1}, {"output", T, 1}, {"indices", T, 1}, {"outer", I, 1},
                                {"axis_dim", I, 1}, {"inner", I, 1}, {"count", I, 1}};
constexpr ArgField kLayerNorm[] = {{"input", T, 1}, {"output", T, 1}, {"table_offset", O, 1},
                                   {"act_min", I, 1}, {"act_max", I, 1}};
constexpr ArgField kQuantize[] = {{"input", T, 1}, {"output", T, 1}, {"scale_bits", F, 1}, {"reserved", I, 1}};
constexpr ArgField kElementwiseF32[] = {{"a", T, 1}, {"b", T, 1}, {"output", T, 1}, {"op", E, 1}};
constexpr ArgField kUnaryF32[] = {{"input", T, 1},    {"output", T, 1},  {"op", E, 1},       {"alpha", F, 1},
                                  {"beta", F, 1},     {"min", F, 1},     {"max", F, 1}};
constexpr ArgField kSoftmaxF32[] = {{"input", T, 1}, {"output", T, 1}, {"outer", I, 1}, {"axis", I, 1}, {"inner", I, 1}};
constexpr ArgField kGemmF32[] = {{"input", T, 1},        {"output", T, 1},      {"weights_offset", O, 1},
                                 {"bias_offset", O, 1},  {"rows", I, 1},        {"in_features", I, 1},
                                 {"out_features", I, 1}, {"trans_b", I, 1},     {"alpha", F, 1},
                                 {"act_relu", I, 1},     {"act_min", F, 1},     {"act_max", F, 1}};
constexpr ArgField kConvF32[] = {{"input", T, 1},      {"output", T, 1},     {"weights_offset", O, 1},
                                 {"bias_offset", O, 1}, {"kernel_h", I, 1},   {"kernel_w", I, 1},
                                 {"stride_h", I, 1},    {"stride_w", I, 1},   {"dilation_h", I, 1},
                                 {"dilation_w", I, 1},  {"pad_top", I, 1},    {"pad_left", I, 1},
                                 {"pad_bottom", I, 1},  {"pad_right", I, 1},  {"groups", I, 1},
                                 {"transposed", I, 1},  {"act_relu", I, 1},   {"act_min", F, 1},
                                 {"act_max", F, 1}};
constexpr ArgField kRecurrentF32[] = {{"input", T, 1},     {"y", T, 1},          {"y_h", T, 1},
                                      {"y_c", T, 1},       {"initial_h", T, 1},  {"initial_c", T, 1},
                                      {"w_offset", O, 1},  {"r_offset", O, 1},   {"b_offset", O, 1},
                                      {"lstm", I, 1},      {"seq", I, 1},        {"batch", I, 1},
                                      {"input_size", I, 1}, {"hidden", I, 1},    {"directions", I, 1},
                                      {"reverse", I, 1},   {"linear_before_reset", I, 1}};
constexpr ArgField kRecurrentPeepholeF32[] = {{"input", T, 1},     {"y", T, 1},          {"y_h", T, 1},
                                              {"y_c", T, 1},       {"initial_h", T, 1},  {"initial_c", T, 1},
                                              {"w_offset", O, 1},  {"r_offset", O, 1},   {"b_offset", O, 1},
                                              {"lstm", I, 1},      {"seq", I, 1},        {"batch", I, 1},
                                              {"input_size", I, 1}, {"hidden", I, 1},    {"directions", I, 1},
                                              {"reverse", I, 1},   {"linear_before_reset", I, 1},
                                              {"p_offset", O, 1}};
constexpr ArgField kPoolF32[] = {{"input", T, 1},      {"output", T, 1},     {"op", E, 1},
                                 {"kernel_h", I, 1},   {"kernel_w", I, 1},   {"stride_h", I, 1},
                                 {"stride_w", I, 1},   {"dilation_h", I, 1}, {"dilation_w", I, 1},
                                 {"pad_top", I, 1},    {"pad_left", I, 1},   {"pad_bottom", I, 1},
                                 {"pad_right", I, 1},  {"count_include_pad", I, 1}};
constexpr ArgField kReduceF32[] = {{"input", T, 1}, {"output", T, 1}, {"op", E, 1}, {"axes_mask", I, 1}};
constexpr ArgField kResizeF32[] = {{"input", T, 1}, {"output", T, 1}, {"mode", E, 1}, {"table_offset", O, 1}};
constexpr ArgField kLayerNormF32[] = {{"input", T, 1},        {"output", T, 1},      {"scale_offset", O, 1},
                                      {"bias_offset", O, 1}, {"epsilon", F, 1}};
constexpr ArgField kBatchMatMulF32[] = {{"a", T, 1},        {"b", T, 1},      {"output", T, 1},        {"batch", I, 1},
                                        {"m", I, 1},        {"k", I, 1},      {"n", I, 1},             {"slices_offset", O, 1},
                                        {"act_relu", I, 1}, {"act_min", F, 1}, {"act_max", F, 1}};
constexpr ArgField kWhereF32[] = {{"condition", T, 1}, {"x", T, 1}, {"y", T, 1}, {"output", T, 1}};
constexpr ArgField kCast[] = {{"input", T, 1}, {"output", T, 1}};
constexpr ArgField kPrefetch[] = {{"weights_offset", O, 1}, {"size", U, 1}, {"sram_offset", U, 1}, {"channel", U, 1}};
constexpr ArgField kWait[] = {{"channel", U, 1}};

template <size_t N>
constexpr uint32_t words_of(const ArgField (&f)[N]) {
  uint32_t w = 0;
  for (size_t i = 0; i < N; ++i) w += f[i].count;
  return w;
}

#define NEUTRON_FORMAT(table, Args)                                                                      \
  static_assert(words_of(table) * 4 == sizeof(npu::Args), #Args ": field table and struct size differ"); \
  static const ArgsFormat k##Args##Format = {table, uint32_t(sizeof(table) / sizeof(table[0])),          \
                                             uint32_t(sizeof(npu::Args) / 4)};

NEUTRON_FORMAT(kConv, ConvArgs)
NEUTRON_FORMAT(kFc, FullyConnectedArgs)
NEUTRON_FORMAT(kBmm, BatchMatMulArgs)
NEUTRON_FORMAT(kPool, PoolArgs)
NEUTRON_FORMAT(kElementwise, ElementwiseArgs)
NEUTRON_FORMAT(kDiv, DivArgs)
NEUTRON_FORMAT(kTable, TableArgs)
NEUTRON_FORMAT(kConvAdd, ConvAddArgs)
NEUTRON_FORMAT(kLayerNorm, LayerNormArgs)
NEUTRON_FORMAT(kMaskedFill, MaskedFillArgs)
NEUTRON_FORMAT(kGather, GatherArgs)
NEUTRON_FORMAT(kChannelTable, ChannelTableArgs)
NEUTRON_FORMAT(kL2Norm, L2NormArgs)
NEUTRON_FORMAT(kSoftmax, SoftmaxArgs)
NEUTRON_FORMAT(kPad, PadArgs)
NEUTRON_FORMAT(kSlice, SliceArgs)
NEUTRON_FORMAT(kConcat, ConcatArgs)
NEUTRON_FORMAT(kTranspose, TransposeArgs)
NEUTRON_FORMAT(kResize, ResizeArgs)
NEUTRON_FORMAT(kReduce, ReduceArgs)
NEUTRON_FORMAT(kCopy, CopyArgs)
NEUTRON_FORMAT(kRecurrent, RecurrentArgs)
NEUTRON_FORMAT(kPrefetch, PrefetchArgs)
NEUTRON_FORMAT(kWait, WaitPrefetchArgs)
NEUTRON_FORMAT(kQuantize, QuantizeArgs)
NEUTRON_FORMAT(kElementwiseF32, ElementwiseF32Args)
NEUTRON_FORMAT(kUnaryF32, UnaryF32Args)
NEUTRON_FORMAT(kSoftmaxF32, SoftmaxF32Args)
NEUTRON_FORMAT(kGemmF32, GemmF32Args)
NEUTRON_FORMAT(kConvF32, ConvF32Args)
NEUTRON_FORMAT(kRecurrentF32, RecurrentF32Args)
NEUTRON_FORMAT(kRecurrentPeepholeF32, RecurrentPeepholeF32Args)
NEUTRON_FORMAT(kPoolF32, PoolF32Args)
NEUTRON_FORMAT(kReduceF32, ReduceF32Args)
NEUTRON_FORMAT(kResizeF32, ResizeF32Args)
NEUTRON_FORMAT(kLayerNormF32, LayerNormF32Args)
NEUTRON_FORMAT(kBatchMatMulF32, BatchMatMulF32Args)
NEUTRON_FORMAT(kWhereF32, WhereF32Args)
NEUTRON_FORMAT(kCast, CastArgs)
#undef NEUTRON_FORMAT

const char* op_value_name(Opcode op, int32_t v) {
  switch (op) {
    case Opcode::kElementwise:
    case Opcode::kConvAdd: {
      static const char* k[] = {"add", "sub", "mul", "max", "min"};
      return v >= 0 && v < 5 ? k[v] : nullptr;
    }
    case Opcode::kReduce: {
      static const char* k[] = {"mean", "max", "min", "sum"};
      return v >= 0 && v < 4 ? k[v] : nullptr;
    }
    case Opcode::kPad: {
      static const char* k[] = {"constant", "reflect", "edge"};
      return v >= 0 && v < 3 ? k[v] : nullptr;
    }
    case Opcode::kResize: {
      static const char* k[] = {"nearest", "bilinear"};
      return v >= 0 && v < 2 ? k[v] : nullptr;
    }
    case Opcode::kElementwiseF32: {
      static const char* k[] = {"add", "sub", "mul", "div", "max", "min", "prelu", "pow"};
      return v >= 0 && v < 8 ? k[v] : nullptr;
    }
    case Opcode::kResizeF32: {
      static const char* k[] = {"nearest", "linear"};
      return v >= 0 && v < 2 ? k[v] : nullptr;
    }
    case Opcode::kReduceF32: {
      static const char* k[] = {"mean", "max", "min", "sum"};
      return v >= 0 && v < 4 ? k[v] : nullptr;
    }
    case Opcode::kPoolF32: {
      static const char* k[] = {"max", "average", "global_max", "global_average"};
      return v >= 0 && v < 4 ? k[v] : nullptr;
    }
    case Opcode::kUnaryF32: {
      static const char* k[] = {"relu", "clip", "leaky_relu", "sigmoid", "hard_sigmoid", "hard_swish",
                                "tanh", "abs", "neg", "exp", "log", "sqrt", "reciprocal", "erf", "gelu",
                                "gelu_tanh", "pow"};
      return v >= 0 && v < 17 ? k[v] : nullptr;
    }
    case Opcode::kRecurrent: {
      static const char* k[] = {"gru", "lstm"};
      return v >= 0 && v < 2 ? k[v] : nullptr;
    }
    default:
      return nullptr;
  }
}

}  // namespace

const ArgsFormat* args_format(Opcode op) {
  switch (op) {
    case Opcode::kConv2D:
    case Opcode::kDepthwiseConv2D: return &kConvArgsFormat;
    case Opcode::kFullyConnected: return &kFullyConnectedArgsFormat;
    case Opcode::kBatchMatMul: return &kBatchMatMulArgsFormat;
    case Opcode::kMaxPool2D:
    case Opcode::kAvgPool2D:
    case Opcode::kGlobalAvgPool: return &kPoolArgsFormat;
    case Opcode::kElementwise: return &kElementwiseArgsFormat;
    case Opcode::kDiv: return &kDivArgsFormat;
    case Opcode::kConvAdd: return &kConvAddArgsFormat;
    case Opcode::kTable: return &kTableArgsFormat;
    case Opcode::kChannelTable: return &kChannelTableArgsFormat;
    case Opcode::kL2Norm: return &kL2NormArgsFormat;
    case Opcode::kRecurrent: return &kRecurrentArgsFormat;
    case Opcode::kSoftmax: return &kSoftmaxArgsFormat;
    case Opcode::kPad: return &kPadArgsFormat;
    case Opcode::kSlice: return &kSliceArgsFormat;
    case Opcode::kConcat: return &kConcatArgsFormat;
    case Opcode::kTranspose: return &kTransposeArgsFormat;
    case Opcode::kResize: return &kResizeArgsFormat;
    case Opcode::kReduce: return &kReduceArgsFormat;
    case Opcode::kCopy: return &kCopyArgsFormat;
    case Opcode::kLayerNorm: return &kLayerNormArgsFormat;
    case Opcode::kMaskedFill: return &kMaskedFillArgsFormat;
    case Opcode::kGather: return &kGatherArgsFormat;
    case Opcode::kPrefetch: return &kPrefetchArgsFormat;
    case Opcode::kWaitPrefetch: return &kWaitPrefetchArgsFormat;
    case Opcode::kQuantize:
    case Opcode::kDequantize: return &kQuantizeArgsFormat;
    case Opcode::kElementwiseF32: return &kElementwiseF32ArgsFormat;
    case Opcode::kUnaryF32: return &kUnaryF32ArgsFormat;
    case Opcode::kSoftmaxF32: return &kSoftmaxF32ArgsFormat;
    case Opcode::kGemmF32: return &kGemmF32ArgsFormat;
    case Opcode::kConvF32: return &kConvF32ArgsFormat;
    case Opcode::kRecurrentF32: return &kRecurrentF32ArgsFormat;
    case Opcode::kRecurrentPeepholeF32: return &kRecurrentPeepholeF32ArgsFormat;
    case Opcode::kPoolF32: return &kPoolF32ArgsFormat;
    case Opcode::kReduceF32: return &kReduceF32ArgsFormat;
    case Opcode::kResizeF32: return &kResizeF32ArgsFormat;
    case Opcode::kLayerNormF32: return &kLayerNormF32ArgsFormat;
    case Opcode::kBatchMatMulF32: return &kBatchMatMulF32ArgsFormat;
    case Opcode::kWhereF32: return &kWhereF32ArgsFormat;
    case Opcode::kGatherF32: return &kGatherArgsFormat;
    case Opcode::kCast: return &kCastArgsFormat;
  }
  return nullptr;
}

std::string format_args(Opcode op, const uint32_t* words, uint32_t num_words, const WordText& word_text) {
  std::ostringstream os;
  const ArgsFormat* f = args_format(op);
  if (f == nullptr || num_words != f->words) {
    os << "raw={";
    for (uint32_t i = 0; i < num_words; ++i) os << (i ? " " : "") << words[i];
    os << "}";
    return os.str();
  }
  uint32_t w = 0;
  uint32_t concat_inputs = op == Opcode::kConcat ? (words[2] > 8 ? 8 : words[2]) : 0;
  for (uint32_t i = 0; i < f->num_fields; ++i) {
    const ArgField& field = f->fields[i];
    uint32_t shown = field.count;
    if (op == Opcode::kConcat && std::strcmp(field.name, "inputs") == 0) shown = concat_inputs;
    os << (i ? " " : "") << field.name << "=";
    if (field.count > 1) os << "[";
    for (uint32_t k = 0; k < shown; ++k) {
      const uint32_t v = words[w + k];
      if (k) os << ",";
      std::string text;
      if (word_text && word_text(w + k, &text)) {
        os << text;
        continue;
      }
      if (op == Opcode::kRecurrent && v == 0xFFFFFFFFu) {  // an absent optional output or constant
        os << "none";
        continue;
      }
      switch (field.kind) {
        case FieldKind::kTensor: os << "t" << v; break;
        case FieldKind::kOffset: os << "@" << v; break;
        case FieldKind::kInt: os << int32_t(v); break;
        case FieldKind::kUint: os << v; break;
        case FieldKind::kFloat: {
          float f;
          std::memcpy(&f, &v, 4);
          os << f;
          break;
        }
        case FieldKind::kOp: {
          const char* name = op_value_name(op, int32_t(v));
          if (name) os << name;
          else os << int32_t(v);
          break;
        }
      }
    }
    if (field.count > 1) os << "]";
    w += field.count;
  }
  return os.str();
}

}  // namespace neutron::compiler
