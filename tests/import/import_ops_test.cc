// Importer normalizations, one or more hand-built models per op: the IR nodes, attributes and
// tensor types that come out (see ir/op_attrs.h for the normalized forms).
#include <gtest/gtest.h>

#include <limits>

#include "import/onnx/onnx_importer.h"
#include "ir/printer.h"
#include "onnx_builder.h"

namespace neutron {
namespace {

using testing::kFloat;
using testing::kInt32;
using testing::kInt64;
using testing::kInt8;
using testing::kUint8;
using testing::OnnxBuilder;
using V = std::vector<int64_t>;

Graph import_ok(const OnnxBuilder& b, const OnnxImportOptions& o = {}) {
  auto g = b.import(o);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return g.ok() ? std::move(g).value() : Graph();
}

// The single live node of kind k.
const Node& only(const Graph& g, OpKind k) {
  const Node* found = nullptr;
  int count = 0;
  for (const Node* n : testing::nodes_of(g))
    if (n->kind == k) {
      found = n;
      ++count;
    }
  EXPECT_EQ(count, 1) << op_kind_name(k) << " in\n" << print_graph(g);
  static Node none;
  return found ? *found : none;
}

const Tensor& tensor(const Graph& g, const std::string& name) {
  auto id = g.find_tensor(name);
  EXPECT_TRUE(id.has_value()) << name;
  static Tensor none;
  return id ? g.tensor(*id) : none;
}

OnnxBuilder conv_model(const std::string& auto_pad, V strides, int64_t in_hw = 7) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, in_hw, in_hw}).output("y");
  b.init("w", TensorData(DType::F32, {4, 2, 3, 3}));
  auto* n = b.node("Conv", {"x", "w"}, {"y"}, "conv");
  if (!auto_pad.empty()) OnnxBuilder::attr(n, "auto_pad", auto_pad);
  OnnxBuilder::attr(n, "strides", strides);
  return b;
}

TEST(ImportConv, AutoPadIsResolvedIntoPads) {
  // in 7, stride 2: out 4, total pad = 3*2 + 3 - 7 = 2 -> 1/1
  Graph g = import_ok(conv_model("SAME_UPPER", {2, 2}));
  EXPECT_EQ(only(g, OpKind::Conv).attrs.get_ints("pads"), (V{1, 1, 1, 1}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 4, 4, 4}));
  // in 8, stride 2: out 4, total pad = 3*2 + 3 - 8 = 1 -> SAME_UPPER puts it at the end, SAME_LOWER at the start
  g = import_ok(conv_model("SAME_UPPER", {2, 2}, 8));
  EXPECT_EQ(only(g, OpKind::Conv).attrs.get_ints("pads"), (V{0, 0, 1, 1}));
  g = import_ok(conv_model("SAME_LOWER", {2, 2}, 8));
  EXPECT_EQ(only(g, OpKind::Conv).attrs.get_ints("pads"), (V{1, 1, 0, 0}));
  g = import_ok(conv_model("VALID", {1, 1}));
  EXPECT_EQ(only(g, OpKind::Conv).attrs.get_ints("pads"), (V{0, 0, 0, 0}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 4, 5, 5}));
}

TEST(ImportConv, DefaultsAndDepthwise) {
  OnnxBuilder b(11);
  b.input("x", kFloat, {1, 3, 5, 5}).output("y");
  b.init("w", TensorData(DType::F32, {3, 1, 3, 3}));
  b.init("b", TensorData(DType::F32, {3}));
  auto* n = b.node("Conv", {"x", "w", "b"}, {"y"});
  OnnxBuilder::attr(n, "group", int64_t(3));
  OnnxBuilder::attr(n, "dilations", V{2, 2});
  OnnxBuilder::attr(n, "pads", V{2, 2, 2, 2});
  Graph g = import_ok(b);
  const Node& c = only(g, OpKind::Conv);
  EXPECT_EQ(c.name, "Conv_0");  // unnamed nodes are named <OpType>_<index>
  EXPECT_EQ(c.attrs.get_ints("kernel_shape"), (V{3, 3}));  // from the weights
  EXPECT_EQ(c.attrs.get_ints("strides"), (V{1, 1}));
  EXPECT_EQ(c.attrs.get_int("group", 0), 3);
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 3, 5, 5}));
}

TEST(ImportConv, OneDimensionalBecomesReshapeConv2dReshape) {
  // conv1d-to-2d: X [N, C, L] -> [N, C, 1, L], W [O, I, k] -> [O, I, 1, k], H gets kernel 1,
  // stride 1, dilation 1, no pads; the output is reshaped back to [N, O, L'].
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 9}).output("y");
  b.init("w", TensorData(DType::F32, {4, 2, 3}));
  auto* n = b.node("Conv", {"x", "w"}, {"y"}, "conv1d");
  OnnxBuilder::attr(n, "strides", V{2});
  OnnxBuilder::attr(n, "pads", V{1, 2});
  Graph g = import_ok(b);
  const Node& c = only(g, OpKind::Conv);
  EXPECT_EQ(c.attrs.get_ints("kernel_shape"), (V{1, 3}));
  EXPECT_EQ(c.attrs.get_ints("strides"), (V{1, 2}));
  EXPECT_EQ(c.attrs.get_ints("dilations"), (V{1, 1}));
  EXPECT_EQ(c.attrs.get_ints("pads"), (V{0, 1, 0, 2}));
  EXPECT_EQ(g.tensor(c.inputs[0]).shape, (Shape{1, 2, 1, 9}));
  EXPECT_TRUE(g.tensor(c.inputs[1]).is_constant());
  EXPECT_EQ(g.tensor(c.inputs[1]).shape, (Shape{4, 2, 1, 3}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 4, 5}));  // (9 + 3 - 3) / 2 + 1
  EXPECT_EQ(g.node(tensor(g, "y").producer).kind, OpKind::Reshape);
}

