// Stage "prefetch" (CompileOptions::fetch_constants_to_sram, upstream's fetch_constants_to_sram):
// on Neutron-C the compute engine cannot read flash, so the constants of each kernel (weights,
// bias, multipliers, tables: one contiguous range, since pack-weights placed them in call order)
// are copied to an SRAM scratch ahead of the kernel. Two SRAM slots on two channels alternate:
//
//   Prefetch(k0 -> slot 0, ch 0)
//   ... Prefetch(k1 -> slot 1, ch 1)  WaitPrefetch(ch 0)  k0
//   ... Prefetch(k2 -> slot 0, ch 0)  WaitPrefetch(ch 1)  k1      (slot 0 is free: k0 is done)
//
// so the copy of the next kernel's constants overlaps the current kernel. The kernels' args keep
// their weights-section offsets (the copy is the same bytes; the timing model charges SRAM reads
// for prefetched kernels). Constant operands read as tensors (weights region) are not prefetched.
// The SRAM scratch size (header word 12) is two slots of the largest range.
#include <algorithm>

#include "compiler/compiler.h"

namespace neutron::compiler {

Status insert_prefetch(CompileContext& ctx) {
  NpuProgram& p = ctx.program;
  p.sram_scratch_size = 0;
  if (!ctx.options.fetch_constants_to_sram) return Status::OK();
  struct Range {
    size_t call;
    uint32_t begin, end;
  };
  std::vector<Range> ranges;
  for (size_t i = 0; i < p.calls.size(); ++i) {
    const KernelCall& c = p.calls[i];
    if (c.blob_refs.empty()) continue;
    uint32_t b = UINT32_MAX, e = 0;
    for (const BlobRef& r : c.blob_refs) {
      const ConstBlob& blob = p.blobs[r.blob];
      b = std::min(b, blob.offset);
      e = std::max(e, blob.offset + uint32_t(blob.data.size()));
    }
    ranges.push_back(Range{i, b, e});
  }
  if (ranges.empty()) return Status::OK();
  uint32_t slot = 0;
  for (const Range& r : ranges) slot = std::max(slot, uint32_t(npu::align16(r.end - r.begin)));
  const uint32_t slots = ranges.size() > 1 ? 2 : 1;
  p.sram_scratch_size = slot * slots;

  auto prefetch = [&](size_t w) {
    KernelCall c;
    c.op = npu::Opcode::kPrefetch;
    c.origin = p.calls[ranges[w].call].origin;
    npu::PrefetchArgs a{ranges[w].begin, ranges[w].end - ranges[w].begin, uint32_t(w % slots) * slot, uint32_t(w % slots)};
    c.args.resize(sizeof(a) / 4);
    std::memcpy(c.args.data(), &a, sizeof(a));
    return c;
  };
  auto wait = [&](size_t w) {
    KernelCall c;
    c.op = npu::Opcode::kWaitPrefetch;
    c.origin = p.calls[ranges[w].call].origin;
    npu::WaitPrefetchArgs a{uint32_t(w % slots)};
    c.args.resize(sizeof(a) / 4);
    std::memcpy(c.args.data(), &a, sizeof(a));
    return c;
  };
  std::vector<KernelCall> out;
  std::vector<int> moved(p.calls.size());  // old call index -> new
  size_t w = 0;
  for (size_t i = 0; i < p.calls.size(); ++i) {
    if (w < ranges.size() && ranges[w].call == i) {
      if (w == 0) out.push_back(prefetch(0));
      if (w + 1 < ranges.size()) out.push_back(prefetch(w + 1));
      out.push_back(wait(w));
      ++w;
    }
    moved[i] = int(out.size());
    out.push_back(std::move(p.calls[i]));
  }
  p.calls = std::move(out);
  for (ProgramTensor& t : p.tensors) {
    if (t.first_use >= 0) t.first_use = moved[size_t(t.first_use)];
    if (t.last_use >= 0) t.last_use = moved[size_t(t.last_use)];
  }
  return Status::OK();
}

}  // namespace neutron::compiler
