// neutron._neutron: the command functions of src/tools (tools/commands.h) for Python. The
// pure-Python package (python/neutron/__init__.py) checks and converts the arguments and wraps the
// results in objects; this layer converts numpy arrays to and from TensorData, releases the GIL
// while a command works, and turns a command's failure into a Python exception carrying the
// message the CLI prints (after "neutron: ").
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/memory_budget.h"
#include "core/version.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace py = pybind11;
using namespace neutron;
using namespace neutron::cli;

namespace {

// The exception classes (created in PYBIND11_MODULE): NeutronError, and subclasses that are also
// ValueError (bad arguments, usage mistakes) and FileNotFoundError (a missing file).
PyObject* g_error = nullptr;
PyObject* g_invalid_argument = nullptr;
PyObject* g_not_found = nullptr;

// Thrown by the bindings with the GIL released; translated into the class above.
struct CommandFailure {
  PyObject* type;
  std::string message;
};

template <typename T>
T take(CommandResult<T>&& r) {
  if (r.ok()) return std::move(r.value());
  const Status& s = r.status();
  if (r.usage()) throw CommandFailure{g_invalid_argument, s.message()};
  PyObject* type = s.code() == Error::InvalidArgument ? g_invalid_argument
                   : s.code() == Error::NotFound      ? g_not_found
                                                      : g_error;
  throw CommandFailure{type, s.to_string()};
}

// One command at a time: the simulated NPU driver and the verbosity are process-wide.
std::mutex g_command_mutex;

// Runs `command` (a call of one of tools/commands.h) with the GIL released, under the mutex, and
// returns its result or throws its failure.
template <typename F>
auto run_unlocked(F&& command) -> decltype(take(command())) {
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(g_command_mutex);
  return take(command());
}

DType dtype_of(const py::array& a, const std::string& what) {
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  const ssize_t size = dt.itemsize();
  if (kind == 'f' && size == 4) return DType::F32;
  if (kind == 'i' && size == 1) return DType::I8;
  if (kind == 'u' && size == 1) return DType::U8;
  if (kind == 'i' && size == 2) return DType::I16;
  if (kind == 'i' && size == 4) return DType::I32;
  if (kind == 'i' && size == 8) return DType::I64;
  if (kind == 'b' && size == 1) return DType::Bool;
  throw py::type_error(what + ": dtype " + py::str(static_cast<py::handle>(dt)).cast<std::string>() +
                       " is not supported (float32, int8, uint8, int16, int32, int64 or bool)");
}

// A C-contiguous native-order array (the Python layer makes it so) as TensorData.
CalibrationArray to_array(const py::handle& obj, const std::string& what) {
  if (!py::isinstance<py::array>(obj)) throw py::type_error(what + ": expected a numpy array");
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!(a.flags() & py::array::c_style) || !a.dtype().attr("isnative").cast<bool>())
    throw py::value_error(what + ": the array must be C-contiguous in native byte order");
  CalibrationArray r;
  r.origin = what;
  r.data.dtype = dtype_of(a, what);
  for (ssize_t d = 0; d < a.ndim(); ++d) r.data.shape.push_back(int64_t(a.shape(d)));
  r.data.bytes.resize(size_t(a.nbytes()));
  if (a.nbytes()) std::memcpy(r.data.bytes.data(), a.data(), size_t(a.nbytes()));
  return r;
}

template <typename T>
py::array numpy_of(const TensorData& t) {
  std::vector<ssize_t> shape(t.shape.begin(), t.shape.end());
  py::array_t<T> a(shape);
  if (!t.bytes.empty()) std::memcpy(a.mutable_data(), t.bytes.data(), t.bytes.size());
  return std::move(a);
}

py::array to_numpy(const TensorData& t) {
  switch (t.dtype) {
    case DType::F32: return numpy_of<float>(t);
    case DType::I8: return numpy_of<int8_t>(t);
    case DType::U8: return numpy_of<uint8_t>(t);
    case DType::I16: return numpy_of<int16_t>(t);
    case DType::I32: return numpy_of<int32_t>(t);
    case DType::I64: return numpy_of<int64_t>(t);
    case DType::Bool: return numpy_of<bool>(t);
    default: throw py::type_error(std::string("an output of dtype ") + dtype_name(t.dtype) + " has no numpy type");
  }
}

// Per model input, a list of (name, array): calibration or compare samples.
std::vector<std::vector<CalibrationArray>> to_samples(const py::list& per_input) {
  std::vector<std::vector<CalibrationArray>> r;
  for (const py::handle& input : per_input) {
    std::vector<CalibrationArray> arrays;
    for (const py::handle& item : input.cast<py::list>()) {
      const py::tuple t = item.cast<py::tuple>();
      arrays.push_back(to_array(t[1], t[0].cast<std::string>()));
    }
    r.push_back(std::move(arrays));
  }
  return r;
}

