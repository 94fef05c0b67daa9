// The `neutron` command line: one function per subcommand, sharing argument parsing helpers.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace neutron::cli {

// Exit codes: 0 success, 1 the model/input was rejected or failed, 2 bad command-line usage.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int cmd_dump(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_quantize(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);
int cmd_compile(const std::vector<std::string>& args);
int cmd_supported_ops(const std::vector<std::string>& args);

// Program files (cmd_run_program.cc): `neutron run` on a file with the NPRG identifier.
bool looks_like_program(const std::string& path);
// Imports an ONNX model for `command`; a compiled program given instead is named as such (not
// reported as a damaged ONNX file).
StatusOr<Graph> import_model(const std::string& path, const char* command);
int run_program(const std::string& path, const std::vector<std::string>& inputs, const std::string& outdir,
                const std::string& json_path, bool profile, bool delegates_on_cpu);

}  // namespace neutron::cli
