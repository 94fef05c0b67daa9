// The committed int8 fixture models after fold-qdq: every op with MACs (conv, gemm, pools) and
// every other int8 op is delegated on imxrt700, except what the rules explain.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "import/onnx/onnx_importer.h"
#include "ir/op_cost.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

using testing::imxrt700;

struct Result {
  Graph g;
  Partitioning p;
};

Result partition_fixture(const std::string& model) {
  const std::string path = std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/model_int8.onnx";
  auto g = import_onnx_file(path);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return {};
  static const std::vector<PassInfo> kFold = {{"fold-qdq", "", fold_qdq}, {"dce", "", eliminate_dead_code}};
  Status st = run_passes(g.value(), kFold);
  EXPECT_TRUE(st.ok()) << st.to_string();
  auto p = partition_graph(g.value(), imxrt700());
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  if (!p.ok()) return {};
  st = analyze_partition_layout(g.value(), &p.value());
  EXPECT_TRUE(st.ok()) << st.to_string();
  return Result{std::move(g).value(), std::move(p).value()};
}

// What stays on the CPU, as "op:rule" per node, in topological order.
std::vector<std::string> cpu_nodes(const Result& r) {
  std::vector<std::string> v;
  auto order = r.g.topological_order();
  EXPECT_TRUE(order.ok());
  if (!order.ok()) return v;
  for (NodeId id : order.value())
    if (!r.p.on_npu(id)) v.push_back(std::string(op_kind_name(r.g.node(id).kind)) + ":" + r.p.nodes[size_t(id)].rejection->rule);
  return v;
}

void expect_all_compute_delegated(const Result& r) {
  for (NodeId id : r.g.live_nodes())
    if (node_macs(r.g, id) > 0) {
      EXPECT_TRUE(r.p.on_npu(id)) << describe(r.g, id);
    }
}

class FixtureDelegation : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureDelegation, OnePartitionWithEverythingButTheIoQuantization) {
  const Result r = partition_fixture(GetParam());
  expect_all_compute_delegated(r);
  EXPECT_EQ(r.p.partitions.size(), 1u);
  EXPECT_EQ(cpu_nodes(r), (std::vector<std::string>{"QuantizeLinear:quantize_linear.float_boundary",
                                                    "DequantizeLinear:dequantize_linear.float_boundary"}));
  ASSERT_FALSE(r.p.partitions.empty());
  EXPECT_EQ(r.p.partitions[0].inputs.size(), 1u);
  EXPECT_EQ(r.p.partitions[0].outputs.size(), 1u);
  EXPECT_LE(r.p.partitions[0].boundary_transposes, 1);  // the NCHW input; outputs are 2-D logits
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureDelegation,
                         ::testing::Values("fmnist_cnn", "mobilenet_v1_025", "mobilenet_v2", "resnet18"));

TEST(FixtureDelegation, MobileNetV2MacsAllOnTheNpu) {
  const Result r = partition_fixture("mobilenet_v2");
  int64_t macs = 0;
  for (NodeId id : r.g.live_nodes()) macs += node_macs(r.g, id);
  ASSERT_EQ(r.p.partitions.size(), 1u);
  EXPECT_EQ(r.p.partitions[0].macs, macs);
  EXPECT_EQ(macs, 300836992);  // torchvision MobileNetV2 at 224x224: ~300.8 M MACs
}

TEST(FixtureDelegation, CifarNet) {
  // torch's FX quantization gives each Pad its own output parameters. fold-qdq expresses that
  // as an unbounded requantizing Clip before the Pad; upstream's constant_pad_nd needs shared
  // parameters, so upstream leaves these two requantizations on the CPU and splits the network
  // in three. Here they run on the NPU as table calls (issue 16): one partition, no CPU round trip.
  // The Pad on the float graph input (before the first QuantizeLinear) is float: CPU.
  const Result r = partition_fixture("cifarnet");
  expect_all_compute_delegated(r);
  EXPECT_EQ(cpu_nodes(r), (std::vector<std::string>{"Pad:quant.int8_io", "QuantizeLinear:quantize_linear.float_boundary",
                                                    "DequantizeLinear:dequantize_linear.float_boundary"}));
  EXPECT_EQ(r.p.partitions.size(), 1u);
  // Every requantization is delegated: before the two Pads and before the Reshape.
  int delegated_clips = 0;
  for (NodeId id : r.g.live_nodes()) delegated_clips += r.g.node(id).kind == OpKind::Clip && r.p.on_npu(id);
  EXPECT_EQ(delegated_clips, 3);
  // Everything after the first (float) Pad and QuantizeLinear in one partition.
  const Partition& only = r.p.partitions.back();
  std::vector<std::string> ops;
  for (NodeId id : only.nodes) ops.push_back(op_kind_name(r.g.node(id).kind));
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv", "MaxPool", "Clip", "Pad", "Conv", "MaxPool", "Clip", "Pad", "Conv",
                                           "MaxPool", "Clip", "Reshape", "Gemm", "Softmax"}));
}

}  // namespace
}  // namespace neutron
