// The compiler's stages and the payload: golden disassembly of a small conv graph, byte-identical
// payloads for the same partition, the payload header layout (facts §6.2), stage dumps, the
// scratch plan checker, conv tiling under a small SRAM budget, weight prefetch, format conversion
// on the CPU, and clear errors for what the NPU cannot run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "compiler/npu_test_util.h"
#include "ir/verifier.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using compiler::CompileOptions;
using testing::Operand;
using testing::OutputSpec;

QuantParams q8(double scale, int32_t zp) { return QuantParams::per_tensor(float(scale), zp); }

Graph prepare(Graph g) {
  static const std::vector<PassInfo> kLayout = {{"layout-nhwc", "", layout_nhwc}, {"dce", "", eliminate_dead_code}};
  Status st = run_passes(g, kLayout);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return g;
}

// x[1,3,5,5] -> Conv 3x3 pad 1, 4 channels, per-channel weights, bias, fused Relu -> y[1,4,5,5].
Graph small_conv_graph() {
  TensorData x(DType::I8, {1, 3, 5, 5});
  TensorData w(DType::I8, {4, 3, 3, 3});
  for (int64_t i = 0; i < w.count(); ++i) w.data<int8_t>()[i] = int8_t((i * 37) % 255 - 127);
  TensorData b(DType::I32, {4});
  for (int i = 0; i < 4; ++i) b.data<int32_t>()[i] = 100 * i - 150;
  QuantParams wq;
  wq.scale = {0.01f, 0.02f, 0.015f, 0.005f};
  wq.zero_point = {0, 0, 0, 0};
  QuantParams bq = wq;
  for (float& s : bq.scale) s *= 0.05f;
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  a.set("act_min", 0.0);
  auto g = testing::make_single_op_graph(
      OpKind::Conv, {Operand::input(x, q8(0.05, -3)), Operand::constant_of(w, wq), Operand::constant_of(b, bq)}, a,
      {OutputSpec{q8(0.1, -20)}});
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  g->name = "small_conv";
  return prepare(g.value());
}

// The conv reads NHWC: transposes on the NPU (use_neutron_for_format_conversion); weights padded
// from 4x3x3x3 to 8x3x3x8 (num_macs 8); bias in accumulator units s_in * s_w (copied); fused Relu
// clamps at quantize(0) = -20.
// Default flags: the weights stay in flash and the estimator plans their prefetch at the start,
// overlapping the input transpose.
const char* kSmallConvGolden = R"(payload: 976 bytes
header: 1 inputs, 1 outputs, 1 input args, version 1, 16 bytes
  input 0 <- arg 0
  output 0 -> arg 1 (output 0)
microcode: 336 bytes at 16, format v1, magic 64434d6e
  scratch 192, sram scratch 0, profile 0, debug 0, inputs 1, outputs 1
weights: 624 bytes at 352, fnv1a 7a668c0a
kernels: 0 bytes
tensors: 4
  t0 input[0]+0 i8[1,3,5,5] 75 bytes, zp -3
  t1 output[0]+0 i8[1,4,5,5] 100 bytes, zp -20
  t2 scratch+112 i8[1,5,5,3] 75 bytes, zp -3
  t3 scratch+0 i8[1,5,5,4] 100 bytes, zp -20
instructions: 3
  0 transpose input=t0 output=t2 perm=[0,2,3,1]
  1 conv2d input=t2 output=t3 weights_offset=@0 bias_offset=@576 multipliers_offset=@592 kernel_h=3 kernel_w=3 stride_h=1 stride_w=1 dilation_h=1 dilation_w=1 pad_top=1 pad_left=1 pad_bottom=1 pad_right=1 groups=1 in_c_padded=8 out_c_padded=8 act_min=-20 act_max=127 tile_rows=0
      bias[4]={-150,-50,50,150}
      multipliers[4]={1374389504>>38,1374389504>>37,2061584256>>38,1374389504>>39}
  2 transpose input=t3 output=t1 perm=[0,3,1,2]
)";

