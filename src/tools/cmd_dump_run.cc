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
#include "program/program_format.h"
#include "tools/cli.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/perf_report.h"
#include "tools/reports.h"
#include "tools/sample_model.h"
#include "quantize/accuracy_metrics.h"

namespace neutron::cli {

CommandResult<std::string> dump_command(const DumpArgs& a, const InMemory& mem) {
  const std::string& model = a.model;
  const bool after_passes = a.after_passes;
  auto g = import_model(model, "dump", mem.model);
  if (!g.ok()) return g.status();
  if (after_passes) {
    Status s = run_passes(g.value(), cpu_pipeline());
    if (!s.ok()) return s.with_context(model);
  }
  return print_graph(g.value());
}

int cmd_dump(const DumpArgs& a) {
  auto r = dump_command(a);
  if (!r.ok()) return report_failure(r);
  std::fputs(r.value().c_str(), stdout);
  return kExitOk;
}

CommandResult<RunResult> run_command(const RunArgs& a, const InMemory& mem,
                                     const std::function<Status(size_t)>& check_outputs) {
  const std::string &model = a.model, &target = a.target;
  const bool profile = a.profile, has_labels = !a.labels.empty() || mem.labels;
  const long repeat = a.repeat, warmup = a.warmup;
  if (!target.empty() && target != "cpu")
    return UsageError{"run: --target takes only 'cpu' (run a program's NPU partitions on the CPU kernels); the NPU "
                      "target is chosen at compile time"};
  const bool program = mem.model ? program::is_program_file(mem.model->data(), mem.model->size())
                                 : looks_like_program(model);
  if (program && (repeat != 1 || warmup != 0))
    return UsageError{"run: --repeat and --warmup time ONNX models on the host kernels, not programs"};
  if (program) return run_program(a, mem, check_outputs);
  if (!target.empty()) return UsageError{"run: --target cpu applies to compiled programs; ONNX models always run on the CPU"};
  if (profile) return UsageError{"run: --profile applies to compiled programs (neutron compile ... -o PROGRAM.nprg)"};
  if (!a.perf_csv.empty() || !a.trace.empty())
    return UsageError{"run: --perf-csv and --trace apply to compiled programs (neutron compile ... -o PROGRAM.nprg)"};
  auto t0 = std::chrono::steady_clock::now();
  auto g = mem.model ? import_onnx_bytes(*mem.model, model) : import_onnx_file(model);
  if (!g.ok()) return g.status();
  Status st = run_passes(g.value(), cpu_pipeline());
  if (!st.ok()) return st.with_context(model);
  auto ex = Executor::create(g.value());
  if (!ex.ok()) return ex.status().with_context(model);
  const Graph& graph = ex.value()->graph();
  if (check_outputs) {
    if (Status s = check_outputs(graph.outputs.size()); !s.ok()) return UsageError{"run: " + s.message()};
  }

  std::vector<ModelInput> model_inputs;
  for (TensorId t : graph.inputs) model_inputs.push_back({graph.tensor(t).name, graph.tensor(t).dtype, graph.tensor(t).shape});
  auto in = mem.inputs ? sample_inputs(model, model_inputs, *mem.inputs) : read_sample_inputs(model, model_inputs, a.inputs);
  if (!in.ok()) return in.status();
  const int64_t samples = in->samples;
  if (samples > 1 && (repeat != 1 || warmup != 0))
    return UsageError{"run: --repeat and --warmup time one sample; these inputs hold " + std::to_string(samples)};
  TensorData labels;
  if (has_labels) {
    if (graph.outputs.empty())
      return error(Error::InvalidArgument, "--labels ", a.labels, ": ", model, " has no outputs to take the predicted class from");
    auto l = mem.labels ? check_labels(mem.labels->origin, mem.labels->data, samples) : read_labels(a.labels, samples);
    if (!l.ok()) return l.status();
    labels = std::move(l).value();
  }
  // Samples run in parallel, one executor per worker (executors are not thread-safe).
  std::vector<std::unique_ptr<SampleModel>> models;
  models.push_back(std::unique_ptr<SampleModel>(new OnnxSampleModel(std::move(ex).value())));
  const int64_t workers = std::min<int64_t>(a.threads, samples);
  for (int64_t t = 1; t < workers; ++t) {
    auto e = Executor::create(g.value());
    if (!e.ok()) return e.status().with_context(model);
    models.push_back(std::unique_ptr<SampleModel>(new OnnxSampleModel(std::move(e).value())));
  }
  std::vector<SampleModel*> w;
  for (auto& m : models) w.push_back(m.get());
  auto t1 = std::chrono::steady_clock::now();
  SampleRun result;
  for (long r = 0; r < warmup; ++r) {
    st = run_samples(w, in->data, in->shapes, samples, model, &result);
    if (!st.ok()) return st;
  }
  std::vector<double> latencies, cpu;
  int64_t correct = 0;
  for (long r = 0; r < repeat; ++r) {
    correct = 0;
    st = run_samples(w, in->data, in->shapes, samples, model, &result,
                     [&](int64_t s, const std::vector<TensorData>& o) -> Status {
                       if (has_labels) correct += argmax(o[0], 0, o[0].count()) == labels.get_as_int(s);
                       return Status::OK();
                     });
    if (!st.ok()) return st;
    latencies.insert(latencies.end(), result.wall_ms.begin(), result.wall_ms.end());
    cpu.insert(cpu.end(), result.cpu_ms.begin(), result.cpu_ms.end());
  }
  RunResult r;
  r.outputs = std::move(result.outputs);
  const std::vector<TensorData>& outs = r.outputs;
  const auto t2 = std::chrono::steady_clock::now();
  const double prepare_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double run_ms = samples > 1 ? std::chrono::duration<double, std::milli>(t2 - t1).count() : latencies.front();
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t mid = v.size() / 2;
    return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
  };
  const double median_ms = median(latencies);
  const double min_ms = *std::min_element(latencies.begin(), latencies.end());

