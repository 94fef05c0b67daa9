// int8 GRU and LSTM as one recurrent kernel call (opcode 40): random shapes, per-tensor and
// per-gate-row weights, with and without bias and initial states (initial_h int8 or float), forward,
// reverse and bidirectional, both GRU
// reset variants. The node is delegated, and its NPU partition equals the CPU executor bit for bit
// (Y, Y_h and LSTM's Y_c); the weights are in the payload once, whatever the sequence length.
#include <gtest/gtest.h>

#include <random>

#include "compiler/npu_test_util.h"
#include "partition/op_support.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using testing::Operand;
using testing::OutputSpec;

QuantParams q8(double scale, int32_t zp) { return QuantParams::per_tensor(float(scale), zp); }

struct RnnCase {
  bool lstm, lbr, reverse, per_row, bias, initial;
  int64_t directions;
  int64_t seq, batch, input, hidden;
};

StatusOr<Graph> rnn_graph(const RnnCase& c, std::mt19937& rng) {
  auto uni = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  const int64_t G = c.lstm ? 4 : 3, GH = G * c.hidden;
  const double sx = uni(0.01, 0.05), sh = uni(0.004, 0.01);
  auto weights = [&](int64_t k, double act_scale) {
    QuantParams q;
    for (int64_t g = 0; g < (c.per_row ? GH : 1); ++g) {
      q.scale.push_back(float(uni(0.5, 1.5) * 2.0 / (127 * std::sqrt(double(k)) * 40 * act_scale)));
      q.zero_point.push_back(0);
    }
    q.axis = 1;
    if (!c.per_row) q = q8(q.scale[0], 0);
    return Operand::constant_of(testing::random_int8({c.directions, GH, k}, rng), q);
  };
  std::vector<Operand> ops = {Operand::input(testing::random_int8({c.seq, c.batch, c.input}, rng), q8(sx, int32_t(uni(-20, 20)))),
                              weights(c.input, sx), weights(c.hidden, sh)};
  auto floats = [&](Shape s, double lo, double hi) {
    TensorData t(DType::F32, s);
    for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = float(uni(lo, hi));
    return Operand::constant_of(t);
  };
  const int64_t D = c.directions;
  ops.push_back(c.bias ? floats({D, 2 * GH}, -0.5, 0.5) : Operand::none());
  ops.push_back(Operand::none());  // sequence_lens
  const QuantParams yq = q8(sh, int32_t(uni(-10, 10)));
  if (c.initial && uni(0, 1) < 0.5) {  // as the quantizer gives it: int8 with Y's parameters
    ops.push_back(Operand::constant_of(testing::random_int8({D, c.batch, c.hidden}, rng), yq));
  } else {
    ops.push_back(c.initial ? floats({D, c.batch, c.hidden}, -0.6, 0.6) : Operand::none());
  }
  if (c.lstm) ops.push_back(c.initial ? floats({D, c.batch, c.hidden}, -2, 2) : Operand::none());
  Attributes a;
  a.set("hidden_size", c.hidden);
  a.set("direction", std::string(D == 2 ? "bidirectional" : c.reverse ? "reverse" : "forward"));
  if (!c.lstm) a.set("linear_before_reset", int64_t(c.lbr));
  std::vector<OutputSpec> outs = {OutputSpec{yq}, OutputSpec{yq}};
  if (c.lstm) outs.push_back(OutputSpec{q8(uni(0.01, 0.03), int32_t(uni(-5, 5)))});
  return testing::make_single_op_graph(c.lstm ? OpKind::LSTM : OpKind::GRU, ops, a, outs);
}

TEST(RecurrentInt8Npu, RandomShapesAreDelegatedAndBitExact) {
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    std::mt19937 rng(seed);
    auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    RnnCase c;
    c.lstm = seed % 2 == 0;
    c.lbr = ri(0, 1);
    c.reverse = ri(0, 3) == 0;
    c.per_row = ri(0, 1);
    c.bias = ri(0, 3) != 0;
    c.initial = ri(0, 1);
    c.seq = ri(1, 20);
    c.batch = ri(1, 3);
    c.input = ri(1, 40);
    c.hidden = ri(1, 48);
    c.directions = ri(0, 2) == 0 ? 2 : 1;
    SCOPED_TRACE(::testing::Message() << (c.lstm ? "LSTM" : "GRU") << " T " << c.seq << " B " << c.batch << " I "
                                    << c.input << " H " << c.hidden << " D " << c.directions << " lbr " << c.lbr << " reverse " << c.reverse
                                    << " per_row " << c.per_row << " bias " << c.bias << " initial " << c.initial
                                    << " seed " << seed);
    auto g = rnn_graph(c, rng);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    const auto rule = check_node_support(g.value(), g.value().live_nodes()[0], testing::npu_target());
    EXPECT_FALSE(rule.has_value()) << rule->rule << ": " << rule->detail;
    const testing::NpuVsCpu r = testing::compare_npu_cpu(g.value(), 3, seed);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.mismatch.empty()) << r.mismatch;
    EXPECT_EQ(r.runs, 3);
  }
}

TEST(RecurrentInt8Npu, WeightsAreStoredOnceWhateverTheSequenceLength) {
  size_t bytes[2] = {0, 0};
  const int64_t seqs[2] = {2, 50};
  for (int k = 0; k < 2; ++k) {
    std::mt19937 rng(3);
    RnnCase c{false, true, false, true, true, false, 1, seqs[k], 1, 10, 64};
    auto g = rnn_graph(c, rng);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    auto p = compiler::compile_partition(g.value(), testing::npu_target());
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    bytes[k] = p->size();
  }
  // W and R are 192 x 74 bytes: 48 more steps must not add a copy of them.
  EXPECT_LT(bytes[1], bytes[0] + 192 * 74) << bytes[0] << " vs " << bytes[1];
}

}  // namespace
}  // namespace neutron
