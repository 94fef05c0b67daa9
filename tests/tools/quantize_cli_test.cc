// `neutron quantize` and `neutron compare` from the command line: a checker-valid QDQ model out,
// metrics and accuracy, and clear errors on bad calibration data.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/npy.h"

namespace neutron {
namespace {

struct Result {
  int exit_code = -1;
  bool crashed = false;
  std::string output;
};

Result cli(const std::string& args) {
  Result r;
  FILE* p = popen((std::string(NEUTRON_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.crashed = WIFSIGNALED(status);
  return r;
}

std::string dir() {
  static std::string d = [] {
    char tmpl[] = "/tmp/neutron_quantize_cliXXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return d;
}

const std::string kModel = std::string(NEUTRON_FIXTURES_DIR) + "/fmnist_cnn/model_f32.onnx";

// Fashion-MNIST test images [first, first + n) as float [n, 1, 28, 28] in `name`.
std::string images(const std::string& name, int64_t first, int64_t n, float poison = 0) {
  auto u8 = read_npy(std::string(NEUTRON_FIXTURES_DIR) + "/fmnist_cnn/test_images_u8.npy");
  EXPECT_TRUE(u8.ok());
  TensorData f(DType::F32, {n, 1, 28, 28});
  for (int64_t i = 0; i < n * 784; ++i) f.data<float>()[i] = float(u8->data<uint8_t>()[(first * 784) + i]) / 255.0f;
  if (poison != 0) f.data<float>()[784 * 3 + 5] = poison;
  std::string path = dir() + "/" + name;
  EXPECT_TRUE(write_npy(path, f).ok());
  return path;
}

TEST(QuantizeCli, WritesACheckerValidQdqModelThatKeepsAccuracy) {
  std::string out = dir() + "/q.onnx";
  Result r = cli("quantize " + kModel + " --calib " + images("calib.npy", 0, 100) + " -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  onnx::ModelProto m;
  std::ifstream f(out, std::ios::binary);
  ASSERT_TRUE(m.ParseFromIstream(&f));
  onnx::checker::check_model(m);  // throws (fails the test) on an invalid model
  int q = 0, dq = 0;
  for (const auto& n : m.graph().node()) {
    q += n.op_type() == "QuantizeLinear";
    dq += n.op_type() == "DequantizeLinear";
  }
  EXPECT_GT(q, 0);
  EXPECT_GT(dq, q);  // weights and biases are dequantized too

  // Compare float vs int8 on 500 labelled images.
  auto labels = read_npy(std::string(NEUTRON_FIXTURES_DIR) + "/fmnist_cnn/test_labels.npy");
  ASSERT_TRUE(labels.ok());
  TensorData l(DType::I64, {500});
  std::memcpy(l.bytes.data(), labels->bytes.data(), l.bytes.size());
  ASSERT_TRUE(write_npy(dir() + "/labels.npy", l).ok());
  std::string json = dir() + "/compare.json";
  r = cli("compare " + kModel + " " + out + " --inputs " + images("eval.npy", 1000, 500) + " --labels " + dir() +
          "/labels.npy --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SQNR"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("accuracy: reference"), std::string::npos) << r.output;
  std::ifstream j(json);
  std::string text((std::istreambuf_iterator<char>(j)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"sqnr_db\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"accuracy\""), std::string::npos) << text;
}

TEST(QuantizeCli, SameModelAndFlagsGiveIdenticalBytes) {
  std::string calib = images("calib_det.npy", 0, 20);
  ASSERT_EQ(cli("quantize " + kModel + " --calib " + calib + " -o " + dir() + "/a.onnx").exit_code, 0);
  ASSERT_EQ(cli("quantize " + kModel + " --calib " + calib + " -o " + dir() + "/b.onnx").exit_code, 0);
  std::ifstream a(dir() + "/a.onnx", std::ios::binary), b(dir() + "/b.onnx", std::ios::binary);
  std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_FALSE(sa.empty());
  EXPECT_EQ(sa, sb);
}

void expect_failure(const Result& r, const std::string& mention) {
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(mention), std::string::npos) << "should mention '" << mention << "':\n" << r.output;
}

TEST(QuantizeCli, BadCalibrationDataIsNamed) {
  const std::string out = " -o " + dir() + "/never.onnx";
  images("calib.npy", 0, 5);
  // NaN in sample 3 of input 'input'.
  Result r = cli("quantize " + kModel + " --calib " + images("nan.npy", 0, 5, std::nanf("")) + out);
  expect_failure(r, "nan.npy");
  EXPECT_NE(r.output.find("sample 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("NaN"), std::string::npos) << r.output;
  // Wrong shape.
  TensorData wrong(DType::F32, {4, 3, 32, 32});
  ASSERT_TRUE(write_npy(dir() + "/wrong.npy", wrong).ok());
  expect_failure(cli("quantize " + kModel + " --calib " + dir() + "/wrong.npy" + out), "wrong.npy");
  // Wrong dtype.
  TensorData ints(DType::I32, {4, 1, 28, 28});
  ASSERT_TRUE(write_npy(dir() + "/ints.npy", ints).ok());
  expect_failure(cli("quantize " + kModel + " --calib " + dir() + "/ints.npy" + out), "ints.npy");
  // Empty set.
  TensorData empty(DType::F32, {0, 1, 28, 28});
  ASSERT_TRUE(write_npy(dir() + "/empty.npy", empty).ok());
  expect_failure(cli("quantize " + kModel + " --calib " + dir() + "/empty.npy" + out), "empty.npy");
  // Unknown observer is a usage-level mistake reported clearly.
  r = cli("quantize " + kModel + " --calib " + dir() + "/calib.npy --observer mystery" + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("mystery"), std::string::npos) << r.output;
  // A percentile that is not a number in (50, 100), or one given to another observer.
  for (const char* bad : {"abc", "0", "-5", "150", "100"})
    EXPECT_EQ(cli("quantize " + kModel + " --calib " + dir() + "/calib.npy --observer percentile --percentile " + bad + out)
                  .exit_code,
              2)
        << bad;
  EXPECT_EQ(cli("quantize " + kModel + " --calib " + dir() + "/calib.npy --percentile 99.9" + out).exit_code, 2);
  // Never overwrite the input model.
  r = cli("quantize " + kModel + " --calib " + dir() + "/calib.npy -o " + kModel);
  EXPECT_EQ(r.exit_code, 2) << r.output;  // a usage error (issue 13)
  EXPECT_NE(r.output.find("input model"), std::string::npos) << r.output;
  std::ifstream(dir() + "/never.onnx").good() ? ADD_FAILURE() << "a failed run wrote its output" : SUCCEED();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

TEST(QuantizeCli, BiasCorrectionIsOnByDefaultAndCanBeTurnedOff) {
  const std::string calib = images("calib_bc.npy", 0, 20), base = "quantize " + kModel + " --calib " + calib;
  Result r = cli(base + " -o " + dir() + "/bc_default.onnx --report-json " + dir() + "/bc_default.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("bias correction float: 3 layers"), std::string::npos) << r.output;
  EXPECT_NE(read_file(dir() + "/bc_default.json").find("\"bias_correction\": \"float\""), std::string::npos);
  ASSERT_EQ(cli(base + " -o " + dir() + "/bc_no.onnx --no-bias-correction").exit_code, 0);
  ASSERT_EQ(cli(base + " -o " + dir() + "/bc_off.onnx --bias-correction off").exit_code, 0);
  ASSERT_EQ(cli(base + " -o " + dir() + "/bc_float.onnx --bias-correction float").exit_code, 0);
  EXPECT_EQ(read_file(dir() + "/bc_no.onnx"), read_file(dir() + "/bc_off.onnx"));
  EXPECT_EQ(read_file(dir() + "/bc_default.onnx"), read_file(dir() + "/bc_float.onnx"));
  EXPECT_NE(read_file(dir() + "/bc_default.onnx"), read_file(dir() + "/bc_off.onnx"));
  r = cli(base + " -o " + dir() + "/bc_emp.onnx --bias-correction empirical");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("runs of the quantized graph"), std::string::npos) << r.output;
  r = cli(base + " -o " + dir() + "/never_bc.onnx --bias-correction sometimes");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // a malformed value is a usage error
  EXPECT_NE(r.output.find("sometimes"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace neutron
