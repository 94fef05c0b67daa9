// `neutron inspect PROGRAM.nprg`: what a compiled program holds, from the file alone (no model,
// no target files): its instructions with the model nodes each implements, the payload and
// constant sections, and the memory plan. The file is verified by the runtime's own checks first.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/aligned_buffer.h"
#include "core/output_files.h"
#include "core/read_file.h"
#include "core/strcat.h"
#include "driver/neutron_driver.h"
#include "runtime/payload.h"
#include "runtime/program_runner.h"
#include "tools/cli.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/perf_report.h"
#include "tools/reports.h"

namespace neutron::cli {
namespace {

template <typename V>
Json index_list(const V* v) {
  Json a = Json::array();
  if (v)
    for (uint32_t k = 0; k < v->size(); ++k) a.push_back(v->Get(k));
  return a;
}

Json tensor_json(const fb::Program* p, uint32_t index) {
  const fb::Tensor* t = p->tensors()->Get(index);
  Json j;
  j["index"] = index;
  j["name"] = t->name() ? t->name()->str() : "";
  j["dtype"] = program::dtype_name(t->dtype());
  j["shape"] = index_list(t->shape());
  const bool arena = t->storage() == fb::Storage::Arena;
  j["storage"] = arena ? "arena" : "constant";
  j["offset"] = arena ? Json(t->offset()) : Json(nullptr);
  j["buffer"] = arena ? Json(nullptr) : Json(t->buffer());
  j["bytes"] = t->bytes();
  j["quant"] = nullptr;
  if (const fb::Quantization* q = t->quant()) {
    Json jq;
    Json scale = Json::array();
    if (q->scale())
      for (float s : *q->scale()) scale.push_back(double(s));
    jq["scale"] = scale;
    jq["zero_point"] = index_list(q->zero_point());
    jq["axis"] = q->axis();
    j["quant"] = jq;
  }
  return j;
}

const char* op_kind(fb::Operation op) {
  switch (op) {
    case fb::Operation::DelegateCall: return "delegate";
    case fb::Operation::CpuKernels: return "cpu_kernels";
    case fb::Operation::Quantize: return "quantize";
    case fb::Operation::Dequantize: return "dequantize";
    default: return "none";
  }
}

Json instruction_json(const fb::Program* p, uint32_t index) {
  const fb::Instruction* in = p->instructions()->Get(index);
  Json j;
  j["index"] = index;
  j["kind"] = op_kind(in->op_type());
  j["origin"] = in->origin() ? in->origin()->str() : "";
  // Every instruction has every key; what does not apply to its kind is null.
  for (const char* key : {"backend", "payload", "payload_bytes", "sections", "scratch_offset", "scratch_bytes"})
    j[key] = nullptr;
  Json inputs = Json::array(), outputs = Json::array();
  auto payload_sections = [&](uint32_t payload) {
    const auto* data = p->payloads()->Get(payload)->data();
    j["payload"] = payload;
    j["payload_bytes"] = data ? data->size() : 0;
    if (in->op_type() != fb::Operation::DelegateCall || !data) return;
    runtime::PayloadView view;
    if (!runtime::parse_payload(data->data(), data->size(), &view).ok()) return;  // verified at load already
    j["sections"] = Json{{"header_bytes", view.header_size},
                         {"microcode_bytes", view.microcode_size},
                         {"weights_bytes", view.weights_size},
                         {"kernels_bytes", view.kernels_size},
                         {"microcode_instructions", view.mc.num_instructions()}};
  };
  if (const auto* d = in->op_as_DelegateCall()) {
    j["backend"] = d->backend() ? d->backend()->str() : "";
    payload_sections(d->payload());
    inputs = index_list(d->inputs());
    outputs = index_list(d->outputs());
    j["scratch_offset"] = d->scratch_offset();
    j["scratch_bytes"] = d->scratch_bytes();
  } else if (const auto* c = in->op_as_CpuKernels()) {
    payload_sections(c->payload());
    inputs = index_list(c->inputs());
    outputs = index_list(c->outputs());
    j["scratch_offset"] = c->scratch_offset();
    j["scratch_bytes"] = c->scratch_bytes();
  } else if (const auto* q = in->op_as_Quantize()) {
    inputs.push_back(q->input());
    outputs.push_back(q->output());
  } else if (const auto* dq = in->op_as_Dequantize()) {
    inputs.push_back(dq->input());
    outputs.push_back(dq->output());
  }
  j["inputs"] = inputs;
  j["outputs"] = outputs;
  j["calls"] = call_attribution_json(*p, index);
  return j;
}

}  // namespace

// The description of a verified program file (also used by other front-ends).
Json describe_program(const std::string& path, const uint8_t* data, size_t size) {
  const fb::Program* p = fb::GetProgram(data);
  Json doc = json_document("inspect");
  doc["program"] = path;
  doc["file_bytes"] = size;
  doc["format_version"] = p->version();
  doc["generator"] = p->generator() ? p->generator()->str() : "";
  doc["target"] = p->target() ? p->target()->str() : "";
  doc["model"] = p->model() ? p->model()->str() : "";
  Json inputs = Json::array(), outputs = Json::array();
  if (p->inputs())
    for (uint32_t t : *p->inputs()) inputs.push_back(tensor_json(p, t));
  if (p->outputs())
    for (uint32_t t : *p->outputs()) outputs.push_back(tensor_json(p, t));
  doc["inputs"] = inputs;
  doc["outputs"] = outputs;
  Json instructions = Json::array();
  const uint32_t n = p->instructions() ? p->instructions()->size() : 0;
  for (uint32_t k = 0; k < n; ++k) instructions.push_back(instruction_json(p, k));
  doc["instructions"] = instructions;
  // Sections of the file: delegate/kernel payloads and constant buffers.
  Json payloads = Json::array(), buffers = Json::array();
  uint64_t payload_total = 0, buffer_total = 0;
  if (p->payloads())
    for (const fb::Payload* pl : *p->payloads()) {
      const uint64_t b = pl->data() ? pl->data()->size() : 0;
      payloads.push_back(b);
      payload_total += b;
    }
  if (p->buffers())
    for (const fb::Buffer* bf : *p->buffers()) {
      const uint64_t b = bf->data() ? bf->data()->size() : 0;
      buffers.push_back(b);
      buffer_total += b;
    }
  doc["sections"] = Json{{"payload_bytes", payloads},
                         {"payload_total_bytes", payload_total},
                         {"buffer_bytes", buffers},
                         {"buffer_total_bytes", buffer_total}};
  // The memory plan: the arena and where each activation lives in it.
  Json arena = Json::array();
  std::vector<uint32_t> order;
  const uint32_t nt = p->tensors() ? p->tensors()->size() : 0;
  for (uint32_t t = 0; t < nt; ++t)
    if (p->tensors()->Get(t)->storage() == fb::Storage::Arena) order.push_back(t);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return p->tensors()->Get(a)->offset() < p->tensors()->Get(b)->offset();
  });
  for (uint32_t t : order) {
    const fb::Tensor* ft = p->tensors()->Get(t);
    arena.push_back(Json{{"tensor", t},
                         {"name", ft->name() ? ft->name()->str() : ""},
                         {"offset", ft->offset()},
                         {"bytes", ft->bytes()}});
  }
  const fb::MemoryPlan* plan = p->plan();
  doc["memory_plan"] = Json{{"arena_bytes", plan ? plan->arena_bytes() : 0},
                            {"lower_bound_bytes", plan ? plan->lower_bound_bytes() : 0},
                            {"algorithm", plan && plan->algorithm() ? plan->algorithm()->str() : ""},
                            {"tensors", arena}};
  Json sources = Json::array();
  for (uint32_t k = 0; k < n; ++k) {
    const auto* o = p->instructions()->Get(k)->origin();
    if (o) sources.push_back(o->str());
  }
  doc["source_nodes"] = sources;
  return doc;
}

