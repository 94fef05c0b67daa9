// `neutron compile` and `neutron supported-ops` from the outside: messages, exit codes, the
// report JSON's shape, determinism, and the committed docs/supported-ops.md being current.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/json.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::read_file;
using testing::run_cli;


std::string temp_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/neutron_compile_testXXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

std::string fixture(const std::string& model, const std::string& file) {
  return std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/" + file;
}

TEST(CompileCli, FloatModelWithoutCalibrationSaysHowToQuantize) {
  const CommandResult r =
      run_cli("compile " + fixture("cifarnet", "model_f32.onnx") + " --target imxrt700 -o " + temp_dir() + "/f.txt");
  EXPECT_FALSE(r.crashed);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is a float model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("-i CALIB"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("neutron quantize"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(temp_dir() + "/f.txt").good()) << "no program for a model that was not compiled";
}

TEST(CompileCli, FloatModelWithCalibrationIsQuantizedAndFullyDelegated) {
  const std::string json = temp_dir() + "/cifar_f32.json";
  const CommandResult r = run_cli("compile " + fixture("cifarnet", "model_f32.onnx") + " --target imxrt700 -o " +
                                  temp_dir() + "/cifar_f32.txt --calib " + fixture("cifarnet", "inputs.npy") +
                                  " --report-json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto v = parse_json(read_file(json), json);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  // Our quantizer shares the Pad parameters (as upstream's does): one partition, only the I/O
  // quantization on the CPU.
  EXPECT_EQ(v->find("summary")->find("partitions")->as_int(), 1);
  EXPECT_EQ(v->find("summary")->find("cpu_nodes")->as_int(), 2);
}

TEST(CompileCli, UnknownTargetListsTheKnownOnes) {
  const CommandResult r = run_cli("compile " + fixture("cifarnet", "model_int8.onnx") + " --target imxrt7 -o " +
                                  temp_dir() + "/u.txt");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("unknown target 'imxrt7'; known targets: imx95, imxrt700, mcxn94x"), std::string::npos) << r.output;
}

TEST(CompileCli, UnsupportedTargetIsRefused) {
  const CommandResult r = run_cli("compile " + fixture("cifarnet", "model_int8.onnx") + " --target imx95 -o " +
                                  temp_dir() + "/s.txt");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("not supported: target 'imx95' is neutron-s"), std::string::npos) << r.output;
}

TEST(CompileCli, UsageErrors) {
  EXPECT_EQ(run_cli("compile " + fixture("cifarnet", "model_int8.onnx") + " -o x.txt").exit_code, 2);
  EXPECT_EQ(run_cli("compile --target imxrt700 -o x.txt").exit_code, 2);
  EXPECT_EQ(run_cli("compile a.onnx --target imxrt700 -o x.txt --bogus").exit_code, 2);
  const CommandResult r = run_cli("compile " + fixture("cifarnet", "model_int8.onnx") +
                                  " --target imxrt700 -o " + temp_dir() + "/x.txt --no-delegate Conv,Convolution");
  EXPECT_EQ(r.exit_code, 2);  // a malformed option value
  EXPECT_NE(r.output.find("unknown op type 'Convolution'"), std::string::npos) << r.output;
}

TEST(CompileCli, RefusesToOverwriteTheModel) {
  const std::string copy = temp_dir() + "/model_copy.onnx";
  const std::string bytes = read_file(fixture("fmnist_cnn", "model_int8.onnx"));
  std::ofstream(copy, std::ios::binary) << bytes;
  CommandResult r = run_cli("compile " + copy + " --target imxrt700 -o " + copy);
  EXPECT_EQ(r.exit_code, 2) << r.output;  // a usage error (issue 13)
  EXPECT_NE(r.output.find("the input model"), std::string::npos) << r.output;
  r = run_cli("compile " + copy + " --target imxrt700 -o " + temp_dir() + "/p.txt --report-json " + copy);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(read_file(copy), bytes);
}

