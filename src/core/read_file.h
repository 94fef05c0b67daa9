// Reading input files (host side): the one place that opens a file named on the command line for
// reading, so that every reader gives the same messages: "<path>: no such file", "<path>: is a
// directory", "<path>: cannot open (<reason>)", "<path>: read error", and a file above the memory
// budget is refused before it is read.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "core/status.h"

namespace neutron {

// An open input file. `size` is the file's size for a regular file, -1 for a pipe or device.
struct InputFile {
  struct Closer {
    void operator()(std::FILE* f) const {
      if (f) std::fclose(f);
    }
  };
  std::unique_ptr<std::FILE, Closer> f;
  int64_t size = -1;
};

// Opens `path` for reading; a directory is an error.
StatusOr<InputFile> open_input_file(const std::string& path);
// Reads exactly `n` bytes into `dst`; an error names `path` ("truncated" when the file ends early).
Status read_exact(InputFile& in, void* dst, size_t n, const std::string& path);
// The whole file (checked against the memory budget before reading when its size is known).
StatusOr<std::string> read_file(const std::string& path);

}  // namespace neutron
