#include "core/read_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/memory_budget.h"

namespace neutron {

StatusOr<InputFile> open_input_file(const std::string& path) {
  // Without this check a directory opens fine and reads as an empty file.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR) return error(Error::NotFound, path, ": no such file");
    return error(Error::IoError, path, ": cannot open (", std::strerror(e), ")");
  }
  if (S_ISDIR(st.st_mode)) return error(Error::InvalidArgument, path, ": is a directory");
  InputFile in;
  in.f.reset(std::fopen(path.c_str(), "rb"));
  if (!in.f) return error(Error::IoError, path, ": cannot open (", std::strerror(errno), ")");
  if (S_ISREG(st.st_mode)) in.size = int64_t(st.st_size);
  return in;
}

Status read_exact(InputFile& in, void* dst, size_t n, const std::string& path) {
  if (n == 0) return Status::OK();
  const size_t got = std::fread(dst, 1, n, in.f.get());
  if (got == n) return Status::OK();
  if (std::ferror(in.f.get())) return error(Error::IoError, path, ": read error");
  return error(Error::InvalidArgument, path, ": truncated (", got, " of ", n, " bytes read)");
}

StatusOr<std::string> read_file(const std::string& path) {
  ASSIGN_OR_RETURN(InputFile in, open_input_file(path));
  std::string bytes;
  if (in.size >= 0) {
    RETURN_IF_ERROR(check_memory_budget(uint64_t(in.size), path + ": the file"));
    bytes.resize(size_t(in.size));
    const size_t got = bytes.empty() ? 0 : std::fread(&bytes[0], 1, bytes.size(), in.f.get());
    bytes.resize(got);  // the file may have shrunk meanwhile
  }
  // Pipes and devices (and a file that grew): read to the end in chunks, within the budget.
  char buf[1 << 16];
  while (true) {
    const size_t got = std::fread(buf, 1, sizeof(buf), in.f.get());
    if (got == 0) break;
    RETURN_IF_ERROR(check_memory_budget(uint64_t(bytes.size()) + got, path + ": the input"));
    bytes.append(buf, got);
  }
  if (std::ferror(in.f.get())) return error(Error::IoError, path, ": read error");
  return bytes;
}

}  // namespace neutron
