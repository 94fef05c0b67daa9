// Node-level support rules: for each rule an accepted and a rejected case at its limit, checking
// the rule name, the reason text (limits filled from the target) and the per-node detail.
#include <gtest/gtest.h>

#include <limits>

#include "graph_builder.h"
#include "partition/op_support.h"

namespace neutron {
namespace {

using testing::attrs;
using testing::GraphBuilder;
using testing::imxrt700;
using testing::q8;

std::optional<RuleRecord> check(GraphBuilder& b, const NeutronTarget& t = imxrt700()) {
  b.done();
  return check_node_support(b.g, b.last_node(), t);
}

void expect_accepted(GraphBuilder& b, const NeutronTarget& t = imxrt700()) {
  auto r = check(b, t);
  EXPECT_FALSE(r.has_value()) << "rejected by " << r->rule << ": " << r->reason << " [" << r->detail << "]";
}

void expect_rejected(GraphBuilder& b, const std::string& rule, const std::string& reason_part, const std::string& detail,
                     const NeutronTarget& t = imxrt700()) {
  auto r = check(b, t);
  ASSERT_TRUE(r.has_value()) << "accepted, expected " << rule;
  EXPECT_EQ(r->rule, rule) << r->reason << " [" << r->detail << "]";
  EXPECT_NE(r->reason.find(reason_part), std::string::npos) << "reason: " << r->reason;
  EXPECT_EQ(r->detail, detail);
}

struct ConvSpec {
  int64_t cin = 8, cout = 8, h = 8, w = 8, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, group = 1;
};

// X i8[1,Cin,H,W] -> Conv -> i8, int8 per-channel weights, int32 bias.
void add_conv(GraphBuilder& b, const ConvSpec& c, bool bias = true) {
  const TensorId x = b.input("x", {1, c.cin, c.h, c.w});
  const TensorId w = b.weights("w", {c.cout, c.cin / c.group, c.kh, c.kw});
  std::vector<TensorId> in = {x, w};
  if (bias) {
    QuantParams bq = b.g.tensor(w).quant;
    for (float& s : bq.scale) s *= 0.05f;
    in.push_back(b.constant("b", DType::I32, {c.cout}, bq));
  }
  b.node(OpKind::Conv, "conv", in,
         attrs({{"kernel_shape", std::vector<int64_t>{c.kh, c.kw}},
                {"strides", std::vector<int64_t>{c.sh, c.sw}},
                {"dilations", std::vector<int64_t>{c.dh, c.dw}},
                {"pads", std::vector<int64_t>{0, 0, 0, 0}},
                {"group", c.group}}));
}

// ---- common: int8 only ----------------------------------------------------------------------

TEST(Rules, FloatAndUint8OpsStayOnCpu) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 4}, {}, DType::F32);
  b.node(OpKind::Relu, "relu", {x}, {}, {});
  expect_rejected(b, "quant.int8_io", "only int8-quantized ops are delegated", "input 0 'x' f32[1,4]");

  GraphBuilder u;
  const TensorId y = u.input("y", {1, 4}, q8(0.1f, 128), DType::U8);
  u.node(OpKind::Relu, "relu", {y}, {}, q8(0.1f, 128));
  expect_rejected(u, "quant.int8_io", "uint8", "input 0 'y' u8[1,4] q(0.1,128)");

  GraphBuilder p;  // per-axis activations are not int8 activations
  QuantParams pa;
  pa.scale = {0.1f, 0.2f};
  pa.zero_point = {0, 0};
  pa.axis = 1;
  const TensorId z = p.input("z", {1, 2}, pa);
  p.node(OpKind::Abs, "abs", {z});
  expect_rejected(p, "quant.int8_io", "per-tensor", "input 0 'z' i8[1,2] q(axis=1, 2 scales)");
}

TEST(Rules, EveryOpKindHasAnEntry) {
  for (size_t k = 0; k < size_t(OpKind::kCount); ++k) {
    const OpSupport* s = find_op_support(OpKind(k));
    ASSERT_NE(s, nullptr) << op_kind_name(OpKind(k));
    EXPECT_EQ(s->kind, OpKind(k));
    if (!s->delegable) {
      EXPECT_EQ(s->rules.size(), 1u) << op_kind_name(OpKind(k));
    }
    for (const Rule& r : s->rules) EXPECT_FALSE(r.reason(imxrt700()).empty()) << r.name;
    EXPECT_EQ(bool(s->is_noop), !s->noop_when.empty()) << op_kind_name(OpKind(k));
  }
}

