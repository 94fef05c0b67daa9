// Quantizing GRU and LSTM: W and R symmetric per gate row, Y, Y_h and initial_h one parameter set
// (the hidden state, even when both outputs are read), B and initial_c left as float constants for
// the lowering; fold-qdq makes one int8 node, which stays close to the float graph.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "passes/passes.h"
#include "passes/pipeline.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "util/single_op.h"

namespace neutron::testing {
namespace {

void check(bool lstm, bool bidirectional = false) {
  SCOPED_TRACE(std::string(lstm ? "LSTM" : "GRU") + (bidirectional ? " bidirectional" : ""));
  const int64_t T = 6, I = 5, H = 8, G = lstm ? 4 : 3, D = bidirectional ? 2 : 1;
  GraphBuilder b;
  const TensorId x = b.input("x", {T, 1, I});
  Attributes a;
  a.set("hidden_size", H);
  a.set("direction", std::string(bidirectional ? "bidirectional" : "forward"));
  if (!lstm) a.set("linear_before_reset", int64_t(1));
  std::vector<TensorId> ins = {x, b.random_constant("W", {D, G * H, I}), b.random_constant("R", {D, G * H, H}),
                               b.random_constant("B", {D, 2 * G * H}), kNoTensor,
                               b.random_constant("h0", {D, 1, H}, -0.5f, 0.5f)};
  if (lstm) ins.push_back(ins[5]);  // one constant for h0 and c0, as PyTorch exports its zeros
  const auto outs = b.op_n(lstm ? OpKind::LSTM : OpKind::GRU, ins, lstm ? 3 : 2, a);
  // Both Y and Y_h are read (Y_h through a Relu so that it is an activation of its own).
  const TensorId yh = b.op(OpKind::Relu, {outs[1]});
  Graph g = b.finish({outs[0], yh});
  TensorData samples(DType::F32, {16, T, 1, I});
  std::mt19937 rng(4);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t i = 0; i < samples.count(); ++i) samples.data<float>()[i] = nd(rng);
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({"x", samples});
  auto calib = make_calibration_set(model_inputs(g), std::move(arrays));
  ASSERT_TRUE(calib.ok()) << calib.status().to_string();
  auto q = quantize_graph(g, calib.value(), QuantizeOptions{});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  Graph folded = q.value();
  ASSERT_TRUE(run_passes(folded, cpu_pipeline()).ok());
  int rnn = 0;
  for (NodeId id : folded.live_nodes()) {
    const Node& n = folded.node(id);
    if (n.kind != (lstm ? OpKind::LSTM : OpKind::GRU)) continue;
    ++rnn;
    const Tensor& y = folded.tensor(n.outputs[0]);
    ASSERT_EQ(y.dtype, DType::I8) << "the recurrent node did not fold to int8";
    EXPECT_EQ(y.quant, folded.tensor(n.outputs[1]).quant) << "Y and Y_h must share parameters";
    const Tensor& w = folded.tensor(n.inputs[1]);
    EXPECT_EQ(w.dtype, DType::I8);
    EXPECT_EQ(w.quant.scale.size(), size_t(G * H)) << "one scale per gate row";
    EXPECT_EQ(w.quant.axis, 1);
    EXPECT_EQ(folded.tensor(n.inputs[3]).dtype, DType::F32) << "B stays a float constant";
    EXPECT_EQ(folded.tensor(n.inputs[5]).quant, y.quant) << "initial_h has the state's parameters";
  }
  EXPECT_EQ(rnn, 1);
  Graph ref = g;
  ASSERT_TRUE(run_passes(ref, cpu_pipeline()).ok());
  double err = 0, pow = 0;
  for (int s = 0; s < 16; ++s) {
    TensorData in(DType::F32, {T, 1, I});
    std::memcpy(in.bytes.data(), samples.bytes.data() + size_t(s) * in.bytes.size(), in.bytes.size());
    auto want = run_graph(ref, {in});
    auto got = run_graph(folded, {in});
    ASSERT_TRUE(want.ok() && got.ok()) << want.status().to_string() << got.status().to_string();
    for (size_t o = 0; o < want.value().size(); ++o)  // Y and Relu(Y_h)
      for (int64_t i = 0; i < want.value()[o].count(); ++i) {
        const double wv = want.value()[o].data<float>()[i], ov = got.value()[o].data<float>()[i];
        err += (wv - ov) * (wv - ov);
        pow += wv * wv;
      }
  }
  const double sqnr = 10 * std::log10(pow / err);
  std::printf("%s%s: int8 vs float SQNR %.1f dB\n", lstm ? "LSTM" : "GRU", bidirectional ? " bidirectional" : "", sqnr);
  EXPECT_GT(sqnr, 25.0);
}

TEST(RecurrentQuant, GruSharesTheHiddenStateRangeAndFoldsToInt8) { check(false); }
TEST(RecurrentQuant, LstmSharesTheHiddenStateRangeAndFoldsToInt8) { check(true); }
TEST(RecurrentQuant, BidirectionalGruAndLstmFoldToInt8) {
  check(false, true);
  check(true, true);
}

}  // namespace
}  // namespace neutron::testing
