// libFuzzer harness: bytes -> import_onnx_bytes -> verify_graph, then the CPU pipeline
// (fold-qdq, layout-nhwc, dce), the compile pipeline and the pre-quantization pipeline (constant
// folding on the executor) on copies of the graph. Import errors and pass errors are fine; an
// imported graph that does not verify is a finding.
#include <string>

#include "fuzz_util.h"
#include "import/onnx/onnx_importer.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neutron;
  fuzz::limit_memory_budget();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  StatusOr<Graph> g = import_onnx_bytes(bytes, "fuzz.onnx");
  if (!g.ok()) return 0;
  const Status v = verify_graph(*g);
  FUZZ_CHECK(v.ok(), "the imported graph does not verify: %s", v.to_string().c_str());
  Graph cpu = *g;
  (void)run_passes(cpu, cpu_pipeline());
  Graph compile = *g;
  (void)run_passes(compile, compile_pipeline());
  Graph prequant = *g;
  (void)run_passes(prequant, prequant_pipeline());
  return 0;
}
