// NeutronBackend: payload validation with clear errors (bad magic, unknown version, inconsistent
// counts, truncation, random byte flips: errors, never crashes), IO mapping through the header's
// maps, NCHW <-> NHWC conversion on the CPU for flagged IOs and the dim-order rules, caller-supplied
// memory (out-of-memory errors, no heap), and the lifecycle.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "compiler/npu_test_util.h"
#include "kernels/layout_int8.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "runtime/payload.h"
#include "util/single_op.h"

namespace neutron {
namespace {

using compiler::CompileOptions;
using runtime::MemoryAllocator;
using runtime::NeutronBackend;
using runtime::TensorArg;
using testing::AlignedBuffer;
using testing::Operand;
using testing::OutputSpec;

QuantParams q8(double scale, int32_t zp) { return QuantParams::per_tensor(float(scale), zp); }

Graph prepare(Graph g) {
  static const std::vector<PassInfo> kLayout = {{"layout-nhwc", "", layout_nhwc}, {"dce", "", eliminate_dead_code}};
  Status st = run_passes(g, kLayout);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return g;
}

// x[1,3,6,5] -> Conv 3x3 pad 1 -> [1,5,6,5] (NCHW at the boundary).
Graph conv_graph() {
  std::mt19937 rng(3);
  TensorData w = testing::random_int8({5, 3, 3, 3}, rng);
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto g = testing::make_single_op_graph(
      OpKind::Conv, {Operand::input(TensorData(DType::I8, {1, 3, 6, 5}), q8(0.05, 2)), Operand::constant_of(w, q8(0.01, 0))},
      a, {OutputSpec{q8(0.2, -7)}});
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return prepare(g.value());
}

// y = a - b with a[2,3,4,5], b[2,3,4,5]: two inputs whose order matters.
Graph sub_graph() {
  auto g = testing::make_single_op_graph(
      OpKind::Sub,
      {Operand::input(TensorData(DType::I8, {2, 3, 4, 5}), q8(0.05, 1)), Operand::input(TensorData(DType::I8, {2, 3, 4, 5}), q8(0.07, -3))},
      {}, {OutputSpec{q8(0.1, 0)}});
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return g.value();
}

std::vector<uint8_t> compile(const Graph& g, const CompileOptions& o = {}) {
  auto p = compiler::compile_partition(g, testing::npu_target(), o);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return p.ok() ? p.value() : std::vector<uint8_t>();
}

std::vector<TensorData> cpu(const Graph& g, const std::vector<TensorData>& inputs) {
  auto ex = Executor::create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().to_string();
  std::vector<TensorData> out;
  Status st = ex.value()->run(inputs, &out);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return out;
}

// init() on a copy of `bytes` with plenty of memory.
struct Loaded {
  AlignedBuffer payload, context;
  std::unique_ptr<MemoryAllocator> alloc;
  NeutronBackend backend;
  Error init(const std::vector<uint8_t>& bytes, size_t context_bytes = 1 << 20) {
    testing::ensure_neutron_init();
    payload.assign(bytes);
    context.resize(context_bytes);
    alloc = std::make_unique<MemoryAllocator>(context.data(), context.size());
    return backend.init(payload.data(), payload.size(), alloc.get());
  }
};

TEST(Runtime, RunsAPayloadBitExact) {
  const Graph g = conv_graph();
  Loaded l;
  ASSERT_EQ(l.init(compile(g)), Error::Ok) << l.backend.last_error();
  std::mt19937 rng(1);
  std::vector<TensorData> in = {testing::random_int8({1, 3, 6, 5}, rng)};
  std::vector<TensorData> out = {TensorData(DType::I8, {1, 5, 6, 5})};
  ASSERT_EQ(testing::run_payload(l.backend, in, out), Error::Ok) << l.backend.last_error();
  EXPECT_EQ(testing::first_difference(out[0], cpu(g, in)[0]), "");
}

TEST(Runtime, BadMagicUnknownVersionAndInconsistentCountsAreClearErrors) {
  const std::vector<uint8_t> good = compile(conv_graph());
  ASSERT_FALSE(good.empty());
  {
    std::vector<uint8_t> b = good;
    b[16] ^= 0xFF;  // microcode magic
    Loaded l;
    EXPECT_EQ(l.init(b), Error::InvalidProgram);
    EXPECT_STREQ(l.backend.last_error(), "bad microcode magic");
  }
  {
    std::vector<uint8_t> b = good;
    b[7] = 9;  // payload version byte (1 in, 1 out: offset 3 + 2 + 2)
    Loaded l;
    EXPECT_EQ(l.init(b), Error::InvalidProgram);
    EXPECT_STREQ(l.backend.last_error(), "unknown payload version");
  }
  {
    std::vector<uint8_t> b = good;
    b[16 + 4] = 2;  // microcode format version
    Loaded l;
    EXPECT_EQ(l.init(b), Error::InvalidProgram);
  }
  {
    // Header says 2 inputs: the header grows (version byte moves) and the counts disagree.
    std::vector<uint8_t> b = good;
    uint32_t words[16];
    std::memcpy(words, b.data() + 16, sizeof(words));
    words[npu::kWordNumInputs] = 2;
    std::memcpy(b.data() + 16, words, sizeof(words));
    Loaded l;
    EXPECT_NE(l.init(b), Error::Ok);
  }
  {
    // Microcode word 14 (outputs) = 0 while the header has 1 output.
    std::vector<uint8_t> b = good;
    uint32_t n = 0;
    std::memcpy(b.data() + 16 + 4 * npu::kWordNumOutputs, &n, 4);
    Loaded l;
    const Error e = l.init(b);
    EXPECT_EQ(e, Error::InvalidModel);
    EXPECT_NE(std::string(l.backend.last_error()), "ok");
  }
  {
    std::vector<uint8_t> b = good;
    b[5] = 3;  // input map points past the one input arg
    Loaded l;
    EXPECT_EQ(l.init(b), Error::InvalidModel);
    EXPECT_STREQ(l.backend.last_error(), "payload input map points past the inputs");
  }
  {
    std::vector<uint8_t> b = good;
    b[3] = 2;  // flag neither 0 nor 1
    Loaded l;
    EXPECT_EQ(l.init(b), Error::InvalidModel);
  }
  {
    Loaded l;
    EXPECT_EQ(l.init({}), Error::InvalidModel);  // empty
  }
  {
    // Misaligned payload.
    testing::ensure_neutron_init();
    AlignedBuffer buf(good.size() + 1);
    std::memcpy(buf.data() + 1, good.data(), good.size());
    AlignedBuffer ctx(1 << 20);
    MemoryAllocator a(ctx.data(), ctx.size());
    NeutronBackend b;
    EXPECT_EQ(b.init(buf.data() + 1, good.size(), &a), Error::InvalidArgument);
    EXPECT_EQ(b.init(nullptr, 0, &a), Error::InvalidArgument);
  }
}

TEST(Runtime, TruncatedPayloadsAreRejected) {
  const std::vector<uint8_t> good = compile(conv_graph());
  for (size_t n = 0; n < good.size(); n += (n < 128 ? 1 : 37)) {
    std::vector<uint8_t> b(good.begin(), good.begin() + long(n));
    Loaded l;
    EXPECT_NE(l.init(b), Error::Ok) << "length " << n;
  }
}

// Graphs whose payloads the corruption test mutates: every kernel family with constants or
// geometry (conv, avgpool with per-count multipliers, elementwise, table, softmax, pad, resize,
// concat, fully connected).
std::vector<Graph> fuzz_graphs() {
  std::vector<Graph> v = {conv_graph(), sub_graph()};
  std::mt19937 rng(9);
  auto one = [&](OpKind k, std::vector<Operand> ops, Attributes a, std::vector<OutputSpec> outs) {
    auto g = testing::make_single_op_graph(k, ops, a, outs);
    EXPECT_TRUE(g.ok()) << g.status().to_string();
    if (g.ok()) v.push_back(prepare(g.value()));
  };
  const QuantParams q = q8(0.05, 3), q2 = q8(0.08, -9);
  Attributes ap;
  ap.set("kernel_shape", std::vector<int64_t>{3, 3});
  ap.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  ap.set("strides", std::vector<int64_t>{2, 2});
  one(OpKind::AveragePool, {Operand::input(TensorData(DType::I8, {1, 5, 7, 6}), q)}, ap, {OutputSpec{q2}});
  Attributes sm;
  sm.set("axis", int64_t(-1));
  one(OpKind::Softmax, {Operand::input(TensorData(DType::I8, {3, 11}), q)}, sm, {OutputSpec{q8(1.0 / 256, -128)}});
  Attributes pd;
  pd.set("pads", std::vector<int64_t>{0, 1, 2, 0, 0, 2, 1, 1});
  pd.set("mode", std::string("reflect"));
  one(OpKind::Pad, {Operand::input(TensorData(DType::I8, {1, 4, 5, 6}), q)}, pd, {OutputSpec{q}});
  Attributes rs;
  rs.set("mode", std::string("nearest"));
  rs.set("coordinate_transformation_mode", std::string("asymmetric"));
  rs.set("nearest_mode", std::string("floor"));
  rs.set("scales", std::vector<double>{1, 1, 2, 2});
  one(OpKind::Resize, {Operand::input(TensorData(DType::I8, {1, 3, 4, 5}), q)}, rs, {OutputSpec{q}});
  Attributes cc;
  cc.set("axis", int64_t(1));
  one(OpKind::Concat,
      {Operand::input(TensorData(DType::I8, {2, 3, 4}), q), Operand::input(TensorData(DType::I8, {2, 5, 4}), q)}, cc,
      {OutputSpec{q}});
  Attributes gm;
  gm.set("transB", int64_t(1));
  one(OpKind::Gemm, {Operand::input(TensorData(DType::I8, {3, 20}), q), Operand::constant_of(testing::random_int8({7, 20}, rng), q8(0.01, 0))},
      gm, {OutputSpec{q2}});
  one(OpKind::Sigmoid, {Operand::input(TensorData(DType::I8, {4, 9}), q)}, {}, {OutputSpec{q8(1.0 / 256, -128)}});
  one(OpKind::Max, {Operand::input(TensorData(DType::I8, {2, 3, 4}), q), Operand::input(TensorData(DType::I8, {3, 1}), q2)}, {},
      {OutputSpec{q2}});
  return v;
}

// Random byte flips anywhere: init or execute may fail with an error, or succeed (a flipped
// weight is still a valid program) — but never crash or touch memory outside the given buffers
// (the sanitizer build checks that).
TEST(Runtime, CorruptedPayloadsGiveErrorsNotCrashes) {
  const std::vector<Graph> graphs = fuzz_graphs();
  std::vector<std::vector<uint8_t>> good;
  for (const Graph& g : graphs) good.push_back(compile(g));
  // NEUTRON_FUZZ_TRIALS / NEUTRON_FUZZ_SEED run a longer campaign (e.g. under the sanitizers).
  const int trials = std::getenv("NEUTRON_FUZZ_TRIALS") ? std::atoi(std::getenv("NEUTRON_FUZZ_TRIALS")) : 3000;
  std::mt19937 rng(std::getenv("NEUTRON_FUZZ_SEED") ? uint32_t(std::atoi(std::getenv("NEUTRON_FUZZ_SEED"))) : 1234u);
  int init_errors = 0, run_errors = 0, ran = 0;
  AlignedBuffer temp(1 << 18);
  for (int trial = 0; trial < trials; ++trial) {
    const size_t which = size_t(trial) % graphs.size();
    const Graph& g = graphs[which];
    std::vector<uint8_t> b = good[which];
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Bias towards the header and the microcode, where the structure is.
      const size_t limit = (rng() % 4 == 0) ? b.size() : std::min<size_t>(b.size(), 16 + 600);
      b[rng() % limit] ^= uint8_t(1u << (rng() % 8));
    }
    // The disassembler reads the same bytes through the same checks.
    const std::string listing = compiler::disassemble_payload(b);
    Loaded l;
    if (l.init(b, 1 << 16) != Error::Ok) {
      ++init_errors;
      EXPECT_NE(std::string(l.backend.last_error()), "ok");
      // Rejected by the payload checks (not by the driver's kernel checks): the listing says why.
      if (l.backend.last_driver_error() == 0) {
        EXPECT_NE(listing.find("error: "), std::string::npos) << listing;
      }
      continue;
    }
    // A fixed temp arena: a corrupted scratch size must fail allocation, not allocate gigabytes.
    std::vector<TensorData> data;
    for (TensorId t : g.inputs) data.push_back(testing::random_int8(g.tensor(t).shape, rng));
    for (TensorId t : g.outputs) data.emplace_back(DType::I8, g.tensor(t).shape);
    std::vector<TensorArg> args;
    for (TensorData& d : data) args.push_back(testing::arg_of(d));
    MemoryAllocator alloc(temp.data(), temp.size());
    const Error e = l.backend.execute(&alloc, args.data(), args.size());
    (e == Error::Ok ? ran : run_errors) += 1;
  }
  std::printf("%d corrupted payloads of %zu graphs: %d rejected by init, %d by execute, %d ran\n", trials,
              graphs.size(), init_errors, run_errors, ran);
  EXPECT_GT(init_errors, trials / 3);
}

TEST(Runtime, InputMapSelectsTheArgs) {
  const Graph g = sub_graph();
  std::vector<uint8_t> b = compile(g);
  ASSERT_FALSE(b.empty());
  // Header: n_in 2, n_out 1, args 2, flags [0,0], [0], in map at 6..7, out map at 8, version at 9.
  ASSERT_EQ(b[0], 2);
  ASSERT_EQ(b[6], 0);
  ASSERT_EQ(b[7], 1);
  b[6] = 1;
  b[7] = 0;
  Loaded l;
  ASSERT_EQ(l.init(b), Error::Ok) << l.backend.last_error();
  std::mt19937 rng(5);
  std::vector<TensorData> in = {testing::random_int8({2, 3, 4, 5}, rng), testing::random_int8({2, 3, 4, 5}, rng)};
  const TensorData want = cpu(g, in)[0];
  // The delegate's args in the other order: the swapped map puts them back.
  std::vector<TensorData> swapped = {in[1], in[0]};
  std::vector<TensorData> out = {TensorData(DType::I8, {2, 3, 4, 5})};
  ASSERT_EQ(testing::run_payload(l.backend, swapped, out), Error::Ok) << l.backend.last_error();
  EXPECT_EQ(testing::first_difference(out[0], want), "");
  EXPECT_EQ(l.backend.payload().input_map[0], 1);
}

TEST(Runtime, OutputMapPlacesTheResults) {
  Attributes a;
  a.set("axis", int64_t(1));
  a.set("split", std::vector<int64_t>{2, 4});
  const QuantParams q = q8(0.1, 5);
  auto g = testing::make_single_op_graph(OpKind::Split, {Operand::input(TensorData(DType::I8, {3, 6}), q)}, a,
                                         {OutputSpec{q}, OutputSpec{q}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  std::vector<uint8_t> b = compile(g.value());
  // n_in 1, n_out 2, args 1, in flag, out flags x2, in map, out map at 7..8, version at 9.
  ASSERT_EQ(b[1], 2);
  ASSERT_EQ(b[7], 0);
  ASSERT_EQ(b[8], 1);
  b[7] = 1;
  b[8] = 0;
  Loaded l;
  ASSERT_EQ(l.init(b), Error::Ok) << l.backend.last_error();
  std::mt19937 rng(2);
  std::vector<TensorData> in = {testing::random_int8({3, 6}, rng)};
  const std::vector<TensorData> want = cpu(g.value(), in);
  std::vector<TensorData> out = {TensorData(DType::I8, {3, 4}), TensorData(DType::I8, {3, 2})};  // swapped
  ASSERT_EQ(testing::run_payload(l.backend, in, out), Error::Ok) << l.backend.last_error();
  EXPECT_EQ(testing::first_difference(out[0], want[1]), "");
  EXPECT_EQ(testing::first_difference(out[1], want[0]), "");
  // Two outputs mapped to one arg are rejected.
  b[8] = 1;
  Loaded l2;
  EXPECT_EQ(l2.init(b), Error::InvalidModel);
  EXPECT_STREQ(l2.backend.last_error(), "two payload outputs map to one arg");
}

TEST(Runtime, FlaggedIoIsConvertedOnTheCpuAndDimOrdersAreChecked) {
  const Graph g = conv_graph();
  CompileOptions o;
  o.use_neutron_for_format_conversion = false;
  Loaded l;
  ASSERT_EQ(l.init(compile(g, o)), Error::Ok) << l.backend.last_error();
  ASSERT_EQ(l.backend.payload().input_flags[0], 1);
  ASSERT_EQ(l.backend.payload().output_flags[0], 1);
  std::mt19937 rng(7);
  TensorData x = testing::random_int8({1, 3, 6, 5}, rng);
  const TensorData want = cpu(g, {x})[0];

  // Contiguous (NCHW) args: transposed on the CPU both ways.
  std::vector<TensorData> in = {x};
  std::vector<TensorData> out = {TensorData(DType::I8, {1, 5, 6, 5})};
  ASSERT_EQ(testing::run_payload(l.backend, in, out), Error::Ok) << l.backend.last_error();
  EXPECT_EQ(testing::first_difference(out[0], want), "");

  // Channels-last args: passed through; the data is NHWC in memory.
  TensorData x_nhwc(DType::I8, {1, 3, 6, 5});
  nchw_to_nhwc_int8(x.data<int8_t>(), x_nhwc.data<int8_t>(), 1, 3, 30);
  std::vector<TensorData> in2 = {x_nhwc};
  std::vector<TensorData> out2 = {TensorData(DType::I8, {1, 5, 6, 5})};
  ASSERT_EQ(testing::run_payload(l.backend, in2, out2, /*channels_last_args=*/true), Error::Ok) << l.backend.last_error();
  TensorData back(DType::I8, {1, 5, 6, 5});
  nhwc_to_nchw_int8(out2[0].data<int8_t>(), back.data<int8_t>(), 1, 5, 30);
  EXPECT_EQ(testing::first_difference(back, want), "");

  // Another dim order is an error naming the problem.
  TensorData y(DType::I8, {1, 5, 6, 5});
  TensorArg args[2] = {testing::arg_of(in[0]), testing::arg_of(y)};
  args[0].dim_order[2] = 3;
  args[0].dim_order[3] = 2;  // NCWH
  AlignedBuffer temp(1 << 16);
  MemoryAllocator alloc(temp.data(), temp.size());
  EXPECT_EQ(l.backend.execute(&alloc, args, 2), Error::InvalidArgument);
  EXPECT_STREQ(l.backend.last_error(), "channels-last IO: dim order is neither contiguous nor channels-last");
  // A dim order that is not a permutation.
  args[0].dim_order[3] = 1;
  alloc.reset();
  EXPECT_EQ(l.backend.execute(&alloc, args, 2), Error::InvalidArgument);
}

TEST(Runtime, UnflaggedIoMustBeContiguousAndMatchInSize) {
  const Graph g = conv_graph();
  Loaded l;
  ASSERT_EQ(l.init(compile(g)), Error::Ok) << l.backend.last_error();
  TensorData x(DType::I8, {1, 3, 6, 5}), y(DType::I8, {1, 5, 6, 5}), small(DType::I8, {1, 5, 6, 4});
  AlignedBuffer temp(1 << 16);
  MemoryAllocator alloc(temp.data(), temp.size());
  {
    TensorArg args[2] = {testing::arg_of(x, /*channels_last=*/true), testing::arg_of(y)};
    EXPECT_EQ(l.backend.execute(&alloc, args, 2), Error::InvalidArgument);
    EXPECT_STREQ(l.backend.last_error(), "tensor arg dim order is not contiguous");
  }
  {
    alloc.reset();
    TensorArg args[2] = {testing::arg_of(x), testing::arg_of(small)};
    EXPECT_EQ(l.backend.execute(&alloc, args, 2), Error::InvalidArgument);
    EXPECT_STREQ(l.backend.last_error(), "tensor arg size differs from the payload's tensor");
  }
  {
    alloc.reset();
    TensorArg args[1] = {testing::arg_of(x)};
    EXPECT_EQ(l.backend.execute(&alloc, args, 1), Error::InvalidArgument);  // no output arg
  }
  {
    alloc.reset();
    TensorData f(DType::F32, {1, 3, 6, 5});
    TensorArg args[2] = {testing::arg_of(f), testing::arg_of(y)};
    EXPECT_EQ(l.backend.execute(&alloc, args, 2), Error::InvalidArgument);
  }
  {
    // A channels-last arg whose channel dim is 1 is contiguous in memory: accepted.
    auto g1 = testing::make_single_op_graph(OpKind::Relu, {Operand::input(TensorData(DType::I8, {1, 1, 4, 4}), q8(0.1, 0))},
                                            {}, {OutputSpec{q8(0.1, 0)}});
    ASSERT_TRUE(g1.ok());
    Loaded l1;
    ASSERT_EQ(l1.init(compile(g1.value())), Error::Ok) << l1.backend.last_error();
    TensorData a(DType::I8, {1, 1, 4, 4}), b(DType::I8, {1, 1, 4, 4});
    alloc.reset();
    TensorArg args[2] = {testing::arg_of(a, true), testing::arg_of(b, true)};
    EXPECT_EQ(l1.backend.execute(&alloc, args, 2), Error::Ok) << l1.backend.last_error();
  }
}

TEST(Runtime, MemoryComesOnlyFromTheCallersAllocators) {
  const Graph g = conv_graph();
  const std::vector<uint8_t> bytes = compile(g);
  {
    Loaded l;
    EXPECT_EQ(l.init(bytes, 64), Error::OutOfMemory);  // context does not fit
    EXPECT_FALSE(l.backend.initialized());
  }
  Loaded l;
  ASSERT_EQ(l.init(bytes), Error::Ok) << l.backend.last_error();
  TensorData x(DType::I8, {1, 3, 6, 5}), y(DType::I8, {1, 5, 6, 5});
  TensorArg args[2] = {testing::arg_of(x), testing::arg_of(y)};
  const size_t need = l.backend.temp_bytes_needed(args, 2);
  AlignedBuffer tiny(need / 4);
  MemoryAllocator small(tiny.data(), tiny.size());
  EXPECT_EQ(l.backend.execute(&small, args, 2), Error::OutOfMemory);
  AlignedBuffer enough(need);
  MemoryAllocator ok(enough.data(), enough.size());
  EXPECT_EQ(l.backend.execute(&ok, args, 2), Error::Ok) << l.backend.last_error();
  EXPECT_LE(ok.used(), need);
  // The allocator itself.
  MemoryAllocator none(nullptr, 100);
  EXPECT_EQ(none.allocate(1), nullptr);
  AlignedBuffer buf(64);
  MemoryAllocator a(buf.data(), 64);
  EXPECT_NE(a.allocate(40), nullptr);
  EXPECT_EQ(a.allocate(40), nullptr);
  EXPECT_NE(a.allocate(16), nullptr);
  EXPECT_EQ(a.used(), 64u);
  a.reset();
  EXPECT_EQ(a.used(), 0u);
}

TEST(Runtime, Lifecycle) {
  NeutronBackend b;
  TensorData x(DType::I8, {1});
  TensorArg arg = testing::arg_of(x);
  AlignedBuffer temp(256);
  MemoryAllocator alloc(temp.data(), temp.size());
  EXPECT_EQ(b.execute(&alloc, &arg, 1), Error::InvalidProgram);  // not initialized
  b.destroy();
  b.destroy();
  Loaded l;
  ASSERT_EQ(l.init(compile(conv_graph())), Error::Ok);
  EXPECT_EQ(l.backend.init(l.payload.data(), l.payload.size(), l.alloc.get()), Error::InvalidArgument);  // twice
  l.backend.destroy();
  EXPECT_FALSE(l.backend.initialized());
  // Initialized again after destroy, reusing the context memory.
  l.alloc->reset();
  EXPECT_EQ(l.backend.init(l.payload.data(), l.payload.size(), l.alloc.get()), Error::Ok) << l.backend.last_error();
}

TEST(Runtime, ParsePayloadViewsTheSections) {
  const std::vector<uint8_t> bytes = compile(conv_graph());
  AlignedBuffer buf;
  buf.assign(bytes);
  runtime::PayloadView v;
  ASSERT_TRUE(runtime::parse_payload(buf.data(), buf.size(), &v).ok());
  EXPECT_EQ(v.num_inputs, 1);
  EXPECT_EQ(v.num_outputs, 1);
  EXPECT_EQ(v.num_input_args, 1);
  EXPECT_EQ(v.version, npu::kPayloadVersion);
  EXPECT_EQ(v.header_size, 16u);
  EXPECT_EQ(v.microcode, buf.data() + 16);
  EXPECT_EQ(v.weights, v.microcode + npu::align16(v.microcode_size));
  EXPECT_EQ(v.kernels_size, 0u);
}

}  // namespace
}  // namespace neutron
