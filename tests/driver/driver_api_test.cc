// The driver's C API: error codes (component / category / code layout), argument validation,
// caller-supplied context memory, trace and profile output, and random corruption of the
// microcode and weights (prepare either rejects them or the run completes; never a crash).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "driver/neutron_driver.h"
#include "driver/neutron_driver_sim.h"
#include "npu/npu_test_util.h"
#include "sim/timing.h"

namespace neutron::testing {
namespace {

using npu::ElemType;
using npu::MicrocodeImage;
using npu::MicrocodeWriter;
using npu::Opcode;
using npu::Region;

// conv 3x3 (3 -> 8 channels, 6x6) into scratch, then a table into the output.
MicrocodeWriter small_writer() {
  MicrocodeWriter w;
  const uint32_t in = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 6, 6, 3}, 2);
  const uint32_t mid = w.add_tensor(Region::kScratch, 0, 0, ElemType::kInt8, {1, 6, 6, 8}, -1);
  const uint32_t out = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 6, 6, 8}, -1);
  npu::ConvArgs c{};
  c.input = in;
  c.output = mid;
  std::vector<int8_t> weights(8 * 9 * 8);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = int8_t((i * 37) % 11 - 5);
  c.weights_offset = w.add_weights(weights);
  c.bias_offset = w.add_weights(std::vector<int32_t>(8, 10));
  std::vector<int32_t> mult;
  for (int i = 0; i < 8; ++i) {
    mult.push_back(1 << 30);
    mult.push_back(8);
  }
  c.multipliers_offset = w.add_weights(mult);
  c.kernel_h = c.kernel_w = 3;
  c.stride_h = c.stride_w = c.dilation_h = c.dilation_w = 1;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.groups = 1;
  c.in_c_padded = 8;
  c.out_c_padded = 8;
  c.act_min = -128;
  c.act_max = 127;
  w.append(Opcode::kConv2D, c);
  std::vector<int8_t> table(256);
  for (int i = 0; i < 256; ++i) table[size_t(i)] = int8_t(std::max(-1, i - 128));
  w.append(Opcode::kTable, npu::TableArgs{mid, out, w.add_weights(table)});
  w.set_scratch_size(288);
  w.set_profile_size(64);
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  return w;
}

