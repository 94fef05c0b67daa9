// neutron run --repeat/--warmup (latency in --json) and --threads for run, compare and quantize.
#include <gtest/gtest.h>

#include "core/json.h"

#include <cstdlib>
#include <string>

#include "core/npy.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::read_file;
using testing::run_cli;

std::string temp_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/neutron_speed_cli_testXXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

std::string fixture(const std::string& rel) { return std::string(NEUTRON_FIXTURES_DIR) + "/" + rel; }

std::string zero_input() {
  const std::string path = temp_dir() + "/x.npy";
  EXPECT_TRUE(write_npy(path, TensorData(DType::F32, Shape{1, 3, 32, 32})).ok());
  return path;
}

TEST(SpeedCli, RepeatReportsMedianAndMinLatency) {
  const std::string json = temp_dir() + "/run.json";
  CommandResult r =
      run_cli("run " + fixture("cifarnet/model_int8.onnx") + " -i " + zero_input() + " --repeat 5 --warmup 2 --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("median"), std::string::npos) << r.output;
  const std::string j = read_file(json);
  auto v = parse_json(j, json);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  const JsonValue* lat = v->find("latency_ms");
  ASSERT_TRUE(lat && lat->is_object()) << j;
  EXPECT_GT(lat->find("median")->as_number(), 0.0) << j;
  EXPECT_LE(lat->find("min")->as_number(), lat->find("median")->as_number()) << j;
  EXPECT_EQ(lat->find("repeat")->as_int(), 5) << j;
}

TEST(SpeedCli, BadCountsAreUsageErrors) {
  const std::string m = fixture("cifarnet/model_int8.onnx"), x = zero_input();
  for (const char* bad : {"--threads 0", "--threads -2", "--threads x", "--repeat 0", "--warmup -1"}) {
    CommandResult r = run_cli("run " + m + " -i " + x + " " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
  }
  CommandResult r = run_cli("compare " + m + " " + m + " --inputs " + x + " --threads 0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  for (const char* bad : {"--threads 0", "--threads -1", "--threads 2x"}) {
    r = run_cli("quantize " + fixture("cifarnet/model_f32.onnx") + " --calib " + x + " -o " + temp_dir() +
                "/never.onnx " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
  }
}

// Calibration samples run in parallel but feed the observers in sample order: the same bytes.
TEST(SpeedCli, QuantizeWritesTheSameModelOnAnyThreadCount) {
  const std::string model = fixture("mobilenet_v1_025/model_f32.onnx"), calib = fixture("mobilenet_v1_025/inputs.npy");
  for (const char* observer : {"histogram", "minmax"}) {
    std::string first;
    for (int threads : {1, 2, 3}) {
      const std::string out = temp_dir() + "/q" + observer + std::to_string(threads) + ".onnx";
      CommandResult r = run_cli("quantize " + model + " --calib " + calib + " -o " + out + " --observer " + observer +
                                " --threads " + std::to_string(threads));
      ASSERT_EQ(r.exit_code, 0) << r.output;
      const std::string bytes = read_file(out);
      ASSERT_FALSE(bytes.empty());
      if (first.empty())
        first = bytes;
      else
        EXPECT_TRUE(bytes == first) << observer << " --threads " << threads << " wrote different bytes";
    }
  }
}

TEST(SpeedCli, CompareIsTheSameOnAnyThreadCount) {
  const std::string ref = fixture("mobilenet_v1_025/model_f32.onnx"), test = fixture("mobilenet_v1_025/model_int8.onnx");
  const std::string in = fixture("mobilenet_v1_025/inputs.npy");
  std::string first;
  for (int threads : {1, 2, 3}) {
    const std::string json = temp_dir() + "/cmp" + std::to_string(threads) + ".json";
    CommandResult r = run_cli("compare " + ref + " " + test + " --inputs " + in + " --threads " +
                              std::to_string(threads) + " --json " + json);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string j = read_file(json);
    if (first.empty())
      first = j;
    else
      EXPECT_EQ(j, first) << "--threads " << threads;
  }
}

}  // namespace
}  // namespace neutron
