// Test helpers for the pre-quantization passes: a small float graph builder and a check that a
// rewritten graph computes what the original did (both run through cpu_pipeline() on the executor).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace neutron::testing {

// Builds float graphs; output shapes come from shape inference in finish().
class GraphBuilder {
 public:
  explicit GraphBuilder(uint32_t seed = 7) : rng(seed) {}
  TensorId input(const std::string& name, Shape s) {
    Tensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = std::move(s);
    TensorId id = g.add_tensor(t);
    g.inputs.push_back(id);
    return id;
  }
  TensorId constant(const std::string& name, Shape s, std::vector<float> v) {
    return g.add_constant(name, TensorData::from<float>(std::move(s), v));
  }
  // Uniform in [lo, hi).
  TensorId random_constant(const std::string& name, Shape s, float lo = -1, float hi = 1) {
    TensorData d(DType::F32, s);
    std::uniform_real_distribution<float> u(lo, hi);
    for (int64_t i = 0; i < d.count(); ++i) d.data<float>()[i] = u(rng);
    return g.add_constant(name, std::move(d));
  }
  std::vector<TensorId> op_n(OpKind k, std::vector<TensorId> ins, size_t num_outputs, Attributes a = {}) {
    Node n;
    n.kind = k;
    n.name = std::string(op_kind_name(k)) + std::to_string(g.num_nodes());
    n.inputs = std::move(ins);
    for (size_t i = 0; i < num_outputs; ++i) {
      Tensor t;
      t.name = n.name + "_out" + std::to_string(i);
      n.outputs.push_back(g.add_tensor(t));
    }
    n.attrs = std::move(a);
    std::vector<TensorId> outs = n.outputs;
    g.add_node(std::move(n));
    return outs;
  }
  TensorId op(OpKind k, std::vector<TensorId> ins, Attributes a = {}) { return op_n(k, std::move(ins), 1, std::move(a))[0]; }

  TensorId conv(TensorId x, TensorId w, TensorId b, int64_t group = 1, int64_t pad = 1) {
    Attributes a;
    a.set("strides", std::vector<int64_t>{1, 1});
    a.set("dilations", std::vector<int64_t>{1, 1});
    a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
    a.set("group", group);
    std::vector<TensorId> ins = {x, w};
    if (b != kNoTensor) ins.push_back(b);
    return op(OpKind::Conv, ins, a);
  }
  // BatchNormalization with random parameters (variance in [0.5, 2)).
  TensorId batchnorm(TensorId x, int64_t channels, const std::string& name = "bn") {
    return op(OpKind::BatchNormalization,
              {x, random_constant(name + "_gamma", {channels}, 0.5f, 1.5f), random_constant(name + "_beta", {channels}),
               random_constant(name + "_mean", {channels}), random_constant(name + "_var", {channels}, 0.5f, 2.0f)});
  }
  Graph finish(std::vector<TensorId> outs) {
    g.outputs = std::move(outs);
    Status s = infer_shapes(g);
    EXPECT_TRUE(s.ok()) << s.to_string();
    s = verify_graph(g);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return std::move(g);
  }
  Graph g;
  std::mt19937 rng;
};

inline int count(const Graph& g, OpKind k) {
  int n = 0;
  for (NodeId id : g.live_nodes()) n += g.node(id).kind == k;
  return n;
}

inline std::vector<std::string> io_names(const Graph& g) {
  std::vector<std::string> r;
  for (TensorId t : g.inputs) r.push_back("in:" + g.tensor(t).name);
  for (TensorId t : g.outputs) r.push_back("out:" + g.tensor(t).name);
  return r;
}

// Runs one pass through run_passes (so the graph is compacted and verified after it).
inline Graph run_pass(const Graph& before, Status (*pass)(Graph&), const char* name = "pass under test") {
  Graph g = before;
  Status s = run_passes(g, {{name, "", pass}});
  EXPECT_TRUE(s.ok()) << s.to_string() << "\n" << print_graph(before);
  EXPECT_EQ(io_names(g), io_names(before)) << "graph input/output names must survive";
  return g;
}

// Runs `g` after cpu_pipeline() on the executor.
inline std::vector<TensorData> run_on_cpu(const Graph& original, const std::vector<TensorData>& inputs) {
  Graph g = original;
  Status s = run_passes(g, cpu_pipeline());
  EXPECT_TRUE(s.ok()) << s.to_string();
  if (!s.ok()) return {};
  auto ex = Executor::create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().to_string() << "\n" << print_graph(g);
  if (!ex.ok()) return {};
  std::vector<TensorData> outs;
  s = ex.value()->run(inputs, &outs);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return outs;
}

// Largest |a - b| relative to the largest |b| of the tensor (so values near zero in a tensor of
// ordinary magnitude are judged on the tensor's scale, as float rounding is).
inline double max_relative_error(const TensorData& a, const TensorData& b) {
  double scale = 0, err = 0;
  for (int64_t i = 0; i < b.count(); ++i) scale = std::max(scale, std::fabs(b.get_as_double(i)));
  for (int64_t i = 0; i < b.count(); ++i) err = std::max(err, std::fabs(a.get_as_double(i) - b.get_as_double(i)));
  return scale == 0 ? err : err / scale;
}

// Random inputs in [-2, 2) for every graph input; the same graph inputs the two graphs share.
inline std::vector<TensorData> random_inputs(const Graph& g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2, 2);
  std::vector<TensorData> r;
  for (TensorId t : g.inputs) {
    TensorData d(DType::F32, g.tensor(t).shape);
    for (int64_t i = 0; i < d.count(); ++i) d.data<float>()[i] = u(rng);
    r.push_back(std::move(d));
  }
  return r;
}

// The rewritten graph computes the original's outputs within `tolerance` (relative, see above).
inline void expect_same_results(const Graph& before, const Graph& after, uint32_t seed = 1, double tolerance = 1e-5) {
  const auto inputs = random_inputs(before, seed);
  const auto want = run_on_cpu(before, inputs);
  const auto got = run_on_cpu(after, inputs);
  ASSERT_EQ(want.size(), before.outputs.size());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].shape, want[i].shape) << "output " << i;
    EXPECT_LE(max_relative_error(got[i], want[i]), tolerance)
        << "output " << i << ", seed " << seed << "\nbefore:\n" << print_graph(before) << "after:\n" << print_graph(after);
  }
}

}  // namespace neutron::testing
