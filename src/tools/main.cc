#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "core/memory_budget.h"
#include "core/output_files.h"
#include "tools/cli.h"
#include "tools/cli_util.h"

namespace {

struct Command {
  const char* name;
  const char* usage;
  int (*fn)(const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"dump", "dump MODEL.onnx [--after-passes]      print the graph IR as text", neutron::cli::cmd_dump},
    {"run",
     "run MODEL.onnx|PROGRAM.nprg [-i IN.npy]... [-o OUTDIR] [--json FILE] [--profile] [--repeat N --warmup W] [--threads N]   run an ONNX model on the "
     "host CPU kernels, or a compiled program through the runtime (NPU partitions on the simulated NPU)",
     neutron::cli::cmd_run},
    {"quantize",
     "quantize MODEL.onnx --calib CALIB.npy|DIR -o OUT.onnx [--observer minmax|histogram|percentile] "
     "[--no-bias-correction | --bias-correction off|float|empirical] "
     "[--report-json R.json] [--threads N]   post-training int8 quantization (Neutron scheme)",
     neutron::cli::cmd_quantize},
    {"compare",
     "compare REF.onnx TEST.onnx --inputs X.npy|DIR [--labels L.npy] [--json R.json] [--threads N]   error metrics and accuracy",
     neutron::cli::cmd_compare},
    {"compile",
     "compile MODEL.onnx --target NAME|FILE.json|cpu -o PROGRAM.nprg [--report-json R.json] [--calib CALIB] "
     "[--no-delegate OP[,OP...]] [--fetch-constants-to-sram] [--profile] [--listing FILE]   partition for the Neutron "
     "NPU, compile to a program file and report what runs where (--target cpu: every op as CPU kernel calls)",
     neutron::cli::cmd_compile},
    {"supported-ops", "supported-ops --target NAME|FILE.json [-o FILE.md]   the NPU support rules as markdown",
     neutron::cli::cmd_supported_ops},
};

void usage() {
  std::fprintf(stderr, "usage: neutron COMMAND ... [--max-memory BYTES]\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(stderr, "  neutron %s\n", c.usage);
  std::fprintf(stderr,
               "every command takes --max-memory BYTES (K, M, G, T suffixes): the memory budget for what the input "
               "decides (a tensor, the calibration set, the activations; default %s: the smaller of 16 GiB and half "
               "the physical memory)\n",
               neutron::format_bytes(neutron::default_memory_budget()).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage();
    return argc < 2 ? neutron::cli::kExitUsage : 0;
  }
  std::vector<std::string> args;
  // --max-memory is accepted by every command, anywhere after the command name.
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i], value;
    if (a == "--max-memory") {
      if (i + 1 >= argc) return neutron::cli::usage_error(std::string(argv[1]) + ": option --max-memory needs a value");
      value = argv[++i];
    } else if (a.compare(0, 13, "--max-memory=") == 0) {
      value = a.substr(13);
    } else {
      args.push_back(std::move(a));
      continue;
    }
    uint64_t bytes = 0;
    if (!neutron::parse_byte_size(value, &bytes))
      return neutron::cli::usage_error(std::string(argv[1]) + ": --max-memory takes a positive size in bytes with an "
                                       "optional K, M, G or T suffix (powers of 1024), got '" + value + "'");
    neutron::set_memory_budget(bytes);
  }
  // An interrupted command leaves no temporary output files behind.
  neutron::remove_temporary_outputs_on_signal();
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    // Library code reports errors as Status; what still escapes (an allocation the budget did not
    // foresee) becomes one line and exit 1, not an abort.
    try {
      return c.fn(args);
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "neutron: out of memory while running '%s' (memory budget %s; see --max-memory)\n", c.name,
                   neutron::format_bytes(neutron::memory_budget()).c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "neutron: internal error while running '%s': %s\n", c.name, e.what());
    }
    return neutron::cli::kExitFailure;
  }
  std::fprintf(stderr, "neutron: unknown command '%s'\n", argv[1]);
  usage();
  return neutron::cli::kExitUsage;
}
