// One small hand-built graph per op family of ir/op_kinds.def, in the normalized form the importer
// produces: export -> ONNX checker (full) -> import must print identically. Also the ONNX form of
// the operands that move from attributes to inputs, and of Q/DQ parameters.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "export_test_util.h"

namespace neutron {
namespace {

using testing::attrs;
using testing::expect_round_trip;
using testing::IrBuilder;
using Ints = std::vector<int64_t>;
using Floats = std::vector<double>;

constexpr DType F = DType::F32;

std::vector<float> ramp(int64_t n, float scale = 0.1f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = scale * float((i * 7) % 13 - 6);
  return v;
}
TensorData fconst(Shape s) {
  const int64_t n = num_elements(s);
  return TensorData::from<float>(s, ramp(n));
}

const onnx::NodeProto* find_node(const onnx::ModelProto& m, const std::string& op) {
  for (const auto& n : m.graph().node())
    if (n.op_type() == op) return &n;
  return nullptr;
}
const onnx::TensorProto* find_init(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

TEST(OnnxWriterOps, Conv) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 4, 9, 9});
  TensorId w = b.constant("w", fconst({6, 2, 3, 3}));
  TensorId bias = b.constant("b", fconst({6}));
  TensorId y = b.op(OpKind::Conv, "y", {x, w, bias},
                    attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 1}}, {"dilations", Ints{1, 2}},
                           {"pads", Ints{1, 0, 1, 2}}, {"group", int64_t(2)}}));
  TensorId w2 = b.constant("w2", fconst({3, 6, 1, 1}));
  TensorId z = b.op(OpKind::Conv, "z", {y, w2},
                    attrs({{"kernel_shape", Ints{1, 1}}, {"strides", Ints{1, 1}}, {"dilations", Ints{1, 1}},
                           {"pads", Ints{0, 0, 0, 0}}, {"group", int64_t(1)}}));
  b.output(z);
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, ConvTranspose) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 4, 5, 5});
  TensorId w = b.constant("w", fconst({4, 3, 3, 3}));
  TensorId bias = b.constant("b", fconst({6}));
  b.output(b.op(OpKind::ConvTranspose, "y", {x, w, bias},
                attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"dilations", Ints{1, 1}},
                       {"pads", Ints{1, 1, 0, 0}}, {"output_padding", Ints{1, 0}}, {"group", int64_t(2)}})));
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, GemmAndMatMul) {
  IrBuilder b;
  TensorId a = b.input("a", F, {2, 8});
  TensorId w = b.constant("w", fconst({5, 8}));
  TensorId c = b.constant("c", fconst({5}));
  TensorId g1 = b.op(OpKind::Gemm, "g1", {a, w, c},
                     attrs({{"alpha", 0.5}, {"beta", 2.0}, {"transA", int64_t(0)}, {"transB", int64_t(1)}}));
  TensorId w2 = b.constant("w2", fconst({5, 3}));
  TensorId g2 = b.op(OpKind::Gemm, "g2", {g1, w2},
                     attrs({{"alpha", 1.0}, {"beta", 1.0}, {"transA", int64_t(0)}, {"transB", int64_t(0)}}));
  TensorId m = b.input("m", F, {4, 2, 3, 6});
  TensorId k = b.constant("k", fconst({6, 7}));
  b.output(g2);
  b.output(b.op(OpKind::MatMul, "mm", {m, k}));
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, BatchNormalization) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 3, 4, 4});
  std::vector<TensorId> in = {x};
  for (const char* n : {"scale", "bias", "mean"}) in.push_back(b.constant(n, fconst({3})));
  in.push_back(b.constant("var", TensorData::from<float>({3}, {1.0f, 0.5f, 2.0f})));
  b.output(b.op(OpKind::BatchNormalization, "y", in, attrs({{"epsilon", double(1e-3f)}})));
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, UnaryChain) {
  IrBuilder b;
  TensorId t = b.input("x", F, {2, 3});
  for (OpKind k : {OpKind::Relu, OpKind::Sigmoid, OpKind::Tanh, OpKind::Abs, OpKind::Neg, OpKind::Exp, OpKind::Log,
                   OpKind::Sqrt, OpKind::Reciprocal})
    t = b.op(k, std::string("t_") + op_kind_name(k), {t});
  t = b.op(OpKind::LeakyRelu, "leaky", {t}, attrs({{"alpha", 0.125}}));
  t = b.op(OpKind::HardSigmoid, "hsig", {t}, attrs({{"alpha", 0.25}, {"beta", 0.5}}));
  t = b.op(OpKind::PRelu, "prelu", {t, b.constant("slope", fconst({3}))});
  b.output(t);
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  // No op needs more than opset 13 here.
  EXPECT_EQ(testing::parse_model(bytes).opset_import(0).version(), 13);
}

