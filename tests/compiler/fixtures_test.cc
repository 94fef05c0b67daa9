// The committed int8 fixtures end to end: import -> fold-qdq -> partition (imxrt700) -> for each
// partition: extract, layout-nhwc, compile, run through NeutronBackend -> driver -> simulator, and
// compare with the CPU executor on the same partition subgraph for 10 random int8 inputs. Bit-exact.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "compiler/npu_test_util.h"
#include "import/onnx/onnx_importer.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

constexpr int kInputs = 10;

struct FixtureResult {
  int partitions = 0;
  int runs = 0;
  size_t payload_bytes = 0;
};

FixtureResult check_fixture(const std::string& model) {
  FixtureResult fr;
  const std::string path = std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/model_int8.onnx";
  auto g = import_onnx_file(path);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return fr;
  static const std::vector<PassInfo> kFold = {{"fold-qdq", "", fold_qdq}, {"dce", "", eliminate_dead_code}};
  Status st = run_passes(g.value(), kFold);
  EXPECT_TRUE(st.ok()) << st.to_string();
  auto p = partition_graph(g.value(), testing::npu_target());
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  if (!p.ok()) return fr;
  EXPECT_FALSE(p->partitions.empty());
  for (const Partition& part : p->partitions) {
    SCOPED_TRACE(model + " partition " + std::to_string(part.id));
    auto sub = compiler::prepare_partition_graph(g.value(), part);
    EXPECT_TRUE(sub.ok()) << sub.status().to_string();
    if (!sub.ok()) continue;
    if (std::getenv("NEUTRON_PRINT_DISASM")) {  // debugging aid: the payload's listing
      auto payload = compiler::compile_partition(sub.value(), testing::npu_target());
      if (payload.ok()) std::printf("%s", compiler::disassemble_payload(payload.value()).c_str());
    }
    const auto t0 = std::chrono::steady_clock::now();
    const testing::NpuVsCpu r = testing::compare_npu_cpu(sub.value(), kInputs, 1000 + uint32_t(part.id));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
    EXPECT_EQ(r.runs, kInputs);
    ++fr.partitions;
    fr.runs += r.runs;
    fr.payload_bytes += r.payload_bytes;
    std::printf("%s partition %d: %zu nodes, payload %zu bytes, %d/%d inputs bit-exact (%.2f s)\n", model.c_str(),
                part.id, part.nodes.size(), r.payload_bytes, r.runs, kInputs, s);
  }
  return fr;
}

class FixtureBitExact : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureBitExact, EveryPartitionMatchesTheCpuOnTenInputs) {
  const FixtureResult r = check_fixture(GetParam());
  EXPECT_GE(r.partitions, 1);
  EXPECT_EQ(r.runs, r.partitions * kInputs);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureBitExact,
                         ::testing::Values("cifarnet", "fmnist_cnn", "mobilenet_v1_025", "mobilenet_v2", "resnet18"));

}  // namespace
}  // namespace neutron