TEST(ImportConv, OneDimensionalWithWrongAttributeSizeIsInvalid) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 9}).output("y");
  b.init("w", TensorData(DType::F32, {4, 2, 3}));
  OnnxBuilder::attr(b.node("Conv", {"x", "w"}, {"y"}, "conv1d"), "strides", V{1, 1});
  auto g = b.import();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Error::InvalidModel);
  EXPECT_NE(g.status().message().find("node 'conv1d' (op Conv, opset 13): attribute strides [1,1] of a 1-D Conv"),
            std::string::npos)
      << g.status().message();
}

TEST(ImportConv, OneDimensionalQdqWeightStaysDequantizeOfAConstant) {
  // The per-channel int8 weight is reshaped before DequantizeLinear, so fold-qdq sees the usual
  // "DequantizeLinear of a constant" weight of a 2-D Conv.
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 6}).output("y");
  b.init("w", TensorData(DType::I8, {3, 2, 2}));
  b.init("w_scale", TensorData::from<float>({3}, {0.1f, 0.2f, 0.3f}));
  b.init("w_zp", TensorData(DType::I8, {3}));
  OnnxBuilder::attr(b.node("DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wd"}, "dq_w"), "axis", int64_t(0));
  b.node("Conv", {"x", "wd"}, {"y"}, "conv1d");
  Graph g = import_ok(b);
  const Node& c = only(g, OpKind::Conv);
  const Tensor& w = g.tensor(c.inputs[1]);
  EXPECT_EQ(w.shape, (Shape{3, 2, 1, 2}));
  ASSERT_GE(w.producer, 0);
  const Node& dq = g.node(w.producer);
  EXPECT_EQ(dq.kind, OpKind::DequantizeLinear);
  const Tensor& wq = g.tensor(dq.inputs[0]);
  EXPECT_TRUE(wq.is_constant());
  EXPECT_EQ(wq.shape, (Shape{3, 2, 1, 2}));
  EXPECT_EQ(wq.quant, (QuantParams{{0.1f, 0.2f, 0.3f}, {0, 0, 0}, 0}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 3, 5}));
}

TEST(ImportConvTranspose, OneDimensionalBecomesReshapeConvTranspose2dReshape) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 5}).output("y");
  b.init("w", TensorData(DType::F32, {2, 3, 4}));  // [Cin, Cout/g, k]
  auto* n = b.node("ConvTranspose", {"x", "w"}, {"y"}, "deconv1d");
  OnnxBuilder::attr(n, "strides", V{2});
  OnnxBuilder::attr(n, "output_padding", V{1});
  Graph g = import_ok(b);
  const Node& c = only(g, OpKind::ConvTranspose);
  EXPECT_EQ(c.attrs.get_ints("strides"), (V{1, 2}));
  EXPECT_EQ(c.attrs.get_ints("output_padding"), (V{0, 1}));
  EXPECT_EQ(g.tensor(c.inputs[1]).shape, (Shape{2, 3, 1, 4}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 3, 13}));  // 2 * (5 - 1) + 1 + 4
}

TEST(ImportPool, OneDimensionalBecomesReshapePool2dReshape) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 9}).output("y");
  auto* n = b.node("AveragePool", {"x"}, {"y"}, "pool1d");
  OnnxBuilder::attr(n, "kernel_shape", V{3});
  OnnxBuilder::attr(n, "strides", V{2});
  OnnxBuilder::attr(n, "pads", V{1, 0});
  OnnxBuilder::attr(n, "count_include_pad", int64_t(1));
  Graph g = import_ok(b);
  const Node& p = only(g, OpKind::AveragePool);
  EXPECT_EQ(p.attrs.get_ints("kernel_shape"), (V{1, 3}));
  EXPECT_EQ(p.attrs.get_ints("strides"), (V{1, 2}));
  EXPECT_EQ(p.attrs.get_ints("pads"), (V{0, 1, 0, 0}));
  EXPECT_EQ(p.attrs.get_int("count_include_pad", 0), 1);
  EXPECT_EQ(g.tensor(p.inputs[0]).shape, (Shape{1, 2, 1, 9}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 2, 4}));  // (9 + 1 - 3) / 2 + 1
  EXPECT_EQ(g.node(tensor(g, "y").producer).kind, OpKind::Reshape);
}

TEST(ImportPool, OneDimensionalGlobalPool) {
  OnnxBuilder b;
  b.input("x", kFloat, {2, 3, 7}).output("y");
  b.node("GlobalMaxPool", {"x"}, {"y"}, "gmp1d");
  Graph g = import_ok(b);
  EXPECT_EQ(g.tensor(only(g, OpKind::GlobalMaxPool).inputs[0]).shape, (Shape{2, 3, 1, 7}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{2, 3, 1}));
}

TEST(ImportPool, OneDimensionalWithWrongAttributeSizeIsInvalid) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 9}).output("y");
  OnnxBuilder::attr(b.node("MaxPool", {"x"}, {"y"}, "pool1d"), "kernel_shape", V{2, 2});
  auto g = b.import();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Error::InvalidModel);
  EXPECT_NE(g.status().message().find("node 'pool1d' (op MaxPool, opset 13): attribute kernel_shape [2,2] of a 1-D MaxPool"),
            std::string::npos)
      << g.status().message();
}

