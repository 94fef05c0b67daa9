// The command line itself (issue 18): every command's --help, --version, --opt=value, -q, and
// exit code 2 with the command's usage for every kind of usage error; the README's usage section
// and docs/cli.md are what the CLI's help says.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::read_file;
using testing::run_cli;

const std::vector<std::string> kCommands = {"dump", "run", "quantize", "compare", "compile", "supported-ops", "inspect"};

std::string fixture(const std::string& f) { return std::string(NEUTRON_FIXTURES_DIR) + "/cifarnet/" + f; }
std::string source_file(const std::string& f) { return std::string(NEUTRON_TESTS_DIR) + "/../" + f; }

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

void expect_usage_error(const std::string& args, const std::string& command, const std::string& mention) {
  const CommandResult r = run_cli(args);
  EXPECT_FALSE(r.crashed) << args;
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  EXPECT_TRUE(has(r.output, "usage: neutron " + command)) << args << "\n" << r.output;
  EXPECT_TRUE(has(r.output, mention)) << "expected '" << mention << "' for " << args << " in:\n" << r.output;
}

TEST(CliHelp, EveryCommandHasHelpWithItsOptionsAndDefaults) {
  for (const std::string& c : kCommands) {
    const CommandResult r = run_cli(c + " --help");
    EXPECT_EQ(r.exit_code, 0) << c << "\n" << r.output;
    EXPECT_TRUE(has(r.output, "Usage: neutron " + c)) << r.output;
    for (const char* common : {"-q,--quiet", "-v,--verbose", "--max-memory", "-h,--help"})
      EXPECT_TRUE(has(r.output, common)) << c << " --help lacks " << common << ":\n" << r.output;
  }
  const CommandResult r = run_cli("compile --help");
  EXPECT_TRUE(has(r.output, "--fetch-constants-to-sram")) << r.output;
  EXPECT_TRUE(has(r.output, "Prefetch")) << "the flag is explained:\n" << r.output;
  const CommandResult q = run_cli("quantize -h");
  EXPECT_TRUE(has(q.output, "=histogram")) << "defaults are shown:\n" << q.output;
  EXPECT_TRUE(has(q.output, "=99.99")) << q.output;
  EXPECT_FALSE(has(q.output, "--calib")) << "old spellings are not advertised:\n" << q.output;
}

TEST(CliHelp, TopLevelHelpAndVersion) {
  CommandResult r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const std::string& c : kCommands) EXPECT_TRUE(has(r.output, "  " + c)) << r.output;
  r = run_cli("--version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "neutron 0.")) << r.output;
}

TEST(CliHelp, UsageErrorsExitTwoWithTheCommandsUsage) {
  const std::string m = fixture("model_int8.onnx");
  // Unknown option, missing value, malformed value, missing required argument: per command.
  expect_usage_error("dump " + m + " --bogus", "dump", "--bogus");
  expect_usage_error("dump", "dump", "model");
  expect_usage_error("run " + m + " --repeat", "run", "--repeat needs a value");
  expect_usage_error("run " + m + " --repeat=0", "run", "--repeat");
  expect_usage_error("run " + m + " --warmup x", "run", "--warmup");
  expect_usage_error("run " + m + " --target=imxrt700", "run", "--target");
  expect_usage_error("quantize " + m + " -i x.npy", "quantize", "--output");
  expect_usage_error("quantize " + m + " -i x.npy -o q.onnx --observer mystery", "quantize", "mystery");
  expect_usage_error("quantize " + m + " -i x.npy -o q.onnx --percentile 101", "quantize", "(50, 100)");
  expect_usage_error("quantize " + m + " -i x.npy -o q.onnx --threads=0", "quantize", "--threads");
  expect_usage_error("quantize " + m + " -i x.npy -o q.onnx --no-bias-correction --bias-correction float", "quantize",
                     "excludes");
  expect_usage_error("compare " + m + " " + m, "compare", "--inputs");
  expect_usage_error("compare " + m + " " + m + " -i x.npy --threads two", "compare", "--threads");
  expect_usage_error("compile " + m + " -o p.nprg", "compile", "--target");
  expect_usage_error("compile " + m + " --target imxrt700 -o p.nprg --no-delegate Convolution", "compile",
                     "unknown op type 'Convolution'");
  expect_usage_error("compile " + m + " --target imxrt700 -o p.nprg --max-memory 3X", "compile", "--max-memory");
  expect_usage_error("supported-ops", "supported-ops", "--target");
  expect_usage_error("supported-ops --target imxrt700 extra", "supported-ops", "extra");
  expect_usage_error("inspect", "inspect", "program");
  expect_usage_error("inspect p.nprg --json", "inspect", "--json needs a value");
  CommandResult r = run_cli("frobnicate");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(has(r.output, "unknown command 'frobnicate'")) << r.output;
  EXPECT_EQ(run_cli("").exit_code, 2);
}

