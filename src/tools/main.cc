// The `neutron` command line on CLI11: one subcommand per command (tools/cli.h), each with its
// own --help listing every option, its default and what it does. Exit codes: 0 success, 1 the
// work failed, 2 a usage error (unknown option or command, missing or malformed value), after
// which the command's usage is printed.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "core/memory_budget.h"
#include "core/output_files.h"
#include "core/version.h"
#include "tools/cli.h"
#include "tools/cli_util.h"

namespace {

using namespace neutron;
using namespace neutron::cli;

// --max-memory: a byte size with an optional K, M, G or T suffix.
const CLI::Validator kByteSize(
    [](std::string& v) -> std::string {
      uint64_t bytes = 0;
      if (parse_byte_size(v, &bytes)) return "";
      return "takes a positive size in bytes with an optional K, M, G or T suffix (powers of 1024), got '" + v + "'";
    },
    "");

const CLI::Validator kOpList(
    [](std::string& v) -> std::string {
      auto ops = parse_op_list(v);
      return ops.ok() ? "" : ops.status().message();
    },
    "");

// --percentile: in (50, 100).
const CLI::Validator kPercentile(
    [](std::string& v) -> std::string {
      char* end = nullptr;
      const double p = std::strtod(v.c_str(), &end);
      if (!v.empty() && *end == '\0' && p > 50 && p < 100) return "";
      return "must be a number in (50, 100), got '" + v + "'";
    },
    "");

// Options every command takes: verbosity and the memory budget.
void add_common_options(CLI::App* cmd, std::string* max_memory, bool for_docs) {
  auto* q = cmd->add_flag_callback("-q,--quiet", [] { g_verbosity = 0; },
                                   "print only errors and the command's results (no progress, notes or summaries)");
  auto* v = cmd->add_flag_callback("-v,--verbose", [] { g_verbosity = 2; }, "also print what each step does");
  q->excludes(v);
  cmd->add_option("--max-memory", *max_memory,
                  "memory budget for what the input decides (a tensor, the calibration set, the activations); K, M, "
                  "G, T suffixes")
      ->check(kByteSize)
      ->type_name("BYTES")
      ->default_str(std::string("the smaller of 16 GiB and half the physical memory") +
                    (for_docs ? "" : " (here " + format_bytes(default_memory_budget()) + ")"));
  cmd->set_help_flag("-h,--help", "print this help and exit");
}

// The quantizer's options: one group, the same for `quantize` and `compile -i`. Returns the
// --percentile option (whether it was given is checked after parsing).
CLI::Option* add_quant_options(CLI::App* cmd, QuantOptionsArgs* q) {
  const char* group = "Quantization";
  cmd->add_option("--observer", q->observer, "activation range observer")
      ->check(CLI::IsMember({"minmax", "histogram", "percentile"}))
      ->type_name("minmax|histogram|percentile")
      ->group(group);
  auto* pct = cmd->add_option("--percentile", q->percentile, "--observer percentile: the percentile kept")
                  ->check(kPercentile)
                  ->type_name("P")
                  ->group(group);
  auto* bc = cmd->add_option("--bias-correction", q->bias_correction,
                             "correct the biases for the mean shift int8 weights cause: off, from float statistics, "
                             "or empirically from runs of the quantized graph")
                 ->check(CLI::IsMember({"off", "float", "empirical"}))
                 ->type_name("off|float|empirical")
                 ->group(group);
  cmd->add_flag_callback("--no-bias-correction", [q] { q->bias_correction = "off"; }, "same as --bias-correction off")
      ->excludes(bc)
      ->group(group);
  cmd->add_option("--threads", q->threads, "calibration threads (results are the same for any N)")
      ->check(CLI::Range(1L, 1024L))
      ->type_name("N")
      ->group(group);
  cmd->add_option("--keep-float", q->keep_float,
                  "keep these op types (e.g. Softmax) or node names in float: a program runs them as float CPU "
                  "kernel calls")
      ->type_name("OP|NODE[,...]")
      ->group(group);
  return pct;
}

// The JSON output of every command has one name.
CLI::Option* add_json_option(CLI::App* cmd, std::string* path, const char* what) {
  return cmd->add_option("--json", *path, what)->type_name("FILE.json");
}

// Old spellings of quantize's and compile's options, kept working for scripts (not shown in --help).
std::vector<std::string> with_current_spellings(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (argc < 2 || (args[1] != "quantize" && args[1] != "compile")) return args;
  for (size_t i = 2; i < args.size(); ++i) {
    for (const auto& [old_name, name] : {std::pair<std::string, std::string>{"--calib", "--inputs"}, {"--report-json", "--json"}}) {
      if (args[i] == old_name) args[i] = name;
      else if (args[i].compare(0, old_name.size() + 1, old_name + "=") == 0) args[i] = name + args[i].substr(old_name.size());
    }
  }
  return args;
}

// --help-markdown (hidden): the options of every command as markdown, for the README's usage
// section and docs/cli.md (tests/tools/cli_help_test.cc checks both against it).
std::string type_of(const CLI::Option* o) {
  std::string t = o->get_type_name();
  const size_t colon = t.find(':');
  return colon == std::string::npos ? t : t.substr(0, colon);
}

std::string md_cell(std::string s) {
  std::string r;
  for (char c : s) r += c == '|' ? std::string("\\|") : std::string(1, c);
  return r;
}

bool is_common(const CLI::Option* o) {
  const std::string n = o->get_name(false, true);
  return n == "-h,--help" || n == "-q,--quiet" || n == "-v,--verbose" || n == "--max-memory";
}

// One line per command: `neutron compile MODEL.onnx --target NAME -o PROGRAM.nprg [-i CALIB] ...`.
std::string synopsis(const CLI::App* cmd) {
  std::string s = "neutron " + cmd->get_name();
  for (const CLI::Option* o : cmd->get_options([](const CLI::Option* o) { return o->get_positional(); }))
    s += " " + type_of(o);
  for (const CLI::Option* o : cmd->get_options()) {
    if (o->get_positional() || o->get_group().empty() || is_common(o)) continue;
    const std::string names = o->get_name(false, true);
    std::string first = names.substr(0, names.find(','));
    std::string one = first + (type_of(o).empty() ? "" : " " + type_of(o));
    if (o->get_expected_max() > 1) one += "...";
    s += o->get_required() ? " " + one : " [" + one + "]";
  }
  return s;
}

std::string help_markdown(const CLI::App& app) {
  std::string md;
  for (const CLI::App* cmd : app.get_subcommands({})) md += synopsis(cmd) + "\n";
  md += "\n";
  for (const CLI::App* cmd : app.get_subcommands({})) {
    md += "### neutron " + cmd->get_name() + "\n\n" + cmd->get_description() + ".\n\n";
    md += "| option | default | what it does |\n|---|---|---|\n";
    for (const CLI::Option* o : cmd->get_options()) {
      if (o->get_group().empty() || (is_common(o) && cmd != app.get_subcommands({}).front())) continue;
      const std::string names = o->get_positional() ? o->get_name(true) : o->get_name(false, true);
      std::string def = o->get_required() ? "required" : type_of(o).empty() ? "off" : o->get_default_str();
      if (def.empty() || def == "[]") def = "-";
      md += "| `" + md_cell(names) + (type_of(o).empty() || o->get_positional() ? "" : " " + type_of(o)) + "` | " +
            md_cell(def) + " | " + md_cell(o->get_description()) + " |\n";
    }
    md += "\n";
  }
  return md;
}

std::string usage_of(const CLI::App* cmd) {
  std::string u = CLI::Formatter().make_usage(cmd, "neutron " + cmd->get_name());
  while (!u.empty() && u.back() == '\n') u.pop_back();
  return "usage:" + u.substr(u.find(':') + 1) + "\n(see `neutron " + cmd->get_name() + " --help` for the options)\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"neutron " + std::string(tool_version()) +
                   ": ONNX models on NXP's eIQ Neutron NPU: import, int8 quantization, partitioning, compilation to "
                   "a program file, and runs on the host CPU kernels or the simulated NPU.",
               "neutron"};
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", tool_version(), "print the version and exit");
  app.set_help_flag("-h,--help", "print this help (and `neutron COMMAND --help` for a command's options)");
  app.require_subcommand(1);
  app.footer("Exit codes: 0 success, 1 the work failed (the model, an input or an output file), 2 a usage error.");
  std::string max_memory;