TEST(OnnxWriterOps, HardSwishRaisesOpsetTo14) {
  IrBuilder b;
  b.output(b.op(OpKind::HardSwish, "y", {b.input("x", F, {1, 8})}));
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  auto m = testing::parse_model(bytes);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 14);
  EXPECT_EQ(m.ir_version(), 8);
  EXPECT_EQ(m.producer_name(), "neutron");
}

TEST(OnnxWriterOps, Clip) {
  IrBuilder b;
  TensorId x = b.input("x", F, {2, 5});
  TensorId both = b.op(OpKind::Clip, "both", {x}, attrs({{"min", 0.0}, {"max", 6.0}}));
  TensorId hi = b.op(OpKind::Clip, "hi", {both}, attrs({{"max", 4.5}}));
  TensorId lo = b.op(OpKind::Clip, "lo", {hi}, attrs({{"min", -1.5}}));
  TensorId none = b.op(OpKind::Clip, "none", {lo});
  b.output(none);
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  auto m = testing::parse_model(bytes);
  std::map<std::string, std::vector<std::string>> inputs;
  for (const auto& n : m.graph().node()) inputs[n.output(0)] = {n.input().begin(), n.input().end()};
  // Absent bounds are omitted inputs: "" in the middle, nothing at the end.
  EXPECT_EQ(inputs["both"].size(), 3u);
  ASSERT_EQ(inputs["hi"].size(), 3u);
  EXPECT_EQ(inputs["hi"][1], "");
  EXPECT_EQ(inputs["lo"].size(), 2u);
  EXPECT_EQ(inputs["none"].size(), 1u);
  const onnx::TensorProto* max = find_init(m, inputs["hi"][2]);
  ASSERT_NE(max, nullptr);
  EXPECT_EQ(max->data_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(max->dims_size(), 0);  // a scalar
}

TEST(OnnxWriterOps, Softmax) {
  IrBuilder b;
  TensorId x = b.input("x", F, {2, 3, 4});
  TensorId s1 = b.op(OpKind::Softmax, "s1", {x}, attrs({{"axis", int64_t(1)}}));
  b.output(b.op(OpKind::Softmax, "s2", {s1}, attrs({{"axis", int64_t(2)}})));
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, Pools) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 2, 8, 8});
  TensorId mp = b.op(OpKind::MaxPool, "mp", {x},
                     attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"dilations", Ints{1, 1}},
                            {"pads", Ints{1, 1, 1, 1}}, {"ceil_mode", int64_t(0)}}));
  TensorId mp2 = b.op(OpKind::MaxPool, "mp2", {x},
                      attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{1, 1}}, {"dilations", Ints{2, 2}},
                             {"pads", Ints{0, 0, 0, 0}}, {"ceil_mode", int64_t(0)}}));
  TensorId ap = b.op(OpKind::AveragePool, "ap", {mp},
                     attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{0, 0, 1, 1}},
                            {"count_include_pad", int64_t(1)}, {"ceil_mode", int64_t(0)}}));
  b.output(b.op(OpKind::GlobalAveragePool, "gap", {ap}));
  b.output(b.op(OpKind::GlobalMaxPool, "gmp", {mp2}));
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, BinaryWithBroadcastAndConstants) {
  IrBuilder b;
  TensorId x = b.input("x", F, {2, 3, 4});
  TensorId y = b.input("y", F, {3, 1});
  TensorId t = b.op(OpKind::Add, "add", {x, y});
  t = b.op(OpKind::Sub, "sub", {t, b.constant("c4", fconst({4}))});
  t = b.op(OpKind::Mul, "mul", {b.constant("c1", TensorData::from<float>({}, {1.5f})), t});
  t = b.op(OpKind::Div, "div", {t, b.constant("two", TensorData::from<float>({1}, {2.0f}))});
  t = b.op(OpKind::Max, "max", {t, y});
  t = b.op(OpKind::Min, "min", {t, x});
  t = b.op(OpKind::PowTensor, "pow", {t, y});  // ONNX Pow with a run-time exponent
  b.output(t);
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, ReshapeTransposeConcat) {
  IrBuilder b;
  TensorId x = b.input("x", F, {2, 3, 4});
  TensorId r = b.op(OpKind::Reshape, "r", {x}, attrs({{"shape", Ints{6, 4}}}));
  TensorId t = b.op(OpKind::Transpose, "t", {r}, attrs({{"perm", Ints{1, 0}}}));
  TensorId c = b.op(OpKind::Concat, "c", {t, t, b.constant("k", fconst({4, 2}))}, attrs({{"axis", int64_t(1)}}));
  TensorId s = b.op(OpKind::Reshape, "scalar", {b.op(OpKind::Slice, "one", {c},
                                                        attrs({{"starts", Ints{0, 0}}, {"ends", Ints{1, 1}},
                                                               {"axes", Ints{0, 1}}, {"steps", Ints{1, 1}}}))},
                    attrs({{"shape", Ints{}}}));  // rank 0
  b.output(c);
  b.output(s);
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  auto m = testing::parse_model(bytes);
  const onnx::NodeProto* reshape = find_node(m, "Reshape");
  ASSERT_NE(reshape, nullptr);
  ASSERT_EQ(reshape->input_size(), 2);
  const onnx::TensorProto* shape = find_init(m, reshape->input(1));
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->data_type(), onnx::TensorProto::INT64);
  ASSERT_EQ(shape->dims_size(), 1);
  EXPECT_EQ(shape->dims(0), 2);
}

