// Values that used to be accepted and give garbage (issue 13), from the outside: a Clip whose
// min is above its max, absurd target-file numbers. Exit 1 and one message naming the node, or
// the file and the field; never a result.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/npy.h"
#include "import/onnx_builder.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::OnnxBuilder;
using testing::run_cli;

const std::string& temp_dir() {
  static const std::string dir = testing::make_temp_dir("neutron_bad_values_cli_test");
  return dir;
}

// x -> Clip(min, max) -> y, float, or as a QDQ model (Q -> DQ -> Clip -> Q -> DQ).
std::string clip_model(const std::string& name, float lo, float hi, bool qdq) {
  OnnxBuilder b(13);
  b.input("x", testing::kFloat, {1, 4}).output("y");
  b.init("lo", TensorData::from<float>({}, {lo}));
  b.init("hi", TensorData::from<float>({}, {hi}));
  if (qdq) {
    b.init("s", TensorData::from<float>({}, {0.1f}));
    b.init("z", TensorData::from<int8_t>({}, {0}));
    b.node("QuantizeLinear", {"x", "s", "z"}, {"xq"}, "q_in");
    b.node("DequantizeLinear", {"xq", "s", "z"}, {"xd"}, "dq_in");
    b.node("Clip", {"xd", "lo", "hi"}, {"c"}, "the_clip");
    b.node("QuantizeLinear", {"c", "s", "z"}, {"cq"}, "q_out");
    b.node("DequantizeLinear", {"cq", "s", "z"}, {"y"}, "dq_out");
  } else {
    b.node("Clip", {"x", "lo", "hi"}, {"y"}, "the_clip");
  }
  const std::string path = temp_dir() + "/" + name;
  testing::write_file(path, b.bytes());
  return path;
}

TEST(BadValuesCli, ClipMinAboveMaxNamesTheNode) {
  const std::string x = temp_dir() + "/x.npy";
  ASSERT_TRUE(write_npy(x, TensorData::from<float>({1, 4}, {-10.0f, 0.5f, 3.0f, 10.0f})).ok());
  for (bool qdq : {false, true}) {
    const std::string model = clip_model(qdq ? "clip_int8.onnx" : "clip_f32.onnx", 6.0f, -5.0f, qdq);
    const CommandResult r = run_cli("run " + model + " -i " + x + " -o " + temp_dir() + "/out");
    EXPECT_FALSE(r.crashed) << r.output;
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("'the_clip'"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("min (6) is greater than max (-5)"), std::string::npos) << r.output;
    // The good model still runs.
    const std::string ok = clip_model(qdq ? "clip_ok_int8.onnx" : "clip_ok_f32.onnx", -5.0f, 6.0f, qdq);
    const CommandResult g = run_cli("run " + ok + " -i " + x + " -o " + temp_dir() + "/ok_out");
    EXPECT_EQ(g.exit_code, 0) << g.output;
  }
}

TEST(BadValuesCli, AbsurdTargetFileValuesNameFileAndField) {
  const std::string shipped = testing::read_file(std::string(NEUTRON_FIXTURES_DIR) + "/../src/target/targets/imxrt700.json");
  ASSERT_FALSE(shipped.empty());
  const std::string model = std::string(NEUTRON_FIXTURES_DIR) + "/cifarnet/model_int8.onnx";
  struct Case {
    const char* from;
    const char* to;
    const char* field;
  };
  const Case cases[] = {
      {"\"clock_mhz\": {\"value\": 325", "\"clock_mhz\": {\"value\": 9223372036854775808", "clock_mhz"},
      {"\"flash_bandwidth_mb_s\": {\"value\": 500", "\"flash_bandwidth_mb_s\": {\"value\": 1e-30", "flash_bandwidth_mb_s"},
      {"\"sram_bytes\": {\"value\": 7864320", "\"sram_bytes\": {\"value\": -1", "sram_bytes"},
      {"\"sim_vector_elements_per_cycle\": {\"value\": 8", "\"sim_vector_elements_per_cycle\": {\"value\": 1e300",
       "sim_vector_elements_per_cycle"},
  };
  int k = 0;
  for (const Case& c : cases) {
    std::string text = shipped;
    const size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, std::string(c.from).size(), c.to);
    const std::string target = temp_dir() + "/absurd" + std::to_string(k++) + ".json";
    testing::write_file(target, text);
    const CommandResult r =
        run_cli("compile " + model + " --target " + target + " -o " + temp_dir() + "/absurd.nprg");
    EXPECT_FALSE(r.crashed) << r.output;
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(target), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(std::string("\"") + c.field + "\""), std::string::npos) << r.output;
  }
  // Bandwidth 0 ("no flash") with the weights in flash is refused by the timing model.
  std::string text = shipped;
  const std::string from = "\"flash_bandwidth_mb_s\": {\"value\": 500";
  text.replace(text.find(from), from.size(), "\"flash_bandwidth_mb_s\": {\"value\": 0");
  const std::string target = temp_dir() + "/no_flash.json";
  testing::write_file(target, text);
  const CommandResult r = run_cli("compile " + model + " --target " + target + " -o " + temp_dir() + "/nf.nprg");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("flash_bandwidth_mb_s"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace neutron
