#include "core/npy.h"

#include <gtest/gtest.h>

#include "util/npy_bytes.h"

namespace neutron {
namespace {

TEST(Npy, RoundTripsEveryDtype) {
  for (DType t : {DType::F32, DType::I8, DType::U8, DType::I16, DType::I32, DType::I64, DType::Bool}) {
    TensorData d(t, {2, 3});
    for (size_t i = 0; i < d.bytes.size(); ++i) d.bytes[i] = uint8_t(t == DType::Bool ? i % 2 : i * 7 + 1);
    auto back = parse_npy(serialize_npy(d), "mem");
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->dtype, t);
    EXPECT_EQ(back->shape, d.shape);
    EXPECT_EQ(back->bytes, d.bytes);
  }
}

TEST(Npy, ScalarAndOneDimShapes) {
  for (Shape s : {Shape{}, Shape{5}, Shape{1, 1, 1}}) {
    TensorData d(DType::F32, s);
    auto back = parse_npy(serialize_npy(d), "mem");
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->shape, s);
  }
}

TEST(Npy, HeaderIsSixtyFourByteAligned) {
  TensorData d(DType::I8, {3});
  std::string s = serialize_npy(d);
  EXPECT_EQ((s.size() - 3) % 64, 0u);
}

std::string with_header(const std::string& dict, size_t data_bytes) { return testing::npy_bytes(dict, data_bytes); }

TEST(Npy, RefusesFortranOrder) {
  auto r = parse_npy(with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16), "x.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("x.npy"), std::string::npos);
  EXPECT_NE(r.status().message().find("Fortran"), std::string::npos);
}

TEST(Npy, RefusesBigEndian) {
  auto r = parse_npy(with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8), "be.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("big-endian"), std::string::npos);
}

TEST(Npy, AcceptsByteTypesWithAnyByteOrderMark) {
  auto r = parse_npy(with_header("{'descr': '>i1', 'fortran_order': False, 'shape': (2,), }", 2), "b.npy");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->dtype, DType::I8);
}

TEST(Npy, RejectsTruncatedAndGarbage) {
  TensorData d(DType::F32, {4});
  std::string s = serialize_npy(d);
  EXPECT_FALSE(parse_npy(s.substr(0, s.size() - 1), "t.npy").ok());
  EXPECT_FALSE(parse_npy(s.substr(0, 9), "t.npy").ok());
  EXPECT_FALSE(parse_npy("hello world, not numpy", "t.npy").ok());
  EXPECT_FALSE(parse_npy(with_header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8), "c.npy").ok());
}

TEST(Npy, MissingFileNamesThePath) {
  auto r = read_npy("/nonexistent/file.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/file.npy"), std::string::npos);
}

}  // namespace
}  // namespace neutron
