// The post-training quantizer on real models: structure of the QDQ graph and accuracy.
#include "quantize/quantizer.h"

#include <gtest/gtest.h>

#include "ir/printer.h"
#include "ir/verifier.h"
#include "util/fixtures.h"

namespace neutron::testing {
namespace {

int count_kind(const Graph& g, OpKind k) {
  int n = 0;
  for (NodeId id : g.live_nodes()) n += g.node(id).kind == k;
  return n;
}

// Fashion-MNIST test images [first, first + n) as a float calibration array [n, 1, 28, 28].
TensorData fmnist_images(int64_t first, int64_t n) {
  TensorData u8 = load_npy_or_die(fixture_path("fmnist_cnn", "test_images_u8.npy"));
  TensorData f(DType::F32, {n, 1, 28, 28});
  for (int64_t i = 0; i < n * 784; ++i) f.data<float>()[i] = float(u8.data<uint8_t>()[first * 784 + i]) / 255.0f;
  return f;
}

StatusOr<CalibrationSet> calibration_from(const Graph& g, TensorData samples) {
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({"memory", std::move(samples)});
  return make_calibration_set(model_inputs(g), std::move(arrays));
}

Graph import_or_die(const std::string& path) {
  auto g = import_onnx_file(path);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return g.ok() ? std::move(g).value() : Graph();
}

TEST(Quantizer, FashionMnistQdqGraphFoldsToInt8AndKeepsAccuracy) {
  Graph fg = import_or_die(fixture_path("fmnist_cnn", "model_f32.onnx"));
  auto calib = calibration_from(fg, fmnist_images(0, 200));
  ASSERT_TRUE(calib.ok()) << calib.status().to_string();
  QuantizeReport report;
  auto qg = quantize_graph(fg, calib.value(), QuantizeOptions(), &report);
  ASSERT_TRUE(qg.ok()) << qg.status().to_string();
  ASSERT_TRUE(verify_graph(qg.value()).ok());
  EXPECT_TRUE(report.float_nodes.empty());
  // Conv -> Relu share one boundary: the convs' outputs are not quantized themselves.
  EXPECT_EQ(count_kind(qg.value(), OpKind::Conv), 2);
  Graph cpu = qg.value();
  ASSERT_TRUE(run_passes(cpu, cpu_pipeline()).ok());
  for (NodeId id : cpu.live_nodes()) {
    const Node& n = cpu.node(id);
    if (n.kind == OpKind::Conv || n.kind == OpKind::Gemm || n.kind == OpKind::MaxPool) {
      EXPECT_EQ(cpu.tensor(n.inputs[0]).dtype, DType::I8) << describe(cpu, id) << " should run in int8\n"
                                                          << print_graph(cpu);
    }
  }
  // Accuracy on 2,000 test images (all 10,000 are in the accuracy report): int8 within 0.5 points.
  auto fex = Executor::create([&] {
    Graph f = fg;
    EXPECT_TRUE(run_passes(f, cpu_pipeline()).ok());
    return f;
  }());
  auto qex = Executor::create(cpu);
  ASSERT_TRUE(fex.ok() && qex.ok());
  TensorData labels = load_npy_or_die(fixture_path("fmnist_cnn", "test_labels.npy"));
  const int64_t n = 2000;
  TensorData all = fmnist_images(0, n);
  int64_t float_correct = 0, int8_correct = 0;
  std::vector<TensorData> fo, qo;
  for (int64_t i = 0; i < n; ++i) {
    TensorData x = sample(all, i);
    ASSERT_TRUE(fex.value()->run({x}, &fo).ok());
    ASSERT_TRUE(qex.value()->run({x}, &qo).ok());
    auto argmax = [](const TensorData& t) {
      const float* p = t.data<float>();
      return int64_t(std::max_element(p, p + 10) - p);
    };
    float_correct += argmax(fo[0]) == labels.get_as_int(i);
    int8_correct += argmax(qo[0]) == labels.get_as_int(i);
  }
  std::printf("Fashion-MNIST (%lld images): float %lld, our int8 %lld correct\n", (long long)n, (long long)float_correct, (long long)int8_correct);
  EXPECT_GE(int8_correct, float_correct - n / 200) << "int8 accuracy more than 0.5 points below float";
}

TEST(Quantizer, RejectsAnAlreadyQuantizedModel) {
  Graph g = import_or_die(fixture_path("fmnist_cnn", "model_int8.onnx"));
  auto calib = calibration_from(g, fmnist_images(0, 2));
  ASSERT_TRUE(calib.ok());
  auto q = quantize_graph(g, calib.value(), QuantizeOptions());
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("already quantized"), std::string::npos);
}

TEST(Quantizer, RejectsNonFiniteWeightsNamingTheTensor) {
  Graph g = import_or_die(fixture_path("fmnist_cnn", "model_f32.onnx"));
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    Tensor& t = g.tensor(TensorId(i));
    if (t.is_constant() && t.dtype == DType::F32 && t.shape.size() == 4) {
      TensorData d = *t.data;
      d.data<float>()[3] = std::nanf("");
      t.data = std::make_shared<const TensorData>(std::move(d));
      auto calib = calibration_from(g, fmnist_images(0, 2));
      ASSERT_TRUE(calib.ok());
      auto q = quantize_graph(g, calib.value(), QuantizeOptions());
      ASSERT_FALSE(q.ok());
      EXPECT_NE(q.status().message().find(t.name), std::string::npos) << q.status().to_string();
      EXPECT_NE(q.status().message().find("NaN"), std::string::npos);
      return;
    }
  }
  FAIL() << "no 4-D weight found";
}

}  // namespace
}  // namespace neutron::testing
