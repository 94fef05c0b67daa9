#include "core/output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace neutron {
namespace {

// ---- Path identity ----------------------------------------------------------------------------

std::string absolute_path(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof(cwd))) return p;
  return std::string(cwd) + "/" + p;
}

// The existing part resolved by realpath (symlinks, "..", "."), the rest appended lexically.
std::string normalized_path(const std::string& abs) {
  char buf[PATH_MAX];
  if (::realpath(abs.c_str(), buf)) return buf;
  const size_t slash = abs.find_last_of('/');
  if (slash == std::string::npos) return abs;
  const std::string parent = slash == 0 ? "/" : abs.substr(0, slash), base = abs.substr(slash + 1);
  if (parent == abs) return abs;  // unresolvable root: give up
  const std::string p = normalized_path(parent);
  if (base.empty() || base == ".") return p;
  if (base == "..") {
    const size_t s = p.find_last_of('/');
    return s == std::string::npos || s == 0 ? "/" : p.substr(0, s);
  }
  return p == "/" ? "/" + base : p + "/" + base;
}

struct Identity {
  enum Kind { kFile, kMissing, kStdout, kDevice } kind = kMissing;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string path;  // normalized, for kMissing
};

Identity identify(const std::string& path) {
  Identity id;
  if (path == "-") {
    id.kind = Identity::kStdout;
    return id;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    id.kind = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ? Identity::kFile : Identity::kDevice;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    return id;
  }
  id.path = normalized_path(absolute_path(path));
  return id;
}

bool same(const Identity& a, const Identity& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Identity::kFile: return a.dev == b.dev && a.ino == b.ino;
    case Identity::kMissing: return a.path == b.path;
    case Identity::kStdout: return true;
    case Identity::kDevice: return false;  // /dev/null twice is fine
  }
  return false;
}

// ---- Temporary files removed on a signal ------------------------------------------------------

// Fixed storage so that the handler only reads plain memory and calls unlink (async-signal-safe).
// Commits are made by one thread at a time (the CLI's).
constexpr int kMaxTemps = 64;
char g_temp_path[kMaxTemps][PATH_MAX];
volatile std::sig_atomic_t g_temp_used[kMaxTemps];

int register_temp(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kMaxTemps; ++i) {
    if (g_temp_used[i]) continue;
    std::memcpy(g_temp_path[i], path.c_str(), path.size() + 1);
    g_temp_used[i] = 1;
    return i;
  }
  return -1;  // not registered: only the signal cleanup misses it
}

void unregister_temp(int slot) {
  if (slot >= 0) g_temp_used[slot] = 0;
}

extern "C" void remove_temps_and_die(int sig) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_used[i]) ::unlink(g_temp_path[i]);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// ---- Writing ----------------------------------------------------------------------------------

bool write_all(int fd, const std::string& bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= size_t(w);
  }
  return true;
}

Status io_error(const std::string& path, const char* what) {
  return error(Error::IoError, path == "-" ? std::string("stdout") : path, ": ", what, ": ", std::strerror(errno));
}

struct Pending {
  const std::string* path = nullptr;   // as the user gave it (messages)
  const std::string* bytes = nullptr;
  enum Mode { kStaged, kDirect, kStdout } mode = kStaged;
  std::string target;  // what is renamed over: the path, or the file a symlink points to
  std::string temp;
  int slot = -1;
};

void remove_temps(std::vector<Pending>& files) {
  for (Pending& f : files) {
    if (f.temp.empty()) continue;
    ::unlink(f.temp.c_str());
    unregister_temp(f.slot);
    f.temp.clear();
  }
}

// Writes `f` to a new temporary file beside its target.
Status write_temp(Pending& f, const struct stat* existing) {
  const size_t slash = f.target.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : f.target.substr(0, slash + 1);
  // Hidden, and short enough for NAME_MAX with the suffix.
  const std::string base = f.target.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 200);
  static std::atomic<unsigned> counter{0};
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    f.temp = str_cat(dir, ".", base, ".tmp", ::getpid(), "_", counter++);
    fd = ::open(f.temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    Status s = io_error(*f.path, "cannot create a file in its directory");
    f.temp.clear();
    return s;
  }
  f.slot = register_temp(f.temp);
  if (existing) (void)::fchmod(fd, existing->st_mode & 07777);  // the new file keeps the old one's mode
  if (!write_all(fd, *f.bytes)) {
    Status s = io_error(*f.path, "cannot write");
    ::close(fd);
    return s;
  }
  // Data on disk before the rename, so a crash leaves the old file or the whole new one.
  if (::fsync(fd) != 0) {
    Status s = io_error(*f.path, "cannot write (fsync)");
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return io_error(*f.path, "cannot write (close)");
  return Status::OK();
}

