// ONNX node-test conformance: every test directory of libonnx-testdata whose model uses only
// operators the importer supports is imported, run through the CPU pass pipeline and executed,
// and its outputs are compared with the expected output_<i>.pb.
//
// Inputs: the node tests feed weights, scales, zero points, shapes and axes as graph inputs. The
// first graph input stays a runtime input; every other one is bound to its input_<i>.pb value as
// a constant (OnnxImportOptions::input_values_as_constants), which is how real models carry them.
//
// Comparison:
//   float32         |actual - expected| <= 1e-4 + 1e-4 * |expected| (NaN matches NaN)
//   integers, bool  exact
//   quantized       (an output tensor with quantization parameters, e.g. QuantizeLinear or
//                   QLinearConv results) within 1: the reference rounds the real-valued result
//                   once, our integer pipeline rounds a fixed-point product (kernels/requantize.h),
//                   which can land on the other side of a .5 tie.
//
// Tests that cannot pass for a documented reason are listed in skip_list.txt (one per line:
// test name, then the reason) and reported as skipped. Tests whose op set is unsupported are not
// instantiated at all; kMinInstantiated keeps the instantiated set from silently shrinking.
#include <dirent.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "exec/executor.h"
#include "import/onnx/onnx_importer.h"
#include "import/onnx/tensor_proto.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

// Tests instantiated with libonnx-testdata 1.12 (Debian bookworm): 344, of which 52 are in
// skip_list.txt. Lower this only when an op deliberately loses support.
constexpr size_t kMinInstantiated = 344;

const std::string kNodeDir = NEUTRON_ONNX_NODE_TESTS;

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream f(path, std::ios::binary);
  *ok = bool(f);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool load_model(const std::string& dir, onnx::ModelProto* m) {
  bool ok = false;
  const std::string bytes = read_file(dir + "/model.onnx", &ok);
  return ok && m->ParseFromString(bytes);
}

// Directories whose every node is an op the importer imports (kSupported).
std::vector<std::string> supported_tests() {
  std::vector<std::string> names;
  DIR* d = opendir(kNodeDir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("test_", 0) != 0) continue;
    onnx::ModelProto m;
    if (!load_model(kNodeDir + "/" + name, &m)) continue;
    bool supported = true;
    for (const auto& n : m.graph().node())
      if ((!n.domain().empty() && n.domain() != "ai.onnx") || onnx_op_support(n.op_type()) != OnnxOpSupport::kSupported)
        supported = false;
    if (supported) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

const std::vector<std::string>& test_names() {
  static const std::vector<std::string> names = supported_tests();
  return names;
}

std::vector<std::string> test_params() {
  std::vector<std::string> p = test_names();
  if (p.empty()) p.push_back("data_missing");  // one test that reports the missing data
  return p;
}

// skip_list.txt beside this file: "<test name> <reason...>", '#' starts a comment line.
const std::map<std::string, std::string>& skip_list() {
  static const std::map<std::string, std::string> list = [] {
    std::map<std::string, std::string> m;
    // Not __FILE__: a compiler cache may rewrite it to a path relative to the build directory.
    std::ifstream f(std::string(NEUTRON_TESTS_DIR) + "/conformance/skip_list.txt");
    std::string line;
    while (std::getline(f, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      std::string name, reason;
      ls >> name;
      std::getline(ls, reason);
      m[name] = reason.substr(std::min(reason.find_first_not_of(" \t"), reason.size()));
    }
    return m;
  }();
  return list;
}

StatusOr<TensorData> load_tensor(const std::string& path) {
  bool ok = false;
  const std::string bytes = read_file(path, &ok);
  if (!ok) return error(Error::IoError, path, ": cannot open");
  onnx::TensorProto p;
  if (!p.ParseFromString(bytes)) return error(Error::InvalidModel, path, ": not a TensorProto");
  return tensor_from_proto(p, path);
}

std::string value_str(const TensorData& t, int64_t i) {
  return t.dtype == DType::F32 ? str_cat(t.get_as_double(i)) : str_cat(t.get_as_int(i));
}

// Returns an empty string when `actual` matches `expected`, else a description of the mismatch.
std::string compare(const TensorData& actual, const TensorData& expected, bool quantized) {
  if (actual.dtype != expected.dtype)
    return str_cat("dtype ", dtype_name(actual.dtype), ", expected ", dtype_name(expected.dtype));
  if (actual.shape != expected.shape)
    return str_cat("shape ", shape_str(actual.shape), ", expected ", shape_str(expected.shape));
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < actual.count(); ++i) {
    bool ok;
    if (actual.dtype == DType::F32) {
      const double a = actual.get_as_double(i), b = expected.get_as_double(i);
      ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= 1e-4 + 1e-4 * std::fabs(b);
    } else {
      const int64_t diff = actual.get_as_int(i) - expected.get_as_int(i);
      ok = diff == 0 || (quantized && (diff == 1 || diff == -1));
    }
    if (!ok && bad++ == 0) first = i;
  }
  if (bad == 0) return "";
  return str_cat(bad, " of ", actual.count(), " elements differ; first at flat index ", first, ": got ",
                 value_str(actual, first), ", expected ", value_str(expected, first));
}

class OnnxNodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeTest, MatchesReference) {
  const std::string name = GetParam();
  if (test_names().empty())
    GTEST_SKIP() << "ONNX node tests not found in " << kNodeDir << "; run scripts/setup.sh (installs libonnx-testdata)";
  auto skip = skip_list().find(name);
  if (skip != skip_list().end()) GTEST_SKIP() << "skip_list.txt: " << skip->second;