TEST(Rules, NotDelegatedOpsSayWhy) {
  GraphBuilder s;
  const TensorId y = s.input("y", {1, 4});
  s.node(OpKind::Sqrt, "sqrt", {y});
  expect_rejected(s, "sqrt.no_converter", "rsqrt", "");
}

// ---- Conv -----------------------------------------------------------------------------------

TEST(Rules, ConvAcceptsRegularAndDepthwise) {
  GraphBuilder b;
  add_conv(b, ConvSpec{});
  expect_accepted(b);
  GraphBuilder d;
  ConvSpec dw;
  dw.cin = dw.cout = dw.group = 16;
  dw.kh = dw.kw = 3;
  add_conv(d, dw);
  expect_accepted(d);
  GraphBuilder nb;
  add_conv(nb, ConvSpec{}, /*bias=*/false);
  expect_accepted(nb);
}

TEST(Rules, ConvWeightVolumeAtTheLimit) {
  // kH*kW*round_up(Cin, 8): 65535 is odd, so with num_macs = 8 the largest volume is 65528.
  GraphBuilder ok;
  ConvSpec c;
  c.cin = 65528;
  c.cout = 1;
  c.h = c.w = 1;
  add_conv(ok, c);
  expect_accepted(ok);
  GraphBuilder over;
  c.cin = 65529;  // rounds up to 65536
  add_conv(over, c);
  expect_rejected(over, "conv.weight_volume", "kH * kW * round_up(Cin, 8) must be <= 65535",
                  "kernel 1x1, Cin 65529: 1 * 1 * 65536 = 65536");
}

TEST(Rules, DepthwiseWeightVolumeCountsAllInputChannelsAsUpstream) {
  // Upstream's d_fwd_no_deleg case: 113 channels, kernel 41x15, group 113: 41 * 15 * 120 = 73800.
  GraphBuilder over;
  ConvSpec c;
  c.cin = c.cout = c.group = 113;
  c.kh = c.h = 41;
  c.kw = c.w = 15;
  add_conv(over, c);
  expect_rejected(over, "conv.weight_volume", "for depthwise convolutions too", "kernel 41x15, Cin 113: 41 * 15 * 120 = 73800");
  GraphBuilder ok;
  c.cin = c.cout = c.group = 104;  // 41 * 15 * 104 = 63960
  add_conv(ok, c);
  expect_accepted(ok);
}

TEST(Rules, ConvWeightVolumeFollowsTheTargetsMacCount) {
  NeutronTarget t = imxrt700();
  t.num_macs = 1;  // no channel blocking: 65535 itself is reachable
  GraphBuilder ok;
  ConvSpec c;
  c.cin = 4369;  // 3 * 5 * 4369 = 65535
  c.cout = 1;
  c.kh = 3;
  c.kw = 5;
  add_conv(ok, c);
  expect_accepted(ok, t);
  GraphBuilder over;
  c.kh = c.kw = 1;
  c.cin = 65536;
  add_conv(over, c);
  expect_rejected(over, "conv.weight_volume", "round_up(Cin, 1) must be <= 65535",
                  "kernel 1x1, Cin 65536: 1 * 1 * 65536 = 65536", t);
  // 3x3 with Cin 7281 rounds to 7288 on imxrt700: 65592.
  GraphBuilder rt;
  c.cin = 7281;
  c.kh = c.kw = 3;
  c.h = c.w = 3;
  add_conv(rt, c);
  expect_rejected(rt, "conv.weight_volume", "65535", "kernel 3x3, Cin 7281: 3 * 3 * 7288 = 65592");
}

TEST(Rules, ConvStrideAtTheLimit) {
  GraphBuilder ok;
  ConvSpec c;
  c.cin = c.cout = 1;
  c.h = 1;
  c.w = 4096;
  c.sw = 4096;
  add_conv(ok, c);
  expect_accepted(ok);
  GraphBuilder over;
  c.w = 4097;
  c.sw = 4097;
  add_conv(over, c);
  expect_rejected(over, "conv.stride", "stride must be <= 4096 per axis", "stride 1x4097");
}