TEST(ImportConvTranspose, OutputShapeBecomesPads) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 1, 3, 3}).output("y");
  b.init("w", TensorData(DType::F32, {1, 2, 3, 3}));
  auto* n = b.node("ConvTranspose", {"x", "w"}, {"y"});
  OnnxBuilder::attr(n, "strides", V{3, 2});
  OnnxBuilder::attr(n, "output_shape", V{10, 6});
  Graph g = import_ok(b);
  const Node& c = only(g, OpKind::ConvTranspose);
  // H: natural 3*2 + 3 = 9 < 10 -> output_padding 1; W: natural 2*2 + 3 = 7, total pad 1 -> begin 1 (not SAME_UPPER)
  EXPECT_EQ(c.attrs.get_ints("pads"), (V{0, 1, 0, 0}));
  EXPECT_EQ(c.attrs.get_ints("output_padding"), (V{1, 0}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 2, 10, 6}));
}

TEST(ImportReshape, ZeroAndMinusOneAreResolved) {
  OnnxBuilder b;
  b.input("x", kFloat, {2, 3, 4}).output("y");
  b.init<int64_t>("s", {3}, {0, -1, 2});
  b.node("Reshape", {"x", "s"}, {"y"});
  Graph g = import_ok(b);
  EXPECT_EQ(only(g, OpKind::Reshape).attrs.get_ints("shape"), (V{2, 6, 2}));

  OnnxBuilder z(14);  // allowzero: 0 is a real zero-size dimension
  z.input("x", kFloat, {0, 3}).output("y");
  z.init<int64_t>("s", {2}, {3, 0});
  OnnxBuilder::attr(z.node("Reshape", {"x", "s"}, {"y"}), "allowzero", int64_t(1));
  g = import_ok(z);
  EXPECT_EQ(tensor(g, "y").shape, (Shape{3, 0}));
}

TEST(ImportReshape, FlattenSqueezeUnsqueezeBecomeReshape) {
  OnnxBuilder b(11);
  b.input("x", kFloat, {2, 1, 3, 1}).output("f").output("s").output("u");
  OnnxBuilder::attr(b.node("Flatten", {"x"}, {"f"}), "axis", int64_t(-1));
  OnnxBuilder::attr(b.node("Squeeze", {"x"}, {"s"}), "axes", V{-1});
  OnnxBuilder::attr(b.node("Unsqueeze", {"x"}, {"u"}), "axes", V{0, -1});
  Graph g = import_ok(b);
  EXPECT_EQ(tensor(g, "f").shape, (Shape{6, 1}));
  EXPECT_EQ(tensor(g, "s").shape, (Shape{2, 1, 3}));
  EXPECT_EQ(tensor(g, "u").shape, (Shape{1, 2, 1, 3, 1, 1}));
  for (const Node* n : testing::nodes_of(g)) EXPECT_EQ(n->kind, OpKind::Reshape);

  OnnxBuilder b13(13);  // axes move to an input in opset 13; no axes = all size-1 dims
  b13.input("x", kFloat, {2, 1, 3, 1}).output("s").output("u");
  b13.init<int64_t>("ax", {1}, {1});
  b13.node("Squeeze", {"x"}, {"s"});
  b13.node("Unsqueeze", {"x", "ax"}, {"u"});
  g = import_ok(b13);
  EXPECT_EQ(tensor(g, "s").shape, (Shape{2, 3}));
  EXPECT_EQ(tensor(g, "u").shape, (Shape{2, 1, 1, 3, 1}));
}

TEST(ImportClip, BoundsFromConstantNodesOrAttributes) {
  OnnxBuilder b(13);  // PyTorch: Clip(x, Constant, Constant)
  b.input("x", kFloat, {1, 4}).output("y");
  b.constant("lo", TensorData::from<float>({}, {0.0f}));
  b.constant("hi", TensorData::from<float>({}, {6.0f}));
  b.node("Clip", {"x", "lo", "hi"}, {"y"}, "relu6");
  Graph g = import_ok(b);
  const Node& c = only(g, OpKind::Clip);
  EXPECT_EQ(c.attrs.get_float("min", -1), 0.0);
  EXPECT_EQ(c.attrs.get_float("max", -1), 6.0);
  EXPECT_EQ(g.live_nodes().size(), 1u);  // the Constant nodes are gone

  OnnxBuilder old(6);
  old.input("x", kFloat, {1, 4}).output("y");
  OnnxBuilder::attr(old.node("Clip", {"x"}, {"y"}), "max", 1.5f);
  g = import_ok(old);
  EXPECT_FALSE(only(g, OpKind::Clip).attrs.has("min"));
  EXPECT_EQ(only(g, OpKind::Clip).attrs.get_float("max", 0), 1.5);

  OnnxBuilder only_max(13);  // an omitted optional input ("")
  only_max.input("x", kFloat, {1, 4}).output("y");
  only_max.init("hi", TensorData::from<float>({}, {2.0f}));
  only_max.node("Clip", {"x", "", "hi"}, {"y"});
  g = import_ok(only_max);
  EXPECT_FALSE(only(g, OpKind::Clip).attrs.has("min"));
}

