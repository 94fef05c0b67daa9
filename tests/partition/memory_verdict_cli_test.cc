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

void set_value(std::string* t, const std::string& field, int64_t value) {
  const std::string key = "\"" + field + "\": {\"value\": ";
  const size_t at = t->find(key) + key.size();
  t->replace(at, t->find(',', at) - at, std::to_string(value));
}

// imxrt700 with `sram` bytes of SRAM; weights_in_flash 0: the weights section lives in SRAM, so
// the compiler plans no weight streaming and the NPU reads its weights in place.
std::string small_target(int64_t sram, int weights_in_flash = 1) {
  std::string t = read_file(kFixtures + "/../src/target/targets/imxrt700.json");
  set_value(&t, "sram_bytes", sram);
  set_value(&t, "sim_weights_in_flash", weights_in_flash);
  const std::string path = dir() + "/rt700_" + std::to_string(sram) + "_" + std::to_string(weights_in_flash) + ".json";
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
  // SRAM: the arena (plan + small runtime state: no weight copies). The weights stay in flash: the
  // compiler streams them (Prefetch into an SRAM buffer that is part of the plan).
  EXPECT_EQ(at(m, {"sram", "limit_bytes"}), 7864320);
  EXPECT_EQ(at(m, {"sram", "arena_bytes"}), at(m, {"sram", "plan_bytes"}) + at(m, {"sram", "runtime_state_bytes"}));
  EXPECT_EQ(at(m, {"sram", "plan_bytes"}), at(*v, {"program", "arena_bytes"}));
  EXPECT_LE(at(m, {"sram", "runtime_state_bytes"}), at(m, {"sram", "plan_bytes"}) / 10);
  EXPECT_EQ(at(m, {"sram", "npu_weights_bytes"}), 0);
  EXPECT_EQ(at(m, {"sram", "bytes"}), at(m, {"sram", "arena_bytes"}));
  EXPECT_GT(at(m, {"host_only_bytes"}), 0);
  EXPECT_EQ(at(m, {"over_by_bytes"}), 0);

  // With the weights section in SRAM (no streaming) the NPU weights are resident on top of the arena.
  const std::string resident_json = dir() + "/mnv2_resident.json";
  const CommandResult rr = run_cli("compile " + kFixtures + "/mobilenet_v2/model_int8.onnx --target " +
                                   small_target(7864320, 0) + " -o " + dir() + "/mnv2_resident.nprg --json " +
                                   resident_json);
  ASSERT_EQ(rr.exit_code, 0) << rr.output;
  auto rv = parse_json(read_file(resident_json), resident_json);
  ASSERT_TRUE(rv.ok()) << rv.status().to_string();
  const JsonValue& rm = *rv->find("memory");
  EXPECT_EQ(at(rm, {"sram", "npu_weights_bytes"}), at(rm, {"flash", "sections", "npu_weights"}));
  EXPECT_GT(at(rm, {"sram", "npu_weights_bytes"}), 3000000);
  EXPECT_EQ(at(rm, {"sram", "bytes"}), at(rm, {"sram", "arena_bytes"}) + at(rm, {"sram", "npu_weights_bytes"}));
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

  // One byte short fails by exactly one byte; with the SRAM it needs it fits.
  const int64_t needed = at(m, {"sram", "bytes"});
  r = run_cli("compile " + kFixtures + "/cifarnet/model_int8.onnx --target " + small_target(needed - 1) + " -o " + prog);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("1 bytes (0.0%) more than"), std::string::npos) << r.output;
  r = run_cli("compile " + kFixtures + "/cifarnet/model_int8.onnx --target " + small_target(needed) + " -o " + prog);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verdict: fits"), std::string::npos) << r.output;
  // Weights resident in SRAM (no streaming) need more, and the message names them.
  r = run_cli("compile " + kFixtures + "/cifarnet/model_int8.onnx --target " + small_target(needed, 0) + " -o " + prog);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("NPU weights resident in SRAM"), std::string::npos) << r.output;
}

// --weights-sram-budget bounds the SRAM the NPU's weights may take per partition: the plan the
// listing shows is within it (one kernel ahead is always possible), and a bad size is a usage error.
TEST(MemoryVerdict, WeightsSramBudgetIsAFlagAndThePlanKeepsToIt) {
  const std::string prog = dir() + "/budget.nprg", listing = dir() + "/budget.txt";
  const std::string cmd = "compile " + kFixtures + "/cifarnet/model_int8.onnx --target imxrt700 -o " + prog +
                          " --listing " + listing + " --weights-sram-budget ";
  CommandResult r = run_cli(cmd + "96K");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string text = read_file(listing);
  EXPECT_NE(text.find("(budget 98304 B)"), std::string::npos) << text;
  r = run_cli(cmd + "1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  text = read_file(listing);
  EXPECT_NE(text.find("prefetched 1 kernel(s) ahead"), std::string::npos) << text;
  EXPECT_NE(text.find("(budget 1 B)"), std::string::npos) << text;
  r = run_cli(cmd + "12x");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--weights-sram-budget"), std::string::npos) << r.output;
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
