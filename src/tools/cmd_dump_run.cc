// `neutron dump` and `neutron run`.
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <climits>
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
#include "tools/reports.h"

namespace neutron::cli {

int cmd_dump(const DumpArgs& a) {
  const std::string& model = a.model;
  const bool after_passes = a.after_passes;
  auto g = import_model(model, "dump");
  if (!g.ok()) return fail(g.status());
  if (after_passes) {
    Status s = run_passes(g.value(), cpu_pipeline());
    if (!s.ok()) return fail(s.with_context(model));
  }
  std::fputs(print_graph(g.value()).c_str(), stdout);
  return kExitOk;
}

int cmd_run(const RunArgs& a) {
  const std::string &model = a.model, &outdir = a.outdir, &json_path = a.json, &target = a.target;
  const std::vector<std::string>& inputs = a.inputs;
  const bool profile = a.profile;
  const long repeat = a.repeat, warmup = a.warmup;
  if (!target.empty() && target != "cpu")
    return usage_error("run: --target takes only 'cpu' (run a program's NPU partitions on the CPU kernels); the NPU "
                       "target is chosen at compile time");

  // Never overwrite a file the user gave us; the files in -o DIR are checked once the output count is known.
  if (int rc = check_outputs("run", run_inputs(model, inputs), run_outputs("", 0, json_path))) return rc;
  if (looks_like_program(model) && (repeat != 1 || warmup != 0))
    return usage_error("run: --repeat and --warmup time ONNX models on the host kernels, not programs");
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
  // One sample: --threads has nothing to split (the kernels run on one thread); it is accepted so
  // scripts can pass the same options to run, compare and quantize.
  for (long w = 0; w < warmup; ++w) {
    st = ex.value()->run(in_data, &outs);
    if (!st.ok()) return fail(st.with_context(model));
  }
  // Wall time, and the thread's CPU time (what a loaded machine distorts least).
  const auto cpu_ms = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
  };
  std::vector<double> latencies, cpu;
  for (long r = 0; r < repeat; ++r) {
    const auto r0 = std::chrono::steady_clock::now();
    const double c0 = cpu_ms();
    st = ex.value()->run(in_data, &outs);
    cpu.push_back(cpu_ms() - c0);
    latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r0).count());
    if (!st.ok()) return fail(st.with_context(model));
  }
  const double prepare_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double run_ms = latencies.front();
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t mid = v.size() / 2;
    return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
  };
  const double median_ms = median(latencies);
  const double min_ms = *std::min_element(latencies.begin(), latencies.end());

  OutputFiles files;
  for (size_t k = 0; k < outs.size() && !outdir.empty(); ++k) {
    auto bytes = encode_npy(outs[k], run_output_file(outdir, k));
    if (!bytes.ok()) return fail(bytes.status());
    files.add(run_output_file(outdir, k), std::move(bytes).value());
  }
  for (size_t k = 0; k < outs.size() && !quiet(); ++k) {
    const Tensor& t = graph.tensor(graph.outputs[k]);
    std::printf("output %zu '%s': %s%s\n", k, t.name.c_str(), dtype_name(outs[k].dtype), shape_str(outs[k].shape).c_str());
  }
  if (quiet()) {
  } else if (repeat > 1 || warmup > 0)
    std::printf("time: load+prepare %.2f ms; run x%ld after %ld warmup: median %.3f ms, min %.3f ms (host CPU kernels)\n",
                prepare_ms, repeat, warmup, median_ms, min_ms);
  else
    std::printf("time: load+prepare %.2f ms, run %.2f ms (host CPU kernels)\n", prepare_ms, run_ms);
  if (!json_path.empty()) {
    Json doc = run_document(model, "onnx");
    doc["target"] = "host";
    doc["delegates_on_cpu"] = false;
    doc["samples"] = 1;
    doc["load_ms"] = prepare_ms;
    doc["run_ms"] = run_ms;
    doc["latency_ms"] = latency_json(latencies, cpu, repeat, warmup);
    for (size_t k = 0; k < outs.size(); ++k)
      doc["outputs"].push_back(Json{{"name", graph.tensor(graph.outputs[k]).name},
                                    {"dtype", dtype_name(outs[k].dtype)},
                                    {"shape", outs[k].shape}});
    files.add(json_path, json_text(doc));
  }
  st = commit_run_outputs(outdir, &files);
  if (!st.ok()) return fail(st);
  return kExitOk;
}

}  // namespace neutron::cli