// The int8 pattern PyTorch exports: Q(u8) -> Cast(to=UINT8) -> DQ, per-channel int8 weights,
// int32 bias whose zero point comes from ConstantOfShape -> Cast.
OnnxBuilder qdq_conv_model() {
  OnnxBuilder b(13);
  b.input("x", kFloat, {1, 2, 4, 4}).output("y");
  b.init("x_scale", TensorData::from<float>({}, {0.05f}));
  b.init("x_zp", TensorData::from<uint8_t>({}, {128}));
  b.node("QuantizeLinear", {"x", "x_scale", "x_zp"}, {"xq"}, "quant");
  OnnxBuilder::attr(b.node("Cast", {"xq"}, {"xq_cast"}, "cast"), "to", int64_t(onnx::TensorProto::UINT8));
  b.node("Identity", {"x_scale"}, {"x_scale2"}, "id1");
  b.node("DequantizeLinear", {"xq_cast", "x_scale2", "x_zp"}, {"xd"}, "dq_x");
  b.constant("w", TensorData::from<int8_t>({3, 2, 1, 1}, {1, -2, 3, -4, 5, -6}));
  b.constant("w_scale", TensorData::from<float>({3}, {0.1f, 0.2f, 0.3f}));
  b.constant("w_zp", TensorData::from<int8_t>({3}, {0, 0, 0}));
  OnnxBuilder::attr(b.node("DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wd"}, "dq_w"), "axis", int64_t(0));
  b.init<int32_t>("bias", {3}, {10, -20, 30});
  b.init("bias_scale", TensorData::from<float>({3}, {0.005f, 0.01f, 0.015f}));
  b.init<int64_t>("bias_len", {1}, {3});
  auto* cos = b.node("ConstantOfShape", {"bias_len"}, {"bz0"}, "zeros");
  auto* v = cos->add_attribute();
  v->set_name("value");
  v->set_type(onnx::AttributeProto::TENSOR);
  *v->mutable_t() = OnnxBuilder::tensor("", TensorData::from<int32_t>({1}, {0}));
  OnnxBuilder::attr(b.node("Cast", {"bz0"}, {"bz"}, "cast_zp"), "to", int64_t(onnx::TensorProto::INT32));
  OnnxBuilder::attr(b.node("DequantizeLinear", {"bias", "bias_scale", "bz"}, {"bd"}, "dq_b"), "axis", int64_t(0));
  b.node("Conv", {"xd", "wd", "bd"}, {"c"}, "conv");
  b.init("y_scale", TensorData::from<float>({}, {0.1f}));
  b.init("y_zp", TensorData::from<uint8_t>({}, {3}));
  b.node("QuantizeLinear", {"c", "y_scale", "y_zp"}, {"yq"}, "quant_y");
  b.node("DequantizeLinear", {"yq", "y_scale", "y_zp"}, {"y"}, "dq_y");
  return b;
}

TEST(ImportQdq, ScalesAndZeroPointsMoveIntoTensorQuant) {
  Graph g = import_ok(qdq_conv_model());
  EXPECT_EQ(testing::kinds_of(g),
            (std::vector<OpKind>{OpKind::QuantizeLinear, OpKind::DequantizeLinear, OpKind::DequantizeLinear,
                                 OpKind::DequantizeLinear, OpKind::Conv, OpKind::QuantizeLinear, OpKind::DequantizeLinear}));
  const Tensor& xq = tensor(g, "xq");
  EXPECT_EQ(xq.dtype, DType::U8);
  EXPECT_EQ(xq.quant, QuantParams::per_tensor(0.05f, 128));
  // The no-op Cast is gone: DequantizeLinear reads the QuantizeLinear output directly.
  for (const Node* n : testing::nodes_of(g)) {
    EXPECT_LE(n->inputs.size(), 3u);
    if (n->name == "dq_x") {
      ASSERT_EQ(n->inputs.size(), 1u);  // scale and zero point are no longer operands
      EXPECT_EQ(g.tensor(n->inputs[0]).name, "xq");
    }
    if (n->name == "dq_w") {
      const Tensor& w = g.tensor(n->inputs[0]);
      EXPECT_TRUE(w.is_constant());
      EXPECT_EQ(w.dtype, DType::I8);
      EXPECT_EQ(w.quant, (QuantParams{{0.1f, 0.2f, 0.3f}, {0, 0, 0}, 0}));
    }
    if (n->name == "dq_b") {
      const Tensor& bias = g.tensor(n->inputs[0]);
      EXPECT_EQ(bias.dtype, DType::I32);
      EXPECT_EQ(bias.quant, (QuantParams{{0.005f, 0.01f, 0.015f}, {0, 0, 0}, 0}));
    }
  }
  EXPECT_EQ(tensor(g, "yq").quant, QuantParams::per_tensor(0.1f, 3));
  EXPECT_EQ(tensor(g, "y").dtype, DType::F32);
  EXPECT_EQ(g.tensor(g.outputs[0]).name, "y");
}

TEST(ImportQdq, ConflictingParametersOnARuntimeTensorFail) {
  OnnxBuilder b(13);
  b.input("x", kUint8, {4}).output("a").output("b");
  b.init("s1", TensorData::from<float>({}, {0.5f}));
  b.init("s2", TensorData::from<float>({}, {0.25f}));
  b.node("DequantizeLinear", {"x", "s1"}, {"a"});
  b.node("DequantizeLinear", {"x", "s2"}, {"b"}, "second");
  auto g = b.import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("node 'second' (op DequantizeLinear, opset 13): input 0 (x) 'x' is dequantized as"),
            std::string::npos)
      << g.status().message();
}

TEST(ImportQdq, SharedConstantWithTwoParameterSetsIsDuplicated) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {4}).output("a").output("b");
  b.init<int8_t>("w", {4}, {1, 2, 3, 4});
  b.init("s1", TensorData::from<float>({}, {0.5f}));
  b.init("s2", TensorData::from<float>({}, {0.25f}));
  b.node("DequantizeLinear", {"w", "s1"}, {"wa"});
  b.node("DequantizeLinear", {"w", "s2"}, {"wb"});
  b.node("Add", {"x", "wa"}, {"a"});
  b.node("Add", {"x", "wb"}, {"b"});
  Graph g = import_ok(b);
  std::vector<QuantParams> seen;
  for (const Node* n : testing::nodes_of(g))
    if (n->kind == OpKind::DequantizeLinear) seen.push_back(g.tensor(n->inputs[0]).quant);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].scale[0], 0.5f);
  EXPECT_EQ(seen[1].scale[0], 0.25f);
  EXPECT_EQ(seen[0].zero_point[0], 0);
}

