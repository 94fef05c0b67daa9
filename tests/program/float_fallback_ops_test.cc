// No model is refused whole (issue 16, deliverable 4), the last float ops: MatMul with a run-time
// B (attention's Q x K^T), Where, Gather and Cast kept in float, and Pow with a tensor exponent
// (no int8 kernel), run in programs as float CPU kernel calls (batch_matmul_f32, where_f32,
// gather_f32, cast, elementwise_f32 pow). Each program, for imxrt700 and --target cpu, computes
// the host executor's bytes; the delegation report says why each node is on the CPU. Mutated
// arguments of every float kernel call are refused at load or run safely (ASan builds check).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "compiler/args_format.h"
#include "compiler/compiler.h"
#include "core/npy.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "runtime/payload.h"
#include "util/program_util.h"

namespace neutron::testing {
namespace {

Attributes ints(const std::string& name, std::vector<int64_t> v, Attributes a = {}) {
  a.set(name, std::move(v));
  return a;
}
Attributes int_attr(const std::string& name, int64_t v) {
  Attributes a;
  a.set(name, v);
  return a;
}

TensorData random_input(const Shape& s, std::mt19937& rng, float sd = 1.0f) {
  TensorData t(DType::F32, s);
  std::normal_distribution<float> nd(0.0f, sd);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = nd(rng);
  return t;
}
TensorData random_ids(const Shape& s, std::mt19937& rng, int64_t lo, int64_t hi) {
  TensorData t(DType::I64, s);
  std::uniform_int_distribution<int64_t> u(lo, hi - 1);
  for (int64_t i = 0; i < t.count(); ++i) t.data<int64_t>()[i] = u(rng);
  return t;
}

TensorId int64_input(GraphBuilder& b, const std::string& name, const Shape& s) {
  Tensor t;
  t.name = name;
  t.dtype = DType::I64;
  t.shape = s;
  const TensorId id = b.g.add_tensor(t);
  b.g.inputs.push_back(id);
  return id;
}
TensorId bool_constant(GraphBuilder& b, const std::string& name, const Shape& s, const std::vector<uint8_t>& v) {
  TensorData d(DType::Bool, s);
  std::memcpy(d.bytes.data(), v.data(), v.size());
  return b.g.add_constant(name, std::move(d));
}

// Samples of each graph input: a generator per input (sample index -> tensor of the input's shape).
using Sampler = std::function<TensorData(const Shape&, std::mt19937&)>;
TensorData float_sampler(const Shape& s, std::mt19937& rng) { return random_input(s, rng); }

StatusOr<Graph> quantize(const Graph& g, const std::vector<Sampler>& samplers, std::mt19937& rng,
                         const std::vector<std::string>& keep_float) {
  std::vector<std::vector<CalibrationArray>> arrays(g.inputs.size());
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    Shape s = g.tensor(g.inputs[i]).shape;
    const TensorData one = samplers[i](s, rng);
    s.insert(s.begin(), 8);
    TensorData all(one.dtype, s);
    for (int k = 0; k < 8; ++k) {
      const TensorData d = k == 0 ? one : samplers[i](g.tensor(g.inputs[i]).shape, rng);
      std::memcpy(all.bytes.data() + size_t(k) * d.bytes.size(), d.bytes.data(), d.bytes.size());
    }
    arrays[i].push_back({g.tensor(g.inputs[i]).name, std::move(all)});
  }
  ASSIGN_OR_RETURN(CalibrationSet calib, make_calibration_set(model_inputs(g), std::move(arrays)));
  QuantizeOptions o;
  o.keep_float = keep_float;
  return quantize_graph(g, calib, o);
}

// As `neutron compile` builds it, for "imxrt700" or "cpu". The kept nodes carry the quantizer's
// keep_float mark, so the partitioner is not told the user's list here.
using Compiled = CompiledProgram;
StatusOr<Compiled> compile(const Graph& qdq, const std::string& target) { return compile_qdq(qdq, target, "float_fallback_ops"); }



// The rule that put each node of kind `k` on the CPU (all must agree), or "" when none is there.
std::string rule_of_kind(const Compiled& c, OpKind k) {
  std::string rule;
  for (NodeId id : c.graph.live_nodes()) {
    if (c.graph.node(id).kind != k) continue;
    const auto& pl = c.part.nodes[size_t(id)];
    const std::string r = pl.rejection ? pl.rejection->rule : "NPU";
    EXPECT_TRUE(rule.empty() || rule == r) << describe(c.graph, id) << ": " << r << " vs " << rule;
    rule = r;
  }
  return rule;
}

// Quantizes `g` (keeping `keep` in float), compiles it for imxrt700 and the CPU; both programs hold
// every opcode of `opcodes`, report `kind` on the CPU under `rule`, and give the host executor's
// bytes on every output for `samples` random inputs. Returns the compiled pair for more checks.
struct Checked {
  Graph qdq;
  Compiled npu, cpu;
};
std::unique_ptr<Checked> check_float_ops(const Graph& g, const std::vector<Sampler>& samplers,
                                         const std::vector<std::string>& keep, const std::vector<std::string>& opcodes,
                                         OpKind kind, const std::string& rule, uint32_t seed, int samples = 3) {
  std::mt19937 rng(seed);
  auto q = quantize(g, samplers, rng, keep);
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  if (!q.ok()) return nullptr;
  auto npu = compile(q.value(), "imxrt700");
  EXPECT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu");
  EXPECT_TRUE(cpu.ok()) << cpu.status().to_string();
  if (!npu.ok() || !cpu.ok()) return nullptr;
  EXPECT_EQ(rule_of_kind(npu.value(), kind), rule) << op_kind_name(kind);
  const std::string a_calls = cpu_kernel_listing(npu->file), c_calls = cpu_kernel_listing(cpu->file);
  for (const std::string& op : opcodes) {
    EXPECT_NE(a_calls.find(op), std::string::npos) << op << " missing in\n" << a_calls;
    EXPECT_NE(c_calls.find(op), std::string::npos) << op << " missing in\n" << c_calls;
  }
  for (int s = 0; s < samples; ++s) {
    std::vector<TensorData> in;
    for (size_t i = 0; i < g.inputs.size(); ++i) in.push_back(samplers[i](g.tensor(g.inputs[i]).shape, rng));
    const auto host = run_on_cpu(q.value(), in);
    std::vector<TensorData> a, c;
    EXPECT_TRUE(run_program(npu->file, in, &a).ok());
    EXPECT_TRUE(run_program(cpu->file, in, &c).ok());
    EXPECT_EQ(host.size(), g.outputs.size());
    EXPECT_EQ(a.size(), host.size());
    EXPECT_EQ(c.size(), host.size());
    if (a.size() != host.size() || c.size() != host.size()) break;
    for (size_t o = 0; o < host.size(); ++o) {
      EXPECT_EQ(a[o].bytes, host[o].bytes) << "imxrt700 program, output " << o << ", sample " << s;
      EXPECT_EQ(c[o].bytes, host[o].bytes) << "cpu program, output " << o << ", sample " << s;
    }
  }
  auto r = std::make_unique<Checked>();
  r->qdq = std::move(q).value();
  r->npu = std::move(npu).value();
  r->cpu = std::move(cpu).value();
  return r;
}

// A small transformer block (--keep-float MatMul): pre-LayerNorm, Q/K/V projections, two heads,
// scores = Q x K^T (MatMul of two activations, batch 2), Softmax, scores x V, output projection and
// a residual; besides, a B shared by every batch ([1, 1, K, N]: one GEMM over all rows) and A and
// B broadcast against each other ([2, 1, M, K] x [1, 3, K, N]: a slice table). The projections
// (constant 2-D B) are gemm_f32 calls, the rest batch_matmul_f32.
Graph attention_block() {
  GraphBuilder b(61);
  const int64_t T = 6, D = 8, H = 2, Dh = D / H;
  const TensorId x = b.input("x", {1, T, D});
  const TensorId ln = b.op(OpKind::LayerNormalization,
                           {x, b.random_constant("ln_s", {D}, 0.5f, 1.5f), b.random_constant("ln_b", {D}, -0.1f, 0.1f)},
                           int_attr("axis", -1));
  auto proj = [&](TensorId in, const std::string& name) {
    return b.op(OpKind::MatMul, {in, b.random_constant(name, {D, D}, -0.5f, 0.5f)});
  };
  auto heads = [&](TensorId t, std::vector<int64_t> perm) {
    return b.op(OpKind::Transpose, {b.op(OpKind::Reshape, {t}, ints("shape", {1, T, H, Dh}))}, ints("perm", perm));
  };
  const TensorId q = heads(proj(ln, "wq"), {0, 2, 1, 3});   // [1, H, T, Dh]
  const TensorId kt = heads(proj(ln, "wk"), {0, 2, 3, 1});  // [1, H, Dh, T]
  const TensorId v = proj(ln, "wv");
  const TensorId vh = heads(v, {0, 2, 1, 3});
  const TensorId s = b.op(OpKind::MatMul, {q, kt});  // [1, H, T, T]
  const TensorId p = b.op(OpKind::Softmax, {b.op(OpKind::Mul, {s, b.constant("scale", {}, {0.5f})})},
                          int_attr("axis", -1));
  const TensorId o = b.op(OpKind::MatMul, {p, vh});  // [1, H, T, Dh]
  const TensorId merged =
      b.op(OpKind::Reshape, {b.op(OpKind::Transpose, {o}, ints("perm", {0, 2, 1, 3}))}, ints("shape", {1, T, D}));
  const TensorId y = b.op(OpKind::Add, {x, proj(merged, "wo")});
  // B shared by both heads: [1, H, T, T] x [1, 1, T, D].
  const TensorId shared = b.op(OpKind::MatMul, {p, b.op(OpKind::Reshape, {v}, ints("shape", {1, 1, T, D}))});
  // A [2, 1, 3, D] x B [1, 3, D, 2]: output batches pair A slice i / 3 with B slice i % 3.
  const TensorId a2 = b.op(OpKind::Reshape, {x}, ints("shape", {2, 1, 3, D}));
  const TensorId b2 = b.op(OpKind::Reshape, {proj(x, "wt")}, ints("shape", {1, 3, D, 2}));
  const TensorId cross = b.op(OpKind::MatMul, {a2, b2});
  return b.finish({y, shared, cross});
}

TEST(FloatFallbackOps, AttentionWithMatMulsKeptInFloatRunsAsBatchMatMulFloatCalls) {
  const Graph g = attention_block();
  auto c = check_float_ops(g, {float_sampler}, {"MatMul"}, {"batch_matmul_f32", "gemm_f32"}, OpKind::MatMul,
                           "user.keep_float", 61);
  ASSERT_NE(c, nullptr);
  // Four run-time-B MatMuls: batch 2 (slice i of both), one GEMM of 12 rows (a shared B), and
  // 6 batches from a slice table; the rest of the block stays int8 (LayerNorm, Softmax on the NPU).
  const std::string calls = cpu_kernel_listing(c->npu.file);
  size_t bmm = 0;
  for (size_t at = calls.find("batch_matmul_f32"); at != std::string::npos; at = calls.find("batch_matmul_f32", at + 1))
    ++bmm;
  EXPECT_EQ(bmm, 4u) << calls;
  EXPECT_NE(calls.find("batch=2 m=6 k=4 n=6"), std::string::npos) << calls;
  EXPECT_NE(calls.find("batch=1 m=12 k=6 n=8"), std::string::npos) << calls;
  EXPECT_NE(calls.find("batch=6 m=3 k=8 n=2"), std::string::npos) << calls;
  int npu_nodes = 0;
  for (NodeId id : c->npu.graph.live_nodes()) npu_nodes += c->npu.part.on_npu(id);
  EXPECT_GT(npu_nodes, 0);
  // Close to the float model (int8 elsewhere).
  std::mt19937 rng(3);
  double sig = 0, err = 0;
  for (int s = 0; s < 3; ++s) {
    const std::vector<TensorData> in = {random_input({1, 6, 8}, rng)};
    const auto want = run_on_cpu(g, in);
    std::vector<TensorData> got;
    ASSERT_TRUE(run_program(c->npu.file, in, &got).ok());
    ASSERT_EQ(got.size(), want.size());
    for (size_t o = 0; o < want.size(); ++o)
      for (int64_t i = 0; i < want[o].count(); ++i) {
        const double w = want[o].data<float>()[i], d = w - got[o].data<float>()[i];
        sig += w * w;
        err += d * d;
      }
  }
  const double sqnr = 10 * std::log10(sig / std::max(err, 1e-30));
  std::printf("attention block (MatMul in float) program vs the float model: SQNR %.1f dB\n", sqnr);
  EXPECT_GT(sqnr, 20.0);
}

// Without --keep-float the attention MatMuls are int8 (fold-qdq folds them): the keep_float mark
// is what keeps them float, on the host and in programs alike.
TEST(FloatFallbackOps, KeptMatMulsAreNotFoldedToInt8) {
  const Graph g = attention_block();
  std::mt19937 rng(62);
  auto kept = quantize(g, {float_sampler}, rng, {"MatMul"});
  ASSERT_TRUE(kept.ok()) << kept.status().to_string();
  auto plain = quantize(g, {float_sampler}, rng, {});
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  auto float_matmuls = [](Graph q) {
    EXPECT_TRUE(run_passes(q, compile_pipeline()).ok());
    int n = 0;
    for (NodeId id : q.live_nodes())
      n += q.node(id).kind == OpKind::MatMul && q.tensor(q.node(id).outputs[0]).dtype == DType::F32;
    return n;
  };
  // All nine kept; without the mark only the broadcast [2,1,M,K] x [1,3,K,N] (no int8 kernel).
  EXPECT_EQ(float_matmuls(kept.value()), 9);
  EXPECT_EQ(float_matmuls(plain.value()), 1);
}

// Pow with a run-time exponent (IR PowTensor, no int8 kernel): elementwise_f32 op=pow, the exponent
// an activation of the same shape and one broadcast per channel.
TEST(FloatFallbackOps, PowWithATensorExponentRunsAsElementwiseFloatCall) {
  GraphBuilder b(71);
  const TensorId x = b.input("x", {1, 3, 6, 6});
  const TensorId c1 = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
  const TensorId c2 = b.conv(x, b.random_constant("w2", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {4}));
  const TensorId base = b.op(OpKind::Sigmoid, {c1});  // (0, 1): a real power for any exponent
  const TensorId p1 = b.op(OpKind::PowTensor, {base, c2});
  const TensorId p2 = b.op(OpKind::PowTensor, {base, b.op(OpKind::GlobalAveragePool, {c2})});
  const TensorId y = b.conv(b.op(OpKind::Add, {p1, p2}), b.random_constant("w3", {2, 4, 3, 3}, -0.5f, 0.5f),
                            b.random_constant("b3", {2}));
  const Graph g = b.finish({y});
  auto c = check_float_ops(g, {float_sampler}, {}, {"elementwise_f32", "op=pow"}, OpKind::PowTensor,
                           "pow_tensor.no_int8", 71);
  ASSERT_NE(c, nullptr);
}

// Where kept in float: both operands run-time with a constant causal mask, and a constant operand
// broadcast per channel against a run-time one with a mask broadcast along rows.
TEST(FloatFallbackOps, WhereKeptInFloatRunsAsWhereFloatCalls) {
  GraphBuilder b(81);
  const TensorId x = b.input("x", {1, 3, 6, 6});
  const TensorId c = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
  std::vector<uint8_t> causal(36), cols(6);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) causal[size_t(i * 6 + j)] = j <= i;
  for (int j = 0; j < 6; ++j) cols[size_t(j)] = j % 2;
  const TensorId w1 = b.op(OpKind::Where, {bool_constant(b, "causal", {1, 1, 6, 6}, causal), c, b.op(OpKind::Sigmoid, {c})});
  const TensorId w2 = b.op(OpKind::Where, {bool_constant(b, "cols", {6}, cols), b.random_constant("k", {4, 1, 1}), c});
  const TensorId y = b.conv(w1, b.random_constant("w2", {2, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {2}));
  const Graph g = b.finish({y, w2});
  auto r = check_float_ops(g, {float_sampler}, {"Where"}, {"where_f32"}, OpKind::Where, "user.keep_float", 81);
  ASSERT_NE(r, nullptr);
}

// Gather kept in float: an embedding lookup of run-time int64 token ids in a float table (negative
// ids count from the end), and a gather of an activation by constant indices along its last axis.
// An id outside the table fails the run, as on the host, never a read out of bounds.
Graph embedding_model() {
  GraphBuilder b(91);
  const TensorId ids = int64_input(b, "ids", {1, 5});
  const TensorId x = b.input("x", {1, 5, 8});
  const TensorId emb = b.op(OpKind::Gather, {b.random_constant("table", {10, 8}), ids});
  const TensorId h = b.op(OpKind::Add, {emb, x});
  const TensorId y = b.op(OpKind::MatMul, {h, b.random_constant("w", {8, 4}, -0.5f, 0.5f)});
  const TensorId act = b.op(OpKind::MatMul, {x, b.random_constant("w2", {8, 8}, -0.5f, 0.5f)});
  const TensorId idx = b.g.add_constant("idx", TensorData::from<int64_t>({3}, {4, 0, -1}));
  const TensorId g2 = b.op(OpKind::Gather, {act, idx}, int_attr("axis", 2));
  return b.finish({y, g2});
}

TEST(FloatFallbackOps, GatherKeptInFloatRunsAsGatherFloatCalls) {
  const Graph g = embedding_model();
  const Sampler ids = [](const Shape& s, std::mt19937& rng) { return random_ids(s, rng, -10, 10); };
  auto c = check_float_ops(g, {ids, float_sampler}, {"Gather"}, {"gather_f32"}, OpKind::Gather, "user.keep_float", 91);
  ASSERT_NE(c, nullptr);
  std::mt19937 rng(5);
  for (int64_t bad : {10, -11}) {
    TensorData id = random_ids({1, 5}, rng, 0, 10);
    id.data<int64_t>()[3] = bad;
    const std::vector<TensorData> in = {id, random_input({1, 5, 8}, rng)};
    Graph host = c->qdq;
    ASSERT_TRUE(run_passes(host, cpu_pipeline()).ok());
    auto ex = Executor::create(host);
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    std::vector<TensorData> outs;
    const Status hs = ex.value()->run(in, &outs);
    EXPECT_FALSE(hs.ok()) << "host ran id " << bad;
    EXPECT_NE(hs.to_string().find("index out of range"), std::string::npos) << hs.to_string();
    for (const Compiled* p : {&c->npu, &c->cpu}) {
      const runtime::ProgramStatus s = run_program(p->file, in, &outs);
      EXPECT_EQ(s.error, Error::InvalidArgument) << describe(s);
      EXPECT_NE(std::string(s.message).find("gather"), std::string::npos) << describe(s);
    }
  }
}

// Cast at the int/float boundary: int64 positions into float (added to an activation), int64 ->
// int32 indices of an int8 Gather, and float -> int64 -> float (truncation toward zero). Cast has
// no int8 meaning: its float side runs as cast calls between quantize / dequantize calls.
TEST(FloatFallbackOps, CastsRunAsCastCalls) {
  GraphBuilder b(101);
  const TensorId pos = int64_input(b, "pos", {1, 6});
  const TensorId x = b.input("x", {1, 6});
  const TensorId pf = b.op(OpKind::Cast, {pos}, int_attr("to", int64_t(DType::F32)));
  const TensorId h = b.op(OpKind::Add, {b.op(OpKind::Mul, {pf, b.constant("k", {}, {0.25f})}), x});
  const TensorId y1 = b.op(OpKind::MatMul, {h, b.random_constant("w", {6, 4}, -0.5f, 0.5f)});
  const TensorId act = b.op(OpKind::MatMul, {x, b.random_constant("w2", {6, 6}, -0.5f, 0.5f)});
  const TensorId i32 = b.op(OpKind::Cast, {pos}, int_attr("to", int64_t(DType::I32)));
  const TensorId y2 = b.op(OpKind::Gather, {act, i32}, int_attr("axis", 1));
  const TensorId t = b.op(OpKind::Cast, {b.op(OpKind::Mul, {x, b.constant("three", {}, {3.0f})})},
                          int_attr("to", int64_t(DType::I64)));
  const TensorId y3 = b.op(OpKind::Cast, {t}, int_attr("to", int64_t(DType::F32)));
  const Graph g = b.finish({y1, y2, y3});
  const Sampler positions = [](const Shape& s, std::mt19937& rng) { return random_ids(s, rng, 0, 6); };
  auto c = check_float_ops(g, {positions, float_sampler}, {}, {"cast", "gather "}, OpKind::Cast, "cast.no_converter", 101);
  ASSERT_NE(c, nullptr);
}

// What programs cannot hold is refused with the node's name: a Cast to a type program tensors do
// not carry (bool, uint8), a Where whose condition is computed at run time.
TEST(FloatFallbackOps, CastsAndConditionsProgramsCannotHoldAreRefusedByName) {
  {
    GraphBuilder b(111);
    const TensorId x = b.input("x", {1, 6});
    const TensorId u8 = b.op(OpKind::Cast, {x}, int_attr("to", int64_t(DType::U8)));
    const Graph g = b.finish({b.op(OpKind::Cast, {u8}, int_attr("to", int64_t(DType::F32)))});
    const std::string name = g.node(g.tensor(u8).producer).name;
    auto p = compiler::build_program_file(g, nullptr, compiler::cpu_kernel_target(), {});
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find(name), std::string::npos) << p.status().to_string();
    EXPECT_NE(p.status().message().find("f32 -> u8"), std::string::npos) << p.status().to_string();
  }
  {
    GraphBuilder b(112);
    const TensorId x = b.input("x", {1, 6});
    const TensorId cond = b.op(OpKind::Cast, {x}, int_attr("to", int64_t(DType::Bool)));
    const TensorId w = b.op(OpKind::Where, {cond, x, b.constant("zero", {}, {0.0f})});
    const Graph g = b.finish({w});
    auto p = compiler::build_program_file(g, nullptr, compiler::cpu_kernel_target(), {});
    ASSERT_FALSE(p.ok());
    // The Cast to bool is the first node a program cannot hold.
    EXPECT_NE(p.status().message().find(g.node(g.tensor(cond).producer).name), std::string::npos)
        << p.status().to_string();
  }
}

