// The `neutron` command line: one function per subcommand over a plain argument struct. main.cc
// parses the command line into these structs (CLI11); other front-ends (a Python module) can fill
// them and call the same functions.
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

struct DumpArgs {
  std::string model;
  bool after_passes = false;
};

struct RunArgs {
  std::string model;                // ONNX model or compiled program
  std::vector<std::string> inputs;  // one .npy per model input
  std::string outdir;               // -o: output_<k>.npy per model output
  std::string json;
  std::string target;               // "" or "cpu" (programs: NPU partitions on the CPU kernels)
  bool profile = false;
  long repeat = 1, warmup = 0, threads = 1;
};

struct QuantizeArgs {
  std::string model, inputs, output, json;
  std::string observer = "histogram";
  double percentile = 99.99;
  bool percentile_given = false;
  std::string bias_correction = "float";
  long threads = 1;
};

struct CompareArgs {
  std::string reference, test, inputs, labels, json;
  long threads = 1;
};

struct CompileArgs {
  std::string model, target, output, inputs, json, no_delegate, listing;
  bool fetch_constants_to_sram = false;
  bool profile = false;
};

struct SupportedOpsArgs {
  std::string target, output, json;
};

struct InspectArgs {
  std::string program, json;
};

int cmd_dump(const DumpArgs& a);
int cmd_run(const RunArgs& a);
int cmd_quantize(const QuantizeArgs& a);
int cmd_compare(const CompareArgs& a);
int cmd_compile(const CompileArgs& a);
int cmd_supported_ops(const SupportedOpsArgs& a);
int cmd_inspect(const InspectArgs& a);

// Program files (cmd_run_program.cc): `neutron run` on a file with the NPRG identifier.
bool looks_like_program(const std::string& path);
// Imports an ONNX model for `command`; a compiled program given instead is named as such (not
// reported as a damaged ONNX file).
StatusOr<Graph> import_model(const std::string& path, const char* command);
int run_program(const std::string& path, const std::vector<std::string>& inputs, const std::string& outdir,
                const std::string& json_path, bool profile, bool delegates_on_cpu);

// --no-delegate's value: IR op type names separated by commas (InvalidArgument naming the unknown one).
StatusOr<std::vector<OpKind>> parse_op_list(const std::string& list);

}  // namespace neutron::cli
