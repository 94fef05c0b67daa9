#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/cli.h"

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
     "[--report-json R.json]   post-training int8 quantization (Neutron scheme)",
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
  std::fprintf(stderr, "usage: neutron COMMAND ...\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(stderr, "  neutron %s\n", c.usage);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage();
    return argc < 2 ? neutron::cli::kExitUsage : 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : kCommands)
    if (std::strcmp(argv[1], c.name) == 0) return c.fn(args);
  std::fprintf(stderr, "neutron: unknown command '%s'\n", argv[1]);
  usage();
  return neutron::cli::kExitUsage;
}
