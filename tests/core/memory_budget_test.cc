// Checked size arithmetic, the memory budget, the shared file reader, and the .npy reader on
// headers that claim more than the file holds (issue 13): every case fails before allocating.
#include "core/memory_budget.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <limits>

#include "core/npy.h"
#include "core/read_file.h"
#include "util/npy_bytes.h"

namespace neutron {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::string temp_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/neutron_memory_budget_testXXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

std::string write(const std::string& name, const std::string& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A version-1 .npy header with `shape_text` followed by `data_bytes` zero bytes.
std::string npy(const std::string& shape_text, size_t data_bytes, const std::string& descr = "<f4") {
  return testing::npy_bytes("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_text + ", }",
                            data_bytes);
}

void expect_error(const Status& s, Error code, const std::string& text) {
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find(text), std::string::npos) << "expected '" << text << "' in: " << s.message();
}

TEST(CheckedSize, MulAndAddRefuseOverflowAndNegatives) {
  int64_t r = -1;
  EXPECT_TRUE(checked_mul(3, 4, &r));
  EXPECT_EQ(r, 12);
  EXPECT_TRUE(checked_mul(0, kMax, &r));
  EXPECT_EQ(r, 0);
  EXPECT_FALSE(checked_mul(int64_t(1) << 32, int64_t(1) << 31, &r));
  EXPECT_FALSE(checked_mul(-1, 2, &r));
  EXPECT_TRUE(checked_add(kMax - 1, 1, &r));
  EXPECT_EQ(r, kMax);
  EXPECT_FALSE(checked_add(kMax, 1, &r));
}

TEST(CheckedSize, ElementCountOfAShapeThatWrapsInt64IsRefused) {
  // (2**61, 1, 3, 32, 32) wraps to 0 with plain int64 multiplication.
  const Shape wraps = {int64_t(1) << 61, 1, 3, 32, 32};
  int64_t n = -1;
  EXPECT_FALSE(checked_num_elements(wraps, &n));
  EXPECT_FALSE(checked_byte_size(DType::F32, {int64_t(1) << 62}, &n));  // elements fit, bytes do not
  EXPECT_FALSE(checked_num_elements({2, -3}, &n));
  EXPECT_TRUE(checked_num_elements({}, &n));
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(checked_num_elements({0, kMax}, &n));
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(checked_byte_size(DType::I16, {2, 3}, &n));
  EXPECT_EQ(n, 12);
}

TEST(MemoryBudget, ParsesSizesWithBinarySuffixes) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_byte_size("4096", &v));
  EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parse_byte_size("1k", &v));
  EXPECT_EQ(v, 1024u);
  EXPECT_TRUE(parse_byte_size("512M", &v));
  EXPECT_EQ(v, 512u << 20);
  EXPECT_TRUE(parse_byte_size("16G", &v));
  EXPECT_EQ(v, uint64_t(16) << 30);
  EXPECT_TRUE(parse_byte_size("2GiB", &v));
  EXPECT_EQ(v, uint64_t(2) << 30);
  EXPECT_TRUE(parse_byte_size("3GB", &v));
  EXPECT_EQ(v, uint64_t(3) << 30);
  EXPECT_TRUE(parse_byte_size("1T", &v));
  EXPECT_EQ(v, uint64_t(1) << 40);
  for (const char* bad : {"", "0", "G", "-1", "1.5G", "12Q", "99999999999999999999", "20000000T"})
    EXPECT_FALSE(parse_byte_size(bad, &v)) << bad;
}

TEST(MemoryBudget, FormatsBytes) {
  EXPECT_EQ(format_bytes(12), "12 bytes");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(uint64_t(4) << 30), "4.0 GiB");
}

TEST(MemoryBudget, DefaultIsGenerousAndBounded) {
  EXPECT_GE(default_memory_budget(), uint64_t(1) << 30);
  EXPECT_LE(default_memory_budget(), uint64_t(16) << 30);
}

TEST(MemoryBudget, AboveTheBudgetIsAnErrorNamingWhatAndHowToRaiseIt) {
  ScopedMemoryBudget budget(1 << 20);
  EXPECT_TRUE(check_memory_budget(1 << 20, "x").ok());
  expect_error(check_memory_budget((1 << 20) + 1, "x.npy: array"), Error::OutOfMemory,
               "x.npy: array claims 1.0 MiB, above the memory budget of 1.0 MiB; raise it with --max-memory");
  auto t = tensor_bytes_within_budget(DType::F32, {1024, 1024}, "model.onnx: initializer 'w'");
  ASSERT_FALSE(t.ok());
  expect_error(t.status(), Error::OutOfMemory,
               "model.onnx: initializer 'w' claims 4.0 MiB (f32 shape [1024,1024]), above the memory budget of 1.0 MiB");
  expect_error(tensor_bytes_within_budget(DType::F32, {int64_t(1) << 61, 8}, "t").status(), Error::InvalidArgument,
               "does not fit in 64 bits");
  auto ok = tensor_bytes_within_budget(DType::F32, {256}, "t");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), 1024u);
}

