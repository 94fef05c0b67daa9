#include "tools/sample_model.h"

#include <time.h>

#include <chrono>
#include <cstring>

#include "core/memory_budget.h"
#include "core/npy.h"
#include "core/ordered_parallel.h"
#include "core/read_file.h"
#include "core/strcat.h"
#include "driver/neutron_driver.h"
#include "exec/executor.h"
#include "passes/pipeline.h"
#include "tools/cli.h"

namespace neutron::cli {
namespace {

std::string printable(const char* bytes, size_t n) {
  std::string r;
  for (size_t k = 0; k < n; ++k) {
    const auto c = static_cast<unsigned char>(bytes[k]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') r += char(c);
    else r += str_cat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
  }
  return r;
}

}  // namespace

std::vector<ModelInput> OnnxSampleModel::inputs() const {
  const Graph& g = ex_->graph();
  std::vector<ModelInput> r;
  for (TensorId t : g.inputs) r.push_back({g.tensor(t).name, g.tensor(t).dtype, g.tensor(t).shape});
  return r;
}

std::vector<std::string> OnnxSampleModel::output_names() const {
  const Graph& g = ex_->graph();
  std::vector<std::string> r;
  for (TensorId t : g.outputs) r.push_back(g.tensor(t).name);
  return r;
}

DType program_dtype(fb::DType t) {
  switch (t) {
    case fb::DType::Float32: return DType::F32;
    case fb::DType::Int8: return DType::I8;
    case fb::DType::UInt8: return DType::U8;
    case fb::DType::Int32: return DType::I32;
    case fb::DType::Int64: return DType::I64;
  }
  return DType::Invalid;
}

Shape program_shape(const runtime::TensorInfo& t) { return Shape(t.shape, t.shape + t.rank); }

// Statuses that name an instruction or tensor come from semantic checks, after the FlatBuffers
// verifier accepted the file, so reading those fields is safe.
std::string describe_program_status(const uint8_t* file, const runtime::ProgramStatus& s) {
  std::string m = s.message;
  const fb::Program* p = (s.instruction >= 0 || s.tensor >= 0) ? fb::GetProgram(file) : nullptr;
  if (s.instruction >= 0) {
    m += str_cat("; instruction ", s.instruction);
    if (p && p->instructions() && uint32_t(s.instruction) < p->instructions()->size()) {
      const auto* origin = p->instructions()->Get(uint32_t(s.instruction))->origin();
      if (origin) m += str_cat(" (", origin->str(), ")");
    }
  }
  if (s.tensor >= 0) {
    m += str_cat("; tensor ", s.tensor);
    if (p && p->tensors() && uint32_t(s.tensor) < p->tensors()->size()) {
      const auto* name = p->tensors()->Get(uint32_t(s.tensor))->name();
      if (name) m += str_cat(" '", name->str(), "'");
    }
  }
  return m;
}

StatusOr<std::shared_ptr<const AlignedBuffer>> read_program_file(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return program_from_bytes(bytes, path);
}

StatusOr<std::shared_ptr<const AlignedBuffer>> program_from_bytes(const std::string& bytes, const std::string& path) {
  auto file = std::make_shared<AlignedBuffer>(bytes.size());
  if (!bytes.empty()) std::memcpy(file->data(), bytes.data(), bytes.size());
  if (file->size() < 8 || !program::is_program_file(file->data(), file->size()))
    return error(Error::InvalidProgram, path, ": not a neutron program: identifier '",
                 file->size() < 8 ? printable(reinterpret_cast<const char*>(file->data()), file->size())
                                  : printable(reinterpret_cast<const char*>(file->data()) + 4, 4),
                 "' (expected NPRG)");
  return std::shared_ptr<const AlignedBuffer>(std::move(file));
}

StatusOr<std::unique_ptr<ProgramModel>> ProgramModel::load(std::shared_ptr<const AlignedBuffer> file,
                                                           const std::string& path, bool delegates_on_cpu) {
  runtime::LoadOptions options;
  options.delegates_on_cpu = delegates_on_cpu;
  runtime::MemoryFigures fig;
  runtime::ProgramStatus ps = runtime::ProgramRunner::memory_needed(file->data(), file->size(), &fig, options);
  if (!ps.ok()) return error(ps.error, path, ": ", describe_program_status(file->data(), ps));
  RETURN_IF_ERROR(check_memory_budget(fig.arena_bytes + fig.host_bytes, path + ": the program's arena and host state"));
  std::unique_ptr<ProgramModel> m(new ProgramModel());
  m->file_ = std::move(file);
  m->path_ = path;
  m->arena_.resize(fig.arena_bytes);
  // The host's repacked weights (its SIMD kernels), apart from the device arena.
  m->host_.resize(fig.host_bytes);
  options.host_state = m->host_.data();
  options.host_state_bytes = m->host_.size();
  m->figures_ = fig;
  ps = m->runner_.load(m->file_->data(), m->file_->size(), m->arena_.data(), m->arena_.size(), options);
  if (!ps.ok()) return error(ps.error, path, ": ", describe_program_status(m->file_->data(), ps));
  return m;
}

Status ProgramModel::run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs) {
  if (inputs.size() != runner_.num_inputs())
    return error(Error::InvalidArgument, path_, " has ", runner_.num_inputs(), " input(s), but ", inputs.size(),
                 " were given");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const runtime::TensorInfo t = runner_.input(i);
    if (inputs[i].dtype != program_dtype(t.dtype) || inputs[i].bytes.size() != t.bytes)
      return error(Error::InvalidArgument, path_, ": input '", t.name, "' is ", program::dtype_name(t.dtype),
                   shape_str(program_shape(t)), ", but got ", dtype_name(inputs[i].dtype), shape_str(inputs[i].shape));
    std::memcpy(t.data, inputs[i].bytes.data(), t.bytes);
  }
  const runtime::ProgramStatus ps = runner_.run();
  if (!ps.ok()) return error(ps.error, path_, ": ", describe_program_status(file_->data(), ps));
  outputs->resize(runner_.num_outputs());
  for (size_t o = 0; o < runner_.num_outputs(); ++o) {
    const runtime::TensorInfo t = runner_.output(o);
    TensorData& d = (*outputs)[o];
    if (d.dtype != program_dtype(t.dtype) || d.shape != program_shape(t)) d = TensorData(program_dtype(t.dtype), program_shape(t));
    std::memcpy(d.bytes.data(), t.data, t.bytes);
  }
  return Status::OK();
}

