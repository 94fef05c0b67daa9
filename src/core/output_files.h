// Output files that never clobber inputs and are written whole or not at all (issue 13).
//
// check_output_paths() refuses a command whose output names one of its inputs or another output.
// OutputFiles collects a command's outputs in memory and commit() writes them: a regular file (or a
// path that does not exist yet) goes to a temporary file beside it that is renamed over the target
// only after every output was written, synced and closed without error; a character device, FIFO
// or socket, and "-" (stdout), are written directly. A failed commit removes its temporary files,
// so old files stay intact and no partial new file is left behind.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace neutron {

// A path given to a command and what named it, for messages: "-o", "--report-json", "the input model".
struct NamedPath {
  std::string what;
  std::string path;
};

// InvalidArgument naming both options and paths when an output is the same file as an input, or two
// outputs are the same file. Existing files are compared by device and inode (so `./m.onnx`, `m.onnx`,
// hard links and symlinks match); a path that does not exist yet by its normalized absolute path (the
// existing part resolved with realpath). Empty paths (options not given) are skipped. Only inputs that
// are existing files or directories are compared (a missing input is its reader's error; a --target
// NAME is not a file); devices, FIFOs and sockets cannot be clobbered, and "-" (stdout) only clashes
// with another "-".
Status check_output_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

class OutputFiles {
 public:
  // Queues `bytes` for `path` (nothing is written before commit()).
  void add(std::string path, std::string bytes) { files_.emplace_back(std::move(path), std::move(bytes)); }
  bool empty() const { return files_.empty(); }
  // Writes every queued file: all temporary files first, then the direct outputs, then the renames.
  // IoError naming the path on the first failure (after removing the temporary files not yet renamed).
  // The queue is empty afterwards.
  Status commit();

 private:
  std::vector<std::pair<std::string, std::string>> files_;
};

// One file through OutputFiles.
Status write_file_atomically(const std::string& path, std::string bytes);

// For programs: on SIGINT, SIGTERM, SIGHUP and SIGPIPE, remove the temporary files of a commit in
// progress, then die of the signal as before. Call once at startup.
void remove_temporary_outputs_on_signal();

}  // namespace neutron
