// HistogramObserver and MinMaxObserver against torch's observers on fixed datasets
// (tests/quantize/golden/, written by scripts/observer_golden.py under torch 1.13).
#include <gtest/gtest.h>

#include <cmath>

#include "core/npy.h"
#include "quantize/observers.h"
#include "test_util.h"

namespace neutron {
namespace {

using testing::golden_dir;
using testing::Json;

const Json& golden() {
  static const Json j = testing::load_json_or_die(golden_dir() + "/observers.json");
  return j;
}

TensorData dataset(const std::string& name) {
  auto t = read_npy(golden_dir() + "/" + name + ".npy");
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return t.ok() ? std::move(t).value() : TensorData();
}

// Feeds each row of a [updates, values] dataset to the observer as one update.
void feed(Observer* o, const TensorData& d) {
  ASSERT_EQ(d.shape.size(), 2u);
  for (int64_t r = 0; r < d.shape[0]; ++r) o->update(d.data<float>() + r * d.shape[1], size_t(d.shape[1]));
}

// Float results are compared to a few float32 ulps of the range's magnitude: the C++ code mirrors
// torch's float32 arithmetic, except that torch sums the error estimate in float32 with its own
// summation order (a tie in that comparison could in principle differ; none does here).
double tolerance(float a, float b) { return 4e-7 * std::max({1.0f, std::fabs(a), std::fabs(b)}); }

TEST(HistogramGolden, PicksTorchsRangeAndQParams) {
  const Json& records = golden()["histogram"];
  ASSERT_GT(records.size(), 0u);
  int compared = 0, bit_exact = 0;
  for (const Json& rec : records.array) {
    const std::string name = rec["dataset"].string, flavor = rec["flavor"].string;
    SCOPED_TRACE("dataset " + name + ", flavor " + flavor);
    HistogramObserver::Options opt;
    opt.flavor = flavor == "torch113" ? HistogramObserver::Flavor::kTorch113 : HistogramObserver::Flavor::kFloatRange;
    HistogramObserver obs(opt);
    feed(&obs, dataset(name));

    // The histogram itself: its range and total count.
    const ValueRange hr = obs.histogram_range();
    EXPECT_NEAR(hr.min, rec["hist_min"].f(), tolerance(hr.min, rec["hist_min"].f()));
    EXPECT_NEAR(hr.max, rec["hist_max"].f(), tolerance(hr.max, rec["hist_max"].f()));
    double total = 0;
    for (float h : obs.histogram()) total += h;
    EXPECT_NEAR(total, rec["hist_total"].number, 1e-3 * std::max(1.0, rec["hist_total"].number) * 1e-3);

    // The searched range, and the quantization parameters from it.
    const ValueRange r = obs.range();
    EXPECT_NEAR(r.min, rec["min"].f(), tolerance(r.min, rec["min"].f()));
    EXPECT_NEAR(r.max, rec["max"].f(), tolerance(r.max, rec["max"].f()));
    const QuantParams q = obs.qparams(QuantSpec::int8_activation());
    ASSERT_EQ(q.scale.size(), 1u);
    EXPECT_NEAR(q.scale[0], rec["scale"].f(), 1e-6 * rec["scale"].f());
    EXPECT_EQ(q.zero_point[0], rec["zero_point"].i());
    ++compared;
    bit_exact += r.min == rec["min"].f() && r.max == rec["max"].f() && q.scale[0] == rec["scale"].f();
  }
  std::printf("compared %d histogram records from %s, %d bit-exact\n", compared, golden_dir().c_str(), bit_exact);
}

TEST(HistogramGolden, MinMaxMatchesTorch) {
  for (const Json& rec : golden()["minmax"].array) {
    SCOPED_TRACE("dataset " + rec["dataset"].string);
    MinMaxObserver obs;
    feed(&obs, dataset(rec["dataset"].string));
    EXPECT_EQ(obs.range().min, rec["min"].f());
    EXPECT_EQ(obs.range().max, rec["max"].f());
  }
}

TEST(HistogramGolden, PerChannelSymmetricMatchesTorch) {
  const Json& records = golden()["per_channel"];
  if (records.kind == Json::kNull) GTEST_SKIP() << "no per_channel records (fuzz golden dir)";
  for (const Json& rec : records.array) {
    SCOPED_TRACE("axis " + std::to_string(rec["axis"].i()));
    auto w = read_npy(golden_dir() + "/" + rec["file"].string);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    PerChannelMinMaxObserver obs(rec["axis"].i());
    ASSERT_TRUE(obs.update(*w).ok());
    const QuantParams q = obs.qparams(QuantSpec::int8_weight());
    ASSERT_EQ(q.scale.size(), rec["scale"].size());
    EXPECT_EQ(q.axis, rec["axis"].i());
    for (size_t c = 0; c < q.scale.size(); ++c) {
      EXPECT_EQ(obs.ranges()[c].min, rec["min"][c].f()) << "channel " << c;
      EXPECT_EQ(obs.ranges()[c].max, rec["max"][c].f()) << "channel " << c;
      EXPECT_EQ(q.scale[c], rec["scale"][c].f()) << "channel " << c;
      EXPECT_EQ(q.zero_point[c], rec["zero_point"][c].i()) << "channel " << c;
    }
  }
}

TEST(HistogramGolden, QParamsFormulaMatchesTorchBitForBit) {
  const Json& records = golden()["qparams"];
  if (records.kind == Json::kNull) GTEST_SKIP() << "no qparams records (fuzz golden dir)";
  const std::map<std::string, QuantSpec> specs = {
      {"act", QuantSpec::int8_activation()},
      {"weight", QuantSpec::int8_weight()},
      {"u8_default", {QScheme::kAffine, 0, 255, 1.1920928955078125e-07f}},
      {"u8_reduce_range", {QScheme::kAffine, 0, 127, 1.1920928955078125e-07f}},
      {"i8_symmetric", {QScheme::kSymmetric, -128, 127, 1.1920928955078125e-07f}},
  };
  ASSERT_GT(records.size(), 0u);
  for (const Json& rec : records.array) {
    const QuantSpec& spec = specs.at(rec["spec"].string);
    const ScaleZeroPoint s = compute_scale_zero_point(rec["min"].f(), rec["max"].f(), spec);
    EXPECT_EQ(s.scale, rec["scale"].f()) << rec["spec"].string << " [" << rec["min"].f() << ", " << rec["max"].f() << "]";
    EXPECT_EQ(s.zero_point, rec["zero_point"].i()) << rec["spec"].string << " [" << rec["min"].f() << ", "
                                                   << rec["max"].f() << "]";
  }
}

}  // namespace
}  // namespace neutron
