// Target descriptions: the shipped files load with sources for every parameter; the loader's
// errors name the field and the file.
#include "target/target.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fstream>
#include <sstream>

namespace neutron {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string temp_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/neutron_target_testXXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

// The target files of the source tree (the binary embeds them; see BuiltinTargetsAreTheSourceFiles).
std::string source_targets_dir() { return std::string(NEUTRON_TESTS_DIR) + "/../src/target/targets"; }

std::string imxrt700_text() { return read_file(source_targets_dir() + "/imxrt700.json"); }

// imxrt700.json with the first occurrence of `from` replaced by `to`.
std::string edited(const std::string& from, const std::string& to) {
  std::string s = imxrt700_text();
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string parse_error(const std::string& text) {
  auto t = parse_target(text, "x.json");
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.status().message();
}

TEST(Target, ShippedTargetsLoad) {
  EXPECT_EQ(list_targets(source_targets_dir()), (std::vector<std::string>{"imx95", "imxrt700", "mcxn94x"}));
  for (const std::string& name : list_targets(source_targets_dir())) {
    auto t = load_target(name);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->name, name);
    EXPECT_FALSE(t->fields.empty());
    for (const auto& f : t->fields) EXPECT_FALSE(f.provenance.empty()) << name << "." << f.name;
  }
}

TEST(Target, Imxrt700IsNeutronCN3With64Macs) {
  auto t = load_target("imxrt700");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->kind, NeutronKind::kNeutronC);
  EXPECT_EQ(t->hw_version, NeutronHwVersion::kN3);
  EXPECT_EQ(t->num_pipes, 8);
  EXPECT_EQ(t->num_macs, 8);
  EXPECT_EQ(t->macs_per_cycle(), 64);
  EXPECT_DOUBLE_EQ(t->clock_mhz, 325);
  EXPECT_EQ(t->sram_bytes, 7864320);
  EXPECT_FALSE(t->npu_reads_flash);
  EXPECT_FALSE(t->has_tcm);
  EXPECT_FALSE(t->has_data_mover);
  EXPECT_EQ(t->max_kernel_size, 4096);
  EXPECT_EQ(t->max_stride, 4096);
  EXPECT_EQ(t->max_dilation, 4096);
  EXPECT_EQ(t->max_conv_weight_volume, 65535);
  EXPECT_EQ(t->max_transposed_conv_stride, 2);
  EXPECT_EQ(t->softmax_max_spatial, 4096);
  EXPECT_EQ(t->resize_scales, (std::vector<int64_t>{1, 2, 4, 8}));
  // Derived from the datapath: today's upstream limits for 8 pipes x 8 MACs.
  EXPECT_EQ(t->softmax_max_channels(), 2040);
  EXPECT_EQ(t->softmax_max_elements(), 524288);
  ASSERT_NE(t->field("num_macs"), nullptr);
  EXPECT_FALSE(t->field("num_macs")->assumption);
  EXPECT_NE(t->field("num_macs")->provenance.find("neutron-imxrt700.ini"), std::string::npos);
  ASSERT_NE(t->field("flash_bandwidth_mb_s"), nullptr);
  EXPECT_TRUE(t->field("flash_bandwidth_mb_s")->assumption);
}

TEST(Target, SiblingsMarkTheirAssumptions) {
  auto mcx = load_target("mcxn94x");
  ASSERT_TRUE(mcx.ok()) << mcx.status().to_string();
  EXPECT_EQ(mcx->hw_version, NeutronHwVersion::kN1);
  EXPECT_EQ(mcx->macs_per_cycle(), 16);
  EXPECT_TRUE(mcx->field("num_pipes")->assumption);
  EXPECT_FALSE(mcx->field("clock_mhz")->assumption);
  auto s = load_target("imx95");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->kind, NeutronKind::kNeutronS);
  EXPECT_TRUE(s->has_tcm);
  EXPECT_TRUE(s->has_data_mover);
  EXPECT_TRUE(s->field("sram_bytes")->assumption);
}

