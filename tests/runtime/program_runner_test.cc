// ProgramRunner's API on real programs (CifarNet, FashionMNIST): arena_bytes_needed() is exactly
// enough from any start address, less is OutOfMemory and leaves nothing loaded, the load / run /
// reload / unload lifecycle, two programs loaded at once, the neutronInit() requirement for Neutron
// delegates, and LoadOptions::delegates_on_cpu giving the same bits. Bad files:
// program_fuzz_test.cc; fixtures end to end: tests/program/program_file_test.cc.
#include <gtest/gtest.h>

#include <cstdio>

#include "util/program_util.h"

namespace neutron {
namespace {

using runtime::ProgramRunner;
using runtime::ProgramStatus;
using testing::fixture_program;
using testing::FixtureProgram;
using testing::load_program;

std::vector<TensorData> first_inputs(const std::string& fixture, int64_t n) {
  const TensorData all = testing::load_npy_or_die(testing::fixture_path(fixture, "inputs.npy"));
  std::vector<TensorData> out;
  for (int64_t k = 0; k < n && !all.shape.empty() && k < all.shape[0]; ++k) out.push_back(testing::sample(all, k));
  return out;
}

bool same_bytes(const TensorData& a, const TensorData& b) { return a.shape == b.shape && a.bytes == b.bytes; }

// load() takes exactly what arena_bytes_needed() says, from any start address; less is
// OutOfMemory (never a crash), and a failed load leaves nothing loaded.
TEST(ProgramRunner, ArenaSizeAndAlignment) {
  testing::init_neutron_driver();
  for (const char* target : {"imxrt700", "cpu"}) {
    SCOPED_TRACE(target);
    const FixtureProgram& fp = fixture_program("cifarnet", target);
    ASSERT_TRUE(fp.error.empty()) << fp.error;
    const std::vector<uint8_t>& bytes = fp.file.bytes;
    testing::ExactBuffer file(bytes.data(), bytes.size());
    size_t need = 0;
    ProgramStatus s = ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need);
    ASSERT_TRUE(s.ok()) << testing::describe(s);
    EXPECT_GE(need, fp.file.arena_bytes);
    std::printf("cifarnet %s: plan arena %llu bytes, arena_bytes_needed %zu bytes\n", target,
                (unsigned long long)fp.file.arena_bytes, need);

    const std::vector<TensorData> in = first_inputs("cifarnet", 1);
    std::vector<TensorData> want;
    for (size_t skew : {size_t(0), size_t(1), size_t(4), size_t(8), size_t(15)}) {
      SCOPED_TRACE(str_cat("arena start + ", skew));
      testing::ExactBuffer arena(need, skew);
      ProgramRunner r;
      s = r.load(file.data(), file.size(), arena.data(), arena.size());
      ASSERT_TRUE(s.ok()) << testing::describe(s);
      EXPECT_TRUE(r.loaded());
      EXPECT_LE(r.arena_used(), need);
      for (size_t i = 0; i < r.num_inputs(); ++i) {
        const auto* d = static_cast<const uint8_t*>(r.input(i).data);
        EXPECT_TRUE(d >= arena.data() && d + r.input(i).bytes <= arena.data() + arena.size());
      }
      std::vector<TensorData> out;
      s = testing::run_sample(r, in, &out);
      ASSERT_TRUE(s.ok()) << testing::describe(s);
      if (want.empty()) want = out;
      EXPECT_TRUE(same_bytes(out[0], want[0]));
    }
    for (size_t size : {need - 1, need - 16, need / 2, size_t(fp.file.arena_bytes), size_t(64), size_t(1), size_t(0)}) {
      SCOPED_TRACE(str_cat("arena of ", size, " bytes"));
      testing::ExactBuffer arena(size == 0 ? 1 : size);
      ProgramRunner r;
      s = r.load(file.data(), file.size(), arena.data(), size);
      EXPECT_EQ(s.error, Error::OutOfMemory) << testing::describe(s);
      EXPECT_FALSE(r.loaded());
      EXPECT_NE(r.run().error, Error::Ok);
    }
    // A misaligned arena one byte short of `need` plus its skew.
    testing::ExactBuffer arena(need, 3);
    ProgramRunner r;
    s = r.load(file.data(), file.size(), arena.data(), need - 1);
    EXPECT_EQ(s.error, Error::OutOfMemory) << testing::describe(s);
    ProgramRunner none;
    EXPECT_EQ(none.load(file.data(), file.size(), nullptr, need).error, Error::InvalidArgument);
  }
}

TEST(ProgramRunner, Lifecycle) {
  const FixtureProgram& fp = fixture_program("fmnist_cnn", "imxrt700");
  ASSERT_TRUE(fp.error.empty()) << fp.error;
  ProgramRunner idle;
  EXPECT_FALSE(idle.loaded());
  EXPECT_EQ(idle.run().error, Error::InvalidArgument);
  EXPECT_EQ(idle.num_inputs(), 0u);
  EXPECT_EQ(idle.num_outputs(), 0u);
  EXPECT_STREQ(idle.tensor_name(0), "");

  const std::vector<TensorData> in = first_inputs("fmnist_cnn", 2);
  auto a = load_program(fp.file.bytes);
  auto b = load_program(fp.file.bytes);  // two programs loaded at once share the driver
  ASSERT_TRUE(a->status.ok()) << testing::describe(a->status);
  ASSERT_TRUE(b->status.ok()) << testing::describe(b->status);
  std::vector<TensorData> oa0, ob1, oa1, ob0;
  ASSERT_TRUE(testing::run_sample(a->runner, {in[0]}, &oa0).ok());
  ASSERT_TRUE(testing::run_sample(b->runner, {in[1]}, &ob1).ok());
  ASSERT_TRUE(testing::run_sample(a->runner, {in[1]}, &oa1).ok());
  ASSERT_TRUE(testing::run_sample(b->runner, {in[0]}, &ob0).ok());
  EXPECT_TRUE(same_bytes(oa0[0], ob0[0]));
  EXPECT_TRUE(same_bytes(oa1[0], ob1[0]));
  EXPECT_FALSE(same_bytes(oa0[0], oa1[0])) << "two different images, same logits?";

  // Reload in place, run again, unload.
  const ProgramStatus s = a->runner.load(a->file.data(), a->file.size(), a->arena.data(), a->arena.size());
  ASSERT_TRUE(s.ok()) << testing::describe(s);
  std::vector<TensorData> again;
  ASSERT_TRUE(testing::run_sample(a->runner, {in[0]}, &again).ok());
  EXPECT_TRUE(same_bytes(again[0], oa0[0]));
  a->runner.unload();
  EXPECT_FALSE(a->runner.loaded());
  EXPECT_EQ(a->runner.run().error, Error::InvalidArgument);
  a->runner.unload();  // idempotent
  EXPECT_EQ(a->runner.input(0).data, nullptr);
  EXPECT_EQ(a->runner.output(0).data, nullptr);
}

// The application calls neutronInit() before loading a program with Neutron delegates: without
// it, verify/load fail with an error; a CPU-only program needs no driver.
TEST(ProgramRunner, NeutronDelegatesNeedTheDriverInitialized) {
  const FixtureProgram& npu = fixture_program("cifarnet", "imxrt700");
  const FixtureProgram& cpu = fixture_program("cifarnet", "cpu");
  ASSERT_TRUE(npu.error.empty() && cpu.error.empty());
  testing::init_neutron_driver();
  ASSERT_EQ(neutronDeinit(), ENONE);
  {
    testing::ExactBuffer file(npu.file.bytes.data(), npu.file.bytes.size());
    size_t need = 0;
    const ProgramStatus s = ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need);
    EXPECT_FALSE(s.ok()) << "arena_bytes_needed succeeded without neutronInit()";
    if (!s.ok()) std::printf("without neutronInit: %s\n", testing::describe(s).c_str());
    testing::ExactBuffer arena(1 << 20);
    ProgramRunner r;
    EXPECT_FALSE(r.load(file.data(), file.size(), arena.data(), arena.size()).ok());
    EXPECT_FALSE(r.loaded());

    auto lc = load_program(cpu.file.bytes);
    EXPECT_TRUE(lc->status.ok()) << testing::describe(lc->status);
    std::vector<TensorData> out;
    if (lc->status.ok()) {
      EXPECT_TRUE(testing::run_sample(lc->runner, first_inputs("cifarnet", 1), &out).ok());
    }
  }
  ASSERT_EQ(neutronInit(), ENONE);
  auto ln = load_program(npu.file.bytes);
  EXPECT_TRUE(ln->status.ok()) << testing::describe(ln->status);
}

