// No model is refused whole (issue 16, deliverable 4): an op with no int8 kernel, or one the user
// keeps in float (QuantizeOptions::keep_float, --keep-float), runs on the CPU in float inside the
// program: float kernel calls (opcodes 48-63) between quantize / dequantize calls. The program, for
// imxrt700 and for --target cpu, computes the host executor's floats bit for bit (same float
// kernels, same parameters) and stays close to the float model; the delegation report says why
// each float node is on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/compiler.h"
#include "core/npy.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "kernel_calls/kernel_calls.h"
#include "runtime/payload.h"
#include "util/program_util.h"

namespace neutron::testing {
namespace {

Attributes ints(const std::string& name, std::vector<int64_t> v, Attributes a = {}) {
  a.set(name, std::move(v));
  return a;
}

TensorData random_input(const Shape& s, std::mt19937& rng, float sd = 1.0f) {
  TensorData t(DType::F32, s);
  std::normal_distribution<float> nd(0.0f, sd);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = nd(rng);
  return t;
}

StatusOr<Graph> quantize(const Graph& g, const TensorData& samples, std::vector<std::string> keep_float) {
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({g.tensor(g.inputs[0]).name, samples});
  ASSIGN_OR_RETURN(CalibrationSet calib, make_calibration_set(model_inputs(g), std::move(arrays)));
  QuantizeOptions o;
  o.keep_float = std::move(keep_float);
  return quantize_graph(g, calib, o);
}

// The quantized graph compiled as `neutron compile` does, for `target` (or "cpu"), the partitioner
// told `keep_float`.
using Compiled = CompiledProgram;
StatusOr<Compiled> compile(const Graph& qdq, const std::string& target, const std::vector<std::string>& keep_float) {
  PartitionOptions po;
  po.keep_float = keep_float;
  return compile_qdq(qdq, target, "float_fallback", po);
}



std::string rule_of(const Compiled& c, const std::string& node) {
  for (NodeId id : c.graph.live_nodes())
    if (c.graph.node(id).name == node)
      return c.part.nodes[size_t(id)].rejection ? c.part.nodes[size_t(id)].rejection->rule : "NPU";
  return "missing";
}

double max_abs_diff(const TensorData& a, const TensorData& b) {
  double m = 0;
  for (int64_t i = 0; i < a.count(); ++i)
    m = std::max(m, std::fabs(double(a.data<float>()[i]) - double(b.data<float>()[i])));
  return m;
}

// A CNN with ops kept in float by the user (by op type and by node name; Div, which has an int8
// kernel now, kept in float too, to keep its float call covered):
//   x -> Conv -> Sigmoid* -> ConvTranspose* (stride 2) -> Conv* -> Relu -> Div(., Sigmoid) ->
//   MaxPool -> GlobalAveragePool -> Reshape -> Gemm* -> Softmax*      (* kept in float)
TEST(FloatFallback, OpsKeptInFloatAndOpsWithoutInt8KernelRunAsFloatKernelCalls) {
  GraphBuilder b(11);
  const TensorId x = b.input("x", {1, 3, 8, 8});
  const TensorId c1 = b.conv(x, b.random_constant("w1", {8, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {8}));
  const TensorId s = b.op(OpKind::Sigmoid, {c1});
  Attributes ct = ints("strides", {2, 2}, ints("pads", {0, 0, 0, 0}));
  const TensorId up = b.op(OpKind::ConvTranspose, {s, b.random_constant("wt", {8, 4, 2, 2}, -0.5f, 0.5f),
                                                   b.random_constant("bt", {4})}, ct);
  const TensorId c2 = b.conv(up, b.random_constant("w2", {8, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {8}));
  const std::string conv2 = b.g.node(b.g.tensor(c2).producer).name;
  const TensorId r = b.op(OpKind::Relu, {c2});
  const TensorId mp = b.op(OpKind::MaxPool, {r}, ints("kernel_shape", {2, 2}, ints("strides", {2, 2})));
  const TensorId d = b.op(OpKind::Div, {mp, s});  // run-time divisor in (0, 1)
  const TensorId gp = b.op(OpKind::GlobalAveragePool, {d});
  const TensorId f = b.op(OpKind::Reshape, {gp}, ints("shape", {1, 8}));
  Attributes tb;
  tb.set("transB", int64_t(1));
  const TensorId gm = b.op(OpKind::Gemm, {f, b.random_constant("w3", {5, 8}), b.random_constant("b3", {5})}, tb);
  const std::string gemm = b.g.node(b.g.tensor(gm).producer).name;
  const TensorId y = b.op(OpKind::Softmax, {gm}, [] { Attributes a; a.set("axis", int64_t(1)); return a; }());
  const Graph g = b.finish({y});

  std::mt19937 rng(5);
  const TensorData calib = random_input({16, 1, 3, 8, 8}, rng);
  const std::vector<std::string> keep = {"Sigmoid", "Softmax", "ConvTranspose", "Div", conv2, gemm};
  auto q = quantize(g, calib, keep);
  ASSERT_TRUE(q.ok()) << q.status().to_string();

  auto npu = compile(q.value(), "imxrt700", keep);
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu", keep);
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();

  // The report says why each float node is on the CPU.
  EXPECT_EQ(rule_of(npu.value(), conv2), "user.keep_float");
  EXPECT_EQ(rule_of(npu.value(), gemm), "user.keep_float");
  int kept = 0, on_npu = 0;
  for (NodeId id : npu->graph.live_nodes()) {
    const auto& pl = npu->part.nodes[size_t(id)];
    const OpKind k = npu->graph.node(id).kind;
    if (pl.partition >= 0) ++on_npu;
    if (!pl.rejection) continue;
    if (k == OpKind::Sigmoid || k == OpKind::Softmax || k == OpKind::ConvTranspose || k == OpKind::Div) {
      EXPECT_EQ(pl.rejection->rule, "user.keep_float") << describe(npu->graph, id);
    }
    kept += pl.rejection->rule == "user.keep_float";
  }
  EXPECT_EQ(kept, 6);
  EXPECT_GE(on_npu, 2) << "the int8 Conv, Relu, MaxPool and pool still go to the NPU";

  // The CPU instructions hold float kernel calls and the quantize / dequantize calls at their edges.
  const std::string calls = cpu_kernel_listing(npu->file);
  for (const char* op : {"quantize", "dequantize", "conv_f32", "gemm_f32", "unary_f32", "softmax_f32",
                         "elementwise_f32"})
    EXPECT_NE(calls.find(op), std::string::npos) << op << " missing in\n" << calls;

  const Graph float_ref = g;
  double sig = 0, err = 0;
  for (int sample = 0; sample < 4; ++sample) {
    const std::vector<TensorData> in = {random_input({1, 3, 8, 8}, rng)};
    const std::vector<TensorData> host = run_on_cpu(q.value(), in);
    ASSERT_EQ(host.size(), 1u);
    const auto on_npu_out = run_program(npu->file, in);
    const auto on_cpu_out = run_program(cpu->file, in);
    ASSERT_EQ(on_npu_out.size(), 1u);
    ASSERT_EQ(on_cpu_out.size(), 1u);
    EXPECT_EQ(on_npu_out[0].bytes, host[0].bytes) << "imxrt700 program differs from the host executor, sample " << sample;
    EXPECT_EQ(on_cpu_out[0].bytes, host[0].bytes) << "cpu program differs from the host executor, sample " << sample;
    // ONNX semantics: the float model, within the int8 error of the quantized parts.
    const std::vector<TensorData> want = run_on_cpu(float_ref, in);
    ASSERT_EQ(want.size(), 1u);
    EXPECT_LT(max_abs_diff(want[0], on_npu_out[0]), 0.25) << "sample " << sample;
    for (int64_t i = 0; i < want[0].count(); ++i) {
      const double w = want[0].data<float>()[i], o = on_npu_out[0].data<float>()[i];
      sig += w * w;
      err += (w - o) * (w - o);
    }
  }
  const double sqnr = 10 * std::log10(sig / std::max(err, 1e-30));
  std::printf("float fallback CNN program vs the float model: SQNR %.1f dB\n", sqnr);
  EXPECT_GT(sqnr, 15.0);
}

// Div by a run-time tensor with int8 QDQ operands is an int8 op: one `div` kernel call, on the NPU
// for imxrt700 (delegated with Mul's rule) and on the CPU for --target cpu, bit-exact between the
// host executor and both programs, no float call, close to the float model.
TEST(Int8Div, DivByARuntimeTensorIsOneInt8KernelCall) {
  GraphBuilder b(13);
  const TensorId x = b.input("x", {1, 3, 8, 8});
  const TensorId c1 = b.conv(x, b.random_constant("w1", {8, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {8}));
  const TensorId c2 = b.conv(x, b.random_constant("w2", {8, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {8}));
  const TensorId s = b.op(OpKind::Sigmoid, {c2});
  const TensorId gp = b.op(OpKind::GlobalAveragePool, {s});  // a broadcast divisor [1, 8, 1, 1]
  const TensorId half = b.op(OpKind::Add, {gp, b.constant("h", {}, {0.5f})});
  const TensorId y = b.op(OpKind::Div, {c1, half});
  const Graph g = b.finish({y});

  std::mt19937 rng(7);
  const TensorData calib = random_input({16, 1, 3, 8, 8}, rng);
  auto q = quantize(g, calib, {});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto npu = compile(q.value(), "imxrt700", {});
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu", {});
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  int divs = 0;
  for (NodeId id : npu->graph.live_nodes())
    if (npu->graph.node(id).kind == OpKind::Div) {
      ++divs;
      EXPECT_FALSE(npu->part.nodes[size_t(id)].rejection.has_value()) << npu->part.nodes[size_t(id)].rejection->rule;
      EXPECT_GE(npu->part.nodes[size_t(id)].partition, 0);
      EXPECT_EQ(npu->graph.tensor(npu->graph.node(id).outputs[0]).dtype, DType::I8);
    }
  EXPECT_EQ(divs, 1);
  std::string npu_calls;
  for (const auto& in : npu->file.instructions)
    if (in.kind == "delegate") npu_calls += compiler::disassemble_payload(in.payload);
  EXPECT_NE(npu_calls.find(" div "), std::string::npos) << npu_calls;
  const std::string calls = cpu_kernel_listing(cpu->file);
  EXPECT_NE(calls.find(" div "), std::string::npos) << calls;
  EXPECT_EQ(calls.find("elementwise_f32"), std::string::npos) << calls;

  double sig = 0, err = 0;
  for (int sample = 0; sample < 4; ++sample) {
    const std::vector<TensorData> in = {random_input({1, 3, 8, 8}, rng)};
    const std::vector<TensorData> host = run_on_cpu(q.value(), in);
    ASSERT_EQ(host.size(), 1u);
    const auto on_npu_out = run_program(npu->file, in);
    const auto on_cpu_out = run_program(cpu->file, in);
    ASSERT_EQ(on_npu_out.size(), 1u);
    ASSERT_EQ(on_cpu_out.size(), 1u);
    EXPECT_EQ(on_npu_out[0].bytes, host[0].bytes) << "imxrt700 program differs from the host executor, sample " << sample;
    EXPECT_EQ(on_cpu_out[0].bytes, host[0].bytes) << "cpu program differs from the host executor, sample " << sample;
    const std::vector<TensorData> want = run_on_cpu(g, in);
    for (int64_t i = 0; i < want[0].count(); ++i) {
      const double w = want[0].data<float>()[i], o = host[0].data<float>()[i];
      sig += w * w;
      err += (w - o) * (w - o);
    }
  }
  const double sqnr = 10 * std::log10(sig / std::max(err, 1e-30));
  std::printf("int8 Div program vs the float model: SQNR %.1f dB\n", sqnr);
  EXPECT_GT(sqnr, 25.0);
}

// Quantize / dequantize calls refuse the NPU: float kernel calls run on the CPU only.
TEST(FloatFallback, TheNpuRefusesFloatKernelCalls) {
  GraphBuilder b(3);
  const TensorId x = b.input("x", {1, 16});
  const TensorId t = b.op(OpKind::Tanh, {x});
  const TensorId h = b.op(OpKind::Gemm, {t, b.random_constant("w", {16, 16}), b.random_constant("bias", {16})});
  const TensorId y = b.op(OpKind::Sigmoid, {h});
  const Graph g = b.finish({y});
  std::mt19937 rng(2);
  auto q = quantize(g, random_input({8, 1, 16}, rng), {"Gemm"});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto cpu = compile(q.value(), "cpu", {});
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  // Compiled without the user's list and without the quantizer's keep_float mark (as a QDQ model
  // made elsewhere would be): a float op the quantizer could have made int8 is reported as having
  // no int8 kernel.
  Graph elsewhere = q.value();
  for (NodeId id : elsewhere.live_nodes()) elsewhere.node(id).attrs.erase("keep_float");
  auto npu = compile(elsewhere, "imxrt700", {});
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  for (NodeId id : npu->graph.live_nodes())
    if (npu->graph.node(id).kind == OpKind::Gemm) {
      ASSERT_TRUE(npu->part.nodes[size_t(id)].rejection.has_value());
      EXPECT_EQ(npu->part.nodes[size_t(id)].rejection->rule, "float.no_int8_kernel");
      EXPECT_NE(npu->part.nodes[size_t(id)].rejection->reason.find("no int8 kernel for Gemm"), std::string::npos);
    }
  // The payload of the CPU instruction run under the NPU's limits (as the simulator would).
  for (const auto& in : cpu->file.instructions) {
    if (in.kind != "cpu_kernels") continue;
    runtime::PayloadView v;
    ExactBuffer copy(in.payload.data(), in.payload.size());
    ASSERT_TRUE(runtime::parse_payload(copy.data(), copy.size(), &v).ok());
    size_t bytes = 0;
    const kernel_calls::CallStatus npu_limits =
        kernel_calls::Executor::required_memory(v.mc, v.weights, &bytes, kernel_calls::Limits::kNpu);
    EXPECT_EQ(npu_limits.error, Error::NotSupported);
    EXPECT_STREQ(npu_limits.message, "float kernel calls run on the CPU only");
    EXPECT_TRUE(kernel_calls::Executor::required_memory(v.mc, v.weights, &bytes, kernel_calls::Limits::kCpu).ok());
  }
  const std::vector<TensorData> in = {random_input({1, 16}, rng)};
  const auto got = run_program(cpu->file, in);
  const auto host = run_on_cpu(q.value(), in);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(got[0].bytes, host[0].bytes);
}

// The GRU and LSTM keyword spotters with the recurrent op kept in float (--keep-float GRU / LSTM;
// before the int8 recurrent kernel they stayed float anyway): the program runs it as a
// recurrent_f32 call, bit-exact with the host executor, close to torch's float output.
void check_recurrent_fixture(const std::string& fixture, const std::string& op) {
  SCOPED_TRACE(fixture);
  auto f = import_onnx_file(fixture_path(fixture, "model_f32.onnx"));
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  Graph g = std::move(f).value();
  ASSERT_TRUE(run_passes(g, prequant_pipeline()).ok());
  auto calib_array = read_npy(fixture_path(fixture, "calib.npy"));
  ASSERT_TRUE(calib_array.ok());
  auto q = quantize(g, calib_array.value(), {op});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto npu = compile(q.value(), "imxrt700", {op});
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu", {op});
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  EXPECT_NE(cpu_kernel_listing(npu->file).find("recurrent_f32"), std::string::npos);
  auto inputs = read_npy(fixture_path(fixture, "inputs.npy"));
  auto ref = read_npy(fixture_path(fixture, "ref_f32.npy"));
  ASSERT_TRUE(inputs.ok() && ref.ok());
  const int64_t samples = inputs->shape[0], per_in = inputs->count() / samples, per_out = ref->count() / samples;
  double sig = 0, err = 0;
  for (int64_t s = 0; s < samples; ++s) {
    Shape xs = inputs->shape;
    xs[0] = 1;
    TensorData x(DType::F32, xs);
    std::memcpy(x.bytes.data(), inputs->data<float>() + s * per_in, x.bytes.size());
    const auto host = run_on_cpu(q.value(), {x});
    const auto a = run_program(npu->file, {x});
    const auto c = run_program(cpu->file, {x});
    ASSERT_EQ(host.size(), 1u);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(a[0].bytes, host[0].bytes) << "sample " << s;
    EXPECT_EQ(c[0].bytes, host[0].bytes) << "sample " << s;
    for (int64_t i = 0; i < per_out; ++i) {
      const double w = ref->data<float>()[s * per_out + i], o = a[0].data<float>()[i];
      sig += w * w;
      err += (w - o) * (w - o);
    }
  }
  const double sqnr = 10 * std::log10(sig / std::max(err, 1e-30));
  std::printf("%s (%s in float) program vs torch float: SQNR %.1f dB\n", fixture.c_str(), op.c_str(), sqnr);
  EXPECT_GT(sqnr, 25.0);
}

TEST(FloatFallback, GruAndLstmKeptInFloatRunAsRecurrentFloatCalls) {
  check_recurrent_fixture("gru_kws", "GRU");
  check_recurrent_fixture("lstm_kws", "LSTM");
}

}  // namespace
}  // namespace neutron::testing

namespace neutron::testing {
namespace {

// Issue 16, deliverable 3: PyTorch's quantizer gives each CifarNet Pad its own parameters, so its
// QDQ model has a requantization between two NPU ops before each Pad. They run on the NPU: one
// partition, no CPU round trip, and each is folded into the max pool before it (exact: checked on
// all 256 values by the lowering), so the payload has no table call at all. Same bytes as the host.
TEST(RequantizeOnNpu, CifarNetIsOnePartitionWithTheRequantizationsFoldedIntoThePools) {
  const FixtureProgram& fp = fixture_program("cifarnet", "imxrt700");
  ASSERT_TRUE(fp.error.empty()) << fp.error;
  int delegates = 0, cpu_kernels = 0;
  std::string listing;
  for (const auto& in : fp.file.instructions) {
    delegates += in.kind == "delegate";
    cpu_kernels += in.kind == "cpu_kernels";
    if (in.kind == "delegate") listing += compiler::disassemble_payload(in.payload);
  }
  EXPECT_EQ(delegates, 1);
  EXPECT_EQ(cpu_kernels, 0);
  EXPECT_EQ(listing.find(" table "), std::string::npos) << listing;
  EXPECT_NE(listing.find("maxpool2d"), std::string::npos) << listing;

  auto inputs = read_npy(fixture_path("cifarnet", "inputs.npy"));
  ASSERT_TRUE(inputs.ok());
  auto lp = load_program(fp.file.bytes);
  ASSERT_TRUE(lp->status.ok()) << describe(lp->status);
  auto q = import_onnx_file(fixture_path("cifarnet", "model_int8.onnx"));
  ASSERT_TRUE(q.ok());
  const int64_t per = inputs->count() / inputs->shape[0];
  for (int64_t s = 0; s < 3; ++s) {
    Shape xs = inputs->shape;
    xs[0] = 1;
    TensorData x(DType::F32, xs);
    std::memcpy(x.bytes.data(), inputs->data<float>() + s * per, x.bytes.size());
    std::vector<TensorData> got;
    ASSERT_TRUE(run_sample(lp->runner, {x}, &got).ok());
    const auto host = run_on_cpu(q.value(), {x});
    ASSERT_EQ(host.size(), 1u);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].bytes, host[0].bytes) << "sample " << s;
  }
}

}  // namespace
}  // namespace neutron::testing

namespace neutron::testing {
namespace {

// Issue 16's regressions, as tiny models built here (random weights): a TCN (dilated causal
// Conv1d, as 2-D on H = 1 with left padding) and a convolutional autoencoder (strided Conv down,
// ConvTranspose up, Sigmoid). Quantized, compiled for imxrt700 and the CPU: every MAC on the NPU,
// both programs equal the host executor bit for bit, close to the float model.
struct RegressionResult {
  double sqnr = 0;
  int64_t npu_macs = 0, macs = 0;
  size_t partitions = 0;
};

RegressionResult check_regression(const Graph& g, const Shape& in_shape, uint32_t seed) {
  RegressionResult res;
  std::mt19937 rng(seed);
  Shape calib_shape = in_shape;
  calib_shape.insert(calib_shape.begin(), 16);
  auto q = quantize(g, random_input(calib_shape, rng), {});
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  if (!q.ok()) return res;
  auto npu = compile(q.value(), "imxrt700", {});
  auto cpu = compile(q.value(), "cpu", {});
  EXPECT_TRUE(npu.ok() && cpu.ok()) << npu.status().to_string() << cpu.status().to_string();
  if (!npu.ok() || !cpu.ok()) return res;
  res.partitions = npu->part.partitions.size();
  for (NodeId id : npu->graph.live_nodes()) {
    res.macs += npu->part.nodes[size_t(id)].macs;
    if (npu->part.on_npu(id)) res.npu_macs += npu->part.nodes[size_t(id)].macs;
  }
  double sig = 0, err = 0;
  for (int s = 0; s < 3; ++s) {
    const std::vector<TensorData> in = {random_input(in_shape, rng)};
    const auto host = run_on_cpu(q.value(), in);
    const auto a = run_program(npu->file, in);
    const auto c = run_program(cpu->file, in);
    const auto want = run_on_cpu(g, in);
    EXPECT_EQ(host.size(), 1u);
    EXPECT_EQ(a.size(), 1u);
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(want.size(), 1u);
    if (host.size() != 1 || a.size() != 1 || c.size() != 1 || want.size() != 1) return res;
    EXPECT_EQ(a[0].bytes, host[0].bytes) << "sample " << s;
    EXPECT_EQ(c[0].bytes, host[0].bytes) << "sample " << s;
    for (int64_t i = 0; i < want[0].count(); ++i) {
      const double w = want[0].data<float>()[i], o = a[0].data<float>()[i];
      sig += w * w;
      err += (w - o) * (w - o);
    }
  }
  res.sqnr = 10 * std::log10(sig / std::max(err, 1e-30));
  return res;
}

TEST(Regressions, TcnDilatedCausalConv1d) {
  GraphBuilder b(21);
  const int64_t C = 8, T = 32, K = 3;
  TensorId h = b.input("x", {1, C, 1, T});
  for (int64_t d : {1, 2, 4}) {  // causal: pad (K - 1) * d on the left of the time axis only
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{1, K});
    a.set("dilations", std::vector<int64_t>{1, d});
    a.set("pads", std::vector<int64_t>{0, (K - 1) * d, 0, 0});
    const TensorId c = b.op(OpKind::Conv, {h, b.random_constant("w" + std::to_string(d), {C, C, 1, K}, -0.4f, 0.4f),
                                           b.random_constant("b" + std::to_string(d), {C}, -0.1f, 0.1f)},
                            a);
    h = b.op(OpKind::Add, {b.op(OpKind::Relu, {c}), h});  // residual
  }
  const Graph g = b.finish({h});
  const RegressionResult r = check_regression(g, {1, C, 1, T}, 3);
  std::printf("TCN: %zu partition(s), MACs on the NPU %lld of %lld, int8 vs float SQNR %.1f dB\n", r.partitions,
              (long long)r.npu_macs, (long long)r.macs, r.sqnr);
  EXPECT_EQ(r.npu_macs, r.macs);
  EXPECT_GT(r.macs, 0);
  EXPECT_GT(r.sqnr, 25.0);
}

TEST(Regressions, ConvAutoencoder) {
  GraphBuilder b(22);
  const TensorId x = b.input("x", {1, 1, 16, 16});
  auto conv = [&](TensorId in, int64_t cin, int64_t cout, const std::string& name) {
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{3, 3});
    a.set("strides", std::vector<int64_t>{2, 2});
    a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    return b.op(OpKind::Relu, {b.op(OpKind::Conv, {in, b.random_constant(name + "_w", {cout, cin, 3, 3}, -0.5f, 0.5f),
                                                   b.random_constant(name + "_b", {cout}, -0.1f, 0.1f)},
                                    a)});
  };
  auto up = [&](TensorId in, int64_t cin, int64_t cout, const std::string& name) {
    Attributes a;
    a.set("kernel_shape", std::vector<int64_t>{2, 2});
    a.set("strides", std::vector<int64_t>{2, 2});
    return b.op(OpKind::ConvTranspose, {in, b.random_constant(name + "_w", {cin, cout, 2, 2}, -0.5f, 0.5f),
                                        b.random_constant(name + "_b", {cout}, -0.1f, 0.1f)},
                a);
  };
  const TensorId e1 = conv(x, 1, 8, "enc1");
  const TensorId e2 = conv(e1, 8, 16, "enc2");
  const TensorId d1 = b.op(OpKind::Relu, {up(e2, 16, 8, "dec1")});
  const TensorId y = b.op(OpKind::Sigmoid, {up(d1, 8, 1, "dec2")});
  const Graph g = b.finish({y});
  const RegressionResult r = check_regression(g, {1, 1, 16, 16}, 4);
  std::printf("conv autoencoder: %zu partition(s), MACs on the NPU %lld of %lld, int8 vs float SQNR %.1f dB\n",
              r.partitions, (long long)r.npu_macs, (long long)r.macs, r.sqnr);
  EXPECT_EQ(r.npu_macs, r.macs);
  EXPECT_EQ(r.partitions, 1u);
  EXPECT_GT(r.sqnr, 25.0);
}

}  // namespace
}  // namespace neutron::testing