// Many kernel kinds on small shapes, for the corruption test.
MicrocodeImage wide_image() {
  MicrocodeWriter w;
  auto mult = [&](int n) {
    std::vector<int32_t> m;
    for (int i = 0; i < n; ++i) {
      m.push_back(1 << 30);
      m.push_back(10);
    }
    return w.add_weights(m);
  };
  const uint32_t in = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 4, 4, 8}, 1);
  const uint32_t a = w.add_tensor(Region::kScratch, 0, 0, ElemType::kInt8, {1, 4, 4, 8}, 1);
  const uint32_t b = w.add_tensor(Region::kScratch, 0, 128, ElemType::kInt8, {1, 4, 4, 8}, 1);
  const uint32_t c = w.add_tensor(Region::kScratch, 0, 256, ElemType::kInt8, {1, 6, 6, 8}, 1);
  const uint32_t d = w.add_tensor(Region::kScratch, 0, 544, ElemType::kInt8, {1, 4, 4, 16}, 1);
  const uint32_t e = w.add_tensor(Region::kScratch, 0, 800, ElemType::kInt8, {1, 8, 8, 16}, 1);
  const uint32_t f = w.add_tensor(Region::kScratch, 0, 1824, ElemType::kInt8, {1, 1, 1, 16}, 1);
  const uint32_t g = w.add_tensor(Region::kScratch, 0, 1840, ElemType::kInt8, {1, 1, 1, 10}, 0);
  const uint32_t out = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 1, 1, 10}, -128);
  npu::PoolArgs mp{a, b, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, -128, 127, 0};
  w.append(Opcode::kCopy, npu::CopyArgs{in, a});
  w.append(Opcode::kMaxPool2D, mp);
  npu::PoolArgs ap = mp;
  ap.input = b;
  ap.output = a;
  ap.count_include_pad = 1;
  ap.multipliers_offset = mult(10);
  w.append(Opcode::kAvgPool2D, ap);
  npu::ElementwiseArgs el{};
  el.a = a;
  el.b = b;
  el.output = a;
  el.op = int32_t(npu::ElementwiseOp::kMax);
  el.act_min = -128;
  el.act_max = 127;
  std::vector<int8_t> tables(512);
  for (int i = 0; i < 512; ++i) tables[size_t(i)] = int8_t((i % 256) - 128);
  el.table_offset = w.add_weights(tables);
  w.append(Opcode::kElementwise, el);
  npu::PadArgs pad{};
  pad.input = a;
  pad.output = c;
  pad.pad_before[1] = pad.pad_before[2] = pad.pad_after[1] = pad.pad_after[2] = 1;
  pad.mode = 1;
  w.append(Opcode::kPad, pad);
  npu::SliceArgs sl{};
  sl.input = c;
  sl.output = b;
  sl.begin[1] = sl.begin[2] = 2;
  w.append(Opcode::kSlice, sl);
  npu::ConcatArgs cc{};
  cc.output = d;
  cc.axis = 3;
  cc.num_inputs = 2;
  cc.inputs[0] = a;
  cc.inputs[1] = b;
  w.append(Opcode::kConcat, cc);
  npu::ResizeArgs rs{};
  rs.input = d;
  rs.output = e;
  std::vector<int32_t> idx;
  for (int i = 0; i < 16; ++i) idx.push_back((i % 8) / 2);
  rs.table_offset = w.add_weights(idx);
  w.append(Opcode::kResize, rs);
  npu::ReduceArgs rd{};
  rd.input = e;
  rd.output = f;
  rd.op = 0;
  rd.axes_mask = 6;
  rd.multiplier = 1 << 30;
  rd.shift = 36;
  w.append(Opcode::kReduce, rd);
  npu::FullyConnectedArgs fc{};
  fc.input = f;
  fc.output = g;
  fc.rows = 1;
  fc.in_features = 16;
  fc.out_features = 10;
  fc.in_features_padded = 16;
  fc.out_features_padded = 16;
  fc.per_channel = 1;
  fc.act_min = -128;
  fc.act_max = 127;
  fc.weights_offset = w.add_weights(std::vector<int8_t>(256, 3));
  fc.bias_offset = w.add_weights(std::vector<int32_t>(10, -7));
  fc.multipliers_offset = mult(10);
  w.append(Opcode::kFullyConnected, fc);
  std::vector<double> sm;
  for (int i = 0; i < 256; ++i) sm.push_back(std::exp(-0.05 * i));
  sm.push_back(1.0 / 256);
  npu::SoftmaxArgs so{};
  so.input = g;
  so.output = out;
  so.table_offset = w.add_weights(sm);
  w.append(Opcode::kSoftmax, so);
  npu::TransposeArgs tr{};
  tr.input = e;
  tr.output = w.add_tensor(Region::kScratch, 0, 1856, ElemType::kInt8, {1, 16, 8, 8}, 1);
  tr.perm[0] = 0;
  tr.perm[1] = 3;
  tr.perm[2] = 1;
  tr.perm[3] = 2;
  w.append(Opcode::kTranspose, tr);
  w.set_scratch_size(2880);
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  auto img = w.finish();
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  return std::move(img).value();
}

MicrocodeImage small_image() {
  auto img = small_writer().finish();
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  return std::move(img).value();
}

uint32_t component(NeutronError e) { return uint32_t(GET_ERROR_COMPONENT(e)); }
uint32_t category(NeutronError e) { return uint32_t(GET_ERROR_CATEGORY(e)); }

// Prepared model with everything the run needs.
struct Fixture {
  AlignedBuffer mc, w, ctx, in, out, scratch, profile;
  NeutronModelConfig cfg = {};
  NeutronModelHandle h = nullptr;
  std::vector<const void*> ins;
  std::vector<void*> outs;
  NeutronDataConfig d = {};

