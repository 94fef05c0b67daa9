// Every JSON document the CLI writes has the keys and types docs/json-schemas.md lists (issue 18):
// the tables there are parsed and each document, written by the real commands, is checked against
// them both ways (no undocumented key, no documented key missing).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/npy.h"
#include "util/cli.h"

namespace neutron {
namespace {

using testing::read_file;
using testing::run_cli;

// path ("a", "a.b", "a[].b", "a[]") -> allowed types ("integer", "number", "string", "boolean",
// "array", "object", "null").
using Schema = std::map<std::string, std::set<std::string>>;

std::map<std::string, Schema> documented_schemas() {
  std::map<std::string, Schema> schemas;
  std::istringstream in(read_file(std::string(NEUTRON_TESTS_DIR) + "/../docs/json-schemas.md"));
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("## `", 0) == 0) {
      current = line.substr(4, line.find('`', 4) - 4);
      schemas[current][""] = {"object"};
      continue;
    }
    if (current.empty() || line.rfind("| `", 0) != 0) continue;
    const std::string path = line.substr(3, line.find('`', 3) - 3);
    const size_t t0 = line.find("| ", line.find('`', 3)) + 2;
    std::string type = line.substr(t0, line.find(" |", t0) - t0);
    std::set<std::string> types;
    size_t start = 0;
    while (start <= type.size()) {
      size_t end = type.find(" or ", start);
      std::string one = type.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (one.rfind("array of ", 0) == 0) {
        schemas[current][path + "[]"].insert(one.substr(9));
        one = "array";
      }
      types.insert(one);
      if (end == std::string::npos) break;
      start = end + 4;
    }
    schemas[current][path] = types;
  }
  // "a[].b" documents an array of objects: "a[]" is an object.
  for (auto& [name, schema] : schemas) {
    std::vector<std::string> element_paths;
    for (const auto& [p, types] : schema)
      for (size_t at = p.find("[]."); at != std::string::npos; at = p.find("[].", at + 1)) element_paths.push_back(p.substr(0, at + 2));
    for (const std::string& p : element_paths) schema[p].insert("object");
  }
  return schemas;
}

std::string type_of(const JsonValue& v) {
  switch (v.type()) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kBool: return "boolean";
    case JsonValue::Type::kNumber: return v.is_integer() ? "integer" : "number";
    case JsonValue::Type::kString: return "string";
    case JsonValue::Type::kArray: return "array";
    case JsonValue::Type::kObject: return "object";
  }
  return "?";
}

// Checks `v` at `path` and below; records the paths seen.
void check(const JsonValue& v, const std::string& path, const Schema& schema, const std::string& doc,
           std::set<std::string>* seen) {
  seen->insert(path);
  auto it = schema.find(path);
  if (it == schema.end()) {
    ADD_FAILURE() << doc << ": key '" << path << "' is not in docs/json-schemas.md";
    return;
  }
  const std::string t = type_of(v);
  const bool ok = it->second.count(t) || (t == "integer" && it->second.count("number"));
  EXPECT_TRUE(ok) << doc << ": '" << path << "' is " << t;
  if (v.is_object()) {
    for (const auto& [key, child] : v.as_object()) check(child, path.empty() ? key : path + "." + key, schema, doc, seen);
    // Every documented key of this object is present.
    for (const auto& [p, types] : schema) {
      const std::string prefix = path.empty() ? "" : path + ".";
      if (p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0 &&
          p.find_first_of(".[", prefix.size()) == std::string::npos && !v.find(p.substr(prefix.size())))
        ADD_FAILURE() << doc << ": documented key '" << p << "' is missing";
    }
  }
  if (v.is_array())
    for (const JsonValue& e : v.as_array()) check(e, path + "[]", schema, doc, seen);
}

void check_document(const std::string& file, const std::string& schema_name) {
  static const std::map<std::string, Schema> schemas = documented_schemas();
  ASSERT_TRUE(schemas.count(schema_name)) << "no table for '" << schema_name << "' in docs/json-schemas.md";
  auto v = parse_json(read_file(file), file);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  ASSERT_TRUE(v->find("schema"));
  EXPECT_EQ(v->find("schema")->as_string(), schema_name);
  EXPECT_EQ(v->find("schema_version")->as_int(), 1);
  EXPECT_FALSE(v->find("tool_version")->as_string().empty());
  std::set<std::string> seen;
  check(v.value(), "", schemas.at(schema_name), file, &seen);
}

class JsonSchemas : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = testing::make_temp_dir("neutron_json_schema"); }
  static std::string path(const std::string& f) { return dir_ + "/" + f; }
  static std::string fixture(const std::string& f) { return std::string(NEUTRON_FIXTURES_DIR) + "/cifarnet/" + f; }
  static std::string one_sample() {
    const std::string p = path("x1.npy");
    auto all = read_npy(fixture("inputs.npy"));
    TensorData one(DType::F32, {1, 3, 32, 32});
    std::copy(all->bytes.begin(), all->bytes.begin() + one.bytes.size(), one.bytes.begin());
    EXPECT_TRUE(write_npy(p, one).ok());
    return p;
  }
  static std::string dir_;
};
std::string JsonSchemas::dir_;

void run_ok(const std::string& args) {
  const auto r = run_cli(args + " -q");
  ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
}

