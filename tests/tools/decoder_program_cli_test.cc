// The GPT-style decoder fixture (nn.Embedding of int64 token ids) from the command line: quantized,
// compiled for imxrt700 into one NPU partition with every MAC on the NPU (the embedding Gather is a
// CPU kernel call reading the int64 input), run bit-exact on the simulated NPU and with
// `--target cpu`; out-of-range token ids fail the run with a message, never a crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "core/npy.h"
#include "util/cli.h"

namespace neutron {
namespace {

using Result = testing::CommandResult;

Result cli(const std::string& args) { return testing::run_cli(args); }

std::string dir() {
  static const std::string d = testing::make_temp_dir("neutron_decoder_cli");
  return d;
}

std::string slurp(const std::string& path) { return testing::read_file(path); }

const std::string kFixture = std::string(NEUTRON_FIXTURES_DIR) + "/gpt_decoder";

// Quantizes and compiles the decoder at `opset` once; returns the program path.
std::string program(int opset, std::string* compile_output = nullptr) {
  const std::string q = dir() + "/dec" + std::to_string(opset) + ".onnx";
  const std::string p = dir() + "/dec" + std::to_string(opset) + ".nprg";
  Result r = cli("quantize " + kFixture + "/model_f32_opset" + std::to_string(opset) + ".onnx --calib " + kFixture +
                 "/calib.npy -o " + q);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = cli("compile " + q + " --target imxrt700 -o " + p);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (compile_output) *compile_output = r.output;
  return p;
}

std::string tokens(const std::string& name, const TensorData& t) {
  const std::string path = dir() + "/" + name;
  EXPECT_TRUE(write_npy(path, t).ok());
  return path;
}

TEST(DecoderProgramCli, CompilesToOneNpuPartitionAndRunsBitExact) {
  auto inputs = read_npy(kFixture + "/inputs.npy");
  ASSERT_TRUE(inputs.ok());
  ASSERT_EQ(inputs->dtype, DType::I64);
  const int64_t n = inputs->shape[0], t = inputs->shape[1];
  for (int opset : {13, 17}) {
    SCOPED_TRACE("opset " + std::to_string(opset));
    std::string out;
    const std::string p = program(opset, &out);
    EXPECT_NE(out.find(" 1 partition(s)"), std::string::npos) << out;
    EXPECT_NE(out.find("(100.0%)\n"), std::string::npos) << out;  // MACs on the NPU
    EXPECT_NE(out.find("gather.cpu"), std::string::npos) << out;
    for (int64_t s = 0; s < n; s += 3) {
      TensorData x(DType::I64, {1, t});
      for (int64_t i = 0; i < t; ++i) x.data<int64_t>()[i] = inputs->data<int64_t>()[s * t + i];
      const std::string in = tokens("x.npy", x);
      Result a = cli("run " + p + " -i " + in + " -o " + dir() + "/npu");
      ASSERT_EQ(a.exit_code, 0) << a.output;
      Result b = cli("run " + p + " -i " + in + " -o " + dir() + "/cpu --target cpu");
      ASSERT_EQ(b.exit_code, 0) << b.output;
      const std::string ya = slurp(dir() + "/npu/output_0.npy"), yb = slurp(dir() + "/cpu/output_0.npy");
      EXPECT_FALSE(ya.empty());
      EXPECT_EQ(ya, yb) << "sample " << s;
    }
  }
}

TEST(DecoderProgramCli, OutOfRangeTokenIdsFailTheRun) {
  const std::string p = program(17);
  auto inputs = read_npy(kFixture + "/inputs.npy");
  ASSERT_TRUE(inputs.ok());
  const int64_t t = inputs->shape[1];
  // The table has 128 rows: -128 .. 127 are valid (negative counts from the end).
  const int64_t bad[] = {128, -129, 1000000, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  for (const char* target : {"", " --target cpu"}) {
    for (int64_t v : bad) {
      SCOPED_TRACE(std::to_string(v) + target);
      TensorData x(DType::I64, {1, t});
      for (int64_t i = 0; i < t; ++i) x.data<int64_t>()[i] = i;
      x.data<int64_t>()[t / 2] = v;
      Result r = cli("run " + p + " -i " + tokens("bad.npy", x) + " -o " + dir() + "/bad" + target);
      EXPECT_FALSE(r.crashed);
      EXPECT_EQ(r.exit_code, 1) << r.output;
      EXPECT_NE(r.output.find("token id out of range"), std::string::npos) << r.output;
    }
    TensorData ok(DType::I64, {1, t});
    for (int64_t i = 0; i < t; ++i) ok.data<int64_t>()[i] = i % 2 ? -128 : 127;
    Result r = cli("run " + p + " -i " + tokens("edge.npy", ok) + " -o " + dir() + "/edge" + target);
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  // Token ids of the wrong integer type are refused, not reinterpreted.
  TensorData i32(DType::I32, {1, t});
  Result r = cli("run " + p + " -i " + tokens("i32.npy", i32) + " -o " + dir() + "/i32");
  EXPECT_FALSE(r.crashed);
  EXPECT_NE(r.exit_code, 0) << r.output;
}

// The host runs the ONNX model with the same contract: an out-of-range token id fails the run
// (exit 1, the Gather named), never a zero embedding row.
TEST(DecoderProgramCli, HostRunRefusesOutOfRangeTokenIds) {
  auto inputs = read_npy(kFixture + "/inputs.npy");
  ASSERT_TRUE(inputs.ok());
  const int64_t t = inputs->shape[1];
  for (const char* model : {"/model_f32_opset17.onnx", "/model_f32_opset13.onnx"}) {
    for (int64_t v : {int64_t(128), int64_t(-129), std::numeric_limits<int64_t>::min()}) {
      SCOPED_TRACE(std::string(model) + " " + std::to_string(v));
      TensorData x(DType::I64, {1, t});
      for (int64_t i = 0; i < t; ++i) x.data<int64_t>()[i] = i;
      x.data<int64_t>()[t / 2] = v;
      Result r = cli("run " + kFixture + model + " -i " + tokens("host_bad.npy", x) + " -o " + dir() + "/host_bad");
      EXPECT_FALSE(r.crashed);
      EXPECT_EQ(r.exit_code, 1) << r.output;
      EXPECT_NE(r.output.find("index out of range"), std::string::npos) << r.output;
    }
  }
}

}  // namespace
}  // namespace neutron
