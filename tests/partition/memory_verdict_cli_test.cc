// `neutron compile`'s memory verdict (issue 17): flash by section and SRAM against the target's
// sram_bytes, in text and JSON; a model above the SRAM fails with exit 1 and says by how much,
// --allow-oversize makes it a warning.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/json.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::read_file;
using testing::run_cli;

const std::string kFixtures = NEUTRON_FIXTURES_DIR;

std::string dir() {
  static const std::string d = testing::make_temp_dir("neutron_memory_verdict_");
  return d;
}

// imxrt700 with `sram` bytes of SRAM.
std::string small_target(int64_t sram) {
  std::string t = read_file(kFixtures + "/../src/target/targets/imxrt700.json");
  const std::string key = "\"sram_bytes\": {\"value\": ";
  const size_t at = t.find(key) + key.size();
  t.replace(at, t.find(',', at) - at, std::to_string(sram));
  const std::string path = dir() + "/rt700_" + std::to_string(sram) + ".json";
  testing::write_file(path, t);
  return path;
}

int64_t at(const JsonValue& v, std::initializer_list<const char*> keys) {
  const JsonValue* x = &v;
  for (const char* k : keys) {
    x = x->find(k);
    if (x == nullptr) return -1;
  }
  return x->as_int();
}

TEST(MemoryVerdict, MobileNetV2FitsTheRt700AndTheSectionsAddUp) {
  const std::string json = dir() + "/mnv2.json";
  const CommandResult r = run_cli("compile " + kFixtures + "/mobilenet_v2/model_int8.onnx --target imxrt700 -o " +
                                  dir() + "/mnv2.nprg --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verdict: fits"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("of 7,864,320"), std::string::npos) << r.output;
  auto v = parse_json(read_file(json), json);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  const JsonValue& m = *v->find("memory");
  EXPECT_TRUE(m.find("fits")->as_bool());
  const int64_t flash = at(m, {"flash", "bytes"});
  EXPECT_EQ(flash, int64_t(std::ifstream(dir() + "/mnv2.nprg", std::ios::ate | std::ios::binary).tellg()));
  int64_t sum = 0;
  for (const char* s : {"npu_microcode", "npu_weights", "cpu_weights", "tables", "other"}) sum += at(m, {"flash", "sections", s});
  EXPECT_EQ(sum, flash);
  EXPECT_GT(at(m, {"flash", "sections", "npu_weights"}), 3000000);  // 3.5 M params, int8
  // SRAM: the arena (plan + small runtime state: no weight copies) plus the NPU weights, which the
  // NPU cannot read from flash without --fetch-constants-to-sram.
  EXPECT_EQ(at(m, {"sram", "limit_bytes"}), 7864320);
  EXPECT_EQ(at(m, {"sram", "arena_bytes"}), at(m, {"sram", "plan_bytes"}) + at(m, {"sram", "runtime_state_bytes"}));
  EXPECT_EQ(at(m, {"sram", "plan_bytes"}), at(*v, {"program", "arena_bytes"}));
  EXPECT_LE(at(m, {"sram", "runtime_state_bytes"}), at(m, {"sram", "plan_bytes"}) / 10);
  EXPECT_EQ(at(m, {"sram", "npu_weights_bytes"}), at(m, {"flash", "sections", "npu_weights"}));
  EXPECT_EQ(at(m, {"sram", "bytes"}), at(m, {"sram", "arena_bytes"}) + at(m, {"sram", "npu_weights_bytes"}));
  EXPECT_GT(at(m, {"host_only_bytes"}), 0);
  EXPECT_EQ(at(m, {"over_by_bytes"}), 0);
}

TEST(MemoryVerdict, TooBigFailsSayingByHowMuchAndAllowOversizeWarns) {
  const std::string target = small_target(65536);
  const std::string prog = dir() + "/cifar.nprg", json = dir() + "/cifar.json";
  const std::string cmd = "compile " + kFixtures + "/cifarnet/model_int8.onnx --target " + target + " -o " + prog +
                          " --json " + json;
  CommandResult r = run_cli(cmd);
  EXPECT_FALSE(r.crashed);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("does not fit imxrt700's SRAM"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("more than its 65,536 bytes"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--allow-oversize"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(prog).good()) << "no program for a model that does not fit";

  r = run_cli(cmd + " --allow-oversize");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("DOES NOT FIT"), std::string::npos) << r.output;
  EXPECT_TRUE(std::ifstream(prog).good());
  auto v = parse_json(read_file(json), json);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  const JsonValue& m = *v->find("memory");
  EXPECT_FALSE(m.find("fits")->as_bool());
  EXPECT_EQ(at(m, {"sram", "limit_bytes"}), 65536);
  EXPECT_EQ(at(m, {"over_by_bytes"}), at(m, {"sram", "bytes"}) - 65536);
  EXPECT_GT(at(m, {"over_by_bytes"}), 0);

  // One byte short for the weights resident in SRAM; prefetched from flash (--fetch-constants-to-sram)
  // they need only their SRAM copies in the plan, and the model fits.
  const std::string short_by_one = small_target(at(m, {"sram", "bytes"}) - 1);
  r = run_cli("compile " + kFixtures + "/cifarnet/model_int8.onnx --target " + short_by_one + " -o " + prog);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("1 bytes (0.0%) more than"), std::string::npos) << r.output;
  r = run_cli("compile " + kFixtures + "/cifarnet/model_int8.onnx --target " + short_by_one + " -o " + prog +
              " --fetch-constants-to-sram");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verdict: fits"), std::string::npos) << r.output;
}

TEST(MemoryVerdict, CpuTargetHasNoLimit) {
  const std::string json = dir() + "/cpu.json";
  const CommandResult r = run_cli("compile " + kFixtures + "/cifarnet/model_int8.onnx --target cpu -o " + dir() +
                                  "/cpu.nprg --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto v = parse_json(read_file(json), json);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  const JsonValue& m = *v->find("memory");
  EXPECT_TRUE(m.find("fits")->as_bool());
  EXPECT_TRUE(m.find("sram")->find("limit_bytes")->is_null());
  EXPECT_GT(at(m, {"flash", "sections", "cpu_weights"}), 50000);
  EXPECT_EQ(at(m, {"sram", "npu_weights_bytes"}), 0);
}

}  // namespace
}  // namespace neutron
