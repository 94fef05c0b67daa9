// Conformance with upstream's own backend tests (issue 20): every case of
// tests/conformance/upstream/manifest.json (upstream's NXP converter tests rebuilt as ONNX models
// by scripts/make_conformance.py) is quantized and compiled as `neutron compile MODEL --target
// imxrt700 --calib ...` does it (prequant passes, a small deterministic random calibration set,
// quantize_graph, compile passes, partition, build_program_file), then
//   1. our delegation decision for the case's ops must be upstream's (or the deliberate deviation
//      listed in upstream/deviations.txt, with its reason);
//   2. the program must load and run on the NPU path (simulated driver) and with its delegates on
//      the CPU kernels (LoadOptions::delegates_on_cpu), with bit-identical outputs.
// Cases that fail today for a known reason are listed in upstream/expected_failures.txt (id, then
// the reason); they are counted, not failed. A listed case that now passes is reported ("fixed")
// so the list can shrink.
//
// Decision: the nodes of the case's op kinds left after the compile passes are delegated when all
// of them are on the NPU; when the passes removed them all (a no-op), the case counts as delegated
// when anything was delegated.
//
// The cases run in kShards test instances (one ctest entry each, so `ctest -j2` spreads them);
// each prints its summary line; a run of all shards in one process also prints the total and
// writes upstream_conformance.json (in the working directory).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/json.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "util/program_util.h"

namespace neutron {
namespace {

constexpr int kShards = 8;
constexpr int kCalibSamples = 4;  // as upstream's random calibration set
const std::string kDir = std::string(NEUTRON_TESTS_DIR) + "/conformance/upstream";

struct Case {
  std::string id, upstream, model, why;
  std::vector<Shape> inputs;
  float lo = -1, hi = 1;
  std::vector<std::string> ops;
  bool delegated = false;
};

struct Listed {
  std::string reason;
  bool delegated = false;  // deviations: our decision
};

std::string json_escape(const std::string& s) {
  std::string r;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\';
    if (uint8_t(ch) < 0x20) continue;
    r += ch;
  }
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> v;
    auto j = parse_json(slurp(kDir + "/manifest.json"), "manifest.json");
    EXPECT_TRUE(j.ok()) << j.status().to_string();
    if (!j.ok()) return v;
    const JsonValue* cs = j->find("cases");
    if (!cs) return v;
    for (const JsonValue& c : cs->as_array()) {
      Case k;
      auto str = [&](const char* key) { return c.find(key) ? c.find(key)->as_string() : std::string(); };
      k.id = str("id");
      k.upstream = str("upstream");
      k.model = str("model");
      k.why = str("why");
      for (const JsonValue& s : c.find("inputs")->as_array()) {
        Shape sh;
        for (const JsonValue& d : s.as_array()) sh.push_back(d.as_int());
        k.inputs.push_back(sh);
      }
      if (const JsonValue* r = c.find("range")) {
        k.lo = float(r->as_array()[0].as_number());
        k.hi = float(r->as_array()[1].as_number());
      }
      for (const JsonValue& o : c.find("ops")->as_array()) k.ops.push_back(o.as_string());
      k.delegated = c.find("delegated")->as_bool();
      v.push_back(std::move(k));
    }
    return v;
  }();
  return all;
}

// "<id> <reason...>" per line ('#' comments); deviations: "<id> npu|cpu <reason...>".
std::map<std::string, Listed> read_list(const std::string& file, bool with_decision) {
  std::map<std::string, Listed> m;
  std::istringstream in(slurp(kDir + "/" + file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string id, word;
    ls >> id;
    Listed l;
    if (with_decision) {
      ls >> word;
      l.delegated = word == "npu";
    }
    std::getline(ls, l.reason);
    m[id] = l;
  }
  return m;
}

enum class Outcome { kAgree, kDisagree, kCompileFail, kRunFail };
const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kAgree:
      return "agree";
    case Outcome::kDisagree:
      return "disagree";
    case Outcome::kCompileFail:
      return "compile failure";
    case Outcome::kRunFail:
      return "run failure";
  }
  return "?";
}

struct Result {
  std::string id;
  Outcome outcome = Outcome::kAgree;
  bool ours = false;  // our decision (when compiled)
  bool expected_failure = false, deviation = false;
  std::string detail;
};

// Deterministic calibration/test data: uniform in [lo, hi), seeded by the case.
std::vector<std::vector<CalibrationArray>> make_samples(const Case& c, const std::vector<ModelInput>& inputs,
                                                        uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(c.lo, c.hi);
  std::vector<std::vector<CalibrationArray>> arrays(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    Shape s = inputs[i].shape;
    s.insert(s.begin(), kCalibSamples);
    TensorData t(DType::F32, s);
    for (int64_t k = 0; k < t.count(); ++k) t.data<float>()[k] = u(rng);
    arrays[i].push_back({"random", std::move(t)});
  }
  return arrays;
}

