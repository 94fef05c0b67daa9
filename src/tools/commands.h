// The commands as library functions: each does the work of its `neutron` command and returns the
// command's JSON document (docs/json-schemas.md), the bytes of the files it would write and the
// text it would print; nothing is written and nothing printed on stdout (-v steps, notes and
// progress still go to stderr as g_verbosity says). The CLI's cmd_* (tools/cli.h) are thin layers
// that write and print these results; the Python module (python/) returns them as objects.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor_data.h"
#include "quantize/calibration_data.h"
#include "tools/cli.h"
#include "tools/cli_util.h"
#include "tools/reports.h"

namespace neutron::cli {

// A usage mistake (an option's value, a combination of options): the CLI prints the command's
// usage after the message and exits 2; other front-ends report it like any bad argument.
struct UsageError {
  std::string message;
};

// What a command function returns: its result, or the error and whether it is a usage error
// (exit 2) rather than a failure of the work (exit 1).
template <typename T>
class CommandResult {
 public:
  CommandResult(T value) : value_(std::move(value)) {}
  CommandResult(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Status(Error::Internal, "CommandResult built from OK status");
  }
  CommandResult(UsageError u) : status_(Error::InvalidArgument, std::move(u.message)), usage_(true) {}
  bool ok() const { return value_.has_value(); }
  bool usage() const { return usage_; }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
  bool usage_ = false;
};

// The CLI's reaction to a failed command function: the message (and the usage) on stderr, the exit code.
template <typename T>
int report_failure(const CommandResult<T>& r) {
  return r.usage() ? usage_error(r.status().message()) : fail(r.status());
}

// What a front-end holds in memory instead of files. Each field that is set replaces the file the
// matching argument names; the argument's path (or any label) still names it in messages and in
// the JSON documents.
struct InMemory {
  const std::string* model = nullptr;       // the model (ONNX bytes) or program file; compare: the reference
  const std::string* test_model = nullptr;  // compare: the test model or program
  // Calibration (quantize, compile) or compare samples: per model input, arrays of one sample or
  // of several along a leading axis (quantize/calibration_data.h).
  const std::vector<std::vector<CalibrationArray>>* samples = nullptr;
  // run: one array per model input (one sample, or several along a leading axis), each named for messages.
  const std::vector<CalibrationArray>* inputs = nullptr;
  const CalibrationArray* labels = nullptr;  // run, compare: one integer class per sample
};

// The graph IR as text (`neutron dump`).
CommandResult<std::string> dump_command(const DumpArgs& a, const InMemory& mem = {});

struct QuantizeResult {
  std::string onnx;  // the QDQ ONNX model (what -o gets)
  Json report;       // the `quantize` document (what --json gets)
  std::string text;  // what the command prints
};
CommandResult<QuantizeResult> quantize_command(const QuantizeArgs& a, const InMemory& mem = {});

struct CompileResult {
  std::string program;         // the program file (-o)
  std::string quantized_onnx;  // a float model quantized here: the QDQ model (--save-quantized)
  std::string listing;         // with a.listing non-empty: the listing (--listing)
  std::string perf_csv;        // with a.perf_csv non-empty: the per-layer table (--perf-csv)
  Json report;                 // the `compile` document (--json)
  std::string text;            // what the command prints
};
CommandResult<CompileResult> compile_command(const CompileArgs& a, const InMemory& mem = {});

struct RunResult {
  std::vector<TensorData> outputs;   // stacked along a leading sample axis for several samples
  std::vector<std::string> output_names;
  Json report;                       // the `run` document (--json)
  std::string text;                  // what the command prints
  std::string perf_csv, trace;       // programs, with a.perf_csv / a.trace set: --perf-csv, --trace
};
// `check_outputs(n)` (optional) runs once the model's output count n is known, before any sample
// runs: the CLI's check that no output file names an input; its error is a usage error.
CommandResult<RunResult> run_command(const RunArgs& a, const InMemory& mem = {},
                                     const std::function<Status(size_t)>& check_outputs = nullptr);
// run_command on a program (cmd_run_program.cc).
CommandResult<RunResult> run_program(const RunArgs& a, const InMemory& mem,
                                     const std::function<Status(size_t)>& check_outputs);

struct CompareResult {
  Json report;
  std::string text;
};
CommandResult<CompareResult> compare_command(const CompareArgs& a, const InMemory& mem = {});

struct InspectResult {
  Json report;
  std::string text;
};
CommandResult<InspectResult> inspect_command(const InspectArgs& a, const InMemory& mem = {});

struct SupportedOpsResult {
  std::string markdown;
  Json report;
};
CommandResult<SupportedOpsResult> supported_ops_command(const SupportedOpsArgs& a);

}  // namespace neutron::cli