std::vector<ModelInput> ProgramModel::inputs() const {
  std::vector<ModelInput> r;
  for (size_t i = 0; i < runner_.num_inputs(); ++i) {
    const runtime::TensorInfo t = runner_.input(i);
    r.push_back({t.name, program_dtype(t.dtype), program_shape(t)});
  }
  return r;
}

std::vector<std::string> ProgramModel::output_names() const {
  std::vector<std::string> r;
  for (size_t o = 0; o < runner_.num_outputs(); ++o) r.push_back(runner_.output(o).name);
  return r;
}

Status DriverSession::init() {
  if (initialized_) return Status::OK();
  if (neutronInit() != ENONE) return error(Error::DelegateFailed, "neutronInit failed: ", neutronGetLastErrorMessage());
  initialized_ = true;
  return Status::OK();
}

DriverSession::~DriverSession() {
  if (initialized_) neutronDeinit();
}

StatusOr<std::unique_ptr<SampleModel>> load_sample_model(const std::string& path, bool delegates_on_cpu,
                                                         const char* command, const std::string* bytes) {
  if (bytes ? program::is_program_file(bytes->data(), bytes->size()) : looks_like_program(path)) {
    ASSIGN_OR_RETURN(auto file, bytes ? program_from_bytes(*bytes, path) : read_program_file(path));
    ASSIGN_OR_RETURN(auto m, ProgramModel::load(std::move(file), path, delegates_on_cpu));
    return std::unique_ptr<SampleModel>(std::move(m));
  }
  ASSIGN_OR_RETURN(Graph g, import_model(path, command, bytes));
  RETURN_IF_ERROR(run_passes(g, cpu_pipeline()).with_context(path));
  auto ex = Executor::create(g);
  if (!ex.ok()) return ex.status().with_context(path);
  return std::unique_ptr<SampleModel>(new OnnxSampleModel(std::move(ex).value()));
}

