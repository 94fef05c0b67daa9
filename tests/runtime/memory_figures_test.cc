// Weights stay where they are (issue 17): a loaded program's kernels read their weights in place
// from the program file, so the arena is the compile-time memory plan plus a small runtime state
// (memory_needed()); the host's repacked weights are host-only state in LoadOptions::host_state,
// never in the arena, and give the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "util/program_util.h"

namespace neutron {
namespace {

using runtime::MemoryFigures;
using runtime::ProgramRunner;
using runtime::ProgramStatus;
using testing::fixture_program;
using testing::FixtureProgram;

TensorData first_input(const std::string& fixture) {
  const TensorData all = testing::load_npy_or_die(testing::fixture_path(fixture, "inputs.npy"));
  return testing::sample(all, 0);
}

struct Case {
  const char* fixture;
  const char* target;
};

class DeviceArena : public ::testing::TestWithParam<Case> {};

TEST_P(DeviceArena, IsPlanPlusRuntimeStateAndInPlaceEqualsHostRepacked) {
  testing::init_neutron_driver();
  const Case c = GetParam();
  const FixtureProgram& fp = fixture_program(c.fixture, c.target);
  ASSERT_TRUE(fp.error.empty()) << fp.error;
  const std::vector<uint8_t>& bytes = fp.file.bytes;
  testing::ExactBuffer file(bytes.data(), bytes.size());
  MemoryFigures f;
  ProgramStatus s = ProgramRunner::memory_needed(file.data(), file.size(), &f);
  ASSERT_TRUE(s.ok()) << testing::describe(s);
  size_t need = 0;
  ASSERT_TRUE(ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need).ok());
  std::printf("%s %s: plan %zu + runtime state %zu = arena %zu bytes; host-only state %zu bytes; program %zu bytes\n",
              c.fixture, c.target, f.plan_bytes, f.runtime_bytes, f.arena_bytes, f.host_bytes, bytes.size());
  // The device arena is the plan plus the runtime state, and the runtime state is small: no weight
  // is copied into it (it was 10.0 MB for MobileNetV2 and 26.8 MB for ResNet-18 with repacks).
  EXPECT_EQ(f.plan_bytes, fp.file.arena_bytes);
  EXPECT_EQ(f.arena_bytes, f.plan_bytes + f.runtime_bytes);
  EXPECT_EQ(need, f.arena_bytes);
  EXPECT_LE(f.runtime_bytes, std::max<size_t>(f.plan_bytes / 10, 64 * 1024)) << "runtime state not small";
  EXPECT_LT(f.runtime_bytes, bytes.size() / 4) << "the runtime state looks like a copy of the weights";
  // The host's repacks exist (conv / FC weights) and stay out of the arena.
  EXPECT_GT(f.host_bytes, 0u);

  const std::vector<TensorData> in = {first_input(c.fixture)};
  std::vector<TensorData> device_out, host_out;
  {
    auto lp = testing::load_program(bytes.data(), bytes.size(), size_t(1) << 30, {}, /*host_state=*/false);
    ASSERT_TRUE(lp->status.ok()) << testing::describe(lp->status);
    EXPECT_LE(lp->runner.arena_used(), f.arena_bytes);
    // The figure is tight: alignment slack only (16 bytes per instruction at most, and the base's).
    EXPECT_LE(f.arena_bytes - lp->runner.arena_used(), 16 * lp->runner.num_instructions() + 16);
    EXPECT_EQ(lp->runner.host_used(), 0u);
    s = testing::run_sample(lp->runner, in, &device_out);
    ASSERT_TRUE(s.ok()) << testing::describe(s);
  }
  {
    auto lp = testing::load_program(bytes);
    ASSERT_TRUE(lp->status.ok()) << testing::describe(lp->status);
    EXPECT_LE(lp->runner.arena_used(), f.arena_bytes);
    EXPECT_GT(lp->runner.host_used(), 0u);
    EXPECT_LE(lp->runner.host_used(), f.host_bytes);
    s = testing::run_sample(lp->runner, in, &host_out);
    ASSERT_TRUE(s.ok()) << testing::describe(s);
  }
  ASSERT_EQ(device_out.size(), host_out.size());
  for (size_t k = 0; k < device_out.size(); ++k)
    EXPECT_TRUE(device_out[k].bytes == host_out[k].bytes) << "output " << k << ": in place differs from repacked";
}

// Host state too small: OutOfMemory before anything is prepared.
TEST(DeviceArenaHostState, TooSmallIsRefused) {
  testing::init_neutron_driver();
  const FixtureProgram& fp = fixture_program("cifarnet", "cpu");
  ASSERT_TRUE(fp.error.empty()) << fp.error;
  testing::ExactBuffer file(fp.file.bytes.data(), fp.file.bytes.size());
  MemoryFigures f;
  ASSERT_TRUE(ProgramRunner::memory_needed(file.data(), file.size(), &f).ok());
  testing::ExactBuffer arena(f.arena_bytes), host(f.host_bytes);
  runtime::LoadOptions o;
  o.host_state = host.data();
  o.host_state_bytes = f.host_bytes - 1;
  ProgramRunner r;
  EXPECT_EQ(r.load(file.data(), file.size(), arena.data(), arena.size(), o).error, Error::OutOfMemory);
  EXPECT_FALSE(r.loaded());
  o.host_state_bytes = f.host_bytes;
  EXPECT_TRUE(r.load(file.data(), file.size(), arena.data(), arena.size(), o).ok());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DeviceArena,
                         ::testing::Values(Case{"cifarnet", "imxrt700"}, Case{"cifarnet", "cpu"},
                                           Case{"mobilenet_v2", "imxrt700"}, Case{"mobilenet_v2", "cpu"},
                                           Case{"resnet18", "imxrt700"}, Case{"resnet18", "cpu"}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(i.param.fixture) + "_" + i.param.target;
                         });

}  // namespace
}  // namespace neutron
