// The partitioner: acyclic maximal partitions, context rules, no-op partitions, the deny list,
// boundaries, subgraph extraction and layout analysis; plus a property test on random DAGs.
#include "partition/partitioner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "graph_builder.h"
#include "ir/op_cost.h"

namespace neutron {
namespace {

using testing::attrs;
using testing::GraphBuilder;
using testing::imxrt700;
using testing::q8;

Partitioning must_partition(const Graph& g, PartitionOptions o = {}) {
  auto p = partition_graph(g, imxrt700(), o);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return p.ok() ? std::move(p).value() : Partitioning{};
}

std::string rule_of(const Partitioning& p, NodeId id) {
  const auto& r = p.nodes[size_t(id)].rejection;
  return r ? r->rule : (p.on_npu(id) ? "npu" : "?");
}

TEST(Partitioner, ChainBecomesOnePartition) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId a = b.node(OpKind::Abs, "abs", {x});
  const TensorId n = b.node(OpKind::Neg, "neg", {a});
  b.node(OpKind::Exp, "exp", {n});
  const Partitioning p = must_partition(b.done());
  ASSERT_EQ(p.partitions.size(), 1u);
  EXPECT_EQ(p.partitions[0].nodes, (std::vector<NodeId>{0, 1, 2}));
  EXPECT_EQ(p.partitions[0].inputs, (std::vector<TensorId>{x}));
  EXPECT_EQ(p.partitions[0].outputs.size(), 1u);
  EXPECT_EQ(p.iterations, 1);
}

TEST(Partitioner, PathThroughTheCpuForbidsTheMerge) {
  // abs -> pow (CPU) -> add, and abs -> add directly: merging abs and add would need pow both
  // before and after the partition.
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId a = b.node(OpKind::Abs, "abs", {x});
  const TensorId c = b.constant("two", DType::I8, {1, 8}, q8(), 40);
  const TensorId d = b.node(OpKind::PowTensor, "div", {a, c});
  b.node(OpKind::Add, "add", {a, d});
  const Partitioning p = must_partition(b.done());
  ASSERT_EQ(p.partitions.size(), 2u);
  EXPECT_EQ(p.nodes[0].partition, 0);
  EXPECT_EQ(p.nodes[1].partition, -1);
  EXPECT_EQ(p.nodes[2].partition, 1);
  EXPECT_EQ(rule_of(p, 1), "pow_tensor.no_int8");
  auto order = execution_order(b.g, p);
  ASSERT_TRUE(order.ok()) << order.status().to_string();
  ASSERT_EQ(order->size(), 3u);
  EXPECT_TRUE((*order)[0].is_partition && (*order)[0].index == 0);
  EXPECT_FALSE((*order)[1].is_partition);
  EXPECT_TRUE((*order)[2].is_partition && (*order)[2].index == 1);
}

TEST(Partitioner, DenyListKeepsOpTypesOnTheCpu) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId a = b.node(OpKind::Abs, "abs", {x});
  b.node(OpKind::Exp, "exp", {a});
  PartitionOptions o;
  o.no_delegate = {OpKind::Exp};
  const Partitioning p = must_partition(b.done(), o);
  EXPECT_TRUE(p.on_npu(0));
  EXPECT_EQ(rule_of(p, 1), "user.no_delegate");
  EXPECT_EQ(p.nodes[1].rejection->detail, "Exp is in the deny list");
}

TEST(Partitioner, AllNoOpPartitionIsNotEmitted) {
  // div (CPU) -> reshape -> div (CPU): the reshape alone would be an empty NPU graph.
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 2, 4});
  const TensorId c = b.constant("two", DType::I8, {1}, q8(), 40);
  const TensorId d = b.node(OpKind::PowTensor, "div", {x, c});
  const TensorId r = b.node(OpKind::Reshape, "reshape", {d}, attrs({{"shape", std::vector<int64_t>{1, 8}}}));
  b.node(OpKind::PowTensor, "div2", {r, c});
  const Partitioning p = must_partition(b.done());
  EXPECT_TRUE(p.partitions.empty());
  EXPECT_EQ(rule_of(p, 1), "partition.all_no_op");
  EXPECT_NE(p.nodes[1].rejection->reason.find("empty Neutron graph"), std::string::npos);
  EXPECT_EQ(p.nodes[1].rejection->detail, "partition of node 'reshape' (Reshape)");
}

