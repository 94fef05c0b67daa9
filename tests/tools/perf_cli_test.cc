// Whole-model latency, per-layer attribution and traces (issue 17, deliverables 3-5): compile and
// run agree for a custom target file the running machine no longer has (the program carries its
// timing parameters); every node of the model is a row of the per-layer table, the CSV and the
// JSON; a --no-delegate program is never faster; the Chrome trace has its three tracks, events
// named by layer, monotonic and non-overlapping per track (read with nlohmann-json, as a viewer).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "util/cli.h"

namespace neutron {
namespace {

using nlohmann::json;
using testing::read_file;
using testing::run_cli;

class PerfCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::make_temp_dir("neutron_perf_cli");
    auto all = read_npy(fixture("inputs.npy"));
    ASSERT_TRUE(all.ok());
    TensorData one(DType::F32, {1, 3, 32, 32});
    std::copy(all->bytes.begin(), all->bytes.begin() + one.bytes.size(), one.bytes.begin());
    ASSERT_TRUE(write_npy(path("x1.npy"), one).ok());
  }
  static std::string path(const std::string& f) { return dir_ + "/" + f; }
  static std::string fixture(const std::string& f) { return std::string(NEUTRON_FIXTURES_DIR) + "/cifarnet/" + f; }
  static json read_json(const std::string& f) { return json::parse(read_file(f)); }
  static std::string dir_;
};
std::string PerfCli::dir_;

void ok(const testing::CommandResult& r, const std::string& what) {
  ASSERT_EQ(r.exit_code, 0) << what << "\n" << r.output;
  ASSERT_FALSE(r.crashed) << what;
}

// imxrt700.json with another clock and CPU parameters, under another name.
std::string custom_target(const std::string& file) {
  std::string t = read_file(std::string(NEUTRON_TESTS_DIR) + "/../src/target/targets/imxrt700.json");
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
  };
  replace("\"value\": \"imxrt700\"", "\"value\": \"perf_custom\"");
  replace("\"clock_mhz\": {\"value\": 325", "\"clock_mhz\": {\"value\": 200");
  replace("\"sim_cpu_conv_cycles_per_mac\": {\"value\": 1.4", "\"sim_cpu_conv_cycles_per_mac\": {\"value\": 3");
  replace("\"sim_cpu_clock_mhz\": {\"value\": 325", "\"sim_cpu_clock_mhz\": {\"value\": 150");
  std::ofstream(file) << t;
  return file;
}

