// Stage "prefetch": weight streaming, planned with the cost estimator (compiler/estimate.h).
//
// On Neutron-C the compute engine cannot read flash (NeutronBackend.cpp: "Neutron compute has no
// access to FLASH"), so constants kept in flash reach SRAM either by a synchronous copy when the
// kernel starts (no prefetch) or by Prefetch instructions issued ahead, whose copies run on the
// flash port while earlier kernels compute. Each kernel's constants (weights, bias, multipliers,
// tables: usually one contiguous range, since pack-weights places them in call order; more parts
// when a blob is shared with an earlier kernel, stored once) are prefetched `distance` kernels
// ahead into an SRAM buffer, one Prefetch per part, all on the kernel's channel:
//
//   Prefetch(r0 .. r_d)  ...  WaitPrefetch(r0) k0  Prefetch(r_{d+1})  ...  WaitPrefetch(r1) k1  ...
//
// (the first ranges at the start of the partition, each later one right after the kernel whose
// buffer it may reuse, so copies also overlap the kernels without constants in between).
// A range's bytes are live in the buffer from the call its prefetch precedes to the end of its
// kernel; the buffer offsets come from the same greedy-by-size placement as the activations, so
// ranges in flight never overlap. Channel = range index mod 16 (at most 15 in flight).
//
// The plan: every distance in kDistances (and, unless fetch_constants_to_sram forces prefetching,
// no prefetch at all) is built and costed by the estimator; the fastest whose buffer fits the
// weights SRAM budget wins (within 0.5 % of the fastest, the smallest buffer, then the smallest
// distance). The kernels' args keep their weights-section offsets (the copy holds the same bytes;
// the timing model charges SRAM reads for prefetched kernels). Constant operands read as tensors
// (weights region) are not prefetched.
#include <algorithm>

#include "compiler/compiler.h"
#include "compiler/estimate.h"
#include "compiler/memory_planner.h"
#include "sim/sim_config_target.h"