  DumpArgs dump;
  auto* c_dump = app.add_subcommand("dump", "print the graph IR of an ONNX model as text");
  c_dump->add_option("model", dump.model, "the ONNX model")->required()->type_name("MODEL.onnx");
  c_dump->add_flag("--after-passes", dump.after_passes, "print the graph after the CPU pipeline (QDQ folding, NHWC layout)");

  RunArgs run;
  auto* c_run = app.add_subcommand(
      "run", "run an ONNX model on the host CPU kernels, or a compiled program through the runtime (NPU partitions on "
             "the simulated NPU)");
  c_run->add_option("model", run.model, "the ONNX model or compiled program")->required()->type_name("MODEL.onnx|PROGRAM.nprg");
  c_run->add_option("-i,--inputs", run.inputs,
                                       "one .npy per model input, in order (repeat -i); several samples along a leading "
                                       "axis run one by one")
                         ->type_name("IN.npy")
                         ->allow_extra_args(false);
  c_run->add_option("-o,--output", run.outdir, "directory for the outputs: DIR/output_<k>.npy per model output")
      ->type_name("DIR");
  add_json_option(c_run, &run.json, "write timings, output shapes (and for programs the NPU time and memory) as JSON");
  c_run->add_flag("--profile", run.profile,
                  "programs: print the per-layer table (node, op, NPU or CPU, cycles, MACs, utilization, bound, share, "
                  "SRAM), the per-op-type summary and the top 10 layers");
  c_run->add_option("--perf-csv", run.perf_csv, "programs: write the per-layer table as CSV")->type_name("FILE.csv");
  c_run->add_option("--trace", run.trace,
                    "programs: write one inference as Chrome trace-event JSON (Perfetto, chrome://tracing): NPU, "
                    "flash-to-SRAM copies and CPU tracks, named by layer")
      ->type_name("FILE.json");
  c_run->add_option("--repeat", run.repeat, "ONNX models: run N times and report the median and min latency")
      ->check(CLI::Range(1L, 1000000L))
      ->type_name("N");
  c_run->add_option("--warmup", run.warmup, "ONNX models: untimed runs before the timed ones")
      ->check(CLI::Range(0L, 1000000L))
      ->type_name("N");
  c_run->add_option("--labels", run.labels,
                    "class labels (1-D integers, one per sample): top-1 accuracy of the first output")
      ->type_name("LABELS.npy");
  c_run->add_option("--threads", run.threads,
                    "samples run in parallel, one executor or runner per thread (the outputs are the same for any N)")
      ->check(CLI::Range(1L, 1024L))
      ->type_name("N");
  c_run->add_option("--target", run.target,
                    "programs only: 'cpu' runs the NPU partitions on the CPU kernels (the NPU target is chosen at "
                    "compile time)")
      ->check(CLI::IsMember({"cpu"}))
      ->type_name("cpu");

