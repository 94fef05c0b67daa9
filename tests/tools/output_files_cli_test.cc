// Lost files (issue 13): no command overwrites one of its inputs, a write to a full disk is an error,
// and a refused, failed or interrupted command leaves old files intact and no new or partial ones.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "core/npy.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::CommandResult;
using testing::read_file;
using testing::run_cli;

const std::string kFixtures = NEUTRON_FIXTURES_DIR;

// A fresh directory per test with a copy of the fmnist models and an input and calibration file.
struct Scratch {
  std::string dir = testing::make_temp_dir("neutron_lost_files");
  std::string f32 = dir + "/model_f32.onnx";
  std::string int8 = dir + "/model_int8.onnx";
  std::string x = dir + "/x.npy";
  std::string calib = dir + "/calib.npy";
  Scratch() {
    testing::write_file(f32, read_file(kFixtures + "/fmnist_cnn/model_f32.onnx"));
    testing::write_file(int8, read_file(kFixtures + "/fmnist_cnn/model_int8.onnx"));
    TensorData in(DType::F32, {1, 1, 28, 28}), cal(DType::F32, {4, 1, 28, 28});
    for (int64_t i = 0; i < in.count(); ++i) in.data<float>()[i] = float(i % 29) / 29.0f;
    for (int64_t i = 0; i < cal.count(); ++i) cal.data<float>()[i] = float(i % 31) / 31.0f;
    EXPECT_TRUE(write_npy(x, in).ok());
    EXPECT_TRUE(write_npy(calib, cal).ok());
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  // The directory's entries: a leftover temporary file shows up here.
  std::set<std::string> entries() const {
    std::set<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.insert(e->d_name);
      closedir(d);
    }
    return names;
  }
  std::set<std::string> initial() const { return {"model_f32.onnx", "model_int8.onnx", "x.npy", "calib.npy"}; }
};

// Refused before anything runs: usage error naming both paths, the input untouched, nothing written.
void expect_refused(const Scratch& s, const CommandResult& r, const std::string& victim, const std::string& victim_bytes,
                    const std::string& option) {
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(option), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("same file"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(victim), victim_bytes) << victim << " was changed";
  EXPECT_EQ(s.entries(), s.initial());
}

TEST(LostFiles, QuantizeReportJsonNamingTheModelIsRefused) {
  Scratch s;
  const std::string model = read_file(s.f32), calib = read_file(s.calib);
  const std::string base = "quantize " + s.f32 + " --calib " + s.calib + " -o " + s.path("q.onnx");
  expect_refused(s, run_cli(base + " --report-json " + s.f32), s.f32, model, "--json");
  expect_refused(s, run_cli(base + " --report-json " + s.calib), s.calib, calib, "-i ");
  expect_refused(s, run_cli("quantize " + s.f32 + " --calib " + s.calib + " -o " + s.dir + "/./model_f32.onnx"), s.f32,
                 model, "the input model");
  expect_refused(s, run_cli(base + " --report-json " + s.dir + "/../" + s.dir.substr(s.dir.rfind('/') + 1) + "/q.onnx"),
                 s.f32, model, "name the same file");
}