namespace neutron::compiler {
namespace {

constexpr uint32_t kDistances[] = {1, 2, 3, 4, 6, 8, 12, 15};
constexpr uint32_t kChannels = 16;

// One kernel's constants: the weights-section intervals of its blobs, merged where they touch
// (pack-weights places a kernel's blobs together, but a blob identical to an earlier one is stored
// once, at the earlier place).
struct Range {
  size_t call;
  std::vector<std::pair<uint32_t, uint32_t>> parts;  // [begin, end), sorted, disjoint
  uint64_t bytes() const {
    uint64_t n = 0;
    for (const auto& q : parts) n += npu::align16(q.second - q.first);
    return n;
  }
};

struct Streaming {
  uint32_t distance = 0;  // 0: no prefetch (synchronous copies)
  uint64_t buffer = 0;    // SRAM bytes
  std::vector<uint64_t> offsets;  // per part, ranges in order
  std::vector<KernelCall> calls;
  std::vector<int> moved;  // old call index -> new
  uint64_t cycles = 0;
};

KernelCall make_call(npu::Opcode op, const std::string& origin, const void* args, size_t bytes) {
  KernelCall c;
  c.op = op;
  c.origin = origin;
  c.args.resize(bytes / 4);
  std::memcpy(c.args.data(), args, bytes);
  return c;
}

// The calls with prefetches `d` ranges ahead (d >= 1), and the buffer placement.
Streaming build(const NpuProgram& p, const std::vector<Range>& ranges, uint32_t d) {
  Streaming s;
  s.distance = d;
  const size_t n = ranges.size();
  std::vector<LiveRange> live;
  std::vector<size_t> first_part(n + 1, 0);
  for (size_t j = 0; j < n; ++j) {
    first_part[j] = live.size();
    for (const auto& q : ranges[j].parts)
      live.push_back(LiveRange{npu::align16(q.second - q.first), int(j > d ? j - d : 0), int(j)});
  }
  first_part[n] = live.size();
  const MemoryPlan plan = plan_greedy_by_size(live);
  s.buffer = npu::align16(plan.size);
  s.offsets = plan.offsets;
  auto prefetch = [&](size_t j, std::vector<KernelCall>* out) {
    const Range& r = ranges[j];
    for (size_t k = 0; k < r.parts.size(); ++k) {
      const npu::PrefetchArgs a{r.parts[k].first, r.parts[k].second - r.parts[k].first,
                                uint32_t(s.offsets[first_part[j] + k]), uint32_t(j % kChannels)};
      out->push_back(make_call(npu::Opcode::kPrefetch, p.calls[r.call].origin, &a, sizeof(a)));
    }
  };
  auto wait = [&](size_t j) {
    const npu::WaitPrefetchArgs a{uint32_t(j % kChannels)};
    return make_call(npu::Opcode::kWaitPrefetch, p.calls[ranges[j].call].origin, &a, sizeof(a));
  };
  s.moved.resize(p.calls.size());
  // The first d + 1 ranges at the start; then range j right after the kernel of range j - d - 1,
  // so its copy also overlaps the kernels without constants in between.
  size_t w = 0, issued = 0;
  for (; issued < n && issued <= d; ++issued) prefetch(issued, &s.calls);
  for (size_t i = 0; i < p.calls.size(); ++i) {
    const bool weighted = w < n && ranges[w].call == i;
    if (weighted) s.calls.push_back(wait(w));
    s.moved[i] = int(s.calls.size());
    s.calls.push_back(p.calls[i]);
    if (weighted) {
      ++w;
      for (; issued < n && issued <= w + d; ++issued) prefetch(issued, &s.calls);
    }
  }
  return s;
}

uint64_t cost(const sim::SimConfig& cfg, NpuProgram& p, std::vector<KernelCall>* calls) {
  std::swap(p.calls, *calls);
  const uint64_t c = estimate_program(cfg, p).summary.total_cycles;
  std::swap(p.calls, *calls);
  return c;
}

}  // namespace

Status insert_prefetch(CompileContext& ctx) {
  NpuProgram& p = ctx.program;
  p.sram_scratch_size = 0;
  std::vector<Range> ranges;
  for (size_t i = 0; i < p.calls.size(); ++i) {
    const KernelCall& c = p.calls[i];
    if (c.blob_refs.empty()) continue;
    Range r{i, {}};
    for (const BlobRef& ref : c.blob_refs) {
      const ConstBlob& blob = p.blobs[ref.blob];
      if (!blob.data.empty()) r.parts.push_back({blob.offset, blob.offset + uint32_t(blob.data.size())});
    }
    if (r.parts.empty()) continue;
    std::sort(r.parts.begin(), r.parts.end());
    std::vector<std::pair<uint32_t, uint32_t>> merged;
    for (const auto& q : r.parts) {
      if (!merged.empty() && q.first <= npu::align16(merged.back().second))
        merged.back().second = std::max(merged.back().second, q.second);
      else
        merged.push_back(q);
    }
    r.parts = std::move(merged);
    ranges.push_back(std::move(r));
  }
  if (ranges.empty() || (!ctx.options.stream_weights && !ctx.options.fetch_constants_to_sram)) return Status::OK();
  ASSIGN_OR_RETURN(const sim::SimConfig cfg, sim::sim_config_from_target(ctx.target));
  const bool forced = ctx.options.fetch_constants_to_sram;
  // Weights already in SRAM: nothing to stream unless asked.
  if (!forced && cfg.weights_memory != sim::WeightsMemory::kFlash) {
    p.plan_notes.push_back("weights: in SRAM (target), no prefetch");
    return Status::OK();
  }
  uint64_t largest = 0;
  for (const Range& r : ranges) largest = std::max<uint64_t>(largest, r.bytes());
  // The default budget is the double buffer of the largest range: what one-ahead prefetching needs.
  const bool given = ctx.options.weights_sram_budget_bytes > 0;
  const uint64_t budget = given ? uint64_t(ctx.options.weights_sram_budget_bytes) : 2 * largest;

  std::vector<Streaming> candidates;
  // No prefetch: on an NPU that cannot read flash the weights are then resident in SRAM for the
  // run (upstream without fetch_constants_to_sram), never copied per inference: the fastest plan,
  // taken when they fit the budget given, or by default when the partition's weights and
  // activations fit the target's SRAM.
  const uint64_t all_weights = p.weights_size;
  const bool resident_fits =
      cfg.npu_reads_flash ||
      (given ? all_weights <= budget
             : ctx.target.sram_bytes <= 0 || all_weights + p.scratch_size <= uint64_t(ctx.target.sram_bytes));
  if (!forced && resident_fits) {
    Streaming none;
    none.buffer = cfg.npu_reads_flash ? 0 : all_weights;
    std::vector<KernelCall> calls = p.calls;
    none.cycles = cost(cfg, p, &calls);
    candidates.push_back(std::move(none));
  }
  uint32_t previous = 0;
  for (uint32_t d : kDistances) {
    if (previous + 1 >= ranges.size() && previous > 0) break;  // all issued up front already
    previous = d;
    Streaming s = build(p, ranges, d);
    if (s.buffer > budget && !(d == 1 && (forced || candidates.empty()))) continue;  // one ahead is always possible
    s.cycles = cost(cfg, p, &s.calls);
    candidates.push_back(std::move(s));
  }
  uint64_t best_cycles = UINT64_MAX;
  for (const Streaming& s : candidates) best_cycles = std::min(best_cycles, s.cycles);
  const Streaming* best = nullptr;
  for (const Streaming& s : candidates) {
    if (double(s.cycles) > double(best_cycles) * 1.005) continue;
    if (!best || s.buffer < best->buffer || (s.distance == 0 && s.buffer == best->buffer)) best = &s;
  }
  std::string considered;
  for (const Streaming& s : candidates)
    considered += str_cat(considered.empty() ? "" : ", ", "d=", s.distance, ": ", s.cycles, " cycles/", s.buffer, " B");
  p.plan_notes.push_back(str_cat("weights: in flash, ", ranges.size(), " kernels with constants; ",
                                 best->distance ? str_cat("prefetched ", best->distance, " kernel(s) ahead into a ",
                                                          best->buffer, "-byte SRAM buffer")
                                                : cfg.npu_reads_flash
                                                      ? std::string("read from flash by each kernel (no prefetch)")
                                                      : str_cat("resident in SRAM (", all_weights,
                                                                " B, placed there before the run; no prefetch)"),
                                 " (budget ", budget, " B)"));
  p.plan_notes.push_back("weights: candidates (estimated cycles / SRAM buffer): " + considered);
  if (best->distance == 0) return Status::OK();
  CHECK_OR_RETURN(best->buffer < (uint64_t(1) << 32), Error::NotSupported, "partition '", p.name,
                  "': weight buffer above 4 GiB");
  p.sram_scratch_size = uint32_t(best->buffer);
  const std::vector<int> moved = best->moved;
  p.calls = best->calls;
  for (ProgramTensor& t : p.tensors) {
    if (t.first_use >= 0) t.first_use = moved[size_t(t.first_use)];
    if (t.last_use >= 0) t.last_use = moved[size_t(t.last_use)];
  }
  return Status::OK();
}

}  // namespace neutron::compiler
