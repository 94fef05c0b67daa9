#include "tools/reports.h"

#include <algorithm>

#include "core/version.h"

namespace neutron::cli {

Json json_document(const char* schema) {
  Json j;
  j["schema"] = schema;
  j["schema_version"] = kJsonSchemaVersion;
  j["tool_version"] = tool_version();
  return j;
}

std::string json_text(const Json& doc) {
  // Invalid UTF-8 in a name (an ONNX string) is replaced rather than thrown on.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Json run_document(const std::string& model, const char* kind) {
  Json j = json_document("run");
  j["model"] = model;
  j["kind"] = kind;
  for (const char* key : {"target", "delegates_on_cpu", "samples", "load_ms", "run_ms", "latency_ms", "arena_bytes",
                          "lower_bound_bytes", "runtime_arena_bytes", "runtime_state_bytes", "host_only_bytes", "npu_latency_ms", "npu_cycles", "npu_macs", "threads", "accuracy",
                          "performance"})
    j[key] = nullptr;
  j["delegates"] = Json::array();
  j["outputs"] = Json::array();
  return j;
}

namespace {
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}
}  // namespace

Json latency_json(std::vector<double> wall_ms, std::vector<double> cpu_ms, long repeat, long warmup) {
  const double min = wall_ms.empty() ? 0 : *std::min_element(wall_ms.begin(), wall_ms.end());
  return Json{{"median", median(wall_ms)},
              {"min", min},
              {"cpu_median", median(std::move(cpu_ms))},
              {"repeat", repeat},
              {"warmup", warmup}};
}

}  // namespace neutron::cli
