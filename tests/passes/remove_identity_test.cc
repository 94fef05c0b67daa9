#include "prequant_test_util.h"

namespace neutron::testing {
namespace {

Graph rewrite(const Graph& g) { return run_pass(g, remove_identity, "remove-identity"); }

TEST(RemoveIdentity, IdentityAndDropoutInsideTheGraph) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 3});
  TensorId y = b.op(OpKind::Dropout, {b.op(OpKind::Identity, {b.op(OpKind::Relu, {x})})});
  Graph before = b.finish({b.op(OpKind::Neg, {y})});
  Graph after = rewrite(before);
  EXPECT_EQ(count(after, OpKind::Identity), 0);
  EXPECT_EQ(count(after, OpKind::Dropout), 0);
  EXPECT_EQ(after.live_nodes().size(), 2u);
  expect_same_results(before, after, 1, 0);
}

TEST(RemoveIdentity, GraphOutputNameMovesToTheProducer) {
  GraphBuilder b;
  TensorId x = b.input("x", {2, 3});
  TensorId relu = b.op(OpKind::Relu, {x});
  TensorId out = b.op(OpKind::Identity, {relu});
  b.g.tensor(out).name = "output";
  Graph before = b.finish({out, b.op(OpKind::Neg, {relu})});
  Graph after = rewrite(before);  // checks that "output" is still the first output's name
  EXPECT_EQ(count(after, OpKind::Identity), 0);
  EXPECT_EQ(after.tensor(after.outputs[0]).producer >= 0 ? after.node(after.tensor(after.outputs[0]).producer).kind
                                                         : OpKind::kCount,
            OpKind::Relu);
  expect_same_results(before, after, 1, 0);
}

TEST(RemoveIdentity, KeepsIdentitiesBetweenInterfaceTensors) {
  GraphBuilder b;
  TensorId x = b.input("x", {3});
  TensorId relu = b.op(OpKind::Relu, {x});
  TensorId passthrough = b.op(OpKind::Identity, {x});                       // graph input -> graph output
  TensorId of_constant = b.op(OpKind::Dropout, {b.constant("c", {3}, {1, 2, 3})});  // constant -> graph output
  TensorId second_name = b.op(OpKind::Identity, {relu});                    // graph output -> graph output
  Graph before = b.finish({passthrough, of_constant, relu, second_name});
  Graph after = rewrite(before);
  EXPECT_EQ(print_graph(after), print_graph(before));
}

}  // namespace
}  // namespace neutron::testing