Status write_direct(const Pending& f) {
  // What the program printed so far comes first (`-o -`, `--json /dev/stdout`).
  std::fflush(stdout);
  if (f.mode == Pending::kStdout) {
    if (!write_all(STDOUT_FILENO, *f.bytes)) return io_error("-", "cannot write");
    return Status::OK();
  }
  const int fd = ::open(f.path->c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return io_error(*f.path, "cannot open for writing");
  if (!write_all(fd, *f.bytes)) {
    Status s = io_error(*f.path, "cannot write");
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return io_error(*f.path, "cannot write (close)");
  return Status::OK();
}

}  // namespace

Status check_output_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  std::vector<Identity> in_ids(inputs.size()), out_ids(outputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].path.empty()) in_ids[i] = identify(inputs[i].path);
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (outputs[o].path.empty()) continue;
    out_ids[o] = identify(outputs[o].path);
    for (size_t i = 0; i < inputs.size(); ++i) {
      // Only an existing file can be clobbered (a missing input, or a target name, is reported by its reader).
      if (inputs[i].path.empty() || in_ids[i].kind != Identity::kFile || !same(out_ids[o], in_ids[i])) continue;
      return error(Error::InvalidArgument, outputs[o].what, " ", outputs[o].path, " is the same file as ", inputs[i].what,
                   " ", inputs[i].path, " and would overwrite it; choose another output file");
    }
    for (size_t k = 0; k < o; ++k) {
      if (outputs[k].path.empty() || !same(out_ids[o], out_ids[k])) continue;
      return error(Error::InvalidArgument, outputs[k].what, " ", outputs[k].path, " and ", outputs[o].what, " ",
                   outputs[o].path, " name the same file; choose different output files");
    }
  }
  return Status::OK();
}

Status OutputFiles::commit() {
  auto queued = std::move(files_);
  files_.clear();
  std::vector<Pending> files(queued.size());
  for (size_t i = 0; i < queued.size(); ++i) {
    Pending& f = files[i];
    f.path = &queued[i].first;
    f.bytes = &queued[i].second;
    f.target = queued[i].first;
    if (f.target == "-") {
      f.mode = Pending::kStdout;
      continue;
    }
    struct stat st;
    if (::stat(f.target.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      return error(Error::IoError, f.target, ": is a directory; give a file name");
    if (::stat(f.target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      f.mode = Pending::kDirect;  // device, FIFO, socket
      continue;
    }
    // A symlink stays a symlink: the file it points to is replaced.
    struct stat lst;
    char real[PATH_MAX];
    if (::lstat(f.target.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode) && ::realpath(f.target.c_str(), real))
      f.target = real;
  }
  for (Pending& f : files) {
    if (f.mode != Pending::kStaged) continue;
    struct stat st;
    const bool exists = ::stat(f.target.c_str(), &st) == 0;
    Status s = write_temp(f, exists ? &st : nullptr);
    if (!s.ok()) {
      remove_temps(files);
      return s;
    }
  }
  for (Pending& f : files) {
    if (f.mode == Pending::kStaged) continue;
    Status s = write_direct(f);
    if (!s.ok()) {
      remove_temps(files);
      return s;
    }
  }
  for (Pending& f : files) {
    if (f.mode != Pending::kStaged) continue;
    if (::rename(f.temp.c_str(), f.target.c_str()) != 0) {
      Status s = io_error(*f.path, "cannot replace");
      remove_temps(files);
      return s;
    }
    unregister_temp(f.slot);
    f.temp.clear();
  }
  return Status::OK();
}

Status write_file_atomically(const std::string& path, std::string bytes) {
  OutputFiles out;
  out.add(path, std::move(bytes));
  return out.commit();
}

void remove_temporary_outputs_on_signal() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_handler = remove_temps_and_die;
    sigemptyset(&sa.sa_mask);
    // Keep an ignored signal ignored (e.g. SIGPIPE under a shell that ignores it).
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

}  // namespace neutron
