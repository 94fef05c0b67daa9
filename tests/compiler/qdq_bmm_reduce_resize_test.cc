// BatchMatMul, ReduceMean/Sum/Max/Min and bilinear Resize from a QDQ graph (float ops between
// DequantizeLinear and QuantizeLinear, as an exported ONNX model imports):
//   1. fold-qdq turns each into an int8 op, and the int8 CPU kernel is within 1 output LSB of the
//      float QDQ graph;
//   2. a chain of them with upstream-style quantization (shared q-params, zero-point-0 BMM inputs)
//      lands on the NPU in one partition, compiles, and the payload (backend -> driver ->
//      simulator) equals the CPU executor bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "compiler/npu_test_util.h"
#include "partition/partitioner.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "util/single_op.h"

namespace neutron {
namespace {

// QDQ graph builder: float tensors, QuantizeLinear / DequantizeLinear pairs, float ops.
class Qdq {
 public:
  Graph g;

  TensorId input(const std::string& name, Shape s) {
    Tensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = std::move(s);
    const TensorId id = g.add_tensor(t);
    g.inputs.push_back(id);
    return id;
  }
  TensorId op(OpKind k, std::vector<TensorId> ins, Attributes a = {}, DType dt = DType::Invalid, QuantParams q = {}) {
    Tensor t;
    t.name = "t" + std::to_string(g.num_tensors());
    t.dtype = dt;
    t.quant = std::move(q);
    const TensorId out = g.add_tensor(t);
    Node n;
    n.kind = k;
    n.name = std::string(op_kind_name(k)) + "_" + std::to_string(g.num_nodes());
    n.inputs = std::move(ins);
    n.outputs = {out};
    n.attrs = std::move(a);
    g.add_node(std::move(n));
    return out;
  }
  TensorId qdq(TensorId x, double scale, int32_t zp) {
    const TensorId q = op(OpKind::QuantizeLinear, {x}, {}, DType::I8, QuantParams::per_tensor(float(scale), zp));
    return op(OpKind::DequantizeLinear, {q}, {}, DType::F32);
  }
  Status finish(TensorId out) {
    g.outputs = {out};
    RETURN_IF_ERROR(infer_shapes(g));
    return verify_graph(g);
  }
};

Status fold(Graph& g) {
  static const std::vector<PassInfo> kFold = {{"fold-qdq", "", fold_qdq}, {"dce", "", eliminate_dead_code}};
  return run_passes(g, kFold);
}

TensorData random_f32(const Shape& s, double lo, double hi, std::mt19937& rng) {
  TensorData t(DType::F32, s);
  std::uniform_real_distribution<double> d(lo, hi);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = float(d(rng));
  return t;
}

Attributes resize_attrs(const std::string& ctm, std::vector<double> scales) {
  Attributes a;
  a.set("mode", std::string("linear"));
  a.set("coordinate_transformation_mode", ctm);
  a.set("scales", std::move(scales));
  return a;
}
Attributes reduce_attrs(std::vector<int64_t> axes, int64_t keepdims) {
  Attributes a;
  a.set("axes", std::move(axes));
  a.set("keepdims", keepdims);
  return a;
}

// One op between QDQ boundaries with differing parameters: folded to int8, within 1 LSB of the
// float QDQ graph on random inputs.
void check_single(OpKind kind, const Attributes& attrs, const std::vector<Shape>& shapes, double s_out, int32_t z_out,
                  uint32_t seed, const std::string& what) {
  SCOPED_TRACE(what + " seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  Qdq b;
  std::vector<TensorId> ins;
  std::vector<double> in_scale;
  for (size_t i = 0; i < shapes.size(); ++i) {
    in_scale.push_back(std::uniform_real_distribution<double>(0.01, 0.03)(rng));
    ins.push_back(b.qdq(b.input("x" + std::to_string(i), shapes[i]), in_scale.back(),
                        std::uniform_int_distribution<int>(-30, 30)(rng)));
  }
  const TensorId y = b.qdq(b.op(kind, ins, attrs), s_out, z_out);
  ASSERT_TRUE(b.finish(y).ok());
  Graph folded = b.g;
  ASSERT_TRUE(fold(folded).ok());
  bool int8_op = false;
  for (NodeId id : folded.live_nodes())
    if (folded.node(id).kind == kind) int8_op = folded.tensor(folded.node(id).inputs[0]).dtype == DType::I8;
  ASSERT_TRUE(int8_op) << "fold-qdq left " << op_kind_name(kind) << " in float";
  int64_t total = 0, differing = 0;
  for (int sample = 0; sample < 3; ++sample) {
    std::vector<TensorData> inputs;
    for (size_t i = 0; i < shapes.size(); ++i)
      inputs.push_back(random_f32(shapes[i], -100 * in_scale[i], 100 * in_scale[i], rng));
    auto want = testing::run_graph(b.g, inputs);
    auto got = testing::run_graph(folded, inputs);
    ASSERT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
    const TensorData& w = want.value()[0];
    const TensorData& o = got.value()[0];
    ASSERT_EQ(w.shape, o.shape);
    int64_t diffs = 0;
    for (int64_t i = 0; i < w.count(); ++i) {
      const double d = std::fabs(double(w.data<float>()[i]) - double(o.data<float>()[i])) / s_out;
      ASSERT_LE(d, 1.0 + 1e-3) << "element " << i;
      diffs += d > 0.5;
    }
    EXPECT_LE(diffs, std::max<int64_t>(1, w.count() / 20)) << "of " << w.count();
    total += w.count();
    differing += diffs;
  }
  std::printf("%s: int8 vs float QDQ, %lld of %lld outputs 1 LSB apart\n", what.c_str(), (long long)differing,
              (long long)total);
}

TEST(QdqFold, BatchMatMulReduceResizeAreInt8WithinOneLsb) {
  uint32_t seed = 100;
  check_single(OpKind::MatMul, {}, {{3, 5, 17}, {3, 17, 6}}, 0.3, 7, ++seed, "matmul two activations");
  check_single(OpKind::MatMul, {}, {{4, 9}, {9, 11}}, 0.08, -5, ++seed, "matmul rank 2");
  check_single(OpKind::ReduceMean, reduce_attrs({2, 3}, 1), {{2, 11, 5, 7}}, 0.011, 3, ++seed, "mean over H, W");
  check_single(OpKind::ReduceMean, reduce_attrs({1}, 0), {{2, 13, 3}}, 0.009, -4, ++seed, "mean over C");
  check_single(OpKind::ReduceSum, reduce_attrs({-1}, 1), {{3, 9}}, 0.09, 2, ++seed, "sum");
  check_single(OpKind::ReduceMax, reduce_attrs({1, 2}, 0), {{2, 5, 3, 4}}, 0.013, 9, ++seed, "max, requantized");
  check_single(OpKind::ReduceMin, reduce_attrs({}, 1), {{2, 5, 3}}, 0.017, -9, ++seed, "min over all");
  check_single(OpKind::Resize, resize_attrs("half_pixel", {1, 1, 2, 2}), {{1, 11, 5, 7}}, 0.023, 1, ++seed,
               "resize linear half_pixel x2");
  check_single(OpKind::Resize, resize_attrs("align_corners", {1, 1, 1.8, 2.5}), {{2, 3, 5, 4}}, 0.019, -2, ++seed,
               "resize linear align_corners, odd scales");
  check_single(OpKind::Resize, resize_attrs("asymmetric", {1, 1, 3, 1}), {{1, 9, 3, 5}}, 0.02, 0, ++seed,
               "resize linear asymmetric, H only");
}

// x [1, 6, 5, 7] -> Resize linear (half_pixel, x2) -> Reshape [6, 10, 14] -> MatMul with y
// [6, 14, 9] -> ReduceSum over the last axis -> ReduceMean over axis 1 -> ReduceMax over all.
// Quantized as upstream does: shared parameters through Resize and the reductions, zero point 0
// for both BMM inputs.
TEST(QdqDelegation, ChainLandsOnTheNpuAndMatchesTheCpu) {
  Qdq b;
  const double sx = 0.02, sy = 0.03, sm = 0.4;
  const TensorId x = b.qdq(b.input("x", {1, 6, 5, 7}), sx, 0);
  const TensorId r = b.qdq(b.op(OpKind::Resize, {x}, resize_attrs("half_pixel", {1, 1, 2, 2})), sx, 0);
  Attributes shape;
  shape.set("shape", std::vector<int64_t>{6, 10, 14});
  const TensorId a = b.qdq(b.op(OpKind::Reshape, {r}, shape), sx, 0);
  const TensorId w = b.qdq(b.input("y", {6, 14, 9}), sy, 0);
  const TensorId mm = b.qdq(b.op(OpKind::MatMul, {a, w}), sm, -3);
  const TensorId sum = b.qdq(b.op(OpKind::ReduceSum, {mm}, reduce_attrs({2}, 1)), sm, -3);
  const TensorId mean = b.qdq(b.op(OpKind::ReduceMean, {sum}, reduce_attrs({1}, 0)), sm, -3);
  const TensorId mx = b.qdq(b.op(OpKind::ReduceMax, {mean}, reduce_attrs({}, 1)), sm, -3);
  ASSERT_TRUE(b.finish(mx).ok());
  Graph g = b.g;
  ASSERT_TRUE(fold(g).ok());
  auto p = partition_graph(g, testing::npu_target());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(p->partitions.size(), 1u) << print_partitioned_graph(g, p.value());
  // Every op of the model is delegated; only the boundary Q/DQ stay on the CPU.
  for (NodeId id : g.live_nodes()) {
    const OpKind k = g.node(id).kind;
    if (k == OpKind::QuantizeLinear || k == OpKind::DequantizeLinear) continue;
    EXPECT_TRUE(p->on_npu(id)) << describe(g, id) << " on the CPU: "
                               << (p->nodes[size_t(id)].rejection ? p->nodes[size_t(id)].rejection->rule : "");
  }
  auto sub = compiler::prepare_partition_graph(g, p->partitions[0]);
  ASSERT_TRUE(sub.ok()) << sub.status().to_string();
  auto program = compiler::compile_program(sub.value(), testing::npu_target());
  ASSERT_TRUE(program.ok()) << program.status().to_string();
  int bmm = 0, reduce = 0, bilinear = 0;
  for (const compiler::KernelCall& c : program->calls) {
    bmm += c.op == npu::Opcode::kBatchMatMul;
    reduce += c.op == npu::Opcode::kReduce;
    bilinear += c.op == npu::Opcode::kResize && c.as<npu::ResizeArgs>().mode == 1;
  }
  EXPECT_EQ(bmm, 1);
  EXPECT_EQ(reduce, 3);
  EXPECT_EQ(bilinear, 1);
  auto payload = compiler::compile_partition(sub.value(), testing::npu_target());
  ASSERT_TRUE(payload.ok()) << payload.status().to_string();
  const std::string listing = compiler::disassemble_payload(payload.value());
  for (const char* word : {"batch_matmul", "resize", "bilinear", "reduce", "mean", "sum", "max"})
    EXPECT_NE(listing.find(word), std::string::npos) << word << " missing from\n" << listing;
  if (std::getenv("NEUTRON_PRINT_DISASM")) std::printf("%s", listing.c_str());
  const testing::NpuVsCpu cmp = testing::compare_npu_cpu(sub.value(), 5, 77);
  EXPECT_TRUE(cmp.error.empty()) << cmp.error;
  EXPECT_TRUE(cmp.mismatch.empty()) << cmp.mismatch;
  EXPECT_EQ(cmp.runs, 5);
}

// One int8 op as the partitioner sees it: if the rules delegate it, its partition must compile and
// match the CPU bit for bit. Returns whether it was delegated.
bool delegated_and_bit_exact(OpKind kind, const std::vector<testing::Operand>& ops, const Attributes& attrs,
                             const QuantParams& yq, uint32_t seed, const std::string& what) {
  SCOPED_TRACE(what + " seed " + std::to_string(seed));
  auto g = testing::make_single_op_graph(kind, ops, attrs, {testing::OutputSpec{yq}});
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return false;
  auto p = partition_graph(g.value(), testing::npu_target());
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  if (!p.ok() || p->partitions.empty()) return false;
  auto sub = compiler::prepare_partition_graph(g.value(), p->partitions[0]);
  EXPECT_TRUE(sub.ok()) << sub.status().to_string();
  if (!sub.ok()) return false;
  const testing::NpuVsCpu r = testing::compare_npu_cpu(sub.value(), 2, seed, {}, &g.value());
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
  return true;
}

QuantParams random_q(std::mt19937& rng, int32_t zp_lo = -30, int32_t zp_hi = 30) {
  return QuantParams::per_tensor(float(std::uniform_real_distribution<double>(0.01, 0.05)(rng)),
                                 std::uniform_int_distribution<int>(zp_lo, zp_hi)(rng));
}

// Every Resize, Reduce and BatchMatMul configuration the rules accept (modes, scales, axes,
// keepdims, shapes) compiles and runs bit-exact; the ones upstream delegates are delegated.
TEST(QdqDelegation, AcceptedBmmReduceResizeCompileBitExact) {
  using testing::Operand;
  uint32_t seed = 0;
  int delegated = 0, cases = 0;
  for (const char* ctm : {"half_pixel", "pytorch_half_pixel", "align_corners"})
    for (int sh : {1, 2, 4, 8})
      for (int sw : {1, 2, 4, 8}) {
        std::mt19937 rng(++seed);
        auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
        const bool ac = std::string(ctm) == "align_corners";
        const int64_t h = ri(ac ? 2 : 1, 5), w = ri(ac ? 2 : 1, 5);
        const int64_t oh = ac ? (h - 1) * sh + 1 : h * sh, ow = ac ? (w - 1) * sw + 1 : w * sw;
        const Shape s = {ri(1, 2), ri(1, 11), h, w};
        const QuantParams q = random_q(rng);
        const bool same = ri(0, 1);
        const bool ok = delegated_and_bit_exact(
            OpKind::Resize, {Operand::input(testing::random_int8(s, rng), q)},
            resize_attrs(ctm, {1, 1, double(oh) / double(h), double(ow) / double(w)}), same ? q : random_q(rng), seed,
            str_cat("resize linear ", ctm, " x", shape_str(s), " -> ", oh, "x", ow));
        EXPECT_EQ(ok, sh * sw > 1) << ctm << " scales " << sh << "x" << sw;  // scale 1x1 alone: a no-op
        delegated += ok;
        ++cases;
      }
  const OpKind reduces[] = {OpKind::ReduceMean, OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceMin};
  for (int i = 0; i < 32; ++i) {
    std::mt19937 rng(++seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int rank = ri(2, 4);
    Shape s;
    for (int k = 0; k < rank; ++k) s.push_back(ri(2, 13));
    std::vector<int64_t> axes;
    for (int k = 0; k < rank; ++k)
      if (ri(0, 1)) axes.push_back(k);
    const QuantParams q = random_q(rng);
    const OpKind kind = reduces[i % 4];
    const bool ok = delegated_and_bit_exact(kind, {Operand::input(testing::random_int8(s, rng), q)},
                                            reduce_attrs(axes, ri(0, 1)), q, seed,
                                            str_cat(op_kind_name(kind), " x", shape_str(s), " axes ", axes));
    EXPECT_TRUE(ok);
    delegated += ok;
    ++cases;
  }
  for (int i = 0; i < 12; ++i) {
    std::mt19937 rng(++seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int64_t B = ri(1, 4), M = ri(1, 13), K = ri(1, 40), N = ri(1, 21);
    const QuantParams aq = random_q(rng, 0, 0), bq = random_q(rng, 0, 0);
    const QuantParams yq = QuantParams::per_tensor(float(aq.scale[0] * bq.scale[0] * 64 * std::sqrt(double(K))), ri(-9, 9));
    const bool ok = delegated_and_bit_exact(
        OpKind::MatMul,
        {Operand::input(testing::random_int8({B, M, K}, rng), aq), Operand::input(testing::random_int8({B, K, N}, rng), bq)},
        {}, yq, seed, str_cat("bmm B", B, " M", M, " K", K, " N", N));
    EXPECT_TRUE(ok);
    delegated += ok;
    ++cases;
  }
  std::printf("%d of %d Resize/Reduce/BatchMatMul cases delegated, all bit-exact\n", delegated, cases);
}

}  // namespace
}  // namespace neutron