TEST(Rules, ConvKernelAtTheLimit) {
  GraphBuilder ok;
  ConvSpec c;
  c.cin = c.cout = 1;
  c.h = 4096;
  c.w = 1;
  c.kh = 4096;
  add_conv(ok, c);
  expect_accepted(ok);
  GraphBuilder over;
  c.h = 4097;
  c.kh = 4097;
  add_conv(over, c);
  expect_rejected(over, "conv.kernel_size", "kernel must be <= 4096 per axis", "kernel 4097x1");
}

TEST(Rules, ConvDilationAtTheLimit) {
  GraphBuilder ok;
  ConvSpec c;
  c.cin = c.cout = 1;
  c.h = 1;
  c.kw = 2;
  c.w = 4097;
  c.dw = 4096;
  add_conv(ok, c);
  expect_accepted(ok);
  GraphBuilder over;
  c.w = 4098;
  c.dw = 4097;
  add_conv(over, c);
  expect_rejected(over, "conv.dilation", "dilation must be <= 4096 per axis", "dilation 1x4097");
}

TEST(Rules, ConvGroupsOtherThanDepthwiseAreRejected) {
  GraphBuilder b;
  ConvSpec c;
  c.cin = 8;
  c.cout = 8;
  c.group = 2;
  add_conv(b, c);
  expect_rejected(b, "conv.groups", "split-grouped-conv", "group 2, Cin 8, Cout 8");
}

TEST(Rules, ConvWeightsAndBiasMustBeQuantizedConstants) {
  GraphBuilder fw;
  const TensorId x = fw.input("x", {1, 2, 4, 4});
  const TensorId w = fw.constant("w", DType::F32, {2, 2, 1, 1});
  fw.node(OpKind::Conv, "conv", {x, w}, attrs({{"kernel_shape", std::vector<int64_t>{1, 1}}}));
  expect_rejected(fw, "conv.weights", "constant int8 tensor", "weights 'w' f32[2,2,1,1]");

  GraphBuilder rw;  // runtime weights
  const TensorId x2 = rw.input("x", {1, 2, 4, 4});
  const TensorId w2 = rw.input("w", {2, 2, 1, 1});
  rw.node(OpKind::Conv, "conv", {x2, w2}, attrs({{"kernel_shape", std::vector<int64_t>{1, 1}}}));
  expect_rejected(rw, "conv.weights", "constant", "weights 'w' i8[2,2,1,1] q(0.05,0) (not constant)");

  GraphBuilder fb;
  const TensorId x3 = fb.input("x", {1, 2, 4, 4});
  const TensorId w3 = fb.weights("w", {2, 2, 1, 1});
  const TensorId b3 = fb.constant("b", DType::F32, {2});
  fb.node(OpKind::Conv, "conv", {x3, w3, b3}, attrs({{"kernel_shape", std::vector<int64_t>{1, 1}}}));
  expect_rejected(fb, "conv.bias", "constant int32", "bias 'b' f32[2]");
}

// ---- ConvTranspose --------------------------------------------------------------------------