TEST(LostFiles, CompileCalibAsOutputIsRefused) {
  Scratch s;
  const std::string calib = read_file(s.calib), model = read_file(s.int8);
  expect_refused(s, run_cli("compile " + s.f32 + " --target imxrt700 --calib " + s.calib + " -o " + s.calib), s.calib,
                 calib, "-i ");
  // Through a symlink, and relative to the working directory.
  ASSERT_EQ(::symlink(s.int8.c_str(), s.path("link.onnx").c_str()), 0);
  CommandResult r = run_cli("compile " + s.path("link.onnx") + " --target imxrt700 -o " + s.int8);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_cli("compile " + s.int8 + " --target imxrt700 -o " + s.path("p.nprg") + " --listing " + s.path("link.onnx"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  ASSERT_EQ(::unlink(s.path("link.onnx").c_str()), 0);
  r = run_cli("compile " + s.int8 + " --target imxrt700 -o " + s.path("p.nprg") + " --listing " + s.dir + "//p.nprg");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--listing"), std::string::npos) << r.output;
  r = run_cli("compile " + s.int8 + " --target imxrt700 -o " + s.path("p.nprg") + " --report-json " + s.path("p.nprg"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(read_file(s.int8), model);
  EXPECT_EQ(s.entries(), s.initial());
}

TEST(LostFiles, RunJsonNamingAnInputIsRefused) {
  Scratch s;
  const std::string x = read_file(s.x), model = read_file(s.int8);
  expect_refused(s, run_cli("run " + s.int8 + " -i " + s.x + " --json " + s.x), s.x, x, "-i");
  expect_refused(s, run_cli("run " + s.int8 + " -i " + s.x + " --json " + s.int8), s.int8, model, "the model");
  // A compiled program too.
  ASSERT_EQ(run_cli("compile " + s.int8 + " --target imxrt700 -o " + s.path("p.nprg")).exit_code, 0);
  const std::string program = read_file(s.path("p.nprg"));
  CommandResult r = run_cli("run " + s.path("p.nprg") + " -i " + s.x + " --json " + s.dir + "/./x.npy");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_cli("run " + s.path("p.nprg") + " -i " + s.x + " --json " + s.path("p.nprg"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(read_file(s.x), x);
  EXPECT_EQ(read_file(s.path("p.nprg")), program);
}

TEST(LostFiles, RunOutputDirectoryHoldingAnInputIsRefused) {
  Scratch s;
  const std::string out = s.path("out");
  ::mkdir(out.c_str(), 0777);
  const std::string in = out + "/output_0.npy";
  testing::write_file(in, read_file(s.x));
  ASSERT_EQ(run_cli("compile " + s.int8 + " --target imxrt700 -o " + s.path("p.nprg")).exit_code, 0);
  for (const std::string& model : {s.int8, s.path("p.nprg")}) {
    for (const std::string& dir : {out, out + "/", s.dir + "/./out"}) {
      CommandResult r = run_cli("run " + model + " -i " + in + " -o " + dir);
      EXPECT_EQ(r.exit_code, 2) << r.output;
      EXPECT_NE(r.output.find("output_0.npy"), std::string::npos) << r.output;
      EXPECT_EQ(read_file(in), read_file(s.x));
    }
  }
  // The other outputs of the same run may not collide with the files in the directory either.
  CommandResult r = run_cli("run " + s.int8 + " -i " + s.x + " -o " + out + " --json " + in);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(read_file(in), read_file(s.x));
}

TEST(LostFiles, CompareJsonNamingTheReferenceIsRefused) {
  Scratch s;
  const std::string model = read_file(s.f32), test = read_file(s.int8), x = read_file(s.x);
  const std::string base = "compare " + s.f32 + " " + s.int8 + " --inputs " + s.x;
  expect_refused(s, run_cli(base + " --json " + s.f32), s.f32, model, "the reference model");
  expect_refused(s, run_cli(base + " --json " + s.int8), s.int8, test, "the test model");
  expect_refused(s, run_cli(base + " --json " + s.x), s.x, x, "-i ");
}

TEST(LostFiles, SupportedOpsOutputNamingTheTargetIsRefused) {
  Scratch s;
  const std::string target = s.path("t.json");
  testing::write_file(target, read_file(kFixtures + "/../src/target/targets/imxrt700.json"));
  const std::string bytes = read_file(target);
  CommandResult r = run_cli("supported-ops --target " + target + " -o " + target);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--target"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(target), bytes);
  // A target given by name is not a file of the working directory.
  r = run_cli("supported-ops --target imxrt700 -o " + s.path("imxrt700"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// ---- Full disk ----------------------------------------------------------------------------------

void expect_full_disk(const CommandResult& r) {
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("/dev/full"), std::string::npos) << r.output;
}

TEST(LostFiles, AFullDiskIsAnErrorInEveryCommand) {
  Scratch s;
  expect_full_disk(run_cli("supported-ops --target imxrt700 -o /dev/full"));
  expect_full_disk(run_cli("run " + s.int8 + " -i " + s.x + " --json /dev/full"));
  expect_full_disk(run_cli("compare " + s.f32 + " " + s.int8 + " --inputs " + s.x + " --json /dev/full"));
  expect_full_disk(run_cli("compile " + s.int8 + " --target imxrt700 -o /dev/full"));
  expect_full_disk(run_cli("compile " + s.int8 + " --target cpu -o " + s.path("p.nprg") + " --listing /dev/full"));
  // The other outputs of a failed command are not written: no model without its report.
  expect_full_disk(run_cli("quantize " + s.f32 + " --calib " + s.calib + " -o " + s.path("q.onnx") +
                           " --report-json /dev/full"));
  // -o DIR is not left behind when its files could not be written.
  expect_full_disk(run_cli("run " + s.int8 + " -i " + s.x + " -o " + s.path("out") + " --json /dev/full"));
  EXPECT_EQ(s.entries(), s.initial());
}

// ---- compile commits all its outputs or none --------------------------------------------------

TEST(LostFiles, AFailedCompileLeavesTheOldProgramAndNoNewFiles) {
  Scratch s;
  const std::string prog = s.path("p.nprg");
  testing::write_file(prog, "old program");
  for (const std::string& target : {std::string("imxrt700"), std::string("cpu")}) {
    const std::string base = "compile " + s.int8 + " --target " + target + " -o " + prog;
    CommandResult r = run_cli(base + " --report-json /dev/full");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    r = run_cli(base + " --report-json " + s.path("r.json") + " --listing " + s.path("missing/listing.txt"));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(s.path("missing/listing.txt")), std::string::npos) << r.output;
    EXPECT_EQ(read_file(prog), "old program") << target;
    std::set<std::string> want = s.initial();
    want.insert("p.nprg");
    EXPECT_EQ(s.entries(), want) << target;
  }
  // A failure before the outputs (a float model without --calib) writes nothing either.
  EXPECT_EQ(run_cli("compile " + s.f32 + " --target imxrt700 -o " + prog).exit_code, 1);
  EXPECT_EQ(read_file(prog), "old program");

  // Success replaces all three, and leaves nothing else.
  CommandResult r = run_cli("compile " + s.int8 + " --target imxrt700 -o " + prog + " --report-json " + s.path("r.json") +
                            " --listing " + s.path("l.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(prog).substr(4, 4), "NPRG");
  std::set<std::string> want = s.initial();
  want.insert({"p.nprg", "r.json", "l.txt"});
  EXPECT_EQ(s.entries(), want);
}

TEST(LostFiles, QuantizeWritesTheModelAndReportTogether) {
  Scratch s;
  testing::write_file(s.path("q.onnx"), "old model");
  CommandResult r = run_cli("quantize " + s.f32 + " --calib " + s.calib + " -o " + s.path("q.onnx") + " --report-json " +
                            s.path("missing/r.json"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(read_file(s.path("q.onnx")), "old model");
  r = run_cli("quantize " + s.f32 + " --calib " + s.calib + " -o " + s.path("q.onnx") + " --report-json " +
              s.path("r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file(s.path("q.onnx")), "old model");
  EXPECT_NE(read_file(s.path("r.json")).find("\"groups\""), std::string::npos);
  std::set<std::string> want = s.initial();
  want.insert({"q.onnx", "r.json"});
  EXPECT_EQ(s.entries(), want);
}

// ---- Pipes and stdout are written directly -------------------------------------------------------

TEST(LostFiles, OutputsToAFifoOrStdoutAreWrittenDirectly) {
  Scratch s;
  const std::string fifo = s.path("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  std::string got;
  std::thread reader([&] { got = read_file(fifo); });
  CommandResult r = run_cli("compile " + s.int8 + " --target imxrt700 -o " + s.path("p.nprg") + " --report-json " + fifo);
  reader.join();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(got.find("\"partitions\""), std::string::npos) << got;

  for (const char* out : {"/dev/stdout", "-"}) {
    r = run_cli(std::string("supported-ops --target imxrt700 -o ") + out);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("# Operators on the Neutron NPU: imxrt700"), std::string::npos) << out;
  }
  r = run_cli("run " + s.int8 + " -i " + s.x + " --json /dev/stdout");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"outputs\""), std::string::npos) << r.output;
  std::set<std::string> want = s.initial();
  want.insert({"p.nprg", "pipe"});
  EXPECT_EQ(s.entries(), want);
}

// ---- Interrupted -----------------------------------------------------------------------------------

// compile writes its temporary files, then blocks opening --listing (a FIFO nobody reads) until Ctrl-C:
// the old program stays and the temporary files go.
TEST(LostFiles, AnInterruptedCompileLeavesTheOldProgramAndNoTemporaryFiles) {
  Scratch s;
  const std::string prog = s.path("p.nprg"), fifo = s.path("pipe");
  testing::write_file(prog, "old program");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::freopen("/dev/null", "w", stdout);
    ::execl(NEUTRON_BINARY, "neutron", "compile", s.int8.c_str(), "--target", "imxrt700", "-o", prog.c_str(),
            "--report-json", s.path("r.json").c_str(), "--listing", fifo.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::set<std::string> want = s.initial();
  want.insert({"p.nprg", "pipe"});
  // Two temporary files (program and report) appear beside their targets.
  for (int i = 0; i < 1000 && s.entries().size() < want.size() + 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(s.entries().size(), want.size() + 2);
  ::kill(child, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << status;
  EXPECT_EQ(read_file(prog), "old program");
  EXPECT_EQ(s.entries(), want);
}

}  // namespace
}  // namespace neutron
