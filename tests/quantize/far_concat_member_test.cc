// Concat inputs whose observed range is far from the others keep their own parameters (requantized
// on their branch), and every group is checked against the ranges its members were observed in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include "passes/passes.h"
#include "passes/pipeline.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/qdq_params_util.h"
#include "quantize/quantizer.h"
#include "util/single_op.h"

namespace neutron::testing {
namespace {

TensorData normal_samples(int64_t n, int64_t width, uint32_t seed) {
  TensorData samples(DType::F32, {n, 1, width});
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t i = 0; i < samples.count(); ++i) samples.data<float>()[i] = nd(rng);
  return samples;
}



double sqnr_db(const std::vector<double>& want, const std::vector<double>& got) {
  double s = 0, e = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    s += want[i] * want[i];
    e += (want[i] - got[i]) * (want[i] - got[i]);
  }
  return 10 * std::log10(s / std::max(e, 1e-30));
}

Graph wide_and_narrow(float wide_gain, float narrow_gain, std::string* narrow_name, std::string* cat_name) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId wide = b.op(OpKind::Mul, {x, b.constant("gw", {1}, {wide_gain})});
  const TensorId narrow = b.op(OpKind::Mul, {x, b.constant("gn", {1}, {narrow_gain})});
  Attributes cat;
  cat.set("axis", int64_t(1));
  const TensorId y = b.op(OpKind::Concat, {wide, narrow}, cat);
  const TensorId z = b.op(OpKind::Relu, {narrow});  // a second reader of the narrow branch
  Graph g = b.finish({y, z});
  *narrow_name = g.tensor(narrow).name;
  *cat_name = g.tensor(y).name;
  return g;
}

TEST(FarConcatMember, NarrowBranchGetsItsOwnParameters) {
  std::string narrow, cat;
  const Graph g = wide_and_narrow(100.0f, 0.01f, &narrow, &cat);
  const TensorData samples = normal_samples(32, 8, 5);
  QuantizeReport report;
  auto q = quantize(g, samples, &report);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  ASSERT_EQ(report.own_params, std::vector<std::string>{narrow});
  EXPECT_TRUE(report.clamped_members.empty());
  const auto pn = params_of(q.value(), narrow), pc = params_of(q.value(), cat);
  ASSERT_TRUE(pn && pc);
  EXPECT_LT(pn->scale[0] * 1000, pc->scale[0]) << "two parameter sets, the narrow one much finer";

  // The narrow branch (read by the Relu) in int8 against float, and against what sharing the
  // Concat's parameters would give it.
  Graph folded = q.value();
  ASSERT_TRUE(run_passes(folded, cpu_pipeline()).ok());
  std::vector<double> want, got, shared;
  for (int s = 0; s < 32; ++s) {
    TensorData in(DType::F32, {1, 8});
    std::copy_n(samples.data<float>() + s * 8, 8, in.data<float>());
    auto out = run_graph(folded, {in});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    for (int i = 0; i < 8; ++i) {
      const double w = std::max(0.0f, in.data<float>()[i] * 0.01f);
      want.push_back(w);
      got.push_back(out.value()[1].data<float>()[i]);
      const double s_c = pc->scale[0];
      const double qv = std::clamp(std::nearbyint(w / s_c) + pc->zero_point[0], -128.0, 127.0);
      shared.push_back((qv - pc->zero_point[0]) * s_c);
    }
  }
  const double own = sqnr_db(want, got), forced = sqnr_db(want, shared);
  EXPECT_GT(own, 30.0);
  EXPECT_GT(own, forced + 6.0) << "own " << own << " dB, shared " << forced << " dB";
  RecordProperty("narrow_sqnr_own_db", std::to_string(own));
  RecordProperty("narrow_sqnr_shared_db", std::to_string(forced));
}

TEST(FarConcatMember, CloseRangesStillShare) {
  std::string narrow, cat;
  const Graph g = wide_and_narrow(1.0f, 0.5f, &narrow, &cat);
  QuantizeReport report;
  auto q = quantize(g, normal_samples(16, 8, 6), &report);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(report.own_params.empty());
  EXPECT_TRUE(report.clamped_members.empty());
  EXPECT_EQ(params_of(q.value(), narrow), params_of(q.value(), cat));
}

}  // namespace
}  // namespace neutron::testing
