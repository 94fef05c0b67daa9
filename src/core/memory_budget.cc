#include "core/memory_budget.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <limits>

namespace neutron {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr uint64_t kGiB = uint64_t(1) << 30;

std::atomic<uint64_t>& budget_storage() {
  static std::atomic<uint64_t> budget{default_memory_budget()};
  return budget;
}

}  // namespace

bool checked_mul(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > kInt64Max / a) return false;
  *out = a * b;
  return true;
}

bool checked_add(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0 || a > kInt64Max - b) return false;
  *out = a + b;
  return true;
}

bool checked_num_elements(const Shape& s, int64_t* out) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) return false;
    // A zero dimension makes the count 0 whatever follows; later dimensions must still be sane.
    int64_t next = 0;
    if (n != 0 && !checked_mul(n, d, &next)) return false;
    n = n == 0 ? 0 : next;
  }
  *out = n;
  return true;
}

bool checked_byte_size(DType t, const Shape& s, int64_t* out) {
  int64_t n = 0;
  return checked_num_elements(s, &n) && checked_mul(n, int64_t(dtype_size(t)), out);
}

std::string format_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  double v = double(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  return buf;
}

bool parse_byte_size(const std::string& text, uint64_t* out) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    const uint64_t digit = uint64_t(text[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
    ++i;
  }
  if (i == 0) return false;
  std::string unit = text.substr(i);
  for (char& c : unit) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (unit == "B" || unit.empty()) unit = "";
  else if (unit.size() == 3 && unit.compare(1, 2, "IB") == 0) unit = unit.substr(0, 1);
  else if (unit.size() == 2 && unit[1] == 'B') unit = unit.substr(0, 1);
  int shift = 0;
  if (unit == "K") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else if (!unit.empty()) return false;
  if (v == 0 || v > (std::numeric_limits<uint64_t>::max() >> shift)) return false;
  *out = v << shift;
  return true;
}

uint64_t default_memory_budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  uint64_t budget = 16 * kGiB;
  if (pages > 0 && page > 0) {
    const uint64_t half = uint64_t(pages) / 2 * uint64_t(page);
    if (half < budget) budget = half;
  }
  return budget < kGiB ? kGiB : budget;  // a tiny or unknown machine still gets 1 GiB
}

uint64_t memory_budget() { return budget_storage().load(std::memory_order_relaxed); }

void set_memory_budget(uint64_t bytes) { budget_storage().store(bytes, std::memory_order_relaxed); }

Status check_memory_budget(uint64_t bytes, const std::string& what, const std::string& detail) {
  const uint64_t budget = memory_budget();
  if (bytes <= budget) return Status::OK();
  return error(Error::OutOfMemory, what, " claims ", format_bytes(bytes), detail.empty() ? "" : " (", detail,
               detail.empty() ? "" : ")", ", above the memory budget of ", format_bytes(budget),
               "; raise it with --max-memory");
}

StatusOr<size_t> tensor_bytes_within_budget(DType t, const Shape& s, const std::string& what) {
  int64_t bytes = 0;
  for (int64_t d : s)
    CHECK_OR_RETURN(d >= 0, Error::InvalidArgument, what, " (", dtype_name(t), " shape ", shape_str(s),
                    "): negative dimension ", d);
  CHECK_OR_RETURN(checked_byte_size(t, s, &bytes), Error::InvalidArgument, what, " (", dtype_name(t), " shape ",
                  shape_str(s), "): the size does not fit in 64 bits");
  RETURN_IF_ERROR(check_memory_budget(uint64_t(bytes), what, str_cat(dtype_name(t), " shape ", shape_str(s))));
  return size_t(bytes);
}

}  // namespace neutron
