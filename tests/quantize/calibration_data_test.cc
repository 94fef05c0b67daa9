// Calibration data loading: every accepted layout, and one test per bad input checking its message.
#include "quantize/calibration_data.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "core/npy.h"
#include "test_util.h"
#include "util/npy_bytes.h"

namespace neutron {
namespace {

using testing::make_temp_dir;

// Values that identify their position: sample s, element e -> 1000 s + e (+ offset).
TensorData numbered(Shape shape, float offset = 0) {
  TensorData t(DType::F32, shape);
  const int64_t per = shape.empty() ? 1 : t.count() / shape[0];
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = float(1000 * (i / per) + i % per) + offset;
  return t;
}

void save(const std::string& path, const TensorData& t) { ASSERT_TRUE(write_npy(path, t).ok()) << path; }
void make_dir(const std::string& path) { ASSERT_EQ(mkdir(path.c_str(), 0755), 0) << path; }

const ModelInput kImage{"input", DType::F32, {1, 3, 4, 4}};

// Checks that `set` sample `s` of input `k` holds numbered() values for sample `expect_index` of
// an array made with `offset`.
void expect_sample(const CalibrationSet& set, int64_t s, size_t k, int64_t expect_index, float offset = 0) {
  TensorData t = set.tensor(s, k);
  EXPECT_EQ(t.shape, set.inputs()[k].shape);
  EXPECT_EQ(t.dtype, set.inputs()[k].dtype);
  EXPECT_EQ(t.data<float>()[0], float(1000 * expect_index) + offset) << "sample " << s << " input " << k;
  EXPECT_EQ(t.data<float>()[t.count() - 1], float(1000 * expect_index + t.count() - 1) + offset);
}

StatusOr<CalibrationSet> load(const std::string& path, std::vector<ModelInput> inputs = {kImage}) {
  return load_calibration_data(path, inputs);
}

// The error message must contain every piece.
void expect_error(const StatusOr<CalibrationSet>& r, std::vector<std::string> pieces, Error code = Error::InvalidArgument) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << pieces[0] << "'";
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  for (const std::string& p : pieces)
    EXPECT_NE(r.status().message().find(p), std::string::npos) << "'" << p << "' not in: " << r.status().message();
}

// ---- accepted layouts -----------------------------------------------------------------------

TEST(CalibrationData, OneFileStackedOnTheBatchAxis) {
  const std::string d = make_temp_dir();
  save(d + "/calib.npy", numbered({5, 3, 4, 4}));
  auto set = load(d + "/calib.npy");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 5);
  for (int64_t s = 0; s < 5; ++s) expect_sample(*set, s, 0, s);
  EXPECT_EQ(set->origin(3, 0), d + "/calib.npy sample 3");
}

TEST(CalibrationData, OneFileWithAnExplicitSampleAxis) {
  const std::string d = make_temp_dir();
  save(d + "/calib.npy", numbered({3, 1, 3, 4, 4}));
  auto set = load(d + "/calib.npy");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 3);
  expect_sample(*set, 2, 0, 2);
}

TEST(CalibrationData, InputWithBatchLargerThanOneNeedsTheSampleAxis) {
  const std::string d = make_temp_dir();
  const ModelInput in{"x", DType::F32, {2, 5}};
  save(d + "/ok.npy", numbered({4, 2, 5}));
  auto set = load(d + "/ok.npy", {in});
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->size(), 4);
  save(d + "/bad.npy", numbered({4, 5}));
  expect_error(load(d + "/bad.npy", {in}), {"bad.npy", "shape [4,5]", "input 'x' of shape [2,5]", "expected [N,2,5] for N"});
}

TEST(CalibrationData, FolderOfFilesInNameOrder) {
  const std::string d = make_temp_dir();
  // Written out of order; 1- and 2-sample files mixed; one file with exactly the input shape.
  save(d + "/0002.npy", numbered({2, 3, 4, 4}, 0.5f));
  save(d + "/0001.npy", numbered({1, 3, 4, 4}, 0.25f));
  save(d + "/0010.npy", numbered({1, 1, 3, 4, 4}, 0.75f));
  std::ofstream(d + "/README.txt") << "not data";
  save(d + "/.hidden.npy", numbered({1, 3, 4, 4}));
  auto set = load(d);
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 4);
  expect_sample(*set, 0, 0, 0, 0.25f);
  expect_sample(*set, 1, 0, 0, 0.5f);
  expect_sample(*set, 2, 0, 1, 0.5f);
  expect_sample(*set, 3, 0, 0, 0.75f);
  EXPECT_EQ(set->origin(2, 0), d + "/0002.npy sample 1");
}