TEST_F(JsonSchemas, CompileRunAndInspect) {
  const std::string m = fixture("model_int8.onnx"), x = one_sample();
  run_ok("compile " + m + " --target imxrt700 -o " + path("p.nprg") + " --json " + path("compile.json") +
         " --no-delegate Softmax");
  check_document(path("compile.json"), "compile");
  run_ok("compile " + m + " --target cpu -o " + path("c.nprg") + " --json " + path("compile_cpu.json"));
  check_document(path("compile_cpu.json"), "compile");
  run_ok("run " + m + " -i " + x + " --json " + path("run_onnx.json") + " --repeat 3");
  check_document(path("run_onnx.json"), "run");
  run_ok("run " + path("p.nprg") + " -i " + fixture("inputs.npy") + " --json " + path("run_npu.json"));
  check_document(path("run_npu.json"), "run");
  run_ok("run " + path("p.nprg") + " -i " + x + " --target cpu --json " + path("run_cpu.json"));
  check_document(path("run_cpu.json"), "run");
  // Several samples on several threads, with labels: the accuracy keys.
  auto labels = TensorData(DType::I64, {100});
  for (int k = 0; k < 100; ++k) reinterpret_cast<int64_t*>(labels.bytes.data())[k] = k % 10;
  ASSERT_TRUE(write_npy(path("run_labels.npy"), labels).ok());
  run_ok("run " + m + " -i " + fixture("inputs.npy") + " --threads 2 --labels " + path("run_labels.npy") + " --json " +
         path("run_onnx_labels.json"));
  check_document(path("run_onnx_labels.json"), "run");
  run_ok("run " + path("p.nprg") + " -i " + fixture("inputs.npy") + " --threads 2 --labels " + path("run_labels.npy") +
         " --json " + path("run_npu_labels.json"));
  check_document(path("run_npu_labels.json"), "run");
  run_ok("compare " + m + " " + path("p.nprg") + " -i " + fixture("inputs.npy") + " --target cpu --json " +
         path("compare_program.json"));
  check_document(path("compare_program.json"), "compare");
  run_ok("inspect " + path("p.nprg") + " --json " + path("inspect.json"));
  check_document(path("inspect.json"), "inspect");
  run_ok("inspect " + path("c.nprg") + " --json " + path("inspect_cpu.json"));
  check_document(path("inspect_cpu.json"), "inspect");

  // One meaning of arena_bytes: compile, run and inspect agree on the program's plan.
  auto c = parse_json(read_file(path("compile.json")), "c");
  auto r = parse_json(read_file(path("run_npu.json")), "r");
  auto i = parse_json(read_file(path("inspect.json")), "i");
  const int64_t arena = c->find("program")->find("arena_bytes")->as_int();
  EXPECT_GT(arena, 0);
  EXPECT_EQ(r->find("arena_bytes")->as_int(), arena);
  EXPECT_EQ(i->find("memory_plan")->find("arena_bytes")->as_int(), arena);
  EXPECT_EQ(r->find("runtime_arena_bytes")->as_int(), i->find("memory_plan")->find("runtime_arena_bytes")->as_int());
  EXPECT_EQ(c->find("no_delegate")->as_array().at(0).as_string(), "Softmax");
}

TEST_F(JsonSchemas, SupportedOps) {
  run_ok("supported-ops --target imxrt700 --json " + path("ops.json"));
  check_document(path("ops.json"), "supported-ops");
  run_ok("supported-ops --target imx95 --json " + path("ops95.json"));  // not a delegation target: a reason
  check_document(path("ops95.json"), "supported-ops");
}

TEST_F(JsonSchemas, QuantizeAndCompareAtFullPrecision) {
  const std::string f32 = fixture("model_f32.onnx"), calib = fixture("inputs.npy");
  run_ok("quantize " + f32 + " -i " + calib + " -o " + path("q.onnx") + " --json " + path("quantize.json"));
  check_document(path("quantize.json"), "quantize");
  run_ok("quantize " + f32 + " -i " + calib + " -o " + path("qp.onnx") + " --json " + path("quantize_p.json") +
         " --observer percentile --percentile 99.9");
  check_document(path("quantize_p.json"), "quantize");
  auto q = parse_json(read_file(path("quantize.json")), "q");
  ASSERT_TRUE(q.ok());
  int full_precision = 0;
  for (const JsonValue& g : q->find("groups")->as_array()) {
    const double s = g.find("scale")->as_number();
    EXPECT_EQ(double(float(s)), s) << "a float32 scale reads back exactly";
    // Scales rounded to 6 significant digits would almost never be float32 values.
    char six[32];
    std::snprintf(six, sizeof(six), "%.6g", s);
    full_precision += std::strtod(six, nullptr) != s;
  }
  EXPECT_GT(full_precision, 0);
  // The quantized model names the tool's version as its producer_version.
  const std::string version = run_cli("--version").output.substr(8);  // "neutron 0.4.0\n"
  EXPECT_NE(read_file(path("q.onnx")).find(version.substr(0, version.size() - 1)), std::string::npos);

  auto labels = TensorData(DType::I64, {100});
  for (int k = 0; k < 100; ++k) reinterpret_cast<int64_t*>(labels.bytes.data())[k] = k % 10;
  ASSERT_TRUE(write_npy(path("labels.npy"), labels).ok());
  run_ok("compare " + f32 + " " + path("q.onnx") + " -i " + calib + " --labels " + path("labels.npy") + " --json " +
         path("compare.json"));
  check_document(path("compare.json"), "compare");
  run_ok("compare " + f32 + " " + f32 + " -i " + calib + " --json " + path("compare_same.json"));
  check_document(path("compare_same.json"), "compare");  // SQNR of equal outputs: null
}

}  // namespace
}  // namespace neutron
