// Timing model of the bilinear Resize (four taps per output element, its tap tables read as
// constants) against nearest on the same shapes, worked by hand from docs/npu-model.md.
#include <gtest/gtest.h>

#include "npu/npu_test_util.h"
#include "sim/timing.h"

namespace neutron::sim {
namespace {

using npu::ElemType;
using npu::Opcode;
using npu::Region;

KernelTiming time_resize(int mode) {
  npu::MicrocodeWriter w;
  npu::ResizeArgs a{};
  a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 4, 4, 8});
  a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 8, 8, 8});
  a.mode = mode;
  a.table_offset = w.reserve_weights(mode == 1 ? 8 + 12 * 16 : 4 * 16);
  w.append(Opcode::kResize, a);
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  auto img = w.finish();
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  npu::MicrocodeView v;
  const npu::ValidationResult r =
      npu::validate_microcode(img->microcode.data(), img->microcode.size(), img->weights.size(), &v);
  EXPECT_TRUE(r.ok()) << r.message;
  KernelTiming rec[2];
  SimConfig c;
  c.sram_bytes_per_cycle = 8;
  c.vector_elements_per_cycle = 8;
  c.kernel_overhead_cycles = 2000;
  c.job_overhead_cycles = 100;
  c.weights_memory = WeightsMemory::kSram;
  estimate_timing(c, v, rec, 2);
  return rec[0];
}

TEST(Timing, PinnedResizeBilinearAndNearest) {
  // 4x4x8 -> 8x8x8: 512 output elements, 8 rows.
  //   nearest:  compute 512 / 8 = 64;       memory (128 + 512) / 8 = 80
  //   bilinear: compute 4 * 512 / 8 = 256;  memory (128 + 512 + 8 + 12 * 16 table bytes) / 8 = 105
  const KernelTiming nearest = time_resize(0), bilinear = time_resize(1);
  EXPECT_EQ(nearest.compute_cycles, 64u);
  EXPECT_EQ(nearest.memory_cycles, 80u);
  EXPECT_EQ(bilinear.compute_cycles, 256u);
  EXPECT_EQ(bilinear.memory_cycles, 105u);
  EXPECT_EQ(bilinear.jobs, 8u);
  EXPECT_EQ(bilinear.cycles, 2000u + 8 * 100 + 256);
  EXPECT_GT(bilinear.cycles, nearest.cycles);
}

}  // namespace
}  // namespace neutron::sim