// LoadOptions::delegates_on_cpu (`neutron run PROGRAM --target cpu`): the delegates' payloads as CPU
// kernel calls, no delegate left, the same outputs bit for bit; a no-op for a --target cpu program.
TEST(ProgramRunner, DelegatesOnCpuGiveTheSameBits) {
  runtime::LoadOptions on_cpu;
  on_cpu.delegates_on_cpu = true;
  for (const char* fixture : {"cifarnet", "fmnist_cnn"})
    for (const char* target : {"imxrt700", "cpu"}) {
      SCOPED_TRACE(str_cat(fixture, " ", target));
      const FixtureProgram& fp = fixture_program(fixture, target);
      ASSERT_TRUE(fp.error.empty()) << fp.error;
      auto npu = load_program(fp.file.bytes);
      auto cpu = load_program(fp.file.bytes, on_cpu);
      ASSERT_TRUE(npu->status.ok()) << testing::describe(npu->status);
      ASSERT_TRUE(cpu->status.ok()) << testing::describe(cpu->status);
      EXPECT_TRUE(ProgramRunner::verify(cpu->file.data(), cpu->file.size(), on_cpu).ok());
      ASSERT_EQ(cpu->runner.num_instructions(), npu->runner.num_instructions());
      for (size_t i = 0; i < cpu->runner.num_instructions(); ++i)
        EXPECT_NE(cpu->runner.instruction_kind(i), runtime::InstructionKind::kDelegate) << "instruction " << i;
      for (const TensorData& x : first_inputs(fixture, 10)) {
        std::vector<TensorData> a, b;
        ASSERT_TRUE(testing::run_sample(npu->runner, {x}, &a).ok());
        const ProgramStatus s = testing::run_sample(cpu->runner, {x}, &b);
        ASSERT_TRUE(s.ok()) << testing::describe(s);
        ASSERT_EQ(a.size(), b.size());
        for (size_t o = 0; o < a.size(); ++o) EXPECT_TRUE(same_bytes(a[o], b[o])) << "output " << o;
      }
    }
}

}  // namespace
}  // namespace neutron
