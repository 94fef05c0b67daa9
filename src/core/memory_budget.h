// Checked size arithmetic and the process-wide memory budget (host side).
//
// Every element or byte count that input decides (a .npy header, an ONNX tensor's dims, a shape
// computed from them) is computed with these helpers, never with a bare multiplication, and is
// compared with the data actually present before anything is allocated. A size that is plausible
// but large is then held against the memory budget: one process-wide limit on what a single
// input-sized allocation (a tensor, the calibration set, the executor's activations) may take, so a
// hostile file gives an error naming the file and tensor instead of an allocation bomb.
//
// The default budget is the smaller of 16 GiB and half the machine's physical memory;
// `neutron --max-memory BYTES` (K, M, G, T suffixes, powers of 1024) sets it.
#pragma once
#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/status.h"

namespace neutron {

// a * b and a + b for non-negative a, b; false (and *out untouched) when the result overflows int64.
bool checked_mul(int64_t a, int64_t b, int64_t* out);
bool checked_add(int64_t a, int64_t b, int64_t* out);
// The element count of `s`; false when a dimension is negative or the product overflows int64.
bool checked_num_elements(const Shape& s, int64_t* out);
// num_elements(s) * dtype_size(t); false on a negative dimension or overflow.
bool checked_byte_size(DType t, const Shape& s, int64_t* out);

// "1.5 GiB", "12 bytes".
std::string format_bytes(uint64_t bytes);
// "16G", "512M", "4096", "2GiB" -> bytes (K, M, G, T are powers of 1024); false when malformed or zero.
bool parse_byte_size(const std::string& text, uint64_t* out);

uint64_t default_memory_budget();
uint64_t memory_budget();
void set_memory_budget(uint64_t bytes);

// OutOfMemory "<what> claims 4.0 GiB (<detail>), above the memory budget of 2.0 GiB; raise it
// with --max-memory" when `bytes` is above the budget.
Status check_memory_budget(uint64_t bytes, const std::string& what, const std::string& detail = "");

// The byte size of a tensor of dtype `t` and shape `s`, checked for overflow and against the
// budget. `what` names the file and tensor: "x.npy: array claims 4.0 GiB (f32 shape [...]), ...".
StatusOr<size_t> tensor_bytes_within_budget(DType t, const Shape& s, const std::string& what);

// Sets the budget for the lifetime of the object (tests), then restores the previous one.
class ScopedMemoryBudget {
 public:
  explicit ScopedMemoryBudget(uint64_t bytes) : saved_(memory_budget()) { set_memory_budget(bytes); }
  ~ScopedMemoryBudget() { set_memory_budget(saved_); }
  ScopedMemoryBudget(const ScopedMemoryBudget&) = delete;
  ScopedMemoryBudget& operator=(const ScopedMemoryBudget&) = delete;

 private:
  uint64_t saved_;
};

}  // namespace neutron
