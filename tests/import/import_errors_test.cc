// Bad input to the importer: every case gives a clear error naming the file (and the node or
// tensor), never a crash.
#include <gtest/gtest.h>

#include <random>

#include "import/onnx/onnx_importer.h"
#include "onnx_builder.h"

namespace neutron {
namespace {

using testing::kFloat;
using testing::OnnxBuilder;

void expect_error(const StatusOr<Graph>& g, Error code, const std::string& text) {
  ASSERT_FALSE(g.ok()) << "expected: " << text;
  EXPECT_EQ(g.status().code(), code) << g.status().to_string();
  EXPECT_NE(g.status().message().find(text), std::string::npos) << g.status().message();
}

OnnxBuilder small_model() {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 4, 4}).output("y");
  b.init("w", TensorData(DType::F32, {3, 2, 1, 1}));
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"y"}, "relu");
  return b;
}

TEST(ImportErrors, UnknownOperatorMessage) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2}).output("y");
  b.node("RNN", {"x"}, {"y"}, "foo");
  auto g = b.import();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Error::NotSupported);
  EXPECT_EQ(g.status().message(), "model.onnx: node 'foo' (op RNN, opset 13): unsupported operator");

  OnnxBuilder d;
  d.input("x", kFloat, {1, 2}).output("y");
  d.node("Gelu", {"x"}, {"y"}, "g")->set_domain("com.microsoft");
  expect_error(d.import(), Error::NotSupported, "node 'g' (op Gelu, opset 13): unsupported operator (domain 'com.microsoft')");
}

TEST(ImportErrors, OpsetsOutsideTheSupportedRange) {
  OnnxBuilder b(21);
  b.input("x", kFloat, {2}).output("y");
  b.node("Relu", {"x"}, {"y"});
  expect_error(b.import(), Error::NotSupported, "model.onnx: opset 21 is newer than the newest supported opset (20)");

  OnnxBuilder old(6);  // Add-6 has the legacy `broadcast` attribute semantics
  old.input("x", kFloat, {2}).output("y");
  old.node("Add", {"x", "x"}, {"y"}, "add");
  expect_error(old.import(), Error::NotSupported,
               "node 'add' (op Add, opset 6): opset 6 semantics of Add are not supported (opset 7 or newer is)");
}

TEST(ImportErrors, TruncatedAndGarbageBytes) {
  const std::string bytes = small_model().bytes();
  // Every truncation either fails cleanly or (when cut at a field boundary) imports something
  // smaller or reports what is missing; none may crash.
  for (size_t n = 1; n < bytes.size(); n += 3) {
    auto g = import_onnx_bytes(bytes.substr(0, n), "cut.onnx");
    if (!g.ok()) {
      EXPECT_NE(g.status().message().find("cut.onnx"), std::string::npos) << g.status().message();
    }
  }
  expect_error(import_onnx_bytes(bytes.substr(0, bytes.size() / 2), "half.onnx"), Error::InvalidModel, "half.onnx");
  std::mt19937 rng(1);
  for (int i = 0; i < 50; ++i) {
    std::string junk = bytes;
    for (int k = 0; k < 8; ++k) junk[rng() % junk.size()] = char(rng());
    auto g = import_onnx_bytes(junk, "junk.onnx");  // must not crash
    if (!g.ok()) {
      EXPECT_NE(g.status().message().find("junk.onnx"), std::string::npos) << g.status().message();
    }
  }
  expect_error(import_onnx_bytes("\xff\xff\xff\xff not a protobuf", "garbage.onnx"), Error::InvalidModel,
               "garbage.onnx: not a valid ONNX model");
  expect_error(import_onnx_bytes("", "empty.onnx"), Error::InvalidModel, "empty.onnx: the file is empty");
}

TEST(ImportErrors, MissingFile) {
  expect_error(import_onnx_file("/nonexistent/dir/model.onnx"), Error::NotFound, "/nonexistent/dir/model.onnx: no such file");
}

TEST(ImportErrors, DanglingInput) {
  OnnxBuilder b;
  b.input("x", kFloat, {2}).output("y");
  b.node("Add", {"x", "nowhere"}, {"y"}, "add");
  expect_error(b.import(), Error::InvalidModel,
               "model.onnx: node 'add' (op Add, opset 13): input 1 'nowhere' is not produced by any node, initializer or graph input");
}