TEST(Partitioner, RequantizingReshapeAloneIsANoOpPartition) {
  // Upstream: a view_copy cluster with its own q-params, alone: still a no-op partition.
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 2, 4});
  const TensorId c = b.constant("two", DType::I8, {1}, q8(), 40);
  const TensorId d = b.node(OpKind::PowTensor, "div", {x, c});
  const TensorId r = b.node(OpKind::Clip, "requant", {d}, {}, q8(0.1f, 2));
  b.node(OpKind::Reshape, "reshape", {r}, attrs({{"shape", std::vector<int64_t>{1, 8}}}), q8(0.1f, 2));
  const Partitioning p = must_partition(b.done());
  EXPECT_TRUE(p.partitions.empty());
  EXPECT_EQ(rule_of(p, 1), "partition.all_no_op");
  EXPECT_EQ(rule_of(p, 2), "partition.all_no_op");
}

TEST(Partitioner, NoOpNextToComputeIsDelegated) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 2, 4});
  const TensorId a = b.node(OpKind::Abs, "abs", {x});
  b.node(OpKind::Reshape, "reshape", {a}, attrs({{"shape", std::vector<int64_t>{1, 8}}}));
  const Partitioning p = must_partition(b.done());
  ASSERT_EQ(p.partitions.size(), 1u);
  EXPECT_EQ(p.partitions[0].nodes.size(), 2u);
}

TEST(Partitioner, ArithmeticWithAnIdentityConstantIsANoOp) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId zero = b.constant("zero", DType::I8, {1, 8}, q8(0.1f, 3), 3);  // real 0
  b.node(OpKind::Add, "add0", {x, zero});
  const Partitioning p = must_partition(b.done());
  EXPECT_EQ(rule_of(p, 0), "partition.all_no_op");
  EXPECT_TRUE(is_noop_on_neutron(b.g, 0));

  GraphBuilder m;
  const TensorId y = m.input("x", {1, 8});
  const TensorId one = m.constant("one", DType::I8, {1}, q8(0.25f, -4), 0);  // 0.25 * (0 + 4) = 1
  m.node(OpKind::Mul, "mul1", {one, y});
  m.done();
  EXPECT_TRUE(is_noop_on_neutron(m.g, 0));

  GraphBuilder s;  // 0 - x is not a no-op
  const TensorId z = s.input("x", {1, 8});
  const TensorId zero2 = s.constant("zero", DType::I8, {1, 8}, q8(), 0);
  s.node(OpKind::Sub, "sub", {zero2, z});
  s.done();
  EXPECT_FALSE(is_noop_on_neutron(s.g, 0));
}