TEST(OnnxWriterOps, Slice) {
  IrBuilder b;
  TensorId x = b.input("x", F, {4, 6, 5});
  // Forward with stride, and backward through index 0 (IR end -1).
  TensorId s1 = b.op(OpKind::Slice, "s1", {x},
                     attrs({{"starts", Ints{1, 0, 0}}, {"ends", Ints{4, 6, 5}}, {"axes", Ints{0, 1, 2}},
                            {"steps", Ints{2, 1, 1}}}));
  TensorId s2 = b.op(OpKind::Slice, "s2", {s1},
                     attrs({{"starts", Ints{0, 4, 4}}, {"ends", Ints{2, -1, 0}}, {"axes", Ints{0, 1, 2}},
                            {"steps", Ints{1, -2, -1}}}));
  b.output(s2);
  ASSERT_EQ(b.g.tensor(s2).shape, (Shape{2, 3, 4}));
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  auto m = testing::parse_model(bytes);
  const onnx::NodeProto* n = nullptr;
  for (const auto& node : m.graph().node())
    if (node.name() == "s2_node") n = &node;
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->input_size(), 5);
  const onnx::TensorProto* ends = find_init(m, n->input(2));
  ASSERT_NE(ends, nullptr);
  int64_t e1;
  ASSERT_EQ(ends->raw_data().size(), 3 * sizeof(int64_t));
  std::memcpy(&e1, ends->raw_data().data() + sizeof(int64_t), sizeof(e1));
  EXPECT_EQ(e1, std::numeric_limits<int64_t>::min());
}