TEST(Target, LoadsByPath) {
  auto t = load_target(source_targets_dir() + "/imxrt700.json");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->name, "imxrt700");
  const std::string path = temp_dir() + "/custom.json";
  std::ofstream(path) << edited("\"value\": \"imxrt700\"", "\"value\": \"my-board\"");
  t = load_target(path);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->name, "my-board");
  EXPECT_EQ(t->file, path);
}

TEST(Target, BuiltinTargetsAreTheSourceFiles) {
  EXPECT_EQ(list_targets(""), list_targets(source_targets_dir()));
  for (const BuiltinTarget& b : builtin_targets())
    EXPECT_EQ(std::string(b.text, b.size), read_file(source_targets_dir() + "/" + b.name + ".json")) << b.name;
  auto t = load_target("imxrt700");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->file, "built-in imxrt700.json");
}

TEST(Target, AFolderWithOneTargetFile) {
  const std::string dir = temp_dir() + "/one";
  ASSERT_EQ(::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST, true);
  std::ofstream(dir + "/board.json") << edited("\"value\": \"imxrt700\"", "\"value\": \"board\"");
  auto t = load_target(dir);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->name, "board");
  auto several = load_target(source_targets_dir());
  ASSERT_FALSE(several.ok());
  EXPECT_NE(several.status().message().find("is a directory with 3 target files (imx95, imxrt700, mcxn94x)"), std::string::npos)
      << several.status().message();
}

TEST(Target, UnknownNameListsTheKnownTargets) {
  auto t = load_target("imxrt701");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Error::NotFound);
  EXPECT_NE(t.status().message().find("unknown target 'imxrt701'; known targets: imx95, imxrt700, mcxn94x"),
            std::string::npos)
      << t.status().message();
  EXPECT_FALSE(load_target("").ok());
  auto missing = load_target("/nonexistent/dir/t.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/t.json"), std::string::npos);
}

TEST(Target, EnvironmentOverridesTheTargetsDirectory) {
  const std::string dir = temp_dir() + "/targets";
  ASSERT_EQ(::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST, true);
  std::ofstream(dir + "/board.json") << edited("\"value\": \"imxrt700\"", "\"value\": \"board\"");
  ::setenv("NEUTRON_TARGETS_DIR", dir.c_str(), 1);
  auto t = load_target("board");
  auto missing = load_target("imxrt700");
  ::unsetenv("NEUTRON_TARGETS_DIR");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->name, "board");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("known targets: board"), std::string::npos) << missing.status().message();
}

TEST(Target, NameMustMatchTheFileName) {
  const std::string dir = temp_dir() + "/mismatch";
  ASSERT_EQ(::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST, true);
  std::ofstream(dir + "/a.json") << imxrt700_text();
  ::setenv("NEUTRON_TARGETS_DIR", dir.c_str(), 1);
  auto t = load_target("a");
  ::unsetenv("NEUTRON_TARGETS_DIR");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("field \"name\" is \"imxrt700\" but the file is named 'a.json'"), std::string::npos)
      << t.status().message();
}

TEST(Target, MissingFieldIsNamedWithTheFile) {
  std::string s = imxrt700_text();
  const size_t begin = s.find("  \"num_macs\"");
  const size_t end = s.find('\n', begin);
  s.erase(begin, end - begin + 1);
  EXPECT_EQ(parse_error(s), "x.json: missing field \"num_macs\"");
}

TEST(Target, MalformedJsonGivesLineAndColumn) {
  const std::string msg = parse_error("{\n  \"name\": {\"value\": \"a\" \"source\": \"b\"}\n}");
  EXPECT_EQ(msg, "x.json:2:25: expected ',' or '}' after an object member, found '\"'");
}