int64_t samples_in(const Shape& got, const Shape& want) {
  if (got == want) return 1;
  if (got.size() == want.size() + 1 && Shape(got.begin() + 1, got.end()) == want) return got[0];
  if (!want.empty() && want[0] == 1 && got.size() == want.size() &&
      Shape(got.begin() + 1, got.end()) == Shape(want.begin() + 1, want.end()))
    return got[0];
  return -1;
}

namespace {
double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}
}  // namespace

Status run_samples(const std::vector<SampleModel*>& workers, const std::vector<TensorData>& inputs,
                   const std::vector<Shape>& shapes, int64_t samples, const std::string& what, SampleRun* r,
                   const std::function<Status(int64_t, const std::vector<TensorData>&)>& per_sample) {
  const size_t T = workers.size();
  std::vector<std::vector<TensorData>> outs(T);
  std::vector<Status> st(T);
  std::vector<double> wall(T), cpu(T);
  r->outputs.clear();
  r->wall_ms.clear();
  r->cpu_ms.clear();
  return run_samples_ordered(
      samples, T,
      [&](size_t t, int64_t s) {
        std::vector<TensorData> x;
        for (size_t i = 0; i < inputs.size(); ++i) {
          x.emplace_back(inputs[i].dtype, shapes[i]);
          const size_t n = x.back().bytes.size();
          std::memcpy(x.back().bytes.data(), inputs[i].bytes.data() + size_t(s) * n, n);
        }
        const auto w0 = std::chrono::steady_clock::now();
        const double c0 = thread_cpu_ms();
        st[t] = workers[t]->run(x, &outs[t]);
        cpu[t] = thread_cpu_ms() - c0;
        wall[t] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();
      },
      [&](size_t t, int64_t s) -> Status {
        if (!st[t].ok()) return samples > 1 ? st[t].with_context(str_cat(what, ": sample ", s)) : st[t];
        r->wall_ms.push_back(wall[t]);
        r->cpu_ms.push_back(cpu[t]);
        r->last_worker = int64_t(t);
        if (s == 0) {
          for (size_t o = 0; o < outs[t].size(); ++o) {
            Shape shape = outs[t][o].shape;
            if (samples > 1) {
              if (!shape.empty() && shape[0] == 1) shape[0] = samples;
              else shape.insert(shape.begin(), samples);
            }
            RETURN_IF_ERROR(tensor_bytes_within_budget(outs[t][o].dtype, shape, str_cat(what, ": output ", o)).status());
            r->outputs.emplace_back(outs[t][o].dtype, shape);
          }
        }
        if (outs[t].size() != r->outputs.size()) return error(Error::Internal, what, ": sample ", s, " has ", outs[t].size(), " outputs");
        for (size_t o = 0; o < outs[t].size(); ++o) {
          const size_t n = outs[t][o].bytes.size();
          if (outs[t][o].dtype != r->outputs[o].dtype || size_t(s + 1) * n > r->outputs[o].bytes.size())
            return error(Error::InvalidArgument, what, ": output ", o, " of sample ", s, " is ",
                         dtype_name(outs[t][o].dtype), shape_str(outs[t][o].shape), ", unlike sample 0's");
          std::memcpy(r->outputs[o].bytes.data() + size_t(s) * n, outs[t][o].bytes.data(), n);
        }
        if (per_sample) RETURN_IF_ERROR(per_sample(s, outs[t]));
        return Status::OK();
      });
}

