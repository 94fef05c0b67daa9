// End-to-end (float): the GRU and LSTM keyword spotters as PyTorch exports them (batch_first
// Transpose, initial state from Expand of zeros, Squeeze, Gather of the last step) import with one
// GRU / LSTM node and run within 1e-5 of torch. Their int8 path (quantize, compile, NPU) is checked
// by tests/tools/issue16_models_cli_test.cc.
#include "e2e/fixture_models.h"
#include "ir/printer.h"

namespace neutron::testing {
namespace {

void check_rnn(const std::string& name, OpKind kind) {
  SCOPED_TRACE(name);
  const std::string path = fixture_path(name, "model_f32.onnx");
  auto g = import_onnx_file(path);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  int count = 0;
  for (NodeId id : g.value().live_nodes()) count += g.value().node(id).kind == kind;
  EXPECT_EQ(count, 1) << print_graph(g.value());
  auto ex = load_model(path);
  ASSERT_TRUE(ex);
  TensorData inputs = load_npy_or_die(fixture_path(name, "inputs.npy"));
  TensorData want = load_npy_or_die(fixture_path(name, "ref_f32.npy"));
  TensorData got = run_all(*ex, inputs);
  Agreement a = compare(got, want, 1.0);
  EXPECT_LE(a.max_abs, 1e-5 * std::max(1.0, max_abs(want))) << "max |ours - torch| = " << a.max_abs;
}

TEST(RnnFixtures, GruKwsFloatMatchesTorch) { check_rnn("gru_kws", OpKind::GRU); }
TEST(RnnFixtures, LstmKwsFloatMatchesTorch) { check_rnn("lstm_kws", OpKind::LSTM); }

}  // namespace
}  // namespace neutron::testing
