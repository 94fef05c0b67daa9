// Test helper: runs the `neutron` binary (NEUTRON_BINARY) and captures its exit code and output.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace neutron::testing {

struct CommandResult {
  int exit_code = -1;
  bool crashed = false;
  std::string output;  // stdout + stderr
};

// Runs a shell command line and captures what it writes to stdout.
inline CommandResult run_shell(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.crashed = true;
  return r;
}

inline CommandResult run_cli(const std::string& args) {
  return run_shell(std::string(NEUTRON_BINARY) + " " + args + " 2>&1");
}

// A fresh directory under /tmp, one per `prefix` and process.
inline std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "XXXXXX";
  return std::string(mkdtemp(tmpl.data()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace neutron::testing
