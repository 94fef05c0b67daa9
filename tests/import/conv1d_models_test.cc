// 1-D convolutions (imported as Reshape -> 2-D Conv -> Reshape) on PyTorch's converted
// test_Conv1d* models: the CPU result matches PyTorch's output, with and without the
// pre-quantization passes (test_Conv1d_groups also goes through split-grouped-conv).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "exec/executor.h"
#include "import/onnx/onnx_importer.h"
#include "import/onnx/tensor_proto.h"
#include "ir/printer.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

const std::string kDir = "/usr/share/libonnx-testdata/data/pytorch-converted";

StatusOr<TensorData> load_tensor(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return error(Error::IoError, path, ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  onnx::TensorProto p;
  if (!p.ParseFromString(ss.str())) return error(Error::InvalidModel, path, ": not a TensorProto");
  return tensor_from_proto(p, path);
}

class Conv1dModel : public ::testing::TestWithParam<const char*> {};

TEST_P(Conv1dModel, MatchesPyTorch) {
  const std::string dir = kDir + "/" + GetParam();
  if (!std::ifstream(dir + "/model.onnx")) GTEST_SKIP() << dir << " not found (libonnx-testdata)";
  auto input = load_tensor(dir + "/test_data_set_0/input_0.pb");
  auto expected = load_tensor(dir + "/test_data_set_0/output_0.pb");
  ASSERT_TRUE(input.ok() && expected.ok());
  for (bool prequant : {false, true}) {
    auto imported = import_onnx_file(dir + "/model.onnx");
    ASSERT_TRUE(imported.ok()) << imported.status().to_string();
    Graph g = std::move(imported).value();
    EXPECT_GE(g.tensor(g.inputs[0]).shape.size(), 3u);
    if (prequant) {
      Status s = run_passes(g, prequant_pipeline());
      ASSERT_TRUE(s.ok()) << s.to_string();
    }
    Status s = run_passes(g, cpu_pipeline());
    ASSERT_TRUE(s.ok()) << s.to_string();
    auto ex = Executor::create(g);
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    std::vector<TensorData> out;
    ASSERT_TRUE(ex.value()->run({input.value()}, &out).ok());
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape, expected.value().shape);
    for (int64_t i = 0; i < out[0].count(); ++i) {
      const double a = out[0].get_as_double(i), b = expected.value().get_as_double(i);
      ASSERT_LE(std::fabs(a - b), 1e-4 + 1e-4 * std::fabs(b)) << "element " << i << ", prequant " << prequant << "\n"
                                                              << print_graph(g);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorchConverted, Conv1dModel,
                         ::testing::Values("test_Conv1d", "test_Conv1d_dilated", "test_Conv1d_groups", "test_Conv1d_pad1",
                                           "test_Conv1d_pad1size1", "test_Conv1d_pad2", "test_Conv1d_pad2size1",
                                           "test_Conv1d_stride"));

}  // namespace
}  // namespace neutron