// One kernel's 624 bytes of weights: resident in SRAM (no prefetch) takes the same SRAM as a
// one-ahead prefetch buffer and is faster, so the plan has no Prefetch.
TEST(Payload, GoldenDisassemblyOfASmallConv) {
  const Graph g = small_conv_graph();
  auto p = compiler::compile_partition(g, testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const std::string text = compiler::disassemble_payload(p.value());
  EXPECT_EQ(text, kSmallConvGolden) << text;
}

// A chain with enough tensors for liveness to matter: conv -> relu table -> maxpool -> conv ->
// global pool -> reshape -> gemm -> softmax.
Graph chain_graph(uint32_t seed) {
  std::mt19937 rng(seed);
  auto rnd = [&](Shape s) { return testing::random_int8(s, rng); };
  Graph g;
  g.name = "chain";
  auto add = [&](const std::string& name, DType dt, Shape shape, QuantParams q) {
    Tensor t;
    t.name = name;
    t.dtype = dt;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    return g.add_tensor(std::move(t));
  };
  auto node = [&](OpKind k, const std::string& name, std::vector<TensorId> in, std::vector<TensorId> out, Attributes a) {
    Node n;
    n.kind = k;
    n.name = name;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    n.attrs = std::move(a);
    g.add_node(std::move(n));
  };
  const TensorId x = add("x", DType::I8, {1, 5, 11, 9}, q8(0.04, 3));
  g.inputs.push_back(x);
  Attributes c1;
  c1.set("kernel_shape", std::vector<int64_t>{3, 3});
  c1.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  c1.set("strides", std::vector<int64_t>{1, 1});
  const TensorId w1 = g.add_constant("w1", rnd({12, 5, 3, 3}), q8(0.01, 0));
  const TensorId y1 = add("y1", DType::I8, {1, 12, 11, 9}, q8(0.2, -5));
  node(OpKind::Conv, "conv1", {x, w1}, {y1}, c1);
  const TensorId y2 = add("y2", DType::I8, {1, 12, 11, 9}, q8(0.1, -128));
  node(OpKind::Relu, "relu", {y1}, {y2}, {});
  Attributes mp;
  mp.set("kernel_shape", std::vector<int64_t>{2, 2});
  mp.set("strides", std::vector<int64_t>{2, 2});
  const TensorId y3 = add("y3", DType::I8, {1, 12, 5, 4}, q8(0.1, -128));
  node(OpKind::MaxPool, "pool", {y2}, {y3}, mp);
  Attributes c2;
  c2.set("kernel_shape", std::vector<int64_t>{3, 3});
  c2.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  c2.set("group", int64_t(12));
  const TensorId w2 = g.add_constant("w2", rnd({12, 1, 3, 3}), q8(0.02, 0));
  const TensorId y4 = add("y4", DType::I8, {1, 12, 5, 4}, q8(0.15, 2));
  node(OpKind::Conv, "dwconv", {y3, w2}, {y4}, c2);
  const TensorId y5 = add("y5", DType::I8, {1, 12, 1, 1}, q8(0.05, 0));
  node(OpKind::GlobalAveragePool, "gap", {y4}, {y5}, {});
  Attributes rs;
  rs.set("shape", std::vector<int64_t>{1, 12});
  const TensorId y6 = add("y6", DType::I8, {1, 12}, q8(0.05, 0));
  node(OpKind::Reshape, "flatten", {y5}, {y6}, rs);
  Attributes gm;
  gm.set("transB", int64_t(1));
  const TensorId wf = g.add_constant("wf", rnd({10, 12}), q8(0.01, 0));
  const TensorId y7 = add("y7", DType::I8, {1, 10}, q8(0.08, 4));
  node(OpKind::Gemm, "fc", {y6, wf}, {y7}, gm);
  Attributes sm;
  sm.set("axis", int64_t(-1));
  const TensorId y8 = add("y8", DType::I8, {1, 10}, q8(1.0 / 256, -128));
  node(OpKind::Softmax, "softmax", {y7}, {y8}, sm);
  g.outputs.push_back(y8);
  return prepare(g);
}

TEST(Payload, SamePartitionGivesByteIdenticalPayloads) {
  const Graph g = chain_graph(7);
  auto a = compiler::compile_partition(g, testing::npu_target());
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  const Graph copy = g;
  auto b = compiler::compile_partition(copy, testing::npu_target());
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(a.value(), b.value());
  // A fresh import and preparation of the same graph too.
  auto c = compiler::compile_partition(chain_graph(7), testing::npu_target());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(a.value(), c.value());
  // And with every option on.
  CompileOptions o;
  o.fetch_constants_to_sram = true;
  o.use_neutron_for_format_conversion = false;
  o.sram_budget_bytes = 600;
  auto d = compiler::compile_partition(g, testing::npu_target(), o);
  auto e = compiler::compile_partition(g, testing::npu_target(), o);
  ASSERT_TRUE(d.ok() && e.ok()) << d.status().to_string();
  EXPECT_EQ(d.value(), e.value());
  EXPECT_NE(a.value(), d.value());
}

TEST(Payload, HeaderLayoutAndSections) {
  auto p = compiler::compile_program(small_conv_graph(), testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const std::vector<uint8_t>& b = p->payload;
  // n_in, n_out, n_input_args, in flag, out flag, in map, out map, version, zero padding to 16.
  const std::vector<uint8_t> header = {1, 1, 1, 0, 0, 0, 0, npu::kPayloadVersion, 0, 0, 0, 0, 0, 0, 0, 0};
  ASSERT_GE(b.size(), 16u + 64u);
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 16), header);
  uint32_t words[16];
  std::memcpy(words, b.data() + 16, sizeof(words));
  EXPECT_EQ(words[npu::kWordMagic], npu::kMicrocodeMagic);
  EXPECT_EQ(words[npu::kWordMicrocodeSize], p->microcode.size());
  EXPECT_EQ(words[npu::kWordWeightsSize], p->weights.size());
  EXPECT_EQ(words[npu::kWordScratchSize], p->scratch_size);
  EXPECT_EQ(words[npu::kWordNumInputs], 1u);
  EXPECT_EQ(words[npu::kWordNumOutputs], 1u);
  const size_t weights_at = 16 + npu::align16(p->microcode.size());
  EXPECT_EQ(b.size(), weights_at + npu::align16(p->weights.size()));  // kernels empty
  EXPECT_EQ(std::vector<uint8_t>(b.begin() + long(weights_at), b.begin() + long(weights_at + p->weights.size())), p->weights);
  EXPECT_EQ(b.size() % 16, 0u);
}

