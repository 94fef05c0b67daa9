// Models the CLI runs sample by sample: an ONNX model on the host executor or a compiled program
// through the runtime (NPU partitions on the simulated NPU, or on the CPU kernels). Neither is
// thread-safe: one per worker thread (core/ordered_parallel.h), each with its own executor or
// runner and arena.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/status.h"
#include "core/tensor_data.h"
#include "exec/executor.h"
#include "quantize/calibration_data.h"
#include "runtime/program_runner.h"

namespace neutron::cli {

class SampleModel {
 public:
  virtual ~SampleModel() = default;
  // One sample: one tensor per model input, of the input's shape and dtype.
  virtual Status run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs) = 0;
  virtual std::vector<ModelInput> inputs() const = 0;
  virtual std::vector<std::string> output_names() const = 0;
};

// An ONNX model on the host executor.
class OnnxSampleModel : public SampleModel {
 public:
  explicit OnnxSampleModel(std::unique_ptr<Executor> ex) : ex_(std::move(ex)) {}
  Status run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs) override {
    return ex_->run(inputs, outputs);
  }
  std::vector<ModelInput> inputs() const override;
  std::vector<std::string> output_names() const override;

 private:
  std::unique_ptr<Executor> ex_;
};

// A program file read and checked (identifier) once, shared by the workers' runners.
StatusOr<std::shared_ptr<const AlignedBuffer>> read_program_file(const std::string& path);
// The same for a program already in memory; `path` names it in messages.
StatusOr<std::shared_ptr<const AlignedBuffer>> program_from_bytes(const std::string& bytes, const std::string& path);

// The runtime's status with the instruction's origin and the tensor's name.
std::string describe_program_status(const uint8_t* file, const runtime::ProgramStatus& s);
DType program_dtype(fb::DType t);
Shape program_shape(const runtime::TensorInfo& t);

// A loaded program with its own arena. The driver must be initialized (DriverSession).
class ProgramModel : public SampleModel {
 public:
  static StatusOr<std::unique_ptr<ProgramModel>> load(std::shared_ptr<const AlignedBuffer> file,
                                                      const std::string& path, bool delegates_on_cpu);
  Status run(const std::vector<TensorData>& inputs, std::vector<TensorData>* outputs) override;
  std::vector<ModelInput> inputs() const override;
  std::vector<std::string> output_names() const override;
  runtime::ProgramRunner& runner() { return runner_; }
  const runtime::ProgramRunner& runner() const { return runner_; }
  size_t arena_bytes() const { return arena_.size(); }
  // The arena split into plan and runtime state, and the host-only state (repacked weights).
  const runtime::MemoryFigures& memory() const { return figures_; }
  const uint8_t* file() const { return file_->data(); }

 private:
  ProgramModel() = default;
  std::shared_ptr<const AlignedBuffer> file_;
  std::string path_;
  AlignedBuffer arena_;
  AlignedBuffer host_;  // host-only state (LoadOptions::host_state)
  runtime::MemoryFigures figures_;
  runtime::ProgramRunner runner_;  // declared after the arena: destroyed before it
};

// neutronInit for the command's lifetime (the simulated driver behind NPU partitions).
class DriverSession {
 public:
  DriverSession() = default;
  ~DriverSession();
  Status init();

 private:
  bool initialized_ = false;
};

// An ONNX model (compare) or a program file, by its contents. `command` names the command in
// messages. With `bytes`, the model is those bytes and `path` only names it.
StatusOr<std::unique_ptr<SampleModel>> load_sample_model(const std::string& path, bool delegates_on_cpu,
                                                         const char* command, const std::string* bytes = nullptr);

// How many samples a tensor of shape `got` holds for an input of shape `want`: 1 when equal, N
// with an extra leading axis [N, ...want] or N instead of a leading 1; -1 when it does not fit.
int64_t samples_in(const Shape& got, const Shape& want);

}  // namespace neutron::cli

namespace neutron::cli {

// Every sample of `inputs` (each holding `samples` samples of its model input's shape `shapes[i]`)
// run on the workers in parallel (worker t runs its share; see core/ordered_parallel.h), the
// outputs stacked along a leading sample axis (a leading 1 becomes N, else an axis is added;
// one sample keeps the model's shape). The same bytes for any number of workers.
struct SampleRun {
  std::vector<TensorData> outputs;
  std::vector<double> wall_ms, cpu_ms;  // per sample: wall and the worker thread's CPU time
  int64_t last_worker = 0;              // the worker that ran the last sample
};
// `per_sample(s, outputs)` (optional) sees each sample's outputs in sample order.
Status run_samples(const std::vector<SampleModel*>& workers, const std::vector<TensorData>& inputs,
                   const std::vector<Shape>& shapes, int64_t samples, const std::string& what, SampleRun* r,
                   const std::function<Status(int64_t, const std::vector<TensorData>&)>& per_sample = nullptr);

// Reads one .npy per model input: each holds one sample of the input's shape, or several along a
// leading axis (N instead of a leading 1, or an extra axis in front); all hold the same number.
// `model` names the model in messages.
struct SampleInputs {
  std::vector<TensorData> data;
  std::vector<Shape> shapes;  // one sample of each input
  int64_t samples = 1;
};
StatusOr<SampleInputs> read_sample_inputs(const std::string& model, const std::vector<ModelInput>& inputs,
                                          const std::vector<std::string>& files);
// The same checks on arrays in memory, each named by its origin in messages.
StatusOr<SampleInputs> sample_inputs(const std::string& model, const std::vector<ModelInput>& inputs,
                                     std::vector<CalibrationArray> arrays);
// "MODEL has N input(s) ('x' f32[1, 3], ...), but K <what> were given".
Status input_count_error(const std::string& model, const std::vector<ModelInput>& inputs, size_t given,
                         const char* what);

// --labels: a 1-D integer array with one class per sample.
StatusOr<TensorData> read_labels(const std::string& path, int64_t samples);
StatusOr<TensorData> check_labels(const std::string& origin, TensorData labels, int64_t samples);

}  // namespace neutron::cli
