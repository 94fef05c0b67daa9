// Small helpers shared by the CLI commands: argument parsing, failure reporting, JSON text.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/output_files.h"
#include "core/status.h"
#include "tools/cli.h"

namespace neutron::cli {

inline int fail(const Status& s) {
  std::fprintf(stderr, "neutron: %s\n", s.to_string().c_str());
  return kExitFailure;
}

inline int usage_error(const std::string& msg) {
  std::fprintf(stderr, "neutron: %s\n", msg.c_str());
  return kExitUsage;
}

inline std::string json_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      r += buf;
      continue;
    }
    r += c;
  }
  return r;
}

// Parses a count option's value: a decimal integer in [min_value, max_value], else false.
inline bool parse_count(const std::string& v, long min_value, long max_value, long* out) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min_value || n > max_value) return false;
  *out = n;
  return true;
}

// JSON has no inf/nan: those become null.
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
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

// Walks a command's arguments: options with one value, and positionals.
class ArgParser {
 public:
  ArgParser(std::string command, const std::vector<std::string>& args) : command_(std::move(command)), args_(args) {}
  bool more() const { return ok_ && i_ < args_.size(); }
  bool ok() const { return ok_; }
  // Consumes `name VALUE` if the current argument is `name`.
  bool option(const char* name, std::string* value) {
    if (!more() || args_[i_] != name) return false;
    if (i_ + 1 >= args_.size()) {
      error_ = std::string("option ") + name + " needs a value";
      ok_ = false;
      return true;
    }
    *value = args_[i_ + 1];
    i_ += 2;
    return true;
  }
  bool flag(const char* name) {
    if (!more() || args_[i_] != name) return false;
    ++i_;
    return true;
  }
  // Consumes a positional argument; an unknown option is an error.
  bool positional(std::string* value) {
    if (!more()) return false;
    if (args_[i_].size() > 1 && args_[i_][0] == '-') {
      error_ = "unknown option '" + args_[i_] + "'";
      ok_ = false;
      return false;
    }
    *value = args_[i_++];
    return true;
  }
  int usage_error() const { return cli::usage_error(command_ + ": " + error_); }

 private:
  std::string command_;
  const std::vector<std::string>& args_;
  size_t i_ = 0;
  bool ok_ = true;
  std::string error_;
};

}  // namespace neutron::cli