namespace {
// One input's array (read from `origin`) checked against the model input and added to `r`.
Status add_sample_input(SampleInputs* r, int64_t* samples, const std::string& model, const ModelInput& in,
                        const std::string& origin, TensorData d) {
  if (d.dtype != in.dtype)
    return error(Error::InvalidArgument, origin, ": dtype ", dtype_name(d.dtype), ", but input '", in.name, "' of ",
                 model, " is ", dtype_name(in.dtype));
  const int64_t k = samples_in(d.shape, in.shape);
  if (k < 0)
    return error(Error::InvalidArgument, origin, ": shape ", shape_str(d.shape), " does not fit input '", in.name,
                 "' of shape ", shape_str(in.shape), " (one sample, or samples along a leading axis)");
  if (k == 0)
    return error(Error::InvalidArgument, origin, ": holds no samples for input '", in.name, "' (shape ",
                 shape_str(d.shape), ")");
  if (*samples >= 0 && k != *samples)
    return error(Error::InvalidArgument, origin, ": ", k, " samples, but the other inputs have ", *samples);
  // read_npy checked the element count, so this holds; the sample slicing relies on it.
  const TensorData one(in.dtype, in.shape);
  int64_t need = 0;
  if (!checked_mul(k, int64_t(one.bytes.size()), &need) || uint64_t(need) != d.bytes.size())
    return error(Error::InvalidArgument, origin, ": holds ", d.bytes.size(), " bytes, not ", k, " samples of ",
                 one.bytes.size(), " bytes");
  *samples = k;
  r->data.push_back(std::move(d));
  r->shapes.push_back(in.shape);
  return Status::OK();
}
}  // namespace

Status input_count_error(const std::string& model, const std::vector<ModelInput>& inputs, size_t given,
                         const char* what) {
  std::string names;
  for (const ModelInput& in : inputs)
    names += str_cat(names.empty() ? "" : ", ", "'", in.name, "' ", dtype_name(in.dtype), shape_str(in.shape));
  return error(Error::InvalidArgument, model, " has ", inputs.size(), " input(s) (", names, "), but ", given, " ", what,
               " were given");
}

StatusOr<SampleInputs> read_sample_inputs(const std::string& model, const std::vector<ModelInput>& inputs,
                                          const std::vector<std::string>& files) {
  if (files.size() != inputs.size()) return input_count_error(model, inputs, files.size(), "-i file(s)");
  SampleInputs r;
  int64_t samples = -1;
  for (size_t i = 0; i < files.size(); ++i) {
    ASSIGN_OR_RETURN(TensorData d, read_npy(files[i]));
    RETURN_IF_ERROR(add_sample_input(&r, &samples, model, inputs[i], files[i], std::move(d)));
  }
  r.samples = samples < 0 ? 1 : samples;
  return r;
}

StatusOr<SampleInputs> sample_inputs(const std::string& model, const std::vector<ModelInput>& inputs,
                                     std::vector<CalibrationArray> arrays) {
  if (arrays.size() != inputs.size()) return input_count_error(model, inputs, arrays.size(), "array(s)");
  SampleInputs r;
  int64_t samples = -1;
  for (size_t i = 0; i < arrays.size(); ++i)
    RETURN_IF_ERROR(add_sample_input(&r, &samples, model, inputs[i], arrays[i].origin, std::move(arrays[i].data)));
  r.samples = samples < 0 ? 1 : samples;
  return r;
}

StatusOr<TensorData> read_labels(const std::string& path, int64_t samples) {
  ASSIGN_OR_RETURN(TensorData l, read_npy(path));
  return check_labels(path, std::move(l), samples);
}

StatusOr<TensorData> check_labels(const std::string& origin, TensorData l, int64_t samples) {
  if (l.shape.size() != 1 || l.shape[0] != samples ||
      (l.dtype != DType::I64 && l.dtype != DType::I32 && l.dtype != DType::U8))
    return error(Error::InvalidArgument, origin, ": labels must be a 1-D integer array of ", samples,
                 " entries (one per input sample), got ", dtype_name(l.dtype), shape_str(l.shape));
  return l;
}

}  // namespace neutron::cli
