// Named pass pipelines. Each pass is a stage with a CLI name and a one-line summary; the pipeline
// verifies the graph after every stage (see docs/architecture.md).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace neutron {

struct PassInfo {
  const char* name;     // CLI vocabulary: --dump-after=<name>
  const char* summary;
  Status (*run)(Graph& g);
};

// The passes that make an imported graph ready for the CPU executor:
// fold-qdq (quantized clusters become int8 ops), layout-nhwc (spatial ops to channels-last,
// transposes sunk and cancelled), dead-code elimination.
const std::vector<PassInfo>& cpu_pipeline();

// The passes that make a quantized (QDQ) graph ready for partitioning and compilation (NCHW, as
// the partitioner's rules are written): fold-qdq, quantize-before-pad, dce.
const std::vector<PassInfo>& compile_pipeline();

// The passes run on a float graph before post-training quantization (upstream's ATen passes,
// docs: neutron-backend-facts.md 5.1), in this order: remove-identity, fold-constants, div-to-mul,
// split-to-slices, fold-batchnorm, split-grouped-conv, fold-linear-add, dce. Each keeps the graph's
// input and output names and its results (up to float rounding).
const std::vector<PassInfo>& prequant_pipeline();

// Runs the passes in order, verifying after each. `after_each` (optional) sees every stage.
Status run_passes(Graph& g, const std::vector<PassInfo>& passes,
                  const std::function<void(const PassInfo&, const Graph&)>& after_each = nullptr);

}  // namespace neutron