void add_conv_transpose(GraphBuilder& b, int64_t k, int64_t stride, int64_t pad, int64_t group = 1, int64_t dil = 1) {
  const TensorId x = b.input("x", {1, 4, 6, 6});
  const TensorId w = b.weights("w", {4, 4 / group, k, k}, 1);
  b.node(OpKind::ConvTranspose, "deconv", {x, w},
         attrs({{"kernel_shape", std::vector<int64_t>{k, k}},
                {"strides", std::vector<int64_t>{stride, stride}},
                {"dilations", std::vector<int64_t>{dil, dil}},
                {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
                {"group", group}}));
}

TEST(Rules, ConvTransposeLimits) {
  GraphBuilder ok;
  add_conv_transpose(ok, 3, 2, 2);
  expect_accepted(ok);
  // Any stride, padding and dilation: zero insertion and a stride-1 CONV_2D.
  GraphBuilder s3;
  add_conv_transpose(s3, 3, 3, 0);
  expect_accepted(s3);
  GraphBuilder sk;
  add_conv_transpose(sk, 1, 2, 0);
  expect_accepted(sk);
  GraphBuilder pk;
  add_conv_transpose(pk, 3, 1, 3);
  expect_accepted(pk);
  GraphBuilder dl;
  add_conv_transpose(dl, 2, 1, 0, 1, 2);
  expect_accepted(dl);
  GraphBuilder dw;
  add_conv_transpose(dw, 3, 2, 1, 4);
  expect_accepted(dw);
  GraphBuilder s65;
  add_conv_transpose(s65, 3, 65, 0);
  expect_rejected(s65, "conv_transpose.stride", "stride must be <= 64", "stride 65x65");
  GraphBuilder gr;
  add_conv_transpose(gr, 3, 1, 0, 2);
  expect_rejected(gr, "conv_transpose.groups", "group must be 1 (regular) or equal to Cin", "group 2, Cin 4");
}

// ---- Gemm, MatMul ---------------------------------------------------------------------------

void add_gemm(GraphBuilder& b, Attributes a, Shape bias_shape = {16}, bool const_b = true) {
  const TensorId x = b.input("x", {2, 8});
  const TensorId w = const_b ? b.weights("w", {16, 8}, 0) : b.input("w", {16, 8});
  std::vector<TensorId> in = {x, w};
  if (!bias_shape.empty()) in.push_back(b.constant("c", DType::I32, bias_shape, q8(0.0005f, 0)));
  a.set("transB", int64_t(1));
  b.node(OpKind::Gemm, "fc", in, a);
}

TEST(Rules, GemmRules) {
  GraphBuilder ok;
  add_gemm(ok, {});
  expect_accepted(ok);
  GraphBuilder ok2;
  add_gemm(ok2, {}, {1, 16});
  expect_accepted(ok2);
  GraphBuilder nob;
  add_gemm(nob, {}, {});
  expect_accepted(nob);
  GraphBuilder alpha;
  add_gemm(alpha, attrs({{"alpha", 0.5}}));
  expect_rejected(alpha, "gemm.alpha_beta", "alpha and beta must be 1", "alpha 0.5, beta 1");
  GraphBuilder runtime_b;
  add_gemm(runtime_b, {}, {16}, false);
  expect_rejected(runtime_b, "gemm.weights", "constant int8", "B 'w' i8[16,8] q(0.05,0) (not constant)");
  GraphBuilder full_bias;
  add_gemm(full_bias, {}, {2, 16});
  expect_rejected(full_bias, "gemm.bias", "[N] or [1, N]", "C 'c' i32[2,16] q(0.0005,0)");
}

TEST(Rules, GemmTransAIsRejected) {
  GraphBuilder b;
  const TensorId x = b.input("x", {8, 2});
  const TensorId w = b.weights("w", {8, 16}, 1);
  b.node(OpKind::Gemm, "fc", {x, w}, attrs({{"transA", int64_t(1)}}));
  expect_rejected(b, "gemm.trans_a", "transA must be 0", "transA 1");
}

TEST(Rules, MatMulConstantAndBatchForms) {
  GraphBuilder mm;
  const TensorId x = mm.input("x", {1, 5, 8});
  const TensorId w = mm.weights("w", {8, 4}, 1);
  mm.node(OpKind::MatMul, "mm", {x, w});
  expect_accepted(mm);

  GraphBuilder bmm;
  const TensorId a = bmm.input("a", {2, 3, 8}, q8(0.1f, 0));
  const TensorId c = bmm.input("c", {2, 8, 4}, q8(0.1f, 0));
  bmm.node(OpKind::MatMul, "bmm", {a, c});
  expect_accepted(bmm);

  GraphBuilder zp;
  const TensorId a2 = zp.input("a", {2, 3, 8}, q8(0.1f, 3));
  const TensorId c2 = zp.input("c", {2, 8, 4}, q8(0.1f, 0));
  zp.node(OpKind::MatMul, "bmm", {a2, c2});
  expect_rejected(zp, "matmul.bmm_zero_points", "zero point 0", "A q(0.1,3), B q(0.1,0)");

  GraphBuilder r2;
  const TensorId a3 = r2.input("a", {3, 8});
  const TensorId c3 = r2.input("c", {8, 4});
  r2.node(OpKind::MatMul, "mm", {a3, c3});
  expect_rejected(r2, "matmul.bmm_rank", "both inputs must be 3-D", "A [3,8], B [8,4]");
}

// ---- pools ----------------------------------------------------------------------------------

void add_pool(GraphBuilder& b, OpKind k, Shape x_shape, std::vector<int64_t> kernel, std::vector<int64_t> strides,
              Attributes extra = {}, QuantParams out = q8()) {
  const TensorId x = b.input("x", std::move(x_shape));
  extra.set("kernel_shape", kernel);
  extra.set("strides", strides);
  if (!extra.has("pads")) extra.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  b.node(k, "pool", {x}, extra, out);
}

// One predicate (issue 20): a node the op's rules accept whose kernel calls the NPU refuses at load
// stays on the CPU, named by npu.payload. Upstream delegates a 1x5000 max pool (its converter
// rewrites it); our NPU pool kernel takes windows up to 4096.
TEST(Rules, PayloadRefusedByTheNpuIsNotDelegated) {
  GraphBuilder wide;
  add_pool(wide, OpKind::MaxPool, {1, 4, 1, 5000}, {1, 5000}, {1, 1});
  auto r = check(wide);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rule, "npu.payload");
  EXPECT_NE(r->detail.find("pool: kernel or stride out of range"), std::string::npos) << r->detail;
  GraphBuilder at_limit;
  add_pool(at_limit, OpKind::MaxPool, {1, 4, 1, 4096}, {1, 4096}, {1, 1});
  expect_accepted(at_limit);
}

