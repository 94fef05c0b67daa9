// The Neutron compiler: one partition (an int8 Graph from extract_partition(), channels-last after
// layout-nhwc) -> a delegate payload (npu/microcode_format.h, neutron-backend-facts.md §6.2).
//
// Stages, in order (compile_stages(); each leaves the NpuProgram printable with print_program()):
//   lower            each IR node -> kernel calls (npu/kernel_args.h) with fused activations and
//                    requantization: the shared int8 lowering (lowering/lowering.h) the host and
//                    CPU instructions use too, so the NPU computes the CPU's integers bit for bit;
//                    weights' channels padded to the target's num_macs
//   fuse             a conv and the residual Add/Sub right after it that alone reads its result ->
//                    one conv2d_add call (bit-exact: the same integer steps in one call)
//   pack-weights     weights padded to num_macs channels (lowering::place_constants), biases, multipliers and tables placed in
//                    the weights section (16-byte aligned); args get their offsets
//   plan-scratch     liveness over the kernel sequence, greedy placement in the activation scratch
//                    (16-byte aligned); conv row tiling when a layer exceeds the SRAM budget
//   prefetch         weights in flash: Prefetch/WaitPrefetch ahead of the kernels, the distance and
//                    the SRAM buffer chosen with the cost estimator (compiler/estimate.h); with
//                    fetch_constants_to_sram every kernel's constants are prefetched
//   emit             microcode and weights through npu::MicrocodeWriter
//   compose-payload  header (IO counts, channels-last flags, IO maps, version) + sections
//
// Deterministic: the same partition and options give byte-identical payloads.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "compiler/program.h"
#include "ir/graph.h"
#include "partition/partitioner.h"
#include "target/target.h"

namespace neutron::compiler {

struct CompileOptions {
  // Upstream's use_neutron_for_format_conversion (default on): NCHW<->NHWC transposes at the
  // partition boundary run on the NPU. Off: a boundary Transpose to/from NHWC is dropped and the
  // IO is flagged channels-last in the payload header, so the runtime converts on the CPU.
  bool use_neutron_for_format_conversion = true;
  // Upstream's fetch_constants_to_sram: weights stay in flash and each kernel's constants are
  // copied to an SRAM scratch by Prefetch instructions one kernel ahead (double-buffered).
  bool fetch_constants_to_sram = false;
  // Activation bytes one kernel may keep in SRAM before its rows are tiled; 0 = the target's
  // sram_bytes.
  int64_t sram_budget_bytes = 0;
  // A program's CPU kernel calls: float ops and QuantizeLinear / DequantizeLinear become float
  // kernel calls (lowering::LowerOptions::float_kernel_calls). Never for NPU partitions.
  bool float_kernel_calls = false;
  // SRAM for prefetched weights (stage prefetch); 0 = twice the largest kernel's constants (the
  // double buffer of one-ahead prefetching).
  int64_t weights_sram_budget_bytes = 0;
  // Plan weight streaming (stage prefetch) for a target whose weights stay in flash; off for CPU
  // kernel calls, which read their constants in place.
  bool stream_weights = true;
  // Stage fuse: a conv and the residual Add reading its output become one conv2d_add call.
  bool fuse_kernels = true;
  // A strided depthwise ConvTranspose as phase convolutions (CPU kernel calls: s_h * s_w times
  // fewer MACs) or over the zero-inserted input (NPU: one depthwise call beats s_h * s_w of them
  // plus their interleave, since each NPU call and job has a fixed cost; see docs/npu-model.md).
  bool conv_transpose_depthwise_phases = false;
};

struct CompileContext {
  const Graph& graph;
  const NeutronTarget& target;
  CompileOptions options;
  NpuProgram program;
};

struct CompileStage {
  const char* name;  // --dump-after=<name>
  const char* summary;
  Status (*run)(CompileContext& ctx);
};

// The stages above, in order.
const std::vector<CompileStage>& compile_stages();

// Runs every stage; `after_each` (optional) sees the program after each one.
using StageObserver = std::function<void(const CompileStage&, const NpuProgram&)>;
StatusOr<NpuProgram> compile_program(const Graph& partition, const NeutronTarget& target, const CompileOptions& options = {},
                                     const StageObserver& after_each = nullptr);
// The payload alone.
StatusOr<std::vector<uint8_t>> compile_partition(const Graph& partition, const NeutronTarget& target,
                                                 const CompileOptions& options = {});

// The graph compile_partition() expects for `partition` of `g` (int8, after fold-qdq, NCHW as the
// partitioner sees it): extract_partition(), then layout-nhwc and dead-code elimination.
StatusOr<Graph> prepare_partition_graph(const Graph& g, const Partition& partition);

// Stage functions (also reachable through compile_stages()).
Status lower_graph(CompileContext& ctx);
Status fuse_kernels(CompileContext& ctx);
Status pack_weights(CompileContext& ctx);
Status plan_scratch(CompileContext& ctx);
Status insert_prefetch(CompileContext& ctx);
Status emit_microcode(CompileContext& ctx);
Status compose_payload(CompileContext& ctx);

// Independent check of a scratch plan: every used scratch tensor 16-byte aligned and inside the
// scratch size, no two tensors that are live at the same time overlapping.
Status check_scratch_plan(const NpuProgram& p);

// Human-readable listing of a payload: header fields and IO maps, microcode header words, the
// tensor table and every kernel call with its named args, and a summary of the weights. A payload
// that does not parse gives a listing that ends with the error.
std::string disassemble_payload(const uint8_t* data, size_t size);
inline std::string disassemble_payload(const std::vector<uint8_t>& bytes) {
  return disassemble_payload(bytes.data(), bytes.size());
}

}  // namespace neutron::compiler