namespace neutron::testing {
namespace {

// An op whose int8 lowering is refused: a MaxPool with dilation 2 is quantized (it shares its input's
// parameters), but the int8 pools have no dilation, so fold-qdq leaves it in float; the program
// runs it as a float pool_f32 call between dequantize and quantize, and the report says why.
TEST(FloatFallback, AnOpWhoseInt8LoweringIsRefusedRunsInFloat) {
  GraphBuilder b(31);
  const TensorId x = b.input("x", {1, 4, 6, 6});
  const TensorId c = b.conv(x, b.random_constant("w1", {4, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{2, 2});
  a.set("dilations", std::vector<int64_t>{2, 2});
  const TensorId mp = b.op(OpKind::MaxPool, {c}, a);
  const TensorId y = b.conv(mp, b.random_constant("w2", {4, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {4}));
  const Graph g = b.finish({y});
  std::mt19937 rng(8);
  auto q = quantize(g, random_input({16, 1, 4, 6, 6}, rng), {});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto npu = compile(q.value(), "imxrt700", {});
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu", {});
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  int float_pools = 0;
  for (NodeId id : npu->graph.live_nodes())
    if (npu->graph.node(id).kind == OpKind::MaxPool) {
      ASSERT_TRUE(npu->part.nodes[size_t(id)].rejection.has_value());
      EXPECT_EQ(npu->part.nodes[size_t(id)].rejection->rule, "float.no_int8_kernel");
      ++float_pools;
    }
  EXPECT_EQ(float_pools, 1);
  const std::string calls = cpu_kernel_listing(npu->file);
  EXPECT_NE(calls.find("pool_f32"), std::string::npos) << calls;
  EXPECT_NE(calls.find("dilation_h=2"), std::string::npos) << calls;
  for (int s = 0; s < 3; ++s) {
    const std::vector<TensorData> in = {random_input({1, 4, 6, 6}, rng)};
    const auto host = run_on_cpu(q.value(), in);
    const auto a_out = run_program(npu->file, in);
    const auto c_out = run_program(cpu->file, in);
    ASSERT_EQ(host.size(), 1u);
    ASSERT_EQ(a_out.size(), 1u);
    ASSERT_EQ(c_out.size(), 1u);
    EXPECT_EQ(a_out[0].bytes, host[0].bytes) << "sample " << s;
    EXPECT_EQ(c_out[0].bytes, host[0].bytes) << "sample " << s;
  }
}

}  // namespace
}  // namespace neutron::testing

namespace neutron::testing {
namespace {

// Float kernel calls are untrusted bytes too: random edits of the CPU payloads of programs with
// float calls (the GRU spotter and a kept-float CNN), resealed so they pass the checksum, are
// either refused at load or run; never a crash or an out-of-bounds access (ASan builds check).
TEST(FloatFallback, MutatedFloatKernelCallsAreRefusedOrRun) {
  std::vector<std::pair<std::vector<uint8_t>, TensorData>> corpus;
  {
    auto f = import_onnx_file(fixture_path("gru_kws", "model_f32.onnx"));
    ASSERT_TRUE(f.ok());
    Graph g = std::move(f).value();
    ASSERT_TRUE(run_passes(g, prequant_pipeline()).ok());
    auto calib = read_npy(fixture_path("gru_kws", "calib.npy"));
    ASSERT_TRUE(calib.ok());
    auto q = quantize(g, calib.value(), {"GRU"});
    ASSERT_TRUE(q.ok());
    auto c = compile(q.value(), "cpu", {});
    ASSERT_TRUE(c.ok());
    auto in = read_npy(fixture_path("gru_kws", "inputs.npy"));
    ASSERT_TRUE(in.ok());
    Shape xs = in->shape;
    xs[0] = 1;
    TensorData x(DType::F32, xs);
    std::memcpy(x.bytes.data(), in->bytes.data(), x.bytes.size());
    corpus.emplace_back(c->file.bytes, x);
  }
  {
    GraphBuilder b(41);
    const TensorId x = b.input("x", {1, 3, 6, 6});
    const TensorId c1 = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}), b.random_constant("b1", {4}));
    const TensorId s = b.op(OpKind::Sigmoid, {c1});
    const TensorId c2 = b.conv(s, b.random_constant("w2", {4, 4, 3, 3}), b.random_constant("b2", {4}));
    Attributes pa;
    pa.set("kernel_shape", std::vector<int64_t>{2, 2});
    const TensorId p = b.op(OpKind::AveragePool, {c2}, pa);
    const Graph g = b.finish({b.op(OpKind::Softmax, {p})});
    std::mt19937 rng(1);
    auto q = quantize(g, random_input({8, 1, 3, 6, 6}, rng), {"Sigmoid", "Conv", "AveragePool", "Softmax"});
    ASSERT_TRUE(q.ok()) << q.status().to_string();
    auto c = compile(q.value(), "cpu", {});
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    corpus.emplace_back(c->file.bytes, random_input({1, 3, 6, 6}, rng));
  }
  std::mt19937 rng(20261206);
  int loaded = 0, ran = 0, total = 0;
  for (const auto& [bytes, input] : corpus) {
    ASSERT_TRUE(load_program(bytes)->status.ok());
    const fb::Program* p = fb::GetProgram(bytes.data());
    std::vector<std::pair<size_t, size_t>> ranges;
    for (const fb::Payload* pl : *p->payloads())
      ranges.emplace_back(size_t(pl->data()->data() - bytes.data()), size_t(pl->data()->size()));
    ASSERT_FALSE(ranges.empty());
    for (int m = 0; m < (kSanitized ? 150 : 400); ++m) {
      std::vector<uint8_t> mutant = bytes;
      const auto [at, n] = ranges[rng() % ranges.size()];
      // Mostly the microcode (header, tensor table, args) at the payload's start.
      const size_t span = std::min<size_t>(n, (rng() % 2) ? 1024 : n);
      for (int e = 0, edits = 1 + int(rng() % 3); e < edits; ++e) {
        uint8_t& byte = mutant[at + rng() % span];
        byte = rng() % 2 ? uint8_t(rng()) : uint8_t(byte ^ (1u << (rng() % 8)));
      }
      mutant = reseal_program(mutant);
      auto lp = load_program(mutant.data(), mutant.size(), size_t(64) << 20);
      ++total;
      if (!lp->status.ok()) continue;
      ++loaded;
      std::vector<TensorData> outs;
      if (run_sample(lp->runner, {input}, &outs).ok()) ++ran;
    }
  }
  std::printf("float kernel-call mutants: %d, %d loaded, %d ran\n", total, loaded, ran);
  EXPECT_LT(loaded, total);
}

}  // namespace
}  // namespace neutron::testing