TEST(Partitioner, FullRangeSliceAloneIsRejectedButJoinsAPartition) {
  auto slice = [](bool alone, int64_t end) {
    GraphBuilder b;
    const TensorId x = b.input("x", {5, 2, 3, 4});
    const TensorId a = alone ? x : b.node(OpKind::Abs, "abs", {x});
    b.node(OpKind::Slice, "slice", {a},
           attrs({{"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{end}},
                  {"axes", std::vector<int64_t>{2}}}));
    return must_partition(b.done());
  };
  const Partitioning full_alone = slice(true, 3);
  EXPECT_EQ(rule_of(full_alone, 0), "partition.all_no_op");
  EXPECT_TRUE(slice(true, 2).on_npu(0));  // a real cut
  const Partitioning with_abs = slice(false, 3);
  EXPECT_TRUE(with_abs.on_npu(0));
  EXPECT_TRUE(with_abs.on_npu(1));
}

TEST(Partitioner, TransposeOfAConstantAloneIsRejected) {
  GraphBuilder b;
  const TensorId c = b.constant("c", DType::I8, {2, 3}, q8(), 1);
  b.node(OpKind::Transpose, "t", {c}, attrs({{"perm", std::vector<int64_t>{1, 0}}}));
  const Partitioning p = must_partition(b.done());
  EXPECT_EQ(rule_of(p, 0), "partition.all_no_op");
}

TEST(Partitioner, LoneReluNeedsItsHinge) {
  auto lone_relu = [](QuantParams in_q) {
    GraphBuilder b;
    const TensorId x = b.input("x", {1, 8});
    const TensorId c = b.constant("two", DType::I8, {1}, in_q, 40);
    const TensorId d = b.node(OpKind::PowTensor, "div", {x, c}, {}, in_q);
    b.node(OpKind::Relu, "relu", {d}, {}, in_q);
    return must_partition(b.done());
  };
  // 0 quantizes to -128 with zero point -128: every int8 input is >= 0 already.
  Partitioning p = lone_relu(q8(0.1f, -128));
  EXPECT_EQ(rule_of(p, 1), "relu.alone_hinge");
  EXPECT_NE(p.nodes[1].rejection->detail.find("both bounds lie outside [-128, 127], the clamp is the identity"),
            std::string::npos)
      << p.nodes[1].rejection->detail;
  p = lone_relu(q8(0.1f, 0));
  EXPECT_TRUE(p.on_npu(1));
  EXPECT_EQ(p.iterations, 1);
}

TEST(Partitioner, LoneClipNeedsAHinge) {
  auto lone_clip = [](float scale, int32_t zp, double lo, double hi) {
    GraphBuilder b;
    const TensorId x = b.input("x", {1, 8}, q8(scale, zp));
    const TensorId c = b.constant("two", DType::I8, {1}, q8(scale, zp), 40);
    const TensorId d = b.node(OpKind::PowTensor, "div", {x, c}, {}, q8(scale, zp));
    b.node(OpKind::Clip, "clip", {d}, attrs({{"min", lo}, {"max", hi}}), q8(scale, zp));
    return must_partition(b.done());
  };
  EXPECT_EQ(rule_of(lone_clip(0.01f, -128, 0, 6), 1), "clip.alone_hinge");  // [0, 2.55]: ReLU6 never bends
  EXPECT_TRUE(lone_clip(0.1f, -128, 0, 6).on_npu(1));                      // 6 -> -68: bends
  // RELU-family bounds above the range: a constant, rejected (upstream's is_clamp_preserved...).
  const Partitioning relu_constant = lone_clip(0.01f, 127, 0, 1);  // [-2.55, 0]: 0 -> 127
  EXPECT_EQ(rule_of(relu_constant, 1), "clip.alone_hinge");
  EXPECT_NE(relu_constant.nodes[1].rejection->detail.find("the output is constant"), std::string::npos);
  // Other bounds (MINIMUM + MAXIMUM) above the range: a constant output, delegated as upstream does
  // (it rejects a lone clamp only when it is the identity).
  EXPECT_TRUE(lone_clip(0.01f, 0, 2, 3).on_npu(1));
  EXPECT_EQ(rule_of(lone_clip(0.01f, 0, -2, 3), 1), "clip.alone_hinge");  // both outside: the identity
}

TEST(Partitioner, LoneReduceMeanOverUnitDimsIsRejected) {
  auto mean = [](bool alone) {
    GraphBuilder b;
    const TensorId x = b.input("x", {1, 8, 1, 1});
    const TensorId c = b.constant("two", DType::I8, {1}, q8(), 40);
    const TensorId d = alone ? b.node(OpKind::PowTensor, "div", {x, c}) : b.node(OpKind::Abs, "abs", {x});
    b.node(OpKind::ReduceMean, "mean", {d}, attrs({{"axes", std::vector<int64_t>{2, 3}}, {"keepdims", int64_t(1)}}));
    return must_partition(b.done());
  };
  const Partitioning alone = mean(true);
  EXPECT_EQ(rule_of(alone, 1), "reduce_mean.alone_noop");
  EXPECT_EQ(alone.nodes[1].rejection->detail, "reduces only size-1 dims of [1,8,1,1]");
  EXPECT_TRUE(mean(false).on_npu(1));
}

TEST(Partitioner, LoneResizeWithScaleOneIsRejected) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 2, 4, 4});
  b.node(OpKind::Resize, "resize", {x},
         attrs({{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
                {"nearest_mode", std::string("floor")}, {"scales", std::vector<double>{1, 1, 1, 1}}}));
  const Partitioning p = must_partition(b.done());
  EXPECT_EQ(rule_of(p, 0), "resize.alone_identity");
}

