// ONNX tensors whose claimed size is not backed by data, or is above the memory budget (issue 13):
// each is an error naming the file and tensor (or node) before anything of the claimed size is
// allocated. Claims are chosen so that allocating first would take tens of gigabytes.
#include <gtest/gtest.h>

#include "core/memory_budget.h"
#include "import/onnx/onnx_importer.h"
#include "onnx_builder.h"

namespace neutron {
namespace {

using testing::kFloat;
using testing::kInt64;
using testing::OnnxBuilder;

void expect_error(const StatusOr<Graph>& g, Error code, const std::string& text) {
  ASSERT_FALSE(g.ok()) << "expected: " << text;
  EXPECT_EQ(g.status().code(), code) << g.status().to_string();
  EXPECT_NE(g.status().message().find(text), std::string::npos) << g.status().message();
}

onnx::TensorProto claim(const std::string& name, int type, const std::vector<int64_t>& dims) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : dims) t.add_dims(d);
  return t;
}

// x -> Add(x, w) -> y with the initializer `w` as given.
OnnxBuilder model_with(const onnx::TensorProto& w) {
  OnnxBuilder b;
  b.input("x", kFloat, {1}).output("y");
  *b.graph().add_initializer() = w;
  b.node("Add", {"x", "w"}, {"y"}, "add");
  return b;
}

TEST(ImportSizes, InitializerClaimingManyElementsWithLittleRawData) {
  // 2^30 floats (4 GiB) claimed, 4 bytes present.
  onnx::TensorProto w = claim("w", kFloat, {int64_t(1) << 30});
  w.set_raw_data(std::string(4, '\0'));
  const OnnxBuilder b = model_with(w);
  EXPECT_LT(b.bytes().size(), 200u);
  expect_error(b.import(), Error::InvalidModel,
               "model.onnx: initializer 'w': raw_data holds 4 bytes, but FLOAT[1073741824] needs 4294967296");
  // 2^32 int64 values (32 GiB) claimed.
  onnx::TensorProto big = claim("w", kInt64, {int64_t(1) << 16, int64_t(1) << 16});
  big.set_raw_data(std::string(8, '\0'));
  expect_error(model_with(big).import(), Error::InvalidModel, "initializer 'w': raw_data holds 8 bytes");
}

TEST(ImportSizes, InitializerClaimingManyElementsWithFewTypedValues) {
  onnx::TensorProto w = claim("w", kFloat, {int64_t(1) << 30});
  w.add_float_data(1.0f);
  expect_error(model_with(w).import(), Error::InvalidModel,
               "initializer 'w': float_data holds 1 values, but FLOAT[1073741824] needs 1073741824");
  onnx::TensorProto i = claim("w", kInt64, {int64_t(1) << 32});
  i.add_int64_data(1);
  expect_error(model_with(i).import(), Error::InvalidModel, "initializer 'w': int64_data holds 1 values");
  onnx::TensorProto none = claim("w", kFloat, {int64_t(1) << 30});  // no data at all
  expect_error(model_with(none).import(), Error::InvalidModel, "initializer 'w': float_data holds 0 values");
}

TEST(ImportSizes, ExternalDataAndOverflowingDims) {
  onnx::TensorProto ext = claim("w", kFloat, {int64_t(1) << 30});
  ext.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = ext.add_external_data();
  e->set_key("location");
  e->set_value("/dev/zero");
  expect_error(model_with(ext).import(), Error::NotSupported, "initializer 'w': tensors stored in external data files");
  // Dims whose product wraps int64 (2^61 * 2^3 = 2^64 -> 0).
  onnx::TensorProto wrap = claim("w", kFloat, {int64_t(1) << 61, 8});
  expect_error(model_with(wrap).import(), Error::NotSupported, "initializer 'w': shape [2305843009213693952,8] has more than 2^32 elements");
}

TEST(ImportSizes, InitializerAboveTheBudget) {
  const OnnxBuilder b = model_with(OnnxBuilder::tensor("w", TensorData(DType::F32, {1024})));
  ScopedMemoryBudget budget(1024);
  expect_error(b.import(), Error::OutOfMemory,
               "model.onnx: initializer 'w' claims 4.0 KiB (f32 shape [1024]), above the memory budget of 1.0 KiB; "
               "raise it with --max-memory");
}