TEST(Rules, MaxPoolRules) {
  GraphBuilder ok;
  add_pool(ok, OpKind::MaxPool, {1, 1, 1, 4096}, {1, 1}, {1, 4096});
  expect_accepted(ok);
  GraphBuilder stride;
  add_pool(stride, OpKind::MaxPool, {1, 1, 1, 4097}, {1, 1}, {1, 4097});
  expect_rejected(stride, "max_pool.stride", "stride must be <= 4096 per axis", "stride 1x4097");
  GraphBuilder requant;
  add_pool(requant, OpKind::MaxPool, {1, 2, 4, 4}, {2, 2}, {2, 2}, {}, q8(0.1f, 3));
  expect_rejected(requant, "quant.shared_qparams", "identical quantization parameters", "input q(0.05,0), output q(0.1,3)");
  GraphBuilder dil;
  add_pool(dil, OpKind::MaxPool, {1, 2, 8, 8}, {2, 2}, {1, 1}, attrs({{"dilations", std::vector<int64_t>{2, 2}}}));
  expect_rejected(dil, "max_pool.dilation", "dilation must be 1", "dilation 2x2");
  GraphBuilder ceil;
  add_pool(ceil, OpKind::MaxPool, {1, 2, 5, 5}, {2, 2}, {2, 2}, attrs({{"ceil_mode", int64_t(1)}}));
  expect_rejected(ceil, "max_pool.ceil_mode", "ceil_mode must be 0", "ceil_mode 1");
}

TEST(Rules, AveragePoolRules) {
  GraphBuilder ok;
  add_pool(ok, OpKind::AveragePool, {1, 1, 1, 4096}, {1, 4096}, {1, 1});
  expect_accepted(ok);
  GraphBuilder big;
  add_pool(big, OpKind::AveragePool, {1, 1, 1, 4097}, {1, 4097}, {1, 1});
  expect_rejected(big, "average_pool.kernel_size", "kernel must be <= 4096", "kernel 1x4097");
  GraphBuilder pad;
  add_pool(pad, OpKind::AveragePool, {1, 2, 4, 4}, {3, 3}, {1, 1},
           attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"count_include_pad", int64_t(0)}}));
  expect_rejected(pad, "average_pool.count_include_pad", "count_include_pad = 1", "count_include_pad 0 with pads 1,1,1,1");
  GraphBuilder pad_ok;
  add_pool(pad_ok, OpKind::AveragePool, {1, 2, 4, 4}, {3, 3}, {1, 1},
           attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"count_include_pad", int64_t(1)}}));
  expect_accepted(pad_ok);
}

TEST(Rules, GlobalAveragePoolSize) {
  GraphBuilder ok;
  const TensorId x = ok.input("x", {1, 2, 4096, 1});
  ok.node(OpKind::GlobalAveragePool, "gap", {x});
  expect_accepted(ok);
  GraphBuilder big;
  const TensorId y = big.input("x", {1, 2, 1, 4097});
  big.node(OpKind::GlobalAveragePool, "gap", {y});
  expect_rejected(big, "global_average_pool.size", "must be <= 4096", "H x W 1x4097");
}

// ---- softmax --------------------------------------------------------------------------------

void add_softmax(GraphBuilder& b, Shape shape, int64_t axis, QuantParams out = q8(1.0f / 256, -128)) {
  const TensorId x = b.input("x", std::move(shape));
  b.node(OpKind::Softmax, "softmax", {x}, attrs({{"axis", axis}}), out);
}

