// End-to-end: the transformer fixtures (ViT, KWS transformer, GPT-style decoder), as PyTorch
// exports them at opsets 13 and 17, import into the same fused graph (one LayerNormalization per
// nn.LayerNorm, one Gelu per nn.GELU) and run in float within 1e-5 of torch.
#include "e2e/fixture_models.h"
#include "ir/printer.h"

namespace neutron::testing {
namespace {

int count_kind(const Graph& g, OpKind k) {
  int n = 0;
  for (NodeId id : g.live_nodes()) n += g.node(id).kind == k;
  return n;
}

void check_transformer(const std::string& name, int opset) {
  SCOPED_TRACE(name + " opset " + std::to_string(opset));
  const std::string path = fixture_path(name, "model_f32_opset" + std::to_string(opset) + ".onnx");
  auto g = import_onnx_file(path);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  // 2 blocks x 2 norms + the final norm; one GELU per block; nothing of the decomposed forms left.
  EXPECT_EQ(count_kind(g.value(), OpKind::LayerNormalization), 5) << print_graph(g.value());
  EXPECT_EQ(count_kind(g.value(), OpKind::Gelu), 2);
  EXPECT_EQ(count_kind(g.value(), OpKind::Erf), 0);
  EXPECT_EQ(count_kind(g.value(), OpKind::Pow), 0);
  EXPECT_EQ(count_kind(g.value(), OpKind::Sqrt), 0);
  auto ex = load_model(path);
  ASSERT_TRUE(ex);
  TensorData inputs = load_npy_or_die(fixture_path(name, "inputs.npy"));
  TensorData want = load_npy_or_die(fixture_path(name, "ref_f32.npy"));
  TensorData got = run_all(*ex, inputs);
  Agreement a = compare(got, want, 1.0);
  EXPECT_LE(a.max_abs, 1e-5 * std::max(1.0, max_abs(want))) << "max |ours - torch| = " << a.max_abs;
}

TEST(TransformerFixtures, VitFloatMatchesTorch) {
  check_transformer("vit_tiny", 13);
  check_transformer("vit_tiny", 17);
}
TEST(TransformerFixtures, KwsFloatMatchesTorch) {
  check_transformer("kws_transformer", 13);
  check_transformer("kws_transformer", 17);
}
TEST(TransformerFixtures, DecoderFloatMatchesTorch) {
  check_transformer("gpt_decoder", 13);
  check_transformer("gpt_decoder", 17);
}

}  // namespace
}  // namespace neutron::testing
