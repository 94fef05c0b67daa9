// Stage fuse: a conv (or depthwise conv) and the residual Add/Sub that alone reads its result run as
// one conv2d_add call (opcode 64), bit-exact with the CPU executor on random shapes, quantizations,
// operand orders and strides; and the fusion is refused where it would not be exact (the conv's
// result read elsewhere).
#include <gtest/gtest.h>

#include <random>

#include "compiler/estimate.h"
#include "compiler/npu_test_util.h"
#include "ir/shape_inference.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "runtime/payload.h"
#include "sim/sim_config_target.h"

namespace neutron {
namespace {

QuantParams q8(double scale, int32_t zp) { return QuantParams::per_tensor(float(scale), zp); }

struct Case {
  int64_t cin, cout, h, w, k, stride;
  bool depthwise, residual_first, sub, relu, also_output;
};

Graph conv_add_graph(const Case& c, std::mt19937& rng) {
  std::uniform_real_distribution<double> sc(0.005, 0.2);
  std::uniform_int_distribution<int> zp(-20, 20);
  Graph g;
  g.name = "conv_add";
  auto tensor = [&](const std::string& name, Shape shape, QuantParams q) {
    Tensor t;
    t.name = name;
    t.dtype = DType::I8;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    return g.add_tensor(std::move(t));
  };
  int counter = 0;
  const int64_t cout = c.depthwise ? c.cin : c.cout;
  const int64_t pad = c.k / 2;
  const TensorId x = tensor("x", {1, c.cin, c.h, c.w}, q8(sc(rng), zp(rng)));
  g.inputs = {x};
  auto weights = [&](const std::string& name, Shape shape) {
    QuantParams wq;
    for (int64_t o = 0; o < shape[0]; ++o) {
      wq.scale.push_back(float(sc(rng) * 0.1));
      wq.zero_point.push_back(0);
    }
    wq.axis = 0;
    return g.add_constant(name, testing::random_int8(shape, rng), wq);
  };
  // The residual: a 1x1 conv of the same input with the same stride (channels-last like the
  // partitions of a real network), lowered before the conv under test so that one is fused.
  Attributes ra;
  ra.set("kernel_shape", std::vector<int64_t>{1, 1});
  ra.set("strides", std::vector<int64_t>{c.stride, c.stride});
  const TensorId r = testing::add_node_with_output(g, counter, OpKind::Conv, {x, weights("wr", {cout, c.cin, 1, 1})},
                                                   DType::I8, q8(sc(rng), zp(rng)), std::move(ra));
  Attributes ca;
  ca.set("kernel_shape", std::vector<int64_t>{c.k, c.k});
  ca.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  ca.set("strides", std::vector<int64_t>{c.stride, c.stride});
  if (c.depthwise) ca.set("group", c.cin);
  const TensorId wt = weights("w", {cout, c.depthwise ? 1 : c.cin, c.k, c.k});
  const TensorId y = testing::add_node_with_output(g, counter, OpKind::Conv, {x, wt}, DType::I8, q8(sc(rng), zp(rng)),
                                                   std::move(ca));
  Attributes aa;
  if (c.relu) aa.set("act_min", 0.0);
  const std::vector<TensorId> ins = c.residual_first ? std::vector<TensorId>{r, y} : std::vector<TensorId>{y, r};
  const TensorId z = testing::add_node_with_output(g, counter, c.sub ? OpKind::Sub : OpKind::Add, ins, DType::I8,
                                                   q8(sc(rng), zp(rng)), std::move(aa));
  g.outputs = {z};
  if (c.also_output) g.outputs.push_back(y);
  EXPECT_TRUE(infer_shapes(g).ok());
  static const std::vector<PassInfo> kLayout = {{"layout-nhwc", "", layout_nhwc}, {"dce", "", eliminate_dead_code}};
  EXPECT_TRUE(run_passes(g, kLayout).ok());
  return g;
}

int count_op(const compiler::NpuProgram& p, npu::Opcode op) {
  int n = 0;
  for (const compiler::KernelCall& c : p.calls) n += c.op == op;
  return n;
}

TEST(ConvAddFusion, BitExactWithTheCpuOnRandomShapes) {
  std::mt19937 rng(64);
  // At least 2 channels and 2 output rows and columns: with a dimension of 1 the layout pass runs
  // the Add on an NCHW view of the conv's result (an alias), which is not fused.
  std::uniform_int_distribution<int> ch(2, 20), hw(3, 9), coin(0, 1);
  int fused = 0;
  for (int trial = 0; trial < 40; ++trial) {
    Case c{ch(rng), ch(rng), hw(rng), hw(rng), coin(rng) ? 3 : 1, coin(rng) ? 2 : 1, trial % 3 == 0,
           coin(rng) == 1, trial % 5 == 0, coin(rng) == 1, false};
    SCOPED_TRACE(str_cat("trial ", trial, ": cin ", c.cin, " cout ", c.cout, " ", c.h, "x", c.w, " k", c.k, " s",
                         c.stride, c.depthwise ? " depthwise" : "", c.residual_first ? " residual first" : "",
                         c.sub ? " sub" : " add", c.relu ? " relu" : ""));
    const Graph g = conv_add_graph(c, rng);
    auto p = compiler::compile_program(g, testing::npu_target());
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    ASSERT_EQ(count_op(p.value(), npu::Opcode::kConvAdd), 1) << compiler::print_program(p.value());
    EXPECT_EQ(count_op(p.value(), npu::Opcode::kElementwise), 0);
    for (const compiler::KernelCall& k : p->calls) {  // the conv under test, not the residual's
      if (k.op == npu::Opcode::kConvAdd) {
        EXPECT_EQ(k.as<npu::ConvAddArgs>().conv.kernel_h, c.k);
      }
    }
    fused += count_op(p.value(), npu::Opcode::kConvAdd);
    // The estimator costs the fused call as the simulator does, call by call.
    {
      auto cfg = sim::sim_config_from_target(testing::npu_target());
      ASSERT_TRUE(cfg.ok());
      runtime::PayloadView view;
      ASSERT_TRUE(runtime::parse_payload(p->payload.data(), p->payload.size(), &view).ok());
      std::vector<sim::KernelTiming> simulated(view.mc.num_instructions());
      sim::estimate_timing(cfg.value(), view.mc, simulated.data(), uint32_t(simulated.size()));
      const compiler::ProgramEstimate e = compiler::estimate_program(cfg.value(), p.value());
      ASSERT_EQ(e.calls.size(), simulated.size());
      for (size_t k = 0; k < simulated.size(); ++k) EXPECT_EQ(e.calls[k].cycles, simulated[k].cycles) << "call " << k;
    }
    const testing::NpuVsCpu r = testing::compare_npu_cpu(g, 3, 100 + uint32_t(trial));
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
    EXPECT_EQ(r.runs, 3);
    // Unfused gives the same program semantics (and is what --target cpu programs keep).
    compiler::CompileOptions off;
    off.fuse_kernels = false;
    auto q = compiler::compile_program(g, testing::npu_target(), off);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(count_op(q.value(), npu::Opcode::kConvAdd), 0);
  }
  EXPECT_EQ(fused, 40);
}

TEST(ConvAddFusion, NotWhenTheConvResultIsAlsoAnOutput) {
  std::mt19937 rng(7);
  const Case c{6, 10, 5, 7, 3, 1, false, false, false, true, true};
  const Graph g = conv_add_graph(c, rng);
  auto p = compiler::compile_program(g, testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(count_op(p.value(), npu::Opcode::kConvAdd), 0);
  const testing::NpuVsCpu r = testing::compare_npu_cpu(g, 2, 9);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
}

TEST(ConvAddFusion, TheListingNamesTheFusedCall) {
  std::mt19937 rng(3);
  const Graph g = conv_add_graph(Case{8, 8, 4, 4, 1, 1, false, false, false, false, false}, rng);
  auto p = compiler::compile_partition(g, testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const std::string text = compiler::disassemble_payload(p.value());
  EXPECT_NE(text.find("conv2d_add input="), std::string::npos) << text;
  EXPECT_NE(text.find("add_op=add"), std::string::npos) << text;
}

}  // namespace
}  // namespace neutron
