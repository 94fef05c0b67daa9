#include "tools/memory_verdict.h"

#include <cstdio>
#include <cstring>

#include "kernels/requantize.h"

#include "npu/kernel_args.h"
#include "npu/microcode_reader.h"
#include "program/program_format.h"
#include "runtime/payload.h"
#include "runtime/program_runner.h"
#include "tools/cli_util.h"

namespace neutron::cli {
namespace {

// Bytes of conv / FC weights, biases and multipliers a payload's kernel calls read from its
// weights section (the rest of the section is tables).
uint64_t weight_bytes(const npu::MicrocodeView& mc) {
  uint64_t n = 0;
  npu::InstructionCursor cur(mc);
  npu::Instruction inst;
  while (cur.next(&inst)) {
    if (inst.opcode == npu::Opcode::kConv2D || inst.opcode == npu::Opcode::kDepthwiseConv2D) {
      const npu::ConvArgs a = inst.as<npu::ConvArgs>();
      const uint64_t out_c = uint64_t(mc.tensor(a.output).dims[3]);
      n += uint64_t(a.out_c_padded) * uint64_t(a.kernel_h) * uint64_t(a.kernel_w) * uint64_t(a.in_c_padded) +
           out_c * (4 + sizeof(FixedMultiplier));
    } else if (inst.opcode == npu::Opcode::kFullyConnected) {
      const npu::FullyConnectedArgs a = inst.as<npu::FullyConnectedArgs>();
      n += uint64_t(a.out_features_padded) * uint64_t(a.in_features_padded) + uint64_t(a.out_features) * 4 +
           (a.per_channel ? uint64_t(a.out_features) : 1) * sizeof(FixedMultiplier);
    }
  }
  return n;
}

std::string grouped(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

}  // namespace

StatusOr<MemoryVerdict> memory_verdict(const std::vector<uint8_t>& program, const NeutronTarget* target) {
  MemoryVerdict v;
  // 16-byte aligned copy, as the runtime requires.
  std::vector<uint64_t> storage((program.size() + 7) / 8 + 2);
  auto* data = reinterpret_cast<uint8_t*>(storage.data());
  if (!program.empty()) std::memcpy(data, program.data(), program.size());
  runtime::MemoryFigures f;
  const runtime::ProgramStatus ps = runtime::ProgramRunner::memory_needed(data, program.size(), &f);
  CHECK_OR_RETURN(ps.ok(), Error::Internal, "the compiled program does not load: ", ps.message);
  const fb::Program* p = fb::GetProgram(data);
  v.program_bytes = program.size();
  v.plan_bytes = f.plan_bytes;
  v.runtime_state = f.runtime_bytes;
  v.arena_bytes = f.arena_bytes;
  v.host_only = f.host_bytes;
  const bool npu_reads_flash = target == nullptr || target->npu_reads_flash;
  for (const fb::Instruction* ins : *p->instructions()) {
    uint32_t payload = 0;
    bool delegate = false;
    if (const fb::DelegateCall* d = ins->op_as_DelegateCall()) {
      payload = d->payload();
      delegate = true;
      if (d->scratch_bytes() > v.delegate_working) v.delegate_working = d->scratch_bytes();
    } else if (const fb::CpuKernels* c = ins->op_as_CpuKernels()) {
      payload = c->payload();
    } else {
      continue;
    }
    const auto* pl = p->payloads()->Get(payload)->data();
    runtime::PayloadView pv;
    const runtime::PayloadStatus st = runtime::parse_payload(pl->data(), pl->size(), &pv);
    CHECK_OR_RETURN(st.ok(), Error::Internal, "the compiled program has a payload the runtime rejects: ", st.message);
    if (delegate) {
      v.npu_weights += pv.weights_size;
      v.npu_microcode += pl->size() - pv.weights_size;
      // Without prefetch the NPU reads its weights where they are: they must be in SRAM.
      if (!npu_reads_flash && pv.mc.sram_scratch_size() == 0) v.npu_weights_in_sram += pv.weights_size;
    } else {
      const uint64_t w = weight_bytes(pv.mc);
      v.cpu_weights += w < pv.weights_size ? w : pv.weights_size;
      v.tables += w < pv.weights_size ? pv.weights_size - w : 0;
    }
  }
  if (p->buffers())
    for (const fb::Buffer* b : *p->buffers())
      if (b->data()) v.cpu_weights += b->data()->size();
  const uint64_t known = v.npu_microcode + v.npu_weights + v.cpu_weights + v.tables;
  v.other = v.program_bytes > known ? v.program_bytes - known : 0;
  v.sram_bytes = v.arena_bytes + v.npu_weights_in_sram;
  v.sram_limit = target ? target->sram_bytes : 0;
  v.fits = v.sram_limit <= 0 || v.sram_bytes <= uint64_t(v.sram_limit);
  return v;
}

Json memory_json(const MemoryVerdict& v, const std::string& target) {
  Json limit = v.sram_limit > 0 ? Json(v.sram_limit) : Json(nullptr);
  return Json{
      {"target", target},
      {"flash", Json{{"bytes", v.program_bytes},
                     {"limit_bytes", nullptr},
                     {"sections", Json{{"npu_microcode", v.npu_microcode},
                                       {"npu_weights", v.npu_weights},
                                       {"cpu_weights", v.cpu_weights},
                                       {"tables", v.tables},
                                       {"other", v.other}}}}},
      {"sram", Json{{"bytes", v.sram_bytes},
                    {"limit_bytes", limit},
                    {"arena_bytes", v.arena_bytes},
                    {"plan_bytes", v.plan_bytes},
                    {"delegate_working_bytes", v.delegate_working},
                    {"runtime_state_bytes", v.runtime_state},
                    {"npu_weights_bytes", v.npu_weights_in_sram},
                    {"stack_bytes", nullptr}}},
      {"host_only_bytes", v.host_only},
      {"fits", v.fits},
      {"over_by_bytes", v.fits ? 0 : v.sram_bytes - uint64_t(v.sram_limit)}};
}

void print_memory_verdict(std::string* out, const MemoryVerdict& v, const std::string& target) {
  appendf(out, "\nmemory on %s:\n", target.c_str());
  appendf(out, "  flash %s bytes (the program): NPU microcode %s, NPU weights %s, CPU weights %s, tables %s, other %s; "
              "no flash size in the target description\n",
              grouped(v.program_bytes).c_str(), grouped(v.npu_microcode).c_str(), grouped(v.npu_weights).c_str(),
              grouped(v.cpu_weights).c_str(), grouped(v.tables).c_str(), grouped(v.other).c_str());
  appendf(out, "  SRAM %s bytes", grouped(v.sram_bytes).c_str());
  if (v.sram_limit > 0)
    appendf(out, " of %s (%.1f%%)", grouped(uint64_t(v.sram_limit)).c_str(),
                100.0 * double(v.sram_bytes) / double(v.sram_limit));
  appendf(out, ": arena %s (plan %s, of it the largest delegate working memory %s; runtime state %s)",
              grouped(v.arena_bytes).c_str(), grouped(v.plan_bytes).c_str(), grouped(v.delegate_working).c_str(),
              grouped(v.runtime_state).c_str());
  if (v.npu_weights_in_sram)
    appendf(out, " + NPU weights resident in SRAM %s (the NPU cannot read flash; --fetch-constants-to-sram streams them)",
                grouped(v.npu_weights_in_sram).c_str());
  appendf(out, "; stack not estimated\n");
  if (v.sram_limit <= 0)
    appendf(out, "  verdict: no SRAM limit for this target\n");
  else if (v.fits)
    appendf(out, "  verdict: fits (%s bytes of SRAM to spare)\n", grouped(uint64_t(v.sram_limit) - v.sram_bytes).c_str());
  else
    appendf(out, "  verdict: DOES NOT FIT (%s bytes over the SRAM)\n", grouped(v.sram_bytes - uint64_t(v.sram_limit)).c_str());
  appendf(out, "  host-only state (repacked weights for the host's kernels, not on the device): %s bytes\n",
              grouped(v.host_only).c_str());
}

std::string oversize_message(const MemoryVerdict& v, const std::string& model, const std::string& target,
                             bool as_error) {
  const uint64_t over = v.sram_bytes - uint64_t(v.sram_limit);
  std::string s = model + " does not fit " + target + "'s SRAM: it needs " + grouped(v.sram_bytes) + " bytes (arena " +
                  grouped(v.arena_bytes);
  if (v.npu_weights_in_sram) s += " + NPU weights resident in SRAM " + grouped(v.npu_weights_in_sram);
  char pct[32];
  std::snprintf(pct, sizeof(pct), "%.1f%%", 100.0 * double(over) / double(v.sram_limit));
  s += "), " + grouped(over) + " bytes (" + pct + ") more than its " + grouped(uint64_t(v.sram_limit)) +
       " bytes (sram_bytes)";
  if (v.npu_weights_in_sram) s += "; --fetch-constants-to-sram keeps the NPU weights in flash";
  if (as_error) s += "; --allow-oversize writes the program anyway";
  return s;
}

}  // namespace neutron::cli