TEST(CalibrationData, SeveralInputsAsFilesAndFolders) {
  const std::string d = make_temp_dir();
  const ModelInput ids{"ids", DType::I64, {1, 6}}, mask{"mask", DType::F32, {1, 6}}, img{"img/0", DType::F32, {1, 2}};
  TensorData id_data(DType::I64, {3, 6});
  for (int64_t i = 0; i < 18; ++i) id_data.data<int64_t>()[i] = i;
  save(d + "/ids.npy", id_data);
  make_dir(d + "/mask");
  save(d + "/mask/a.npy", numbered({2, 6}));
  save(d + "/mask/b.npy", numbered({1, 6}, 0.5f));
  save(d + "/img_0.npy", numbered({3, 2}));  // '/' in the name is written '_'
  auto set = load(d, {ids, mask, img});
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 3);
  std::vector<TensorData> s2 = set->sample(2);
  ASSERT_EQ(s2.size(), 3u);
  EXPECT_EQ(s2[0].dtype, DType::I64);
  EXPECT_EQ(s2[0].data<int64_t>()[0], 12);
  expect_sample(*set, 2, 1, 0, 0.5f);
  expect_sample(*set, 1, 2, 1);
}

TEST(CalibrationData, OneInputMayUseItsNameInAFolder) {
  const std::string d = make_temp_dir();
  save(d + "/input.npy", numbered({2, 3, 4, 4}));
  auto set = load(d);
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->size(), 2);
}

TEST(CalibrationData, InMemoryArrays) {
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({"batch0", numbered({2, 3, 4, 4})});
  arrays[0].push_back({"batch1", numbered({3, 3, 4, 4}, 0.5f)});
  auto set = make_calibration_set({kImage}, std::move(arrays));
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 5);
  expect_sample(*set, 4, 0, 2, 0.5f);
  EXPECT_EQ(set->origin(4, 0), "batch1 sample 2");
}

// ---- bad input: one test each, checking the message -----------------------------------------

TEST(CalibrationDataErrors, MissingPath) {
  expect_error(load("/nonexistent/calib.npy"), {"/nonexistent/calib.npy", "no such file or folder"}, Error::NotFound);
}

TEST(CalibrationDataErrors, WrongShape) {
  const std::string d = make_temp_dir();
  save(d + "/calib.npy", numbered({4, 3, 5, 4}));
  expect_error(load(d + "/calib.npy"),
               {"calib.npy", "shape [4,3,5,4]", "input 'input' of shape [1,3,4,4]", "[N,1,3,4,4] or [N,3,4,4]"});
}

TEST(CalibrationDataErrors, WrongDtype) {
  const std::string d = make_temp_dir();
  save(d + "/calib.npy", TensorData(DType::I32, {2, 3, 4, 4}));
  expect_error(load(d + "/calib.npy"), {"calib.npy", "input 'input' takes f32 data, the file holds i32"});
}

TEST(CalibrationDataErrors, NoSamplesInFile) {
  const std::string d = make_temp_dir();
  save(d + "/calib.npy", TensorData(DType::F32, {0, 3, 4, 4}));
  expect_error(load(d + "/calib.npy"), {"calib.npy", "holds no samples for input 'input'", "[0,3,4,4]"});
}

TEST(CalibrationDataErrors, EmptyFolder) {
  const std::string d = make_temp_dir();
  std::ofstream(d + "/notes.txt") << "x";
  expect_error(load(d), {d, "no .npy files for input 'input'"});
}

