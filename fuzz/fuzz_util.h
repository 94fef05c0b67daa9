// Shared by the libFuzzer harnesses (docs/fuzzing.md): exact-size aligned copies of the input
// (AddressSanitizer sees any read past the end) and a check that turns a broken invariant into a
// crash libFuzzer records.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/memory_budget.h"

namespace neutron::fuzz {

// A memory budget below libFuzzer's -rss_limit_mb, set once: an input the budget allows must not
// become an out-of-memory finding, and one it refuses must fail before allocating.
inline void limit_memory_budget() {
  static const bool once = (set_memory_budget(uint64_t(256) << 20), true);
  (void)once;
}

// `size` bytes, 16-byte aligned, zeroed or copied from `bytes`, no slack after the end.
class AlignedBytes {
 public:
  explicit AlignedBytes(size_t size, const void* bytes = nullptr) : size_(size) {
    data_ = static_cast<uint8_t*>(::operator new(size ? size : 1, std::align_val_t(16)));
    if (bytes != nullptr && size != 0)
      std::memcpy(data_, bytes, size);
    else
      std::memset(data_, 0, size);
  }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  ~AlignedBytes() { ::operator delete(data_, std::align_val_t(16)); }
  uint8_t* data() { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_;
  size_t size_;
};

// Reads every byte so AddressSanitizer checks the whole range.
inline void touch(const void* p, size_t n) {
  volatile uint8_t sink = 0;
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) sink = sink ^ b[i];
  (void)sink;
}

}  // namespace neutron::fuzz

// An invariant the harness expects: abort (a libFuzzer crash with a reproducer) when it fails.
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                       \
      std::fprintf(stderr, "\n");                                              \
      std::abort();                                                            \
    }                                                                          \
  } while (0)
