#include "passes/pipeline.h"

#include "ir/verifier.h"
#include "passes/passes.h"

namespace neutron {

const std::vector<PassInfo>& cpu_pipeline() {
  static const std::vector<PassInfo> kPasses = {
      {"fold-qdq", "turn DequantizeLinear -> op -> QuantizeLinear clusters into int8 ops", fold_qdq},
      {"layout-nhwc", "run spatial ops channels-last; sink and cancel the transposes", layout_nhwc},
      {"dce", "remove nodes whose outputs nobody reads", eliminate_dead_code},
  };
  return kPasses;
}

Status run_passes(Graph& g, const std::vector<PassInfo>& passes,
                  const std::function<void(const PassInfo&, const Graph&)>& after_each) {
  for (const PassInfo& p : passes) {
    RETURN_IF_ERROR(p.run(g).with_context(std::string("pass ") + p.name));
    g.compact();
    RETURN_IF_ERROR(verify_graph(g).with_context(std::string("verifier after pass ") + p.name));
    if (after_each) after_each(p, g);
  }
  return Status::OK();
}

}  // namespace neutron