TEST(Messages, LongListsAreAbbreviated) {
  // A hostile model's pads or shape can hold millions of values; messages stay one short line.
  std::vector<int64_t> v(1000000, 7);
  const std::string m = str_cat("pads ", v);
  EXPECT_LT(m.size(), 200u);
  EXPECT_NE(m.find(",...,(1000000 values)]"), std::string::npos) << m;
  EXPECT_EQ(str_cat(std::vector<int>{1, 2, 3}), "[1,2,3]");
  const std::string s = shape_str(Shape(40, 1));
  EXPECT_NE(s.find(",...,(40 values)]"), std::string::npos) << s;
  EXPECT_EQ(shape_str({1, 3, 224, 224}), "[1,3,224,224]");
}

TEST(ReadFile, ADirectoryIsReportedAsOne) {
  expect_error(read_file(temp_dir()).status(), Error::InvalidArgument, temp_dir() + ": is a directory");
  expect_error(read_npy(temp_dir()).status(), Error::InvalidArgument, temp_dir() + ": is a directory");
  expect_error(read_file(temp_dir() + "/missing").status(), Error::NotFound, "/missing: no such file");
}

TEST(ReadFile, AFileAboveTheBudgetIsNotRead) {
  const std::string path = write("big.bin", std::string(4096, 'x'));
  {
    ScopedMemoryBudget budget(1024);
    expect_error(read_file(path).status(), Error::OutOfMemory, "big.bin: the file claims 4.0 KiB");
  }
  auto all = read_file(path);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4096u);
}

TEST(NpySizes, ElementCountThatWrapsInt64IsRefused) {
  // No data: with a wrapped count of 0 this passed the size check and was indexed out of bounds.
  const std::string bytes = npy("(2305843009213693952, 1, 3, 32, 32)", 0);
  for (auto r : {parse_npy(bytes, "wrap.npy"), read_npy(write("wrap.npy", bytes))}) {
    ASSERT_FALSE(r.ok());
    expect_error(r.status(), Error::InvalidArgument, "wrap.npy: not a valid .npy file: shape [2305843009213693952,1,3,32,32] has more elements than fit in 64 bits");
  }
  // Bytes (not elements) overflow.
  EXPECT_FALSE(parse_npy(npy("(4611686018427387904,)", 0), "b.npy").ok());
  // A dimension beyond int64.
  expect_error(parse_npy(npy("(99999999999999999999,)", 0), "big.npy").status(), Error::InvalidArgument,
               "malformed shape");
}

TEST(NpySizes, ClaimedSizeIsComparedWithTheFileBeforeAllocating) {
  // 128-byte files claiming 10^9 and 10^12 floats: refused by size, nothing of that size allocated.
  for (const char* shape : {"(1000000000,)", "(1000000000000,)", "(1000000, 1000000)"}) {
    const std::string bytes = npy(shape, 0);
    EXPECT_EQ(bytes.size(), 128u);
    auto r = read_npy(write("claim.npy", bytes));
    ASSERT_FALSE(r.ok()) << shape;
    expect_error(r.status(), Error::InvalidArgument, "claim.npy: not a valid .npy file: expected ");
    EXPECT_NE(r.status().message().find("found 0"), std::string::npos) << r.status().message();
    auto p = parse_npy(bytes, "claim.npy");
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find("found 0"), std::string::npos) << p.status().message();
  }
  // Too many bytes are as wrong as too few.
  expect_error(read_npy(write("long.npy", npy("(2,)", 12))).status(), Error::InvalidArgument,
               "expected 8 data bytes for shape [2], found 12");
}

TEST(NpySizes, AnArrayAboveTheBudgetNamesTheFile) {
  const std::string path = write("x.npy", npy("(16, 64)", 16 * 64 * 4));
  ScopedMemoryBudget budget(1024);
  expect_error(read_npy(path).status(), Error::OutOfMemory,
               "x.npy: array claims 4.0 KiB (f32 shape [16,64]), above the memory budget of 1.0 KiB; raise it with "
               "--max-memory");
}

TEST(NpySizes, HugeHeaderLengthIsRefused) {
  // Version 2 with a 4 GiB header length in a tiny file.
  std::string b = "\x93NUMPY";
  b += char(2);
  b += char(0);
  b += std::string("\xff\xff\xff\xff", 4);
  b += "{}";
  expect_error(parse_npy(b, "h.npy").status(), Error::InvalidArgument, "h.npy: not a valid .npy file: header of");
  expect_error(read_npy(write("h.npy", b)).status(), Error::InvalidArgument, "header of");
  // A plausible length past the end of the file.
  b[8] = 100;
  b[9] = b[10] = b[11] = 0;
  expect_error(read_npy(write("h2.npy", b)).status(), Error::InvalidArgument, "truncated header");
}

TEST(NpySizes, ReadsGoodFilesUnchanged) {
  TensorData d(DType::I16, {3, 5});
  for (size_t i = 0; i < d.bytes.size(); ++i) d.bytes[i] = uint8_t(i * 13 + 1);
  const std::string path = temp_dir() + "/good.npy";
  ASSERT_TRUE(write_npy(path, d).ok());
  auto r = read_npy(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->shape, d.shape);
  EXPECT_EQ(r->bytes, d.bytes);
  // Scalars and empty arrays.
  for (const Shape& s : {Shape{}, Shape{0}, Shape{2, 0, 3}}) {
    ASSERT_TRUE(write_npy(path, TensorData(DType::F32, s)).ok());
    auto e = read_npy(path);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    EXPECT_EQ(e->shape, s);
  }
}

}  // namespace
}  // namespace neutron