TEST(Target, FieldErrorsNameFieldFileAndPosition) {
  std::string msg = parse_error(edited("\"num_macs\": {\"value\": 8", "\"num_macs\": {\"value\": \"8\""));
  EXPECT_NE(msg.find("x.json:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("field \"num_macs\" must be an integer from 1 to 1024, got \"8\""), std::string::npos) << msg;
  msg = parse_error(edited("\"num_macs\": {\"value\": 8", "\"num_macs\": {\"value\": 0"));
  EXPECT_NE(msg.find("field \"num_macs\" must be an integer from 1 to 1024, got 0"), std::string::npos) << msg;
  msg = parse_error(edited("\"kind\": {\"value\": \"neutron-c\"", "\"kind\": {\"value\": \"neutron-x\""));
  EXPECT_NE(msg.find("field \"kind\" must be \"neutron-c\" or \"neutron-s\""), std::string::npos) << msg;
  msg = parse_error(edited("\"resize_scales\": {\"value\": [1, 2, 4, 8]", "\"resize_scales\": {\"value\": [1, 2.5]"));
  EXPECT_NE(msg.find("field \"resize_scales\" must be a non-empty array of integers from 1 to 1024"), std::string::npos) << msg;
  msg = parse_error(edited("\"has_tcm\": {\"value\": false", "\"has_tcm\": {\"value\": 0"));
  EXPECT_NE(msg.find("field \"has_tcm\" must be true or false"), std::string::npos) << msg;
}

TEST(Target, EveryFieldNeedsExactlyOneSourceOrAssumption) {
  std::string msg = parse_error(edited("\"num_pipes\": {\"value\": 8, \"source\"", "\"num_pipes\": {\"value\": 8, \"where\""));
  EXPECT_NE(msg.find("field \"num_pipes\" needs exactly one of \"source\""), std::string::npos) << msg;
  msg = parse_error(edited("\"num_pipes\": {\"value\": 8,", "\"num_pipes\": {\"value\": 8, \"assumption\": \"x\","));
  EXPECT_NE(msg.find("field \"num_pipes\" needs exactly one of"), std::string::npos) << msg;
  msg = parse_error(edited("\"num_pipes\": {\"value\": 8, \"source\": \"", "\"num_pipes\": {\"value\": 8, \"source\": \"\", \"x\": \""));
  EXPECT_NE(msg.find("\"source\" must be a non-empty string"), std::string::npos) << msg;
  msg = parse_error(edited("\"num_pipes\": {\"value\": 8,", "\"num_pipes\": {\"value\": 8, \"unit\": 1,"));
  EXPECT_NE(msg.find("field \"num_pipes\" has an unknown member \"unit\""), std::string::npos) << msg;
  msg = parse_error(edited("\"num_pipes\": {\"value\": 8,", "\"num_pipes\": {\"valu\": 8,"));
  EXPECT_NE(msg.find("field \"num_pipes\" has no \"value\""), std::string::npos) << msg;
  msg = parse_error(edited("\"num_pipes\": {", "\"num_pipes\": 8, \"unused\": {"));
  EXPECT_NE(msg.find("field \"num_pipes\" must be an object"), std::string::npos) << msg;
}

TEST(Target, UnknownFieldsAreErrors) {
  const std::string msg = parse_error(edited("\"num_pipes\":", "\"num_pipelines\": {\"value\": 8, \"source\": \"s\"},\n  \"num_pipes\":"));
  EXPECT_NE(msg.find("unknown field \"num_pipelines\""), std::string::npos) << msg;
  EXPECT_NE(parse_error("[1]").find("must be a JSON object"), std::string::npos);
}