  const std::string dir = kNodeDir + "/" + name;
  onnx::ModelProto m;
  ASSERT_TRUE(load_model(dir, &m)) << dir;
  std::vector<std::string> input_names;
  {
    std::vector<std::string> inits;
    for (const auto& i : m.graph().initializer()) inits.push_back(i.name());
    for (const auto& i : m.graph().input())
      if (std::find(inits.begin(), inits.end(), i.name()) == inits.end()) input_names.push_back(i.name());
  }
  OnnxImportOptions options;
  std::vector<TensorData> runtime;
  for (size_t i = 0; i < input_names.size(); ++i) {
    auto t = load_tensor(dir + "/test_data_set_0/input_" + std::to_string(i) + ".pb");
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    if (i == 0) runtime.push_back(std::move(t).value());
    else options.input_values_as_constants[input_names[i]] = std::move(t).value();
  }
  auto imported = import_onnx_file(dir + "/model.onnx", options);
  ASSERT_TRUE(imported.ok()) << "import: " << imported.status().to_string();
  Graph g = std::move(imported).value();
  Status st = run_passes(g, cpu_pipeline());
  ASSERT_TRUE(st.ok()) << "passes: " << st.to_string();
  auto ex = Executor::create(g);
  ASSERT_TRUE(ex.ok()) << "executor: " << ex.status().to_string();
  std::vector<TensorData> outputs;
  st = ex.value()->run(runtime, &outputs);
  ASSERT_TRUE(st.ok()) << "run: " << st.to_string();
  ASSERT_EQ(outputs.size(), size_t(m.graph().output_size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto expected = load_tensor(dir + "/test_data_set_0/output_" + std::to_string(i) + ".pb");
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    const bool quantized = g.tensor(g.outputs[i]).is_quantized();
    const std::string diff = compare(outputs[i], expected.value(), quantized);
    EXPECT_TRUE(diff.empty()) << "output " << i << " '" << m.graph().output(int(i)).name() << "': " << diff;
  }
}

INSTANTIATE_TEST_SUITE_P(Node, OnnxNodeTest, ::testing::ValuesIn(test_params()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(OnnxNodeTestSuite, InstantiatesEnoughTests) {
  if (test_names().empty()) GTEST_SKIP() << "ONNX node tests not found in " << kNodeDir << "; run scripts/setup.sh";
  EXPECT_GE(test_names().size(), kMinInstantiated) << "fewer supported node tests than before: did an op lose support?";
}

TEST(OnnxNodeTestSuite, SkipListNamesInstantiatedTests) {
  if (test_names().empty()) GTEST_SKIP() << "ONNX node tests not found in " << kNodeDir << "; run scripts/setup.sh";
  for (const auto& [name, reason] : skip_list()) {
    EXPECT_TRUE(std::binary_search(test_names().begin(), test_names().end(), name))
        << "skip_list.txt names '" << name << "', which is not an instantiated test";
    EXPECT_FALSE(reason.empty()) << "skip_list.txt: '" << name << "' has no reason";
  }
}

}  // namespace
}  // namespace neutron
