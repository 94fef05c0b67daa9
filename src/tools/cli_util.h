// Small helpers shared by the CLI commands: argument parsing, failure reporting, JSON text.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/output_files.h"
#include "core/status.h"
#include "core/strcat.h"
#include "tools/cli.h"

namespace neutron::cli {

inline int fail(const Status& s) {
  std::fprintf(stderr, "neutron: %s\n", s.to_string().c_str());
  return kExitFailure;
}

// printf into a string: the command functions (tools/commands.h) build the text the CLI prints.
__attribute__((format(printf, 2, 3))) inline void appendf(std::string* out, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0) {
    va_end(ap2);
    return;
  }
  if (size_t(n) < sizeof(buf)) {
    out->append(buf, size_t(n));
  } else {
    std::string big(size_t(n) + 1, '\0');
    std::vsnprintf(&big[0], big.size(), fmt, ap2);
    out->append(big.data(), size_t(n));
  }
  va_end(ap2);
}

// How much the commands print besides their results: 0 with -q (errors only), 1 by default, 2 with -v.
inline int g_verbosity = 1;
inline bool quiet() { return g_verbosity <= 0; }
inline bool verbose() { return g_verbosity >= 2; }
// Progress lines of long steps (calibration, compare) on stderr; the Python module turns them off.
inline bool g_progress = true;
inline bool show_progress() { return !quiet() && g_progress; }

// The running command's usage line, printed after every usage error (set by main.cc).
inline std::string g_usage;

// A usage error found after parsing (an option combination, an output naming an input): the
// message, the command's usage, exit code 2.
inline int usage_error(const std::string& msg) {
  std::fprintf(stderr, "neutron: %s\n", msg.c_str());
  if (!g_usage.empty()) std::fputs(g_usage.c_str(), stderr);
  return kExitUsage;
}

// With -v: what the command does next, with the seconds since it started.
inline void step(const std::string& msg) {
  if (!verbose()) return;
  static const auto t0 = std::chrono::steady_clock::now();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "neutron: [%7.3f s] %s\n", s, msg.c_str());
}

// A remark on stderr (an option that is not used, a fallback); silent with -q.
inline void note(const std::string& msg) {
  if (!quiet()) std::fprintf(stderr, "neutron: note: %s\n", msg.c_str());
}

// kExitOk when no output names an input or another output (core/output_files.h); otherwise prints
// the usage error and returns kExitUsage: `if (int rc = check_outputs(...)) return rc;`.
inline int check_outputs(const std::string& command, const std::vector<NamedPath>& inputs,
                         const std::vector<NamedPath>& outputs) {
  const Status s = check_output_paths(inputs, outputs);
  return s.ok() ? kExitOk : usage_error(command + ": " + s.message());
}

// `run -o DIR` writes DIR/output_<k>.npy for each model output.
inline std::string run_output_file(const std::string& outdir, size_t k) {
  return outdir + (outdir.back() == '/' ? "" : "/") + "output_" + std::to_string(k) + ".npy";
}

// The inputs of `neutron run`: the model or program and each -i file.
inline std::vector<NamedPath> run_inputs(const std::string& model, const std::vector<std::string>& inputs) {
  std::vector<NamedPath> in{{"the model", model}};
  for (const std::string& i : inputs) in.push_back({"-i", i});
  return in;
}

// The outputs of `neutron run`: --json and, with -o DIR, one .npy per model output.
inline std::vector<NamedPath> run_outputs(const std::string& outdir, size_t num_outputs, const std::string& json_path) {
  std::vector<NamedPath> out{{"--json", json_path}};
  if (!outdir.empty())
    for (size_t k = 0; k < num_outputs; ++k) out.push_back({"-o " + outdir + " (output " + std::to_string(k) + ")", run_output_file(outdir, k)});
  return out;
}

// Commits `run`'s outputs, creating -o DIR first (and removing it again if it was new and nothing
// could be written).
inline Status commit_run_outputs(const std::string& outdir, OutputFiles* files) {
  const bool created = !outdir.empty() && ::mkdir(outdir.c_str(), 0777) == 0;
  Status st = files->commit();
  if (!st.ok() && created) ::rmdir(outdir.c_str());
  return st;
}

}  // namespace neutron::cli
