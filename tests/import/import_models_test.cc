// Whole models: a golden IR dump of a small PyTorch-style int8 model built here, and structural
// checks on the exported fixture models (fixtures/<name>/model_{f32,int8}.onnx) when present.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "import/onnx/onnx_importer.h"
#include "ir/printer.h"
#include "onnx_builder.h"

namespace neutron {
namespace {

using testing::kFloat;
using testing::OnnxBuilder;

// x -> Q(u8) -> Cast -> DQ -> Conv(DQ(w i8 per-channel), DQ(b i32)) -> Clip(Constant 0, 6) -> Q -> DQ
//   -> GlobalAveragePool -> Flatten -> y
OnnxBuilder golden_model() {
  OnnxBuilder b(13);
  b.input("input", kFloat, {1, 2, 3, 3}).output("output");
  b.init("s_in", TensorData::from<float>({}, {0.02f}));
  b.init("z_in", TensorData::from<uint8_t>({}, {128}));
  b.node("QuantizeLinear", {"input", "s_in", "z_in"}, {"q0"}, "/quant");
  OnnxBuilder::attr(b.node("Cast", {"q0"}, {"q0c"}, "/conv/Cast"), "to", int64_t(onnx::TensorProto::UINT8));
  b.node("DequantizeLinear", {"q0c", "s_in", "z_in"}, {"d0"}, "/conv/DequantizeLinear");
  b.constant("w", TensorData::from<int8_t>({2, 2, 1, 1}, {10, -20, 30, -40}));
  b.constant("w_s", TensorData::from<float>({2}, {0.01f, 0.02f}));
  b.constant("w_z", TensorData::from<int8_t>({2}, {0, 0}));
  OnnxBuilder::attr(b.node("DequantizeLinear", {"w", "w_s", "w_z"}, {"wd"}, "/conv/DequantizeLinear_1"), "axis", int64_t(0));
  b.init<int32_t>("bias", {2}, {100, -100});
  b.init("b_s", TensorData::from<float>({2}, {0.0002f, 0.0004f}));
  b.init("b_z", TensorData::from<int32_t>({2}, {0, 0}));
  OnnxBuilder::attr(b.node("DequantizeLinear", {"bias", "b_s", "b_z"}, {"bd"}, "/conv/DequantizeLinear_2"), "axis", int64_t(0));
  auto* conv = b.node("Conv", {"d0", "wd", "bd"}, {"c"}, "/conv/Conv");
  OnnxBuilder::attr(conv, "pads", std::vector<int64_t>{0, 0, 0, 0});
  b.constant("lo", TensorData::from<float>({}, {0.0f}));
  b.constant("hi", TensorData::from<float>({}, {6.0f}));
  b.node("Clip", {"c", "lo", "hi"}, {"r"}, "/relu6/Clip");
  b.init("s_out", TensorData::from<float>({}, {0.05f}));
  b.init("z_out", TensorData::from<uint8_t>({}, {0}));
  b.node("QuantizeLinear", {"r", "s_out", "z_out"}, {"q1"}, "/relu6/QuantizeLinear");
  b.node("DequantizeLinear", {"q1", "s_out", "z_out"}, {"d1"}, "/pool/DequantizeLinear");
  b.node("GlobalAveragePool", {"d1"}, {"gap"}, "/pool/GlobalAveragePool");
  b.node("Flatten", {"gap"}, {"output"}, "/Flatten");
  return b;
}

TEST(ImportModels, GoldenDump) {
  auto g = golden_model().import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  const std::string dump = print_graph(g.value());
  // The exact text, kept in one place so that format changes are deliberate.
  const std::string golden =
      "graph test {\n"
      "  input %input: f32[1,2,3,3]\n"
      "  // 2 constants, 12 bytes\n"
      "  %q0: u8[1,2,3,3] q(0.02,128) = QuantizeLinear(%input)  // /quant\n"
      "  %d0: f32[1,2,3,3] = DequantizeLinear(%q0)  // /conv/DequantizeLinear\n"
      "  %wd: f32[2,2,1,1] = DequantizeLinear($w:i8[2,2,1,1] q(axis=0, 2 scales))  // /conv/DequantizeLinear_1\n"
      "  %bd: f32[2] = DequantizeLinear($bias:i32[2] q(axis=0, 2 scales))  // /conv/DequantizeLinear_2\n"
      "  %c: f32[1,2,3,3] = Conv(%d0, %wd, %bd) {dilations=[1,1], group=1, kernel_shape=[1,1], pads=[0,0,0,0], "
      "strides=[1,1]}  // /conv/Conv\n"
      "  %r: f32[1,2,3,3] = Clip(%c) {max=6, min=0}  // /relu6/Clip\n"
      "  %q1: u8[1,2,3,3] q(0.05,0) = QuantizeLinear(%r)  // /relu6/QuantizeLinear\n"
      "  %d1: f32[1,2,3,3] = DequantizeLinear(%q1)  // /pool/DequantizeLinear\n"
      "  %gap: f32[1,2,1,1] = GlobalAveragePool(%d1)  // /pool/GlobalAveragePool\n"
      "  %output: f32[1,2] = Reshape(%gap) {shape=[1,2]}  // /Flatten\n"
      "  output %output\n"
      "}\n";
  EXPECT_EQ(dump, golden);
}

std::vector<std::string> fixture_models() {
  std::vector<std::string> paths;
  const std::string root = NEUTRON_FIXTURES_DIR;
  DIR* d = opendir(root.c_str());
  if (!d) return paths;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name[0] == '.') continue;
    for (const char* f : {"model_f32.onnx", "model_int8.onnx"}) {
      const std::string p = root + "/" + name + "/" + f;
      if (FILE* fp = fopen(p.c_str(), "rb")) {
        fclose(fp);
        paths.push_back(p);
      }
    }
  }
  closedir(d);
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(ImportModels, FixturesImportCleanly) {
  const auto paths = fixture_models();
  if (paths.empty()) GTEST_SKIP() << "no fixtures under " << NEUTRON_FIXTURES_DIR << " (see fixtures/README.md)";
  for (const std::string& p : paths) {
    SCOPED_TRACE(p);
    auto r = import_onnx_file(p);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const Graph& g = r.value();
    ASSERT_EQ(g.inputs.size(), 1u);
    EXPECT_EQ(g.tensor(g.inputs[0]).dtype, DType::F32);
    // Images [1, C, H, W]; the vocoder's mel and the keyword spotters' frames are rank 3.
    EXPECT_GE(g.tensor(g.inputs[0]).shape.size(), 3u);
    EXPECT_LE(g.tensor(g.inputs[0]).shape.size(), 4u);
    ASSERT_EQ(g.outputs.size(), 1u);
    const bool int8 = p.find("int8") != std::string::npos;
    int quantize = 0;
    for (NodeId id : g.live_nodes()) {
      const Node& n = g.node(id);
      // Folding leaves no exporter plumbing behind: no Cast, no Identity, no shape arithmetic.
      EXPECT_NE(n.kind, OpKind::Cast) << describe(g, id);
      EXPECT_NE(n.kind, OpKind::Identity) << describe(g, id);
      for (TensorId in : n.inputs) {
        if (in == kNoTensor) continue;
        const Tensor& t = g.tensor(in);
        const bool gather_indices = n.kind == OpKind::Gather && in == n.inputs[1];  // y[:, -1]
        if (t.is_constant() && t.dtype == DType::I64 && !gather_indices)
          ADD_FAILURE() << describe(g, id) << " reads an i64 constant";
      }
      if (n.kind == OpKind::QuantizeLinear) {
        ++quantize;
        const Tensor& y = g.tensor(n.outputs[0]);
        EXPECT_EQ(y.dtype, DType::U8) << describe(g, id);
        EXPECT_FALSE(y.quant.per_axis()) << describe(g, id);
      }
      if ((n.kind == OpKind::Conv || n.kind == OpKind::Gemm) && int8) {
        // weights: DequantizeLinear of an i8 constant with per-output-channel scales on axis 0
        const Tensor& w = g.tensor(n.inputs[1]);
        ASSERT_GE(w.producer, 0) << describe(g, id);
        const Node& dq = g.node(w.producer);
        EXPECT_EQ(dq.kind, OpKind::DequantizeLinear) << describe(g, id);
        const Tensor& q = g.tensor(dq.inputs[0]);
        EXPECT_TRUE(q.is_constant());
        EXPECT_EQ(q.dtype, DType::I8);
        EXPECT_EQ(q.quant.axis, 0);
        EXPECT_EQ(int64_t(q.quant.scale.size()), q.shape[0]);
      }
    }
    EXPECT_EQ(quantize > 0, int8);
  }
}

}  // namespace
}  // namespace neutron