TEST(Rules, SoftmaxChannelLimit) {
  GraphBuilder ok;
  add_softmax(ok, {1, 2040}, 1);
  expect_accepted(ok);
  GraphBuilder over;
  add_softmax(over, {1, 2041}, 1);
  expect_rejected(over, "softmax.channels", "the channel count must be <= 2040", "C 2041 in [1,2041]");
}

TEST(Rules, SoftmaxSpatialAndSizeLimits) {
  GraphBuilder ok;
  add_softmax(ok, {4096, 8}, 1);
  expect_accepted(ok);
  GraphBuilder spatial;
  add_softmax(spatial, {4097, 8}, 1);
  expect_rejected(spatial, "softmax.spatial", "non-channel dims (batch included) must be <= 4096",
                  "non-channel size 4097 in [4097,8]");
  GraphBuilder size_ok;
  add_softmax(size_ok, {2048, 256}, 1);  // 524288
  expect_accepted(size_ok);
  GraphBuilder size;
  add_softmax(size, {2049, 256}, 1);  // 524544
  expect_rejected(size, "softmax.size", "must be <= 524288", "524544 elements in [2049,256]");
}

TEST(Rules, SoftmaxAxisAndOutputParameters) {
  GraphBuilder nchw;
  add_softmax(nchw, {1, 10, 2, 2}, 1);
  expect_accepted(nchw);
  // The last axis of a 4-D tensor (upstream's channel dim of a formatless tensor) is accepted too,
  // with the limits counted along it; a middle axis is not.
  GraphBuilder last;
  add_softmax(last, {1, 3, 3, 200}, 3);
  expect_accepted(last);
  GraphBuilder last_spatial;
  add_softmax(last_spatial, {1, 64, 65, 8}, 3);
  expect_rejected(last_spatial, "softmax.spatial", "must be <= 4096", "non-channel size 4160 in [1,64,65,8]");
  GraphBuilder middle;
  add_softmax(middle, {1, 10, 2, 2}, 2);
  expect_rejected(middle, "softmax.axis", "channel dim", "axis 2 of [1,10,2,2]");
  GraphBuilder q;
  add_softmax(q, {1, 10}, 1, q8(1.0f / 255, -128));
  expect_rejected(q, "softmax.output_qparams", "scale 1/256, zero point -128", "output q(0.00392157,-128)");
}

TEST(Rules, SoftmaxLimitsDeriveFromTheDatapath) {
  NeutronTarget t = imxrt700();
  t.num_pipes = 4;  // 4 * 4096 / 4 = 4096 -> largest multiple of 8 below: 4088
  EXPECT_EQ(t.softmax_max_channels(), 4088);
  GraphBuilder ok;
  add_softmax(ok, {1, 4088}, 1);
  expect_accepted(ok, t);
  t.num_macs = 16;  // 65536 * 16
  EXPECT_EQ(t.softmax_max_elements(), 1048576);
}

// ---- elementwise ----------------------------------------------------------------------------

TEST(Rules, BroadcastNeedsOneFullSizeInput) {
  GraphBuilder ok;
  const TensorId a = ok.input("a", {1, 4, 4, 4});
  const TensorId c = ok.input("c", {1, 4, 1, 1}, q8(0.1f, 2));
  ok.node(OpKind::Add, "add", {a, c});
  expect_accepted(ok);
  GraphBuilder both;
  const TensorId x = both.input("x", {1, 4, 1});
  const TensorId y = both.input("y", {1, 1, 4});
  both.node(OpKind::Mul, "mul", {x, y});
  expect_rejected(both, "broadcast.full_input", "at least one input", "inputs [1,4,1] and [1,1,4] broadcast to [1,4,4]");
}

TEST(Rules, MaxMinShareParameters) {
  GraphBuilder ok;
  const TensorId a = ok.input("a", {1, 8});
  const TensorId c = ok.input("c", {1, 8});
  ok.node(OpKind::Max, "max", {a, c});
  expect_accepted(ok);
  GraphBuilder diff;
  const TensorId x = diff.input("x", {1, 8});
  const TensorId y = diff.input("y", {1, 8}, q8(0.1f, 0));
  diff.node(OpKind::Min, "min", {x, y});
  expect_rejected(diff, "max_min.shared_qparams", "all inputs and the output", "input 1 q(0.1,0), output q(0.05,0)");
}