  QuantizeArgs quant;
  auto* c_quant = app.add_subcommand("quantize", "post-training int8 quantization (Neutron scheme): float ONNX -> QDQ ONNX");
  c_quant->add_option("model", quant.model, "the float ONNX model")->required()->type_name("MODEL.onnx");
  c_quant->add_option("-i,--inputs", quant.inputs,
                                   "calibration samples: one .npy (samples along the first axis) or a directory of them")
                   ->required()
                   ->type_name("CALIB.npy|DIR");
  c_quant->add_option("-o,--output", quant.output, "the quantized QDQ ONNX model to write")
                    ->required()
                    ->type_name("OUT.onnx");
  add_json_option(c_quant, &quant.json, "write the quantization report (scales, zero points, bias correction)");
  auto* q_pct = add_quant_options(c_quant, &quant.quant);

  CompareArgs cmp;
  auto* c_cmp = app.add_subcommand(
      "compare", "run two models (ONNX or compiled programs) on the same inputs: error metrics and, with labels, accuracy");
  c_cmp->add_option("reference", cmp.reference, "the reference model or program")
      ->required()
      ->type_name("REFERENCE.onnx|.nprg");
  c_cmp->add_option("test", cmp.test, "the model or program compared with it (a program's NPU partitions run on the simulated NPU)")
      ->required()
      ->type_name("TEST.onnx|.nprg");
  c_cmp->add_option("-i,--inputs", cmp.inputs, "input samples: one .npy (samples along the first axis) or a directory")
      ->required()
      ->type_name("X.npy|DIR");
  c_cmp->add_option("--labels", cmp.labels, "class labels (1-D integers, one per sample): top-1 accuracy of both models")
      ->type_name("LABELS.npy");
  add_json_option(c_cmp, &cmp.json, "write the metrics as JSON");
  c_cmp->add_option("--threads", cmp.threads, "samples run in parallel (the metrics are the same for any N)")
      ->check(CLI::Range(1L, 1024L))
      ->type_name("N");
  c_cmp->add_option("--target", cmp.target, "programs only: 'cpu' runs their NPU partitions on the CPU kernels")
      ->check(CLI::IsMember({"cpu"}))
      ->type_name("cpu");

