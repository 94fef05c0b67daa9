// Shape rules (ir/shape_inference.cc): one or more cases per op, including the error text.
#include "ir/shape_inference.h"

#include <gtest/gtest.h>

namespace neutron {
namespace {

struct In {
  DType dtype;
  Shape shape;
  QuantParams quant = {};
};

// A graph with one node of `kind` reading runtime tensors of the given types.
Graph one_node(OpKind kind, const std::vector<In>& inputs, const Attributes& attrs, size_t num_outputs = 1,
               DType preset_out = DType::Invalid, QuantParams out_quant = {}) {
  Graph g;
  Node n;
  n.kind = kind;
  n.name = "n";
  n.attrs = attrs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype == DType::Invalid) {
      n.inputs.push_back(kNoTensor);
      continue;
    }
    Tensor t;
    t.name = "x" + std::to_string(i);
    t.dtype = inputs[i].dtype;
    t.shape = inputs[i].shape;
    t.quant = inputs[i].quant;
    TensorId id = g.add_tensor(t);
    g.inputs.push_back(id);
    n.inputs.push_back(id);
  }
  for (size_t i = 0; i < num_outputs; ++i) {
    Tensor t;
    t.name = "y" + std::to_string(i);
    t.dtype = preset_out;
    t.quant = out_quant;
    TensorId id = g.add_tensor(t);
    n.outputs.push_back(id);
    g.outputs.push_back(id);
  }
  g.add_node(n);
  return g;
}

StatusOr<std::vector<TensorType>> infer(OpKind kind, const std::vector<In>& inputs, const Attributes& attrs,
                                        size_t num_outputs = 1, DType preset_out = DType::Invalid,
                                        QuantParams out_quant = {}) {
  Graph g = one_node(kind, inputs, attrs, num_outputs, preset_out, out_quant);
  std::vector<TensorType> out;
  RETURN_IF_ERROR(infer_node_types(g, 0, &out));
  return out;
}

Shape shape_of(OpKind kind, const std::vector<In>& inputs, const Attributes& attrs, size_t num_outputs = 1) {
  auto r = infer(kind, inputs, attrs, num_outputs);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r.value()[0].shape : Shape{-1};
}