TEST_F(PerfCli, CompileAndRunAgreeForACustomTargetFileTheRunDoesNotHave) {
  const std::string target = custom_target(path("perf_custom.json"));
  ok(run_cli("compile " + fixture("model_int8.onnx") + " --target " + target + " -o " + path("custom.nprg") +
             " --json " + path("custom_compile.json") + " --profile --perf-csv " + path("custom_compile.csv")),
     "compile");
  ASSERT_EQ(std::remove(target.c_str()), 0);  // the run must not need it
  const auto r = run_cli("run " + path("custom.nprg") + " -i " + path("x1.npy") + " --json " + path("custom_run.json") +
                         " --profile --perf-csv " + path("custom_run.csv"));
  ok(r, "run");
  EXPECT_EQ(r.output.find("default parameters"), std::string::npos) << r.output;
  const json c = read_json(path("custom_compile.json"))["performance"];
  const json rr = read_json(path("custom_run.json"));
  const json p = rr["performance"];
  EXPECT_EQ(c["timing_source"], "program");
  EXPECT_EQ(c["npu_clock_mhz"], 200.0);
  EXPECT_EQ(c["cpu_clock_mhz"], 150.0);
  EXPECT_EQ(c["latency_ms"], p["latency_ms"]);
  EXPECT_EQ(c["npu_cycles"], p["npu_cycles"]);
  EXPECT_EQ(c["cpu_cycles"], p["cpu_cycles"]);
  EXPECT_EQ(c["transfer_cycles"], p["transfer_cycles"]);
  // The parts add up; the NPU and transfer parts are what the driver's timing model reported.
  EXPECT_NEAR(p["latency_ms"].get<double>(),
              p["npu_ms"].get<double>() + p["cpu_ms"].get<double>() + p["transfer_ms"].get<double>(), 1e-9);
  EXPECT_NEAR(rr["npu_latency_ms"].get<double>(), p["npu_ms"].get<double>() + p["transfer_ms"].get<double>(), 1e-9);
  EXPECT_GT(p["cpu_ms"].get<double>(), 0.0) << "Quantize/Dequantize and the requantizing Clips run on the CPU";
  EXPECT_EQ(read_file(path("custom_compile.csv")), read_file(path("custom_run.csv")));
  // The text: the summary line with each part, the three tables.
  for (const char* s : {"latency per inference:", "NPU ", "CPU ", "transfers ", "per layer", "per op type:", "top 10 layers:"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;

  // The built-in target's clock is faster: a lower latency for the same model.
  ok(run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 -o " + path("rt.nprg") + " --json " +
             path("rt.json") + " -q"),
     "compile imxrt700");
  EXPECT_LT(read_json(path("rt.json"))["performance"]["latency_ms"].get<double>(), c["latency_ms"].get<double>());
}

TEST_F(PerfCli, EveryNodeIsALayerInTheTableCsvAndJson) {
  const auto r = run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 -o " + path("n.nprg") +
                         " --json " + path("n.json") + " --profile --perf-csv " + path("n.csv"));
  ok(r, "compile");
  const json doc = read_json(path("n.json"));
  std::set<std::string> layers;
  for (const json& l : doc["performance"]["layers"]) layers.insert(l["node"].get<std::string>());
  ASSERT_FALSE(doc["nodes"].empty());
  for (const json& n : doc["nodes"]) {
    const std::string name = n["name"];
    EXPECT_TRUE(layers.count(name)) << name << " is not a layer";
    EXPECT_NE(r.output.find(name), std::string::npos) << name;
  }
  // Placement agrees with the delegation report.
  std::map<std::string, std::string> placement;
  for (const json& l : doc["performance"]["layers"]) placement[l["node"]] = l["placement"];
  for (const json& n : doc["nodes"]) EXPECT_EQ(placement[n["name"]], n["placement"]) << n["name"];
  // The CSV: a header and one row per layer, the node name first.
  std::istringstream csv(read_file(path("n.csv")));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line.rfind("node,index,op,placement,time_us,cycles,", 0), 0u) << line;
  size_t rows = 0;
  while (std::getline(csv, line)) {
    EXPECT_TRUE(layers.count(line.substr(0, line.find(',')))) << line;
    ++rows;
  }
  EXPECT_EQ(rows, doc["performance"]["layers"].size());
  // Shares add up to 1; the top list is sorted by time.
  double share = 0;
  for (const json& l : doc["performance"]["layers"]) share += l["share"].get<double>();
  EXPECT_NEAR(share, 1.0, 1e-9);
  const json& top = doc["performance"]["top_layers"];
  ASSERT_EQ(top.size(), 10u);
  for (size_t k = 1; k < top.size(); ++k)
    EXPECT_GE(doc["performance"]["layers"][top[k - 1].get<size_t>()]["time_us"].get<double>(),
              doc["performance"]["layers"][top[k].get<size_t>()]["time_us"].get<double>());
}

// A 1-D conv imports as Reshape, Conv, Reshape, all three named after the ONNX node: the layer is
// the Conv (with the MACs), not a Reshape; and the layout transposes of consecutive 1-D convs cancel.
TEST_F(PerfCli, OneDimensionalConvLayersAreConvsWithoutTransposesBetween) {
  const std::string voc = std::string(NEUTRON_FIXTURES_DIR) + "/vocoder_1d/";
  ok(run_cli("quantize " + voc + "model_f32.onnx -i " + voc + "calib.npy -o " + path("voc.onnx") + " -q"), "quantize");
  ok(run_cli("compile " + path("voc.onnx") + " --target imxrt700 -o " + path("voc.nprg") + " -q --json " +
             path("voc.json")),
     "compile");
  const json doc = read_json(path("voc.json"));
  int convs = 0, transposes = 0;
  for (const json& l : doc["performance"]["layers"]) {
    const std::string op = l["op"];
    if (l["macs"].get<int64_t>() > 0) {
      EXPECT_TRUE(op == "Conv" || op == "ConvTranspose") << l.dump();
      ++convs;
    }
    transposes += op == "Transpose";
  }
  EXPECT_EQ(convs, 5);
  EXPECT_LE(transposes, 1) << "only the stacked ConvTranspose phases' interleave may remain";
}