TEST(Payload, StagesRunInOrderWithADumpAfterEach) {
  std::vector<std::string> names, dumps;
  auto p = compiler::compile_program(chain_graph(3), testing::npu_target(), {},
                                     [&](const compiler::CompileStage& s, const compiler::NpuProgram& prog) {
                                       names.push_back(s.name);
                                       dumps.push_back(compiler::print_program(prog));
                                     });
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(names, (std::vector<std::string>{"lower", "fuse", "pack-weights", "plan-scratch", "prefetch", "emit", "compose-payload"}));
  ASSERT_EQ(dumps.size(), 7u);
  // After lower: the kernels in graph order (the reshape is an alias, no kernel).
  EXPECT_NE(dumps[0].find("conv2d"), std::string::npos) << dumps[0];
  EXPECT_NE(dumps[0].find("dwconv2d"), std::string::npos);
  EXPECT_NE(dumps[0].find("softmax"), std::string::npos);
  EXPECT_EQ(dumps[0].find("copy "), std::string::npos) << dumps[0];
  EXPECT_NE(dumps[2].find("packed @"), std::string::npos) << dumps[2];
  EXPECT_NE(dumps[3].find(" live "), std::string::npos) << dumps[3];
  EXPECT_NE(dumps[6].find("payload "), std::string::npos) << dumps[6];
  // Deterministic dumps.
  std::vector<std::string> again;
  ASSERT_TRUE(compiler::compile_program(chain_graph(3), testing::npu_target(), {},
                                        [&](const compiler::CompileStage&, const compiler::NpuProgram& prog) {
                                          again.push_back(compiler::print_program(prog));
                                        })
                  .ok());
  EXPECT_EQ(dumps, again);
  if (std::getenv("NEUTRON_PRINT_DUMPS"))
    for (size_t i = 0; i < dumps.size(); ++i) std::printf("=== after %s\n%s", names[i].c_str(), dumps[i].c_str());
}

TEST(Payload, ScratchPlanIsCheckedIndependently) {
  auto p = compiler::compile_program(chain_graph(5), testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_TRUE(compiler::check_scratch_plan(p.value()).ok());
  // Two scratch tensors that live together (a kernel's input and output) must not overlap.
  compiler::NpuProgram broken = p.value();
  bool done = false;
  for (const compiler::KernelCall& c : broken.calls) {
    if (c.reads.empty() || c.writes.empty()) continue;
    auto& in = broken.tensors[c.reads[0]];
    auto& out = broken.tensors[c.writes[0]];
    if (in.region != npu::Region::kScratch || out.region != npu::Region::kScratch || in.alias_of >= 0 ||
        out.alias_of >= 0)
      continue;
    out.offset = in.offset;
    done = true;
    break;
  }
  ASSERT_TRUE(done);
  const Status st = compiler::check_scratch_plan(broken);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("overlap"), std::string::npos) << st.message();
}

