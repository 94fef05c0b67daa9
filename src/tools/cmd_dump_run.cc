// `neutron dump` and `neutron run`.
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/npy.h"
#include "exec/executor.h"
#include "import/onnx/onnx_importer.h"
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "tools/cli.h"
#include "tools/cli_util.h"

namespace neutron::cli {

int cmd_dump(const std::vector<std::string>& args) {
  std::string model;
  bool after_passes = false;
  for (const auto& a : args) {
    if (a == "--after-passes") {
      after_passes = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("dump: unknown option '" + a + "'");
    } else if (model.empty()) {
      model = a;
    } else {
      return usage_error("dump: more than one model given");
    }
  }
  if (model.empty()) return usage_error("dump: no model given (usage: neutron dump MODEL.onnx)");
  auto g = import_onnx_file(model);
  if (!g.ok()) return fail(g.status());
  if (after_passes) {
    Status s = run_passes(g.value(), cpu_pipeline());
    if (!s.ok()) return fail(s.with_context(model));
  }
  std::fputs(print_graph(g.value()).c_str(), stdout);
  return kExitOk;
}

int cmd_run(const std::vector<std::string>& args) {
  std::string model, outdir, json_path, target;
  std::vector<std::string> inputs;
  bool profile = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--profile") {
      profile = true;
      continue;
    }
    auto value = [&](const char* opt) -> const std::string* {
      if (i + 1 >= args.size()) return nullptr;
      (void)opt;
      return &args[++i];
    };
    if (a == "-i" || a == "-o" || a == "--json" || a == "--target") {
      const std::string* v = value(a.c_str());
      if (!v) return usage_error("run: option " + a + " needs a value");
      if (a == "--target") target = *v;
      if (a == "-i") inputs.push_back(*v);
      if (a == "-o") outdir = *v;
      if (a == "--json") json_path = *v;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("run: unknown option '" + a + "'");
    } else if (model.empty()) {
      model = a;
    } else {
      return usage_error("run: unexpected argument '" + a + "' (inputs are given with -i)");
    }
  }
  if (model.empty())
    return usage_error("run: no model given (usage: neutron run MODEL.onnx|PROGRAM.nprg -i IN.npy -o OUTDIR [--json R.json] "
                       "[--profile] [--target cpu])");
  if (!target.empty() && target != "cpu")
    return usage_error("run: --target takes only 'cpu' (run a program's NPU partitions on the CPU kernels); the NPU "
                       "target is chosen at compile time");

  // Never overwrite a file the user gave us; the files in -o DIR are checked once the output count is known.
  if (int rc = check_outputs("run", run_inputs(model, inputs), run_outputs("", 0, json_path))) return rc;
  if (looks_like_program(model)) return run_program(model, inputs, outdir, json_path, profile, target == "cpu");
  if (!target.empty()) return usage_error("run: --target cpu applies to compiled programs; ONNX models always run on the CPU");
  if (profile) return usage_error("run: --profile applies to compiled programs (neutron compile ... -o PROGRAM.nprg)");
  auto t0 = std::chrono::steady_clock::now();
  auto g = import_onnx_file(model);
  if (!g.ok()) return fail(g.status());
  Status st = run_passes(g.value(), cpu_pipeline());
  if (!st.ok()) return fail(st.with_context(model));
  auto ex = Executor::create(g.value());
  if (!ex.ok()) return fail(ex.status().with_context(model));
  const Graph& graph = ex.value()->graph();
  if (int rc = check_outputs("run", run_inputs(model, inputs), run_outputs(outdir, graph.outputs.size(), json_path)))
    return rc;

  if (inputs.size() != graph.inputs.size()) {
    std::string names;
    for (TensorId t : graph.inputs)
      names += str_cat(names.empty() ? "" : ", ", "'", graph.tensor(t).name, "' ", dtype_name(graph.tensor(t).dtype),
                       shape_str(graph.tensor(t).shape));
    return fail(error(Error::InvalidArgument, model, " has ", graph.inputs.size(), " input(s) (", names, "), but ",
                      inputs.size(), " -i file(s) were given"));
  }
  std::vector<TensorData> in_data;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto d = read_npy(inputs[i]);
    if (!d.ok()) return fail(d.status());
    in_data.push_back(std::move(d).value());
  }
  auto t1 = std::chrono::steady_clock::now();
  std::vector<TensorData> outs;
  st = ex.value()->run(in_data, &outs);
  auto t2 = std::chrono::steady_clock::now();
  if (!st.ok()) return fail(st.with_context(model));
  const double prepare_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double run_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();

  OutputFiles files;
  for (size_t k = 0; k < outs.size() && !outdir.empty(); ++k) {
    auto bytes = encode_npy(outs[k], run_output_file(outdir, k));
    if (!bytes.ok()) return fail(bytes.status());
    files.add(run_output_file(outdir, k), std::move(bytes).value());
  }
  for (size_t k = 0; k < outs.size(); ++k) {
    const Tensor& t = graph.tensor(graph.outputs[k]);
    std::printf("output %zu '%s': %s%s\n", k, t.name.c_str(), dtype_name(outs[k].dtype), shape_str(outs[k].shape).c_str());
  }
  std::printf("time: load+prepare %.2f ms, run %.2f ms (host CPU kernels)\n", prepare_ms, run_ms);
  if (!json_path.empty()) {
    std::ostringstream j;
    j << "{\n  \"model\": \"" << json_escape(model) << "\",\n  \"prepare_ms\": " << prepare_ms
      << ",\n  \"run_ms\": " << run_ms << ",\n  \"outputs\": [";
    for (size_t k = 0; k < outs.size(); ++k) {
      const Tensor& t = graph.tensor(graph.outputs[k]);
      j << (k ? "," : "") << "\n    {\"name\": \"" << json_escape(t.name) << "\", \"dtype\": \"" << dtype_name(outs[k].dtype)
        << "\", \"shape\": " << str_cat(outs[k].shape) << "}";
    }
    j << "\n  ]\n}\n";
    files.add(json_path, j.str());
  }
  st = commit_run_outputs(outdir, &files);
  if (!st.ok()) return fail(st);
  return kExitOk;
}

}  // namespace neutron::cli
