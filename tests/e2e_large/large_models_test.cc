// End-to-end on the large fixtures (ResNet-18, MobileNetV2 at 224x224) and the Fashion-MNIST
// accuracy over all 10,000 test images.
#include <numeric>

#include "e2e/fixture_models.h"

namespace neutron::testing {
namespace {

TEST(MobileNetV2, FloatMatchesTorch) { check_float_model("mobilenet_v2"); }
TEST(MobileNetV2, Int8MatchesTorchAsWellAsExactQdq) { check_int8_model("mobilenet_v2"); }
TEST(ResNet18, FloatMatchesTorch) { check_float_model("resnet18"); }
TEST(ResNet18, Int8MatchesTorchAsWellAsExactQdq) { check_int8_model("resnet18"); }

// The int8 model's accuracy over the whole test set equals torch int8's within 0.1 points.
TEST(FashionMnistCnn, Int8AccuracyOnTheFullTestSetMatchesTorch) {
  auto ex = load_model(fixture_path("fmnist_cnn", "model_int8.onnx"));
  ASSERT_TRUE(ex);
  TensorData images = load_npy_or_die(fixture_path("fmnist_cnn", "test_images_u8.npy"));
  TensorData labels = load_npy_or_die(fixture_path("fmnist_cnn", "test_labels.npy"));
  TensorData torch_pred = load_npy_or_die(fixture_path("fmnist_cnn", "pred_int8_torch.npy"));
  ASSERT_EQ(images.shape, (Shape{10000, 1, 28, 28}));
  TensorData x(DType::F32, {1, 1, 28, 28});
  int64_t ours_correct = 0, torch_correct = 0, agree = 0;
  std::vector<TensorData> outs;
  for (int64_t i = 0; i < 10000; ++i) {
    const uint8_t* px = images.data<uint8_t>() + i * 784;
    for (int j = 0; j < 784; ++j) x.data<float>()[j] = float(px[j]) / 255.0f;
    ASSERT_TRUE(ex->run({x}, &outs).ok());
    const float* logits = outs[0].data<float>();
    int64_t pred = std::max_element(logits, logits + 10) - logits;
    int64_t label = labels.get_as_int(i), tp = torch_pred.get_as_int(i);
    ours_correct += pred == label;
    torch_correct += tp == label;
    agree += pred == tp;
  }
  const double ours = ours_correct / 100.0, torch = torch_correct / 100.0;
  std::printf("Fashion-MNIST int8 accuracy: ours %.2f%%, torch %.2f%%, argmax agreement %.2f%%\n", ours, torch,
              agree / 100.0);
  EXPECT_LE(std::fabs(ours - torch), 0.1);
}

}  // namespace
}  // namespace neutron::testing