  std::string& text = r.text;
  for (size_t k = 0; k < outs.size(); ++k) r.output_names.push_back(graph.tensor(graph.outputs[k]).name);
  for (size_t k = 0; k < outs.size() && !quiet(); ++k) {
    const Tensor& t = graph.tensor(graph.outputs[k]);
    appendf(&text, "output %zu '%s': %s%s\n", k, t.name.c_str(), dtype_name(outs[k].dtype), shape_str(outs[k].shape).c_str());
  }
  const double n = double(samples);
  if (has_labels && !quiet())
    appendf(&text, "accuracy: %.2f%% top-1 (%lld of %lld labelled samples)\n", 100.0 * double(correct) / n,
            (long long)correct, (long long)samples);
  if (quiet()) {
  } else if (samples > 1)
    appendf(&text, "time: load+prepare %.2f ms, run %.2f ms for %lld samples on %lld thread(s) (host CPU kernels)\n",
            prepare_ms, run_ms, (long long)samples, (long long)workers);
  else if (repeat > 1 || warmup > 0)
    appendf(&text, "time: load+prepare %.2f ms; run x%ld after %ld warmup: median %.3f ms, min %.3f ms (host CPU kernels)\n",
            prepare_ms, repeat, warmup, median_ms, min_ms);
  else
    appendf(&text, "time: load+prepare %.2f ms, run %.2f ms (host CPU kernels)\n", prepare_ms, run_ms);
  Json doc = run_document(model, "onnx");
  doc["target"] = "host";
  doc["delegates_on_cpu"] = false;
  doc["samples"] = samples;
  doc["threads"] = workers;
  doc["accuracy"] = !has_labels ? Json(nullptr)
                                : Json{{"labels", a.labels}, {"top1", double(correct) / n}, {"correct", correct}};
  doc["load_ms"] = prepare_ms;
  doc["run_ms"] = run_ms;
  doc["latency_ms"] = latency_json(latencies, cpu, repeat, warmup);
  for (size_t k = 0; k < outs.size(); ++k)
    doc["outputs"].push_back(Json{{"name", graph.tensor(graph.outputs[k]).name},
                                  {"dtype", dtype_name(outs[k].dtype)},
                                  {"shape", outs[k].shape}});
  r.report = std::move(doc);
  return r;
}

int cmd_run(const RunArgs& a) {
  const std::string &model = a.model, &outdir = a.outdir, &json_path = a.json;
  if (!a.target.empty() && a.target != "cpu")
    return usage_error("run: --target takes only 'cpu' (run a program's NPU partitions on the CPU kernels); the NPU "
                       "target is chosen at compile time");
  // Never overwrite a file the user gave us; the files in -o DIR are checked once the output count is known.
  std::vector<NamedPath> early = run_outputs("", 0, json_path);
  early.push_back({"--perf-csv", a.perf_csv});
  early.push_back({"--trace", a.trace});
  if (int rc = check_outputs("run", run_inputs(model, a.inputs), early)) return rc;
  for (const auto& [option, p] : {std::pair<const char*, std::string>{"--perf-csv", a.perf_csv}, {"--trace", a.trace}})
    if (Status s = check_report_path(option, p); !s.ok()) return fail(s);
  auto r = run_command(a, {}, [&](size_t outputs) {
    std::vector<NamedPath> out = run_outputs(outdir, outputs, json_path);
    out.push_back({"--perf-csv", a.perf_csv});
    out.push_back({"--trace", a.trace});
    return check_output_paths(run_inputs(model, a.inputs), out);
  });
  if (!r.ok()) return report_failure(r);
  OutputFiles files;
  for (size_t k = 0; k < r->outputs.size() && !outdir.empty(); ++k) {
    auto bytes = encode_npy(r->outputs[k], run_output_file(outdir, k));
    if (!bytes.ok()) return fail(bytes.status());
    files.add(run_output_file(outdir, k), std::move(bytes).value());
  }
  std::fputs(r->text.c_str(), stdout);
  if (!a.perf_csv.empty()) files.add(a.perf_csv, std::move(r->perf_csv));
  if (!a.trace.empty()) files.add(a.trace, std::move(r->trace));
  if (!json_path.empty()) files.add(json_path, json_text(r->report));
  const Status st = commit_run_outputs(outdir, &files);
  if (!st.ok()) return fail(st);
  return kExitOk;
}

}  // namespace neutron::cli