TEST(OnnxWriterOps, Split) {
  IrBuilder b;
  TensorId x = b.input("x", F, {2, 7});
  auto ys = b.node(OpKind::Split, "split", {x}, attrs({{"axis", int64_t(1)}, {"split", Ints{2, 4, 1}}}),
                   {{"y0"}, {"y1"}, {"y2"}});
  for (TensorId y : ys) b.output(y);
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  const auto m = testing::parse_model(bytes);
  const onnx::NodeProto* n = find_node(m, "Split");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->input_size(), 2);  // split is an input at opset 13
  EXPECT_EQ(n->output_size(), 3);
}

TEST(OnnxWriterOps, Pad) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 2, 4, 4});
  TensorId c = b.op(OpKind::Pad, "c", {x},
                    attrs({{"pads", Ints{0, 0, 1, 2, 0, 0, 2, 1}}, {"mode", std::string("constant")}, {"value", 1.5}}));
  TensorId r = b.op(OpKind::Pad, "r", {c},
                    attrs({{"pads", Ints{0, 0, 1, 1, 0, 0, 1, 1}}, {"mode", std::string("reflect")}, {"value", 0.0}}));
  TensorId e = b.op(OpKind::Pad, "e", {r},
                    attrs({{"pads", Ints{0, 0, 0, 2, 0, 0, 3, 0}}, {"mode", std::string("edge")}, {"value", 0.0}}));
  b.output(e);
  expect_round_trip(b.g);
}

TEST(OnnxWriterOps, Resize) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 2, 3, 3});
  // Float scales are written as scales; 7/3 is not a float32 value, so that one goes as sizes.
  TensorId n = b.op(OpKind::Resize, "n", {x},
                    attrs({{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
                           {"nearest_mode", std::string("floor")}, {"scales", Floats{1, 1, 2, 2}}}));
  TensorId l = b.op(OpKind::Resize, "l", {x},
                    attrs({{"mode", std::string("linear")},
                           {"coordinate_transformation_mode", std::string("half_pixel")},
                           {"nearest_mode", std::string("round_prefer_floor")},
                           {"scales", Floats{1, 1, 7.0 / 3.0, 7.0 / 3.0}}}));
  b.output(n);
  b.output(l);
  ASSERT_EQ(b.g.tensor(l).shape, (Shape{1, 2, 7, 7}));
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  auto m = testing::parse_model(bytes);
  for (const auto& node : m.graph().node()) {
    ASSERT_EQ(node.op_type(), "Resize");
    const onnx::TensorProto* roi = find_init(m, node.input(1));
    ASSERT_NE(roi, nullptr);
    EXPECT_EQ(roi->dims(0), 0);
    if (node.name() == "n_node") {
      EXPECT_EQ(node.input_size(), 3);
    } else {
      ASSERT_EQ(node.input_size(), 4);
      EXPECT_EQ(node.input(2), "");
    }
  }
}