TEST(Rules, SigmoidAndTanhHaveFixedOutputParameters) {
  GraphBuilder ok;
  const TensorId x = ok.input("x", {1, 8});
  ok.node(OpKind::Sigmoid, "sig", {x}, {}, q8(1.0f / 256, -128));
  expect_accepted(ok);
  GraphBuilder bad;
  const TensorId y = bad.input("x", {1, 8});
  bad.node(OpKind::Tanh, "tanh", {y}, {}, q8(1.0f / 256, -128));
  expect_rejected(bad, "tanh.output_qparams", "scale 0.0078125 (1/128), zero point 0", "output q(0.00390625,-128)");
}

// ---- clamp family -------------------------------------------------------------------------

TEST(Rules, ClipBounds) {
  GraphBuilder relu6;  // RELU6 bounds: own output parameters are fine
  const TensorId x = relu6.input("x", {1, 8});
  relu6.node(OpKind::Clip, "clip", {x}, attrs({{"min", 0.0}, {"max", 6.0}}), q8(6.0f / 255, -128));
  expect_accepted(relu6);
  GraphBuilder other_same;  // other bounds with shared parameters: MINIMUM + MAXIMUM
  const TensorId y = other_same.input("x", {1, 8});
  other_same.node(OpKind::Clip, "clip", {y}, attrs({{"min", -0.5}, {"max", 2.0}}));
  expect_accepted(other_same);
  GraphBuilder other_diff;
  const TensorId z = other_diff.input("x", {1, 8});
  other_diff.node(OpKind::Clip, "clip", {z}, attrs({{"min", -0.5}, {"max", 2.0}}), q8(0.01f, -78));
  expect_rejected(other_diff, "clip.qparams", "need identical input and output quantization",
                  "bounds [-0.5, 2], input q(0.05,0), output q(0.01,-78)");
}

TEST(Rules, UnboundedClipIsARequantizationDelegatedBeforeAnyOp) {
  GraphBuilder reshape;  // fold-qdq's requantization in front of a Reshape (upstream: view_copy)
  const TensorId x = reshape.input("x", {1, 2, 2, 2});
  const TensorId r = reshape.node(OpKind::Clip, "requant", {x}, {}, q8(0.1f, 3));
  reshape.node(OpKind::Reshape, "flatten", {r}, attrs({{"shape", std::vector<int64_t>{1, 8}}}), q8(0.1f, 3));
  reshape.done();
  EXPECT_FALSE(check_node_support(reshape.g, reshape.node_id("requant"), imxrt700()).has_value());

  // ... in front of a constant Pad (upstream: constant_pad_nd needs shared q-params, so upstream
  // leaves the requantization on the CPU; here it runs on the NPU as a table call, issue 16).
  GraphBuilder pad;
  const TensorId y = pad.input("x", {1, 2, 2, 2});
  const TensorId r2 = pad.node(OpKind::Clip, "requant", {y}, {}, q8(0.1f, 3));
  pad.node(OpKind::Pad, "pad", {r2}, attrs({{"pads", std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1}}, {"mode", std::string("constant")}}),
           q8(0.1f, 3));
  pad.done();
  EXPECT_FALSE(check_node_support(pad.g, pad.node_id("requant"), imxrt700()).has_value());

  GraphBuilder identity;  // no bounds, no requantization: the identity
  const TensorId z = identity.input("x", {1, 8});
  identity.node(OpKind::Clip, "clip", {z});
  expect_rejected(identity, "clip.requantize", "the identity", "no bounds and equal q-params q(0.05,0): the identity");
}

// ---- data movement ------------------------------------------------------------------------

TEST(Rules, SliceStepMustBeOne) {
  GraphBuilder ok;
  const TensorId x = ok.input("x", {1, 8});
  ok.node(OpKind::Slice, "slice", {x},
          attrs({{"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{4}}, {"axes", std::vector<int64_t>{1}},
                 {"steps", std::vector<int64_t>{1}}}));
  expect_accepted(ok);
  GraphBuilder step;
  const TensorId y = step.input("x", {1, 8});
  step.node(OpKind::Slice, "slice", {y},
            attrs({{"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{8}}, {"axes", std::vector<int64_t>{1}},
                   {"steps", std::vector<int64_t>{2}}}));
  expect_rejected(step, "slice.step", "every step must be 1", "steps 2");
}

TEST(Rules, PadModes) {
  for (const char* mode : {"constant", "reflect"}) {
    GraphBuilder ok;
    const TensorId x = ok.input("x", {1, 2, 4, 4});
    ok.node(OpKind::Pad, "pad", {x}, attrs({{"pads", std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1}}, {"mode", std::string(mode)}}));
    expect_accepted(ok);
  }
  GraphBuilder edge;
  const TensorId x = edge.input("x", {1, 2, 4, 4});
  edge.node(OpKind::Pad, "pad", {x}, attrs({{"pads", std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1}}, {"mode", std::string("edge")}}));
  expect_rejected(edge, "pad.mode", "\"constant\" or \"reflect\"", "mode \"edge\"");
}

