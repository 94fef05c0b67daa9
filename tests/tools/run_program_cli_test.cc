// `neutron compile MODEL -o P.nprg` then `neutron run P.nprg` from the outside: the program's
// outputs equal `neutron run MODEL.onnx` bit for bit (compiled for imxrt700 or for --target cpu, and
// an imxrt700 program run with --target cpu), the NPU
// timing is reported (text, --profile, --json), and bad programs or inputs give exit 1 with a
// message naming the file or the input, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "core/json.h"
#include "core/npy.h"
#include "program/program_format.h"
#include "runtime/payload.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::run_cli;

constexpr int kSamples = 10;

const std::string& temp_dir() {
  static const std::string dir = testing::make_temp_dir("neutron_run_program_test");
  return dir;
}

std::string fixture(const std::string& model, const std::string& file) {
  return std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/" + file;
}

// The first `n` samples of the fixture's inputs as one file ([n, ...]) and as n files ([1, ...]).
struct Inputs {
  std::string all;
  std::vector<std::string> each;
};

Inputs write_inputs(const std::string& model, int n) {
  Inputs r;
  auto x = read_npy(fixture(model, "inputs.npy"));
  EXPECT_TRUE(x.ok()) << x.status().to_string();
  if (!x.ok()) return r;
  Shape s = x->shape;
  const size_t one = x->bytes.size() / size_t(s[0]);
  s[0] = n;
  TensorData all(x->dtype, s);
  std::memcpy(all.bytes.data(), x->bytes.data(), all.bytes.size());
  r.all = temp_dir() + "/" + model + "_inputs.npy";
  EXPECT_TRUE(write_npy(r.all, all).ok());
  s[0] = 1;
  for (int k = 0; k < n; ++k) {
    TensorData t(x->dtype, s);
    std::memcpy(t.bytes.data(), x->bytes.data() + size_t(k) * one, one);
    r.each.push_back(temp_dir() + "/" + model + "_input_" + std::to_string(k) + ".npy");
    EXPECT_TRUE(write_npy(r.each.back(), t).ok());
  }
  return r;
}

std::string compile(const std::string& model, const std::string& target) {
  const std::string prog = temp_dir() + "/" + model + "_" + target + ".nprg";
  const CommandResult r =
      run_cli("compile " + fixture(model, "model_int8.onnx") + " --target " + target + " -o " + prog);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return prog;
}

TensorData read_output(const std::string& dir) {
  auto y = read_npy(dir + "/output_0.npy");
  EXPECT_TRUE(y.ok()) << y.status().to_string();
  return y.ok() ? std::move(y).value() : TensorData();
}

// `neutron run MODEL.onnx` on each sample, stacked.
TensorData onnx_outputs(const std::string& model, const Inputs& in) {
  TensorData all;
  for (size_t k = 0; k < in.each.size(); ++k) {
    const std::string dir = temp_dir() + "/" + model + "_onnx_" + std::to_string(k);
    const CommandResult r = run_cli("run " + fixture(model, "model_int8.onnx") + " -i " + in.each[k] + " -o " + dir);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const TensorData y = read_output(dir);
    if (y.shape.empty()) return {};
    if (k == 0) {
      Shape s = y.shape;
      s[0] = int64_t(in.each.size());
      all = TensorData(y.dtype, s);
    }
    std::memcpy(all.bytes.data() + k * y.bytes.size(), y.bytes.data(), y.bytes.size());
  }
  return all;
}

class RunProgramCli : public ::testing::TestWithParam<const char*> {};

