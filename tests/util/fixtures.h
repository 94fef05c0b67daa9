// Test helper for the committed end-to-end fixtures (fixtures/<model>/, see fixtures/README.md).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "core/npy.h"
#include "exec/executor.h"
#include "import/onnx/onnx_importer.h"
#include "passes/pipeline.h"

namespace neutron::testing {

inline std::string fixture_path(const std::string& model, const std::string& file) {
  return std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/" + file;
}

inline TensorData load_npy_or_die(const std::string& path) {
  auto r = read_npy(path);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : TensorData();
}

// Sample `i` of a [S, ...] array as a [1, ...] tensor.
inline TensorData sample(const TensorData& all, int64_t i) {
  Shape s = all.shape;
  s[0] = 1;
  TensorData t(all.dtype, s);
  std::memcpy(t.bytes.data(), all.bytes.data() + size_t(i) * t.bytes.size(), t.bytes.size());
  return t;
}

// Imports, runs the CPU pipeline and binds a model.
inline std::unique_ptr<Executor> load_model(const std::string& path) {
  auto g = import_onnx_file(path);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  Status s = run_passes(g.value(), cpu_pipeline());
  EXPECT_TRUE(s.ok()) << s.to_string();
  if (!s.ok()) return nullptr;
  auto ex = Executor::create(g.value());
  EXPECT_TRUE(ex.ok()) << ex.status().to_string();
  return ex.ok() ? std::move(ex).value() : nullptr;
}

// Runs every sample of inputs [S, ...] and stacks the first outputs into [S, ...].
inline TensorData run_all(Executor& ex, const TensorData& inputs) {
  TensorData result;
  for (int64_t i = 0; i < inputs.shape[0]; ++i) {
    std::vector<TensorData> outs;
    Status s = ex.run({sample(inputs, i)}, &outs);
    EXPECT_TRUE(s.ok()) << s.to_string();
    if (!s.ok()) return {};
    if (i == 0) {
      Shape sh = outs[0].shape;
      sh[0] = inputs.shape[0];
      result = TensorData(outs[0].dtype, sh);
    }
    std::memcpy(result.bytes.data() + size_t(i) * outs[0].bytes.size(), outs[0].bytes.data(), outs[0].bytes.size());
  }
  return result;
}

struct Agreement {
  double max_abs = 0;       // in output units
  double max_steps = 0;     // in LSB of the int8 output
  double frac_over_2 = 0;   // fraction of elements more than 2 steps apart
  double cosine = 1;
};

inline Agreement compare(const TensorData& a, const TensorData& b, double step) {
  Agreement r;
  EXPECT_EQ(a.shape, b.shape);
  if (a.shape != b.shape) return r;
  double dot = 0, na = 0, nb = 0;
  int64_t over = 0;
  for (int64_t i = 0; i < a.count(); ++i) {
    double x = a.get_as_double(i), y = b.get_as_double(i);
    double d = std::fabs(x - y);
    r.max_abs = std::max(r.max_abs, d);
    // Round so values that are exactly k steps apart count as k despite float noise.
    double steps = std::round(d / step * 1e3) / 1e3;
    r.max_steps = std::max(r.max_steps, steps);
    over += steps > 2;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  r.frac_over_2 = double(over) / double(a.count());
  r.cosine = (na == 0 || nb == 0) ? (na == nb ? 1 : 0) : dot / std::sqrt(na * nb);
  return r;
}

inline double max_abs(const TensorData& t) {
  double m = 0;
  for (int64_t i = 0; i < t.count(); ++i) m = std::max(m, std::fabs(t.get_as_double(i)));
  return m;
}

}  // namespace neutron::testing
