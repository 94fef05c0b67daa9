// Small helpers shared by the CLI commands: argument parsing, failure reporting, JSON text.
#pragma once
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

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

// JSON has no inf/nan: those become null.
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// True when both paths name the same existing file.
inline bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
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