  explicit Fixture(const MicrocodeImage& img) {
    mc.assign(img.microcode.data(), img.microcode.size());
    w.assign(img.weights.data(), img.weights.size());
    cfg.microcode = mc.data();
    cfg.weights = w.data();
    cfg.microcodeSize = mc.size();
    cfg.weightsSize = w.size();
    in.resize(108, 3);
    out.resize(288);
    scratch.resize(288);
    profile.resize(64);
    ins = {in.data()};
    outs = {out.data(), scratch.data(), profile.data(), nullptr};
    d.inputs = ins.data();
    d.outputs = outs.data();
  }
  NeutronError prepare() {
    size_t need = 0;
    const NeutronError e = neutronGetModelContextSizeForModel(&cfg, &need);
    if (e != ENONE) return e;
    ctx.resize(need);
    cfg.contextSize = need;
    h = ctx.data();
    return neutronModelPrepare(&cfg, &h);
  }
};

TEST(NeutronDriver, ErrorLayout) {
  const NeutronError e = GEN_NEUTRON_ERROR(ERROR_COMPONENT_DRIVER, ERROR_CATEGORY_DRIVER_TIMEOUT, 0x1234);
  EXPECT_EQ(GET_ERROR_COMPONENT(e), 3);
  EXPECT_EQ(GET_ERROR_CATEGORY(e), 9);
  EXPECT_EQ(GET_ERROR_CODE(e), 0x1234);
  EXPECT_GT(e, 0);
  const NeutronError big = GEN_NEUTRON_ERROR(ERROR_COMPONENT_FIRMWARE, 31, 0x7FFFFF);
  EXPECT_EQ(GET_ERROR_CATEGORY(big), 31);  // 5 bits, unlike upstream's 0xF mask
  EXPECT_EQ(GET_ERROR_CODE(big), 0x7FFFFF);
  EXPECT_STREQ(getNeutronErrorComponent(e), "driver");
  EXPECT_STREQ(getNeutronErrorCategory(e), "timeout");
  EXPECT_STREQ(getNeutronErrorCategory(GEN_NEUTRON_ERROR(ERROR_COMPONENT_FIRMWARE, ERROR_CATEGORY_FW_UCODE, 1)), "ucode");
}