TEST(OnnxWriterOps, Reductions) {
  IrBuilder b;
  TensorId x = b.input("x", F, {2, 3, 4});
  b.output(b.op(OpKind::ReduceSum, "sum", {x}, attrs({{"axes", Ints{0, 2}}, {"keepdims", int64_t(0)}})));
  b.output(b.op(OpKind::ReduceSum, "sum_all", {x}, attrs({{"axes", Ints{}}, {"keepdims", int64_t(1)}})));
  b.output(b.op(OpKind::ReduceMean, "mean", {x}, attrs({{"axes", Ints{1}}, {"keepdims", int64_t(1)}})));
  b.output(b.op(OpKind::ReduceMax, "max", {x}, attrs({{"axes", Ints{2}}, {"keepdims", int64_t(0)}})));
  b.output(b.op(OpKind::ReduceMin, "min_all", {x}, attrs({{"axes", Ints{}}, {"keepdims", int64_t(0)}})));
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  auto m = testing::parse_model(bytes);
  for (const auto& n : m.graph().node()) {
    std::set<std::string> names;
    for (const auto& a : n.attribute()) names.insert(a.name());
    if (n.op_type() == "ReduceSum") {
      EXPECT_FALSE(names.count("axes")) << n.name();  // an input
    }
    if (n.name() == "sum_node") {
      EXPECT_EQ(n.input_size(), 2);
    }
    if (n.name() == "sum_all_node") {
      EXPECT_EQ(n.input_size(), 1);
    }
    if (n.name() == "mean_node") {
      EXPECT_TRUE(names.count("axes"));
    }
  }
}

TEST(OnnxWriterOps, Cast) {
  IrBuilder b;
  TensorId x = b.input("x", F, {3});
  TensorId i = b.op(OpKind::Cast, "i", {x}, attrs({{"to", int64_t(DType::I32)}}));
  b.output(b.op(OpKind::Cast, "f", {i}, attrs({{"to", int64_t(DType::F32)}})));
  std::string bytes;
  expect_round_trip(b.g, &bytes);
  const auto m = testing::parse_model(bytes);
  const onnx::NodeProto* n = find_node(m, "Cast");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->attribute(0).i(), onnx::TensorProto::INT32);  // the ONNX code, not the IR's
}

// Identity and Dropout are written as themselves; the importer turns them into aliases.
TEST(OnnxWriterOps, IdentityAndDropout) {
  IrBuilder b;
  TensorId x = b.input("x", F, {2, 3});
  TensorId r = b.op(OpKind::Relu, "r", {x});
  TensorId i = b.op(OpKind::Identity, "i", {r});
  TensorId d = b.op(OpKind::Dropout, "d", {i});
  b.output(b.op(OpKind::Sigmoid, "y", {d}));
  std::string bytes;
  auto g2 = testing::export_check_import(b.g, &bytes);
  ASSERT_TRUE(g2.ok()) << g2.status().to_string();
  auto m = testing::parse_model(bytes);
  ASSERT_NE(find_node(m, "Identity"), nullptr);
  ASSERT_NE(find_node(m, "Dropout"), nullptr);
  EXPECT_EQ(find_node(m, "Dropout")->name(), "d_node");
  IrBuilder e;
  TensorId ex = e.input("x", F, {2, 3});
  e.output(e.op(OpKind::Sigmoid, "y", {e.op(OpKind::Relu, "r", {ex})}));
  EXPECT_EQ(print_graph(g2.value()), print_graph(e.g));
}