TEST(Payload, ConvRowsAreTiledUnderASmallSramBudget) {
  CompileOptions o;
  o.sram_budget_bytes = 700;
  auto p = compiler::compile_program(chain_graph(9), testing::npu_target(), o);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  int tiled = 0;
  for (const compiler::KernelCall& c : p->calls) {
    if (c.op != npu::Opcode::kConv2D && c.op != npu::Opcode::kDepthwiseConv2D) continue;
    const npu::ConvArgs a = c.as<npu::ConvArgs>();
    const auto& in = p->tensors[a.input];
    const auto& out = p->tensors[a.output];
    const int64_t whole = int64_t(in.bytes()) + out.bytes();
    if (whole <= o.sram_budget_bytes) {
      EXPECT_EQ(a.tile_rows, 0u) << c.origin;
      continue;
    }
    ++tiled;
    EXPECT_GE(a.tile_rows, 1u) << c.origin;
    EXPECT_LT(int(a.tile_rows), out.dims[1]) << c.origin;
    // The tile and its halo fit; one more row would not.
    auto bytes = [&](int64_t rows) {
      const int64_t in_rows = std::min<int64_t>(in.dims[1], (rows - 1) * a.stride_h + (a.kernel_h - 1) * a.dilation_h + 1);
      return in_rows * in.dims[2] * in.dims[3] + rows * out.dims[2] * out.dims[3];
    };
    EXPECT_LE(bytes(a.tile_rows), o.sram_budget_bytes) << c.origin;
    EXPECT_GT(bytes(a.tile_rows + 1), o.sram_budget_bytes) << c.origin;
  }
  EXPECT_GE(tiled, 1);
  // Tiling changes nothing in the results.
  const testing::NpuVsCpu r = testing::compare_npu_cpu(chain_graph(9), 3, 9, o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
  // A budget below one output row is an error naming the layer.
  o.sram_budget_bytes = 50;
  auto bad = compiler::compile_partition(chain_graph(9), testing::npu_target(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Error::NotSupported);
  EXPECT_NE(bad.status().message().find("conv1"), std::string::npos) << bad.status().message();
}

TEST(Payload, WeightPrefetchCoversEveryKernelsConstants) {
  CompileOptions o;
  o.fetch_constants_to_sram = true;
  auto p = compiler::compile_program(chain_graph(11), testing::npu_target(), o);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_GT(p->sram_scratch_size, 0u);
  // Each kernel with constants is preceded by a wait on the channel its prefetches used (one per
  // part of its constants), issued earlier; ranges in flight together never share SRAM bytes.
  int waits = 0, weighted = 0;
  std::vector<bool> waited(16, true);  // a channel's prefetches are waited for before it is reused
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> in_flight(16);
  for (const compiler::KernelCall& c : p->calls) {
    if (c.op == npu::Opcode::kPrefetch) {
      const auto a = c.as<npu::PrefetchArgs>();
      ASSERT_LT(a.channel, 16u);
      EXPECT_LE(uint64_t(a.sram_offset) + a.size, p->sram_scratch_size);
      for (uint32_t ch = 0; ch < 16; ++ch) {
        for (const auto& r : in_flight[ch]) {
          EXPECT_TRUE(a.sram_offset >= r.second || uint64_t(a.sram_offset) + a.size <= r.first)
              << "prefetch into SRAM still holding channel " << ch;
        }
      }
      if (waited[a.channel]) in_flight[a.channel].clear();
      waited[a.channel] = false;
      in_flight[a.channel].push_back({a.sram_offset, uint64_t(a.sram_offset) + a.size});
    } else if (c.op == npu::Opcode::kWaitPrefetch) {
      const auto a = c.as<npu::WaitPrefetchArgs>();
      EXPECT_FALSE(waited[a.channel]) << "wait without a prefetch";
      waited[a.channel] = true;
      ++waits;
    } else if (!c.blob_refs.empty()) {
      ++weighted;
      for (uint32_t ch = 0; ch < 16; ++ch)  // the kernel's own range is free once it ran
        if (waited[ch]) in_flight[ch].clear();
    }
  }
  EXPECT_EQ(waits, weighted);
  const testing::NpuVsCpu r = testing::compare_npu_cpu(chain_graph(11), 3, 11, o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
}

TEST(Payload, FormatConversionOnTheCpuFlagsTheIo) {
  CompileOptions o;
  o.use_neutron_for_format_conversion = false;
  auto p = compiler::compile_program(small_conv_graph(), testing::npu_target(), o);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->payload[3], 1);  // input channels-last
  EXPECT_EQ(p->payload[4], 1);  // output channels-last
  for (const compiler::KernelCall& c : p->calls) EXPECT_NE(c.op, npu::Opcode::kTranspose);
  ASSERT_EQ(p->calls.size(), 1u);
  const std::string text = compiler::disassemble_payload(p->payload);
  EXPECT_NE(text.find("channels-last (NCHW arg converted on the CPU)"), std::string::npos) << text;
  const testing::NpuVsCpu r = testing::compare_npu_cpu(small_conv_graph(), 3, 1, o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
}

TEST(Payload, WholeChainIsBitExact) {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    const testing::NpuVsCpu r = testing::compare_npu_cpu(chain_graph(seed), 3, seed);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.mismatch.empty()) << "seed " << seed << ": " << r.mismatch;
  }
}

TEST(Payload, WhatTheNpuCannotRunIsNotSupportedNamingTheNode) {
  // A Conv left NCHW (no layout pass).
  TensorData x(DType::I8, {1, 2, 4, 4});
  TensorData w(DType::I8, {2, 2, 1, 1});
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{1, 1});
  auto g = testing::make_single_op_graph(OpKind::Conv, {Operand::input(x, q8(0.1, 0)), Operand::constant_of(w, q8(0.1, 0))},
                                         a, {OutputSpec{q8(0.1, 0)}});
  ASSERT_TRUE(g.ok());
  auto r = compiler::compile_partition(g.value(), testing::npu_target());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::NotSupported);
  EXPECT_NE(r.status().message().find("node 'op' (Conv)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("layout-nhwc"), std::string::npos) << r.status().message();

  // MaxPool with dilation.
  Attributes mp;
  mp.set("kernel_shape", std::vector<int64_t>{2, 2});
  mp.set("dilations", std::vector<int64_t>{2, 2});
  auto g2 = testing::make_single_op_graph(OpKind::MaxPool, {Operand::input(TensorData(DType::I8, {1, 3, 6, 6}), q8(0.1, 0))},
                                          mp, {OutputSpec{q8(0.1, 0)}});
  ASSERT_TRUE(g2.ok()) << g2.status().to_string();
  auto r2 = compiler::compile_partition(prepare(g2.value()), testing::npu_target());
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("dilation"), std::string::npos) << r2.status().message();

  // A float op.
  auto g3 = testing::make_single_op_graph(OpKind::Relu, {Operand::input(TensorData(DType::F32, {1, 4}))}, {});
  ASSERT_TRUE(g3.ok());
  auto r3 = compiler::compile_partition(g3.value(), testing::npu_target());
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status().code(), Error::NotSupported);
  EXPECT_NE(r3.status().message().find("int8"), std::string::npos) << r3.status().message();
}

