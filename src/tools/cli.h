// The `neutron` command line: one function per subcommand over a plain argument struct. main.cc
// parses the command line into these structs (CLI11); other front-ends (a Python module) can fill
// them and call the same functions.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace neutron {
struct QuantizeOptions;
}

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
  std::string labels;               // top-1 accuracy of output 0 over the samples
  bool profile = false;
  std::string perf_csv;  // programs: the per-layer table as CSV
  std::string trace;     // programs: Chrome trace-event JSON of one inference
  long repeat = 1, warmup = 0, threads = 1;
};

// The quantizer's options, shared by `quantize` and `compile -i` (one CLI11 option group).
struct QuantOptionsArgs {
  std::string observer = "histogram";
  double percentile = 99.99;
  bool percentile_given = false;
  std::string bias_correction = "float";
  long threads = 1;
  std::string keep_float;  // op types or node names, comma separated
};

struct QuantizeArgs {
  std::string model, inputs, output, json;
  QuantOptionsArgs quant;
};

struct CompareArgs {
  std::string reference, test, inputs, labels, json;
  std::string target;  // "" or "cpu": programs' NPU partitions on the CPU kernels
  long threads = 1;
};

struct CompileArgs {
  std::string model, target, output, inputs, json, no_delegate, listing;
  QuantOptionsArgs quant;      // with -i (a float model)
  std::string save_quantized;  // with -i: also write the quantized QDQ ONNX model
  bool fetch_constants_to_sram = false;
  std::string weights_sram_budget;  // bytes (K, M, G, T suffixes) for NPU weights in SRAM; "" = default
  bool profile = false;
  std::string perf_csv;  // the per-layer table as CSV
  bool allow_oversize = false;  // a model above the target's SRAM is a warning, not an error
};

struct SupportedOpsArgs {
  std::string target, output, json;
};

struct InspectArgs {
  std::string program, json;
};

// QuantizeOptions from the command line's; an error here is a usage error (an option's value).
Status quantize_options(const QuantOptionsArgs& a, const char* command, QuantizeOptions* out);

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
// With `bytes`, the model is those bytes and `path` only names it.
StatusOr<Graph> import_model(const std::string& path, const char* command, const std::string* bytes = nullptr);

// --no-delegate's value: IR op type names separated by commas (InvalidArgument naming the unknown one).
StatusOr<std::vector<OpKind>> parse_op_list(const std::string& list);

}  // namespace neutron::cli
