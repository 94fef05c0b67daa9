// Output files (issue 13): no output clobbers an input or another output; writes are whole or not at all.
#include "core/output_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "core/npy.h"

namespace neutron {
namespace {

std::string fresh_dir() {
  char tmpl[] = "/tmp/neutron_output_filesXXXXXX";
  return std::string(mkdtemp(tmpl));
}

void put(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string get(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.insert(e->d_name);
    closedir(d);
  }
  return names;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// ---- check_output_paths ------------------------------------------------------------------------

TEST(CheckOutputPaths, DistinctPathsPass) {
  const std::string d = fresh_dir();
  put(d + "/m.onnx", "model");
  EXPECT_TRUE(check_output_paths({{"the input model", d + "/m.onnx"}}, {{"-o", d + "/q.onnx"}, {"--report-json", d + "/r.json"}}).ok());
  // Options not given are empty paths.
  EXPECT_TRUE(check_output_paths({{"the input model", d + "/m.onnx"}, {"--calib", ""}}, {{"-o", d + "/q.onnx"}, {"--report-json", ""}, {"--listing", ""}}).ok());
}

TEST(CheckOutputPaths, OutputNamingAnInputIsRefusedNamingBoth) {
  const std::string d = fresh_dir();
  put(d + "/m.onnx", "model");
  const Status s = check_output_paths({{"the input model", d + "/m.onnx"}}, {{"-o", d + "/q.onnx"}, {"--report-json", d + "/m.onnx"}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Error::InvalidArgument);
  EXPECT_NE(s.message().find("--report-json " + d + "/m.onnx"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("the input model " + d + "/m.onnx"), std::string::npos) << s.message();
}

TEST(CheckOutputPaths, DifferentSpellingsOfOneFileAreCaught) {
  const std::string d = fresh_dir();
  ::mkdir((d + "/sub").c_str(), 0777);
  put(d + "/m.onnx", "model");
  ASSERT_EQ(::symlink((d + "/m.onnx").c_str(), (d + "/link.onnx").c_str()), 0);
  ASSERT_EQ(::link((d + "/m.onnx").c_str(), (d + "/hard.onnx").c_str()), 0);
  for (const std::string& out : {d + "/./m.onnx", d + "//m.onnx", d + "/sub/../m.onnx", d + "/link.onnx", d + "/hard.onnx"})
    EXPECT_FALSE(check_output_paths({{"the input model", d + "/m.onnx"}}, {{"-o", out}}).ok()) << out;
  // Relative to the working directory.
  char cwd[4096];
  ASSERT_TRUE(::getcwd(cwd, sizeof(cwd)));
  ASSERT_EQ(::chdir(d.c_str()), 0);
  const bool refused = !check_output_paths({{"the input model", "m.onnx"}}, {{"-o", "./m.onnx"}}).ok();
  const bool outputs_refused = !check_output_paths({}, {{"-o", "new.nprg"}, {"--listing", "./sub/../new.nprg"}}).ok();
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_TRUE(refused);
  EXPECT_TRUE(outputs_refused);
}

TEST(CheckOutputPaths, TwoOutputsNamingOneFileAreRefused) {
  const std::string d = fresh_dir();
  // Neither exists yet: compared by normalized absolute path, also below a missing directory.
  Status s = check_output_paths({}, {{"-o", d + "/p.nprg"}, {"--listing", d + "/x/../p.nprg"}});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("-o " + d + "/p.nprg"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--listing"), std::string::npos) << s.message();
  EXPECT_FALSE(check_output_paths({}, {{"-o", d + "/new/a"}, {"--listing", d + "/new/./a"}}).ok());
  put(d + "/p.nprg", "old");
  EXPECT_FALSE(check_output_paths({}, {{"-o", d + "/p.nprg"}, {"--report-json", d + "/./p.nprg"}}).ok());
  EXPECT_FALSE(check_output_paths({}, {{"-o", "-"}, {"--json", "-"}}).ok());
}

TEST(CheckOutputPaths, DevicesMissingInputsAndNamesAreNotClobbered) {
  const std::string d = fresh_dir();
  // /dev/null twice is fine; a missing input (or a target name) is its reader's business.
  EXPECT_TRUE(check_output_paths({}, {{"--json", "/dev/null"}, {"--listing", "/dev/null"}}).ok());
  EXPECT_TRUE(check_output_paths({{"--target", d + "/imxrt700"}}, {{"-o", d + "/imxrt700"}}).ok());
  EXPECT_TRUE(check_output_paths({{"-i", "-"}}, {{"-o", "-"}}).ok());
}

TEST(CheckOutputPaths, AnInputDirectoryIsNotAnOutputFile) {
  const std::string d = fresh_dir();
  EXPECT_FALSE(check_output_paths({{"--calib", d}}, {{"-o", d}}).ok());
  EXPECT_FALSE(check_output_paths({{"--calib", d}}, {{"-o", d + "/."}}).ok());
}

// ---- write_file_atomically / OutputFiles ------------------------------------------------------

TEST(WriteFileAtomically, CreatesAndReplacesLeavingNoTemporaryFile) {
  const std::string d = fresh_dir();
  ASSERT_TRUE(write_file_atomically(d + "/a.txt", "first").ok());
  EXPECT_EQ(get(d + "/a.txt"), "first");
  ASSERT_EQ(::chmod((d + "/a.txt").c_str(), 0640), 0);
  ASSERT_TRUE(write_file_atomically(d + "/a.txt", "second, longer").ok());
  EXPECT_EQ(get(d + "/a.txt"), "second, longer");
  struct stat st;
  ASSERT_EQ(::stat((d + "/a.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u) << "the new file keeps the old one's mode";
  ASSERT_TRUE(write_file_atomically(d + "/empty", "").ok());
  EXPECT_EQ(get(d + "/empty"), "");
  EXPECT_EQ(entries(d), (std::set<std::string>{"a.txt", "empty"}));
}

TEST(WriteFileAtomically, ASymlinkStaysASymlink) {
  const std::string d = fresh_dir();
  put(d + "/real.txt", "old");
  ASSERT_EQ(::symlink("real.txt", (d + "/link.txt").c_str()), 0);
  ASSERT_TRUE(write_file_atomically(d + "/link.txt", "new").ok());
  struct stat st;
  ASSERT_EQ(::lstat((d + "/link.txt").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(get(d + "/real.txt"), "new");
  EXPECT_EQ(entries(d), (std::set<std::string>{"link.txt", "real.txt"}));
}

TEST(WriteFileAtomically, AFullDeviceIsAnErrorNamingThePath) {
  const Status s = write_file_atomically("/dev/full", "some bytes");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Error::IoError);
  EXPECT_NE(s.message().find("/dev/full"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.message();
  // One byte too: the error is not lost in a buffer.
  EXPECT_FALSE(write_file_atomically("/dev/full", "x").ok());
}

TEST(WriteFileAtomically, DevicesAndFifosAreWrittenDirectly) {
  EXPECT_TRUE(write_file_atomically("/dev/null", "discarded").ok());
  const std::string d = fresh_dir(), fifo = d + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  std::string got;
  std::thread reader([&] { got = get(fifo); });
  const Status s = write_file_atomically(fifo, "through the pipe");
  reader.join();
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(got, "through the pipe");
  EXPECT_EQ(entries(d), (std::set<std::string>{"pipe"}));
}

TEST(WriteFileAtomically, FailuresLeaveNothingBehind) {
  const std::string d = fresh_dir();
  ::mkdir((d + "/a_dir").c_str(), 0777);
  put(d + "/a_dir/keep", "kept");
  Status s = write_file_atomically(d + "/a_dir", "bytes");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(d + "/a_dir"), std::string::npos) << s.message();
  EXPECT_EQ(get(d + "/a_dir/keep"), "kept");
  s = write_file_atomically(d + "/missing/x.json", "bytes");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(d + "/missing/x.json"), std::string::npos) << s.message();
  EXPECT_EQ(entries(d), (std::set<std::string>{"a_dir"}));
  EXPECT_EQ(entries(d + "/a_dir"), (std::set<std::string>{"keep"}));
}

TEST(OutputFiles, NothingIsReplacedUnlessEverythingWasWritten) {
  const std::string d = fresh_dir();
  put(d + "/program.nprg", "old program");
  put(d + "/report.json", "old report");
  {
    OutputFiles out;  // a later output cannot be created
    out.add(d + "/program.nprg", "new program");
    out.add(d + "/missing/listing.txt", "listing");
    EXPECT_FALSE(out.commit().ok());
  }
  {
    OutputFiles out;  // a direct output fails after the temporary files were written
    out.add(d + "/program.nprg", "new program");
    out.add(d + "/report.json", "new report");
    out.add("/dev/full", "listing");
    const Status s = out.commit();
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("/dev/full"), std::string::npos) << s.message();
  }
  EXPECT_EQ(get(d + "/program.nprg"), "old program");
  EXPECT_EQ(get(d + "/report.json"), "old report");
  EXPECT_EQ(entries(d), (std::set<std::string>{"program.nprg", "report.json"}));

  OutputFiles out;
  out.add(d + "/program.nprg", "new program");
  out.add(d + "/report.json", "new report");
  out.add(d + "/listing.txt", "new listing");
  out.add("/dev/null", "discarded");
  ASSERT_TRUE(out.commit().ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(get(d + "/program.nprg"), "new program");
  EXPECT_EQ(get(d + "/report.json"), "new report");
  EXPECT_EQ(get(d + "/listing.txt"), "new listing");
  EXPECT_EQ(entries(d), (std::set<std::string>{"listing.txt", "program.nprg", "report.json"}));
}

// A command killed while its outputs are being written leaves neither temporary nor partial files: the
// child blocks opening a FIFO (a direct output, written after the temporary files) until it is killed.
TEST(OutputFiles, AnInterruptedCommitRemovesItsTemporaryFiles) {
  const std::string d = fresh_dir(), fifo = d + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  put(d + "/program.nprg", "old program");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    remove_temporary_outputs_on_signal();
    OutputFiles out;
    out.add(d + "/program.nprg", "new program");
    out.add(d + "/report.json", "new report");
    out.add(fifo, "never read");
    (void)out.commit();
    ::_exit(0);
  }
  // Wait for the two temporary files.
  for (int i = 0; i < 500 && entries(d).size() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(entries(d).size(), 4u);
  ::kill(child, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_EQ(entries(d), (std::set<std::string>{"pipe", "program.nprg"}));
  EXPECT_EQ(get(d + "/program.nprg"), "old program");
}

TEST(WriteNpy, IsAtomicAndChecked) {
  const std::string d = fresh_dir();
  TensorData t(DType::F32, {2, 3});
  ASSERT_TRUE(write_npy(d + "/x.npy", t).ok());
  EXPECT_TRUE(read_npy(d + "/x.npy").ok());
  const Status s = write_npy("/dev/full", t);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/dev/full"), std::string::npos);
  EXPECT_FALSE(write_npy(d + "/no/x.npy", t).ok());
  EXPECT_EQ(entries(d), (std::set<std::string>{"x.npy"}));
  EXPECT_FALSE(exists(d + "/no"));
}

}  // namespace
}  // namespace neutron
