// GRU and LSTM as ONNX writes them beyond PyTorch's defaults (issue 16, deliverable 1):
//   - layout 1 (batch first, opset 14) imports as the layout-0 op between exact permutations (reshapes
//     at batch 1), computes what the layout-0 model with explicit Transposes computes, and an int8
//     keyword spotter with it still goes to the NPU, bit-exact with the host and with --target cpu;
//   - LSTM peepholes (input P) run in float: the quantizer keeps the node float, the program runs it
//     as a recurrent_peephole_f32 call bit-exact with the host executor, and the report says why;
//   - activations spelled out as the defaults import; clip, other activations and input_forget are
//     refused naming the node and the attribute.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>

#include "compiler/compiler.h"
#include "import/onnx_builder.h"
#include "partition/op_support.h"
#include "passes/prequant_test_util.h"
#include "quantize/calibration_data.h"
#include "quantize/quantizer.h"
#include "util/program_util.h"

namespace neutron::testing {
namespace {

TensorData random_tensor(const Shape& s, std::mt19937& rng, float lo = -1, float hi = 1) {
  TensorData t(DType::F32, s);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.count(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

struct RnnSpec {
  bool lstm = false;
  int64_t batch = 1, seq = 6, input = 5, hidden = 7;
  bool bidirectional = false;
  bool initial_h = true;   // a constant initial state
  bool peepholes = false;  // LSTM only
  int layout = 1;
  bool explicit_transposes = false;  // layout 0 between ONNX Transposes (the reference of layout 1)
  int opset = 14;
};

// X [B, T, I] (layout 1 or explicit transposes) or [T, B, I] -> GRU/LSTM -> Y (in X's layout), Y_h.
OnnxBuilder rnn_model(const RnnSpec& s, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t D = s.bidirectional ? 2 : 1, G = s.lstm ? 4 : 3, H = s.hidden;
  const bool batch_first = s.layout == 1 || s.explicit_transposes;
  OnnxBuilder b(s.opset);
  b.input("x", kFloat, batch_first ? std::vector<int64_t>{s.batch, s.seq, s.input} : std::vector<int64_t>{s.seq, s.batch, s.input});
  b.init("W", random_tensor({D, G * H, s.input}, rng, -0.5f, 0.5f));
  b.init("R", random_tensor({D, G * H, H}, rng, -0.5f, 0.5f));
  b.init("B", random_tensor({D, 2 * G * H}, rng, -0.3f, 0.3f));
  const Shape state = s.layout == 1 ? Shape{s.batch, D, H} : Shape{D, s.batch, H};
  std::string x = "x", h0 = "", c0 = "";
  if (s.explicit_transposes) {
    OnnxBuilder::attr(b.node("Transpose", {"x"}, {"x_t"}, "x_to_seq_first"), "perm", std::vector<int64_t>{1, 0, 2});
    x = "x_t";
  }
  if (s.initial_h) {
    b.init("h0", random_tensor(state, rng, -0.5f, 0.5f));
    h0 = "h0";
    if (s.lstm) {
      b.init("c0", random_tensor(state, rng, -0.5f, 0.5f));
      c0 = "c0";
    }
  }
  std::vector<std::string> in = {x, "W", "R", "B", "", h0};
  if (s.lstm) in.push_back(c0);
  if (s.peepholes) {
    b.init("P", random_tensor({D, 3 * H}, rng, -0.5f, 0.5f));
    in.push_back("P");
  }
  const bool t = s.explicit_transposes;
  auto* n = b.node(s.lstm ? "LSTM" : "GRU", in, {t ? "y_seq" : "y", t ? "yh_dir" : "y_h"}, "rnn");
  OnnxBuilder::attr(n, "hidden_size", H);
  if (s.bidirectional) OnnxBuilder::attr(n, "direction", std::string("bidirectional"));
  if (!s.lstm) OnnxBuilder::attr(n, "linear_before_reset", int64_t(1));
  if (s.layout == 1) OnnxBuilder::attr(n, "layout", int64_t(1));
  if (t) {
    OnnxBuilder::attr(b.node("Transpose", {"y_seq"}, {"y"}, "y_to_batch_first"), "perm", std::vector<int64_t>{2, 0, 1, 3});
    OnnxBuilder::attr(b.node("Transpose", {"yh_dir"}, {"y_h"}, "yh_to_batch_first"), "perm", std::vector<int64_t>{1, 0, 2});
  }
  b.output("y").output("y_h");
  return b;
}

// The initial states of the reference are in layout 0 ([D, B, H]) while the layout-1 model's are
// [B, D, H]: both models draw the same values in the same order, so give the reference the same
// numbers permuted.
void permute_states_like_layout1(OnnxBuilder& ref, const RnnSpec& s) {
  if (!s.initial_h) return;
  const int64_t D = s.bidirectional ? 2 : 1, B = s.batch, H = s.hidden;
  for (auto& init : *ref.graph().mutable_initializer()) {
    if (init.name() != "h0" && init.name() != "c0") continue;
    const std::string raw = init.raw_data();  // [B, D, H] values
    std::string out(raw.size(), '\0');
    for (int64_t b = 0; b < B; ++b)
      for (int64_t d = 0; d < D; ++d)
        std::memcpy(&out[size_t(((d * B + b) * H) * 4)], &raw[size_t(((b * D + d) * H) * 4)], size_t(H) * 4);
    init.set_raw_data(out);
    init.clear_dims();
    for (int64_t v : {D, B, H}) init.add_dims(v);
  }
}

std::vector<TensorData> run_float(const OnnxBuilder& b, const std::vector<TensorData>& in) {
  auto g = b.import();
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return {};
  return run_on_cpu(g.value(), in);
}

TEST(RecurrentLayout1, MatchesLayout0BetweenTransposesBitForBit) {
  uint32_t seed = 1;
  for (bool lstm : {false, true})
    for (int64_t batch : {1, 3})
      for (bool bidi : {false, true})
        for (bool init : {false, true}) {
          RnnSpec s;
          s.lstm = lstm;
          s.batch = batch;
          s.bidirectional = bidi;
          s.initial_h = init;
          SCOPED_TRACE(::testing::Message() << (lstm ? "LSTM" : "GRU") << " batch " << batch << (bidi ? " bidi" : "")
                                            << (init ? " h0" : ""));
          const OnnxBuilder m1 = rnn_model(s, seed);
          RnnSpec r = s;
          r.layout = 0;
          r.explicit_transposes = true;
          OnnxBuilder m0 = rnn_model(r, seed);
          permute_states_like_layout1(m0, s);
          ++seed;
          std::mt19937 rng(seed);
          const std::vector<TensorData> in = {random_tensor({s.batch, s.seq, s.input}, rng)};
          const auto a = run_float(m1, in), b = run_float(m0, in);
          ASSERT_EQ(a.size(), 2u);
          ASSERT_EQ(b.size(), 2u);
          for (size_t i = 0; i < 2; ++i) {
            EXPECT_EQ(a[i].shape, b[i].shape) << "output " << i;
            EXPECT_EQ(a[i].bytes, b[i].bytes) << "output " << i;
          }
          // At batch 1 the permutations move only unit dimensions: reshapes, no Transpose.
          auto g = m1.import();
          ASSERT_TRUE(g.ok());
          if (batch == 1) {
            EXPECT_EQ(count(g.value(), OpKind::Transpose), 0);
          }
          EXPECT_EQ(count(g.value(), lstm ? OpKind::LSTM : OpKind::GRU), 1);
        }
}

StatusOr<Graph> quantize(const Graph& g, const TensorData& samples) {
  std::vector<std::vector<CalibrationArray>> arrays(1);
  arrays[0].push_back({g.tensor(g.inputs[0]).name, samples});
  ASSIGN_OR_RETURN(CalibrationSet calib, make_calibration_set(model_inputs(g), std::move(arrays)));
  return quantize_graph(g, calib, QuantizeOptions{});
}

using Compiled = CompiledProgram;
StatusOr<Compiled> compile(const Graph& qdq, const std::string& target) { return compile_qdq(qdq, target, "recurrent_onnx"); }



const NodePlacement* placement_of(const Compiled& c, OpKind kind) {
  for (NodeId id : c.graph.live_nodes())
    if (c.graph.node(id).kind == kind) return &c.part.nodes[size_t(id)];
  return nullptr;
}

Shape x_shape(const RnnSpec& s) {
  return s.layout == 1 || s.explicit_transposes ? Shape{s.batch, s.seq, s.input} : Shape{s.seq, s.batch, s.input};
}

// Quantizes the model on random calibration data, compiles it for imxrt700 and for the CPU, and
// checks both programs against the host executor bit for bit on a few samples.
void compile_and_check(const OnnxBuilder& m, const RnnSpec& s, Compiled* npu_out) {
  auto g = m.import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  Graph f = std::move(g).value();
  ASSERT_TRUE(run_passes(f, prequant_pipeline()).ok());
  std::mt19937 rng(11);
  Shape calib = x_shape(s);
  calib.insert(calib.begin(), 16);
  auto q = quantize(f, random_tensor(calib, rng));
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto npu = compile(q.value(), "imxrt700");
  ASSERT_TRUE(npu.ok()) << npu.status().to_string();
  auto cpu = compile(q.value(), "cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  for (int k = 0; k < 3; ++k) {
    const std::vector<TensorData> in = {random_tensor(x_shape(s), rng)};
    const auto host = run_on_cpu(q.value(), in);
    const auto a = run_program(npu->file, in);
    const auto c = run_program(cpu->file, in);
    ASSERT_EQ(host.size(), 2u);
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(c.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(a[i].bytes, host[i].bytes) << "sample " << k << " output " << i;
      EXPECT_EQ(c[i].bytes, host[i].bytes) << "sample " << k << " output " << i;
    }
  }
  *npu_out = std::move(npu).value();
}

// Batch 1 (a keyword spotter): reshapes only. Batch 2, bidirectional: int8 Transposes around the
// op, on the NPU too.
TEST(RecurrentLayout1, Int8RecurrentOpStaysOnTheNpu) {
  for (bool lstm : {false, true})
    for (int64_t batch : {1, 2}) {
      SCOPED_TRACE(::testing::Message() << (lstm ? "LSTM" : "GRU") << " batch " << batch);
      RnnSpec s;
      s.lstm = lstm;
      s.batch = batch;
      s.bidirectional = batch == 2;
      Compiled npu;
      compile_and_check(rnn_model(s, 5), s, &npu);
      if (::testing::Test::HasFatalFailure()) return;
      const NodePlacement* p = placement_of(npu, lstm ? OpKind::LSTM : OpKind::GRU);
      ASSERT_NE(p, nullptr);
      EXPECT_FALSE(p->rejection.has_value()) << p->rejection->rule << ": " << p->rejection->detail;
      if (batch == 1) {
        EXPECT_EQ(count(npu.graph, OpKind::Transpose), 0);
      } else {
        EXPECT_GT(count(npu.graph, OpKind::Transpose), 0);
      }
      for (NodeId id : npu.graph.live_nodes())
        if (npu.graph.node(id).kind == OpKind::Transpose) {
          const auto& r = npu.part.nodes[size_t(id)].rejection;
          EXPECT_FALSE(r.has_value()) << npu.graph.node(id).name << ": " << r->rule << ": " << r->detail;
        }
    }
}

TEST(LstmPeepholes, RunInFloatAsRecurrentPeepholeCallsBitExactWithTheHost) {
  for (int layout : {0, 1}) {
    SCOPED_TRACE(::testing::Message() << "layout " << layout);
    RnnSpec s;
    s.lstm = true;
    s.peepholes = true;
    s.layout = layout;
    s.batch = 2;
    s.bidirectional = layout == 1;
    Compiled npu;
    compile_and_check(rnn_model(s, 9), s, &npu);
    if (::testing::Test::HasFatalFailure()) return;
    EXPECT_NE(cpu_kernel_listing(npu.file).find("recurrent_peephole_f32"), std::string::npos);
    const NodePlacement* p = placement_of(npu, OpKind::LSTM);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(p->rejection.has_value());
    // The report names the peepholes, not the float tensors (the rule is checked before quant.int8_io).
    EXPECT_EQ(p->rejection->rule, "recurrent.peepholes");
    EXPECT_NE(p->rejection->detail.find("'P'"), std::string::npos) << p->rejection->detail;
  }
  // The delegation rule a user reads (supported-ops) names the peepholes.
  const OpSupport* lstm = find_op_support(OpKind::LSTM);
  ASSERT_NE(lstm, nullptr);
  ASSERT_FALSE(lstm->rules.empty());
  EXPECT_EQ(lstm->rules.front().name, "recurrent.peepholes");
  EXPECT_TRUE(lstm->rules.front().before_quant);
}

// The recurrent_peephole_f32 call is untrusted bytes like the others: random edits of the CPU
// payload (resealed past the checksum) are refused at load or run; never a crash or an
// out-of-bounds access (ASan builds check). Its P operand lies past recurrent_f32's words.
TEST(LstmPeepholes, MutatedPeepholeCallsAreRefusedOrRun) {
  RnnSpec s;
  s.lstm = true;
  s.peepholes = true;
  s.layout = 0;
  s.bidirectional = true;
  auto g = rnn_model(s, 13).import();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  Graph f = std::move(g).value();
  ASSERT_TRUE(run_passes(f, prequant_pipeline()).ok());
  std::mt19937 rng(3);
  Shape calib = x_shape(s);
  calib.insert(calib.begin(), 8);
  auto q = quantize(f, random_tensor(calib, rng));
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto c = compile(q.value(), "cpu");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  ASSERT_NE(cpu_kernel_listing(c->file).find("recurrent_peephole_f32"), std::string::npos);
  const std::vector<uint8_t>& bytes = c->file.bytes;
  const TensorData input = random_tensor(x_shape(s), rng);
  ASSERT_TRUE(load_program(bytes)->status.ok());
  const fb::Program* p = fb::GetProgram(bytes.data());
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const fb::Payload* pl : *p->payloads())
    ranges.emplace_back(size_t(pl->data()->data() - bytes.data()), size_t(pl->data()->size()));
  ASSERT_FALSE(ranges.empty());
  int loaded = 0, ran = 0, total = 0;
  for (int m = 0; m < (kSanitized ? 150 : 400); ++m) {
    std::vector<uint8_t> mutant = bytes;
    const auto [at, n] = ranges[rng() % ranges.size()];
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
  std::printf("recurrent_peephole_f32 mutants: %d, %d loaded, %d ran\n", total, loaded, ran);
  EXPECT_LT(loaded, total);
}

// Peepholes change the result (the float kernel reads P), and an all-zero P is exactly no P.
TEST(LstmPeepholes, ZeroPeepholesEqualNoneAndOthersDiffer) {
  RnnSpec s;
  s.lstm = true;
  s.layout = 0;
  s.peepholes = true;
  OnnxBuilder with = rnn_model(s, 3);
  s.peepholes = false;
  OnnxBuilder without = rnn_model(s, 3);
  std::mt19937 rng(4);
  const std::vector<TensorData> in = {random_tensor({s.seq, s.batch, s.input}, rng)};
  const auto a = run_float(with, in), b = run_float(without, in);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_NE(a[0].bytes, b[0].bytes);
  for (auto& init : *with.graph().mutable_initializer())
    if (init.name() == "P") init.set_raw_data(std::string(init.raw_data().size(), '\0'));
  const auto z = run_float(with, in);
  ASSERT_EQ(z.size(), 2u);
  EXPECT_EQ(z[0].bytes, b[0].bytes);
  EXPECT_EQ(z[1].bytes, b[1].bytes);
}

TEST(RecurrentAttributes, DefaultActivationsSpelledOutImportOthersAreRefusedByName) {
  auto with_attrs = [](bool lstm, const std::function<void(onnx::NodeProto*)>& set) {
    RnnSpec s;
    s.lstm = lstm;
    s.layout = 0;
    s.bidirectional = true;
    OnnxBuilder b = rnn_model(s, 2);
    for (auto& n : *b.graph().mutable_node())
      if (n.name() == "rnn") set(&n);
    return b.import();
  };
  auto strings = [](onnx::NodeProto* n, const std::string& name, const std::vector<std::string>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRINGS);
    for (const auto& s : v) a->add_strings(s);
  };
  auto ok = with_attrs(true, [&](onnx::NodeProto* n) {
    strings(n, "activations", {"Sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Tanh"});
  });
  EXPECT_TRUE(ok.ok()) << ok.status().to_string();
  ok = with_attrs(false, [&](onnx::NodeProto* n) { strings(n, "activations", {"Sigmoid", "Tanh", "Sigmoid", "Tanh"}); });
  EXPECT_TRUE(ok.ok()) << ok.status().to_string();
  struct Bad {
    bool lstm;
    std::function<void(onnx::NodeProto*)> set;
    std::string want;
  };
  const std::vector<Bad> bad = {
      {false, [&](onnx::NodeProto* n) { strings(n, "activations", {"Relu", "Tanh", "Relu", "Tanh"}); },
       "attribute activations [Relu, Tanh, Relu, Tanh] is not supported"},
      {true, [&](onnx::NodeProto* n) { OnnxBuilder::attr(n, "clip", 3.0f); }, "attribute clip is not supported"},
      {true, [&](onnx::NodeProto* n) { OnnxBuilder::attr(n, "input_forget", int64_t(1)); },
       "attribute input_forget 1 is not supported"},
      {false, [&](onnx::NodeProto* n) { OnnxBuilder::attr(n, "activation_alpha", std::vector<float>{0.5f}); },
       "attribute activation_alpha is not supported"},
  };
  for (const Bad& b : bad) {
    auto r = with_attrs(b.lstm, b.set);
    ASSERT_FALSE(r.ok()) << b.want;
    EXPECT_EQ(r.status().code(), Error::NotSupported);
    EXPECT_NE(r.status().message().find("node 'rnn'"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(b.want), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace neutron::testing
