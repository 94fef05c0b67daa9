// Samples along a leading axis from the outside (issue 14 deliverable 3, issue 18 deliverable 4):
// `run MODEL.onnx` and `run PROGRAM.nprg` take several samples and run them in parallel with
// --threads N, byte for byte as with one thread and as one sample at a time; `run --labels` and
// `compare` measure accuracy on programs (simulated NPU or --target cpu); `compile -i` takes
// quantize's options and saves the quantized model it compiled.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/npy.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::run_cli;

constexpr int kSamples = 7;  // not a multiple of the thread counts below

const std::string& temp_dir() {
  static const std::string dir = testing::make_temp_dir("neutron_sample_axis_test");
  return dir;
}

std::string fixture(const std::string& model, const std::string& file) {
  return std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/" + file;
}

std::string tmp(const std::string& name) { return temp_dir() + "/" + name; }

// The first `n` samples of the fixture's inputs as one file.
std::string write_inputs(const std::string& model, int n) {
  auto x = read_npy(fixture(model, "inputs.npy"));
  EXPECT_TRUE(x.ok()) << x.status().to_string();
  if (!x.ok()) return "";
  Shape s = x->shape;
  s[0] = n;
  TensorData all(x->dtype, s);
  std::memcpy(all.bytes.data(), x->bytes.data(), all.bytes.size());
  const std::string path = tmp(model + "_inputs.npy");
  EXPECT_TRUE(write_npy(path, all).ok());
  return path;
}

// Sample k of the fixture's inputs alone ([1, ...]).
std::string write_sample(const std::string& model, int k) {
  auto x = read_npy(fixture(model, "inputs.npy"));
  EXPECT_TRUE(x.ok());
  if (!x.ok()) return "";
  Shape s = x->shape;
  s[0] = 1;
  TensorData one(x->dtype, s);
  std::memcpy(one.bytes.data(), x->bytes.data() + size_t(k) * one.bytes.size(), one.bytes.size());
  const std::string path = tmp(model + "_sample_" + std::to_string(k) + ".npy");
  EXPECT_TRUE(write_npy(path, one).ok());
  return path;
}

TensorData run_outputs(const std::string& args, const std::string& dir) {
  const CommandResult r = run_cli("run " + args + " -o " + dir);
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
  EXPECT_FALSE(r.crashed);
  auto y = read_npy(dir + "/output_0.npy");
  EXPECT_TRUE(y.ok()) << y.status().to_string();
  return y.ok() ? std::move(y).value() : TensorData();
}

std::string compile(const std::string& model, const std::string& target) {
  const std::string prog = tmp(model + "_" + target + ".nprg");
  const CommandResult r = run_cli("compile " + fixture(model, "model_int8.onnx") + " --target " + target + " -o " + prog);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return prog;
}

class SampleAxisThreadsCli : public ::testing::TestWithParam<const char*> {};

