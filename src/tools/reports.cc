#include "tools/reports.h"

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

}  // namespace neutron::cli