TEST(ImportSizes, ConstantNodeClaimingManyElements) {
  OnnxBuilder b;
  b.input("x", kFloat, {1}).output("y");
  auto* n = b.node("Constant", {}, {"c"}, "big_const");
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = claim("", kFloat, {int64_t(1) << 30});
  a->mutable_t()->set_raw_data(std::string(4, '\0'));
  b.node("Add", {"x", "c"}, {"y"}, "add");
  expect_error(b.import(), Error::InvalidModel,
               "model.onnx: node 'big_const' (op Constant, opset 13): attribute value: raw_data holds 4 bytes");
}

OnnxBuilder constant_of_shape(const std::vector<int64_t>& shape, DType value_type) {
  OnnxBuilder b;
  b.input("x", kFloat, {1}).output("y");
  b.init<int64_t>("shape", {int64_t(shape.size())}, shape);
  auto* n = b.node("ConstantOfShape", {"shape"}, {"y"}, "fill");
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = OnnxBuilder::tensor("", TensorData(value_type, {1}));
  return b;
}

TEST(ImportSizes, ConstantOfShapeIsCheckedBeforeFilling) {
  // 2^32 int64 zeros: 32 GiB, above any budget this machine allows by default.
  expect_error(constant_of_shape({65536, 65536}, DType::I64).import(), Error::OutOfMemory,
               "model.onnx: node 'fill' (op ConstantOfShape, opset 13): output claims 32.0 GiB (i64 shape [65536,65536]), "
               "above the memory budget of");
  expect_error(constant_of_shape({int64_t(1) << 40, int64_t(1) << 40}, DType::F32).import(), Error::InvalidModel,
               "is negative or too large");
  expect_error(constant_of_shape({4, -1}, DType::F32).import(), Error::InvalidModel, "is negative or too large");
  ScopedMemoryBudget budget(1024);
  expect_error(constant_of_shape({32, 16}, DType::F32).import(), Error::OutOfMemory, "output claims 2.0 KiB");
  EXPECT_TRUE(constant_of_shape({16, 16}, DType::F32).import().ok());  // exactly the budget
}

TEST(ImportSizes, ConstantFoldingOfConcatAndBroadcastsIsChecked) {
  OnnxBuilder cat;
  cat.input("x", kFloat, {1}).output("y");
  cat.init("a", TensorData(DType::F32, {200}));
  cat.init("b", TensorData(DType::F32, {200}));
  OnnxBuilder::attr(cat.node("Concat", {"a", "b"}, {"y"}, "cat"), "axis", int64_t(0));
  // Two small int64 constants broadcast to 256 x 256 (512 KiB).
  OnnxBuilder add;
  add.input("x", kFloat, {1}).output("y");
  add.init("a", TensorData(DType::I64, {256, 1}));
  add.init("b", TensorData(DType::I64, {1, 256}));
  add.node("Add", {"a", "b"}, {"y"}, "outer");
  {
    ScopedMemoryBudget budget(1024);
    expect_error(cat.import(), Error::OutOfMemory,
                 "model.onnx: node 'cat' (op Concat, opset 13): constant folding: output 'y' claims 1.6 KiB (f32 shape [400])");
  }
  {
    ScopedMemoryBudget budget(64 * 1024);
    expect_error(add.import(), Error::OutOfMemory, "node 'outer' (op Add, opset 13): constant folding: output 'y' claims 512.0 KiB");
  }
  EXPECT_TRUE(cat.import().ok());
  EXPECT_TRUE(add.import().ok());
}

TEST(ImportSizes, BroadcastFoldingStillComputesEveryElement) {
  // [2,1,3] + [4,1] -> [2,4,3]: out[i][j][k] = a[i][0][k] + b[j][0].
  OnnxBuilder b;
  b.input("x", kFloat, {1}).output("y");
  b.init<int64_t>("a", {2, 1, 3}, {1, 2, 3, 4, 5, 6});
  b.init<int64_t>("b", {4, 1}, {10, 20, 30, 40});
  b.node("Add", {"a", "b"}, {"y"}, "add");
  auto g = b.import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto y = g->find_tensor("y");
  ASSERT_TRUE(y.has_value());
  const Tensor& t = g->tensor(*y);
  ASSERT_TRUE(t.is_constant());
  EXPECT_EQ(t.shape, (Shape{2, 4, 3}));
  std::vector<int64_t> want;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t k = 0; k < 3; ++k) want.push_back(1 + i * 3 + k + 10 * (j + 1));
  EXPECT_EQ(t.data->to_vector<int64_t>(), want);
}

}  // namespace
}  // namespace neutron
