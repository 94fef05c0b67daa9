#include "quantize/calibration_data.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/memory_budget.h"
#include "core/npy.h"

namespace neutron {
namespace fs = std::filesystem;
namespace {

std::string dims_text(Shape::const_iterator begin, Shape::const_iterator end) {
  std::string r;
  for (auto it = begin; it != end; ++it) r += "," + std::to_string(*it);
  return r;
}

std::string input_list(const std::vector<ModelInput>& inputs) {
  std::string r;
  for (size_t i = 0; i < inputs.size(); ++i) r += (i ? ", '" : "'") + inputs[i].name + "'";
  return r;
}

// The number of samples `a` holds for input `in` (see the layout rules in the header).
StatusOr<int64_t> sample_count(const CalibrationArray& a, const ModelInput& in) {
  const Shape& s = a.data.shape;
  const Shape& m = in.shape;
  CHECK_OR_RETURN(a.data.dtype == in.dtype, Error::InvalidArgument, a.origin, ": input '", in.name, "' takes ",
                  dtype_name(in.dtype), " data, the file holds ", dtype_name(a.data.dtype));
  const bool sample_axis = s.size() == m.size() + 1 && std::equal(m.begin(), m.end(), s.begin() + 1);
  const bool batch_axis = !m.empty() && m[0] == 1 && s.size() == m.size() && std::equal(m.begin() + 1, m.end(), s.begin() + 1);
  if (!sample_axis && !batch_axis) {
    std::string expected = "[N" + dims_text(m.begin(), m.end()) + "]";
    if (!m.empty() && m[0] == 1) expected += " or [N" + dims_text(m.begin() + 1, m.end()) + "]";
    return error(Error::InvalidArgument, a.origin, ": shape ", shape_str(s), " does not fit input '", in.name,
                 "' of shape ", shape_str(m), ": expected ", expected, " for N samples");
  }
  CHECK_OR_RETURN(s[0] > 0, Error::InvalidArgument, a.origin, ": holds no samples for input '", in.name, "' (shape ",
                  shape_str(s), ")");
  return s[0];
}

std::string index_text(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] > 0) {
      idx[d] = flat % shape[d];
      flat /= shape[d];
    }
  }
  return str_cat(idx);
}

Status check_finite(const CalibrationArray& a, const ModelInput& in, int64_t samples) {
  if (a.data.dtype != DType::F32) return Status::OK();
  const int64_t per_sample = num_elements(in.shape);
  const float* x = a.data.data<float>();
  const int64_t n = samples * per_sample;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(x[i])) continue;
    const char* what = std::isnan(x[i]) ? "NaN" : (x[i] > 0 ? "+Inf" : "-Inf");
    const int64_t element = i % per_sample;
    return error(Error::InvalidArgument, a.origin, ": sample ", i / per_sample, " of input '", in.name, "' contains ",
                 what, " at element ", element, " (index ", index_text(element, in.shape), ")");
  }
  return Status::OK();
}

// The whole calibration set is held in memory: each file's size is added to `total` and held
// against the memory budget before the file is read.
StatusOr<CalibrationArray> read_array(const std::string& path, uint64_t* total) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec) {
    *total += size;
    RETURN_IF_ERROR(check_memory_budget(*total, path + ": the calibration data up to this file"));
  }
  auto t = read_npy(path);
  if (!t.ok()) {
    Status s = t.status();
    if (s.message().find("'<f8'") != std::string::npos)
      return Status(s.code(), s.message() + "; save calibration data as float32: np.save(path, x.astype(np.float32))");
    return s;
  }
  return CalibrationArray{path, std::move(t).value()};
}

bool is_npy_name(const std::string& name) {
  return name.size() > 4 && name[0] != '.' && name.compare(name.size() - 4, 4, ".npy") == 0;
}

