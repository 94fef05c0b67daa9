// The end-to-end checks shared by the e2e (small models) and e2e_large binaries.
#pragma once
#include "util/fixtures.h"

namespace neutron::testing {

// Float model: outputs within 1e-4 of torch, relative to the largest output magnitude.
inline void check_float_model(const std::string& name) {
  auto ex = load_model(fixture_path(name, "model_f32.onnx"));
  ASSERT_TRUE(ex);
  TensorData inputs = load_npy_or_die(fixture_path(name, "inputs.npy"));
  TensorData want = load_npy_or_die(fixture_path(name, "ref_f32.npy"));
  TensorData got = run_all(*ex, inputs);
  Agreement a = compare(got, want, 1.0);
  EXPECT_LE(a.max_abs, 1e-4 * max_abs(want)) << name << ": max |ours - torch| = " << a.max_abs
                                             << ", max |torch| = " << max_abs(want);
}

// The output step (LSB) of an int8 model: the scale of the tensor its final DequantizeLinear reads.
inline double output_step(const std::string& model_path) {
  auto g = import_onnx_file(model_path);
  EXPECT_TRUE(g.ok());
  const Graph& graph = g.value();
  NodeId p = graph.tensor(graph.outputs[0]).producer;
  EXPECT_GE(p, 0);
  const Node& dq = graph.node(p);
  EXPECT_EQ(dq.kind, OpKind::DequantizeLinear) << "int8 fixture must end in DequantizeLinear";
  return graph.tensor(dq.inputs[0]).quant.scale.at(0);
}

struct Int8Result {
  Agreement vs_torch, vs_exact, exact_vs_torch;
};

// int8 model: as close to torch int8 as an exact QDQ evaluation is (max steps at most 1.5x the
// exact reference's, cosine at most 0.01 below it); also reports agreement with the exact reference.
inline Int8Result check_int8_model(const std::string& name) {
  Int8Result r;
  const std::string path = fixture_path(name, "model_int8.onnx");
  auto ex = load_model(path);
  EXPECT_TRUE(ex);
  if (!ex) return r;
  const double step = output_step(path);
  TensorData inputs = load_npy_or_die(fixture_path(name, "inputs.npy"));
  TensorData torch_int8 = load_npy_or_die(fixture_path(name, "ref_int8_torch.npy"));
  TensorData exact = load_npy_or_die(fixture_path(name, "ref_int8_qdq.npy"));
  TensorData got = run_all(*ex, inputs);
  r.vs_torch = compare(got, torch_int8, step);
  r.vs_exact = compare(got, exact, step);
  r.exact_vs_torch = compare(exact, torch_int8, step);
  std::printf("%s int8: vs torch max %.0f steps, cos %.6f | exact-QDQ vs torch max %.0f steps, cos %.6f | "
              "vs exact-QDQ max %.0f steps, cos %.6f\n",
              name.c_str(), r.vs_torch.max_steps, r.vs_torch.cosine, r.exact_vs_torch.max_steps,
              r.exact_vs_torch.cosine, r.vs_exact.max_steps, r.vs_exact.cosine);
  EXPECT_LE(r.vs_torch.max_steps, std::max(1.5 * r.exact_vs_torch.max_steps, 1.0)) << name;
  EXPECT_GE(r.vs_torch.cosine, r.exact_vs_torch.cosine - 0.01) << name;
  return r;
}

}  // namespace neutron::testing