uint32_t seed_of(const std::string& id) {
  uint32_t h = 2166136261u;
  for (char ch : id) h = (h ^ uint8_t(ch)) * 16777619u;
  return h;
}

struct Compiled {
  compiler::ProgramFile file;
  bool delegated = false;
  std::string where;  // the placement of the case's ops, for messages
};

StatusOr<Compiled> compile_case(const Case& c, const NeutronTarget& target) {
  ASSIGN_OR_RETURN(Graph g, import_onnx_file(kDir + "/" + c.model));
  RETURN_IF_ERROR(run_passes(g, prequant_pipeline()));
  const std::vector<ModelInput> inputs = model_inputs(g);
  ASSIGN_OR_RETURN(CalibrationSet calib, make_calibration_set(inputs, make_samples(c, inputs, seed_of(c.id))));
  ASSIGN_OR_RETURN(Graph q, quantize_graph(g, calib, QuantizeOptions{}));
  RETURN_IF_ERROR(run_passes(q, compile_pipeline()));
  ASSIGN_OR_RETURN(Partitioning p, partition_graph(q, target));
  RETURN_IF_ERROR(analyze_partition_layout(q, &p));
  Compiled out;
  int present = 0, on_npu = 0;
  for (NodeId id : q.live_nodes()) {
    const std::string kind = op_kind_name(q.node(id).kind);
    if (std::find(c.ops.begin(), c.ops.end(), kind) == c.ops.end()) continue;
    ++present;
    if (p.on_npu(id)) {
      ++on_npu;
    } else {
      const auto& rej = p.nodes[size_t(id)].rejection;
      out.where += str_cat(kind, " on CPU (", rej ? rej->rule + ": " + rej->detail : std::string("?"), "); ");
    }
  }
  out.delegated = present > 0 ? on_npu == present : !p.partitions.empty();
  if (present == 0) out.where = str_cat("no ", c.ops[0], " left after the passes, ", p.partitions.size(), " partition(s)");
  compiler::ProgramFileOptions opts;
  opts.model_name = c.model;
  ASSIGN_OR_RETURN(out.file, compiler::build_program_file(q, &p, target, opts));
  return out;
}

// Runs the program on one deterministic sample; empty string when both paths agree bit for bit.
std::string run_both(const Case& c, const compiler::ProgramFile& pf) {
  std::vector<std::vector<TensorData>> outs(2);
  for (int path = 0; path < 2; ++path) {
    runtime::LoadOptions lo;
    lo.delegates_on_cpu = path == 1;
    auto lp = testing::load_program(pf.bytes, lo);
    const char* name = path == 0 ? "NPU path" : "delegates on the CPU";
    if (!lp->status.ok()) return str_cat(name, ": load: ", testing::describe(lp->status));
    runtime::ProgramRunner& r = lp->runner;
    std::mt19937 rng(seed_of(c.id) ^ 0x5eedu);
    std::uniform_real_distribution<float> u(c.lo, c.hi);
    std::vector<TensorData> ins;
    for (size_t i = 0; i < r.num_inputs(); ++i) {
      const runtime::TensorInfo t = r.input(i);
      TensorData d(testing::to_dtype(t.dtype), testing::shape_of(t));
      for (int64_t k = 0; k < d.count(); ++k) {
        const float v = u(rng);
        if (d.dtype == DType::F32) {
          d.data<float>()[k] = v;
        } else if (d.dtype == DType::I8) {
          const float qv = std::nearbyint(v / (t.scale > 0 ? t.scale : 1.0f)) + float(t.zero_point);
          d.data<int8_t>()[k] = int8_t(std::min(127.0f, std::max(-128.0f, qv)));
        } else {
          return str_cat("input ", i, " has an unexpected dtype");
        }
      }
      ins.push_back(std::move(d));
    }
    const runtime::ProgramStatus s = testing::run_sample(r, ins, &outs[size_t(path)]);
    if (!s.ok()) return str_cat(name, ": run: ", testing::describe(s));
  }
  for (size_t o = 0; o < outs[0].size(); ++o)
    if (outs[0][o].bytes != outs[1][o].bytes) {
      size_t diff = 0;
      for (size_t b = 0; b < outs[0][o].bytes.size(); ++b) diff += outs[0][o].bytes[b] != outs[1][o].bytes[b];
      return str_cat("output ", o, ": NPU path and CPU path differ in ", diff, " of ", outs[0][o].bytes.size(), " bytes");
    }
  return "";
}

struct Totals {
  std::vector<Result> results;
  double seconds = 0;
};
Totals& totals() {
  static Totals t;
  return t;
}

std::string summary_line(const std::vector<Result>& rs, const std::string& what) {
  int n[4] = {}, xfail = 0, fixed = 0, dev = 0, both_npu = 0, both_cpu = 0;
  for (const Result& r : rs) {
    n[int(r.outcome)]++;
    if (r.outcome != Outcome::kAgree && r.expected_failure) ++xfail;
    if (r.outcome == Outcome::kAgree && r.expected_failure) ++fixed;
    if (r.deviation) ++dev;
    if (r.outcome == Outcome::kAgree) (r.ours ? both_npu : both_cpu)++;
  }
  return str_cat("upstream conformance ", what, ": ", rs.size(), " cases: ", n[0], " agree (", both_npu,
                 " delegated, ", both_cpu, " on the CPU, ", dev, " of them documented deviations), ", n[1],
                 " disagree, ", n[2], " compile failures, ", n[3], " run failures; ", xfail,
                 " of the failures expected (expected_failures.txt), ", fixed, " listed but now passing");
}