TEST_F(PerfCli, InspectAndListingNameTheNodeOfEveryKernelCall) {
  ok(run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 --fetch-constants-to-sram -o " +
             path("a.nprg") + " --listing " + path("a.txt") + " -q"),
     "compile");
  ok(run_cli("inspect " + path("a.nprg") + " --json " + path("a_inspect.json")), "inspect");
  const json doc = read_json(path("a_inspect.json"));
  size_t calls = 0, prefetches = 0;
  for (const json& in : doc["instructions"]) {
    const size_t want = in["sections"].is_null() ? 1u
                                                 : in["sections"]["microcode_instructions"].get<size_t>();
    EXPECT_EQ(in["calls"].size(), want) << in["origin"];
    std::set<std::string> kernel_nodes;  // nodes of the calls that compute
    for (const json& c : in["calls"])
      if (c["kernel"] != "prefetch" && c["kernel"] != "wait_prefetch") kernel_nodes.insert(c["nodes"][0].get<std::string>());
    for (const json& c : in["calls"]) {
      ASSERT_EQ(c["nodes"].size(), 1u);
      EXPECT_FALSE(c["nodes"][0].get<std::string>().empty());
      EXPECT_FALSE(c["op"].get<std::string>().empty());
      if (c["kernel"] == "prefetch" || c["kernel"] == "wait_prefetch") {
        ++prefetches;  // named after the layer whose weights it copies
        EXPECT_TRUE(kernel_nodes.count(c["nodes"][0].get<std::string>())) << c["nodes"][0];
      }
      ++calls;
    }
  }
  EXPECT_GT(calls, 20u);
  EXPECT_GT(prefetches, 0u);
  const std::string listing = read_file(path("a.txt"));
  EXPECT_NE(listing.find("# kernel calls and their nodes"), std::string::npos);
  EXPECT_NE(listing.find("conv2d           /inner/conv2/Conv (Conv)"), std::string::npos) << listing;
}

TEST_F(PerfCli, KeepingWorkOnTheCpuIsNeverFaster) {
  auto latency = [&](const std::string& extra, const std::string& name) {
    ok(run_cli("compile " + fixture("model_int8.onnx") + " -o " + path(name + ".nprg") + " --json " +
               path(name + ".json") + " -q " + extra),
       name);
    return read_json(path(name + ".json"))["performance"]["latency_ms"].get<double>();
  };
  const double all = latency("--target imxrt700", "all");
  EXPECT_GT(latency("--target imxrt700 --no-delegate Conv", "no_conv"), all);
  EXPECT_GT(latency("--target imxrt700 --no-delegate Softmax,Gemm", "no_fc"), all);
  const double cpu = latency("--target cpu", "cpu");
  EXPECT_GT(cpu, 10 * all) << "CifarNet's 12.3 M MACs on the Cortex-M33 against the N3-64";
  // run --target cpu times the NPU partitions with the CPU model.
  ok(run_cli("run " + path("all.nprg") + " -i " + path("x1.npy") + " --target cpu --json " + path("all_on_cpu.json") + " -q"),
     "run --target cpu");
  EXPECT_GT(read_json(path("all_on_cpu.json"))["performance"]["latency_ms"].get<double>(), 10 * all);
}