  CompileArgs comp;
  auto* c_comp = app.add_subcommand(
      "compile", "partition a model for the Neutron NPU, compile it to a program file and report what runs where");
  c_comp->add_option("model", comp.model, "the int8 QDQ ONNX model (or a float one with -i)")->required()->type_name("MODEL.onnx");
  c_comp->add_option("--target", comp.target,
                     "target name (imxrt700, mcxn94x, ...; built in), a target .json file or folder of them, or 'cpu' "
                     "(every op as CPU kernel calls)")
      ->required()
      ->type_name("NAME|FILE.json|cpu");
  c_comp->add_option("-o,--output", comp.output, "the program file to write")->required()->type_name("PROGRAM.nprg");
  c_comp->add_option("-i,--inputs", comp.inputs,
                                  "calibration samples for a float model (quantized first, as `neutron quantize` with "
                                  "the Quantization options)")
                   ->type_name("CALIB.npy|DIR");
  add_json_option(c_comp, &comp.json, "write the delegation report and the program summary as JSON");
  c_comp->add_option("--no-delegate", comp.no_delegate, "keep these IR op types on the CPU (e.g. Softmax,Add)")
      ->check(kOpList)
      ->type_name("OP[,OP...]");
  c_comp->add_flag("--fetch-constants-to-sram", comp.fetch_constants_to_sram,
                   "keep the weights in flash and copy each kernel's weights to an SRAM scratch one kernel ahead "
                   "(double-buffered Prefetch instructions), for models whose weights do not fit in SRAM; as "
                   "upstream's fetch_constants_to_sram");
  c_comp->add_option("--weights-sram-budget", comp.weights_sram_budget,
                     "SRAM for the NPU's weights per partition: all of them resident (fastest) if they fit, else "
                     "the fastest prefetch plan whose buffer fits; K, M, G, T suffixes")
      ->check(kByteSize)
      ->type_name("BYTES")
      ->default_str("resident if the partition fits the target's SRAM, else twice its largest kernel's weights");
  c_comp->add_flag("--profile", comp.profile,
                   "print the per-layer table (node, op, NPU or CPU, cycles, MACs, utilization, bound, share, SRAM), "
                   "the per-op-type summary and the top 10 layers");
  c_comp->add_option("--perf-csv", comp.perf_csv, "write the per-layer table as CSV")->type_name("FILE.csv");
  c_comp->add_flag("--allow-oversize", comp.allow_oversize,
                   "write the program even when it needs more SRAM than the target has (sram_bytes); a warning "
                   "instead of an error");
  c_comp->add_option("--listing", comp.listing, "write the partitioned graph and each payload's disassembly as text")
      ->type_name("FILE");
  c_comp->add_option("--save-quantized", comp.save_quantized,
                     "with -i: also write the quantized QDQ ONNX model (what `neutron quantize` writes)")
      ->type_name("OUT.onnx");
  auto* comp_pct = add_quant_options(c_comp, &comp.quant);

