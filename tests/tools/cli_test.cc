// The neutron CLI on good and bad input: exit codes and one clear message, never a crash.
#include <gtest/gtest.h>

#include "util/cli.h"
#include <onnx/onnx_pb.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/npy.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::read_file;
using testing::run_cli;


std::string temp_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/neutron_cli_testXXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

std::string write_file(const std::string& name, const std::string& bytes) {
  std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string cifarnet() { return std::string(NEUTRON_FIXTURES_DIR) + "/cifarnet/model_int8.onnx"; }

std::string write_input(const std::string& name, DType t, Shape s) {
  TensorData d(t, s);
  std::string path = temp_dir() + "/" + name;
  EXPECT_TRUE(write_npy(path, d).ok());
  return path;
}

// A one-node model with an op we do not support.
std::string unknown_op_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* in = g->add_input();
  in->set_name("x");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(4);
  auto* out = g->add_output();
  out->set_name("y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  auto* n = g->add_node();
  n->set_op_type("Hardmax");
  n->set_name("mystery");
  n->add_input("x");
  n->add_output("y");
  return write_file("unknown_op.onnx", m.SerializeAsString());
}

void expect_clean_failure(const CommandResult& r, const std::string& must_mention) {
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(must_mention), std::string::npos) << "message should mention '" << must_mention << "':\n"
                                                           << r.output;
}

TEST(Cli, RunsTheBundledModel) {
  std::string in = write_input("x.npy", DType::F32, {1, 3, 32, 32});
  std::string out = temp_dir() + "/out";
  CommandResult r = run_cli("run " + cifarnet() + " -i " + in + " -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto y = read_npy(out + "/output_0.npy");
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ(y->shape, (Shape{1, 10}));
  EXPECT_NE(r.output.find("output 0"), std::string::npos);
}

TEST(Cli, DumpPrintsTheGraph) {
  CommandResult r = run_cli("dump " + cifarnet());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Conv("), std::string::npos);
}

TEST(Cli, MissingModelFile) { expect_clean_failure(run_cli("run /nonexistent/m.onnx"), "/nonexistent/m.onnx"); }

TEST(Cli, TruncatedModel) {
  std::ifstream f(cifarnet(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::string path = write_file("truncated.onnx", bytes.substr(0, bytes.size() / 3));
  expect_clean_failure(run_cli("run " + path + " -i x.npy"), "truncated.onnx");
}

TEST(Cli, GarbageModel) {
  std::string path = write_file("garbage.onnx", std::string(1000, '\xff'));
  expect_clean_failure(run_cli("dump " + path), "garbage.onnx");
}

TEST(Cli, UnknownOperatorNamesOpNodeAndOpset) {
  CommandResult r = run_cli("dump " + unknown_op_model());
  expect_clean_failure(r, "Hardmax");
  EXPECT_NE(r.output.find("mystery"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("13"), std::string::npos) << r.output;
}

TEST(Cli, WrongInputCount) {
  std::string in = write_input("x.npy", DType::F32, {1, 3, 32, 32});
  expect_clean_failure(run_cli("run " + cifarnet() + " -i " + in + " -i " + in), "input");
  expect_clean_failure(run_cli("run " + cifarnet()), "input");
}

TEST(Cli, WrongInputShape) {
  std::string in = write_input("bad_shape.npy", DType::F32, {1, 3, 28, 28});
  expect_clean_failure(run_cli("run " + cifarnet() + " -i " + in), "shape");
}

TEST(Cli, WrongInputDtype) {
  std::string in = write_input("bad_dtype.npy", DType::I32, {1, 3, 32, 32});
  expect_clean_failure(run_cli("run " + cifarnet() + " -i " + in), "f32");
}

TEST(Cli, MissingInputFile) {
  expect_clean_failure(run_cli("run " + cifarnet() + " -i /nonexistent/x.npy"), "/nonexistent/x.npy");
}

TEST(Cli, DoesNotOverwriteItsInput) {
  std::string dir = temp_dir() + "/same";
  run_cli("run " + cifarnet() + " -i " + write_input("x.npy", DType::F32, {1, 3, 32, 32}) + " -o " + dir);
  std::string in = dir + "/output_0.npy";
  // output_0.npy has the wrong shape for an input, but the overwrite check must come first.
  CommandResult r = run_cli("run " + cifarnet() + " -i " + in + " -o " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.output;  // a usage error (issue 13)
  EXPECT_NE(r.output.find("would overwrite it"), std::string::npos) << r.output;
  EXPECT_TRUE(read_npy(in).ok());
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_cli("").exit_code, 2);
  EXPECT_EQ(run_cli("frobnicate").exit_code, 2);
  EXPECT_EQ(run_cli("run").exit_code, 2);
  EXPECT_EQ(run_cli("run m.onnx -i").exit_code, 2);
  EXPECT_EQ(run_cli("run m.onnx --bogus").exit_code, 2);
}

}  // namespace
}  // namespace neutron