TEST(ImportQdq, QLinearConvExpandsToDequantizeConvQuantize) {
  OnnxBuilder b(10);
  b.input("x", kUint8, {1, 1, 3, 3}).output("y");
  b.init("xs", TensorData::from<float>({}, {0.5f}));
  b.init("xz", TensorData::from<uint8_t>({}, {10}));
  b.init("w", TensorData::from<int8_t>({2, 1, 1, 1}, {3, -3}));
  b.init("ws", TensorData::from<float>({2}, {0.25f, 0.125f}));
  b.init("wz", TensorData::from<int8_t>({2}, {0, 0}));
  b.init("ys", TensorData::from<float>({}, {0.1f}));
  b.init("yz", TensorData::from<int8_t>({}, {-1}));
  b.init<int32_t>("bias", {2}, {5, 6});
  b.node("QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"}, {"y"}, "qconv");
  Graph g = import_ok(b);
  EXPECT_EQ(tensor(g, "x").quant, QuantParams::per_tensor(0.5f, 10));
  EXPECT_EQ(tensor(g, "y").dtype, DType::I8);
  EXPECT_EQ(tensor(g, "y").quant, QuantParams::per_tensor(0.1f, -1));
  for (const Node* n : testing::nodes_of(g))
    if (n->kind == OpKind::Conv) {
      const Tensor& bias = g.tensor(g.node(g.tensor(n->inputs[2]).producer).inputs[0]);
      EXPECT_EQ(bias.quant, (QuantParams{{0.125f, 0.0625f}, {0, 0}, 0}));  // x_scale * w_scale
    }
  EXPECT_EQ(only(g, OpKind::Conv).name, "qconv");
  EXPECT_EQ(only(g, OpKind::QuantizeLinear).outputs.size(), 1u);
}

TEST(ImportSoftmax, OldOpsetFlattensFromAxis) {
  OnnxBuilder b(11);
  b.input("x", kFloat, {2, 3, 4}).output("y");
  OnnxBuilder::attr(b.node("Softmax", {"x"}, {"y"}, "sm"), "axis", int64_t(1));
  Graph g = import_ok(b);
  EXPECT_EQ(testing::kinds_of(g), (std::vector<OpKind>{OpKind::Reshape, OpKind::Softmax, OpKind::Reshape}));
  EXPECT_EQ(only(g, OpKind::Softmax).attrs.get_int("axis", 0), 1);
  EXPECT_EQ(g.tensor(only(g, OpKind::Softmax).inputs[0]).shape, (Shape{2, 12}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{2, 3, 4}));

  OnnxBuilder last(11);  // axis = rank-1: no reshapes
  last.input("x", kFloat, {2, 3}).output("y");
  last.node("Softmax", {"x"}, {"y"});
  EXPECT_EQ(testing::kinds_of(import_ok(last)), (std::vector<OpKind>{OpKind::Softmax}));

  OnnxBuilder new13(13);  // opset 13: one axis, default -1
  new13.input("x", kFloat, {2, 3, 4}).output("y");
  OnnxBuilder::attr(new13.node("Softmax", {"x"}, {"y"}), "axis", int64_t(-2));
  g = import_ok(new13);
  EXPECT_EQ(only(g, OpKind::Softmax).attrs.get_int("axis", 0), 1);
}

TEST(ImportSlice, StartsEndsAreClampedPerAxis) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {4, 10}).output("y");
  b.init<int64_t>("starts", {2}, {-3, std::numeric_limits<int64_t>::max()});
  b.init<int64_t>("ends", {2}, {std::numeric_limits<int64_t>::max(), -std::numeric_limits<int64_t>::max()});
  b.init<int64_t>("axes", {2}, {-1, 0});
  b.init<int64_t>("steps", {2}, {2, -1});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  Graph g = import_ok(b);
  const Node& s = only(g, OpKind::Slice);
  EXPECT_EQ(s.attrs.get_ints("axes"), (V{0, 1}));
  EXPECT_EQ(s.attrs.get_ints("starts"), (V{3, 7}));
  EXPECT_EQ(s.attrs.get_ints("ends"), (V{-1, 10}));
  EXPECT_EQ(s.attrs.get_ints("steps"), (V{-1, 2}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{4, 2}));
}

TEST(ImportSplit, SizesFromAttributeInputOrEqual) {
  OnnxBuilder b11(11);
  b11.input("x", kFloat, {2, 6}).output("a").output("b");
  auto* n = b11.node("Split", {"x"}, {"a", "b"});
  OnnxBuilder::attr(n, "axis", int64_t(1));
  OnnxBuilder::attr(n, "split", V{2, 4});
  Graph g = import_ok(b11);
  EXPECT_EQ(only(g, OpKind::Split).attrs.get_ints("split"), (V{2, 4}));
  EXPECT_EQ(tensor(g, "b").shape, (Shape{2, 4}));

  OnnxBuilder b13(13);
  b13.input("x", kFloat, {2, 6}).output("a").output("b").output("c");
  b13.init<int64_t>("sizes", {3}, {1, 2, 3});
  OnnxBuilder::attr(b13.node("Split", {"x", "sizes"}, {"a", "b", "c"}), "axis", int64_t(-1));
  g = import_ok(b13);
  EXPECT_EQ(only(g, OpKind::Split).attrs.get_ints("split"), (V{1, 2, 3}));

  OnnxBuilder eq(13);
  eq.input("x", kFloat, {6, 2}).output("a").output("b").output("c");
  eq.node("Split", {"x"}, {"a", "b", "c"});
  g = import_ok(eq);
  EXPECT_EQ(only(g, OpKind::Split).attrs.get_ints("split"), (V{2, 2, 2}));
}

