// Every program that compiles runs (issue 20): the kernel calls of an op kept on the CPU because it
// exceeds an NPU limit are checked against the CPU kernels' own limits (kernel_calls::Limits::kCpu),
// the NPU's payload check (Limits::kNpu) still refuses them, and the partitioner asks the same
// question before it delegates (rule npu.payload).
#include <gtest/gtest.h>

#include <cstring>

#include "core/aligned_buffer.h"
#include "graph_builder.h"
#include "kernel_calls/kernel_calls.h"
#include "lowering/lowering.h"
#include "npu/microcode_reader.h"
#include "partition/op_support.h"

namespace neutron {
namespace {

using testing::attrs;
using testing::GraphBuilder;
using testing::imxrt700;
using testing::q8;

// The node's kernel calls as the host lowers them, and what the executor says under `limits`.
kernel_calls::CallStatus prepare_node(const Graph& g, NodeId id, kernel_calls::Limits limits) {
  lowering::KernelProgram p;
  Status st = lowering::lower_node(g, id, lowering::LowerOptions(), &p);
  EXPECT_TRUE(st.ok()) << st.to_string();
  st = lowering::place_for_cpu(p);
  EXPECT_TRUE(st.ok()) << st.to_string();
  npu::MicrocodeView mc;
  const npu::ValidationResult v = npu::validate_microcode(p.microcode.data(), p.microcode.size(), p.weights.size(), &mc);
  EXPECT_TRUE(v.ok()) << v.message;
  AlignedBuffer w(p.weights.size());
  if (!p.weights.empty()) std::memcpy(w.data(), p.weights.data(), p.weights.size());
  size_t bytes = 0;
  kernel_calls::CallStatus s = kernel_calls::Executor::required_memory(mc, w.data(), &bytes, limits);
  if (!s.ok()) return s;
  AlignedBuffer mem(bytes);
  kernel_calls::Executor ex;
  return ex.prepare(mc, w.data(), mem.data(), bytes, limits);
}

void add_pool(GraphBuilder& b, Shape x, std::vector<int64_t> kernel, std::vector<int64_t> strides) {
  const TensorId in = b.input("x", std::move(x));
  b.node(OpKind::MaxPool, "pool", {in},
         attrs({{"kernel_shape", kernel}, {"strides", strides}, {"pads", std::vector<int64_t>{0, 0, 0, 0}}}));
  b.done();
}

TEST(KernelCallLimits, PoolBeyondTheNpuLimitRunsOnTheCpuKernels) {
  GraphBuilder b;
  add_pool(b, {1, 4, 1, 4200}, {1, 1}, {1, 4097});  // stride 4097: above the NPU's 4096
  const kernel_calls::CallStatus cpu = prepare_node(b.g, b.last_node(), kernel_calls::Limits::kCpu);
  EXPECT_TRUE(cpu.ok()) << cpu.message;
  const kernel_calls::CallStatus npu = prepare_node(b.g, b.last_node(), kernel_calls::Limits::kNpu);
  ASSERT_FALSE(npu.ok());
  EXPECT_STREQ(npu.message, "pool: kernel or stride out of range");
  // Not delegated either: the pool's own stride rule names it.
  auto r = check_node_support(b.g, b.last_node(), imxrt700());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rule, "max_pool.stride");
}

TEST(KernelCallLimits, ConvBeyondTheNpuLimitsRunsOnTheCpuKernels) {
  // A 4097x1 kernel (above the NPU's 4096) and a weight volume kH * kW * Cin = 41 * 15 * 113 above
  // the NPU's 65535: both are CPU work.
  struct Spec {
    Shape x, w;
    const char* npu_message;
  };
  for (const Spec& s : {Spec{{1, 1, 4100, 3}, {1, 1, 4097, 1}, "conv: kernel, stride or dilation out of range"},
                        Spec{{1, 113, 41, 15}, {1, 113, 41, 15}, "conv: kernel_h * kernel_w * in_c / groups too large"}}) {
    GraphBuilder b;
    const TensorId x = b.input("x", s.x);
    const TensorId w = b.weights("w", s.w, 0);
    const TensorId bias = b.constant("b", DType::I32, {s.w[0]}, q8(0.05f * 0.01f, 0));
    b.node(OpKind::Conv, "conv", {x, w, bias},
           attrs({{"kernel_shape", std::vector<int64_t>{s.w[2], s.w[3]}},
                  {"strides", std::vector<int64_t>{1, 1}},
                  {"pads", std::vector<int64_t>{0, 0, 0, 0}}}));
    b.done();
    SCOPED_TRACE(s.npu_message);
    const kernel_calls::CallStatus cpu = prepare_node(b.g, b.last_node(), kernel_calls::Limits::kCpu);
    EXPECT_TRUE(cpu.ok()) << cpu.message;
    const kernel_calls::CallStatus npu = prepare_node(b.g, b.last_node(), kernel_calls::Limits::kNpu);
    ASSERT_FALSE(npu.ok());
    EXPECT_STREQ(npu.message, s.npu_message);
    EXPECT_TRUE(check_node_support(b.g, b.last_node(), imxrt700()).has_value());
  }
}

}  // namespace
}  // namespace neutron