TEST(NeutronDriver, RunsAndReportsTiming) {
  ASSERT_EQ(neutronInit(), ENONE);
  Fixture f(small_image());
  ASSERT_EQ(f.prepare(), ENONE) << neutronGetLastErrorMessage();
  char buf[4096];
  NeutronTraceConfig t = {TRACE_CONFIG_KERNEL_LEVEL | TRACE_CONFIG_JOB_LEVEL, buf, sizeof(buf)};
  neutronSetTrace(f.h, &t);
  char* text = nullptr;
  size_t len = 0;
  EXPECT_EQ(category(neutronGetTrace(f.h, &text, &len)), uint32_t(ERROR_CATEGORY_DRIVER_TRACE_NOT_RUN));
  NeutronRunStats stats;
  EXPECT_EQ(category(neutronGetRunStats(f.h, &stats)), uint32_t(ERROR_CATEGORY_DRIVER_TRACE_NOT_RUN));
  ASSERT_EQ(neutronRunBlocking(f.h, &f.d), ENONE) << neutronGetLastErrorMessage();
  ASSERT_EQ(neutronGetTrace(f.h, &text, &len), ENONE);
  const std::string s(text, len);
  EXPECT_NE(s.find("kernel 0 conv2d start=0 cycles="), std::string::npos) << s;
  EXPECT_NE(s.find("kernel 1 table"), std::string::npos) << s;
  EXPECT_NE(s.find("jobs 0 conv2d count=6"), std::string::npos) << s;
  ASSERT_EQ(neutronGetRunStats(f.h, &stats), ENONE);
  EXPECT_GT(stats.totalCycles, 0u);
  EXPECT_EQ(stats.macs, 36u * 8 * 27);
  EXPECT_EQ(stats.kernels, 2u);
  EXPECT_EQ(stats.runs, 1u);
  NeutronKernelRecord rec[4];
  uint32_t n = 0;
  ASSERT_EQ(neutronGetKernelRecords(f.h, rec, 4, &n), ENONE);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(rec[0].opcode, uint16_t(Opcode::kConv2D));
  EXPECT_EQ(rec[1].startCycle, rec[0].cycles);
  EXPECT_EQ(rec[0].cycles + rec[1].cycles, stats.totalCycles);
  // Profile buffer: one 16-byte record per kernel, kernel-call opcode 6 on the stop event.
  const uint8_t* p = f.profile.data();
  EXPECT_EQ(p[9], 6);
  EXPECT_EQ(p[10], uint8_t(Opcode::kConv2D));
  EXPECT_EQ(p[16 + 10], uint8_t(Opcode::kTable));
  uint32_t stop0;
  std::memcpy(&stop0, p + 12, 4);
  EXPECT_EQ(stop0, rec[0].cycles);
  // Second run: same output (outputs deterministic), runs counter increments.
  std::vector<uint8_t> first(f.out.data(), f.out.data() + 288);
  ASSERT_EQ(neutronRunBlocking(f.h, &f.d), ENONE);
  EXPECT_EQ(std::vector<uint8_t>(f.out.data(), f.out.data() + 288), first);
  ASSERT_EQ(neutronGetRunStats(f.h, &stats), ENONE);
  EXPECT_EQ(stats.runs, 2u);
  // A tiny caller trace buffer truncates but stays NUL-terminated.
  char small[16];
  NeutronTraceConfig t2 = {TRACE_CONFIG_KERNEL_LEVEL, small, sizeof(small)};
  neutronSetTrace(f.h, &t2);
  ASSERT_EQ(neutronRunBlocking(f.h, &f.d), ENONE);
  ASSERT_EQ(neutronGetTrace(f.h, &text, &len), ENONE);
  EXPECT_EQ(len, 15u);
  EXPECT_EQ(text[15], '\0');
  // Driver-allocated trace buffer.
  NeutronTraceConfig t3 = {TRACE_CONFIG_KERNEL_LEVEL, nullptr, 0};
  neutronSetTrace(f.h, &t3);
  EXPECT_NE(t3.traceBuffer, nullptr);
  ASSERT_EQ(neutronRunBlocking(f.h, &f.d), ENONE);
  ASSERT_EQ(neutronGetTrace(f.h, &text, &len), ENONE);
  EXPECT_GT(len, 0u);
  EXPECT_EQ(neutronModelUnprepare(f.h), ENONE);
  EXPECT_EQ(category(neutronModelUnprepare(f.h)), uint32_t(ERROR_CATEGORY_DRIVER_BAD_HANDLE));
}