TEST(Partitioner, RequantizingClipFollowsItsConsumer) {
  // abs -> requant -> slice(step 2, CPU): the requantization belongs to the slice's cluster
  // upstream, so it leaves the partition with it.
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId a = b.node(OpKind::Abs, "abs", {x});
  const TensorId r = b.node(OpKind::Clip, "requant", {a}, {}, q8(0.1f, 1));
  b.node(OpKind::Slice, "slice", {r},
         attrs({{"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{8}}, {"axes", std::vector<int64_t>{1}},
                {"steps", std::vector<int64_t>{2}}}),
         q8(0.1f, 1));
  const Partitioning p = must_partition(b.done());
  EXPECT_TRUE(p.on_npu(0));
  EXPECT_EQ(rule_of(p, 2), "slice.step");
  EXPECT_EQ(rule_of(p, 1), "clip.requantize_partition");
  EXPECT_EQ(p.nodes[1].rejection->detail, "feeds node 'slice' (Slice) on the CPU");
  EXPECT_EQ(p.iterations, 2);
}

TEST(Partitioner, RefusesChannelsLastGraphs) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 4, 4, 2});
  b.node(OpKind::GlobalAveragePool, "gap", {x}, attrs({{"channels_last", int64_t(1)}}));
  auto p = partition_graph(b.done(), imxrt700());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("before layout-nhwc"), std::string::npos);
}

TEST(Partitioner, RefusesTargetsUpstreamDoesNotDelegateTo) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  b.node(OpKind::Abs, "abs", {x});
  b.done();
  auto s = load_target("imx95");
  ASSERT_TRUE(s.ok());
  auto p = partition_graph(b.g, s.value());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Error::NotSupported);
  EXPECT_NE(p.status().message().find("neutron-s"), std::string::npos);
  auto n1 = load_target("mcxn94x");
  ASSERT_TRUE(n1.ok());
  p = partition_graph(b.g, n1.value());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("hardware version N1"), std::string::npos);
}

TEST(Partitioner, ExtractedPartitionIsAStandaloneGraph) {
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 8});
  const TensorId a = b.node(OpKind::Abs, "abs", {x});
  const TensorId c = b.constant("two", DType::I8, {1}, q8(), 40);
  const TensorId d = b.node(OpKind::PowTensor, "div", {a, c});
  const TensorId e = b.node(OpKind::Exp, "exp", {d});
  b.node(OpKind::Add, "add", {e, d});
  const Partitioning p = must_partition(b.done());
  ASSERT_EQ(p.partitions.size(), 2u);
  const Partition& second = p.partitions[1];
  EXPECT_EQ(second.inputs, (std::vector<TensorId>{d}));
  auto sub = extract_partition(b.g, second);
  ASSERT_TRUE(sub.ok()) << sub.status().to_string();
  EXPECT_EQ(sub->inputs.size(), 1u);
  EXPECT_EQ(sub->outputs.size(), 1u);
  EXPECT_EQ(sub->live_nodes().size(), 2u);
  EXPECT_EQ(sub->tensor(sub->inputs[0]).name, "div_out");
}