// The comparison itself: a payload with one weight changed no longer matches the CPU.
TEST(Payload, ComparisonDetectsAChangedWeight) {
  const Graph g = small_conv_graph();
  auto p = compiler::compile_program(g, testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  std::vector<uint8_t> bytes = p->payload;
  const size_t weights_at = 16 + npu::align16(p->microcode.size());
  bytes[weights_at + 1] ^= 0x40;  // output channel 0, tap (0, 0), input channel 1
  testing::LoadedPayload lp;
  ASSERT_EQ(testing::load_payload(bytes, &lp), Error::Ok) << lp.backend.last_error();
  auto ex = Executor::create(g);
  ASSERT_TRUE(ex.ok());
  std::mt19937 rng(1);
  std::vector<TensorData> in = {testing::random_int8(g.tensor(g.inputs[0]).shape, rng)};
  std::vector<TensorData> want, got = {TensorData(DType::I8, g.tensor(g.outputs[0]).shape)};
  ASSERT_TRUE(ex.value()->run(in, &want).ok());
  ASSERT_EQ(testing::run_payload(lp.backend, in, got), Error::Ok) << lp.backend.last_error();
  EXPECT_NE(testing::first_difference(got[0], want[0]), "");
}

// Outputs that are a partition input, or the same tensor twice, are copied into their buffers.
TEST(Payload, PassThroughAndRepeatedOutputs) {
  Graph g;
  g.name = "passthrough";
  Tensor x;
  x.name = "x";
  x.dtype = DType::I8;
  x.shape = {2, 7};
  x.quant = q8(0.1, 3);
  const TensorId xi = g.add_tensor(x);
  g.inputs.push_back(xi);
  Tensor y = x;
  y.name = "y";
  y.quant = q8(0.05, -128);
  const TensorId yi = g.add_tensor(y);
  Node n;
  n.kind = OpKind::Relu;
  n.name = "relu";
  n.inputs = {xi};
  n.outputs = {yi};
  g.add_node(n);
  g.outputs = {yi, xi, yi};
  ASSERT_TRUE(verify_graph(g).ok()) << verify_graph(g).to_string();
  const testing::NpuVsCpu r = testing::compare_npu_cpu(g, 3, 4);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
}

}  // namespace
}  // namespace neutron
