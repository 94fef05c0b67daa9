// Zero-filled host heap storage with 64-byte alignment, for what the runtime and the kernel-call
// executor require to be aligned (program files, arenas, prepared kernel state, weights sections).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace neutron {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { resize(n); }
  // Drops the old contents.
  void resize(size_t n) {
    raw_.reset(new uint8_t[n + kAlign]());
    const uintptr_t p = reinterpret_cast<uintptr_t>(raw_.get());
    data_ = raw_.get() + ((kAlign - p % kAlign) % kAlign);
    size_ = n;
  }
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kAlign = 64;
  std::unique_ptr<uint8_t[]> raw_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace neutron