TEST(NeutronDriver, ModelErrors) {
  ASSERT_EQ(neutronInit(), ENONE);
  const MicrocodeImage img = small_image();
  NeutronModelHandle h = nullptr;
  // Null pointers.
  EXPECT_EQ(category(neutronModelPrepare(nullptr, &h)), uint32_t(ERROR_CATEGORY_DRIVER_INVALID));
  {
    Fixture f(img);
    EXPECT_EQ(component(neutronModelPrepare(&f.cfg, nullptr)), uint32_t(ERROR_COMPONENT_DRIVER));
    f.cfg.microcode = nullptr;
    const NeutronError e = f.prepare();
    EXPECT_EQ(component(e), uint32_t(ERROR_COMPONENT_FIRMWARE));
    EXPECT_EQ(category(e), uint32_t(ERROR_CATEGORY_FW_NULL_POINTER));
  }
  // Misaligned buffers.
  {
    Fixture f(img);
    AlignedBuffer shifted(img.microcode.size() + 1);
    std::memcpy(shifted.data() + 1, img.microcode.data(), img.microcode.size());
    f.cfg.microcode = shifted.data() + 1;
    EXPECT_EQ(category(f.prepare()), uint32_t(ERROR_CATEGORY_DRIVER_INVALID));
    EXPECT_STREQ(neutronGetLastErrorMessage(), "microcode, weights and kernels must be 16-byte aligned");
  }
  // Magic and version: firmware ucode errors, with or without declared sizes.
  for (int word : {0, 1}) {
    for (bool sizes : {true, false}) {
      Fixture f(img);
      uint32_t bad = 77;
      std::memcpy(f.mc.data() + 4 * word, &bad, 4);
      if (!sizes) f.cfg.microcodeSize = f.cfg.weightsSize = 0;
      const NeutronError e = f.prepare();
      EXPECT_EQ(component(e), uint32_t(ERROR_COMPONENT_FIRMWARE)) << word;
      EXPECT_EQ(category(e), uint32_t(ERROR_CATEGORY_FW_UCODE)) << word;
    }
  }
  // A kernel whose geometry does not fit: ucode error naming instruction 0 in the code.
  {
    MicrocodeWriter w = small_writer();
    MicrocodeImage bad = small_image();
    npu::MicrocodeView v;
    ASSERT_TRUE(npu::validate_microcode(bad.microcode.data(), bad.microcode.size(), bad.weights.size(), &v).ok());
    const size_t conv_args = v.word(npu::kWordInstructionsOffset) + 4;
    const int32_t stride = 2;
    std::memcpy(bad.microcode.data() + conv_args + offsetof(npu::ConvArgs, stride_h), &stride, 4);
    Fixture f(bad);
    const NeutronError e = f.prepare();
    EXPECT_EQ(category(e), uint32_t(ERROR_CATEGORY_FW_UCODE));
    EXPECT_EQ(GET_ERROR_CODE(e) >> 8, 1) << "instruction 0, plus one";
    EXPECT_EQ(GET_ERROR_CODE(e) & 0xFF, uint32_t(Error::InvalidModel));
    EXPECT_STREQ(neutronGetLastErrorMessage(), "conv: output height/width do not follow from the input and the geometry");
  }
  // Declared buffers smaller than the header says.
  {
    Fixture f(img);
    f.cfg.weightsSize = 16;
    EXPECT_EQ(category(f.prepare()), uint32_t(ERROR_CATEGORY_FW_UCODE));
  }
  // Caller context too small.
  {
    Fixture f(img);
    f.ctx.resize(neutronGetModelContextSize());
    f.cfg.contextSize = 0;
    f.h = f.ctx.data();
    EXPECT_EQ(category(neutronModelPrepare(&f.cfg, &f.h)), uint32_t(ERROR_CATEGORY_DRIVER_NO_MEMORY));
  }
  // Not supported: a resize mode the kernel library lacks (0 nearest and 1 bilinear exist).
  {
    MicrocodeWriter w;
    npu::ResizeArgs r{};
    r.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 2, 2, 1});
    r.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 4, 4, 1});
    r.mode = 2;
    w.append(Opcode::kResize, r);
    w.set_num_inputs(1);
    w.set_num_outputs(1);
    auto bad = w.finish();
    ASSERT_TRUE(bad.ok());
    Fixture f(*bad);
    const NeutronError e = f.prepare();
    EXPECT_EQ(component(e), uint32_t(ERROR_COMPONENT_DRIVER));
    EXPECT_EQ(category(e), uint32_t(ERROR_CATEGORY_DRIVER_UNSUPPORTED));
  }
}

