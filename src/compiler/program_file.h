// The program file writer: a partitioned int8 graph -> the self-contained program the runtime
// runs (src/program/program.fbs, src/runtime/program_runner.h).
//
//   1. Schedule: partitions and CPU nodes in execution order (partitioner's execution_order).
//   2. Instructions: each NPU partition compiles to a Neutron payload (DelegateCall, backend
//      "neutron"); float -> int8 QuantizeLinear of a graph input and int8 -> float
//      DequantizeLinear of a graph output become Quantize / Dequantize; the other CPU ops are
//      grouped (maximal acyclic groups) and lowered to CPU kernel calls (CpuKernels) with the same
//      lowering as the NPU, without channel padding: int8 ops as int8 kernel calls, ops that stay
//      in float (no int8 kernel, or kept in float by the user) as float kernel calls with
//      quantize / dequantize calls at their edges. A node the lowering cannot lower (no float
//      kernel call either) is refused with its name.
//   3. Memory plan: every tensor passed between instructions, and each instruction's working
//      memory, gets an arena offset (greedy by size over instruction live ranges). The lower
//      bound is the most bytes live at any kernel call, looking inside partitions too.
//   4. Serialization with FlatBuffers; the same graph and options give identical bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/compiler.h"
#include "ir/graph.h"
#include "partition/partitioner.h"
#include "target/target.h"

namespace neutron::compiler {

struct ProgramFileOptions {
  CompileOptions npu;      // for the Neutron partitions
  std::string model_name;  // recorded in the file
  std::string generator = "neutron";
};

struct ProgramInstructionInfo {
  std::string kind;    // "delegate", "cpu_kernels", "quantize", "dequantize"
  std::string origin;  // model node names
  size_t payload_bytes = 0;
  uint64_t scratch_bytes = 0;
  int partition = -1;  // NPU partition id for delegates
  std::vector<uint8_t> payload;  // for delegates and CPU kernels (a copy, for reports)
  std::string plan;              // delegates: the compiler's plan and per-layer estimate (listing)
};

struct ProgramFile {
  std::vector<uint8_t> bytes;
  uint64_t arena_bytes = 0;        // the plan's peak
  uint64_t lower_bound_bytes = 0;  // most bytes live at one kernel call
  std::vector<ProgramInstructionInfo> instructions;
};

// A target describing the CPU for kernel calls: num_macs 1 (no channel padding), no SRAM limit.
NeutronTarget cpu_kernel_target();

// `g`: verified int8 graph after fold-qdq (NCHW). `partitioning`: from partition_graph() on `g`
// for `target`, or nullptr to run every op as CPU kernel calls (`--target cpu`).
StatusOr<ProgramFile> build_program_file(const Graph& g, const Partitioning* partitioning, const NeutronTarget& target,
                                         const ProgramFileOptions& options);

}  // namespace neutron::compiler
