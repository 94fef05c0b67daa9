// `neutron quantize` (float ONNX + calibration data -> QDQ ONNX) and `neutron compare`
// (two models on the same inputs: error metrics and, with labels, accuracy).
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>

#include "core/npy.h"
#include "core/version.h"
#include "core/ordered_parallel.h"
#include "core/progress.h"
#include "exec/executor.h"
#include "export/onnx/onnx_writer.h"
#include "import/onnx/onnx_importer.h"
#include "passes/pipeline.h"
#include "program/program_format.h"
#include "quantize/accuracy_metrics.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "tools/cli.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/reports.h"
#include "tools/sample_model.h"

namespace neutron::cli {

Status quantize_options(const QuantOptionsArgs& a, const char* command, QuantizeOptions* out) {
  auto kind = parse_observer_kind(a.observer);
  if (!kind.ok()) return error(Error::InvalidArgument, command, ": ", kind.status().message());
  if (a.percentile_given && kind.value() != ObserverKind::kPercentile)
    return error(Error::InvalidArgument, command, ": --percentile applies to --observer percentile only");
  auto bc = parse_bias_correction(a.bias_correction);
  if (!bc.ok()) return error(Error::InvalidArgument, command, ": ", bc.status().message());
  out->threads = int(a.threads);
  out->observer = kind.value();
  out->bias_correction = bc.value();
  out->percentile = a.percentile;
  out->keep_float.clear();
  for (size_t at = 0; at <= a.keep_float.size() && !a.keep_float.empty();) {
    const size_t comma = std::min(a.keep_float.find(',', at), a.keep_float.size());
    const std::string name = a.keep_float.substr(at, comma - at);
    if (name.empty()) return error(Error::InvalidArgument, command, ": --keep-float: empty name in '", a.keep_float, "'");
    out->keep_float.push_back(name);
    at = comma + 1;
  }
  return Status::OK();
}

CommandResult<QuantizeResult> quantize_command(const QuantizeArgs& a, const InMemory& mem) {
  const std::string &model = a.model, &calib_path = a.inputs, &out_path = a.output, &observer = a.quant.observer;
  QuantizeOptions options;
  if (Status s = quantize_options(a.quant, "quantize", &options); !s.ok()) return UsageError{s.message()};

  step("importing " + model);
  auto g = import_model(model, "quantize", mem.model);
  if (!g.ok()) return g.status();
  Status st = run_passes(g.value(), prequant_pipeline());
  if (!st.ok()) return st.with_context(model);
  auto calib = mem.samples ? make_calibration_set(model_inputs(g.value()), *mem.samples)
                           : load_calibration_data(calib_path, model_inputs(g.value()));
  if (!calib.ok()) return calib.status();

  step(str_cat("calibrating on ", calib->size(), " samples, observer ", observer));
  ProgressReporter progress;
  if (show_progress()) options.progress = progress.callback();
  QuantizeReport report;
  auto q = quantize_graph(g.value(), calib.value(), options, &report);
  progress.finish();
  if (!q.ok()) return q.status().with_context(model);
  OnnxExportOptions export_options;
  export_options.producer_version = tool_version();
  auto onnx_bytes = export_onnx(q.value(), export_options);
  if (!onnx_bytes.ok()) return onnx_bytes.status().with_context(out_path);
  QuantizeResult r;
  r.onnx = std::move(onnx_bytes).value();
  Json doc = json_document("quantize");
  doc["model"] = model;
  doc["output"] = out_path.empty() ? Json(nullptr) : Json(out_path);
  doc["observer"] = observer;
  doc["percentile"] = options.observer == ObserverKind::kPercentile ? Json(a.quant.percentile) : Json(nullptr);
  doc["samples"] = report.samples;
  Json groups = Json::array();
  for (const auto& gr : report.groups) {
    // Scales are float32 in the model: written as the double of that float, which reads back exactly.
    groups.push_back(Json{{"tensors", gr.tensors},
                          {"scale", double(gr.params.scale[0])},
                          {"zero_point", gr.params.zero_point[0]},
                          {"observed_min", gr.observed_min},
                          {"observed_max", gr.observed_max},
                          {"fixed", gr.fixed}});
  }
  doc["groups"] = groups;
  doc["bias_correction"] = bias_correction_name(report.bias_correction);
  doc["bias_correction_passes"] = report.bias_correction_passes;
  Json corrected = Json::array();
  for (const auto& cb : report.corrected_biases)
    corrected.push_back(Json{{"node", cb.node},
                             {"channels", cb.channels},
                             {"max_abs_shift", cb.max_abs_shift},
                             {"max_abs_bias", cb.max_abs_bias}});
  doc["corrected_biases"] = corrected;
  doc["float_nodes"] = report.float_nodes;
  doc["own_params"] = report.own_params;
  Json clamped = Json::array();
  for (const auto& c : report.clamped_members)
    clamped.push_back(Json{{"tensor", c.tensor},
                           {"observed_min", c.observed_min},
                           {"observed_max", c.observed_max},
                           {"range_min", c.range_min},
                           {"range_max", c.range_max},
                           {"group", c.group}});
  doc["clamped_members"] = clamped;
  r.report = std::move(doc);

  if (quiet()) return r;
  std::string& text = r.text;
  appendf(&text, "quantized %s -> %s: %zu activation groups, %lld calibration samples, observer %s\n", model.c_str(),
          out_path.c_str(), report.groups.size(), (long long)report.samples, observer.c_str());
  if (report.bias_correction != BiasCorrection::kOff) {
    appendf(&text, "bias correction %s: %zu layers", bias_correction_name(report.bias_correction),
            report.corrected_biases.size());
    if (report.bias_correction == BiasCorrection::kEmpirical)
      appendf(&text, ", %d run%s of the quantized graph (one per layer level)", report.bias_correction_passes,
              report.bias_correction_passes == 1 ? "" : "s");
    appendf(&text, "\n");
  }
  for (const auto& f : report.float_nodes) appendf(&text, "  float: %s\n", f.c_str());
  for (const auto& t : report.own_params)
    appendf(&text,
            "  own parameters: '%s' (fixed parameters, or a range far from the rest of its Concat/Max/Min group; "
            "requantized on its branch)\n",
            t.c_str());
  for (const auto& c : report.clamped_members) {
    std::string group;
    for (const auto& m : c.group) group += (group.empty() ? "'" : ", '") + m + "'";
    appendf(&text, "  warning: tensor '%s' was observed in [%g, %g] but its group (%s) represents [%g, %g]: it is clamped\n",
            c.tensor.c_str(), double(c.observed_min), double(c.observed_max), group.c_str(), double(c.range_min),
            double(c.range_max));
  }
  return r;
}

int cmd_quantize(const QuantizeArgs& a) {
  if (a.model.empty() || a.inputs.empty() || a.output.empty())
    return usage_error("quantize: needs MODEL.onnx, -i CALIB.npy|DIR and -o OUT.onnx");
  if (int rc = check_outputs("quantize", {{"the input model", a.model}, {"-i", a.inputs}},
                              {{"-o", a.output}, {"--json", a.json}}))
    return rc;
  auto r = quantize_command(a);
  if (!r.ok()) return report_failure(r);
  // The model and its report are written together, after everything succeeded.
  OutputFiles outputs;
  outputs.add(a.output, std::move(r->onnx));
  if (!a.json.empty()) outputs.add(a.json, json_text(r->report));
  const Status st = outputs.commit();
  if (!st.ok()) return fail(st);
  std::fputs(r->text.c_str(), stdout);
  return kExitOk;
}

CommandResult<CompareResult> compare_command(const CompareArgs& args, const InMemory& mem) {
  const std::string &model_a = args.reference, &model_b = args.test, &inputs_path = args.inputs,
                    &labels_path = args.labels;
  const long threads = args.threads;
  const bool has_labels = !labels_path.empty() || mem.labels;
  // Either model may be a compiled program (the artifact that ships): its NPU partitions run on
  // the simulated NPU, or with --target cpu on the CPU kernels.
  const auto is_program = [](const std::string& path, const std::string* bytes) {
    return bytes ? program::is_program_file(bytes->data(), bytes->size()) : looks_like_program(path);
  };
  const bool any_program = is_program(model_a, mem.model) || is_program(model_b, mem.test_model);
  if (!args.target.empty() && !any_program)
    return UsageError{"compare: --target cpu applies to compiled programs; ONNX models always run on the CPU"};
  DriverSession driver;
  if (any_program) {
    if (Status s = driver.init(); !s.ok()) return s;
  }
  // One model pair per thread; thread t runs samples t, t + T, ... of each chunk of T.
  std::vector<std::unique_ptr<SampleModel>> ex_a, ex_b;
  for (long t = 0; t < threads; ++t) {
    auto a = load_sample_model(model_a, args.target == "cpu", "compare", mem.model);
    if (!a.ok()) return a.status();
    auto b = load_sample_model(model_b, args.target == "cpu", "compare", mem.test_model);
    if (!b.ok()) return b.status();
    ex_a.push_back(std::move(a).value());
    ex_b.push_back(std::move(b).value());
  }
  const std::vector<std::string> names_a = ex_a[0]->output_names(), names_b = ex_b[0]->output_names();
  if (names_a.size() != names_b.size())
    return error(Error::InvalidArgument, model_a, " has ", names_a.size(), " outputs but ", model_b, " has ",
                      names_b.size());
  const std::vector<ModelInput> inputs = ex_a[0]->inputs();
  auto data = mem.samples ? make_calibration_set(inputs, *mem.samples) : load_calibration_data(inputs_path, inputs);
  if (!data.ok()) return data.status();
  TensorData labels;
  if (has_labels) {
    // Accuracy takes the argmax of the first output.
    if (names_a.empty())
      return error(Error::InvalidArgument, "--labels ", labels_path, ": ", model_a,
                        " has no outputs to take the predicted class from");
    auto l = mem.labels ? StatusOr<TensorData>(mem.labels->data) : read_npy(labels_path);
    if (!l.ok()) return l.status();
    labels = std::move(l).value();
    const std::string& labels_origin = mem.labels ? mem.labels->origin : labels_path;
    if (labels.shape.size() != 1 || labels.shape[0] != data->size() ||
        (labels.dtype != DType::I64 && labels.dtype != DType::I32 && labels.dtype != DType::U8))
      return error(Error::InvalidArgument, labels_origin, ": labels must be a 1-D integer array of ", data->size(),
                   " entries (one per input sample), got ", dtype_name(labels.dtype), shape_str(labels.shape));
  }
  std::vector<OutputAgreement> agree(names_a.size());
  int64_t correct_a = 0, correct_b = 0;
  ProgressReporter progress;
  // Samples run in parallel, a chunk of `threads` at a time; the results are folded in sample
  // order, so every metric is the same for any thread count.
  const size_t T = size_t(threads);
  std::vector<std::vector<TensorData>> oa(T), ob(T);
  std::vector<Status> sa(T), sb(T);
  Status st = run_samples_ordered(
      data->size(), T,
      [&](size_t t, int64_t s) {
        const std::vector<TensorData> x = data->sample(s);
        sa[t] = ex_a[t]->run(x, &oa[t]);
        sb[t] = sa[t].ok() ? ex_b[t]->run(x, &ob[t]) : Status::OK();
      },
      [&](size_t t, int64_t s) -> Status {
        if (!sa[t].ok()) return sa[t].with_context(model_a);
        if (!sb[t].ok()) return sb[t].with_context(model_b);
        for (size_t k = 0; k < oa[t].size(); ++k) {
          if (oa[t][k].shape != ob[t][k].shape)
            return error(Error::InvalidArgument, "output ", k, " has shape ", shape_str(oa[t][k].shape), " in ", model_a,
                         " but ", shape_str(ob[t][k].shape), " in ", model_b);
          agree[k].add(oa[t][k], ob[t][k]);
        }
        if (has_labels) {
          const int64_t label = labels.get_as_int(s);
          correct_a += argmax(oa[t][0], 0, oa[t][0].count()) == label;
          correct_b += argmax(ob[t][0], 0, ob[t][0].count()) == label;
        }
        if (show_progress()) progress.update("comparing", s + 1, data->size());
        return Status::OK();
      });
  if (!st.ok()) return st;
  progress.finish();

  CompareResult r;
  std::string& text = r.text;
  appendf(&text, "reference %s\ntest      %s\nsamples   %lld\n\n", model_a.c_str(), model_b.c_str(), (long long)data->size());
  appendf(&text, "%-24s %12s %12s %10s %10s %8s\n", "output", "max |err|", "MSE", "SQNR dB", "cosine", "top-1");
  for (size_t k = 0; k < agree.size(); ++k)
    appendf(&text, "%-24s %12.6g %12.6g %10.2f %10.6f %7.2f%%\n", names_a[k].c_str(),
                agree[k].max_abs_error(), agree[k].mse(), agree[k].sqnr_db(), agree[k].cosine(),
                100.0 * agree[k].top1_agreement());
  const double n = double(data->size());
  if (has_labels)
    appendf(&text, "\naccuracy: reference %.2f%%, test %.2f%% (%lld labelled samples)\n", 100.0 * correct_a / n,
                100.0 * correct_b / n, (long long)data->size());
  {
    Json doc = json_document("compare");
    doc["reference"] = model_a;
    doc["test"] = model_b;
    doc["inputs"] = inputs_path.empty() ? Json(nullptr) : Json(inputs_path);
    doc["samples"] = data->size();
    doc["target"] = args.target.empty() ? Json(nullptr) : Json(args.target);
    Json outs = Json::array();
    for (size_t k = 0; k < agree.size(); ++k)
      outs.push_back(Json{{"name", names_a[k]},
                          {"max_abs_error", agree[k].max_abs_error()},
                          {"mse", agree[k].mse()},
                          {"sqnr_db", agree[k].sqnr_db()},
                          {"cosine", agree[k].cosine()},
                          {"top1_agreement", agree[k].top1_agreement()}});
    doc["outputs"] = outs;
    doc["accuracy"] = !has_labels
                          ? Json(nullptr)
                          : Json{{"labels", labels_path}, {"reference", correct_a / n}, {"test", correct_b / n}};
    r.report = std::move(doc);
  }
  return r;
}

int cmd_compare(const CompareArgs& args) {
  if (int rc = check_outputs("compare",
                              {{"the reference model", args.reference}, {"the test model", args.test},
                               {"-i", args.inputs}, {"--labels", args.labels}},
                              {{"--json", args.json}}))
    return rc;
  auto r = compare_command(args);
  if (!r.ok()) return report_failure(r);
  std::fputs(r->text.c_str(), stdout);
  if (!args.json.empty()) {
    const Status st = write_file_atomically(args.json, json_text(r->report));
    if (!st.ok()) return fail(st);
  }
  return kExitOk;
}

}  // namespace neutron::cli