class UpstreamConformance : public ::testing::TestWithParam<int> {};

TEST_P(UpstreamConformance, Shard) {
  const std::vector<Case>& all = cases();
  ASSERT_GE(all.size(), 376u) << "the manifest lost cases";
  static const auto xfail = read_list("expected_failures.txt", false);
  static const auto deviations = read_list("deviations.txt", true);
  auto target = load_target("imxrt700");
  ASSERT_TRUE(target.ok()) << target.status().to_string();
  testing::init_neutron_driver();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Result> mine;
  for (size_t i = size_t(GetParam()); i < all.size(); i += kShards) {
    const Case& c = all[i];
    Result r;
    r.id = c.id;
    r.expected_failure = xfail.count(c.id) > 0;
    bool want = c.delegated;
    if (auto d = deviations.find(c.id); d != deviations.end()) {
      r.deviation = true;
      want = d->second.delegated;
    }
    auto comp = compile_case(c, target.value());
    if (!comp.ok()) {
      r.outcome = Outcome::kCompileFail;
      r.detail = comp.status().to_string();
    } else {
      r.ours = comp->delegated;
      std::string run = run_both(c, comp->file);
      if (!run.empty()) {
        r.outcome = Outcome::kRunFail;
        r.detail = run;
      } else if (r.ours != want) {
        r.outcome = Outcome::kDisagree;
        r.detail = str_cat("upstream ", c.delegated ? "delegates" : "keeps it on the CPU",
                           c.why.empty() ? "" : " (" + c.why + ")", "; ours ", r.ours ? "delegates" : "does not",
                           comp->where.empty() ? "" : ": " + comp->where);
      }
    }
    if (r.outcome != Outcome::kAgree && !r.expected_failure)
      ADD_FAILURE() << c.id << " [" << c.upstream << "]: " << outcome_name(r.outcome) << ": " << r.detail;
    if (r.outcome == Outcome::kAgree && r.expected_failure)
      std::printf("note: %s passes but is listed in expected_failures.txt (%s)\n", c.id.c_str(),
                  xfail.at(c.id).reason.c_str());
    if (std::getenv("NEUTRON_CONFORMANCE_VERBOSE") && r.outcome != Outcome::kAgree)
      std::printf("%s: %s: %s\n", c.id.c_str(), outcome_name(r.outcome), r.detail.c_str());
    mine.push_back(std::move(r));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s (%.1f s)\n", summary_line(mine, str_cat("shard ", GetParam(), "/", kShards)).c_str(), secs);
  Totals& t = totals();
  t.results.insert(t.results.end(), mine.begin(), mine.end());
  t.seconds += secs;
}

INSTANTIATE_TEST_SUITE_P(Cases, UpstreamConformance, ::testing::Range(0, kShards));

// Prints the total over the shards this process ran and writes it as JSON.
class SummaryEnv : public ::testing::Environment {
 public:
  void TearDown() override {
    const Totals& t = totals();
    if (t.results.empty()) return;
    const bool complete = t.results.size() == cases().size();
    std::printf("%s\n", summary_line(t.results, complete ? "total" : "partial").c_str());
    int n[4] = {}, xfail = 0, both_npu = 0;
    for (const Result& r : t.results) {
      n[int(r.outcome)]++;
      if (r.outcome != Outcome::kAgree && r.expected_failure) ++xfail;
      if (r.outcome == Outcome::kAgree && r.ours) ++both_npu;
    }
    std::ostringstream j;
    j << "{\n  \"cases\": " << t.results.size() << ",\n  \"agree\": " << n[0] << ",\n  \"agree_delegated\": " << both_npu
      << ",\n  \"disagree\": " << n[1] << ",\n  \"compile_failures\": " << n[2] << ",\n  \"run_failures\": " << n[3]
      << ",\n  \"expected_failures\": " << xfail << ",\n  \"seconds\": " << t.seconds << ",\n  \"not_agreeing\": [";
    bool first = true;
    for (const Result& r : t.results) {
      if (r.outcome == Outcome::kAgree) continue;
      j << (first ? "" : ",") << "\n    {\"id\": \"" << json_escape(r.id) << "\", \"outcome\": \"" << outcome_name(r.outcome)
        << "\", \"detail\": \"" << json_escape(r.detail) << "\"}";
      first = false;
    }
    j << "\n  ]\n}\n";
    std::ofstream(complete ? "upstream_conformance.json" : "upstream_conformance.partial.json") << j.str();
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new SummaryEnv);

}  // namespace
}  // namespace neutron