TEST(CalibrationDataErrors, NaNNamesFileSampleInputAndElement) {
  const std::string d = make_temp_dir();
  TensorData t = numbered({20, 3, 4, 4});
  const int64_t per = 48;
  t.data<float>()[17 * per + 30] = std::numeric_limits<float>::quiet_NaN();
  save(d + "/calib.npy", t);
  expect_error(load(d + "/calib.npy"), {"calib.npy: sample 17 of input 'input' contains NaN at element 30 (index [0,1,3,2])"});
}

TEST(CalibrationDataErrors, InfinitiesInAFolderFile) {
  const std::string d = make_temp_dir();
  save(d + "/a.npy", numbered({2, 3, 4, 4}));
  TensorData t = numbered({3, 3, 4, 4});
  t.data<float>()[48 * 2 + 5] = -std::numeric_limits<float>::infinity();
  save(d + "/b.npy", t);
  expect_error(load(d), {d + "/b.npy: sample 2 of input 'input' contains -Inf at element 5"});
  t.data<float>()[48 * 2 + 5] = std::numeric_limits<float>::infinity();
  save(d + "/b.npy", t);
  expect_error(load(d), {"sample 2 of input 'input' contains +Inf at element 5"});
}

TEST(CalibrationDataErrors, SingleFileForSeveralInputs) {
  const std::string d = make_temp_dir();
  save(d + "/calib.npy", numbered({2, 3, 4, 4}));
  expect_error(load(d + "/calib.npy", {kImage, {"mask", DType::F32, {1, 4}}}),
               {"calib.npy", "the model has 2 inputs ('input', 'mask')", "NAME.npy"});
}

TEST(CalibrationDataErrors, MissingInputInFolder) {
  const std::string d = make_temp_dir();
  save(d + "/input.npy", numbered({2, 3, 4, 4}));
  expect_error(load(d, {kImage, {"mask", DType::F32, {1, 4}}}),
               {"no data for input 'mask'", "mask.npy or a folder mask/", "inputs: 'input', 'mask'"});
}

TEST(CalibrationDataErrors, StrayFileNamingNoInput) {
  const std::string d = make_temp_dir();
  save(d + "/input.npy", numbered({2, 3, 4, 4}));
  save(d + "/mask.npy", numbered({2, 4}));
  save(d + "/maks.npy", numbered({2, 4}));
  expect_error(load(d, {kImage, {"mask", DType::F32, {1, 4}}}), {"maks.npy does not name a model input"});
}

TEST(CalibrationDataErrors, BothFileAndFolderForOneInput) {
  const std::string d = make_temp_dir();
  save(d + "/input.npy", numbered({2, 3, 4, 4}));
  make_dir(d + "/input");
  expect_error(load(d), {"both input.npy and input/ exist for input 'input'"});
}

TEST(CalibrationDataErrors, EmptyInputFolder) {
  const std::string d = make_temp_dir();
  save(d + "/mask.npy", numbered({2, 4}));
  make_dir(d + "/input");
  expect_error(load(d, {kImage, {"mask", DType::F32, {1, 4}}}), {d + "/input: no .npy files for input 'input'"});
}

TEST(CalibrationDataErrors, DifferentSampleCounts) {
  const std::string d = make_temp_dir();
  save(d + "/input.npy", numbered({3, 3, 4, 4}));
  save(d + "/mask.npy", numbered({2, 4}));
  expect_error(load(d, {kImage, {"mask", DType::F32, {1, 4}}}),
               {"different numbers of samples", "'input' has 3", "'mask' has 2", "mask.npy"});
}

TEST(CalibrationDataErrors, Float64FileGetsAHint) {
  const std::string d = make_temp_dir();
  // A minimal '<f8' .npy written by hand (TensorData has no f64).
  const std::string bytes = testing::npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 4, 4), }", 48 * 8);
  std::ofstream(d + "/calib.npy", std::ios::binary) << bytes;
  expect_error(load(d + "/calib.npy"), {"calib.npy", "astype(np.float32)"}, Error::NotSupported);
}

TEST(CalibrationDataErrors, NoInputsOrNoArrays) {
  expect_error(load_calibration_data("/tmp", {}), {"no inputs"});
  expect_error(make_calibration_set({kImage}, {{}}), {"no samples for input 'input'"});
}

}  // namespace
}  // namespace neutron