TEST(CliHelp, FailuresOfTheWorkExitOne) {
  for (const std::string& args :
       {std::string("dump /nonexistent.onnx"), std::string("run /nonexistent.onnx"),
        "quantize /nonexistent.onnx -i " + fixture("inputs.npy") + " -o /tmp/neutron_never.onnx",
        "compare /nonexistent.onnx /nonexistent2.onnx -i " + fixture("inputs.npy"),
        std::string("compile /nonexistent.onnx --target imxrt700 -o /tmp/neutron_never.nprg"),
        std::string("supported-ops --target /nonexistent.json"), std::string("inspect /nonexistent.nprg"),
        "inspect " + fixture("model_int8.onnx")}) {
    const CommandResult r = run_cli(args);
    EXPECT_FALSE(r.crashed) << args;
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
  }
}

TEST(CliHelp, EqualsFormAndOldSpellingsAndQuiet) {
  const std::string dir = testing::make_temp_dir("neutron_cli_help");
  const std::string m = fixture("model_int8.onnx");
  CommandResult r = run_cli("compile " + m + " --target=imxrt700 --output=" + dir + "/a.nprg --json=" + dir + "/a.json -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "-q prints nothing on success";
  r = run_cli("compile " + m + " --target imxrt700 -o " + dir + "/b.nprg --report-json " + dir + "/b.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "partition")) << r.output;
  EXPECT_EQ(read_file(dir + "/a.nprg"), read_file(dir + "/b.nprg"));
  // The same document but for the program's file name.
  std::string a = read_file(dir + "/a.json"), b = read_file(dir + "/b.json");
  a.replace(a.find("/a.nprg"), 7, "/b.nprg");
  EXPECT_EQ(a, b);
  r = run_cli("compile " + m + " --target cpu -o " + dir + "/c.nprg -v");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "] importing")) << "-v prints the steps:\n" << r.output;
}

// The README's usage block and docs/cli.md are the CLI's own help (scripts/update_cli_docs.sh).
TEST(CliHelp, ReadmeAndDocsMatchTheHelp) {
  const CommandResult r = run_cli("--help-markdown");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string synopsis = r.output.substr(0, r.output.find("\n\n") + 1);
  const std::string readme = read_file(source_file("README.md"));
  const std::string begin = "<!-- neutron --help-markdown: begin -->\n```\n";
  const size_t a = readme.find(begin);
  ASSERT_NE(a, std::string::npos);
  const size_t b = readme.find("```\n<!-- neutron --help-markdown: end -->", a);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(readme.substr(a + begin.size(), b - a - begin.size()), synopsis)
      << "README.md's usage block is out of date: run scripts/update_cli_docs.sh";
  const std::string tables = r.output.substr(r.output.find("\n\n") + 2);
  const std::string doc = read_file(source_file("docs/cli.md"));
  EXPECT_TRUE(has(doc, synopsis)) << "docs/cli.md is out of date: run scripts/update_cli_docs.sh";
  EXPECT_TRUE(has(doc, tables.substr(0, tables.find_last_not_of('\n') + 1)))
      << "docs/cli.md is out of date: run scripts/update_cli_docs.sh";
}

}  // namespace
}  // namespace neutron

namespace neutron {
namespace {

// `neutron inspect` reads everything from the program file: copied away from the model, it still
// names the source nodes; a damaged file is a failure (1), not a crash.
TEST(CliInspect, DescribesAProgramFromTheFileAlone) {
  const std::string dir = testing::make_temp_dir("neutron_inspect");
  const std::string prog = dir + "/p.nprg";
  ASSERT_EQ(run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 -o " + prog + " -q").exit_code, 0);
  CommandResult r = run_cli("inspect " + prog);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"target imxrt700", "model 'model_int8.onnx'", "input  'input' f32[1,3,32,32]",
                        "instructions (3):", "1 delegate, payload 0", "sections: header 16 B, microcode",
                        "source nodes: /inner/Pad,/inner/conv1/Conv,/inner/pool1/MaxPool", "memory plan (",
                        "constant buffer(s)"})
    EXPECT_TRUE(has(r.output, s)) << "expected '" << s << "' in:\n" << r.output;
  std::string bytes = read_file(prog);
  bytes[bytes.size() / 2] ^= 0x5a;
  testing::write_file(dir + "/bad.nprg", bytes);
  r = run_cli("inspect " + dir + "/bad.nprg");
  EXPECT_FALSE(r.crashed);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has(r.output, "bad.nprg")) << r.output;
}

}  // namespace
}  // namespace neutron
