#include "compiler/compiler.h"

#include "lowering/lowering.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace neutron::compiler {

const std::vector<CompileStage>& compile_stages() {
  static const std::vector<CompileStage> kStages = {
      {"lower", "IR nodes -> kernel calls with fused activations and requantization (the shared int8 lowering)", lower_graph},
      {"fuse", "a conv and the residual Add that alone reads its result -> one conv2d_add call", fuse_kernels},
      {"pack-weights", "pad weights to num_macs channels and place every constant in the weights section", pack_weights},
      {"plan-scratch", "liveness and greedy placement of activations in the scratch; conv row tiling", plan_scratch},
      {"prefetch", "weight streaming: Prefetch/WaitPrefetch ahead of the kernels, planned with the cost estimator",
       insert_prefetch},
      {"emit", "microcode and weights through the microcode writer", emit_microcode},
      {"compose-payload", "payload header, microcode, weights and kernels, 16-byte aligned", compose_payload},
  };
  return kStages;
}

// Stage "lower": the shared int8 lowering, with the weights' channels padded to the MAC array.
Status lower_graph(CompileContext& ctx) {
  lowering::LowerOptions o;
  o.channel_multiple = ctx.target.num_macs;
  o.use_neutron_for_format_conversion = ctx.options.use_neutron_for_format_conversion;
  o.transpose_nchw = false;
  o.float_kernel_calls = ctx.options.float_kernel_calls;
  o.conv_transpose_depthwise_phases = ctx.options.conv_transpose_depthwise_phases;
  return lowering::lower_graph(ctx.graph, o, &ctx.program);
}

StatusOr<NpuProgram> compile_program(const Graph& partition, const NeutronTarget& target, const CompileOptions& options,
                                     const StageObserver& after_each) {
  CHECK_OR_RETURN(target.num_macs >= 1 && target.num_macs <= 64, Error::InvalidArgument, "target '", target.name,
                  "' has num_macs ", target.num_macs, "; expected 1..64");
  CompileContext ctx{partition, target, options, NpuProgram()};
  for (const CompileStage& s : compile_stages()) {
    RETURN_IF_ERROR(s.run(ctx).with_context(str_cat("compile '", partition.name, "', stage ", s.name)));
    if (after_each) after_each(s, ctx.program);
  }
  return std::move(ctx.program);
}

StatusOr<std::vector<uint8_t>> compile_partition(const Graph& partition, const NeutronTarget& target,
                                                 const CompileOptions& options) {
  ASSIGN_OR_RETURN(NpuProgram p, compile_program(partition, target, options));
  return std::move(p.payload);
}

StatusOr<Graph> prepare_partition_graph(const Graph& g, const Partition& partition) {
  ASSIGN_OR_RETURN(Graph sub, extract_partition(g, partition));
  static const std::vector<PassInfo> kLayout = {
      {"layout-nhwc", "run spatial ops channels-last; sink and cancel the transposes", layout_nhwc},
      {"dce", "remove nodes whose outputs nobody reads", eliminate_dead_code},
  };
  RETURN_IF_ERROR(run_passes(sub, kLayout).with_context(str_cat("partition ", partition.id)));
  return sub;
}

}  // namespace neutron::compiler
