// The JSON documents the CLI writes (docs/json-schemas.md), built with nlohmann-json. Every
// document starts with "schema" (its name), "schema_version" and "tool_version"; doubles are
// written at full precision (they read back to the same value); inf and NaN become null.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace neutron::cli {

using Json = nlohmann::ordered_json;  // keys in the order we write them

// Bumped when a document's keys or their meaning change.
constexpr int kJsonSchemaVersion = 1;

// {"schema": name, "schema_version": ..., "tool_version": ...}
Json json_document(const char* schema);

// The text written to a file: two-space indentation and a final newline.
std::string json_text(const Json& doc);

// The `run` document, the same keys for ONNX models and programs (docs/json-schemas.md); the
// caller fills what applies to its kind and leaves the rest null.
Json run_document(const std::string& model, const char* kind);

// {"median", "min", "cpu_median", "repeat", "warmup"} of per-run wall and thread-CPU times (ms).
Json latency_json(std::vector<double> wall_ms, std::vector<double> cpu_ms, long repeat, long warmup);

// The `inspect` document of a program file that passed the runtime's checks.
Json describe_program(const std::string& path, const uint8_t* data, size_t size);

}  // namespace neutron::cli
