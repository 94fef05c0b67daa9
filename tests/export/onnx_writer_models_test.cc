// The writer on the real fixture models (import -> export -> ONNX checker -> import: same IR text
// and the same outputs after the CPU pipeline), determinism, graph-level corner cases and the
// graphs it must refuse (after fold-qdq / layout-nhwc).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "export_test_util.h"
#include "passes/passes.h"
#include "util/fixtures.h"

namespace neutron {
namespace {

using testing::attrs;
using testing::IrBuilder;
using Ints = std::vector<int64_t>;

bool file_exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

StatusOr<Graph> import_fixture(const std::string& model, const std::string& variant) {
  return import_onnx_file(testing::fixture_path(model, "model_" + variant + ".onnx"));
}

// Runs the CPU pipeline on a copy of g and returns its first output for sample 0 of the inputs.
TensorData run_first_sample(const Graph& g, const TensorData& input) {
  Graph copy = g;
  Status s = run_passes(copy, cpu_pipeline());
  EXPECT_TRUE(s.ok()) << s.to_string();
  if (!s.ok()) return {};
  auto ex = Executor::create(copy);
  EXPECT_TRUE(ex.ok()) << ex.status().to_string();
  if (!ex.ok()) return {};
  std::vector<TensorData> outs;
  s = ex.value()->run({input}, &outs);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return s.ok() && !outs.empty() ? outs[0] : TensorData();
}

struct FixtureCase {
  const char* model;
  const char* variant;
};
std::ostream& operator<<(std::ostream& os, const FixtureCase& c) { return os << c.model << "_" << c.variant; }

class FixtureRoundTrip : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(FixtureRoundTrip, ImportExportImport) {
  const FixtureCase c = GetParam();
  const std::string path = testing::fixture_path(c.model, std::string("model_") + c.variant + ".onnx");
  if (!file_exists(path)) GTEST_SKIP() << path << " is missing";
  auto g1 = import_onnx_file(path);
  ASSERT_TRUE(g1.ok()) << g1.status().to_string();
  std::string bytes;
  auto g2 = testing::export_check_import(g1.value(), &bytes);
  ASSERT_TRUE(g2.ok()) << g2.status().to_string();
  EXPECT_EQ(print_graph(g2.value()), print_graph(g1.value()));

  // A fixed point: exporting the re-imported graph gives the same bytes.
  auto again = export_onnx(g2.value());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_TRUE(again.value() == bytes) << "export(import(export(g))) differs from export(g)";