TEST(ImportPad, PadsFromInputOrAttribute) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {1, 2, 3}).output("y");
  b.init<int64_t>("pads", {6}, {0, 1, 2, 0, 3, 4});
  b.init("v", TensorData::from<float>({}, {1.5f}));
  OnnxBuilder::attr(b.node("Pad", {"x", "pads", "v"}, {"y"}), "mode", std::string("edge"));
  Graph g = import_ok(b);
  const Node& p = only(g, OpKind::Pad);
  EXPECT_EQ(p.attrs.get_ints("pads"), (V{0, 1, 2, 0, 3, 4}));
  EXPECT_EQ(p.attrs.get_string("mode", ""), "edge");
  EXPECT_EQ(p.attrs.get_float("value", 0), 1.5);
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 6, 9}));

  OnnxBuilder old(2);
  old.input("x", kFloat, {2, 2}).output("y");
  auto* n = old.node("Pad", {"x"}, {"y"});
  OnnxBuilder::attr(n, "pads", V{1, 1, 1, 1});
  OnnxBuilder::attr(n, "value", 2.0f);
  g = import_ok(old);
  EXPECT_EQ(only(g, OpKind::Pad).attrs.get_float("value", 0), 2.0);
}

// PyTorch builds Pad's pads with ConstantOfShape, Concat, Reshape, Slice, Transpose, Reshape, Cast.
TEST(ImportFolding, PyTorchPadSubgraphFoldsToAttribute) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {1, 3, 8, 8}).output("y");
  b.constant("n", TensorData::from<int64_t>({1}, {4}));
  b.constant("lrtb", TensorData::from<int64_t>({4}, {1, 2, 3, 4}));  // (left, right, top, bottom)
  auto* cos = b.node("ConstantOfShape", {"n"}, {"zeros"});
  auto* v = cos->add_attribute();
  v->set_name("value");
  v->set_type(onnx::AttributeProto::TENSOR);
  *v->mutable_t() = OnnxBuilder::tensor("", TensorData::from<int64_t>({1}, {0}));
  OnnxBuilder::attr(b.node("Concat", {"lrtb", "zeros"}, {"cat"}), "axis", int64_t(0));
  b.constant("shape2", TensorData::from<int64_t>({2}, {-1, 2}));
  b.node("Reshape", {"cat", "shape2"}, {"pairs"});
  b.constant("st", TensorData::from<int64_t>({1}, {-1}));
  b.constant("en", TensorData::from<int64_t>({1}, {-std::numeric_limits<int64_t>::max()}));
  b.constant("ax", TensorData::from<int64_t>({1}, {0}));
  b.constant("sp", TensorData::from<int64_t>({1}, {-1}));
  b.node("Slice", {"pairs", "st", "en", "ax", "sp"}, {"rev"});
  OnnxBuilder::attr(b.node("Transpose", {"rev"}, {"tr"}), "perm", V{1, 0});
  b.constant("flat", TensorData::from<int64_t>({1}, {-1}));
  b.node("Reshape", {"tr", "flat"}, {"pads64"});
  OnnxBuilder::attr(b.node("Cast", {"pads64"}, {"pads"}), "to", int64_t(onnx::TensorProto::INT64));
  OnnxBuilder::attr(b.node("Pad", {"x", "pads", ""}, {"y"}, "pad"), "mode", std::string("constant"));
  Graph g = import_ok(b);
  EXPECT_EQ(testing::kinds_of(g), (std::vector<OpKind>{OpKind::Pad}));
  EXPECT_EQ(only(g, OpKind::Pad).attrs.get_ints("pads"), (V{0, 0, 3, 1, 0, 0, 4, 2}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 3, 15, 11}));
}

TEST(ImportFolding, ShapeGatherArithmeticOnConstants) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {2, 3, 4}).output("y");
  b.node("Shape", {"x"}, {"shp"});
  b.constant("idx", TensorData::from<int64_t>({}, {-1}));
  b.node("Gather", {"shp", "idx"}, {"last"});
  b.constant("two", TensorData::from<int64_t>({}, {2}));
  b.node("Mul", {"last", "two"}, {"eight"});
  b.constant("zero", TensorData::from<int64_t>({1}, {0}));
  OnnxBuilder::attr(b.node("Unsqueeze", {"eight", "zero"}, {"eight1"}), "dummy", int64_t(0));
  b.constant("m1", TensorData::from<int64_t>({1}, {-1}));
  OnnxBuilder::attr(b.node("Concat", {"m1", "eight1"}, {"shape"}), "axis", int64_t(0));
  b.node("Reshape", {"x", "shape"}, {"y"});
  Graph g = import_ok(b);
  EXPECT_EQ(testing::kinds_of(g), (std::vector<OpKind>{OpKind::Reshape}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{3, 8}));
}