TEST(Rules, ConcatNeedsEqualParameters) {
  GraphBuilder ok;
  const TensorId a = ok.input("a", {1, 2});
  const TensorId c = ok.input("c", {1, 3});
  ok.node(OpKind::Concat, "cat", {a, c}, attrs({{"axis", int64_t(1)}}));
  expect_accepted(ok);
  GraphBuilder diff;
  const TensorId x = diff.input("x", {1, 2});
  const TensorId y = diff.input("y", {1, 3}, q8(0.2f, 1));
  diff.node(OpKind::Concat, "cat", {x, y}, attrs({{"axis", int64_t(1)}}));
  expect_rejected(diff, "concat.shared_qparams", "output's quantization", "input 1 q(0.2,1), output q(0.05,0)");
}

TEST(Rules, TransposeSharesParameters) {
  GraphBuilder diff;
  const TensorId x = diff.input("x", {1, 2, 3});
  diff.node(OpKind::Transpose, "t", {x}, attrs({{"perm", std::vector<int64_t>{0, 2, 1}}}), q8(0.1f, 0));
  expect_rejected(diff, "quant.shared_qparams", "identical", "input q(0.05,0), output q(0.1,0)");
}

// ---- resize -------------------------------------------------------------------------------

void add_resize(GraphBuilder& b, Shape in, std::vector<double> scales, const std::string& mode, const std::string& ctm,
                const std::string& nearest = "floor") {
  const TensorId x = b.input("x", std::move(in));
  b.node(OpKind::Resize, "resize", {x},
         attrs({{"mode", mode}, {"coordinate_transformation_mode", ctm}, {"nearest_mode", nearest}, {"scales", scales}}));
}

TEST(Rules, ResizeScales) {
  for (double s : {1.0, 2.0, 4.0, 8.0}) {
    GraphBuilder ok;
    add_resize(ok, {1, 2, 3, 3}, {1, 1, s, s}, "nearest", "asymmetric");
    expect_accepted(ok);
  }
  GraphBuilder three;
  add_resize(three, {1, 2, 3, 3}, {1, 1, 3, 3}, "nearest", "asymmetric");
  expect_rejected(three, "resize.scales", "one of {1, 2, 4, 8}", "H 3 -> 9 (scale 3), W 3 -> 9 (scale 3)");
  GraphBuilder sixteen;
  add_resize(sixteen, {1, 2, 2, 2}, {1, 1, 16, 1}, "nearest", "asymmetric");
  expect_rejected(sixteen, "resize.scales", "{1, 2, 4, 8}", "H 2 -> 32 (scale 16), W 2 -> 2 (scale 1)");
  GraphBuilder ac;  // align_corners: (7 - 1) / (4 - 1) = 2
  add_resize(ac, {1, 2, 4, 4}, {1, 1, 1.75, 1.75}, "linear", "align_corners");
  expect_accepted(ac);
  GraphBuilder ac1;  // align_corners with input size 1 has no scale
  add_resize(ac1, {1, 2, 1, 4}, {1, 1, 2, 1.75}, "linear", "align_corners");
  expect_rejected(ac1, "resize.scales", "then in must be > 1", "H 1 -> 2 (not an integer scale), W 4 -> 7 (scale 2)");
}

TEST(Rules, ResizeModes) {
  GraphBuilder hp;
  add_resize(hp, {1, 2, 3, 3}, {1, 1, 2, 2}, "linear", "half_pixel");
  expect_accepted(hp);
  GraphBuilder nearest_hp;
  add_resize(nearest_hp, {1, 2, 3, 3}, {1, 1, 2, 2}, "nearest", "half_pixel", "round_prefer_floor");
  expect_rejected(nearest_hp, "resize.mode", "asymmetric coordinates with floor rounding",
                  "mode nearest, coordinates half_pixel, rounding round_prefer_floor");
}

}  // namespace
}  // namespace neutron
