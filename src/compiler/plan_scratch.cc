// Stage "plan-scratch": places the activations in the scratch region.
//
//  1. Liveness: over the kernel sequence, a tensor lives from the call that writes it to the last
//     call that reads it (aliases count for the tensor whose storage they view).
//  2. Greedy placement (compiler/memory_planner.h, TFLM's greedy-by-size planner); the most bytes
//     live at one call is kept as the plan's lower bound.
//  3. Aliases take their tensor's offset; the scratch size is the highest end, 16-byte aligned.
//  4. Tiling: a Conv whose input and output together exceed the SRAM budget gets tile_rows, the
//     most output rows whose input rows (with the kernel's halo) and output rows fit in it.
// check_scratch_plan() re-checks the result independently (also used by the tests).
#include <algorithm>

#include "compiler/compiler.h"
#include "compiler/memory_planner.h"

namespace neutron::compiler {
namespace {

int32_t root_of(const NpuProgram& p, uint32_t t) {
  int32_t r = int32_t(t);
  while (p.tensors[size_t(r)].alias_of >= 0) r = p.tensors[size_t(r)].alias_of;
  return r;
}

bool overlap_in_time(const ProgramTensor& a, const ProgramTensor& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

Status compute_liveness(NpuProgram& p) {
  for (ProgramTensor& t : p.tensors) t.first_use = t.last_use = -1;
  for (size_t i = 0; i < p.calls.size(); ++i) {
    const KernelCall& c = p.calls[i];
    for (uint32_t w : c.writes) {
      CHECK_OR_RETURN(w < p.tensors.size(), Error::Internal, "plan-scratch: call ", i, " writes tensor ", w);
      ProgramTensor& t = p.tensors[size_t(root_of(p, w))];
      if (t.first_use < 0) t.first_use = int(i);
      t.last_use = std::max(t.last_use, int(i));
    }
    for (uint32_t r : c.reads) {
      CHECK_OR_RETURN(r < p.tensors.size(), Error::Internal, "plan-scratch: call ", i, " reads tensor ", r);
      ProgramTensor& t = p.tensors[size_t(root_of(p, r))];
      CHECK_OR_RETURN(t.region != npu::Region::kScratch || t.first_use >= 0, Error::Internal, "plan-scratch: call ", i,
                      " (", c.origin, ") reads scratch tensor '", t.name, "' before any call writes it");
      if (t.first_use < 0) t.first_use = int(i);
      t.last_use = std::max(t.last_use, int(i));
    }
  }
  // Aliases show their root's lifetime.
  for (size_t i = 0; i < p.tensors.size(); ++i)
    if (p.tensors[i].alias_of >= 0) {
      const ProgramTensor& r = p.tensors[size_t(root_of(p, uint32_t(i)))];
      p.tensors[i].first_use = r.first_use;
      p.tensors[i].last_use = r.last_use;
    }
  return Status::OK();
}

Status tile_convs(CompileContext& ctx) {
  NpuProgram& p = ctx.program;
  const int64_t budget = ctx.options.sram_budget_bytes > 0 ? ctx.options.sram_budget_bytes : ctx.target.sram_bytes;
  for (KernelCall& c : p.calls) {
    if (c.op != npu::Opcode::kConv2D && c.op != npu::Opcode::kDepthwiseConv2D && c.op != npu::Opcode::kConvAdd) continue;
    npu::ConvArgs a;  // conv2d_add args start with the conv's
    std::memcpy(&a, c.args.data(), sizeof(a));
    const ProgramTensor& in = p.tensors[a.input];
    const ProgramTensor& out = p.tensors[a.output];
    const int64_t in_row = int64_t(in.dims[2]) * in.dims[3], out_row = int64_t(out.dims[2]) * out.dims[3];
    const int64_t in_h = in.dims[1], out_h = out.dims[1];
    auto bytes = [&](int64_t rows) {
      const int64_t in_rows = std::min<int64_t>(in_h, (rows - 1) * a.stride_h + int64_t(a.kernel_h - 1) * a.dilation_h + 1);
      return in_rows * in_row + rows * out_row;
    };
    a.tile_rows = 0;
    if (budget > 0 && bytes(out_h) > budget) {
      CHECK_OR_RETURN(bytes(1) <= budget, Error::NotSupported, "conv '", c.origin, "': one output row needs ", bytes(1),
                      " bytes of activations, above the SRAM budget of ", budget, " bytes");
      int64_t lo = 1, hi = out_h;  // largest rows with bytes(rows) <= budget
      while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (bytes(mid) <= budget) lo = mid;
        else hi = mid - 1;
      }
      a.tile_rows = uint32_t(lo);
    }
    std::memcpy(c.args.data(), &a, sizeof(a));
  }
  return Status::OK();
}

}  // namespace

Status plan_scratch(CompileContext& ctx) {
  NpuProgram& p = ctx.program;
  RETURN_IF_ERROR(compute_liveness(p));
  std::vector<uint32_t> placed;  // scratch tensors that own storage and are used
  std::vector<LiveRange> ranges;
  for (uint32_t i = 0; i < p.tensors.size(); ++i) {
    const ProgramTensor& t = p.tensors[i];
    if (t.alias_of < 0 && t.region == npu::Region::kScratch && t.first_use >= 0) {
      placed.push_back(i);
      ranges.push_back(LiveRange{t.bytes(), t.first_use, t.last_use});
    }
  }
  const MemoryPlan plan = plan_greedy_by_size(ranges);
  CHECK_OR_RETURN(plan.size < (uint64_t(1) << 32), Error::NotSupported, "partition '", p.name,
                  "': activation scratch above 4 GiB");
  uint64_t high = plan.size;
  for (size_t k = 0; k < placed.size(); ++k) p.tensors[placed[k]].offset = uint32_t(plan.offsets[k]);
  p.scratch_lower_bound = max_live_bytes(ranges);
  // A scratch tensor no call uses (the descriptor still has to lie inside the region) sits at 0.
  for (ProgramTensor& t : p.tensors)
    if (t.alias_of < 0 && t.region == npu::Region::kScratch && t.first_use < 0) {
      t.offset = 0;
      high = std::max<uint64_t>(high, t.bytes());
    }
  for (uint32_t i = 0; i < p.tensors.size(); ++i) {
    ProgramTensor& t = p.tensors[i];
    if (t.alias_of < 0) continue;
    const ProgramTensor& r = p.tensors[size_t(root_of(p, i))];
    t.region = r.region;
    t.io_index = r.io_index;
    t.offset = r.offset;
    t.blob = r.blob;
  }
  p.scratch_size = uint32_t(npu::align16(high));
  RETURN_IF_ERROR(tile_convs(ctx));
  return check_scratch_plan(p);
}

Status check_scratch_plan(const NpuProgram& p) {
  for (size_t i = 0; i < p.tensors.size(); ++i) {
    const ProgramTensor& a = p.tensors[i];
    if (a.region != npu::Region::kScratch || a.first_use < 0) continue;
    CHECK_OR_RETURN(a.offset % npu::kAlignment == 0, Error::Internal, "scratch plan: tensor t", i, " '", a.name,
                    "' at offset ", a.offset, " is not 16-byte aligned");
    CHECK_OR_RETURN(uint64_t(a.offset) + a.bytes() <= p.scratch_size, Error::Internal, "scratch plan: tensor t", i, " '",
                    a.name, "' [", a.offset, ", +", a.bytes(), ") outside the scratch of ", p.scratch_size, " bytes");
    if (a.alias_of >= 0) continue;
    for (size_t j = i + 1; j < p.tensors.size(); ++j) {
      const ProgramTensor& b = p.tensors[j];
      if (b.region != npu::Region::kScratch || b.first_use < 0 || b.alias_of >= 0) continue;
      if (!overlap_in_time(a, b)) continue;
      const bool disjoint = uint64_t(a.offset) + a.bytes() <= b.offset || uint64_t(b.offset) + b.bytes() <= a.offset;
      CHECK_OR_RETURN(disjoint, Error::Internal, "scratch plan: tensors t", i, " '", a.name, "' and t", j, " '", b.name,
                      "' are live together (calls ", a.first_use, "..", a.last_use, " and ", b.first_use, "..",
                      b.last_use, ") and overlap in memory");
    }
  }
  return Status::OK();
}

}  // namespace neutron::compiler