QuantOptionsArgs quant_options(const std::string& observer, py::object percentile, const std::string& bias_correction,
                               long threads) {
  QuantOptionsArgs q;
  q.observer = observer;
  q.percentile_given = !percentile.is_none();
  if (q.percentile_given) {
    q.percentile = percentile.cast<double>();
    if (!(q.percentile > 50 && q.percentile < 100))
      throw CommandFailure{g_invalid_argument, "percentile must be a number in (50, 100), got " +
                                                   py::str(percentile).cast<std::string>()};
  }
  q.bias_correction = bias_correction;
  if (threads < 1) throw CommandFailure{g_invalid_argument, "threads must be at least 1"};
  q.threads = threads;
  return q;
}

// The model argument: a name (the path, or what names an in-memory model) and optional bytes.
struct Source {
  std::string name;
  std::string bytes;
  bool in_memory = false;
};
Source to_source(const std::string& name, const py::object& bytes) {
  Source s{name, "", !bytes.is_none()};
  if (s.in_memory) s.bytes = bytes.cast<std::string>();
  return s;
}

py::dict documented(const Json& doc) {
  // The same text the CLI writes, parsed by Python's json: the same keys, order and values.
  return py::module_::import("json").attr("loads")(json_text(doc));
}

}  // namespace

PYBIND11_MODULE(_neutron, m) {
  m.doc() = "neutron's command functions (use the neutron package, not this module)";
  g_error = PyErr_NewException("neutron.NeutronError", PyExc_RuntimeError, nullptr);
  py::tuple value_bases = py::make_tuple(py::handle(g_error), py::handle(PyExc_ValueError));
  g_invalid_argument = PyErr_NewException("neutron.InvalidArgumentError", value_bases.ptr(), nullptr);
  py::tuple nf_bases = py::make_tuple(py::handle(g_error), py::handle(PyExc_FileNotFoundError));
  g_not_found = PyErr_NewException("neutron.NotFoundError", nf_bases.ptr(), nullptr);
  m.attr("NeutronError") = py::handle(g_error);
  m.attr("InvalidArgumentError") = py::handle(g_invalid_argument);
  m.attr("NotFoundError") = py::handle(g_not_found);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CommandFailure& f) {
      PyErr_SetString(f.type, f.message.c_str());
    }
  });

  m.def("version", [] { return std::string(tool_version()); });
  m.def("set_verbosity", [](int v, bool progress) {
    g_verbosity = v;
    g_progress = progress;
  });
  g_progress = false;  // a library prints no progress unless asked
  m.def("verbosity", [] { return g_verbosity; });

  m.def("set_max_memory", [](const std::string& size) {
    uint64_t bytes = 0;
    if (!parse_byte_size(size, &bytes))
      throw CommandFailure{g_invalid_argument, "max_memory takes a positive size in bytes with an optional K, M, G "
                                               "or T suffix (powers of 1024), got '" + size + "'"};
    set_memory_budget(bytes);
  });
  m.def("max_memory", [] { return memory_budget(); });

  m.def("dump", [](const std::string& model, py::object model_bytes, bool after_passes) {
    DumpArgs a;
    a.model = model;
    a.after_passes = after_passes;
    const Source src = to_source(model, model_bytes);
    InMemory mem;
    if (src.in_memory) mem.model = &src.bytes;
    return run_unlocked([&] { return dump_command(a, mem); });
  });

  m.def("quantize",
        [](const std::string& model, py::object model_bytes, py::object samples, const std::string& calibration_path,
           const std::string& output, const std::string& observer, py::object percentile,
           const std::string& bias_correction, long threads) {
          QuantizeArgs a;
          a.model = model;
          a.inputs = calibration_path;
          a.output = output;
          a.quant = quant_options(observer, percentile, bias_correction, threads);
          const Source src = to_source(model, model_bytes);
          std::vector<std::vector<CalibrationArray>> arrays;
          if (!samples.is_none()) arrays = to_samples(samples.cast<py::list>());
          InMemory mem;
          if (src.in_memory) mem.model = &src.bytes;
          if (!samples.is_none()) mem.samples = &arrays;
          QuantizeResult r = run_unlocked([&] { return quantize_command(a, mem); });
          return py::make_tuple(py::bytes(r.onnx), documented(r.report), r.text);
        });

  m.def("compile",
        [](const std::string& model, py::object model_bytes, const std::string& target, const std::string& output,
           py::object samples, const std::string& calibration_path, const std::string& no_delegate,
           bool fetch_constants_to_sram, const std::string& weights_sram_budget, bool allow_oversize, bool profile,
           bool listing, const std::string& save_quantized,
           const std::string& observer, py::object percentile, const std::string& bias_correction, long threads) {
          CompileArgs a;
          a.model = model;
          a.target = target;
          a.output = output;
          a.inputs = calibration_path;
          a.no_delegate = no_delegate;
          a.fetch_constants_to_sram = fetch_constants_to_sram;
          a.weights_sram_budget = weights_sram_budget;
          a.allow_oversize = allow_oversize;
          a.profile = profile;
          a.listing = listing ? "listing" : "";
          a.save_quantized = save_quantized;
          a.quant = quant_options(observer, percentile, bias_correction, threads);
          const Source src = to_source(model, model_bytes);
          std::vector<std::vector<CalibrationArray>> arrays;
          if (!samples.is_none()) arrays = to_samples(samples.cast<py::list>());
          InMemory mem;
          if (src.in_memory) mem.model = &src.bytes;
          if (!samples.is_none()) mem.samples = &arrays;
          CompileResult r = run_unlocked([&] { return compile_command(a, mem); });
          return py::make_tuple(py::bytes(r.program), py::bytes(r.quantized_onnx), r.listing, documented(r.report),
                                r.text);
        });

  m.def("run",
        [](const std::string& model, py::object model_bytes, const py::list& inputs, const std::string& target,
           py::object labels, const std::string& labels_name, bool profile, long repeat, long warmup, long threads) {
          RunArgs a;
          a.model = model;
          a.target = target;
          a.profile = profile;
          a.repeat = repeat;
          a.warmup = warmup;
          a.threads = threads;
          a.labels = labels_name;
          if (repeat < 1 || warmup < 0 || threads < 1)
            throw CommandFailure{g_invalid_argument, "run: repeat and threads must be at least 1, warmup at least 0"};
          const Source src = to_source(model, model_bytes);
          std::vector<CalibrationArray> in;
          for (const py::handle& item : inputs) {
            const py::tuple t = item.cast<py::tuple>();
            in.push_back(to_array(t[1], t[0].cast<std::string>()));
          }
          CalibrationArray label_array;
          if (!labels.is_none()) label_array = to_array(labels, labels_name);
          InMemory mem;
          if (src.in_memory) mem.model = &src.bytes;
          mem.inputs = &in;
          if (!labels.is_none()) mem.labels = &label_array;
          RunResult r = run_unlocked([&] { return run_command(a, mem); });
          py::list outs;
          for (const TensorData& t : r.outputs) outs.append(to_numpy(t));
          return py::make_tuple(outs, r.output_names, documented(r.report), r.text);
        });

  m.def("compare",
        [](const std::string& reference, py::object reference_bytes, const std::string& test, py::object test_bytes,
           py::object samples, const std::string& inputs_path, py::object labels, const std::string& labels_name,
           const std::string& target, long threads) {
          CompareArgs a;
          a.reference = reference;
          a.test = test;
          a.inputs = inputs_path;
          a.labels = labels_name;
          a.target = target;
          a.threads = threads;
          if (threads < 1) throw CommandFailure{g_invalid_argument, "compare: threads must be at least 1"};
          const Source ref = to_source(reference, reference_bytes), tst = to_source(test, test_bytes);
          std::vector<std::vector<CalibrationArray>> arrays;
          if (!samples.is_none()) arrays = to_samples(samples.cast<py::list>());
          CalibrationArray label_array;
          if (!labels.is_none()) label_array = to_array(labels, labels_name);
          InMemory mem;
          if (ref.in_memory) mem.model = &ref.bytes;
          if (tst.in_memory) mem.test_model = &tst.bytes;
          if (!samples.is_none()) mem.samples = &arrays;
          if (!labels.is_none()) mem.labels = &label_array;
          CompareResult r = run_unlocked([&] { return compare_command(a, mem); });
          return py::make_tuple(documented(r.report), r.text);
        });

  m.def("inspect", [](const std::string& program, py::object program_bytes) {
    InspectArgs a;
    a.program = program;
    const Source src = to_source(program, program_bytes);
    InMemory mem;
    if (src.in_memory) mem.model = &src.bytes;
    InspectResult r = run_unlocked([&] { return inspect_command(a, mem); });
    return py::make_tuple(documented(r.report), r.text);
  });

  m.def("supported_ops", [](const std::string& target) {
    SupportedOpsArgs a;
    a.target = target;
    SupportedOpsResult r = run_unlocked([&] { return supported_ops_command(a); });
    return py::make_tuple(documented(r.report), r.markdown);
  });
}
