// The int8 lowering: the ONLY place an int8 IR node becomes kernel parameters (kernel calls of
// npu/kernel_args.h with their requantization multipliers, tables and packed constants). Used by
// the host executor (one node at a time, run by kernel_calls::Executor), by the CPU instructions of
// program files and by NPU partitions (the compiler adds channel padding, scratch planning,
// prefetch and the payload on top), so host, CPU program and NPU compute the same integers.
//
// Per op (docs/integer-semantics.md):
//   Conv          multipliers s_in * s_w[c] / s_out, bias in accumulator units s_in * s_w[c]
//   ConvTranspose as Conv per output phase of the zero-inserted input with the flipped kernel (lower.cc)
//   Gemm/MatMul   multipliers alpha * s_a * s_b[n] / s_out, bias scaled by beta
//   pools         MaxPool s_in / s_out (0 when in and out share quantization), AveragePool one
//                 multiplier per window size s_in / (s_out * c), global s_in / (s_out * H * W)
//   Add/Sub       the multiplier pair s_a / s_out, s_b / s_out; Mul s_a * s_b / s_out; Max/Min
//                 each input quantized to the output parameters by a table
//   unary ops     the 256-entry table of the exact QDQ function (kernels/unary_int8.h)
//   Softmax       the exp table and s_out in double (kernels/softmax_int8.h)
//   MatMul of two activations (BatchMatMul), ReduceMean/ReduceSum, linear Resize: int8_setup.h
// Fused activations (act_min/act_max) become the int8 clamp of activation_range_int8().
//
// Depends on ir, npu (kernel_args, microcode format) and kernels (semantics) only.
#pragma once
#include <cstdint>

#include "ir/graph.h"
#include "lowering/kernel_program.h"

namespace neutron::lowering {

struct LowerOptions {
  // Conv/FC weights get their channel dims padded to a multiple of this (the NPU's num_macs, the
  // MAC array's dot-product length); 1 on the CPU.
  int32_t channel_multiple = 1;
  // Upstream's use_neutron_for_format_conversion (compiler::CompileOptions): off, a boundary
  // Transpose to/from NHWC is dropped and the IO flagged channels-last.
  bool use_neutron_for_format_conversion = true;
  // Conv and pools of a graph that did not go through layout-nhwc (channels_last=0) run between
  // transposes to and from NHWC temporaries (the host); off, they are NotSupported (NPU
  // partitions are channels-last by construction).
  bool transpose_nchw = true;
  // can_lower(): every check, but the weights are not reordered (their blobs stay zero).
  bool check_only = false;
  // Float ops and QuantizeLinear / DequantizeLinear become float kernel calls (opcodes 48-63, 76-83):
  // programs' CPU kernel calls only. Off (NPU partitions, the host's int8 nodes), they are
  // NotSupported.
  bool float_kernel_calls = false;
  // ConvTranspose with a stride above 1 as phase convolutions and an interleave (stride_h *
  // stride_w times fewer MACs, the same bytes); off: one convolution over the zero-inserted input.
  bool conv_transpose_phases = true;
  // The same for a depthwise ConvTranspose (the NPU compiler turns it off: per-call costs make
  // s_h * s_w depthwise calls and their interleave slower than one over the zero-inserted input).
  bool conv_transpose_depthwise_phases = true;
};

// Every node of `g` (a partition or CPU group: its inputs and outputs are the program's).
Status lower_graph(const Graph& g, const LowerOptions& options, KernelProgram* out);

// One node of `g`: its distinct non-constant inputs (in input order) are the program's inputs,
// its outputs the program's outputs. For the host executor.
Status lower_node(const Graph& g, NodeId id, const LowerOptions& options, KernelProgram* out);

// Whether the node is an int8 op the lowering turns into kernel calls; the error says why not
// (fold-qdq asks this before it makes an int8 op).
Status can_lower(const Graph& g, NodeId id);

}  // namespace neutron::lowering
