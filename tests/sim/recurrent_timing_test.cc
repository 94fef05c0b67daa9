// Timing of the recurrent kernel call (opcode 40): per step and batch row, the G*H gate rows on the
// MAC array plus the gate arithmetic on the vector unit; the weights are read once per call.
#include <gtest/gtest.h>

#include "npu/microcode_reader.h"
#include "npu/microcode_writer.h"
#include "sim/timing.h"

namespace neutron::sim {
namespace {

using npu::ElemType;
using npu::Region;

KernelTiming time_recurrent(const SimConfig& cfg, int cell, int seq, int batch, int input, int hidden) {
  npu::MicrocodeWriter w;
  npu::RecurrentArgs a{};
  a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, seq, batch, input});
  a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {seq, 1, batch, hidden});
  a.output_c = UINT32_MAX;
  const size_t gh = size_t(cell ? 4 : 3) * size_t(hidden);
  a.weights_offset = w.reserve_weights(gh * size_t(input + hidden));
  a.params_offset = w.reserve_weights(gh * 8 + (2 * gh + 3) * 8);
  a.tables_offset = w.reserve_weights(2 * 513 * 2);
  a.initial_h_offset = a.initial_c_offset = UINT32_MAX;
  a.cell = cell;
  a.seq = seq;
  a.batch = batch;
  a.input_size = input;
  a.hidden = hidden;
  w.append(npu::Opcode::kRecurrent, a);
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  auto img = w.finish();
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  npu::MicrocodeView v;
  const npu::ValidationResult r =
      npu::validate_microcode(img->microcode.data(), img->microcode.size(), img->weights.size(), &v);
  EXPECT_TRUE(r.ok()) << r.message;
  KernelTiming rec[2];
  estimate_timing(cfg, v, rec, 2);
  return rec[0];
}

TEST(RecurrentTiming, MacsComputeAndJobsFollowTheShape) {
  SimConfig cfg;
  cfg.num_pipes = 8;
  cfg.num_macs = 8;
  cfg.vector_elements_per_cycle = 8;
  // GRU 49 steps, input 10, hidden 64: 192 rows of 74 MACs a step.
  const KernelTiming k = time_recurrent(cfg, 0, 49, 1, 10, 64);
  EXPECT_EQ(k.macs, uint64_t(49) * 192 * 74);
  EXPECT_EQ(k.jobs, 49u);
  EXPECT_EQ(k.compute_cycles, uint64_t(49) * (24 * 10 + 192));  // ceil(192/8) * ceil(74/8) + 8 * 192 / 8
  EXPECT_GT(k.cycles, k.compute_cycles);
  // Monotone in the sequence length, the hidden size and the cell (LSTM has 4 gates).
  EXPECT_GT(time_recurrent(cfg, 0, 98, 1, 10, 64).cycles, k.cycles);
  EXPECT_GT(time_recurrent(cfg, 0, 49, 1, 10, 128).cycles, k.cycles);
  EXPECT_GT(time_recurrent(cfg, 1, 49, 1, 10, 64).cycles, k.cycles);
}

}  // namespace
}  // namespace neutron::sim
