// Stage "fuse": a conv (or depthwise conv) whose output only feeds the elementwise Add/Sub right
// after it (a residual connection) becomes one conv2d_add call (npu/kernel_args.h ConvAddArgs):
// the conv's int8 result is stored where the Add's output goes and the Add runs in place, the same
// integer steps as the two calls, so the outputs are bit-identical; it saves a call (firmware
// overhead per call and per job of the Add) and the result's SRAM round trip. The conv's result
// tensor becomes a view of the Add's output (alias), so plan-scratch gives it no storage.
#include "compiler/compiler.h"

namespace neutron::compiler {
namespace {

bool same_dims(const ProgramTensor& a, const ProgramTensor& b) { return a.dims == b.dims; }

bool fusable(const NpuProgram& p, size_t i) {
  const KernelCall& conv = p.calls[i];
  const KernelCall& add = p.calls[i + 1];
  if (conv.op != npu::Opcode::kConv2D && conv.op != npu::Opcode::kDepthwiseConv2D) return false;
  if (add.op != npu::Opcode::kElementwise || !add.blob_refs.empty()) return false;
  if (conv.args.size() * 4 != sizeof(npu::ConvArgs) || add.args.size() * 4 != sizeof(npu::ElementwiseArgs)) return false;
  const auto ca = conv.as<npu::ConvArgs>();
  const auto ea = add.as<npu::ElementwiseArgs>();
  if (ea.op != int32_t(npu::ElementwiseOp::kAdd) && ea.op != int32_t(npu::ElementwiseOp::kSub)) return false;
  const uint32_t t = ca.output;
  if ((ea.a == t) == (ea.b == t)) return false;  // exactly one operand is the conv's result
  const uint32_t other = ea.a == t ? ea.b : ea.a;
  if (t >= p.tensors.size() || other >= p.tensors.size() || ea.output >= p.tensors.size()) return false;
  const ProgramTensor& result = p.tensors[t];
  if (result.region != npu::Region::kScratch || result.alias_of >= 0) return false;
  if (!same_dims(result, p.tensors[ea.output]) || !same_dims(p.tensors[other], p.tensors[ea.output])) return false;
  for (const ProgramTensor& x : p.tensors)
    if (x.alias_of == int32_t(t)) return false;  // another view of the result
  for (size_t k = 0; k < p.calls.size(); ++k) {
    if (k == i || k == i + 1) continue;
    for (uint32_t r : p.calls[k].reads)
      if (r == t) return false;
    for (uint32_t w : p.calls[k].writes)
      if (w == t) return false;
  }
  return true;
}

}  // namespace

Status fuse_kernels(CompileContext& ctx) {
  NpuProgram& p = ctx.program;
  if (!ctx.options.fuse_kernels) return Status::OK();
  std::vector<KernelCall> out;
  int fused = 0;
  for (size_t i = 0; i < p.calls.size(); ++i) {
    if (i + 1 >= p.calls.size() || !fusable(p, i)) {
      out.push_back(std::move(p.calls[i]));
      continue;
    }
    KernelCall& conv = p.calls[i];
    KernelCall& add = p.calls[i + 1];
    const auto ca = conv.as<npu::ConvArgs>();
    const auto ea = add.as<npu::ElementwiseArgs>();
    p.tensors[ca.output].alias_of = int32_t(ea.output);
    KernelCall c;
    c.op = npu::Opcode::kConvAdd;
    c.origin = conv.origin + "+" + add.origin;
    c.args = conv.args;
    c.args.insert(c.args.end(), add.args.begin(), add.args.end());
    c.blob_refs = conv.blob_refs;  // word indices of the leading ConvArgs are unchanged
    c.reads = conv.reads;
    for (uint32_t r : add.reads)
      if (r != ca.output) c.reads.push_back(r);
    c.writes = add.writes;
    c.writes.push_back(ca.output);
    out.push_back(std::move(c));
    ++fused;
    ++i;
  }
  p.calls = std::move(out);
  if (fused) p.plan_notes.push_back(str_cat("fused: ", fused, " conv + residual add pair(s) into conv2d_add calls"));
  return Status::OK();
}

}  // namespace neutron::compiler