TEST(Partitioner, LayoutAnalysisCountsBoundaryTransposes) {
  // conv -> maxpool -> reshape -> gemm: NHWC inside, one transpose at the input and one inside
  // (NHWC -> NCHW before the flattening reshape).
  GraphBuilder b;
  const TensorId x = b.input("x", {1, 4, 8, 8});
  const TensorId w = b.weights("w", {8, 4, 3, 3});
  const TensorId conv = b.node(OpKind::Conv, "conv", {x, w},
                               attrs({{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  const TensorId pool = b.node(OpKind::MaxPool, "pool", {conv},
                               attrs({{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}},
                                      {"pads", std::vector<int64_t>{0, 0, 0, 0}}}));
  const TensorId flat = b.node(OpKind::Reshape, "flatten", {pool}, attrs({{"shape", std::vector<int64_t>{1, 128}}}));
  const TensorId fw = b.weights("fw", {10, 128}, 0);
  b.node(OpKind::Gemm, "fc", {flat, fw}, attrs({{"transB", int64_t(1)}}));
  Partitioning p = must_partition(b.done());
  ASSERT_EQ(p.partitions.size(), 1u);
  ASSERT_TRUE(analyze_partition_layout(b.g, &p).ok());
  EXPECT_EQ(p.partitions[0].boundary_transposes, 1);
  EXPECT_EQ(p.partitions[0].internal_transposes, 1);
  EXPECT_EQ(p.partitions[0].macs, node_macs(b.g, 0) + node_macs(b.g, 1) + node_macs(b.g, 3));
  const std::string text = print_partitioned_graph(b.g, p);
  EXPECT_NE(text.find("npu partition 0 (%x) -> (%fc_out) {"), std::string::npos) << text;
  EXPECT_NE(text.find("1 boundary and 1 internal transposes"), std::string::npos) << text;
}

// ---- property test ----------------------------------------------------------------------------

// A random DAG of int8 elementwise ops; Sub and Neg are denied, so support is random per node.
struct RandomDag {
  Graph g;
  std::vector<char> supported;
};

RandomDag random_dag(std::mt19937& rng) {
  GraphBuilder b;
  std::vector<TensorId> values;
  const int inputs = 1 + int(rng() % 3);
  for (int i = 0; i < inputs; ++i) values.push_back(b.input("in" + std::to_string(i), {1, 4}));
  const int nodes = 3 + int(rng() % 40);
  const double p_supported = 0.3 + 0.6 * double(rng() % 100) / 100.0;
  std::vector<char> supported;
  for (int i = 0; i < nodes; ++i) {
    const bool sup = double(rng() % 1000) / 1000.0 < p_supported;
    // Prefer recent values so that the graphs are deep as well as wide.
    auto pick = [&] {
      const size_t n = values.size();
      const size_t back = std::min<size_t>(n, 6);
      return rng() % 3 ? values[n - 1 - rng() % back] : values[rng() % n];
    };
    const std::string name = "n" + std::to_string(i);
    if (rng() % 2) {
      values.push_back(b.node(sup ? OpKind::Abs : OpKind::Neg, name, {pick()}));
    } else {
      const TensorId a = pick();
      TensorId c = pick();
      values.push_back(b.node(sup ? OpKind::Add : OpKind::Sub, name, {a, c}));
    }
    supported.push_back(sup);
  }
  return RandomDag{std::move(b.done()), supported};
}

// Contracts each partition to one unit; returns false if the unit graph has a cycle.
bool contracted_is_acyclic(const Graph& g, const std::vector<int>& unit_of, int units) {
  std::vector<std::set<int>> succ(static_cast<size_t>(units));
  std::vector<int> indegree(static_cast<size_t>(units), 0);
  const auto cons = g.consumers();
  for (NodeId n : g.live_nodes())
    for (TensorId t : g.node(n).outputs)
      for (NodeId c : cons[size_t(t)]) {
        const int a = unit_of[size_t(n)], b = unit_of[size_t(c)];
        if (a != b && succ[size_t(a)].insert(b).second) ++indegree[size_t(b)];
      }
  std::vector<int> ready;
  for (int u = 0; u < units; ++u)
    if (indegree[size_t(u)] == 0) ready.push_back(u);
  int seen = 0;
  while (!ready.empty()) {
    const int u = ready.back();
    ready.pop_back();
    ++seen;
    for (int s : succ[size_t(u)])
      if (--indegree[size_t(s)] == 0) ready.push_back(s);
  }
  return seen == units;
}

// Unit per node: partitions keep their ids; each CPU node its own unit after them.
std::vector<int> units_of(const Graph& g, const Partitioning& p, int* count) {
  std::vector<int> unit(g.num_nodes(), -1);
  int next = int(p.partitions.size());
  for (NodeId n : g.live_nodes()) unit[size_t(n)] = p.nodes[size_t(n)].partition >= 0 ? p.nodes[size_t(n)].partition : next++;
  *count = next;
  return unit;
}

TEST(Partitioner, RandomDagsGiveAcyclicMaximalPartitions) {
  PartitionOptions o;
  o.no_delegate = {OpKind::Sub, OpKind::Neg};
  int total_partitions = 0, merges_refused = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    RandomDag dag = random_dag(rng);
    const Graph& g = dag.g;
    auto pr = partition_graph(g, imxrt700(), o);
    ASSERT_TRUE(pr.ok()) << "seed " << seed << ": " << pr.status().to_string();
    const Partitioning& p = pr.value();
    total_partitions += int(p.partitions.size());

    // Placement: exactly the supported nodes are delegated (no context rule applies to Abs/Add).
    for (size_t i = 0; i < dag.supported.size(); ++i)
      ASSERT_EQ(p.on_npu(NodeId(i)), bool(dag.supported[i])) << "seed " << seed << " node " << i;

    // Each partition is connected through its own edges.
    const auto cons = g.consumers();
    for (const Partition& part : p.partitions) {
      std::set<NodeId> members(part.nodes.begin(), part.nodes.end()), reached = {part.nodes[0]};
      std::vector<NodeId> stack = {part.nodes[0]};
      while (!stack.empty()) {
        const NodeId n = stack.back();
        stack.pop_back();
        std::vector<NodeId> nbrs;
        for (TensorId t : g.node(n).outputs) nbrs.insert(nbrs.end(), cons[size_t(t)].begin(), cons[size_t(t)].end());
        for (TensorId t : g.node(n).inputs)
          if (g.tensor(t).producer >= 0) nbrs.push_back(g.tensor(t).producer);
        for (NodeId m : nbrs)
          if (members.count(m) && reached.insert(m).second) stack.push_back(m);
      }
      ASSERT_EQ(reached.size(), members.size()) << "seed " << seed << ": partition " << part.id << " is not connected";
    }

    // Acyclic: contracting every partition leaves a DAG.
    int units = 0;
    const std::vector<int> unit = units_of(g, p, &units);
    ASSERT_TRUE(contracted_is_acyclic(g, unit, units)) << "seed " << seed;
    ASSERT_TRUE(execution_order(g, p).ok()) << "seed " << seed;

    // Maximal: merging any two adjacent partitions creates a cycle.
    for (NodeId n : g.live_nodes())
      for (TensorId t : g.node(n).outputs)
        for (NodeId c : cons[size_t(t)]) {
          const int a = p.nodes[size_t(n)].partition, b = p.nodes[size_t(c)].partition;
          if (a < 0 || b < 0 || a == b) continue;
          std::vector<int> merged = unit;
          for (int& u : merged)
            if (u == b) u = a;
          ASSERT_FALSE(contracted_is_acyclic(g, merged, units))
              << "seed " << seed << ": partitions " << a << " and " << b << " could be merged";
          ++merges_refused;
        }
  }
  // The generator must exercise the interesting cases.
  EXPECT_GT(total_partitions, 300);
  EXPECT_GT(merges_refused, 20);
}

}  // namespace
}  // namespace neutron
