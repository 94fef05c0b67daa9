// Calibration data against the memory budget (issue 13): the whole set is held in memory, so its
// files are counted before they are read, and a tiny file cannot claim an unbounded number of
// samples of an input with no elements.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/memory_budget.h"
#include "core/npy.h"
#include "quantize/calibration_data.h"
#include "test_util.h"

namespace neutron {
namespace {

using testing::make_temp_dir;

void expect_error(const StatusOr<CalibrationSet>& r, Error code, const std::string& text) {
  ASSERT_FALSE(r.ok()) << "expected: " << text;
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
}

TEST(CalibrationSizes, TheWholeSetIsHeldAgainstTheBudgetFileByFile) {
  const std::string d = make_temp_dir();
  const ModelInput in{"input", DType::F32, {1, 256}};
  ASSERT_TRUE(write_npy(d + "/0001.npy", TensorData(DType::F32, {2, 256})).ok());  // 2 KiB + header
  ASSERT_TRUE(write_npy(d + "/0002.npy", TensorData(DType::F32, {2, 256})).ok());
  {
    ScopedMemoryBudget budget(3 * 1024);
    expect_error(load_calibration_data(d, {in}), Error::OutOfMemory,
                 d + "/0002.npy: the calibration data up to this file claims 4.2 KiB, above the memory budget of 3.0 KiB");
  }
  auto ok = load_calibration_data(d, {in});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->size(), 4);
}

TEST(CalibrationSizes, AnEmptyInputCannotClaimUnboundedSamples) {
  // Shape [10^12, 0]: no data, so the file is valid, but each sample costs an index entry.
  const std::string d = make_temp_dir();
  const ModelInput in{"input", DType::F32, {1, 0}};
  ASSERT_TRUE(write_npy(d + "/calib.npy", TensorData(DType::F32, {1000000000000, 0})).ok());
  expect_error(load_calibration_data(d + "/calib.npy", {in}), Error::OutOfMemory,
               d + "/calib.npy claims 14.6 TiB (an index of 1000000000000 samples), above the memory budget");
  ASSERT_TRUE(write_npy(d + "/few.npy", TensorData(DType::F32, {3, 0})).ok());
  auto few = load_calibration_data(d + "/few.npy", {in});
  ASSERT_TRUE(few.ok()) << few.status().to_string();
  EXPECT_EQ(few->size(), 3);
}

}  // namespace
}  // namespace neutron