namespace {

std::string tensor_text(const Json& t) {
  std::string shape;
  for (const auto& d : t["shape"]) shape += (shape.empty() ? "" : ",") + std::to_string(d.get<int64_t>());
  return str_cat("'", t["name"].get<std::string>(), "' ", t["dtype"].get<std::string>(), "[", shape, "]");
}

std::string tensor_names(const Json& program_tensors_by_index, const Json& indices) {
  std::string r;
  for (const auto& i : indices) {
    const auto it = program_tensors_by_index.find(std::to_string(i.get<uint32_t>()));
    r += (r.empty() ? "" : ", ") + (it != program_tensors_by_index.end() ? it->get<std::string>() : std::to_string(i.get<uint32_t>()));
  }
  return r;
}

}  // namespace

CommandResult<InspectResult> inspect_command(const InspectArgs& a, const InMemory& mem) {
  auto bytes = mem.model ? StatusOr<std::string>(*mem.model) : read_file(a.program);
  if (!bytes.ok()) return bytes.status();
  AlignedBuffer file(bytes->size());
  if (!bytes->empty()) std::memcpy(file.data(), bytes->data(), bytes->size());
  if (!program::is_program_file(file.data(), file.size()))
    return error(Error::InvalidProgram, a.program, ": not a neutron program (no NPRG identifier)");
  // The runtime's checks (checksum, FlatBuffers verifier, every index and offset, each delegate
  // payload by its backend) before reading.
  if (neutronInit() != ENONE) return error(Error::DelegateFailed, "neutronInit failed: ", neutronGetLastErrorMessage());
  struct Deinit {
    ~Deinit() { neutronDeinit(); }
  } deinit;
  size_t need = 0;
  const runtime::ProgramStatus ps = runtime::ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need);
  if (!ps.ok()) return error(ps.error, a.program, ": ", ps.message);
  Json doc = describe_program(a.program, file.data(), file.size());
  doc["memory_plan"]["runtime_arena_bytes"] = need;

  InspectResult r;
  std::string& text = r.text;
  const fb::Program* p = fb::GetProgram(file.data());
  Json names;  // tensor index -> name, for the instruction lines
  for (uint32_t t = 0; p->tensors() && t < p->tensors()->size(); ++t)
    names[std::to_string(t)] = p->tensors()->Get(t)->name() ? p->tensors()->Get(t)->name()->str() : "";
  appendf(&text, "program %s: %llu bytes, format version %u, generator '%s', target %s, model '%s'\n", a.program.c_str(),
              (unsigned long long)file.size(), doc["format_version"].get<unsigned>(),
              doc["generator"].get<std::string>().c_str(), doc["target"].get<std::string>().c_str(),
              doc["model"].get<std::string>().c_str());
  for (const auto& t : doc["inputs"]) appendf(&text, "input  %s\n", tensor_text(t).c_str());
  for (const auto& t : doc["outputs"]) appendf(&text, "output %s\n", tensor_text(t).c_str());
  appendf(&text, "\ninstructions (%zu):\n", doc["instructions"].size());
  for (const auto& in : doc["instructions"]) {
    appendf(&text, "  %3u %s", in["index"].get<unsigned>(), in["kind"].get<std::string>().c_str());
    if (!in["payload_bytes"].is_null()) appendf(&text, ", payload %u (%llu B)", in["payload"].get<unsigned>(), in["payload_bytes"].get<unsigned long long>());
    if (!in["scratch_bytes"].is_null() && in["scratch_bytes"].get<uint64_t>())
      appendf(&text, ", scratch %llu B at %llu", in["scratch_bytes"].get<unsigned long long>(), in["scratch_offset"].get<unsigned long long>());
    appendf(&text, "\n      in: %s\n      out: %s\n", tensor_names(names, in["inputs"]).c_str(),
                tensor_names(names, in["outputs"]).c_str());
    if (!in["sections"].is_null()) {
      const Json& s = in["sections"];
      appendf(&text, "      sections: header %llu B, microcode %llu B (%llu instructions), weights %llu B, kernels %llu B\n",
                  s["header_bytes"].get<unsigned long long>(), s["microcode_bytes"].get<unsigned long long>(),
                  s["microcode_instructions"].get<unsigned long long>(), s["weights_bytes"].get<unsigned long long>(),
                  s["kernels_bytes"].get<unsigned long long>());
    }
    appendf(&text, "      source nodes: %s\n", in["origin"].get<std::string>().c_str());
    if (!in["calls"].empty()) {
      appendf(&text, "      kernel calls (node, op, SRAM in use):\n");
      text += call_attribution_text(*p, in["index"].get<uint32_t>(), "      ");
    }
  }
  const Json& sec = doc["sections"];
  appendf(&text, "\nsections: %zu payload(s), %llu B; %zu constant buffer(s), %llu B\n", sec["payload_bytes"].size(),
              sec["payload_total_bytes"].get<unsigned long long>(), sec["buffer_bytes"].size(),
              sec["buffer_total_bytes"].get<unsigned long long>());
  const Json& plan = doc["memory_plan"];
  appendf(&text, "memory plan (%s): arena %llu B, lower bound %llu B, runtime arena %llu B (with the runtime's state)\n",
              plan["algorithm"].get<std::string>().c_str(), plan["arena_bytes"].get<unsigned long long>(),
              plan["lower_bound_bytes"].get<unsigned long long>(), plan["runtime_arena_bytes"].get<unsigned long long>());
  for (const auto& t : plan["tensors"])
    appendf(&text, "  %10llu +%-9llu %s\n", t["offset"].get<unsigned long long>(), t["bytes"].get<unsigned long long>(),
                t["name"].get<std::string>().c_str());
  r.report = std::move(doc);
  return r;
}

int cmd_inspect(const InspectArgs& a) {
  if (int rc = check_outputs("inspect", {{"the program", a.program}}, {{"--json", a.json}})) return rc;
  auto r = inspect_command(a);
  if (!r.ok()) return report_failure(r);
  if (!a.json.empty()) {
    const Status st = write_file_atomically(a.json, json_text(r->report));
    if (!st.ok()) return fail(st);
  }
  std::fputs(r->text.c_str(), stdout);
  return kExitOk;
}

}  // namespace neutron::cli