TEST(CompileCli, ReportTableAndJson) {
  const std::string prog = temp_dir() + "/cifar.nprg", json = temp_dir() + "/cifar.json",
                    listing = temp_dir() + "/cifar.txt";
  const CommandResult r = run_cli("compile " + fixture("cifarnet", "model_int8.onnx") + " --target imxrt700 -o " + prog +
                                  " --report-json " + json + " --listing " + listing);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Operator"), std::string::npos);
  EXPECT_NE(r.output.find("Conv                      3      3      0"), std::string::npos) << r.output;
  // The requantizations before the Pads run on the NPU (table calls): one partition.
  EXPECT_NE(r.output.find("Clip                      3      3      0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("MACs on the NPU: 12340224 of 12340224 (100.0%)"), std::string::npos) << r.output;

  auto v = parse_json(read_file(json), json);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->find("target")->as_string(), "imxrt700");
  const JsonValue* summary = v->find("summary");
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(summary->find("nodes")->as_int(), 17);
  // The float Pad before the input QuantizeLinear is moved after it (quantize-before-pad) and
  // joins partition 0.
  EXPECT_EQ(summary->find("npu_nodes")->as_int(), 15);
  EXPECT_EQ(summary->find("cpu_nodes")->as_int(), 2);
  EXPECT_EQ(summary->find("partitions")->as_int(), 1);
  EXPECT_EQ(summary->find("macs")->as_int(), 12340224);
  EXPECT_DOUBLE_EQ(summary->find("npu_mac_share")->as_number(), 1.0);
  const JsonValue* nodes = v->find("nodes");
  ASSERT_TRUE(nodes && nodes->is_array());
  ASSERT_EQ(nodes->as_array().size(), 17u);
  int cpu = 0;
  for (const JsonValue& n : nodes->as_array()) {
    for (const char* key : {"name", "op", "placement", "partition", "macs"}) ASSERT_NE(n.find(key), nullptr) << key;
    if (n.find("placement")->as_string() == "CPU") {
      ++cpu;
      EXPECT_TRUE(n.find("partition")->is_null());
      EXPECT_FALSE(n.find("rule")->as_string().empty());
      EXPECT_FALSE(n.find("reason")->as_string().empty());
      ASSERT_NE(n.find("detail"), nullptr);
    } else {
      EXPECT_TRUE(n.find("partition")->is_integer());
      ASSERT_NE(n.find("rule"), nullptr);
      EXPECT_TRUE(n.find("rule")->is_null());  // the same keys on every node
    }
  }
  EXPECT_EQ(cpu, 2);
  const JsonValue* parts = v->find("partitions");
  ASSERT_TRUE(parts && parts->is_array());
  EXPECT_EQ(parts->as_array().size(), 1u);
  EXPECT_EQ(parts->as_array()[0].find("nodes")->as_int(), 15);
  EXPECT_GE(parts->as_array()[0].find("boundary_transposes")->as_int(), 0);

  const JsonValue* program = v->find("program");
  ASSERT_NE(program, nullptr);
  EXPECT_EQ(program->find("instructions")->as_array().size(), 3u);  // Q, 1 NPU partition, DQ
  EXPECT_GE(program->find("arena_bytes")->as_int(), program->find("lower_bound_bytes")->as_int());
  EXPECT_EQ(read_file(prog).substr(4, 4), "NPRG");
  const std::string text = read_file(listing);
  EXPECT_EQ(text.rfind("# neutron program listing", 0), 0u);
  EXPECT_NE(text.find("npu partition 0 ("), std::string::npos);
  EXPECT_EQ(text.find("npu partition 1 ("), std::string::npos);
  EXPECT_NE(text.find("i8[1,3,36,36] q(0.00780867,0) = Pad(%input_quantized)"), std::string::npos) << text.substr(0, 3000);
}

TEST(CompileCli, ProgramIsDeterministic) {
  const std::string a = temp_dir() + "/a.nprg", b = temp_dir() + "/b.nprg";
  const std::string model = fixture("mobilenet_v1_025", "model_int8.onnx");
  ASSERT_EQ(run_cli("compile " + model + " --target imxrt700 -o " + a).exit_code, 0);
  ASSERT_EQ(run_cli("compile " + model + " --target imxrt700 -o " + b).exit_code, 0);
  const std::string ta = read_file(a);
  EXPECT_FALSE(ta.empty());
  EXPECT_EQ(ta, read_file(b));
}

TEST(CompileCli, DenyListMovesOpsToTheCpu) {
  const std::string json = temp_dir() + "/deny.json";
  const CommandResult r = run_cli("compile " + fixture("fmnist_cnn", "model_int8.onnx") + " --target imxrt700 -o " +
                                  temp_dir() + "/deny.txt --report-json " + json + " --no-delegate Gemm,MaxPool");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto v = parse_json(read_file(json), json);
  ASSERT_TRUE(v.ok());
  for (const JsonValue& n : v->find("nodes")->as_array()) {
    const std::string op = n.find("op")->as_string();
    if (op == "Gemm" || op == "MaxPool") {
      EXPECT_EQ(n.find("placement")->as_string(), "CPU");
      EXPECT_EQ(n.find("rule")->as_string(), "user.no_delegate");
    }
  }
}

TEST(CompileCli, SupportedOpsDocumentIsCurrent) {
  const CommandResult r = run_cli("supported-ops --target imxrt700");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string committed = read_file(std::string(NEUTRON_FIXTURES_DIR) + "/../docs/supported-ops.md");
  EXPECT_EQ(r.output, committed) << "regenerate: neutron supported-ops --target imxrt700 -o docs/supported-ops.md";
  EXPECT_NE(r.output.find("`conv.weight_volume` | kH * kW * round_up(Cin, 8) must be <= 65535"),
            std::string::npos);
}

}  // namespace
}  // namespace neutron