TEST(NeutronDriver, RunErrors) {
  ASSERT_EQ(neutronInit(), ENONE);
  Fixture f(small_image());
  ASSERT_EQ(f.prepare(), ENONE);
  EXPECT_EQ(category(neutronRunBlocking(nullptr, &f.d)), uint32_t(ERROR_CATEGORY_DRIVER_BAD_HANDLE));
  int not_a_context[16] = {};
  EXPECT_EQ(category(neutronRunBlocking(not_a_context, &f.d)), uint32_t(ERROR_CATEGORY_DRIVER_BAD_HANDLE));
  EXPECT_EQ(category(neutronRunBlocking(f.h, nullptr)), uint32_t(ERROR_CATEGORY_DRIVER_INVALID));
  f.ins[0] = nullptr;
  NeutronError e = neutronRunBlocking(f.h, &f.d);
  EXPECT_EQ(component(e), uint32_t(ERROR_COMPONENT_FIRMWARE));
  EXPECT_EQ(category(e), uint32_t(ERROR_CATEGORY_FW_NULL_POINTER));
  f.ins[0] = f.in.data();
  f.outs[1] = nullptr;  // scratch slot empty, dcfg->scratch too
  EXPECT_EQ(category(neutronRunBlocking(f.h, &f.d)), uint32_t(ERROR_CATEGORY_FW_NULL_POINTER));
  f.d.scratch = f.scratch.data();  // the explicit field is the fallback
  EXPECT_EQ(neutronRunBlocking(f.h, &f.d), ENONE) << neutronGetLastErrorMessage();
  f.outs[1] = f.scratch.data() + 4;
  EXPECT_EQ(category(neutronRunBlocking(f.h, &f.d)), uint32_t(ERROR_CATEGORY_DRIVER_INVALID));
  f.outs[1] = f.scratch.data();
  // Timeout: a simulated run longer than timeoutSeconds.
  sim::SimConfig slow = driver::sim_config();
  const sim::SimConfig saved = slow;
  slow.kernel_overhead_cycles = 4000000000u;
  slow.job_overhead_cycles = 4000000000u;  // 2 kernels + 12 jobs: about 170 s at 325 MHz
  driver::set_sim_config(slow);
  EXPECT_EQ(category(neutronRunBlocking(f.h, &f.d)), uint32_t(ERROR_CATEGORY_DRIVER_TIMEOUT));
  driver::set_sim_config(saved);
  EXPECT_EQ(neutronRunBlocking(f.h, &f.d), ENONE);
  // Neutron-S only calls.
  EXPECT_EQ(category(neutronRunNonBlocking(f.h, &f.d)), uint32_t(ERROR_CATEGORY_DRIVER_UNSUPPORTED));
  EXPECT_EQ(category(neutronWait(f.h, &f.d)), uint32_t(ERROR_CATEGORY_DRIVER_UNSUPPORTED));
  EXPECT_EQ(neutronModelUnprepare(f.h), ENONE);
  // Not initialized.
  ASSERT_EQ(neutronDeinit(), ENONE);
  Fixture g(small_image());
  EXPECT_EQ(category(g.prepare()), uint32_t(ERROR_CATEGORY_DRIVER_GENERIC));
  EXPECT_STREQ(neutronGetLastErrorMessage(), "driver not initialized (neutronInit)");
  ASSERT_EQ(neutronInit(), ENONE);
}

TEST(NeutronDriver, WideProgramRuns) {
  const DriverResult r = run_on_driver(wide_image(), {std::vector<uint8_t>(128, 5)});
  ASSERT_EQ(r.prepare, ENONE) << error_text(r.prepare);
  ASSERT_EQ(r.run, ENONE) << error_text(r.run);
  int sum = 0;
  for (uint8_t v : r.outputs[0]) sum += int8_t(v) + 128;
  EXPECT_NEAR(sum, 256, 12);  // softmax probabilities in 1/256 add up to about 1
}

TEST(NeutronDriver, HeapContext) {
  ASSERT_EQ(neutronInit(), ENONE);
  Fixture f(small_image());
  NeutronModelHandle h = nullptr;
  ASSERT_EQ(neutronModelPrepare(&f.cfg, &h), ENONE);
  EXPECT_NE(h, nullptr);
  EXPECT_EQ(neutronRunBlocking(h, &f.d), ENONE);
  EXPECT_EQ(neutronModelUnprepare(h), ENONE);  // frees (LeakSanitizer checks)
}