namespace neutron::testing {
namespace {

// Compiles `g` with the ops in `keep` kept in float for imxrt700 and --target cpu; each program
// holds `opcode` and computes the host executor's bytes on every output; the kept nodes are
// reported user.keep_float.
void check_kept_float(const Graph& g, const std::vector<std::string>& keep, const Shape& in_shape,
                      const std::string& opcode, uint32_t seed, const std::vector<std::string>& also = {}) {
  std::mt19937 rng(seed);
  Shape calib_shape = in_shape;
  calib_shape.insert(calib_shape.begin(), 8);
  auto q = quantize(g, random_input(calib_shape, rng), keep);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto npu = compile(q.value(), "imxrt700", keep);
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu", keep);
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  int kept = 0;
  for (NodeId id : npu->graph.live_nodes())
    for (const std::string& k : keep)
      if (op_kind_name(npu->graph.node(id).kind) == k &&
          npu->graph.tensor(npu->graph.node(id).outputs[0]).dtype == DType::F32) {
        ASSERT_TRUE(npu->part.nodes[size_t(id)].rejection.has_value()) << describe(npu->graph, id);
        EXPECT_EQ(npu->part.nodes[size_t(id)].rejection->rule, "user.keep_float") << describe(npu->graph, id);
        ++kept;
      }
  EXPECT_GT(kept, 0);
  const std::string calls = cpu_kernel_listing(npu->file);
  EXPECT_NE(calls.find(opcode), std::string::npos) << calls;
  for (const std::string& want : also) EXPECT_NE(calls.find(want), std::string::npos) << want << " missing in\n" << calls;
  EXPECT_NE(cpu_kernel_listing(cpu->file).find(opcode), std::string::npos);
  for (int s = 0; s < 3; ++s) {
    const std::vector<TensorData> in = {random_input(in_shape, rng)};
    const auto host = run_on_cpu(q.value(), in);
    const auto a = run_program(npu->file, in);
    const auto c = run_program(cpu->file, in);
    ASSERT_EQ(host.size(), g.outputs.size());
    ASSERT_EQ(a.size(), host.size());
    ASSERT_EQ(c.size(), host.size());
    for (size_t o = 0; o < host.size(); ++o) {
      EXPECT_EQ(a[o].bytes, host[o].bytes) << "imxrt700 program, output " << o << ", sample " << s;
      EXPECT_EQ(c[o].bytes, host[o].bytes) << "cpu program, output " << o << ", sample " << s;
    }
  }
}

Attributes reduce_attrs(std::vector<int64_t> axes, int64_t keepdims) {
  Attributes a;
  if (!axes.empty()) a.set("axes", std::move(axes));
  a.set("keepdims", keepdims);
  return a;
}

// ReduceMean/Max/Min/Sum kept in float: reduce_f32 calls over NCHW axes (spatial, channels,
// all), with and without keepdims, on a 4-D and a 5-D tensor. (A ReduceMax/Min between int8 ops
// is folded to int8 by fold-qdq even when kept: exact, max/min commute with the quantization.)
TEST(FloatFallback, ReducesKeptInFloatRunAsReduceFloatCalls) {
  GraphBuilder b(41);
  const TensorId x = b.input("x", {1, 4, 6, 6});
  const TensorId c = b.conv(x, b.random_constant("w1", {6, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {6}));
  const TensorId mean = b.op(OpKind::ReduceMean, {c}, reduce_attrs({2, 3}, 1));     // [1,6,1,1]
  const TensorId mx = b.op(OpKind::ReduceMax, {c}, reduce_attrs({1}, 1));           // [1,1,6,6]
  const TensorId mn = b.op(OpKind::ReduceMin, {c}, reduce_attrs({-1}, 0));          // [1,6,6]
  const TensorId sum = b.op(OpKind::ReduceSum, {c}, reduce_attrs({}, 0));           // scalar
  const TensorId r5 = b.op(OpKind::Reshape, {c}, ints("shape", {1, 2, 3, 6, 6}));
  const TensorId sum5 = b.op(OpKind::ReduceSum, {r5}, reduce_attrs({1, 3}, 1));    // [1,1,3,1,6]
  const TensorId y = b.conv(mean, b.random_constant("w2", {2, 6, 1, 1}, -0.5f, 0.5f), b.random_constant("b2", {2}), 1, 0);
  const Graph g = b.finish({y, mx, mn, sum, sum5});
  check_kept_float(g, {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum"}, {1, 4, 6, 6}, "reduce_f32", 41,
                   {"op=mean", "op=max", "op=min", "op=sum"});
}

// Resize kept in float: nearest (asymmetric, floor) x2 and linear (half_pixel) to 11x13, and a
// linear align_corners resize of a 3-D tensor: resize_f32 calls with tables in the weights. (A
// nearest resize between int8 ops is folded to int8 by fold-qdq even when kept: exact.)
TEST(FloatFallback, ResizesKeptInFloatRunAsResizeFloatCalls) {
  GraphBuilder b(43);
  const TensorId x = b.input("x", {1, 3, 5, 6});
  const TensorId c = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
  Attributes nearest;
  nearest.set("mode", std::string("nearest"));
  nearest.set("coordinate_transformation_mode", std::string("asymmetric"));
  nearest.set("nearest_mode", std::string("floor"));
  nearest.set("scales", std::vector<double>{1, 1, 2, 2});
  const TensorId up = b.op(OpKind::Resize, {c}, nearest);
  Attributes lin;
  lin.set("mode", std::string("linear"));
  lin.set("coordinate_transformation_mode", std::string("half_pixel"));
  lin.set("scales", std::vector<double>{1, 1, 2.2, 2.17});  // to 11 x 13
  const TensorId y2 = b.op(OpKind::Resize, {c}, lin);
  const TensorId r3 = b.op(OpKind::Reshape, {c}, ints("shape", {4, 5, 6}));
  Attributes ac;
  ac.set("mode", std::string("linear"));
  ac.set("coordinate_transformation_mode", std::string("align_corners"));
  ac.set("scales", std::vector<double>{1, 1.6, 0.5});
  const TensorId y3 = b.op(OpKind::Resize, {r3}, ac);
  const Graph g = b.finish({up, y2, y3});
  check_kept_float(g, {"Resize"}, {1, 3, 5, 6}, "resize_f32", 43, {"mode=nearest", "mode=linear"});
}

// LayerNormalization kept in float: over the last axis (Scale and B per element) between int8
// convs, and over C, H, W with a Scale broadcast from [C, 1, 1] and no B: layer_norm_f32 calls.
TEST(FloatFallback, LayerNormsKeptInFloatRunAsLayerNormFloatCalls) {
  GraphBuilder b(47);
  const TensorId x = b.input("x", {1, 3, 5, 6});
  const TensorId c = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
  Attributes last;
  last.set("axis", int64_t(-1));
  last.set("epsilon", 1e-3);
  const TensorId ln1 = b.op(OpKind::LayerNormalization,
                            {c, b.random_constant("s1", {6}, 0.5f, 1.5f), b.random_constant("bias1", {6})}, last);
  const TensorId y1 = b.conv(ln1, b.random_constant("w2", {2, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {2}));
  Attributes chw;
  chw.set("axis", int64_t(1));
  const TensorId y2 = b.op(OpKind::LayerNormalization, {c, b.random_constant("s2", {4, 1, 1}, 0.5f, 1.5f)}, chw);
  const Graph g = b.finish({y1, y2});
  check_kept_float(g, {"LayerNormalization"}, {1, 3, 5, 6}, "layer_norm_f32", 47);
}

}  // namespace
}  // namespace neutron::testing
