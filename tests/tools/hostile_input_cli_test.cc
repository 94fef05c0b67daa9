// Hostile and careless input to the neutron CLI (issue 13): size bombs, element counts that wrap,
// zero samples, directories where files belong, a model with no outputs, and the memory budget
// (--max-memory). Every case is exit 1 (2 for a bad option value) with one line naming the file,
// never a crash. Outside ASan the commands run under `ulimit -v`, so any allocation of the
// claimed size would fail the test instead of passing slowly.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "core/npy.h"
#include "import/onnx_builder.h"
#include "util/cli.h"
#include "util/npy_bytes.h"

#if defined(__SANITIZE_ADDRESS__)
#define NEUTRON_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NEUTRON_TEST_ASAN 1
#endif
#endif

namespace neutron {
namespace {

using testing::CommandResult;
using testing::OnnxBuilder;
using testing::run_cli;

const std::string& temp_dir() {
  static const std::string dir = testing::make_temp_dir("neutron_hostile_cli_test");
  return dir;
}

std::string path_of(const std::string& name) { return temp_dir() + "/" + name; }

std::string write(const std::string& name, const std::string& bytes) {
  testing::write_file(path_of(name), bytes);
  return path_of(name);
}

std::string fixture(const std::string& file) { return std::string(NEUTRON_FIXTURES_DIR) + "/cifarnet/" + file; }

// A version-1 .npy header with `shape_text` and `data_bytes` zero bytes of data.
std::string npy(const std::string& shape_text, size_t data_bytes) {
  return testing::npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text + ", }", data_bytes);
}

// Runs the CLI with at most `limit_kb` of address space (not under ASan, which reserves terabytes).
CommandResult run_limited(const std::string& args, long limit_kb = 1000000) {
#ifdef NEUTRON_TEST_ASAN
  (void)limit_kb;
  return run_cli(args);
#else
  return testing::run_shell("ulimit -v " + std::to_string(limit_kb) + " && exec " + std::string(NEUTRON_BINARY) + " " +
                           args + " 2>&1");
#endif
}

void expect_failure(const CommandResult& r, const std::string& must_mention, int code = 1) {
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_EQ(r.exit_code, code) << r.output;
  EXPECT_NE(r.output.find(must_mention), std::string::npos) << "expected '" << must_mention << "' in:\n" << r.output;
}

// CifarNet compiled for the CPU (no simulator needed), once.
const std::string& program() {
  static const std::string p = [] {
    const std::string out = path_of("cifarnet_cpu.nprg");
    CommandResult r = run_cli("compile " + fixture("model_int8.onnx") + " --target cpu -o " + out);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return out;
  }();
  return p;
}

std::string one_sample() {
  static const std::string p = write("one.npy", npy("(1, 3, 32, 32)", 3 * 32 * 32 * 4));
  return p;
}

TEST(HostileCli, RunProgramRefusesAnElementCountThatWrapsInt64) {
  // (2**61, 1, 3, 32, 32) wraps to 0 elements: before the fix, 2^61 samples were read from no data.
  const std::string x = write("wrap.npy", npy("(2305843009213693952, 1, 3, 32, 32)", 0));
  expect_failure(run_limited("run " + program() + " -i " + x + " -o " + path_of("wrap_out")),
                 x + ": not a valid .npy file: shape [2305843009213693952,1,3,32,32] has more elements than fit in 64 bits");
  struct stat st;
  EXPECT_NE(::stat(path_of("wrap_out").c_str(), &st), 0) << "no output for a refused input";
}

TEST(HostileCli, NpyClaimsAboveTheFileSizeFailBeforeAllocating) {
  // 128-byte files claiming 10^9 and 10^12 floats.
  const std::string g9 = write("claim9.npy", npy("(1000000000,)", 0));
  const std::string g12 = write("claim12.npy", npy("(1000000000000,)", 0));
  for (const std::string& model : {program(), fixture("model_int8.onnx")}) {
    expect_failure(run_limited("run " + model + " -i " + g9),
                   g9 + ": not a valid .npy file: expected 4000000000 data bytes for shape [1000000000], found 0");
    expect_failure(run_limited("run " + model + " -i " + g12), g12 + ": not a valid .npy file: expected 4000000000000");
  }
  expect_failure(run_limited("quantize " + fixture("model_f32.onnx") + " --calib " + g12 + " -o " + path_of("q.onnx")),
                 g12 + ": not a valid .npy file");
  expect_failure(run_limited("compare " + fixture("model_f32.onnx") + " " + fixture("model_int8.onnx") + " --inputs " + g9),
                 g9 + ": not a valid .npy file");
}

TEST(HostileCli, RunProgramWithZeroSamplesIsAnError) {
  const std::string x = write("zero.npy", npy("(0, 3, 32, 32)", 0));
  expect_failure(run_cli("run " + program() + " -i " + x + " -o " + path_of("zero_out")),
                 x + ": holds no samples for input 'input' (shape [0,3,32,32])");
  const std::string x5 = write("zero5.npy", npy("(0, 1, 3, 32, 32)", 0));
  expect_failure(run_cli("run " + program() + " -i " + x5), x5 + ": holds no samples");
  struct stat st;
  EXPECT_NE(::stat(path_of("zero_out").c_str(), &st), 0) << "no output of zeros";
}

TEST(HostileCli, ADirectoryWhereAFileBelongsIsReportedAsOne) {
  const std::string dir = path_of("a_directory");
  ::mkdir(dir.c_str(), 0755);
  const std::string is_dir = dir + ": is a directory";
  expect_failure(run_cli("run " + dir + " -i " + one_sample()), is_dir);
  expect_failure(run_cli("dump " + dir), is_dir);
  expect_failure(run_cli("run " + fixture("model_int8.onnx") + " -i " + dir), is_dir);
  expect_failure(run_cli("run " + program() + " -i " + dir), is_dir);
  expect_failure(run_cli("compile " + dir + " --target cpu -o " + path_of("d.nprg")), is_dir);
  expect_failure(run_cli("compile " + fixture("model_int8.onnx") + " --target " + dir + "/ -o " + path_of("d.nprg")),
                 "is a directory");
  expect_failure(run_cli("compare " + dir + " " + fixture("model_int8.onnx") + " --inputs " + one_sample()), is_dir);
  expect_failure(run_cli("compare " + fixture("model_f32.onnx") + " " + fixture("model_int8.onnx") + " --inputs " +
                         one_sample() + " --labels " + dir),
                 is_dir);
}

TEST(HostileCli, CompareLabelsOnAModelWithNoOutputs) {
  OnnxBuilder b;
  b.input("x", testing::kFloat, {1, 4});
  const std::string model = write("no_outputs.onnx", b.bytes());
  const std::string x = write("x4.npy", npy("(2, 4)", 2 * 4 * 4));
  TensorData labels(DType::I64, {2});
  ASSERT_TRUE(write_npy(path_of("labels.npy"), labels).ok());
  expect_failure(run_cli("compare " + model + " " + model + " --inputs " + x + " --labels " + path_of("labels.npy")),
                 "has no outputs to take the predicted class from");
}

TEST(HostileCli, MaxMemoryIsAcceptedByEveryCommand) {
  const std::string budget_text = "above the memory budget of 1.0 KiB; raise it with --max-memory";
  expect_failure(run_cli("run " + fixture("model_int8.onnx") + " -i " + one_sample() + " --max-memory 1K"), budget_text);
  expect_failure(run_cli("run " + program() + " --max-memory=1K -i " + one_sample()), budget_text);
  expect_failure(run_cli("dump --max-memory 1K " + fixture("model_int8.onnx")), budget_text);
  expect_failure(run_cli("compile " + fixture("model_int8.onnx") + " --target cpu -o " + path_of("m.nprg") +
                         " --max-memory 1k"),
                 budget_text);
  expect_failure(run_cli("quantize " + fixture("model_f32.onnx") + " --calib " + one_sample() + " -o " +
                         path_of("q.onnx") + " --max-memory 1K"),
                 budget_text);
  expect_failure(run_cli("compare " + fixture("model_f32.onnx") + " " + fixture("model_int8.onnx") + " --inputs " +
                         one_sample() + " --max-memory 1K"),
                 budget_text);
  // The .npy's own size is named with its shape (a model whose activations are small).
  OnnxBuilder mean;
  mean.input("x", testing::kFloat, {1, 3, 32, 32}).output("y");
  OnnxBuilder::attr(mean.node("ReduceMean", {"x"}, {"y"}, "mean"), "axes", std::vector<int64_t>{1, 2, 3});
  const std::string model = write("mean.onnx", mean.bytes());
  expect_failure(run_cli("run " + model + " -i " + one_sample() + " --max-memory 4K"),
                 one_sample() + ": array claims 12.0 KiB (f32 shape [1,3,32,32]), above the memory budget of 4.0 KiB");
  CommandResult ok = run_cli("supported-ops --target imxrt700 --max-memory 1G");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  ok = run_cli("run " + fixture("model_int8.onnx") + " -i " + one_sample() + " --max-memory 64M");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  // A bad value is a usage error.
  expect_failure(run_cli("run " + program() + " -i " + one_sample() + " --max-memory 12Q"),
                 "--max-memory: takes a positive size", 2);
  expect_failure(run_cli("dump " + fixture("model_int8.onnx") + " --max-memory"), "--max-memory needs a value", 2);
  expect_failure(run_cli("dump " + fixture("model_int8.onnx") + " --max-memory 0"), "--max-memory: takes", 2);
}

// A model whose only node fills 8192 x 8192 floats (256 MiB): within the default budget, above
// the address space the command is given.
TEST(HostileCli, AnAllocationFailureIsAnErrorNotAnAbort) {
#ifdef NEUTRON_TEST_ASAN
  GTEST_SKIP() << "ulimit -v does not combine with ASan";
#endif
  OnnxBuilder b;
  b.input("x", testing::kFloat, {1}).output("y");
  b.init<int64_t>("shape", {2}, {8192, 8192});
  b.node("ConstantOfShape", {"shape"}, {"y"}, "fill");
  const std::string model = write("fill.onnx", b.bytes());
  CommandResult r = run_limited("dump " + model, 150000);
  expect_failure(r, "neutron: out of memory while running 'dump'");
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
  // The budget catches it first when set below the claim.
  expect_failure(run_limited("dump " + model + " --max-memory 100M", 150000),
                 "node 'fill' (op ConstantOfShape, opset 13): output claims 256.0 MiB (f32 shape [8192,8192]), "
                 "above the memory budget of 100.0 MiB");
}

}  // namespace
}  // namespace neutron