// F.interpolate(size computed from the input shape): Shape -> Slice -> Cast -> Mul -> Floor ->
// Cast -> Concat -> Resize(sizes).
TEST(ImportFolding, InterpolateSizeArithmetic) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {1, 3, 5, 7}).output("y");
  b.node("Shape", {"x"}, {"shp"});
  b.constant("s0", TensorData::from<int64_t>({1}, {2}));
  b.constant("e0", TensorData::from<int64_t>({1}, {4}));
  b.node("Slice", {"shp", "s0", "e0"}, {"hw"});
  OnnxBuilder::attr(b.node("Cast", {"hw"}, {"hwf"}), "to", int64_t(onnx::TensorProto::FLOAT));
  b.constant("scale", TensorData::from<float>({2}, {1.5f, 1.5f}));
  b.node("Mul", {"hwf", "scale"}, {"scaled"});
  b.node("Floor", {"scaled"}, {"fl"});
  OnnxBuilder::attr(b.node("Cast", {"fl"}, {"hw2"}), "to", int64_t(onnx::TensorProto::INT64));
  b.constant("nc", TensorData::from<int64_t>({2}, {1, 3}));
  OnnxBuilder::attr(b.node("Concat", {"nc", "hw2"}, {"sizes"}), "axis", int64_t(0));
  OnnxBuilder::attr(b.node("Resize", {"x", "", "", "sizes"}, {"y"}), "mode", std::string("nearest"));
  Graph g = import_ok(b);
  EXPECT_EQ(testing::kinds_of(g), (std::vector<OpKind>{OpKind::Resize}));
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 3, 7, 10}));
}

TEST(ImportIdentity, InitializersAndGraphInputsThatAreInitializers) {
  OnnxBuilder b(9);  // IR < 4 style: the weight is also listed as a graph input
  b.input("x", kFloat, {1, 4}).input("w", kFloat, {4, 2}).output("y");
  b.init("w", TensorData(DType::F32, {4, 2}));
  b.node("Identity", {"w"}, {"w2"});
  b.node("MatMul", {"x", "w2"}, {"y"});
  Graph g = import_ok(b);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.tensor(g.inputs[0]).name, "x");
  EXPECT_EQ(testing::kinds_of(g), (std::vector<OpKind>{OpKind::MatMul}));
  EXPECT_TRUE(g.tensor(only(g, OpKind::MatMul).inputs[1]).is_constant());
}

TEST(ImportIdentity, GraphOutputKeepsItsName) {
  OnnxBuilder b;
  b.input("x", kFloat, {3}).output("y").output("z");
  b.node("Identity", {"x"}, {"y"});
  b.node("Relu", {"x"}, {"r"});
  b.node("Dropout", {"r"}, {"z"});
  Graph g = import_ok(b);
  EXPECT_EQ(g.tensor(g.outputs[0]).name, "y");
  EXPECT_EQ(g.tensor(g.outputs[1]).name, "z");
  EXPECT_EQ(testing::kinds_of(g).size(), 3u);  // Identity (input -> output), Relu, Identity (r -> z)
}

TEST(ImportInputs, ValuesAsConstants) {
  OnnxBuilder b;
  b.input("x", kFloat, {2, 2}).input("w", kFloat, {2, 2}).output("y");
  b.node("MatMul", {"x", "w"}, {"y"});
  OnnxImportOptions o;
  o.input_values_as_constants["w"] = TensorData(DType::F32, {2, 2});
  Graph g = import_ok(b, o);
  EXPECT_EQ(g.inputs.size(), 1u);
  o.input_values_as_constants["w"] = TensorData(DType::F32, {3, 2});
  auto bad = b.import(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("graph input 'w' is declared f32[2,2], but the constant value given for it is f32[3,2]"),
            std::string::npos);
}

TEST(ImportVariadic, MaxBecomesChain) {
  OnnxBuilder b;
  b.input("a", kFloat, {3}).input("b", kFloat, {3}).input("c", kFloat, {1}).output("y").output("one");
  b.node("Max", {"a", "b", "c"}, {"y"}, "max3");
  b.node("Min", {"a"}, {"one"});
  Graph g = import_ok(b);
  int max_nodes = 0;
  for (const Node* n : testing::nodes_of(g)) max_nodes += n->kind == OpKind::Max;
  EXPECT_EQ(max_nodes, 2);
  EXPECT_EQ(g.tensor(g.outputs[0]).name, "y");
}

TEST(ImportResize, SizesBecomeScalesAndUpsampleBecomesResize) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {1, 2, 3, 5}).output("y");
  b.init<int64_t>("sizes", {4}, {1, 2, 7, 10});
  auto* n = b.node("Resize", {"x", "", "", "sizes"}, {"y"});
  OnnxBuilder::attr(n, "mode", std::string("linear"));
  OnnxBuilder::attr(n, "coordinate_transformation_mode", std::string("align_corners"));
  Graph g = import_ok(b);
  const Node& r = only(g, OpKind::Resize);
  EXPECT_EQ(r.attrs.get_string("mode", ""), "linear");
  EXPECT_EQ(r.attrs.get_string("coordinate_transformation_mode", ""), "align_corners");
  EXPECT_DOUBLE_EQ(r.attrs.get_floats("scales")[2], 7.0 / 3.0);
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 2, 7, 10}));

  OnnxBuilder up(9);
  up.input("x", kFloat, {1, 2, 3, 5}).output("y");
  up.init("scales", TensorData::from<float>({4}, {1, 1, 2, 2}));
  up.node("Upsample", {"x", "scales"}, {"y"});
  g = import_ok(up);
  EXPECT_EQ(only(g, OpKind::Resize).attrs.get_string("coordinate_transformation_mode", ""), "asymmetric");
  EXPECT_EQ(only(g, OpKind::Resize).attrs.get_string("nearest_mode", ""), "floor");
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 2, 6, 10}));

  OnnxBuilder cubic(13);
  cubic.input("x", kFloat, {1, 2, 3, 5}).output("y");
  cubic.init("scales", TensorData::from<float>({4}, {1, 1, 2, 2}));
  OnnxBuilder::attr(cubic.node("Resize", {"x", "", "scales"}, {"y"}, "rs"), "mode", std::string("cubic"));
  auto bad = cubic.import();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Error::NotSupported);
  EXPECT_NE(bad.status().message().find("node 'rs' (op Resize, opset 13): mode \"cubic\" is not supported"),
            std::string::npos);
}