TEST_P(SampleAxisThreadsCli, OnnxAndProgramSamplesInParallelEqualOneThreadAndOneByOne) {
  const std::string model = GetParam();
  const std::string in = write_inputs(model, kSamples);
  const std::string onnx = fixture(model, "model_int8.onnx");

  // One sample at a time, stacked: what the leading axis must give.
  TensorData want;
  for (int k = 0; k < kSamples; ++k) {
    const TensorData y = run_outputs(onnx + " -i " + write_sample(model, k), tmp(model + "_one_" + std::to_string(k)));
    ASSERT_FALSE(y.shape.empty());
    if (k == 0) {
      Shape s = y.shape;
      s[0] = kSamples;
      want = TensorData(y.dtype, s);
    }
    std::memcpy(want.bytes.data() + size_t(k) * y.bytes.size(), y.bytes.data(), y.bytes.size());
  }

  const std::string npu = compile(model, "imxrt700"), cpu = compile(model, "cpu");
  for (const std::string& m : {onnx, npu, cpu}) {
    for (int threads : {1, 3, 8}) {
      const std::string json = tmp(model + "_t" + std::to_string(threads) + ".json");
      const std::string dir = tmp(model + "_out_" + std::to_string(&m - &onnx) + "_" + std::to_string(threads));
      std::remove(json.c_str());
      const TensorData got = run_outputs(m + " -i " + in + " --threads " + std::to_string(threads) + " --json " + json, dir);
      EXPECT_EQ(got.shape, want.shape) << m << " --threads " << threads;
      EXPECT_TRUE(got.bytes == want.bytes) << m << " --threads " << threads << ": outputs differ";
      auto j = parse_json(testing::read_file(json), json);
      ASSERT_TRUE(j.ok()) << j.status().to_string();
      EXPECT_EQ(j->find("samples")->as_int(), kSamples);
      EXPECT_EQ(j->find("threads")->as_int(), std::min(threads, kSamples));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SampleAxisThreadsCli, ::testing::Values("cifarnet", "fmnist_cnn"),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

// Labels from the ONNX model's own predictions: every run of the same bytes scores 100%.
std::string write_predicted_labels(const std::string& model, const std::string& in) {
  const TensorData y = run_outputs(fixture(model, "model_int8.onnx") + " -i " + in, tmp(model + "_pred"));
  const int64_t n = y.shape.empty() ? 0 : y.shape[0], classes = n ? int64_t(y.count()) / n : 0;
  TensorData labels(DType::I64, {n});
  const auto at = [&](int64_t i) {
    return y.dtype == DType::F32 ? double(reinterpret_cast<const float*>(y.bytes.data())[i]) : double(y.get_as_int(i));
  };
  for (int64_t s = 0; s < n; ++s) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (at(s * classes + c) > at(s * classes + best)) best = c;
    reinterpret_cast<int64_t*>(labels.bytes.data())[s] = best;
  }
  const std::string path = tmp(model + "_labels.npy");
  EXPECT_TRUE(write_npy(path, labels).ok());
  return path;
}

TEST(SampleAxisCli, RunLabelsMeasureOnnxAndProgramAccuracy) {
  const std::string model = "fmnist_cnn";
  const std::string in = write_inputs(model, kSamples), labels = write_predicted_labels(model, in);
  const std::string npu = compile(model, "imxrt700");
  for (const std::string& args : {fixture(model, "model_int8.onnx"), npu, npu + " --target cpu"}) {
    const std::string json = tmp("labels.json");
    std::remove(json.c_str());
    const CommandResult r = run_cli("run " + args + " -i " + in + " --labels " + labels + " --threads 2 --json " + json);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("accuracy: 100.00% top-1 (7 of 7"), std::string::npos) << r.output;
    auto j = parse_json(testing::read_file(json), json);
    ASSERT_TRUE(j.ok()) << j.status().to_string();
    EXPECT_EQ(j->find("accuracy")->find("top1")->as_number(), 1.0);
    EXPECT_EQ(j->find("accuracy")->find("correct")->as_int(), kSamples);
  }
  // Labels that do not match the samples: a failure naming the file.
  TensorData few(DType::I64, {3});
  const std::string bad = tmp("few_labels.npy");
  ASSERT_TRUE(write_npy(bad, few).ok());
  CommandResult r = run_cli("run " + npu + " -i " + in + " --labels " + bad);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(bad), std::string::npos) << r.output;
  // --repeat times one sample.
  r = run_cli("run " + fixture(model, "model_int8.onnx") + " -i " + in + " --repeat 2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("usage:"), std::string::npos) << r.output;
}

TEST(SampleAxisCli, CompareTakesPrograms) {
  const std::string model = "cifarnet";
  const std::string in = write_inputs(model, kSamples), onnx = fixture(model, "model_int8.onnx");
  const std::string npu = compile(model, "imxrt700");
  for (const std::string& extra : {std::string(), std::string(" --target cpu")}) {
    const std::string json = tmp("compare.json");
    std::remove(json.c_str());
    const CommandResult r = run_cli("compare " + onnx + " " + npu + " -i " + in + " --threads 2 --json " + json + extra);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto j = parse_json(testing::read_file(json), json);
    ASSERT_TRUE(j.ok()) << j.status().to_string();
    EXPECT_EQ(j->find("samples")->as_int(), kSamples);
    const JsonValue& o = j->find("outputs")->as_array().at(0);
    EXPECT_EQ(o.find("max_abs_error")->as_number(), 0.0) << "the program is bit-exact with the QDQ model";
    EXPECT_EQ(o.find("top1_agreement")->as_number(), 1.0);
  }
  // --target cpu is for programs.
  const CommandResult r = run_cli("compare " + onnx + " " + onnx + " -i " + in + " --target cpu");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  // A damaged program: exit 1 naming it.
  const std::string bad = tmp("bad.nprg");
  { std::FILE* f = std::fopen(bad.c_str(), "wb"); std::fputs("not a program at all", f); std::fclose(f); }
  const CommandResult rb = run_cli("compare " + onnx + " " + bad + " -i " + in);
  EXPECT_EQ(rb.exit_code, 1) << rb.output;
  EXPECT_NE(rb.output.find(bad), std::string::npos) << rb.output;
  EXPECT_FALSE(rb.crashed);
}

TEST(SampleAxisCli, CompileTakesQuantizeOptionsAndSavesTheQuantizedModel) {
  const std::string model = "fmnist_cnn";
  const std::string in = write_inputs(model, kSamples), f32 = fixture(model, "model_f32.onnx");
  const std::string opts = " --observer percentile --percentile 99.9 --bias-correction off --threads 2";
  const std::string saved = tmp("compiled_q.onnx"), quantized = tmp("quantized_q.onnx");
  CommandResult r = run_cli("compile " + f32 + " --target imxrt700 -i " + in + opts + " -o " + tmp("q.nprg") +
                            " --save-quantized " + saved);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_cli("quantize " + f32 + " -i " + in + opts + " -o " + quantized);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string a = testing::read_file(saved), b = testing::read_file(quantized);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "compile -i and quantize with the same options give the same model";
  // Another observer gives another model: the options are used.
  r = run_cli("compile " + f32 + " --target cpu -i " + in + " --observer minmax -o " + tmp("q2.nprg") +
              " --save-quantized " + tmp("compiled_minmax.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(testing::read_file(tmp("compiled_minmax.onnx")) == a);

  // Usage errors: exit 2 and the usage.
  for (const std::string& args :
       {"compile " + f32 + " --target cpu -o " + tmp("x.nprg") + " --save-quantized " + tmp("x.onnx"),
        "compile " + f32 + " --target cpu -i " + in + " -o " + tmp("x.nprg") + " --percentile 99",
        "compile " + f32 + " --target cpu -i " + in + " -o " + tmp("x.nprg") + " --observer median",
        "compile " + f32 + " --target cpu -i " + in + " -o " + tmp("x.nprg") + " --save-quantized " + f32,
        "compile " + fixture(model, "model_int8.onnx") + " --target cpu -i " + in + " -o " + tmp("x.nprg") +
            " --save-quantized " + tmp("x.onnx")}) {
    const CommandResult u = run_cli(args);
    EXPECT_EQ(u.exit_code, 2) << args << "\n" << u.output;
    EXPECT_NE(u.output.find("usage:"), std::string::npos) << args << "\n" << u.output;
  }
}

}  // namespace
}  // namespace neutron