// Expects an InvalidModel error naming node 'n' and containing `text`.
void expect_error(OpKind kind, const std::vector<In>& inputs, const Attributes& attrs, const std::string& text,
                  size_t num_outputs = 1) {
  auto r = infer(kind, inputs, attrs, num_outputs);
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << text;
  EXPECT_EQ(r.status().code(), Error::InvalidModel);
  EXPECT_NE(r.status().message().find(std::string("node 'n' (") + op_kind_name(kind) + ")"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
}

Attributes attrs(std::initializer_list<std::pair<const char*, AttrValue>> kv) {
  Attributes a;
  for (auto& [k, v] : kv) a.set(k, v);
  return a;
}
using V = std::vector<int64_t>;
using F = std::vector<double>;
const DType f32 = DType::F32;

TEST(ShapeRules, ConvStridesPadsDilations) {
  // out = floor((in + pads - ((k-1)*d+1)) / s) + 1
  auto a = attrs({{"kernel_shape", V{3, 3}}, {"strides", V{2, 1}}, {"pads", V{1, 0, 1, 2}}, {"dilations", V{1, 2}}});
  EXPECT_EQ(shape_of(OpKind::Conv, {{f32, {1, 4, 9, 10}}, {f32, {8, 4, 3, 3}}, {f32, {8}}}, a), (Shape{1, 8, 5, 8}));
}

TEST(ShapeRules, ConvDefaultsKernelFromWeightsAndDepthwise) {
  auto a = attrs({{"group", int64_t(6)}});
  EXPECT_EQ(shape_of(OpKind::Conv, {{f32, {2, 6, 5, 5}}, {f32, {12, 1, 3, 3}}}, a), (Shape{2, 12, 3, 3}));
}

TEST(ShapeRules, ConvChannelsLast) {
  auto a = attrs({{"kernel_shape", V{3, 3}}, {"pads", V{1, 1, 1, 1}}, {"channels_last", int64_t(1)}});
  EXPECT_EQ(shape_of(OpKind::Conv, {{f32, {1, 7, 9, 4}}, {f32, {16, 4, 3, 3}}}, a), (Shape{1, 7, 9, 16}));
}

TEST(ShapeRules, ConvErrorsNameOperands) {
  expect_error(OpKind::Conv, {{f32, {1, 4, 9, 9}}, {f32, {8, 3, 3, 3}}}, {}, "input 0 (X) has 4 channels");
  expect_error(OpKind::Conv, {{f32, {1, 4, 9, 9}}, {f32, {8, 4, 3, 3}}, {f32, {7}}}, {}, "input 2 (B) 'x2' must have shape [8]");
  expect_error(OpKind::Conv, {{f32, {1, 4, 9}}, {f32, {8, 4, 3}}}, {}, "must be a 4-D NCHW tensor");
  expect_error(OpKind::Conv, {{f32, {1, 4, 2, 2}}, {f32, {8, 4, 3, 3}}}, {}, "larger than the padded input");
  expect_error(OpKind::Conv, {{f32, {1, 4, 9, 9}}}, {}, "expects 2 to 3 inputs, has 1");
  expect_error(OpKind::Conv, {{DType::I8, {1, 4, 9, 9}}, {DType::I8, {8, 4, 3, 3}}}, {},
               "must be f32 or a quantized integer tensor, is i8 without quantization parameters");
}

TEST(ShapeRules, QuantizedConvKeepsIntegerDtype) {
  QuantParams q = QuantParams::per_tensor(0.5f, 3);
  auto r = infer(OpKind::Conv, {{DType::I8, {1, 2, 4, 4}, q}, {DType::I8, {3, 2, 1, 1}, q}, {DType::I32, {3}, q}}, {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].dtype, DType::I8);
}

TEST(ShapeRules, ConvTransposeOutputPaddingAndGroups) {
  // out = s*(in-1) + output_padding + (k-1)*d + 1 - pads
  auto a = attrs({{"strides", V{3, 2}}, {"output_padding", V{1, 1}}, {"pads", V{0, 1, 0, 0}}, {"group", int64_t(2)}});
  EXPECT_EQ(shape_of(OpKind::ConvTranspose, {{f32, {1, 4, 3, 3}}, {f32, {4, 3, 3, 3}}}, a), (Shape{1, 6, 10, 7}));
  expect_error(OpKind::ConvTranspose, {{f32, {1, 4, 3, 3}}, {f32, {4, 3, 3, 3}}}, attrs({{"output_padding", V{1, 0}}}),
               "output_padding [1,0] must be non-negative and smaller than the stride or the dilation");
}

TEST(ShapeRules, PoolCeilModeDropsWindowStartingInPadding) {
  auto base = attrs({{"kernel_shape", V{2, 2}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}, {"ceil_mode", int64_t(1)}});
  // ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the 4th would start at 6 >= 5 + 1 (in the end
  // padding), so it is dropped as PyTorch and ONNX Runtime do.
  EXPECT_EQ(shape_of(OpKind::MaxPool, {{f32, {1, 3, 5, 5}}}, base), (Shape{1, 3, 3, 3}));
  auto ceil = attrs({{"kernel_shape", V{3, 3}}, {"strides", V{2, 2}}, {"ceil_mode", int64_t(1)}});
  EXPECT_EQ(shape_of(OpKind::AveragePool, {{f32, {1, 3, 4, 4}}}, ceil), (Shape{1, 3, 2, 2}));
  auto floor = attrs({{"kernel_shape", V{3, 3}}, {"strides", V{2, 2}}});
  EXPECT_EQ(shape_of(OpKind::AveragePool, {{f32, {1, 3, 4, 4}}}, floor), (Shape{1, 3, 1, 1}));
}

TEST(ShapeRules, PoolNeedsKernelAndSmallPads) {
  expect_error(OpKind::MaxPool, {{f32, {1, 3, 6, 6}}}, {}, "attribute kernel_shape is required");
  expect_error(OpKind::MaxPool, {{f32, {1, 3, 6, 6}}}, attrs({{"kernel_shape", V{2, 2}}, {"pads", V{2, 0, 0, 0}}}),
               "must be smaller than the kernel");
}

TEST(ShapeRules, MaxPoolTakesPlainIntegers) {
  auto r = infer(OpKind::MaxPool, {{DType::U8, {1, 1, 4, 4}}}, attrs({{"kernel_shape", V{2, 2}}}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].dtype, DType::U8);
}

TEST(ShapeRules, GlobalPoolBothLayouts) {
  EXPECT_EQ(shape_of(OpKind::GlobalAveragePool, {{f32, {2, 5, 7, 3}}}, {}), (Shape{2, 5, 1, 1}));
  EXPECT_EQ(shape_of(OpKind::GlobalMaxPool, {{f32, {2, 5, 7, 3}}}, attrs({{"channels_last", int64_t(1)}})),
            (Shape{2, 1, 1, 3}));
}

TEST(ShapeRules, BatchNormChecksParameterShapes) {
  EXPECT_EQ(shape_of(OpKind::BatchNormalization, {{f32, {1, 3, 4, 4}}, {f32, {3}}, {f32, {3}}, {f32, {3}}, {f32, {3}}}, {}),
            (Shape{1, 3, 4, 4}));
  expect_error(OpKind::BatchNormalization, {{f32, {1, 3, 4, 4}}, {f32, {3}}, {f32, {3}}, {f32, {4}}, {f32, {3}}}, {},
               "input 3 (mean) 'x3' must have shape [3]");
  EXPECT_EQ(shape_of(OpKind::BatchNormalization, {{f32, {1, 4, 4, 3}}, {f32, {3}}, {f32, {3}}, {f32, {3}}, {f32, {3}}},
                     attrs({{"channels_last", int64_t(1)}})),
            (Shape{1, 4, 4, 3}));
}

TEST(ShapeRules, GemmTransposesAndBias) {
  auto a = attrs({{"transA", int64_t(1)}, {"transB", int64_t(1)}});
  EXPECT_EQ(shape_of(OpKind::Gemm, {{f32, {4, 3}}, {f32, {5, 4}}, {f32, {5}}}, a), (Shape{3, 5}));
  expect_error(OpKind::Gemm, {{f32, {3, 4}}, {f32, {5, 4}}}, {}, "inner dimensions differ");
  expect_error(OpKind::Gemm, {{f32, {3, 4}}, {f32, {4, 5}}, {f32, {3, 4}}}, {}, "does not broadcast to [3,5]");
}

TEST(ShapeRules, MatMulBroadcastsAndVectors) {
  EXPECT_EQ(shape_of(OpKind::MatMul, {{f32, {2, 1, 3, 4}}, {f32, {5, 4, 6}}}, {}), (Shape{2, 5, 3, 6}));
  EXPECT_EQ(shape_of(OpKind::MatMul, {{f32, {4}}, {f32, {4, 6}}}, {}), (Shape{6}));
  EXPECT_EQ(shape_of(OpKind::MatMul, {{f32, {3, 4}}, {f32, {4}}}, {}), (Shape{3}));
  expect_error(OpKind::MatMul, {{f32, {2, 3, 4}}, {f32, {3, 4, 6}}}, {}, "do not broadcast");
}

TEST(ShapeRules, BinaryBroadcasting) {
  EXPECT_EQ(shape_of(OpKind::Add, {{f32, {2, 1, 4}}, {f32, {3, 1}}}, {}), (Shape{2, 3, 4}));
  EXPECT_EQ(shape_of(OpKind::Mul, {{f32, {}}, {f32, {3}}}, {}), (Shape{3}));
  expect_error(OpKind::Sub, {{f32, {2, 3}}, {f32, {4}}}, {}, "shapes of A [2,3] and B [4] do not broadcast");
  expect_error(OpKind::Div, {{f32, {2}}, {DType::I32, {2}}}, {}, "operands have different dtypes");
}

TEST(ShapeRules, PReluSlopeMustBroadcastToX) {
  EXPECT_EQ(shape_of(OpKind::PRelu, {{f32, {1, 3, 4, 4}}, {f32, {3, 1, 1}}}, {}), (Shape{1, 3, 4, 4}));
  expect_error(OpKind::PRelu, {{f32, {1, 3}}, {f32, {2, 3}}}, {}, "does not broadcast to X's shape");
}

TEST(ShapeRules, UnaryAndActivations) {
  for (OpKind k : {OpKind::Relu, OpKind::Sigmoid, OpKind::Tanh, OpKind::Exp, OpKind::HardSwish, OpKind::Clip,
                   OpKind::LeakyRelu, OpKind::Identity, OpKind::Dropout})
    EXPECT_EQ(shape_of(k, {{f32, {2, 3}}}, {}), (Shape{2, 3})) << op_kind_name(k);
  EXPECT_EQ(shape_of(OpKind::Softmax, {{f32, {2, 3}}}, attrs({{"axis", int64_t(1)}})), (Shape{2, 3}));
  expect_error(OpKind::Softmax, {{f32, {2, 3}}}, attrs({{"axis", int64_t(2)}}), "attribute axis=2 is out of range");
}

TEST(ShapeRules, ConcatAndErrors) {
  EXPECT_EQ(shape_of(OpKind::Concat, {{f32, {2, 3}}, {f32, {2, 5}}, {f32, {2, 1}}}, attrs({{"axis", int64_t(1)}})),
            (Shape{2, 9}));
  expect_error(OpKind::Concat, {{f32, {2, 3}}, {f32, {3, 3}}}, attrs({{"axis", int64_t(1)}}),
               "input 1 'x1' shape [3,3] does not match input 0 shape [2,3] outside axis 1");
}

TEST(ShapeRules, ReshapeNeedsResolvedShape) {
  EXPECT_EQ(shape_of(OpKind::Reshape, {{f32, {2, 3, 4}}}, attrs({{"shape", V{6, 4}}})), (Shape{6, 4}));
  expect_error(OpKind::Reshape, {{f32, {2, 3, 4}}}, attrs({{"shape", V{-1, 4}}}), "must be fully resolved");
  expect_error(OpKind::Reshape, {{f32, {2, 3, 4}}}, attrs({{"shape", V{5, 4}}}), "cannot reshape [2,3,4] (24 elements)");
}

TEST(ShapeRules, TransposeDefaultsToReverse) {
  EXPECT_EQ(shape_of(OpKind::Transpose, {{f32, {2, 3, 4}}}, {}), (Shape{4, 3, 2}));
  EXPECT_EQ(shape_of(OpKind::Transpose, {{f32, {2, 3, 4}}}, attrs({{"perm", V{0, 2, 1}}})), (Shape{2, 4, 3}));
  expect_error(OpKind::Transpose, {{f32, {2, 3, 4}}}, attrs({{"perm", V{0, 0, 1}}}), "is not a permutation");
}

TEST(ShapeRules, SliceCountsWithSteps) {
  auto a = attrs({{"starts", V{0, 4, 1}}, {"ends", V{2, -1, 5}}, {"axes", V{0, 1, 2}}, {"steps", V{1, -2, 3}}});
  // axis 1: 4, 2, 0 -> 3 elements; axis 2: 1, 4 -> 2 elements
  EXPECT_EQ(shape_of(OpKind::Slice, {{f32, {2, 5, 6}}}, a), (Shape{2, 3, 2}));
  expect_error(OpKind::Slice, {{f32, {5}}}, attrs({{"starts", V{-1}}, {"ends", V{5}}}), "is not clamped");
  expect_error(OpKind::Slice, {{f32, {5}}}, attrs({{"starts", V{0}}, {"ends", V{5}}, {"steps", V{0}}}), "must not contain 0");
}

TEST(ShapeRules, SplitSizes) {
  auto r = infer(OpKind::Split, {{f32, {2, 7}}}, attrs({{"axis", int64_t(1)}, {"split", V{3, 4}}}), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].shape, (Shape{2, 3}));
  EXPECT_EQ(r.value()[1].shape, (Shape{2, 4}));
  expect_error(OpKind::Split, {{f32, {2, 7}}}, attrs({{"axis", int64_t(1)}, {"split", V{3, 3}}}),
               "sums to 6, but axis 1 has size 7", 2);
}

TEST(ShapeRules, PadModes) {
  EXPECT_EQ(shape_of(OpKind::Pad, {{f32, {1, 3, 4}}}, attrs({{"pads", V{0, 1, 2, 0, 3, -1}}})), (Shape{1, 7, 5}));
  expect_error(OpKind::Pad, {{f32, {1, 3}}}, attrs({{"pads", V{0, 3, 0, 0}}, {"mode", std::string("reflect")}}),
               "needs pads smaller than the size 3");
  expect_error(OpKind::Pad, {{f32, {1, 3}}}, attrs({{"pads", V{0, 3}}}), "must have 4 values");
}

TEST(ShapeRules, ResizeScalesPerStoredAxis) {
  EXPECT_EQ(shape_of(OpKind::Resize, {{f32, {1, 3, 5, 7}}}, attrs({{"scales", F{1, 1, 2, 0.5}}})), (Shape{1, 3, 10, 3}));
  // scales computed as sizes / in give the sizes back exactly
  EXPECT_EQ(shape_of(OpKind::Resize, {{f32, {1, 3, 7, 7}}}, attrs({{"scales", F{1, 1, 3.0 / 7, 11.0 / 7}}})),
            (Shape{1, 3, 3, 11}));
  expect_error(OpKind::Resize, {{f32, {1, 3, 5, 7}}}, attrs({{"scales", F{2, 2}}}), "must have one value per input axis");
}

TEST(ShapeRules, ReduceAxesAndKeepdims) {
  EXPECT_EQ(shape_of(OpKind::ReduceMean, {{f32, {2, 3, 4}}}, attrs({{"axes", V{1}}})), (Shape{2, 1, 4}));
  EXPECT_EQ(shape_of(OpKind::ReduceSum, {{f32, {2, 3, 4}}}, attrs({{"axes", V{0, 2}}, {"keepdims", int64_t(0)}})),
            (Shape{3}));
  EXPECT_EQ(shape_of(OpKind::ReduceMax, {{f32, {2, 3, 4}}}, attrs({{"keepdims", int64_t(0)}})), (Shape{}));
  expect_error(OpKind::ReduceMin, {{f32, {2, 3}}}, attrs({{"axes", V{2}}}), "out of range");
}

TEST(ShapeRules, CastUsesTo) {
  auto r = infer(OpKind::Cast, {{f32, {2}}}, attrs({{"to", int64_t(DType::I64)}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].dtype, DType::I64);
  expect_error(OpKind::Cast, {{f32, {2}}}, {}, "attribute to is required");
}

TEST(ShapeRules, QuantizeKeepsOutputDtypeDequantizeNeedsQuant) {
  QuantParams q = QuantParams::per_tensor(0.1f, 128);
  auto r = infer(OpKind::QuantizeLinear, {{f32, {2, 2}}}, {}, 1, DType::U8, q);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].dtype, DType::U8);
  r = infer(OpKind::QuantizeLinear, {{f32, {2, 2}}}, {}, 1, DType::Invalid, q);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].dtype, DType::I8);  // default when nothing is preset
  r = infer(OpKind::QuantizeLinear, {{f32, {2, 2}}}, {}, 1, DType::U8, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("output 'y0' has no quantization parameters"), std::string::npos);

  r = infer(OpKind::DequantizeLinear, {{DType::I8, {3}, q}}, {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0], (TensorType{DType::F32, {3}}));
  expect_error(OpKind::DequantizeLinear, {{DType::I8, {3}}}, {}, "input 0 (X) 'x0' has no quantization parameters");
}

TEST(ShapeRules, InferShapesFillsOutputsInOrder) {
  Graph g;
  Tensor x;
  x.name = "x";
  x.dtype = f32;
  x.shape = {1, 2, 3};
  TensorId xi = g.add_tensor(x);
  g.inputs.push_back(xi);
  Tensor t1, t2;
  t1.name = "t1";
  t2.name = "t2";
  TensorId a = g.add_tensor(t1), b = g.add_tensor(t2);
  Node n2;  // added first, consumes n1's output: infer_shapes must follow the topological order
  n2.kind = OpKind::Transpose;
  n2.name = "second";
  n2.inputs = {a};
  n2.outputs = {b};
  g.add_node(n2);
  Node n1;
  n1.kind = OpKind::Relu;
  n1.name = "first";
  n1.inputs = {xi};
  n1.outputs = {a};
  g.add_node(n1);
  g.outputs.push_back(b);
  ASSERT_TRUE(infer_shapes(g).ok());
  EXPECT_EQ(g.tensor(b).shape, (Shape{3, 2, 1}));
  EXPECT_EQ(g.tensor(b).dtype, f32);
}

}  // namespace
}  // namespace neutron