// The QDQ form PyTorch exports: u8 activations, i8 per-channel weights, i32 bias.
TEST(OnnxWriterOps, QuantizeDequantize) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 2, 4, 4});
  const QuantParams xq = QuantParams::per_tensor(0.02f, 128);
  TensorId q0 = b.op(OpKind::QuantizeLinear, "q0", {x}, {}, DType::U8, xq);
  TensorId d0 = b.op(OpKind::DequantizeLinear, "d0", {q0});
  const QuantParams wq{{0.01f, 0.02f, 0.04f}, {0, 0, 0}, 0};
  TensorId w = b.constant("w", TensorData::from<int8_t>({3, 2, 1, 1}, {1, -2, 3, -4, 5, -6}), wq);
  TensorId wd = b.op(OpKind::DequantizeLinear, "wd", {w});
  QuantParams bq{{0.0002f, 0.0004f, 0.0008f}, {0, 0, 0}, 0};
  TensorId bias = b.constant("bias", TensorData::from<int32_t>({3}, {100, -100, 7}), bq);
  TensorId bd = b.op(OpKind::DequantizeLinear, "bd", {bias});
  TensorId c = b.op(OpKind::Conv, "c", {d0, wd, bd},
                    attrs({{"kernel_shape", Ints{1, 1}}, {"strides", Ints{1, 1}}, {"dilations", Ints{1, 1}},
                           {"pads", Ints{0, 0, 0, 0}}, {"group", int64_t(1)}}));
  TensorId q1 = b.op(OpKind::QuantizeLinear, "q1", {c}, {}, DType::I8, QuantParams::per_tensor(0.05f, -3));
  TensorId d1 = b.op(OpKind::DequantizeLinear, "d1", {q1});
  TensorId d1b = b.op(OpKind::DequantizeLinear, "d1b", {q1});  // shares q1's initializers
  // Per-axis activation quantization (axis 1).
  const QuantParams aq{{0.1f, 0.2f, 0.3f}, {1, 2, 3}, 1};
  TensorId q2 = b.op(OpKind::QuantizeLinear, "q2", {d1b}, {}, DType::U8, aq);
  b.output(d1);
  b.output(b.op(OpKind::DequantizeLinear, "d2", {q2}));
  std::string bytes;
  expect_round_trip(b.g, &bytes);

  auto m = testing::parse_model(bytes);
  std::map<std::string, const onnx::NodeProto*> by_out;
  for (const auto& n : m.graph().node()) by_out[n.output(0)] = &n;
  auto zp_type = [&](const std::string& out) {
    const onnx::TensorProto* t = find_init(m, by_out.at(out)->input(2));
    return t ? t->data_type() : -1;
  };
  auto scale_dims = [&](const std::string& out) {
    const onnx::TensorProto* t = find_init(m, by_out.at(out)->input(1));
    return t ? Shape(t->dims().begin(), t->dims().end()) : Shape{-1};
  };
  EXPECT_EQ(zp_type("q0"), onnx::TensorProto::UINT8);
  EXPECT_EQ(zp_type("q1"), onnx::TensorProto::INT8);
  EXPECT_EQ(zp_type("wd"), onnx::TensorProto::INT8);
  EXPECT_EQ(zp_type("bd"), onnx::TensorProto::INT32);
  EXPECT_EQ(scale_dims("q0"), Shape{});
  EXPECT_EQ(scale_dims("wd"), Shape{3});
  EXPECT_EQ(by_out.at("wd")->attribute_size(), 1);
  EXPECT_EQ(by_out.at("wd")->attribute(0).i(), 0);
  EXPECT_EQ(by_out.at("q2")->attribute(0).i(), 1);
  EXPECT_EQ(by_out.at("q0")->attribute_size(), 0);
  // Q and DQ of one tensor share the parameter initializers.
  EXPECT_EQ(by_out.at("q1")->input(1), by_out.at("d1")->input(1));
  EXPECT_EQ(by_out.at("d1")->input(2), by_out.at("d1b")->input(2));
}

// Data movement on quantized tensors with one set of parameters is plain ONNX.
TEST(OnnxWriterOps, QuantizedDataMovement) {
  IrBuilder b;
  TensorId x = b.input("x", F, {1, 2, 3, 4});
  const QuantParams q = QuantParams::per_tensor(0.5f, 10);
  TensorId qx = b.op(OpKind::QuantizeLinear, "qx", {x}, {}, DType::U8, q);
  TensorId t = b.op(OpKind::Transpose, "t", {qx}, attrs({{"perm", Ints{0, 2, 3, 1}}}));
  b.g.tensor(t).quant = q;
  TensorId r = b.op(OpKind::Reshape, "r", {t}, attrs({{"shape", Ints{1, 24}}}));
  b.g.tensor(r).quant = q;
  b.output(b.op(OpKind::DequantizeLinear, "y", {r}));
  auto g2 = testing::export_check_import(b.g);
  ASSERT_TRUE(g2.ok()) << g2.status().to_string();
}

}  // namespace
}  // namespace neutron