// Random corruption of microcode and weights: prepare rejects, or the run completes. Buffers
// are sized from the (corrupted) tensor table, as a correct caller sizes them.
TEST(NeutronDriver, RandomCorruptionNeverCrashes) {
  ASSERT_EQ(neutronInit(), ENONE);
  const MicrocodeImage images[2] = {small_image(), wide_image()};
  // NEUTRON_FUZZ_SEED / NEUTRON_FUZZ_ITERS run other or longer campaigns by hand.
  const uint32_t seed = std::getenv("NEUTRON_FUZZ_SEED") ? uint32_t(std::atoi(std::getenv("NEUTRON_FUZZ_SEED"))) : 7;
  const int iters = std::getenv("NEUTRON_FUZZ_ITERS") ? std::atoi(std::getenv("NEUTRON_FUZZ_ITERS")) : 3000;
  std::mt19937 rng(seed);
  int prepared = 0, ran = 0;
  for (int iter = 0; iter < iters; ++iter) {
    MicrocodeImage m = images[iter % 2];
    const int flips = 1 + int(rng() % 3);
    for (int k = 0; k < flips; ++k) {
      std::vector<uint8_t>& target = rng() % 4 == 0 ? m.weights : m.microcode;
      const size_t at = rng() % target.size();
      if (rng() % 2)
        target[at] ^= uint8_t(1u << (rng() % 8));
      else
        target[at] = uint8_t(rng());
    }
    AlignedBuffer mc, w;
    mc.assign(m.microcode.data(), m.microcode.size());
    w.assign(m.weights.data(), m.weights.size());
    NeutronModelConfig cfg = {};
    cfg.microcode = mc.data();
    cfg.weights = w.data();
    cfg.microcodeSize = mc.size();
    cfg.weightsSize = w.size();
    size_t need = 0;
    if (neutronGetModelContextSizeForModel(&cfg, &need) != ENONE) continue;
    if (need > (size_t(1) << 20)) continue;
    AlignedBuffer ctx(need);
    cfg.contextSize = need;
    NeutronModelHandle h = ctx.data();
    if (neutronModelPrepare(&cfg, &h) != ENONE) continue;
    ++prepared;
    npu::MicrocodeView v;
    ASSERT_TRUE(npu::validate_microcode(mc.data(), mc.size(), w.size(), &v).ok());
    bool too_big = v.scratch_size() > (1u << 20) || v.sram_scratch_size() > (1u << 20) || v.profile_size() > (1u << 16);
    for (uint32_t i = 0; i < v.num_tensors(); ++i) too_big |= v.tensor(i).size > (1u << 20);
    for (uint32_t i = 0; i < v.num_inputs(); ++i) too_big |= io_extent(v, Region::kInput, i) > (1u << 20);
    for (uint32_t i = 0; i < v.num_outputs(); ++i) too_big |= io_extent(v, Region::kOutput, i) > (1u << 20);
    // Keep the test fast: skip programs whose (timing-model) work is large.
    const sim::TimingSummary t = sim::estimate_timing(sim::default_sim_config(), v, nullptr, 0);
    too_big |= t.macs > 20000000 || t.compute_cycles > 2000000;
    if (too_big) {
      neutronModelUnprepare(h);
      continue;
    }
    std::vector<AlignedBuffer> ins(v.num_inputs()), outs(v.num_outputs());
    std::vector<const void*> in_ptrs;
    std::vector<void*> out_ptrs;
    for (uint32_t i = 0; i < v.num_inputs(); ++i) {
      ins[i].resize(io_extent(v, Region::kInput, i), uint8_t(rng()));
      in_ptrs.push_back(ins[i].data());
    }
    for (uint32_t i = 0; i < v.num_outputs(); ++i) {
      outs[i].resize(io_extent(v, Region::kOutput, i));
      out_ptrs.push_back(outs[i].data());
    }
    AlignedBuffer scratch(v.scratch_size()), sram(v.sram_scratch_size()), profile(v.profile_size()),
        debug(v.debug_size());
    out_ptrs.push_back(scratch.data());
    out_ptrs.push_back(profile.data());
    out_ptrs.push_back(debug.data());
    NeutronDataConfig d = {};
    d.inputs = in_ptrs.data();
    d.outputs = out_ptrs.data();
    d.scratchWeights = sram.data();
    if (neutronRunBlocking(h, &d) == ENONE) ++ran;
    EXPECT_EQ(neutronModelUnprepare(h), ENONE);
  }
  std::printf("corruption: %d of %d prepared, %d ran\n", prepared, iters, ran);
  EXPECT_GT(prepared, 10) << "seed " << seed;
  EXPECT_GT(ran, 10) << "seed " << seed;
}

}  // namespace
}  // namespace neutron::testing
