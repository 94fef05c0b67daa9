#include "compiler/memory_planner.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace neutron::compiler {
namespace {

uint64_t align16(uint64_t n) { return (n + 15) & ~uint64_t(15); }

}  // namespace

MemoryPlan plan_greedy_by_size(const std::vector<LiveRange>& buffers) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    if (buffers[a].first != buffers[b].first) return buffers[a].first < buffers[b].first;
    return a < b;
  });
  std::vector<size_t> placed;
  std::vector<std::pair<uint64_t, uint64_t>> busy;
  uint64_t high = 0;
  for (size_t i : order) {
    const LiveRange& t = buffers[i];
    busy.clear();
    for (size_t j : placed) {
      const LiveRange& o = buffers[j];
      if (o.first <= t.last && t.first <= o.last) busy.emplace_back(plan.offsets[j], plan.offsets[j] + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    uint64_t at = 0;
    for (const auto& [b, e] : busy) {
      if (at + t.bytes <= b) break;
      at = std::max(at, align16(e));
    }
    plan.offsets[i] = at;
    high = std::max(high, at + t.bytes);
    placed.push_back(i);
  }
  plan.size = align16(high);
  return plan;
}

uint64_t max_live_bytes(const std::vector<LiveRange>& buffers) {
  std::map<int, int64_t> delta;  // step -> change of live bytes
  for (const LiveRange& b : buffers) {
    delta[b.first] += int64_t(align16(b.bytes));
    delta[b.last + 1] -= int64_t(align16(b.bytes));
  }
  int64_t live = 0, peak = 0;
  for (const auto& [step, d] : delta) {
    live += d;
    peak = std::max(peak, live);
  }
  return uint64_t(peak);
}

}  // namespace neutron::compiler
