// Seed helper: writes a tiny float CNN (OUTDIR/tiny_cnn.onnx: Conv-Relu-MaxPool-Conv-Add-
// GlobalAveragePool-Flatten-Gemm on a 1x3x8x8 input) and calibration samples for it
// (OUTDIR/tiny_cnn_calib.npy). scripts/fuzz.sh compiles it with `neutron compile --calib`: programs
// and payloads that run in milliseconds, so the program and payload harnesses do thousands of
// executions a minute (the fixtures' programs take a second each under the sanitizers).
// Usage: make_seed_models OUTDIR
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/npy.h"
#include "import/onnx_builder.h"

namespace {

// Deterministic values in [-1, 1).
std::vector<float> values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = float(seed >> 8) / float(1u << 23) - 1.0f;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using neutron::TensorData;
  using neutron::testing::OnnxBuilder;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seed_models OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  OnnxBuilder b(13);
  b.input("x", 1, {1, 3, 8, 8}).output("y", 1, {1, 3});
  b.init<float>("w1", {4, 3, 3, 3}, values(4 * 3 * 3 * 3, 1)).init<float>("b1", {4}, values(4, 2));
  b.init<float>("w2", {4, 4, 1, 1}, values(4 * 4, 3)).init<float>("b2", {4}, values(4, 4));
  b.init<float>("wf", {3, 4}, values(3 * 4, 5)).init<float>("bf", {3}, values(3, 6));
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  OnnxBuilder::attr(c1, "kernel_shape", std::vector<int64_t>{3, 3});
  OnnxBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  auto* p = b.node("MaxPool", {"r1"}, {"p1"}, "pool1");
  OnnxBuilder::attr(p, "kernel_shape", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(p, "strides", std::vector<int64_t>{2, 2});
  auto* c2 = b.node("Conv", {"p1", "w2", "b2"}, {"c2"}, "conv2");
  OnnxBuilder::attr(c2, "kernel_shape", std::vector<int64_t>{1, 1});
  b.node("Add", {"c2", "p1"}, {"a"}, "add");
  b.node("GlobalAveragePool", {"a"}, {"g"}, "gap");
  b.node("Flatten", {"g"}, {"f"}, "flatten");
  auto* fc = b.node("Gemm", {"f", "wf", "bf"}, {"y"}, "fc");
  OnnxBuilder::attr(fc, "transB", int64_t(1));
  std::ofstream(dir + "/tiny_cnn.onnx", std::ios::binary) << b.bytes();

  const TensorData calib = TensorData::from<float>({8, 3, 8, 8}, values(8 * 3 * 8 * 8, 7));
  const neutron::Status s = neutron::write_npy(dir + "/tiny_cnn_calib.npy", calib);
  if (!s.ok()) {
    std::fprintf(stderr, "make_seed_models: %s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