// The .npy files of a folder, in byte-wise name order.
StatusOr<std::vector<std::string>> list_npy(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_npy_name(name) && it->is_regular_file(ec)) names.push_back(name);
  }
  CHECK_OR_RETURN(!ec, Error::IoError, dir, ": cannot list folder: ", ec.message());
  std::sort(names.begin(), names.end());
  for (std::string& n : names) n = (fs::path(dir) / n).string();
  return names;
}

StatusOr<std::vector<CalibrationArray>> read_folder(const std::string& dir, const std::string& input_name,
                                                    uint64_t* total) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, list_npy(dir));
  CHECK_OR_RETURN(!files.empty(), Error::InvalidArgument, dir, ": no .npy files for input '", input_name, "'");
  std::vector<CalibrationArray> arrays;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(CalibrationArray a, read_array(f, total));
    arrays.push_back(std::move(a));
  }
  return arrays;
}

std::string file_stem(const std::string& input_name) {
  std::string s = input_name;
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

}  // namespace

TensorData CalibrationSet::tensor(int64_t sample, size_t input) const {
  const Ref& r = refs_[input][size_t(sample)];
  const TensorData& all = arrays_[input][r.array].data;
  TensorData t(all.dtype, inputs_[input].shape);
  if (!t.bytes.empty()) std::memcpy(t.bytes.data(), all.bytes.data() + size_t(r.index) * t.bytes.size(), t.bytes.size());
  return t;
}

std::vector<TensorData> CalibrationSet::sample(int64_t sample) const {
  std::vector<TensorData> r;
  for (size_t k = 0; k < inputs_.size(); ++k) r.push_back(tensor(sample, k));
  return r;
}

std::string CalibrationSet::origin(int64_t sample, size_t input) const {
  const Ref& r = refs_[input][size_t(sample)];
  return str_cat(arrays_[input][r.array].origin, " sample ", r.index);
}

StatusOr<CalibrationSet> make_calibration_set(const std::vector<ModelInput>& inputs,
                                              std::vector<std::vector<CalibrationArray>> arrays) {
  CHECK_OR_RETURN(!inputs.empty(), Error::InvalidArgument, "calibration data: the model has no inputs");
  CHECK_OR_RETURN(arrays.size() == inputs.size(), Error::InvalidArgument, "calibration data: ", arrays.size(),
                  " array lists for ", inputs.size(), " inputs");
  CalibrationSet set;
  set.inputs_ = inputs;
  set.refs_.resize(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    CHECK_OR_RETURN(!arrays[k].empty(), Error::InvalidArgument, "calibration data: no samples for input '",
                    inputs[k].name, "'");
    for (size_t j = 0; j < arrays[k].size(); ++j) {
      ASSIGN_OR_RETURN(int64_t n, sample_count(arrays[k][j], inputs[k]));
      RETURN_IF_ERROR(check_finite(arrays[k][j], inputs[k], n));
      // An input with no elements lets a tiny file claim any number of samples; each costs an index entry.
      int64_t refs = 0, ref_bytes = 0;
      CHECK_OR_RETURN(checked_add(int64_t(set.refs_[k].size()), n, &refs) &&
                          checked_mul(refs, int64_t(sizeof(CalibrationSet::Ref)), &ref_bytes),
                      Error::InvalidArgument, arrays[k][j].origin, ": too many samples (", n, ")");
      RETURN_IF_ERROR(check_memory_budget(uint64_t(ref_bytes), arrays[k][j].origin,
                                          str_cat("an index of ", refs, " samples")));
      for (int64_t i = 0; i < n; ++i) set.refs_[k].push_back({uint32_t(j), i});
    }
  }
  set.samples_ = int64_t(set.refs_[0].size());
  for (size_t k = 1; k < inputs.size(); ++k) {
    if (int64_t(set.refs_[k].size()) == set.samples_) continue;
    return error(Error::InvalidArgument, "calibration data: inputs have different numbers of samples: '",
                 inputs[0].name, "' has ", set.samples_, " (", arrays[0][0].origin, arrays[0].size() > 1 ? ", ..." : "",
                 "), '", inputs[k].name, "' has ", set.refs_[k].size(), " (", arrays[k][0].origin,
                 arrays[k].size() > 1 ? ", ..." : "", ")");
  }
  set.arrays_ = std::move(arrays);
  return set;
}