TEST(ImportReduce, AxesByOpsetAndNoop) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {2, 3, 4}).output("m").output("s").output("n");
  auto* mean = b.node("ReduceMean", {"x"}, {"m"});
  OnnxBuilder::attr(mean, "axes", V{-1, 1});
  OnnxBuilder::attr(mean, "keepdims", int64_t(0));
  b.init<int64_t>("ax", {1}, {0});
  b.node("ReduceSum", {"x", "ax"}, {"s"});
  OnnxBuilder::attr(b.node("ReduceSum", {"x"}, {"n"}), "noop_with_empty_axes", int64_t(1));
  Graph g = import_ok(b);
  EXPECT_EQ(only(g, OpKind::ReduceMean).attrs.get_ints("axes"), (V{1, 2}));
  EXPECT_EQ(tensor(g, "m").shape, (Shape{2}));
  EXPECT_EQ(only(g, OpKind::ReduceSum).attrs.get_ints("axes"), (V{0}));
  EXPECT_EQ(tensor(g, "s").shape, (Shape{1, 3, 4}));
  EXPECT_EQ(tensor(g, "n").shape, (Shape{2, 3, 4}));
}

TEST(ImportMisc, GemmBatchNormPoolsActivations) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {1, 3, 8, 8}).output("y");
  for (const char* p : {"s", "bb", "m", "v"}) b.init(p, TensorData(DType::F32, {3}));
  OnnxBuilder::attr(b.node("BatchNormalization", {"x", "s", "bb", "m", "v"}, {"bn"}), "epsilon", 1e-3f);
  auto* mp = b.node("MaxPool", {"bn"}, {"mp"});
  OnnxBuilder::attr(mp, "kernel_shape", V{3, 3});
  OnnxBuilder::attr(mp, "strides", V{2, 2});
  OnnxBuilder::attr(mp, "auto_pad", std::string("SAME_UPPER"));
  OnnxBuilder::attr(b.node("LeakyRelu", {"mp"}, {"lr"}), "alpha", 0.2f);
  b.node("HardSigmoid", {"lr"}, {"hs"});
  b.node("GlobalAveragePool", {"hs"}, {"gap"});
  OnnxBuilder::attr(b.node("Flatten", {"gap"}, {"flat"}), "axis", int64_t(1));
  b.init("w", TensorData(DType::F32, {5, 3}));
  b.init("c", TensorData(DType::F32, {5}));
  auto* gemm = b.node("Gemm", {"flat", "w", "c"}, {"y"});
  OnnxBuilder::attr(gemm, "transB", int64_t(1));
  OnnxBuilder::attr(gemm, "alpha", 0.5f);
  Graph g = import_ok(b);
  EXPECT_FLOAT_EQ(float(only(g, OpKind::BatchNormalization).attrs.get_float("epsilon", 0)), 1e-3f);
  EXPECT_EQ(only(g, OpKind::MaxPool).attrs.get_ints("pads"), (V{0, 0, 1, 1}));  // total 1: at the end
  EXPECT_EQ(tensor(g, "mp").shape, (Shape{1, 3, 4, 4}));
  EXPECT_EQ(only(g, OpKind::HardSigmoid).attrs.get_float("alpha", 0), 0.2);  // ONNX default
  EXPECT_EQ(only(g, OpKind::Gemm).attrs.get_int("transB", 0), 1);
  EXPECT_EQ(tensor(g, "y").shape, (Shape{1, 5}));
}

TEST(ImportMisc, MaxPoolIndicesOutputIsRejectedOnlyWhenUsed) {
  OnnxBuilder b(12);
  b.input("x", kFloat, {1, 1, 4, 4}).output("y");
  OnnxBuilder::attr(b.node("MaxPool", {"x"}, {"y", "unused_idx"}), "kernel_shape", V{2, 2});
  import_ok(b);
  OnnxBuilder used(12);
  used.input("x", kFloat, {1, 1, 4, 4}).output("y").output("idx");
  OnnxBuilder::attr(used.node("MaxPool", {"x"}, {"y", "idx"}, "mp"), "kernel_shape", V{2, 2});
  auto g = used.import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("node 'mp' (op MaxPool, opset 12): the Indices output 'idx' is not supported"),
            std::string::npos)
      << g.status().message();
}

TEST(ImportMisc, DropoutMaskAndCast) {
  OnnxBuilder b(13);
  b.input("x", kFloat, {2}).output("y").output("mask").output("i");
  b.node("Dropout", {"x"}, {"y", "mask"});
  OnnxBuilder::attr(b.node("Cast", {"x"}, {"i"}), "to", int64_t(onnx::TensorProto::INT32));
  Graph g = import_ok(b);
  EXPECT_TRUE(g.tensor(g.outputs[1]).is_constant());
  EXPECT_EQ(g.tensor(g.outputs[1]).dtype, DType::Bool);
  EXPECT_EQ(only(g, OpKind::Cast).attrs.get_int("to", 0), int64_t(DType::I32));
  EXPECT_EQ(tensor(g, "i").dtype, DType::I32);
}

TEST(ImportMisc, OutOfOrderNodesAreSorted) {
  OnnxBuilder b;
  b.input("x", kFloat, {2}).output("y");
  b.node("Neg", {"r"}, {"y"}, "second");
  b.node("Relu", {"x"}, {"r"}, "first");
  Graph g = import_ok(b);
  EXPECT_EQ(testing::kinds_of(g), (std::vector<OpKind>{OpKind::Relu, OpKind::Neg}));
}

}  // namespace
}  // namespace neutron