TEST_P(RunProgramCli, NpuAndCpuProgramsEqualTheOnnxModelBitForBit) {
  const std::string model = GetParam();
  const Inputs in = write_inputs(model, kSamples);
  const TensorData want = onnx_outputs(model, in);
  ASSERT_FALSE(want.shape.empty());

  // imxrt700: Neutron partitions through backend -> driver -> simulator.
  const std::string npu = compile(model, "imxrt700");
  const std::string out = temp_dir() + "/" + model + "_npu_out", json = temp_dir() + "/" + model + "_npu.json";
  CommandResult r = run_cli("run " + npu + " -i " + in.all + " -o " + out + " --json " + json + " --profile");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(r.crashed);
  EXPECT_NE(r.output.find("simulated NPU time"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kernels"), std::string::npos) << "--profile prints the kernels:\n" << r.output;
  EXPECT_NE(r.output.find("output 0 'output': f32[" + std::to_string(kSamples)), std::string::npos) << r.output;
  const TensorData got = read_output(out);
  EXPECT_EQ(got.shape, want.shape);
  EXPECT_TRUE(got.bytes == want.bytes) << "NPU program outputs differ from `neutron run model_int8.onnx`";

  auto j = parse_json(testing::read_file(json), json);
  ASSERT_TRUE(j.ok()) << j.status().to_string();
  ASSERT_NE(j->find("npu_latency_ms"), nullptr);
  EXPECT_GT(j->find("npu_latency_ms")->as_number(), 0.0);
  EXPECT_GT(j->find("npu_cycles")->as_number(), 0.0);
  EXPECT_EQ(j->find("samples")->as_int(), kSamples);
  EXPECT_EQ(j->find("target")->as_string(), "imxrt700");
  ASSERT_TRUE(j->find("delegates") && j->find("delegates")->is_array());
  EXPECT_GE(j->find("delegates")->as_array().size(), 1u);
  for (const JsonValue& d : j->find("delegates")->as_array()) EXPECT_GT(d.find("latency_ms")->as_number(), 0.0);
  // arena_bytes is the plan's activation arena (as in compile and inspect); the runtime needs it and its own state.
  EXPECT_GE(j->find("arena_bytes")->as_int(), j->find("lower_bound_bytes")->as_int());
  EXPECT_GE(j->find("runtime_arena_bytes")->as_int(), j->find("arena_bytes")->as_int());
  ASSERT_EQ(j->find("outputs")->as_array().size(), 1u);
  EXPECT_EQ(j->find("outputs")->as_array()[0].find("name")->as_string(), "output");

  // --target cpu: every op as CPU kernel calls, the same bytes.
  const std::string cpu = compile(model, "cpu");
  const std::string cout_dir = temp_dir() + "/" + model + "_cpu_out", cjson = temp_dir() + "/" + model + "_cpu.json";
  r = run_cli("run " + cpu + " -i " + in.all + " -o " + cout_dir + " --json " + cjson);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("simulated NPU time"), std::string::npos) << "nothing runs on the NPU:\n" << r.output;
  const TensorData cgot = read_output(cout_dir);
  EXPECT_TRUE(cgot.bytes == want.bytes) << "CPU program outputs differ from `neutron run model_int8.onnx`";
  auto cj = parse_json(testing::read_file(cjson), cjson);
  ASSERT_TRUE(cj.ok()) << cj.status().to_string();
  EXPECT_EQ(cj->find("target")->as_string(), "cpu");
  EXPECT_EQ(cj->find("npu_latency_ms")->as_number(), 0.0);
  EXPECT_TRUE(cj->find("delegates")->as_array().empty());

  // `neutron run NPU.nprg --target cpu`: the delegates' payloads as CPU kernel calls, the same bytes.
  const std::string on_cpu = temp_dir() + "/" + model + "_npu_on_cpu_out";
  r = run_cli("run " + npu + " --target cpu -i " + in.all + " -o " + on_cpu);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("simulated NPU time"), std::string::npos) << "nothing runs on the NPU:\n" << r.output;
  EXPECT_TRUE(read_output(on_cpu).bytes == want.bytes) << "NPU program with --target cpu differs";

  // One sample in the model's own shape ([1, ...]) gives the first row.
  const std::string out1 = temp_dir() + "/" + model + "_npu_out1";
  r = run_cli("run " + npu + " -i " + in.each[0] + " -o " + out1);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const TensorData one = read_output(out1);
  ASSERT_EQ(one.bytes.size() * kSamples, want.bytes.size());
  EXPECT_EQ(std::memcmp(one.bytes.data(), want.bytes.data(), one.bytes.size()), 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RunProgramCli, ::testing::Values("cifarnet", "fmnist_cnn"),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

void expect_clean_failure(const CommandResult& r, const std::string& must_mention) {
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(must_mention), std::string::npos) << "the message should name '" << must_mention << "':\n"
                                                            << r.output;
}

const std::string& cifarnet_program() {
  static const std::string p = compile("cifarnet", "imxrt700");
  return p;
}

TEST(RunProgramCliErrors, CorruptProgramFile) {
  const std::string bytes = testing::read_file(cifarnet_program());
  ASSERT_GT(bytes.size(), 1000u);
  // Truncated: the header still says NPRG, the rest is missing.
  const std::string truncated = temp_dir() + "/truncated.nprg";
  testing::write_file(truncated, bytes.substr(0, bytes.size() / 2));
  const Inputs in = write_inputs("cifarnet", 1);
  expect_clean_failure(run_cli("run " + truncated + " -i " + in.all + " -o " + temp_dir() + "/t_out"), truncated);
  // Garbage after the identifier.
  std::string garbage = bytes.substr(0, 8) + std::string(bytes.size() - 8, '\xa5');
  const std::string junk = temp_dir() + "/garbage.nprg";
  testing::write_file(junk, garbage);
  expect_clean_failure(run_cli("run " + junk + " -i " + in.all + " -o " + temp_dir() + "/g_out"), junk);
  // Every byte of the payload area zeroed: verified structure, payloads rejected.
  std::string zeroed = bytes;
  for (size_t k = bytes.size() / 4; k < bytes.size() * 3 / 4; ++k) zeroed[k] = 0;
  const std::string z = temp_dir() + "/zeroed.nprg";
  testing::write_file(z, zeroed);
  const CommandResult r = run_cli("run " + z + " -i " + in.all + " -o " + temp_dir() + "/z_out");
  EXPECT_FALSE(r.crashed) << r.output;
  if (r.exit_code != 0) expect_clean_failure(r, z);
}

TEST(RunProgramCliErrors, WrongInputShapeDtypeOrCount) {
  const std::string& prog = cifarnet_program();
  const std::string bad_shape = temp_dir() + "/bad_shape.npy", bad_dtype = temp_dir() + "/bad_dtype.npy";
  ASSERT_TRUE(write_npy(bad_shape, TensorData(DType::F32, {1, 3, 28, 28})).ok());
  ASSERT_TRUE(write_npy(bad_dtype, TensorData(DType::I32, {1, 3, 32, 32})).ok());
  CommandResult r = run_cli("run " + prog + " -i " + bad_shape + " -o " + temp_dir() + "/s_out");
  expect_clean_failure(r, "'input'");
  EXPECT_NE(r.output.find("bad_shape.npy"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[1,3,32,32]"), std::string::npos) << r.output;
  r = run_cli("run " + prog + " -i " + bad_dtype + " -o " + temp_dir() + "/d_out");
  expect_clean_failure(r, "'input'");
  EXPECT_NE(r.output.find("f32"), std::string::npos) << r.output;
  const Inputs in = write_inputs("cifarnet", 1);
  expect_clean_failure(run_cli("run " + prog + " -i " + in.all + " -i " + in.all), "input");
  expect_clean_failure(run_cli("run " + prog), "input");
}

// `bytes` (a program file's FlatBuffer and trailer) with the trailer recomputed after an edit.
std::string resealed(const std::string& bytes) {
  std::string content = bytes.substr(0, bytes.size() - program::kTrailerBytes);
  uint8_t trailer[program::kTrailerBytes];
  program::make_trailer(reinterpret_cast<const uint8_t*>(content.data()), content.size(), trailer);
  return content + std::string(reinterpret_cast<const char*>(trailer), sizeof(trailer));
}

// A damaged identifier is reported as a program with the wrong identifier, whatever the file's
// name, not as "not a valid ONNX model".
TEST(RunProgramCliErrors, DamagedIdentifierIsNamed) {
  const std::string bytes = testing::read_file(cifarnet_program());
  ASSERT_EQ(bytes.substr(4, 4), "NPRG");
  const Inputs in = write_inputs("cifarnet", 1);
  std::string damaged = bytes;
  damaged[7] = 'H';
  std::string binary = bytes;
  binary[5] = '\x01';
  binary[6] = '\xff';
  std::string untrailed = damaged.substr(0, damaged.size() - program::kTrailerBytes);  // found by its shape
  for (const auto& [name, content, id] :
       {std::tuple<std::string, std::string, std::string>{"damaged_id.nprg", damaged, "NPRH"},
        {"damaged_id.bin", damaged, "NPRH"},
        {"damaged_id2.bin", binary, "N\\x01\\xffG"},
        {"damaged_id_untrailed", untrailed, "NPRH"}}) {
    const std::string path = temp_dir() + "/" + name;
    testing::write_file(path, content);
    const CommandResult r = run_cli("run " + path + " -i " + in.all + " -o " + temp_dir() + "/id_out");
    expect_clean_failure(r, path + ": not a neutron program: identifier '" + id + "' (expected NPRG)");
    EXPECT_EQ(r.output.find("ONNX"), std::string::npos) << r.output;
  }
  // An ONNX model is still run as one.
  const CommandResult onnx = run_cli("run " + fixture("cifarnet", "model_int8.onnx") + " -i " + in.all + " -o " +
                                     temp_dir() + "/onnx_out");
  EXPECT_EQ(onnx.exit_code, 0) << onnx.output;
}

// Commands that take an ONNX model say so when given a compiled program, instead of calling it a
// damaged ONNX file.
TEST(RunProgramCliErrors, ProgramGivenWhereAModelIsExpectedIsNamed) {
  const std::string prog = cifarnet_program();
  const std::string calib = write_inputs("cifarnet", 2).all;
  for (const std::string& cmd :
       {"dump " + prog, "compile " + prog + " --target cpu -o " + temp_dir() + "/p2.nprg",
        "quantize " + prog + " --calib " + calib + " -o " + temp_dir() + "/q.onnx"}) {
    const CommandResult r = run_cli(cmd);
    const std::string verb = cmd.substr(0, cmd.find(' '));
    expect_clean_failure(r, prog + ": this is a compiled neutron program; `neutron " + verb + "` takes an ONNX model");
  }
  // compare takes programs (tests/tools/sample_axis_cli_test.cc).
  const CommandResult r = run_cli("compare " + prog + " " + prog + " --inputs " + calib);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// A flipped bit anywhere in the weights (the bulk of the file) is an error at load, never a
// different answer.
TEST(RunProgramCliErrors, FlippedWeightByteIsAChecksumError) {
  const std::string bytes = testing::read_file(cifarnet_program());
  const Inputs in = write_inputs("cifarnet", 1);
  for (size_t at : {bytes.size() / 3, bytes.size() / 2, bytes.size() - 40}) {
    std::string flipped = bytes;
    flipped[at] = char(flipped[at] ^ 0x04);
    const std::string path = temp_dir() + "/flipped.nprg";
    testing::write_file(path, flipped);
    const CommandResult r = run_cli("run " + path + " -i " + in.all + " -o " + temp_dir() + "/f_out");
    expect_clean_failure(r, path + ": program checksum mismatch: file is corrupted");
  }
}

// A delegate payload the parser refuses: the parser's reason reaches the message.
TEST(RunProgramCliErrors, PayloadErrorsGiveTheParsersReason) {
  const std::string bytes = testing::read_file(cifarnet_program());
  const auto* base = reinterpret_cast<const uint8_t*>(bytes.data());
  const fb::Program* p = fb::GetProgram(base);
  const fb::Payload* pl = nullptr;
  for (const fb::Instruction* ins : *p->instructions())
    if (ins->op_as_DelegateCall() && pl == nullptr) pl = p->payloads()->Get(ins->op_as_DelegateCall()->payload());
  ASSERT_NE(pl, nullptr);
  const size_t at = size_t(pl->data()->data() - base);
  const size_t n_in = pl->data()->Get(0), n_out = pl->data()->Get(1);
  std::string bad = bytes;
  bad[at + 3 + 2 * n_in + 2 * n_out] = 7;  // the payload version byte
  const std::string path = temp_dir() + "/bad_payload.nprg";
  testing::write_file(path, resealed(bad));
  const Inputs in = write_inputs("cifarnet", 1);
  const CommandResult r = run_cli("run " + path + " -i " + in.all + " -o " + temp_dir() + "/p_out");
  expect_clean_failure(r, path + ": unknown payload version; instruction ");
  EXPECT_EQ(r.output.find("rejected by its backend"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace neutron
