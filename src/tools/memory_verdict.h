// The memory verdict of `neutron compile` (issue 17): flash bytes of the program by section and
// SRAM bytes at run time, against the target's limits (sram_bytes; the target files carry no
// flash size yet). The SRAM figure is what the runtime asks for on a device (the weights are read
// in place from flash: ProgramRunner::memory_needed()'s arena) plus, when the NPU cannot read
// flash (npu_reads_flash false) and a partition does not prefetch its weights
// (--fetch-constants-to-sram), that partition's weights, which must then be in SRAM.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "target/target.h"
#include "tools/reports.h"

namespace neutron::cli {

struct MemoryVerdict {
  // Flash: the program file by section (they add up to program_bytes).
  uint64_t program_bytes = 0;
  uint64_t npu_microcode = 0;  // delegate payloads without their weights (headers, microcode)
  uint64_t npu_weights = 0;    // delegate payloads' weights sections
  uint64_t cpu_weights = 0;    // conv / FC weights, biases, multipliers of CPU kernel calls; constant tensors
  uint64_t tables = 0;         // the rest of the CPU weights sections: lookup and norm tables, masks
  uint64_t other = 0;          // CPU kernel-call microcode, tensor table, names, plan, checksum
  // SRAM at run time.
  uint64_t plan_bytes = 0;           // the memory plan: activations, scratch, delegate working memory
  uint64_t delegate_working = 0;     // of it: the largest delegate working memory (IO tables, SRAM weight copies)
  uint64_t runtime_state = 0;        // the runtime's state after the plan (ProgramRunner::memory_needed)
  uint64_t arena_bytes = 0;          // plan_bytes + runtime_state
  uint64_t npu_weights_in_sram = 0;  // NPU weights that must be resident in SRAM (no prefetch, no flash access)
  uint64_t sram_bytes = 0;           // arena_bytes + npu_weights_in_sram
  int64_t sram_limit = 0;            // the target's sram_bytes (0: none, e.g. --target cpu)
  uint64_t host_only = 0;            // host-only state (repacked weights), not device memory
  bool fits = true;
};

// `program`: a sealed program file; `target`: nullptr for --target cpu. Needs neutronInit() (the
// delegate payloads are checked by the runtime's backend).
StatusOr<MemoryVerdict> memory_verdict(const std::vector<uint8_t>& program, const NeutronTarget* target);

Json memory_json(const MemoryVerdict& v, const std::string& target);
// The verdict as `neutron compile` prints it, appended to `out`.
void print_memory_verdict(std::string* out, const MemoryVerdict& v, const std::string& target);
// "MODEL does not fit TARGET's SRAM: ..." with the numbers and what to try (`as_error`: also
// name --allow-oversize).
std::string oversize_message(const MemoryVerdict& v, const std::string& model, const std::string& target,
                             bool as_error);

}  // namespace neutron::cli