TEST(ImportErrors, UndefinedGraphOutputAndDuplicateProducer) {
  OnnxBuilder b;
  b.input("x", kFloat, {2}).output("missing");
  b.node("Relu", {"x"}, {"y"});
  expect_error(b.import(), Error::InvalidModel, "graph output 'missing' is not produced by any node");

  OnnxBuilder d;
  d.input("x", kFloat, {2}).output("y");
  d.node("Relu", {"x"}, {"y"}, "a");
  d.node("Neg", {"x"}, {"y"}, "b");
  expect_error(d.import(), Error::InvalidModel, "node 'b' (op Neg) writes tensor 'y', which is already defined");
}

TEST(ImportErrors, CycleBetweenNodes) {
  OnnxBuilder b;
  b.input("x", kFloat, {2}).output("y");
  b.node("Add", {"x", "b"}, {"a"}, "n1");
  b.node("Relu", {"a"}, {"b"}, "n2");
  b.node("Relu", {"a"}, {"y"}, "n3");
  expect_error(b.import(), Error::InvalidModel, "is on a cycle");
}

TEST(ImportErrors, WrongRawDataSize) {
  OnnxBuilder b = small_model();
  b.graph().mutable_initializer(0)->mutable_raw_data()->resize(5);
  expect_error(b.import(), Error::InvalidModel,
               "model.onnx: initializer 'w': raw_data holds 5 bytes, but FLOAT[3,2,1,1] needs 24");

  OnnxBuilder typed = small_model();
  auto* w = typed.graph().mutable_initializer(0);
  w->clear_raw_data();
  w->add_float_data(1.0f);
  expect_error(typed.import(), Error::InvalidModel, "initializer 'w': float_data holds 1 values, but FLOAT[3,2,1,1] needs 6");

  OnnxBuilder neg = small_model();
  neg.graph().mutable_initializer(0)->set_dims(0, -3);
  expect_error(neg.import(), Error::InvalidModel, "initializer 'w': negative dimension -3");

  OnnxBuilder huge = small_model();
  huge.graph().mutable_initializer(0)->set_dims(0, int64_t(1) << 40);
  expect_error(huge.import(), Error::NotSupported, "has more than 2^32 elements");
}

TEST(ImportErrors, UnknownOrUnsupportedDtypes) {
  OnnxBuilder b = small_model();
  b.graph().mutable_initializer(0)->set_data_type(onnx::TensorProto::DOUBLE);
  expect_error(b.import(), Error::NotSupported, "initializer 'w': element type DOUBLE is not supported");

  OnnxBuilder u = small_model();
  u.graph().mutable_initializer(0)->set_data_type(77);
  expect_error(u.import(), Error::NotSupported, "initializer 'w': element type dtype 77 is not supported");

  OnnxBuilder in;
  in.input("x", onnx::TensorProto::FLOAT16, {2}).output("y");
  in.node("Relu", {"x"}, {"y"});
  expect_error(in.import(), Error::NotSupported, "graph input 'x' has element type FLOAT16, which is not supported");

  OnnxBuilder undef;
  undef.input("x", 0, {2}).output("y");
  undef.node("Relu", {"x"}, {"y"});
  expect_error(undef.import(), Error::InvalidModel, "graph input 'x' has element type UNDEFINED");
}

TEST(ImportErrors, DynamicInputShape) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 3}).output("y");
  auto* dim = b.graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0);
  dim->set_dim_param("batch");
  b.node("Relu", {"x"}, {"y"});
  expect_error(b.import(), Error::NotSupported, "graph input 'x' has the dynamic dimension 0 'batch'");
}

TEST(ImportErrors, ShapeRuleErrorsNameTheNode) {
  OnnxBuilder b;
  b.input("x", kFloat, {1, 2, 4, 4}).output("y");
  b.init("w", TensorData(DType::F32, {3, 5, 1, 1}));  // 5 input channels, X has 2
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  expect_error(b.import(), Error::InvalidModel,
               "model.onnx: node 'conv' (op Conv, opset 13): input 0 (X) has 2 channels, but the weights [3,5,1,1]");
}

