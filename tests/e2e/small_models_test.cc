// End-to-end: the small fixture models, float and int8, against PyTorch and the exact QDQ reference.
#include "e2e/fixture_models.h"

namespace neutron::testing {
namespace {

TEST(CifarNet, FloatMatchesTorch) { check_float_model("cifarnet"); }
TEST(CifarNet, Int8MatchesTorchAsWellAsExactQdq) {
  Int8Result r = check_int8_model("cifarnet");
  EXPECT_LE(r.vs_torch.frac_over_2, 0.01) << "more than 1% of elements over 2 steps from torch int8";
}

TEST(FashionMnistCnn, FloatMatchesTorch) { check_float_model("fmnist_cnn"); }
TEST(FashionMnistCnn, Int8MatchesTorchAsWellAsExactQdq) {
  Int8Result r = check_int8_model("fmnist_cnn");
  EXPECT_LE(r.vs_torch.frac_over_2, 0.01) << "more than 1% of elements over 2 steps from torch int8";
}

TEST(MobileNetV1_025, FloatMatchesTorch) { check_float_model("mobilenet_v1_025"); }
TEST(MobileNetV1_025, Int8MatchesTorchAsWellAsExactQdq) { check_int8_model("mobilenet_v1_025"); }

}  // namespace
}  // namespace neutron::testing