  const TensorData inputs = testing::load_npy_or_die(testing::fixture_path(c.model, "inputs.npy"));
  ASSERT_GT(inputs.count(), 0);
  const TensorData x = testing::sample(inputs, 0);
  const TensorData y1 = run_first_sample(g1.value(), x);
  const TensorData y2 = run_first_sample(g2.value(), x);
  ASSERT_GT(y1.count(), 0);
  EXPECT_EQ(y1.dtype, y2.dtype);
  EXPECT_EQ(y1.shape, y2.shape);
  EXPECT_TRUE(y1.bytes == y2.bytes) << "outputs differ after the round trip";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureRoundTrip,
                         ::testing::Values(FixtureCase{"cifarnet", "f32"}, FixtureCase{"cifarnet", "int8"},
                                           FixtureCase{"fmnist_cnn", "f32"}, FixtureCase{"fmnist_cnn", "int8"},
                                           FixtureCase{"mobilenet_v1_025", "f32"},
                                           FixtureCase{"mobilenet_v1_025", "int8"},
                                           FixtureCase{"mobilenet_v2", "int8"}),
                         [](const ::testing::TestParamInfo<FixtureCase>& info) {
                           return std::string(info.param.model) + "_" + info.param.variant;
                         });

// ResNet-18 (47 MB float, 12 MB int8): only the checker and the re-import, no inference.
TEST(OnnxWriterModels, Resnet18PassesChecker) {
  for (const char* variant : {"f32", "int8"}) {
    SCOPED_TRACE(variant);
    const std::string path = testing::fixture_path("resnet18", std::string("model_") + variant + ".onnx");
    if (!file_exists(path)) GTEST_SKIP() << path << " is missing";
    auto g1 = import_onnx_file(path);
    ASSERT_TRUE(g1.ok()) << g1.status().to_string();
    auto g2 = testing::export_check_import(g1.value());
    ASSERT_TRUE(g2.ok()) << g2.status().to_string();
    EXPECT_EQ(print_graph(g2.value()), print_graph(g1.value()));
  }
}

TEST(OnnxWriterModels, Deterministic) {
  auto g = import_fixture("mobilenet_v1_025", "int8");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto a = export_onnx(g.value());
  const Graph copy = g.value();
  auto b = export_onnx(copy);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a.value() == b.value());
  OnnxExportOptions o;
  o.producer_version = "1.2.3";
  auto c = export_onnx(g.value(), o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(testing::parse_model(c.value()).producer_version(), "1.2.3");
}

TEST(OnnxWriterModels, WritesFile) {
  auto g = import_fixture("fmnist_cnn", "int8");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  char dir[] = "/tmp/neutron_export_testXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/m.onnx";
  Status s = export_onnx_file(g.value(), path);
  ASSERT_TRUE(s.ok()) << s.to_string();
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  auto bytes = export_onnx(g.value());
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(ss.str() == bytes.value());
  auto g2 = import_onnx_file(path);
  ASSERT_TRUE(g2.ok()) << g2.status().to_string();
  EXPECT_EQ(print_graph(g2.value()), print_graph(g.value()));
  unlink(path.c_str());
  rmdir(dir);

  Status bad = export_onnx_file(g.value(), std::string(dir) + "/no/such/dir/m.onnx");
  EXPECT_EQ(bad.code(), Error::IoError) << bad.to_string();
  EXPECT_NE(bad.message().find("no/such/dir/m.onnx"), std::string::npos) << bad.message();
}

// ---- graphs after the CPU passes are refused, naming the node ----

// The node named in `message`, or -1.
NodeId named_node(const Graph& g, const std::string& message) {
  for (NodeId id : g.live_nodes())
    if (message.find(describe(g, id)) != std::string::npos) return id;
  return -1;
}

TEST(OnnxWriterErrors, RejectsNhwcGraph) {
  auto g = import_fixture("cifarnet", "f32");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  ASSERT_TRUE(layout_nhwc(g.value()).ok());
  auto r = export_onnx(g.value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("channels_last=1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("export the graph before the CPU passes"), std::string::npos) << msg;
  const NodeId id = named_node(g.value(), msg);
  ASSERT_GE(id, 0) << msg;
  EXPECT_EQ(g.value().node(id).attrs.get_int("channels_last", 0), 1);
}

TEST(OnnxWriterErrors, RejectsFoldedInt8Graph) {
  auto g = import_fixture("fmnist_cnn", "int8");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  ASSERT_TRUE(fold_qdq(g.value()).ok());
  auto r = export_onnx(g.value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  const std::string& msg = r.status().message();
  const NodeId id = named_node(g.value(), msg);
  ASSERT_GE(id, 0) << msg;
  const Node& n = g.value().node(id);
  const bool int8_compute = n.attrs.has("act_min") || n.attrs.has("act_max") ||
                            (n.input(0) != kNoTensor && g.value().tensor(n.input(0)).is_quantized());
  EXPECT_TRUE(int8_compute) << msg;
  EXPECT_NE(msg.find("export the graph before the CPU passes"), std::string::npos) << msg;
}

TEST(OnnxWriterErrors, RejectsFullCpuPipeline) {
  auto g = import_fixture("mobilenet_v1_025", "int8");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  ASSERT_TRUE(run_passes(g.value(), cpu_pipeline()).ok());
  auto r = export_onnx(g.value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_GE(named_node(g.value(), r.status().message()), 0) << r.status().message();
}

Attributes conv1x1() {
  return attrs({{"kernel_shape", Ints{1, 1}}, {"strides", Ints{1, 1}}, {"dilations", Ints{1, 1}},
                {"pads", Ints{0, 0, 0, 0}}, {"group", int64_t(1)}});
}

TEST(OnnxWriterErrors, FusedActivationNamesTheNode) {
  IrBuilder b;
  TensorId x = b.input("x", DType::F32, {1, 2, 3, 3});
  Attributes a = conv1x1();
  a.set("act_min", 0.0);
  b.output(b.node(OpKind::Conv, "conv1", {x, b.constant("w", TensorData(DType::F32, {2, 2, 1, 1}))}, a, {{"y"}})[0]);
  auto r = export_onnx(b.g);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("node 'conv1' (Conv)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("act_min"), std::string::npos) << r.status().message();
}

TEST(OnnxWriterErrors, Int8ComputeNamesTheNode) {
  IrBuilder b;
  const QuantParams q = QuantParams::per_tensor(0.1f, 0);
  TensorId x = b.input("x", DType::I8, {1, 4}, q);
  b.output(b.node(OpKind::Relu, "relu8", {x}, {}, {{"y", DType::Invalid, q}})[0]);
  auto r = export_onnx(b.g);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("node 'relu8' (Relu)"), std::string::npos) << r.status().message();
}

TEST(OnnxWriterErrors, RequantizingDataMovement) {
  IrBuilder b;
  TensorId x = b.input("x", DType::I8, {1, 4}, QuantParams::per_tensor(0.1f, 0));
  b.output(b.node(OpKind::Reshape, "r", {x}, attrs({{"shape", Ints{4}}}),
                  {{"y", DType::Invalid, QuantParams::per_tensor(0.2f, 0)}})[0]);
  auto r = export_onnx(b.g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'r' (Reshape)"), std::string::npos) << r.status().message();
}

TEST(OnnxWriterErrors, UnknownAttribute) {
  IrBuilder b;
  Attributes a;
  a.set("bogus", int64_t(3));
  b.output(b.node(OpKind::Relu, "relu", {b.input("x", DType::F32, {2})}, a, {{"y"}})[0]);
  auto r = export_onnx(b.g);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("node 'relu' (Relu): attribute bogus"), std::string::npos)
      << r.status().message();
}

TEST(OnnxWriterErrors, BadOptions) {
  IrBuilder b;
  b.output(b.op(OpKind::Relu, "y", {b.input("x", DType::F32, {2})}));
  OnnxExportOptions o;
  o.opset = 12;
  EXPECT_EQ(export_onnx(b.g, o).status().code(), Error::InvalidArgument);
  o.opset = 18;
  EXPECT_EQ(export_onnx(b.g, o).status().code(), Error::InvalidArgument);
  o.opset = 17;
  auto ok = export_onnx(b.g, o);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(testing::parse_model(ok.value()).opset_import(0).version(), 17);
  EXPECT_EQ(testing::onnx_check(ok.value()), "");
  o.ir_version = 6;
  EXPECT_EQ(export_onnx(b.g, o).status().code(), Error::InvalidArgument);
}

// ---- graph-level corner cases ----

TEST(OnnxWriterGraph, DuplicateAndEmptyNamesBecomeUnique) {
  IrBuilder b;
  TensorId x = b.input("t", DType::F32, {2});
  TensorId r = b.node(OpKind::Relu, "n1", {x}, {}, {{"t"}})[0];   // same name as the input
  TensorId s = b.node(OpKind::Sigmoid, "n2", {r}, {}, {{""}})[0];  // no name
  b.output(s);
  std::string bytes;
  auto g2 = testing::export_check_import(b.g, &bytes);
  ASSERT_TRUE(g2.ok()) << g2.status().to_string();
  auto m = testing::parse_model(bytes);
  ASSERT_EQ(m.graph().node_size(), 2);
  EXPECT_EQ(m.graph().node(0).input(0), "t");
  EXPECT_EQ(m.graph().node(0).output(0), "t_1");
  EXPECT_EQ(m.graph().node(1).output(0), "tensor_2");
  auto again = export_onnx(b.g);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.value() == bytes);
}

// A constant graph output becomes Identity(initializer); a graph input may be an output as is;
// an output listed twice gets an Identity copy.
TEST(OnnxWriterGraph, ConstantInputAndRepeatedOutputs) {
  IrBuilder b;
  TensorId x = b.input("x", DType::F32, {2});
  TensorId c = b.constant("c", TensorData::from<float>({2}, {1.0f, 2.0f}));
  TensorId y = b.op(OpKind::Add, "y", {x, c});
  b.output(y);
  b.output(c);
  b.output(x);
  b.output(y);
  std::string bytes;
  auto g2 = testing::export_check_import(b.g, &bytes);
  ASSERT_TRUE(g2.ok()) << g2.status().to_string();
  auto m = testing::parse_model(bytes);
  ASSERT_EQ(m.graph().output_size(), 4);
  EXPECT_EQ(m.graph().output(0).name(), "y");
  EXPECT_EQ(m.graph().output(1).name(), "c");
  EXPECT_EQ(m.graph().output(2).name(), "x");
  EXPECT_EQ(m.graph().output(3).name(), "y_1");
  const Graph& r = g2.value();
  ASSERT_EQ(r.outputs.size(), 4u);
  EXPECT_TRUE(r.tensor(r.outputs[1]).is_constant());
  std::vector<TensorData> outs;
  auto ex = Executor::create(r);
  ASSERT_TRUE(ex.ok()) << ex.status().to_string();
  ASSERT_TRUE(ex.value()->run({TensorData::from<float>({2}, {10.0f, 20.0f})}, &outs).ok());
  ASSERT_EQ(outs.size(), 4u);
  EXPECT_EQ(outs[0].to_vector<float>(), (std::vector<float>{11, 22}));
  EXPECT_EQ(outs[1].to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(outs[2].to_vector<float>(), (std::vector<float>{10, 20}));
  EXPECT_EQ(outs[3].to_vector<float>(), (std::vector<float>{11, 22}));
}

}  // namespace
}  // namespace neutron