TEST(ImportErrors, NonConstantOperand) {
  OnnxBuilder b;
  b.input("x", kFloat, {2, 3}).input("shape", testing::kInt64, {1}).output("y");
  b.node("Reshape", {"x", "shape"}, {"y"}, "rs");
  expect_error(b.import(), Error::NotSupported,
               "node 'rs' (op Reshape, opset 13): input 1 (shape) 'shape' must be a constant");
}

TEST(ImportErrors, DeclaredOutputShapeMismatch) {
  OnnxBuilder b;
  b.input("x", kFloat, {2, 3});
  b.output("y", kFloat, {3, 2});
  b.node("Relu", {"x"}, {"y"});
  expect_error(b.import(), Error::InvalidModel,
               "graph output 'y' is declared f32[3,2], but the importer infers f32[2,3]");
}

TEST(ImportErrors, QuantizationParameterChecks) {
  OnnxBuilder b;
  b.input("x", kFloat, {2, 3}).output("y");
  b.init("s", TensorData::from<float>({}, {-1.0f}));
  b.node("QuantizeLinear", {"x", "s"}, {"y"}, "q");
  expect_error(b.import(), Error::InvalidModel, "node 'q' (op QuantizeLinear, opset 13): input 1 (scale) holds -1");

  OnnxBuilder axis;
  axis.input("x", kFloat, {2, 3}).output("y");
  axis.init("s", TensorData::from<float>({2}, {1.0f, 2.0f}));
  axis.node("QuantizeLinear", {"x", "s"}, {"y"}, "q");  // default axis 1 has size 3
  expect_error(axis.import(), Error::InvalidModel, "per-axis scale with 2 values on axis 1 does not fit the tensor shape [2,3]");
}

// Clip with min > max has no output range: an error naming the node, for float and for QDQ int8
// models alike (it used to give -5 in float and 0 in int8).
TEST(ImportErrors, ClipMinAboveMax) {
  OnnxBuilder f(13);
  f.input("x", kFloat, {1, 4}).output("y");
  f.constant("lo", TensorData::from<float>({}, {6.0f}));
  f.constant("hi", TensorData::from<float>({}, {-5.0f}));
  f.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
  expect_error(f.import(), Error::InvalidModel, "min (6) is greater than max (-5)");
  expect_error(f.import(), Error::InvalidModel, "'clip'");

  OnnxBuilder old(6);  // bounds as attributes
  old.input("x", kFloat, {1, 4}).output("y");
  auto* n = old.node("Clip", {"x"}, {"y"}, "clip6");
  OnnxBuilder::attr(n, "min", 1.0f);
  OnnxBuilder::attr(n, "max", 0.5f);
  expect_error(old.import(), Error::InvalidModel, "min (1) is greater than max (0.5)");

  OnnxBuilder q(13);  // int8: DQ -> Clip -> Q, as a QDQ export has it
  q.input("x", kFloat, {1, 4}).output("y");
  q.init("s", TensorData::from<float>({}, {0.1f}));
  q.init("z", TensorData::from<int8_t>({}, {0}));
  q.init("lo", TensorData::from<float>({}, {6.0f}));
  q.init("hi", TensorData::from<float>({}, {0.0f}));
  q.node("QuantizeLinear", {"x", "s", "z"}, {"xq"}, "q_in");
  q.node("DequantizeLinear", {"xq", "s", "z"}, {"xd"}, "dq_in");
  q.node("Clip", {"xd", "lo", "hi"}, {"c"}, "clip_int8");
  q.node("QuantizeLinear", {"c", "s", "z"}, {"cq"}, "q_out");
  q.node("DequantizeLinear", {"cq", "s", "z"}, {"y"}, "dq_out");
  expect_error(q.import(), Error::InvalidModel, "min (6) is greater than max (0)");
  expect_error(q.import(), Error::InvalidModel, "'clip_int8'");

  OnnxBuilder equal(13);  // min == max is a constant output, allowed
  equal.input("x", kFloat, {1, 4}).output("y");
  equal.init("lo", TensorData::from<float>({}, {2.0f}));
  equal.node("Clip", {"x", "lo", "lo"}, {"y"}, "clip");
  EXPECT_TRUE(equal.import().ok());
}

}  // namespace
}  // namespace neutron
