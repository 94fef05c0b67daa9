// Samples in parallel with results folded in sample order (host only): the same answer for any
// thread count. Used by calibration (`quantize --threads`) and `compare --threads`.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/status.h"

namespace neutron {

// Runs samples [0, count) a chunk of `threads` at a time: `work(slot, sample)` for every sample of
// the chunk in parallel (slot < threads names the worker's own state, e.g. its executor), then
// `fold(slot, sample)` on the calling thread in sample order. Returns the first fold that fails.
template <typename Work, typename Fold>
Status run_samples_ordered(int64_t count, size_t threads, const Work& work, const Fold& fold) {
  const size_t T = std::max<size_t>(1, threads);
  for (int64_t s0 = 0; s0 < count; s0 += int64_t(T)) {
    const size_t n = size_t(std::min<int64_t>(int64_t(T), count - s0));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < n; ++t) pool.emplace_back([&work, t, s0] { work(t, s0 + int64_t(t)); });
    work(size_t(0), s0);
    for (auto& th : pool) th.join();
    for (size_t t = 0; t < n; ++t) RETURN_IF_ERROR(fold(t, s0 + int64_t(t)));
  }
  return Status::OK();
}

}  // namespace neutron
