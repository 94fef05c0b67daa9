// The C and C++ runtime pieces newlib and libstdc++ expect, for a firmware that never uses the
// heap. Every allocator entry point (malloc family, newlib's reentrant _*_r versions, operator
// new) is defined here and FAILS with a message naming the call: newlib's allocator and _sbrk are
// never linked, and any heap use at run time is visible on the console. (The embedded libraries
// take memory from caller-supplied arenas; the driver keeps a heap fallback for a null context,
// which the runtime never takes.)
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>
#include <sys/stat.h>

#include "board.h"

#undef errno
extern "C" int errno;

namespace {
void heap_refused(const char* what, size_t bytes) {
  board_print("heap: ");
  board_print(what);
  board_print("(");
  board_print_uint(bytes);
  board_print(") refused: the firmware has no heap\n");
}
}  // namespace

extern "C" {

// ---- allocator: always fails ----
void* _sbrk(ptrdiff_t incr) {
  heap_refused("_sbrk", size_t(incr));
  errno = ENOMEM;
  return reinterpret_cast<void*>(-1);
}
void* malloc(size_t n) {
  heap_refused("malloc", n);
  errno = ENOMEM;
  return nullptr;
}
void* calloc(size_t n, size_t size) {
  heap_refused("calloc", n * size);
  errno = ENOMEM;
  return nullptr;
}
void* realloc(void* p, size_t n) {
  heap_refused("realloc", n);
  errno = ENOMEM;
  return nullptr;
}
void* aligned_alloc(size_t alignment, size_t n) {
  heap_refused("aligned_alloc", n);
  errno = ENOMEM;
  return nullptr;
}
void* memalign(size_t alignment, size_t n) {
  heap_refused("memalign", n);
  errno = ENOMEM;
  return nullptr;
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  heap_refused("posix_memalign", n);
  return ENOMEM;
}
void free(void* p) {
  if (p != nullptr) board_print("heap: free() of a pointer this firmware never allocated\n");
}
struct _reent;
void* _malloc_r(_reent*, size_t n) { return malloc(n); }
void* _calloc_r(_reent*, size_t n, size_t size) { return calloc(n, size); }
void* _realloc_r(_reent*, void* p, size_t n) { return realloc(p, n); }
void* _memalign_r(_reent*, size_t alignment, size_t n) { return memalign(alignment, n); }
void _free_r(_reent*, void* p) { free(p); }

// ---- process ----
void abort() {
  board_print("abort()\n");
  board_exit(134);
}
void _exit(int code) { board_exit(code); }
int _kill(int, int) {
  errno = EINVAL;
  return -1;
}
int _getpid() { return 1; }

// ---- files: only stdout/stderr, to the semihosting console ----
int _write(int fd, const char* buf, int n) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  board_write(buf, size_t(n));
  return n;
}
int _read(int, char*, int) {
  errno = EBADF;
  return -1;
}
int _close(int) {
  errno = EBADF;
  return -1;
}
int _lseek(int, int, int) {
  errno = ESPIPE;
  return -1;
}
int _fstat(int, struct stat* st) {
  st->st_mode = S_IFCHR;
  return 0;
}
int _isatty(int fd) { return fd <= 2; }

// ---- C++ ABI ----
void __cxa_pure_virtual() {
  board_print("pure virtual function called\n");
  board_exit(134);
}
// Static destructors never run (the firmware ends with board_exit), so registering one is a no-op.
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

}  // extern "C"

// ---- C++ allocation: new fails loudly (no exceptions to throw), nothrow new returns null ----
void* operator new(size_t n) {
  heap_refused("operator new", n);
  board_exit(134);
}
void* operator new[](size_t n) {
  heap_refused("operator new[]", n);
  board_exit(134);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  heap_refused("operator new(nothrow)", n);
  return nullptr;
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  heap_refused("operator new[](nothrow)", n);
  return nullptr;
}
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