StatusOr<CalibrationSet> load_calibration_data(const std::string& path, const std::vector<ModelInput>& inputs) {
  CHECK_OR_RETURN(!inputs.empty(), Error::InvalidArgument, path, ": the model has no inputs to calibrate");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  CHECK_OR_RETURN(fs::exists(st), Error::NotFound, path, ": no such file or folder");
  std::vector<std::vector<CalibrationArray>> arrays(inputs.size());
  uint64_t total = 0;

  if (fs::is_regular_file(st)) {
    CHECK_OR_RETURN(inputs.size() == 1, Error::InvalidArgument, path, ": the model has ", inputs.size(), " inputs (",
                    input_list(inputs), "); give a folder holding NAME.npy or a folder NAME/ for each input");
    ASSIGN_OR_RETURN(CalibrationArray a, read_array(path, &total));
    arrays[0].push_back(std::move(a));
    return make_calibration_set(inputs, std::move(arrays));
  }
  CHECK_OR_RETURN(fs::is_directory(st), Error::InvalidArgument, path, ": not a file or folder");

  // Per-input layout: DIR/NAME.npy or DIR/NAME/.
  std::vector<int> found(inputs.size(), 0);  // 1: NAME.npy, 2: NAME/
  size_t found_count = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const fs::path file = fs::path(path) / (file_stem(inputs[k].name) + ".npy");
    const fs::path dir = fs::path(path) / file_stem(inputs[k].name);
    const bool has_file = fs::is_regular_file(file, ec), has_dir = fs::is_directory(dir, ec);
    CHECK_OR_RETURN(!(has_file && has_dir), Error::InvalidArgument, path, ": both ", file.filename().string(), " and ",
                    dir.filename().string(), "/ exist for input '", inputs[k].name, "'; keep one");
    found[k] = has_file ? 1 : has_dir ? 2 : 0;
    found_count += found[k] != 0;
  }

  if (found_count == 0 && inputs.size() == 1) {  // one input: the folder's .npy files are its samples
    ASSIGN_OR_RETURN(arrays[0], read_folder(path, inputs[0].name, &total));
    return make_calibration_set(inputs, std::move(arrays));
  }
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::string stem = file_stem(inputs[k].name);
    CHECK_OR_RETURN(found[k] != 0, Error::InvalidArgument, path, ": no data for input '", inputs[k].name,
                    "': expected ", stem, ".npy or a folder ", stem, "/ (the model's inputs: ", input_list(inputs), ")");
  }
  // Anything else named like data is probably a misspelt input name.
  std::set<std::string> expected;
  for (size_t k = 0; k < inputs.size(); ++k) expected.insert(file_stem(inputs[k].name) + (found[k] == 1 ? ".npy" : ""));
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || expected.count(name)) continue;
    const bool dir = it->is_directory(ec);
    if (!dir && !is_npy_name(name)) continue;
    return error(Error::InvalidArgument, path, ": ", name, dir ? "/" : "", " does not name a model input (inputs: ",
                 input_list(inputs), ")");
  }
  for (size_t k = 0; k < inputs.size(); ++k) {
    const fs::path p = fs::path(path) / file_stem(inputs[k].name);
    if (found[k] == 1) {
      ASSIGN_OR_RETURN(CalibrationArray a, read_array(p.string() + ".npy", &total));
      arrays[k].push_back(std::move(a));
    } else {
      ASSIGN_OR_RETURN(arrays[k], read_folder(p.string(), inputs[k].name, &total));
    }
  }
  return make_calibration_set(inputs, std::move(arrays));
}

}  // namespace neutron
