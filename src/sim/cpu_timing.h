// Cycle model of the host Cortex-M33 running CPU kernel calls (the CpuKernels instructions of a
// program, the edge Quantize/Dequantize and a delegate's NCHW<->NHWC conversions). Like the NPU
// timing model (sim/timing.h) it reads only shapes and args, never tensor values, so compile and
// run give the same numbers. docs/cpu-model.md states every parameter with its source or
// assumption; in short, per kernel call:
//
//   cycles = call_overhead
//          + MACs * cycles_per_mac(kind)       conv / depthwise / FC-matmul inner loops (SMLAD)
//          + im2col elements * im2col_cycles   int8 -> int16 expansion before the SMLAD loops
//          + outputs * requant_cycles          bias, fixed-point multiplier, clamp, store
//          + elements * per_element(kind)      elementwise, tables, softmax, norms, gathers
//          + bytes * copy_cycles_per_byte      pads, slices, concats, copies
//          + weight bytes / flash bytes per cycle, when the weights are read from flash (XIP)
//
// The model is of an optimized int8 library on the M33's DSP extension (CMSIS-NN class: no
// Helium, SMLAD = two 16x16 MACs per cycle), not of this project's portable C kernels; the
// firmware's instruction counts under QEMU are compared to it in docs/cpu-model.md.
#pragma once
#include <cstdint>

#include "npu/microcode_reader.h"

namespace neutron::sim {

struct CpuConfig {
  double clock_mhz = 325;                  // Cortex-M33 clock (i.MX RT700 compute subsystem)
  double call_overhead_cycles = 300;       // per kernel call: dispatch, args, loop setup
  double conv_cycles_per_mac = 1.4;        // arm_nn_mat_mult_kernel_s8_s16 inner loop (2x2 block)
  double depthwise_cycles_per_mac = 2.5;   // arm_depthwise_conv_s8_opt (4 channels per iteration)
  double fc_cycles_per_mac = 1.7;          // arm_nn_vec_mat_mult_t_s8 (2 rows per iteration)
  double im2col_cycles_per_element = 0.4;  // arm_q7_to_q15_with_offset (4 elements per iteration)
  double requant_cycles_per_output = 12;   // arm_nn_requantize + bias + clamp + store
  double pool_cycles_per_tap = 0.6;        // arm_max_pool_s8 / arm_avgpool_s8 per element per tap
  double elementwise_cycles_per_element = 10;  // arm_elementwise_add_s8: two rescales + requantize
  double table_cycles_per_element = 3;     // load, indexed load, store
  double softmax_cycles_per_element = 30;  // arm_softmax_s8: max, exp-sum, normalize passes
  double norm_cycles_per_element = 20;     // LayerNorm / L2Norm: two passes, float scale
  double index_cycles_per_element = 4;     // transpose / resize (per output), reduce (per input): addressing
  double copy_cycles_per_byte = 0.5;       // memcpy-like: one word load and store per 2 cycles
  double quantize_cycles_per_element = 15; // float -> int8 at the model's edges (FPU: mul, round, clamp)
  double dequantize_cycles_per_element = 6;
  double flash_bandwidth_mb_s = 500;       // weights read in place from flash (XIP), 0 = in SRAM
  bool weights_in_flash = true;

  double flash_bytes_per_cycle() const { return clock_mhz > 0 ? flash_bandwidth_mb_s / clock_mhz : 0; }
};

inline CpuConfig default_cpu_config() { return CpuConfig(); }

// What one CPU kernel call costs. `macs` counts useful multiply-accumulates (as the NPU model).
struct CpuKernelTiming {
  npu::Opcode opcode = npu::Opcode::kCopy;
  uint64_t cycles = 0;          // total CPU cycles
  uint64_t compute_cycles = 0;  // arithmetic and data movement
  uint64_t memory_cycles = 0;   // weight bytes from flash (not overlapped: the core stalls)
  uint64_t overhead_cycles = 0;
  uint64_t macs = 0;
  uint64_t weight_bytes = 0;
  bool modelled = true;         // false: an opcode this model does not know (a generic cost)
};

// One kernel call of a CPU payload.
CpuKernelTiming estimate_cpu_kernel(const CpuConfig& cfg, const npu::MicrocodeView& mc, const npu::Instruction& inst);

// The edge conversions and a delegate's layout conversions, per element.
uint64_t cpu_quantize_cycles(const CpuConfig& cfg, uint64_t elements);
uint64_t cpu_dequantize_cycles(const CpuConfig& cfg, uint64_t elements);
uint64_t cpu_transpose_cycles(const CpuConfig& cfg, uint64_t elements);

// Cycles at `clock_mhz` in milliseconds.
inline double cycles_to_ms(uint64_t cycles, double clock_mhz) {
  return clock_mhz > 0 ? double(cycles) / (clock_mhz * 1000.0) : 0;
}

}  // namespace neutron::sim
