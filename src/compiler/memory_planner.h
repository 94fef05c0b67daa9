// Static memory planning shared by the NPU scratch plan (plan-scratch) and the program's arena
// plan (program_file): buffers with a size and a live range over a schedule get offsets in one
// region so that no two buffers live at the same time overlap.
//
// Algorithm: TFLite Micro's greedy-by-size planner. Buffers by decreasing size (then first use,
// then index, so the result is deterministic); each goes to the lowest 16-byte aligned offset
// where it overlaps no already placed buffer whose range intersects its own.
#pragma once
#include <cstdint>
#include <vector>

namespace neutron::compiler {

struct LiveRange {
  uint64_t bytes = 0;
  int first = 0, last = 0;  // inclusive schedule steps
};

struct MemoryPlan {
  std::vector<uint64_t> offsets;  // per buffer, 16-byte aligned
  uint64_t size = 0;              // the highest end, 16-byte aligned (the plan's peak)
};

MemoryPlan plan_greedy_by_size(const std::vector<LiveRange>& buffers);

// The most bytes live at one step (each buffer rounded up to 16): no plan can be smaller.
uint64_t max_live_bytes(const std::vector<LiveRange>& buffers);

}  // namespace neutron::compiler