// A run-time Expand (a broadcast copy: a pooled [1, C, 1, 1] back to [1, C, H, W]) as an int8 op
// between int8 ops and kept in float: an `expand` call on either element type.
Graph expand_model() {
  GraphBuilder b(131);
  const TensorId x = b.input("x", {1, 3, 6, 6});
  const TensorId c = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
  const TensorId e = b.op(OpKind::Expand, {b.op(OpKind::GlobalAveragePool, {c})}, ints("shape", {1, 4, 6, 6}));
  const TensorId rows = b.op(OpKind::Expand, {b.random_constant("row", {6}, -1.0f, 1.0f)}, ints("shape", {1, 4, 6, 6}));
  const TensorId y = b.conv(b.op(OpKind::Add, {b.op(OpKind::Add, {c, e}), rows}),
                            b.random_constant("w2", {2, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {2}));
  return b.finish({y});
}

TEST(FloatFallbackOps, ExpandRunsAsExpandCallsInInt8AndInFloat) {
  const Graph g = expand_model();
  auto int8 = check_float_ops(g, {float_sampler}, {}, {"expand"}, OpKind::Expand, "expand.not_yet", 131);
  ASSERT_NE(int8, nullptr);
  for (NodeId id : int8->npu.graph.live_nodes()) {
    if (int8->npu.graph.node(id).kind == OpKind::Expand) {
      EXPECT_EQ(int8->npu.graph.tensor(int8->npu.graph.node(id).outputs[0]).dtype, DType::I8);
    }
  }
  auto kept = check_float_ops(g, {float_sampler}, {"Expand"}, {"expand"}, OpKind::Expand, "user.keep_float", 132);
  ASSERT_NE(kept, nullptr);
}

// A standalone ReduceL2 (no int8 kernel; torch.norm(x, dim=...) exports it) over the spatial axes
// and over channels: reduce_f32 op=l2 calls between int8 convs.
TEST(FloatFallbackOps, ReduceL2RunsAsReduceFloatCall) {
  GraphBuilder b(141);
  const TensorId x = b.input("x", {1, 3, 6, 6});
  const TensorId c = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
  Attributes spatial;
  spatial.set("axes", std::vector<int64_t>{2, 3});
  spatial.set("keepdims", int64_t(1));
  const TensorId n1 = b.op(OpKind::ReduceL2, {c}, spatial);
  Attributes channels;
  channels.set("axes", std::vector<int64_t>{1});
  channels.set("keepdims", int64_t(0));
  const TensorId n2 = b.op(OpKind::ReduceL2, {c}, channels);
  const TensorId y = b.conv(b.op(OpKind::Mul, {c, n1}), b.random_constant("w2", {2, 4, 3, 3}, -0.5f, 0.5f),
                            b.random_constant("b2", {2}));
  const Graph g = b.finish({y, n2});
  auto r = check_float_ops(g, {float_sampler}, {}, {"reduce_f32", "op=l2"}, OpKind::ReduceL2, "reduce_l2.no_int8", 141);
  ASSERT_NE(r, nullptr);
}

// ---- Mutated float kernel calls ----------------------------------------------------------------

bool is_float_opcode(npu::Opcode op) {
  const int v = int(op);
  return (v >= 48 && v <= 63) || (v >= 76 && v <= 87);  // 84-87: recurrent variants (recurrent_peephole_f32)
}

// The bytes of a program's CPU payloads a mutation aims at: per float kernel call, where its args
// lie in the file, the tensor-table entries it names and the weights its offset fields point at.
struct CallSite {
  npu::Opcode op;
  size_t args = 0;  // file offset of the first argument word
  uint32_t words = 0;
  std::vector<size_t> tensors;  // file offsets of the TensorDescs its tensor fields name
  std::vector<size_t> weights;  // file offsets of weights its offset fields point at
};

std::vector<CallSite> float_call_sites(const std::vector<uint8_t>& file) {
  std::vector<CallSite> sites;
  const fb::Program* p = fb::GetProgram(file.data());
  for (const fb::Payload* pl : *p->payloads()) {
    const size_t base = size_t(pl->data()->data() - file.data());
    ExactBuffer copy(pl->data()->data(), pl->data()->size());
    runtime::PayloadView v;
    if (!runtime::parse_payload(copy.data(), copy.size(), &v).ok()) continue;
    const size_t table = size_t(v.microcode - copy.data()) + v.mc.header[npu::kWordTensorTableOffset];
    const size_t weights = size_t(v.weights - copy.data());
    npu::InstructionCursor cur(v.mc);
    npu::Instruction inst;
    while (cur.next(&inst)) {
      if (!is_float_opcode(inst.opcode)) continue;
      CallSite c;
      c.op = inst.opcode;
      c.args = base + size_t(inst.args - copy.data());
      c.words = inst.arg_words;
      const compiler::ArgsFormat* f = compiler::args_format(inst.opcode);
      uint32_t w = 0;
      for (uint32_t k = 0; f && k < f->num_fields; ++k)
        for (uint32_t j = 0; j < f->fields[k].count; ++j, ++w) {
          uint32_t value;
          std::memcpy(&value, inst.args + 4 * w, 4);
          if (f->fields[k].kind == compiler::FieldKind::kTensor && value < v.mc.num_tensors())
            c.tensors.push_back(base + table + size_t(value) * sizeof(npu::TensorDesc));
          if (f->fields[k].kind == compiler::FieldKind::kOffset && value < v.weights_size)
            c.weights.push_back(base + weights + value);
        }
      sites.push_back(std::move(c));
    }
  }
  return sites;
}

uint32_t mutated_word(uint32_t old, std::mt19937& rng) {
  static const uint32_t kSpecial[] = {0u, 1u, 2u, 3u, 4u, 7u, 0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u,
                                      0xFFFFFFFEu, 1u << 24, (1u << 24) + 1, 0x3F800000u /* 1.0f */,
                                      0x7F800000u /* inf */, 0x7FC00000u /* NaN */, 0xFF800000u /* -inf */};
  switch (rng() % 5) {
    case 0: return kSpecial[rng() % (sizeof(kSpecial) / sizeof(kSpecial[0]))];
    case 1: return old ^ (1u << (rng() % 32));
    case 2: return old + uint32_t(int32_t(rng() % 9) - 4);
    case 3: return old * 2 + 1;
    default: return uint32_t(rng());
  }
}

// Structure-aware edits of one float kernel call (an argument word, a field of a tensor it names,
// a word of the weights it reads) or, now and then, random bytes of its payload.
std::vector<uint8_t> mutate_call(const std::vector<uint8_t>& file, const CallSite& c, std::mt19937& rng) {
  std::vector<uint8_t> m = file;
  auto poke = [&](size_t at) {
    if (at + 4 > m.size()) return;
    uint32_t w;
    std::memcpy(&w, m.data() + at, 4);
    w = mutated_word(w, rng);
    std::memcpy(m.data() + at, &w, 4);
  };
  for (int e = 0, edits = 1 + int(rng() % 2); e < edits; ++e) {
    const unsigned what = rng() % 10;
    if (what < 6 || (c.tensors.empty() && c.weights.empty())) {
      poke(c.args + 4 * (rng() % c.words));
    } else if (what < 8 && !c.tensors.empty()) {
      // region/elem_type/index (word 0), offset, size, dims[4], zero point: words 0-7.
      const size_t desc = c.tensors[rng() % c.tensors.size()];
      if (rng() % 4 == 0) {
        m[desc + 1] = uint8_t(rng() % 8);  // the element type
      } else {
        poke(desc + 4 * (rng() % (sizeof(npu::TensorDesc) / 4)));
      }
    } else if (!c.weights.empty()) {
      poke(c.weights[rng() % c.weights.size()] + 4 * (rng() % 8));
    } else {
      m[c.args + rng() % (4 * c.words)] = uint8_t(rng());
    }
  }
  return reseal_program(m);
}

// Programs holding every float opcode (48-56, 76-83): the older float ops kept in float, the GRU
// spotter (recurrent_f32), the attention block, Where with Pow, the embedding with Casts, and the
// Expand model (int8 and float expand calls).
std::vector<std::pair<std::vector<uint8_t>, std::vector<TensorData>>> float_call_corpus() {
  std::vector<std::pair<std::vector<uint8_t>, std::vector<TensorData>>> corpus;
  std::mt19937 rng(7);
  auto add = [&](const Graph& g, const std::vector<Sampler>& samplers, const std::vector<std::string>& keep) {
    auto q = quantize(g, samplers, rng, keep);
    EXPECT_TRUE(q.ok()) << q.status().to_string();
    if (!q.ok()) return;
    auto c = compile(q.value(), "cpu");
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    if (!c.ok()) return;
    std::vector<TensorData> in;
    for (size_t i = 0; i < g.inputs.size(); ++i) in.push_back(samplers[i](g.tensor(g.inputs[i]).shape, rng));
    corpus.emplace_back(c->file.bytes, std::move(in));
  };
  {
    GraphBuilder b(121);
    const TensorId x = b.input("x", {1, 3, 6, 6});
    const TensorId c1 = b.conv(x, b.random_constant("w1", {4, 3, 3, 3}, -0.5f, 0.5f), b.random_constant("b1", {4}));
    const TensorId s = b.op(OpKind::Sigmoid, {c1});
    const TensorId c2 = b.conv(s, b.random_constant("w2", {4, 4, 3, 3}, -0.5f, 0.5f), b.random_constant("b2", {4}));
    const TensorId d = b.op(OpKind::Div, {c2, b.op(OpKind::Add, {s, b.constant("h", {}, {0.5f})})});
    const TensorId p = b.op(OpKind::AveragePool, {d}, ints("kernel_shape", {2, 2}));
    Attributes lin;
    lin.set("mode", std::string("linear"));
    lin.set("scales", std::vector<double>{1.0, 1.0, 1.5, 2.0});
    const TensorId r = b.op(OpKind::Resize, {p}, lin);
    const TensorId ln = b.op(OpKind::LayerNormalization, {r, b.random_constant("s", {10}, 0.5f, 1.5f)}, int_attr("axis", -1));
    Attributes red;
    red.set("axes", std::vector<int64_t>{2});
    red.set("keepdims", int64_t(1));
    const TensorId mean = b.op(OpKind::ReduceMean, {ln}, red);
    const TensorId y = b.op(OpKind::Softmax, {mean}, int_attr("axis", -1));
    const TensorId l2 = b.op(OpKind::ReduceL2, {ln}, red);
    add(b.finish({y, l2}), {float_sampler},
        {"Sigmoid", "Conv", "Div", "AveragePool", "Resize", "LayerNormalization", "ReduceMean", "Softmax"});
  }
  {
    auto f = import_onnx_file(fixture_path("gru_kws", "model_f32.onnx"));
    EXPECT_TRUE(f.ok());
    if (f.ok()) {
      Graph g = std::move(f).value();
      EXPECT_TRUE(run_passes(g, prequant_pipeline()).ok());
      add(g, {[](const Shape& s, std::mt19937& r) { return random_input(s, r); }}, {"GRU"});
    }
  }
  add(attention_block(), {float_sampler}, {"MatMul"});
  {
    GraphBuilder b(122);
    const TensorId x = b.input("x", {1, 4, 6});
    std::vector<uint8_t> mask(6);
    for (int j = 0; j < 6; ++j) mask[size_t(j)] = j % 3 != 0;
    const TensorId sg = b.op(OpKind::Sigmoid, {x});
    const TensorId w = b.op(OpKind::Where, {bool_constant(b, "mask", {6}, mask), x, b.random_constant("k", {4, 1})});
    add(b.finish({b.op(OpKind::PowTensor, {sg, w})}), {float_sampler}, {"Where"});
  }
  {
    const Sampler ids = [](const Shape& s, std::mt19937& r) { return random_ids(s, r, 0, 10); };
    add(embedding_model(), {ids, float_sampler}, {"Gather"});
    GraphBuilder b(123);
    const TensorId pos = int64_input(b, "pos", {1, 6});
    const TensorId x = b.input("x", {1, 6});
    const TensorId pf = b.op(OpKind::Cast, {pos}, int_attr("to", int64_t(DType::F32)));
    const TensorId t = b.op(OpKind::Cast, {b.op(OpKind::Add, {pf, x})}, int_attr("to", int64_t(DType::I32)));
    add(b.finish({b.op(OpKind::Cast, {t}, int_attr("to", int64_t(DType::F32)))}),
        {[](const Shape& s, std::mt19937& r) { return random_ids(s, r, 0, 6); }, float_sampler}, {});
  }
  add(expand_model(), {float_sampler}, {});          // int8 expand
  add(expand_model(), {float_sampler}, {"Expand"});  // float expand
  return corpus;
}

// Mutated arguments (and the tensors and weights they name) of every float kernel call, resealed
// so they pass the checksum: refused at load, or run; never a crash or an out-of-bounds access
// (the ASan build checks). Every float opcode is mutated.
TEST(FloatFallbackOps, MutatedArgsOfEveryFloatKernelCallAreRefusedOrRun) {
  const auto corpus = float_call_corpus();
  ASSERT_EQ(corpus.size(), 8u);
  std::map<int, int> mutated, loaded, ran;
  // NEUTRON_FUZZ_SEED and NEUTRON_FUZZ_MUTATIONS (mutants per call) override, for longer runs.
  const char* seed = std::getenv("NEUTRON_FUZZ_SEED");
  const char* count = std::getenv("NEUTRON_FUZZ_MUTATIONS");
  std::mt19937 rng(seed ? uint32_t(std::strtoul(seed, nullptr, 10)) : 20261206u);
  const int per_site = count ? std::max(1, std::atoi(count)) : kSanitized ? 60 : 250;
  for (const auto& [bytes, input] : corpus) {
    auto clean = load_program(bytes);
    ASSERT_TRUE(clean->status.ok()) << describe(clean->status);
    std::vector<TensorData> outs;
    ASSERT_TRUE(run_sample(clean->runner, input, &outs).ok());
    for (const CallSite& site : float_call_sites(bytes)) {
      for (int m = 0; m < per_site; ++m) {
        const std::vector<uint8_t> mutant = mutate_call(bytes, site, rng);
        auto lp = load_program(mutant.data(), mutant.size(), size_t(64) << 20);
        ++mutated[int(site.op)];
        if (!lp->status.ok()) continue;
        ++loaded[int(site.op)];
        if (run_sample(lp->runner, input, &outs).ok()) ++ran[int(site.op)];
      }
    }
  }
  std::string summary;
  for (const auto& [op, n] : mutated)
    summary += str_cat(npu::opcode_name(npu::Opcode(op)), " ", n, "/", loaded[op], "/", ran[op], "  ");
  std::printf("float kernel-call mutants (mutated/loaded/ran): %s\n", summary.c_str());
  for (int op : {48, 49, 50, 51, 52, 53, 54, 55, 56, 76, 77, 78, 79, 80, 81, 82, 83}) {
    EXPECT_GT(mutated[op], 0) << npu::opcode_name(npu::Opcode(op)) << " was not mutated";
    EXPECT_LT(loaded[op], mutated[op]) << npu::opcode_name(npu::Opcode(op)) << ": no mutant refused";
  }
}

}  // namespace
}  // namespace neutron::testing