// Absurd values (a 2^63 MHz clock, a zero or negative size, huge counts) are errors naming the
// file and the field, not values that overflow later (issue 13).
TEST(Target, AbsurdValuesAreRejected) {
  struct Case {
    const char* from;
    const char* to;
    const char* field;
  };
  const Case cases[] = {
      {"\"clock_mhz\": {\"value\": 325", "\"clock_mhz\": {\"value\": 9223372036854775808", "clock_mhz"},
      {"\"clock_mhz\": {\"value\": 325", "\"clock_mhz\": {\"value\": 0", "clock_mhz"},
      {"\"clock_mhz\": {\"value\": 325", "\"clock_mhz\": {\"value\": -325", "clock_mhz"},
      {"\"clock_mhz\": {\"value\": 325", "\"clock_mhz\": {\"value\": 1e300", "clock_mhz"},
      {"\"flash_bandwidth_mb_s\": {\"value\": 500", "\"flash_bandwidth_mb_s\": {\"value\": -1", "flash_bandwidth_mb_s"},
      {"\"flash_bandwidth_mb_s\": {\"value\": 500", "\"flash_bandwidth_mb_s\": {\"value\": 1e-300", "flash_bandwidth_mb_s"},
      {"\"flash_bandwidth_mb_s\": {\"value\": 500", "\"flash_bandwidth_mb_s\": {\"value\": 1e30", "flash_bandwidth_mb_s"},
      {"\"sram_bytes\": {\"value\": 7864320", "\"sram_bytes\": {\"value\": 0", "sram_bytes"},
      {"\"sram_bytes\": {\"value\": 7864320", "\"sram_bytes\": {\"value\": -7864320", "sram_bytes"},
      {"\"sram_bytes\": {\"value\": 7864320", "\"sram_bytes\": {\"value\": 9223372036854775807", "sram_bytes"},
      {"\"num_pipes\": {\"value\": 8", "\"num_pipes\": {\"value\": 2147483648", "num_pipes"},
      {"\"num_macs\": {\"value\": 8", "\"num_macs\": {\"value\": -8", "num_macs"},
      {"\"buffer_alignment\": {\"value\": 16", "\"buffer_alignment\": {\"value\": 12", "buffer_alignment"},
      {"\"buffer_alignment\": {\"value\": 16", "\"buffer_alignment\": {\"value\": 0", "buffer_alignment"},
      {"\"max_kernel_size\": {\"value\": 4096", "\"max_kernel_size\": {\"value\": 9223372036854775807", "max_kernel_size"},
      {"\"max_stride\": {\"value\": 4096", "\"max_stride\": {\"value\": 0", "max_stride"},
      {"\"max_partition_inputs\": {\"value\": 255", "\"max_partition_inputs\": {\"value\": 256", "max_partition_inputs"},
      {"\"resize_scales\": {\"value\": [1, 2, 4, 8]", "\"resize_scales\": {\"value\": [1, 4294967296]", "resize_scales"},
      {"\"sim_sram_bytes_per_cycle\": {\"value\": 8", "\"sim_sram_bytes_per_cycle\": {\"value\": 1e300", "sim_sram_bytes_per_cycle"},
      {"\"sim_job_overhead_cycles\": {\"value\": 362", "\"sim_job_overhead_cycles\": {\"value\": -362", "sim_job_overhead_cycles"},
  };
  for (const Case& c : cases) {
    const std::string msg = parse_error(edited(c.from, c.to));
    EXPECT_NE(msg.find("x.json:"), std::string::npos) << c.to << ": " << msg;
    EXPECT_NE(msg.find(str_cat("field \"", c.field, "\" must be")), std::string::npos) << c.to << ": " << msg;
  }
  // The extremes that stay allowed: 0 bandwidth means "no flash on the NPU's path" (imx95).
  EXPECT_TRUE(parse_target(edited("\"flash_bandwidth_mb_s\": {\"value\": 500", "\"flash_bandwidth_mb_s\": {\"value\": 0"),
                           "x.json")
                  .ok());
  EXPECT_TRUE(parse_target(edited("\"clock_mhz\": {\"value\": 325", "\"clock_mhz\": {\"value\": 0.5"), "x.json").ok());
}

}  // namespace
}  // namespace neutron