  SupportedOpsArgs sup;
  auto* c_sup = app.add_subcommand("supported-ops", "the NPU delegation rules of a target as markdown (docs/supported-ops.md)");
  c_sup->add_option("--target", sup.target, "target name or target .json file")->required()->type_name("NAME|FILE.json");
  c_sup->add_option("-o,--output", sup.output, "write the markdown to this file instead of stdout")->type_name("FILE.md");
  add_json_option(c_sup, &sup.json, "write the target and every op's rules as JSON");

  InspectArgs insp;
  auto* c_insp = app.add_subcommand(
      "inspect", "describe a compiled program without the source tree: instructions, sections, memory plan, source nodes");
  c_insp->add_option("program", insp.program, "the compiled program")->required()->type_name("PROGRAM.nprg");
  add_json_option(c_insp, &insp.json, "also write the description as JSON");

  const bool for_docs = argc == 2 && std::strcmp(argv[1], "--help-markdown") == 0;
  for (CLI::App* cmd : app.get_subcommands({})) add_common_options(cmd, &max_memory, for_docs);
  if (for_docs) {
    std::fputs(help_markdown(app).c_str(), stdout);
    return kExitOk;
  }

  // No command, or an unknown one: the overview and exit 2.
  if (argc < 2) {
    std::fputs(app.help().c_str(), stderr);
    return kExitUsage;
  }
  bool known = false;
  for (const CLI::App* cmd : app.get_subcommands({})) known |= cmd->get_name() == argv[1];
  if (argv[1][0] != '-' && !known) {
    std::fprintf(stderr, "neutron: unknown command '%s'\n%s", argv[1], app.help().c_str());
    return kExitUsage;
  }
  try {
    std::vector<std::string> args = with_current_spellings(argc, argv);
    args.erase(args.begin());
    std::reverse(args.begin(), args.end());  // CLI11 takes them last to first
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    std::printf("neutron %s\n", tool_version());
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    const auto subs = app.get_subcommands();
    const CLI::App* cmd = subs.empty() ? nullptr : subs.front();
    std::string msg = e.what();
    // CLI11 says "--opt: 1 required TYPE missing" for an option given without its value.
    const size_t colon = msg.find(": 1 required ");
    if (colon != std::string::npos && msg.size() > 8 && msg.compare(msg.size() - 8, 8, " missing") == 0)
      msg = msg.substr(0, colon) + " needs a value";
    std::fprintf(stderr, "neutron%s%s: %s\n", cmd ? " " : "", cmd ? cmd->get_name().c_str() : "", msg.c_str());
    if (cmd) std::fputs(usage_of(cmd).c_str(), stderr);
    else std::fputs(app.help().c_str(), stderr);
    return kExitUsage;
  }
  const CLI::App* cmd = app.get_subcommands().front();
  g_usage = usage_of(cmd);
  if (!max_memory.empty()) {
    uint64_t bytes = 0;
    parse_byte_size(max_memory, &bytes);  // checked by the validator
    set_memory_budget(bytes);
  }
  quant.quant.percentile_given = q_pct->count() > 0;
  comp.quant.percentile_given = comp_pct->count() > 0;

  // An interrupted command leaves no temporary output files behind.
  remove_temporary_outputs_on_signal();
  // Library code reports errors as Status; what still escapes (an allocation the budget did not
  // foresee) becomes one line and exit 1, not an abort.
  try {
    if (cmd == c_dump) return cmd_dump(dump);
    if (cmd == c_run) return cmd_run(run);
    if (cmd == c_quant) return cmd_quantize(quant);
    if (cmd == c_cmp) return cmd_compare(cmp);
    if (cmd == c_comp) return cmd_compile(comp);
    if (cmd == c_sup) return cmd_supported_ops(sup);
    if (cmd == c_insp) return cmd_inspect(insp);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "neutron: out of memory while running '%s' (memory budget %s; see --max-memory)\n",
                 cmd->get_name().c_str(), format_bytes(memory_budget()).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neutron: internal error while running '%s': %s\n", cmd->get_name().c_str(), e.what());
  }
  return kExitFailure;
}