TEST_F(PerfCli, ChromeTraceHasTracksNamedLayersAndOrderedEvents) {
  ok(run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 -o " + path("t.nprg") + " -q"), "compile");
  ok(run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 --fetch-constants-to-sram -o " +
             path("tp.nprg") + " -q"),
     "compile with prefetch");
  for (const std::string prog : {"t", "tp"}) {
    SCOPED_TRACE(prog);
    ok(run_cli("run " + path(prog + ".nprg") + " -i " + path("x1.npy") + " --trace " + path(prog + "_trace.json") +
               " --json " + path(prog + "_run.json") + " -q"),
       "run --trace");
    const json trace = read_json(path(prog + "_trace.json"));
    const json perf = read_json(path(prog + "_run.json"))["performance"];
    std::set<std::string> layer_names;
    for (const json& l : perf["layers"]) layer_names.insert(l["node"].get<std::string>());
    std::map<int, std::string> track;
    std::map<int, std::vector<std::pair<double, double>>> spans;
    ASSERT_TRUE(trace["traceEvents"].is_array());
    for (const json& e : trace["traceEvents"]) {
      if (e["ph"] == "M" && e["name"] == "thread_name") track[e["tid"].get<int>()] = e["args"]["name"];
      if (e["ph"] != "X") continue;
      EXPECT_TRUE(layer_names.count(e["name"].get<std::string>())) << e["name"];
      EXPECT_GT(e["dur"].get<double>(), 0.0);
      spans[e["tid"].get<int>()].push_back({e["ts"].get<double>(), e["dur"].get<double>()});
    }
    std::set<std::string> names;
    for (const auto& [tid, name] : track) names.insert(name);
    EXPECT_TRUE(names.count("NPU"));
    EXPECT_TRUE(names.count("flash -> SRAM copies"));
    EXPECT_TRUE(names.count("CPU (Cortex-M33)"));
    for (const auto& [tid, name] : track) EXPECT_FALSE(spans[tid].empty()) << name << " has no events";
    double end_all = 0;
    for (const auto& [tid, v] : spans) {
      // Times are microseconds to the nanosecond: compared in nanoseconds.
      auto ns = [](double us) { return std::llround(us * 1000.0); };
      for (size_t k = 1; k < v.size(); ++k)
        EXPECT_GE(ns(v[k].first), ns(v[k - 1].first + v[k - 1].second)) << track[tid] << " event " << k << " overlaps";
      end_all = std::max(end_all, v.back().first + v.back().second);
    }
    // The timeline ends at the model's latency.
    EXPECT_NEAR(end_all / 1000.0, perf["latency_ms"].get<double>(), 1e-3);
  }
}

TEST_F(PerfCli, BadPathsFailBeforeAnyWorkAndOnnxModelsAreUsageErrors) {
  const auto r = run_cli("run " + fixture("model_int8.onnx") + " -i " + path("x1.npy") + " --trace " + path("o.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const auto bad = run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 -o " + path("b.nprg") +
                           " --perf-csv " + path("missing_dir/b.csv"));
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_FALSE(std::ifstream(path("b.nprg")).good()) << "no program written when an output fails";
  EXPECT_NE(bad.output.find("--perf-csv"), std::string::npos) << bad.output;
  EXPECT_EQ(bad.output.find("importing"), std::string::npos) << "fails before compiling:\n" << bad.output;
  const auto same = run_cli("run " + path("t.nprg") + " -i " + path("x1.npy") + " --trace " + path("x1.npy"));
  EXPECT_EQ(same.exit_code, 2) << same.output;
  const auto folder = run_cli("run " + path("t.nprg") + " -i " + path("x1.npy") + " --trace " + dir_);
  EXPECT_EQ(folder.exit_code, 1) << folder.output;
  EXPECT_NE(folder.output.find("is a folder"), std::string::npos) << folder.output;
}

TEST_F(PerfCli, ATargetWithoutTimingFieldsNamesTheDefaultsAsAssumptions) {
  // imxrt700.json without any sim_* field.
  std::istringstream in(read_file(std::string(NEUTRON_TESTS_DIR) + "/../src/target/targets/imxrt700.json"));
  std::string line, text;
  while (std::getline(in, line))
    if (line.find("\"sim_") == std::string::npos) text += line + "\n";
  const size_t comma = text.find_last_of(',', text.find_last_of('}'));
  ASSERT_NE(comma, std::string::npos);
  if (text.find_first_not_of(" \n", comma + 1) == text.find_last_of('}')) text.erase(comma, 1);
  std::ofstream(path("bare.json")) << text;
  const auto r = run_cli("compile " + fixture("model_int8.onnx") + " --target " + path("bare.json") + " -o " +
                         path("bare.nprg") + " --json " + path("bare.json.out"));
  ok(r, "compile with a bare target");
  EXPECT_NE(r.output.find("defaults assumed"), std::string::npos) << r.output;
  const json a = read_json(path("bare.json.out"))["performance"]["assumptions"];
  std::set<std::string> names(a.begin(), a.end());
  EXPECT_TRUE(names.count("sim_kernel_overhead_cycles"));
  EXPECT_TRUE(names.count("sim_cpu_conv_cycles_per_mac"));
  // The built-in target gives every field.
  ok(run_cli("compile " + fixture("model_int8.onnx") + " --target imxrt700 -o " + path("full.nprg") + " --json " +
             path("full.json") + " -q"),
     "compile");
  EXPECT_TRUE(read_json(path("full.json"))["performance"]["assumptions"].empty());
}

}  // namespace
}  // namespace neutron
