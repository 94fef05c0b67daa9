// Bad program files: ProgramRunner::verify / arena_bytes_needed / load on truncated files, random
// byte mutations (seeded; NEUTRON_FUZZ_SEED and NEUTRON_FUZZ_MUTATIONS override), structure-aware
// mutations of every scalar field the files hold, a misaligned buffer, a wrong identifier, another
// version, and hand-built programs that break one rule each. Always an error, or a program that
// loads and runs (possibly to garbage), never a crash. Every file copy is an exact-size heap block,
// so AddressSanitizer builds see any read past its end.
//
// The checksum trailer would stop every such edit at "checksum mismatch": mutants get their trailer
// recomputed after the edit (testing::reseal_program) so they reach the runtime's own structural
// checks; ProgramChecksum tests that the unsealed edits are all caught by the checksum.
//
// The mutation loops run in a forked child: a crash or a hang becomes a test failure naming the
// mutation (then the loop resumes after it), not the end of the test binary. NEUTRON_FUZZ_VERBOSE
// prints every mutation as it runs.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <random>
#include <type_traits>

#include "runtime/payload.h"
#include "util/program_util.h"

namespace neutron {
namespace {

using runtime::ProgramRunner;
using runtime::ProgramStatus;
using testing::ExactBuffer;

constexpr size_t kMaxFuzzArena = size_t(8) << 20;

struct Corpus {
  std::string name;
  std::vector<uint8_t> bytes;
  TensorData input;  // one sample of the model's input
};

// The same program rebuilt with every scalar field written out (FlatBuffers omits fields equal to
// their default, e.g. offset 0, so in-place mutation could not reach them). Built with the
// schema's Create functions; a field this copy does not carry over shows as a failure of
// ProgramFuzz.RebuiltCorpusRunsTheSame.
std::vector<uint8_t> rebuild_with_defaults(const std::vector<uint8_t>& bytes) {
  using flatbuffers::Offset;
  const fb::Program* p = fb::GetProgram(bytes.data());
  flatbuffers::FlatBufferBuilder b;
  b.ForceDefaults(true);
  auto str = [&](const flatbuffers::String* s) { return s ? b.CreateString(s) : Offset<flatbuffers::String>(); };
  auto vec = [&](const auto* v) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(v)>>;
    using E = typename T::return_type;
    return v ? b.CreateVector(std::vector<E>(v->begin(), v->end())) : Offset<flatbuffers::Vector<E>>();
  };
  std::vector<Offset<fb::Tensor>> ts;
  for (const fb::Tensor* t : *p->tensors()) {
    Offset<fb::Quantization> q = 0;
    if (const fb::Quantization* x = t->quant()) {
      const auto s = vec(x->scale());
      const auto z = vec(x->zero_point());
      q = fb::CreateQuantization(b, s, z, x->axis());
    }
    const auto name = str(t->name());
    const auto shape = vec(t->shape());
    const auto order = vec(t->dim_order());
    ts.push_back(
        fb::CreateTensor(b, name, t->dtype(), shape, order, q, t->storage(), t->offset(), t->buffer(), t->bytes()));
  }
  std::vector<Offset<fb::Instruction>> is;
  for (const fb::Instruction* ins : *p->instructions()) {
    Offset<void> op = 0;
    if (const fb::DelegateCall* d = ins->op_as_DelegateCall()) {
      const auto backend = str(d->backend());
      const auto in = vec(d->inputs()), out = vec(d->outputs());
      op = fb::CreateDelegateCall(b, backend, d->payload(), in, out, d->scratch_offset(), d->scratch_bytes(),
                                  d->activations_offset())
               .Union();
    } else if (const fb::CpuKernels* k = ins->op_as_CpuKernels()) {
      const auto in = vec(k->inputs()), out = vec(k->outputs());
      op = fb::CreateCpuKernels(b, k->payload(), in, out, k->scratch_offset(), k->scratch_bytes()).Union();
    } else if (const fb::Quantize* q = ins->op_as_Quantize()) {
      op = fb::CreateQuantize(b, q->input(), q->output()).Union();
    } else if (const fb::Dequantize* q = ins->op_as_Dequantize()) {
      op = fb::CreateDequantize(b, q->input(), q->output()).Union();
    }
    const auto origin = str(ins->origin());
    Offset<flatbuffers::Vector<Offset<fb::KernelCallInfo>>> calls = 0;
    if (ins->calls()) {
      std::vector<Offset<fb::KernelCallInfo>> cs;
      for (const fb::KernelCallInfo* c : *ins->calls()) {
        const auto nodes = vec(c->nodes());
        cs.push_back(fb::CreateKernelCallInfo(b, nodes, c->sram_bytes()));
      }
      calls = b.CreateVector(cs);
    }
    is.push_back(fb::CreateInstruction(b, ins->op_type(), op, origin, calls));
  }
  std::vector<Offset<fb::Payload>> ps;
  if (p->payloads())
    for (const fb::Payload* x : *p->payloads()) {
      b.ForceVectorAlignment(x->data()->size(), 1, 16);
      ps.push_back(fb::CreatePayload(b, b.CreateVector(x->data()->data(), x->data()->size())));
    }
  std::vector<Offset<fb::Buffer>> bs;
  if (p->buffers())
    for (const fb::Buffer* x : *p->buffers()) {
      b.ForceVectorAlignment(x->data()->size(), 1, 16);
      bs.push_back(fb::CreateBuffer(b, b.CreateVector(x->data()->data(), x->data()->size())));
    }
  Offset<fb::MemoryPlan> plan = 0;
  if (const fb::MemoryPlan* m = p->plan()) {
    const auto algorithm = str(m->algorithm());
    plan = fb::CreateMemoryPlan(b, m->arena_bytes(), m->lower_bound_bytes(), algorithm);
  }
  const auto generator = str(p->generator()), target = str(p->target()), model = str(p->model());
  const auto tensors = b.CreateVector(ts);
  const auto inputs = vec(p->inputs()), outputs = vec(p->outputs());
  const auto instructions = b.CreateVector(is);
  const auto payloads = p->payloads() ? b.CreateVector(ps) : Offset<flatbuffers::Vector<Offset<fb::Payload>>>();
  const auto buffers = p->buffers() ? b.CreateVector(bs) : Offset<flatbuffers::Vector<Offset<fb::Buffer>>>();
  Offset<flatbuffers::Vector<Offset<fb::NodeInfo>>> nodes = 0;
  if (p->nodes()) {
    std::vector<Offset<fb::NodeInfo>> ns;
    for (const fb::NodeInfo* n : *p->nodes()) {
      const auto name = str(n->name()), op = str(n->op());
      ns.push_back(fb::CreateNodeInfo(b, name, op, n->instruction()));
    }
    nodes = b.CreateVector(ns);
  }
  Offset<fb::TimingParams> timing = 0;
  if (const fb::TimingParams* t = p->timing()) {
    std::vector<Offset<fb::TimingParam>> params;
    if (t->params())
      for (const fb::TimingParam* q : *t->params()) params.push_back(fb::CreateTimingParam(b, str(q->name()), q->value()));
    const auto tname = str(t->target()), source = str(t->source());
    const auto pv = b.CreateVector(params);
    timing = fb::CreateTimingParams(b, tname, source, t->clock_mhz(), t->num_pipes(), t->num_macs(),
                                    t->flash_bandwidth_mb_s(), t->npu_reads_flash(), pv);
  }
  auto root = fb::CreateProgram(b, p->version(), generator, target, model, tensors, inputs, outputs, instructions,
                                payloads, buffers, plan, nodes, timing);
  b.Finish(root, fb::ProgramIdentifier());
  return testing::seal_program(std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()));
}

// 0-3: the programs as built; 4-7: the same rebuilt with every field present.
const std::vector<Corpus>& corpus() {
  static const std::vector<Corpus> c = [] {
    std::vector<Corpus> r;
    for (auto [fixture, target] : {std::pair<const char*, const char*>{"cifarnet", "imxrt700"},
                                   {"cifarnet", "cpu"},
                                   {"fmnist_cnn", "imxrt700"},
                                   {"fmnist_cnn", "cpu"}}) {
      const testing::FixtureProgram& fp = testing::fixture_program(fixture, target);
      EXPECT_TRUE(fp.error.empty()) << fp.error;
      const TensorData all = testing::load_npy_or_die(testing::fixture_path(fixture, "inputs.npy"));
      r.push_back(Corpus{str_cat(fixture, "/", target), fp.file.bytes, testing::sample(all, 0)});
    }
    for (size_t k = 0, n = r.size(); k < n; ++k)
      r.push_back(Corpus{r[k].name + " (all fields)", rebuild_with_defaults(r[k].bytes), r[k].input});
    return r;
  }();
  return c;
}

enum Result { kRejected, kTooBig, kLoadFailed, kRunFailed, kRan, kNumResults };

struct Outcome {
  Result result = kRejected;
  std::vector<std::string> problems;  // inconsistencies between verify, load and run
};

// verify, arena_bytes_needed, load and (if loaded) run one file; they must agree with each other.
// `what` names the file in problems.
Outcome exercise(const uint8_t* bytes, size_t size, const TensorData& input, const std::string& what,
                 const runtime::LoadOptions& options = {}) {
  Outcome o;
  auto problem = [&](const std::string& p) { o.problems.push_back(what + ": " + p); };
  testing::init_neutron_driver();  // the application's job before verify/load of Neutron delegates
  ExactBuffer file(bytes, size);
  const ProgramStatus v = ProgramRunner::verify(file.data(), size, options);
  if (v.message == nullptr) problem("verify() returned a null message");
  auto lp = testing::load_program(bytes, size, kMaxFuzzArena, options);
  if (!v.ok()) {
    o.result = kRejected;
    if (lp->status.ok())
      problem(str_cat("verify failed (", testing::describe(v), ") but load succeeded"));
    else if (lp->status.error != v.error)
      problem(str_cat("verify says ", testing::describe(v), ", load says ", testing::describe(lp->status)));
    if (lp->runner.loaded()) problem("the runner is loaded after verify failed");
    return o;
  }
  if (!lp->status.ok()) {
    if (lp->need > kMaxFuzzArena) {
      o.result = kTooBig;
      if (lp->status.error != Error::OutOfMemory)
        problem(str_cat("arena too small, but load says ", testing::describe(lp->status)));
    } else {
      o.result = kLoadFailed;
    }
    // A failed load leaves nothing to run.
    if (lp->runner.loaded())
      problem(str_cat("load failed (", testing::describe(lp->status), ") but the runner says it is loaded"));
    if (lp->runner.run().ok()) problem("run() after a failed load succeeded");
    return o;
  }
  ProgramRunner& r = lp->runner;
  for (size_t i = 0; i < r.num_inputs(); ++i) {
    const runtime::TensorInfo t = r.input(i);
    if (t.data == nullptr) continue;
    if (t.bytes == input.bytes.size())
      std::memcpy(t.data, input.bytes.data(), t.bytes);
    else
      std::memset(t.data, 0x3c, t.bytes);
  }
  const ProgramStatus s = r.run();
  if (s.message == nullptr) problem("run() returned a null message");
  o.result = s.ok() ? kRan : kRunFailed;
  // Outputs can be read whatever they hold.
  for (size_t k = 0; k < r.num_outputs(); ++k) {
    const runtime::TensorInfo t = r.output(k);
    volatile uint8_t sink = 0;
    for (size_t b = 0; b < t.bytes; b += 64) sink = sink ^ static_cast<const uint8_t*>(t.data)[b];
    (void)sink;
  }
  return o;
}

void expect_no_problems(const Outcome& o) {
  for (const std::string& p : o.problems) ADD_FAILURE() << p;
}

// ---- Mutants, run in a forked child. ----

struct Mutant {
  size_t corpus = 0;
  bool delegates_on_cpu = false;                   // LoadOptions::delegates_on_cpu
  std::vector<std::pair<size_t, uint8_t>> writes;  // byte position (in the FlatBuffer), new value
  bool reseal = true;                              // recompute the checksum trailer after the writes
  std::string what;
};

struct FuzzReport {
  int counts[kNumResults] = {};
  std::vector<std::string> problems;
  std::vector<std::string> crashes;  // the mutant and the signal
  double seconds = 0;
  int total() const {
    int n = 0;
    for (int c : counts) n += c;
    return n;
  }
  std::string str() const {
    return str_cat(total(), " files: ", counts[kRejected], " rejected by verify, ", counts[kTooBig],
                   " too big to load, ", counts[kLoadFailed], " failed in load, ", counts[kRunFailed],
                   " failed in run, ", counts[kRan], " ran; ", crashes.size(), " crashed (", seconds, " s)");
  }
};

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n') c = '|';
  return s;
}

void send(int fd, char tag, const std::string& text) {
  const std::string line = std::string(1, tag) + one_line(text) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += size_t(n);
  }
}

// Runs mutants[start..] in a child; returns the index after the last one it finished.
size_t run_child(const std::vector<Mutant>& mutants, size_t start, FuzzReport* report, unsigned timeout_s) {
  int fds[2];
  if (::pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return mutants.size();
  }
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return mutants.size();
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(timeout_s);
    static const bool verbose = std::getenv("NEUTRON_FUZZ_VERBOSE") != nullptr;
    for (size_t m = start; m < mutants.size(); ++m) {
      const Mutant& mu = mutants[m];
      const Corpus& c = corpus()[mu.corpus];
      std::vector<uint8_t> bytes = c.bytes;
      for (auto [pos, value] : mu.writes) bytes[pos] = value;
      if (mu.reseal) bytes = testing::reseal_program(bytes);
      send(fds[1], 'M', std::to_string(m));
      if (verbose) std::printf("mutant %zu: %s\n", m, mu.what.c_str()), std::fflush(stdout);
      runtime::LoadOptions options;
      options.delegates_on_cpu = mu.delegates_on_cpu;
      const Outcome o = exercise(bytes.data(), bytes.size(), c.input, mu.what, options);
      for (const std::string& p : o.problems) send(fds[1], 'P', p);
      send(fds[1], 'R', std::to_string(int(o.result)));
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, size_t(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  long current = -1;
  bool finished_current = true;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t eol = out.find('\n', pos);
    if (eol == std::string::npos) break;
    const char tag = out[pos];
    const std::string text = out.substr(pos + 1, eol - pos - 1);
    pos = eol + 1;
    if (tag == 'M') current = std::atol(text.c_str()), finished_current = false;
    if (tag == 'P') report->problems.push_back(text);
    if (tag == 'R') ++report->counts[std::atoi(text.c_str())], finished_current = true;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return mutants.size();
  if (current < 0 || finished_current) {
    report->crashes.push_back(str_cat("the child died outside a mutant (status ", status, ")"));
    return mutants.size();
  }
  const std::string how = WIFSIGNALED(status) ? (WTERMSIG(status) == SIGALRM ? std::string("timed out")
                                                                             : str_cat("signal ", WTERMSIG(status)))
                                              : str_cat("exit ", WEXITSTATUS(status));
  report->crashes.push_back(str_cat(mutants[size_t(current)].what, ": ", how));
  return size_t(current) + 1;
}

FuzzReport fuzz(const std::vector<Mutant>& mutants, unsigned timeout_s = 120) {
  corpus();  // built before forking, once
  FuzzReport report;
  const auto t0 = std::chrono::steady_clock::now();
  size_t next = 0;
  while (next < mutants.size() && report.crashes.size() < 20) next = run_child(mutants, next, &report, timeout_s);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

void expect_clean(const FuzzReport& r) {
  for (const std::string& c : r.crashes) ADD_FAILURE() << "crash: " << c;
  for (size_t k = 0; k < r.problems.size() && k < 20; ++k) ADD_FAILURE() << r.problems[k];
  if (r.problems.size() > 20) ADD_FAILURE() << r.problems.size() - 20 << " more problems";
}

uint32_t fuzz_seed() {
  const char* s = std::getenv("NEUTRON_FUZZ_SEED");
  return s ? uint32_t(std::strtoul(s, nullptr, 0)) : 20261125u;
}

int fuzz_mutations() {
  const char* s = std::getenv("NEUTRON_FUZZ_MUTATIONS");
  return s ? std::atoi(s) : testing::kSanitized ? 500 : 2000;
}

TEST(ProgramFuzz, RebuiltCorpusRunsTheSame) {
  const size_t n = corpus().size() / 2;
  for (size_t k = 0; k < n; ++k) {
    const Corpus& a = corpus()[k];
    const Corpus& b = corpus()[k + n];
    SCOPED_TRACE(b.name);
    EXPECT_GT(b.bytes.size(), a.bytes.size());
    auto la = testing::load_program(a.bytes);
    auto lb = testing::load_program(b.bytes);
    ASSERT_TRUE(la->status.ok()) << testing::describe(la->status);
    ASSERT_TRUE(lb->status.ok()) << testing::describe(lb->status);
    std::vector<TensorData> oa, ob;
    ASSERT_TRUE(testing::run_sample(la->runner, {a.input}, &oa).ok());
    ASSERT_TRUE(testing::run_sample(lb->runner, {b.input}, &ob).ok());
    ASSERT_EQ(oa.size(), ob.size());
    for (size_t o = 0; o < oa.size(); ++o) EXPECT_TRUE(oa[o].bytes == ob[o].bytes) << "output " << o;
  }
}

TEST(ProgramFuzz, CorpusLoadsAndRuns) {
  for (const Corpus& c : corpus()) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(c.bytes.empty());
    const Outcome o = exercise(c.bytes.data(), c.bytes.size(), c.input, c.name);
    expect_no_problems(o);
    EXPECT_EQ(o.result, kRan);
    std::printf("%s: %zu bytes\n", c.name.c_str(), c.bytes.size());
  }
}

// Every prefix of a file's FlatBuffer (with a checksum trailer for the prefix) is rejected, except
// prefixes that drop only trailing padding (nothing refers to it); those must load and run like
// the whole file. Unsealed prefixes are all rejected (ProgramChecksum.TruncatedFilesAreCaught).
TEST(ProgramFuzz, TruncatedFiles) {
  for (const Corpus& c : corpus()) {
    SCOPED_TRACE(c.name);
    const std::vector<uint8_t> content = testing::program_content(c.bytes);
    const size_t n = content.size();
    size_t padding = 0;
    while (padding < n && content[n - 1 - padding] == 0) ++padding;
    std::vector<size_t> lengths;
    for (size_t len = 0; len < std::min<size_t>(n, 600); ++len) lengths.push_back(len);
    for (size_t k = 1; k <= 400; ++k) lengths.push_back(600 + (n - 600) * k / 401);
    for (size_t len = n > 64 ? n - 64 : 0; len < n; ++len) lengths.push_back(len);
    int counts[kNumResults] = {};
    for (size_t len : lengths) {
      const std::vector<uint8_t> cut =
          testing::seal_program(std::vector<uint8_t>(content.begin(), content.begin() + std::ptrdiff_t(len)));
      const Outcome o = exercise(cut.data(), cut.size(), c.input, str_cat(c.name, " truncated to ", len, " bytes"));
      expect_no_problems(o);
      ++counts[o.result];
      if (o.result != kRejected) {
        EXPECT_GE(len, n - padding) << "a prefix of " << len << " of " << n << " bytes verified";
      }
    }
    std::printf("%s (%zu bytes, %zu trailing zero bytes): %zu prefixes, %d rejected, %d ran\n", c.name.c_str(), n,
                padding, lengths.size(), counts[kRejected], counts[kRan]);
  }
}

// Random byte mutations: anywhere, in the structure (outside payload data), in payload headers;
// one to four bytes each, seeded.
TEST(ProgramFuzz, RandomByteMutations) {
  const uint32_t seed = fuzz_seed();
  const int count = fuzz_mutations();
  std::printf("random mutations: seed %u (NEUTRON_FUZZ_SEED), %d mutations (NEUTRON_FUZZ_MUTATIONS)\n", seed, count);
  std::mt19937 rng(seed);
  // The corpus of the brief: CifarNet for imxrt700 and cpu, FashionMNIST for imxrt700.
  const std::vector<size_t> files = {0, 1, 2};
  // Payload data ranges of each file (the bulk of the bytes, opaque to the FlatBuffers verifier).
  std::vector<std::vector<std::pair<size_t, size_t>>> payloads(corpus().size());
  for (size_t f : files) {
    const Corpus& c = corpus()[f];
    const fb::Program* p = fb::GetProgram(c.bytes.data());
    ASSERT_TRUE(program::has_trailer(c.bytes.data(), c.bytes.size()));
    if (p->payloads())
      for (const fb::Payload* pl : *p->payloads())
        payloads[f].emplace_back(size_t(pl->data()->data() - c.bytes.data()), size_t(pl->data()->size()));
  }
  auto in_payload = [&](size_t f, size_t pos) {
    for (auto [b, n] : payloads[f])
      if (pos >= b && pos < b + n) return true;
    return false;
  };
  std::vector<Mutant> mutants;
  for (int m = 0; m < count; ++m) {
    Mutant mu;
    mu.corpus = files[rng() % files.size()];
    const std::vector<uint8_t> bytes = testing::program_content(corpus()[mu.corpus].bytes);
    const int strategy = int(rng() % 3);
    const int edits = 1 + int(rng() % 4);
    mu.what = str_cat(corpus()[mu.corpus].name, " random mutation ", m, " (seed ", seed, ", strategy ", strategy, "):");
    std::vector<uint8_t> now = bytes;
    for (int e = 0; e < edits; ++e) {
      size_t pos = 0;
      if (strategy == 0) {
        pos = rng() % bytes.size();
      } else if (strategy == 1) {
        do pos = rng() % bytes.size();
        while (in_payload(mu.corpus, pos));
      } else if (payloads[mu.corpus].empty()) {
        pos = rng() % bytes.size();
      } else {
        const auto [b, n] = payloads[mu.corpus][rng() % payloads[mu.corpus].size()];
        pos = b + rng() % std::min<size_t>(n, 256);
      }
      const uint8_t old = now[pos];
      now[pos] = (rng() % 2) ? uint8_t(old ^ (1u << (rng() % 8))) : uint8_t(rng());
      mu.writes.emplace_back(pos, now[pos]);
      mu.what += str_cat(" byte ", pos, " ", int(old), "->", int(now[pos]));
    }
    mutants.push_back(std::move(mu));
  }
  const FuzzReport r = fuzz(mutants);
  std::printf("random mutations: %s\n", r.str().c_str());
  expect_clean(r);
  EXPECT_EQ(r.total() + int(r.crashes.size()), count);
  EXPECT_GT(r.counts[kRejected], 0);
  EXPECT_GT(r.counts[kRan], 0);
}

// ---- Structure-aware mutations: every scalar field and vector element present in a file. ----

struct Field {
  size_t pos;  // byte offset in the file
  int width;   // 1, 4 or 8 bytes, little endian
  std::string what;
};

const uint8_t* address_of(const void* table, flatbuffers::voffset_t field) {
  // The generated tables derive privately from flatbuffers::Table; a C-style cast reaches it.
  return table ? ((const flatbuffers::Table*)table)->GetAddressOf(field) : nullptr;
}

class FieldCollector {
 public:
  explicit FieldCollector(const uint8_t* base) : base_(base) {}
  void scalar(const void* table, flatbuffers::voffset_t vt, int width, const std::string& what) {
    if (const uint8_t* a = address_of(table, vt)) fields.push_back(Field{size_t(a - base_), width, what});
  }
  // A table's reference to a vector, table or string (its uoffset).
  void ref(const void* table, flatbuffers::voffset_t vt, const std::string& what) {
    scalar(table, vt, 4, what + " (ref)");
  }
  // A vector's length and its first elements.
  template <typename T>
  void vector(const flatbuffers::Vector<T>* v, const std::string& what) {
    if (v == nullptr) return;
    const uint8_t* data = v->Data();
    fields.push_back(Field{size_t(data - base_) - 4, 4, what + " length"});
    for (uint32_t i = 0; i < v->size() && i < 8; ++i)
      fields.push_back(Field{size_t(data - base_) + i * sizeof(T), int(sizeof(T)), str_cat(what, "[", i, "]")});
  }
  std::vector<Field> fields;

 private:
  const uint8_t* base_;
};

std::vector<Field> collect_fields(const std::vector<uint8_t>& bytes) {
  const fb::Program* p = fb::GetProgram(bytes.data());
  FieldCollector c(bytes.data());
  c.fields.push_back(Field{0, 4, "root offset"});
  c.scalar(p, fb::Program::VT_VERSION, 4, "version");
  for (auto vt : {fb::Program::VT_TENSORS, fb::Program::VT_INPUTS, fb::Program::VT_OUTPUTS,
                  fb::Program::VT_INSTRUCTIONS, fb::Program::VT_PAYLOADS, fb::Program::VT_PLAN})
    c.ref(p, vt, str_cat("program field ", vt));
  c.vector(p->inputs(), "program inputs");
  c.vector(p->outputs(), "program outputs");
  if (p->plan()) {
    c.scalar(p->plan(), fb::MemoryPlan::VT_ARENA_BYTES, 8, "plan arena_bytes");
    c.scalar(p->plan(), fb::MemoryPlan::VT_LOWER_BOUND_BYTES, 8, "plan lower_bound_bytes");
  }
  for (uint32_t i = 0; p->tensors() && i < p->tensors()->size(); ++i) {
    const fb::Tensor* t = p->tensors()->Get(i);
    const std::string w = str_cat("tensor ", i);
    c.scalar(t, fb::Tensor::VT_DTYPE, 1, w + " dtype");
    c.scalar(t, fb::Tensor::VT_STORAGE, 1, w + " storage");
    c.scalar(t, fb::Tensor::VT_OFFSET, 8, w + " offset");
    c.scalar(t, fb::Tensor::VT_BUFFER, 4, w + " buffer");
    c.scalar(t, fb::Tensor::VT_BYTES, 8, w + " bytes");
    c.ref(t, fb::Tensor::VT_SHAPE, w + " shape");
    c.ref(t, fb::Tensor::VT_QUANT, w + " quant");
    c.vector(t->shape(), w + " shape");
    c.vector(t->dim_order(), w + " dim_order");
    if (const fb::Quantization* q = t->quant()) {
      c.vector(q->scale(), w + " scale");
      c.vector(q->zero_point(), w + " zero_point");
      c.scalar(q, fb::Quantization::VT_AXIS, 4, w + " axis");
    }
  }
  for (uint32_t i = 0; p->instructions() && i < p->instructions()->size(); ++i) {
    const fb::Instruction* ins = p->instructions()->Get(i);
    const std::string w = str_cat("instruction ", i);
    c.scalar(ins, fb::Instruction::VT_OP_TYPE, 1, w + " op_type");
    c.ref(ins, fb::Instruction::VT_OP, w + " op");
    if (const fb::DelegateCall* d = ins->op_as_DelegateCall()) {
      c.ref(d, fb::DelegateCall::VT_BACKEND, w + " backend");
      c.scalar(d, fb::DelegateCall::VT_PAYLOAD, 4, w + " payload");
      c.vector(d->inputs(), w + " inputs");
      c.vector(d->outputs(), w + " outputs");
      c.scalar(d, fb::DelegateCall::VT_SCRATCH_OFFSET, 8, w + " scratch_offset");
      c.scalar(d, fb::DelegateCall::VT_SCRATCH_BYTES, 8, w + " scratch_bytes");
      c.scalar(d, fb::DelegateCall::VT_ACTIVATIONS_OFFSET, 8, w + " activations_offset");
    }
    if (const fb::CpuKernels* k = ins->op_as_CpuKernels()) {
      c.scalar(k, fb::CpuKernels::VT_PAYLOAD, 4, w + " payload");
      c.vector(k->inputs(), w + " inputs");
      c.vector(k->outputs(), w + " outputs");
      c.scalar(k, fb::CpuKernels::VT_SCRATCH_OFFSET, 8, w + " scratch_offset");
      c.scalar(k, fb::CpuKernels::VT_SCRATCH_BYTES, 8, w + " scratch_bytes");
    }
    if (const fb::Quantize* q = ins->op_as_Quantize()) {
      c.scalar(q, fb::Quantize::VT_INPUT, 4, w + " input");
      c.scalar(q, fb::Quantize::VT_OUTPUT, 4, w + " output");
    }
    if (const fb::Dequantize* q = ins->op_as_Dequantize()) {
      c.scalar(q, fb::Dequantize::VT_INPUT, 4, w + " input");
      c.scalar(q, fb::Dequantize::VT_OUTPUT, 4, w + " output");
    }
  }
  return c.fields;
}

uint64_t read_le(const std::vector<uint8_t>& b, size_t pos, int width) {
  uint64_t v = 0;
  for (int k = width - 1; k >= 0; --k) v = (v << 8) | b[pos + size_t(k)];
  return v;
}
void write_le(std::vector<uint8_t>& b, size_t pos, int width, uint64_t v) {
  for (int k = 0; k < width; ++k) b[pos + size_t(k)] = uint8_t(v >> (8 * k));
}

std::vector<uint64_t> interesting_values(uint64_t v, int width, uint64_t num_tensors, uint64_t arena) {
  const uint64_t r[] = {0,
                        1,
                        2,
                        3,
                        v + 1,
                        v - 1,
                        v + 16,
                        v - 16,
                        v * 2,
                        v / 2,
                        num_tensors,
                        num_tensors - 1,
                        uint64_t(-1),
                        0x7f,
                        0x80,
                        0x7fffffff,
                        0x80000000,
                        arena,
                        arena - 16,
                        arena + 16,
                        uint64_t(1) << 40,
                        uint64_t(1) << 63};
  const uint64_t mask = width == 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * width)) - 1;
  std::vector<uint64_t> out;
  for (uint64_t x : r) {
    x &= mask;
    if (x != v && std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  }
  return out;
}

// On the rebuilt corpus (every field present), NPU programs also with LoadOptions::delegates_on_cpu;
// sanitized builds take every tenth mutant.
TEST(ProgramFuzz, EveryFieldMutated) {
  std::vector<Mutant> mutants;
  size_t seen = 0;
  for (size_t ci = corpus().size() / 2; ci < corpus().size(); ++ci) {
    const Corpus& c = corpus()[ci];
    const fb::Program* p = fb::GetProgram(c.bytes.data());
    const uint64_t nt = p->tensors() ? p->tensors()->size() : 0;
    const uint64_t arena = p->plan() ? p->plan()->arena_bytes() : 0;
    const std::vector<Field> fields = collect_fields(c.bytes);
    for (const Field& f : fields) {
      const uint64_t v = read_le(c.bytes, f.pos, f.width);
      for (uint64_t x : interesting_values(v, f.width, nt, arena)) {
        if (testing::kSanitized && seen++ % 10 != 0) continue;
        std::vector<uint8_t> bytes = c.bytes;
        write_le(bytes, f.pos, f.width, x);
        Mutant mu;
        mu.corpus = ci;
        for (int k = 0; k < f.width; ++k) mu.writes.emplace_back(f.pos + size_t(k), bytes[f.pos + size_t(k)]);
        mu.what = str_cat(c.name, ": ", f.what, " ", v, " -> ", x);
        if (p->target() && p->target()->str() != "cpu") {  // NPU programs: also with delegates on the CPU
          Mutant on_cpu = mu;
          on_cpu.delegates_on_cpu = true;
          on_cpu.what += " (delegates_on_cpu)";
          mutants.push_back(std::move(on_cpu));
        }
        mutants.push_back(std::move(mu));
      }
    }
    std::printf("%s: %zu fields\n", c.name.c_str(), fields.size());
  }
  const FuzzReport r = fuzz(mutants);
  std::printf("field mutations: %s\n", r.str().c_str());
  expect_clean(r);
  EXPECT_GT(r.counts[kRejected], 0);
}

// ---- Specific bad files. ----

TEST(ProgramFuzz, MisalignedOrNullBuffer) {
  const Corpus& c = corpus()[0];
  for (size_t skew : {1, 2, 4, 8, 12}) {
    ExactBuffer file(c.bytes.data(), c.bytes.size(), skew);
    EXPECT_EQ(ProgramRunner::verify(file.data(), file.size()).error, Error::InvalidArgument) << skew;
    size_t need = 0;
    EXPECT_EQ(ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need).error, Error::InvalidArgument);
    ExactBuffer arena(1 << 20);
    ProgramRunner r;
    const ProgramStatus s = r.load(file.data(), file.size(), arena.data(), arena.size());
    EXPECT_EQ(s.error, Error::InvalidArgument) << testing::describe(s);
    EXPECT_NE(std::string(s.message).find("aligned"), std::string::npos) << s.message;
    EXPECT_FALSE(r.loaded());
  }
  EXPECT_EQ(ProgramRunner::verify(nullptr, 100).error, Error::InvalidArgument);
  ExactBuffer empty(16);
  EXPECT_EQ(ProgramRunner::verify(empty.data(), 0).error, Error::InvalidProgram);
  EXPECT_EQ(ProgramRunner::verify(empty.data(), 16).error, Error::InvalidProgram);
}

TEST(ProgramFuzz, WrongIdentifier) {
  const Corpus& c = corpus()[0];
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(c.bytes.data()) + 4, 4), "NPRG");
  for (const char* id : {"NPRH", "nprg", "TFL3", "\0\0\0\0"}) {
    std::vector<uint8_t> bytes = c.bytes;
    std::memcpy(bytes.data() + 4, id, 4);
    ExactBuffer file(bytes.data(), bytes.size());
    const ProgramStatus s = ProgramRunner::verify(file.data(), file.size());
    EXPECT_EQ(s.error, Error::InvalidProgram);
    EXPECT_NE(std::string(s.message).find("NPRG"), std::string::npos) << s.message;
    expect_no_problems(exercise(bytes.data(), bytes.size(), c.input, str_cat("identifier ", id)));
  }
}

TEST(ProgramFuzz, OtherVersionsAreRefused) {
  for (const Corpus& c : corpus()) {
    const fb::Program* p = fb::GetProgram(c.bytes.data());
    ASSERT_EQ(p->version(), program::kProgramVersion);
    const uint8_t* a = address_of(p, fb::Program::VT_VERSION);
    ASSERT_NE(a, nullptr);
    for (uint32_t v : {program::kProgramVersion + 1, program::kProgramVersion - 1, 0xffffffffu}) {
      std::vector<uint8_t> bytes = c.bytes;
      write_le(bytes, size_t(a - c.bytes.data()), 4, v);
      bytes = testing::reseal_program(bytes);
      ExactBuffer file(bytes.data(), bytes.size());
      const ProgramStatus s = ProgramRunner::verify(file.data(), file.size());
      EXPECT_EQ(s.error, Error::InvalidProgram) << c.name << " version " << v;
      EXPECT_NE(std::string(s.message).find("version"), std::string::npos) << s.message;
      expect_no_problems(exercise(bytes.data(), bytes.size(), c.input, str_cat(c.name, " version ", v)));
    }
  }
}

// ---- Hand-built programs: x f32 -> Quantize -> q i8 -> Dequantize -> y f32, then one rule broken. ----

struct MiniTensor {
  std::string name;
  fb::DType dtype = fb::DType::Float32;
  std::vector<int32_t> shape = {2, 3};
  std::vector<uint8_t> dim_order;  // empty: absent
  std::vector<float> scale;        // empty: no quantization
  std::vector<int32_t> zero_point;
  fb::Storage storage = fb::Storage::Arena;
  uint64_t offset = 0;
  uint32_t buffer = 0;
  uint64_t bytes = 24;
};

struct MiniInstruction {
  fb::Operation type = fb::Operation::Quantize;
  uint32_t in = 0, out = 0;         // Quantize / Dequantize
  std::string backend = "neutron";  // DelegateCall
  uint32_t payload = 0;
  std::vector<uint32_t> inputs, outputs;
};

struct MiniProgram {
  uint32_t version = program::kProgramVersion;
  std::vector<MiniTensor> tensors;
  std::vector<uint32_t> inputs = {0}, outputs = {2};
  std::vector<MiniInstruction> instructions;
  std::vector<std::vector<uint8_t>> payloads, buffers;
  bool plan = true;
  uint64_t arena = 80;
  bool sealed = true;  // with the checksum trailer

  MiniProgram() {
    tensors.push_back(MiniTensor{"x", fb::DType::Float32, {2, 3}, {}, {}, {}, fb::Storage::Arena, 0, 0, 24});
    tensors.push_back(MiniTensor{"q", fb::DType::Int8, {2, 3}, {}, {0.5f}, {3}, fb::Storage::Arena, 32, 0, 6});
    tensors.push_back(MiniTensor{"y", fb::DType::Float32, {2, 3}, {}, {}, {}, fb::Storage::Arena, 48, 0, 24});
    instructions.push_back(MiniInstruction{fb::Operation::Quantize, 0, 1, "", 0, {}, {}});
    instructions.push_back(MiniInstruction{fb::Operation::Dequantize, 1, 2, "", 0, {}, {}});
  }

  std::vector<uint8_t> build() const {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<fb::Tensor>> ts;
    for (const MiniTensor& t : tensors) {
      flatbuffers::Offset<fb::Quantization> q = 0;
      if (!t.scale.empty()) q = fb::CreateQuantizationDirect(b, &t.scale, &t.zero_point);
      ts.push_back(fb::CreateTensorDirect(b, t.name.c_str(), t.dtype, &t.shape,
                                          t.dim_order.empty() ? nullptr : &t.dim_order, q, t.storage, t.offset,
                                          t.buffer, t.bytes));
    }
    std::vector<flatbuffers::Offset<fb::Instruction>> is;
    for (const MiniInstruction& i : instructions) {
      flatbuffers::Offset<void> op = 0;
      switch (i.type) {
        case fb::Operation::Quantize:
          op = fb::CreateQuantize(b, i.in, i.out).Union();
          break;
        case fb::Operation::Dequantize:
          op = fb::CreateDequantize(b, i.in, i.out).Union();
          break;
        case fb::Operation::DelegateCall:
          op = fb::CreateDelegateCallDirect(b, i.backend.c_str(), i.payload, &i.inputs, &i.outputs).Union();
          break;
        case fb::Operation::CpuKernels:
          op = fb::CreateCpuKernelsDirect(b, i.payload, &i.inputs, &i.outputs).Union();
          break;
        default:
          break;
      }
      is.push_back(fb::CreateInstruction(b, i.type, op, b.CreateString("mini")));
    }
    std::vector<flatbuffers::Offset<fb::Payload>> ps;
    for (const auto& d : payloads) {
      b.ForceVectorAlignment(d.size(), 1, 16);
      ps.push_back(fb::CreatePayload(b, b.CreateVector(d)));
    }
    std::vector<flatbuffers::Offset<fb::Buffer>> bs;
    for (const auto& d : buffers) {
      b.ForceVectorAlignment(d.size(), 1, 16);
      bs.push_back(fb::CreateBuffer(b, b.CreateVector(d)));
    }
    auto pl = plan ? fb::CreateMemoryPlanDirect(b, arena, arena, "test") : 0;
    auto root = fb::CreateProgramDirect(b, version, "test", "cpu", "mini", &ts, &inputs, &outputs, &is,
                                        payloads.empty() ? nullptr : &ps, buffers.empty() ? nullptr : &bs, pl);
    b.Finish(root, fb::ProgramIdentifier());
    std::vector<uint8_t> file(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
    return sealed ? testing::seal_program(std::move(file)) : file;
  }
};

TEST(ProgramMini, QuantizeDequantizeRoundTrip) {
  const std::vector<uint8_t> bytes = MiniProgram().build();
  auto lp = testing::load_program(bytes);
  ASSERT_TRUE(lp->status.ok()) << testing::describe(lp->status);
  ASSERT_EQ(lp->runner.num_inputs(), 1u);
  EXPECT_STREQ(lp->runner.input(0).name, "x");
  EXPECT_EQ(lp->runner.input(0).scale, 0.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // x / 0.5 = -200, -1.5, -0.5, 0.5, 2.5, NaN: round half to even, + 3, saturate; NaN -> zero point.
  const float x[6] = {-100.0f, -0.75f, -0.25f, 0.25f, 1.25f, nan};
  std::memcpy(lp->runner.input(0).data, x, sizeof(x));
  ASSERT_TRUE(lp->runner.run().ok());
  const float want[6] = {-65.5f, -1.0f, 0.0f, 0.0f, 1.0f, 0.0f};
  EXPECT_EQ(std::memcmp(lp->runner.output(0).data, want, sizeof(want)), 0);
  const float x2[6] = {inf, -inf, 62.0f, 62.25f, 63.0f, -0.0f};
  std::memcpy(lp->runner.input(0).data, x2, sizeof(x2));
  ASSERT_TRUE(lp->runner.run().ok());
  const float want2[6] = {62.0f, -65.5f, 62.0f, 62.0f, 62.0f, 0.0f};
  EXPECT_EQ(std::memcmp(lp->runner.output(0).data, want2, sizeof(want2)), 0);
}

TEST(ProgramMini, ConstantInputFromABuffer) {
  MiniProgram m;
  const float c[6] = {1, 2, 3, 4, 5, 6};
  m.buffers.push_back(
      std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(c), reinterpret_cast<const uint8_t*>(c) + 24));
  m.tensors.push_back(MiniTensor{"c", fb::DType::Float32, {2, 3}, {}, {}, {}, fb::Storage::Constant, 0, 0, 24});
  m.instructions[0].in = 3;
  auto lp = testing::load_program(m.build());
  ASSERT_TRUE(lp->status.ok()) << testing::describe(lp->status);
  ASSERT_TRUE(lp->runner.run().ok());
  const float want[6] = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(std::memcmp(lp->runner.output(0).data, want, sizeof(want)), 0);
}

struct BadCase {
  const char* what;
  void (*edit)(MiniProgram&);
  Error error;
  const char* message;  // a part of the status message
};

const BadCase kBadCases[] = {
    {"next version", [](MiniProgram& m) { m.version = program::kProgramVersion + 1; }, Error::InvalidProgram, "version"},
    {"no memory plan", [](MiniProgram& m) { m.plan = false; }, Error::InvalidProgram, "memory plan"},
    {"arena of 2^41 bytes", [](MiniProgram& m) { m.arena = uint64_t(1) << 41; }, Error::InvalidProgram, "arena"},
    {"tensor outside the arena", [](MiniProgram& m) { m.tensors[2].offset = 64; }, Error::InvalidProgram, "arena"},
    {"misaligned tensor", [](MiniProgram& m) { m.tensors[2].offset = 40; }, Error::InvalidProgram, "aligned"},
    {"bytes differ from shape", [](MiniProgram& m) { m.tensors[1].bytes = 7; }, Error::InvalidProgram, "byte size"},
    {"negative dimension",
     [](MiniProgram& m) {
       m.tensors[1].shape = {-2, -3};
     },
     Error::InvalidProgram, "negative"},
    {"rank 9", [](MiniProgram& m) { m.tensors[1].shape = {1, 1, 1, 1, 1, 1, 1, 2, 3}; }, Error::NotSupported, "rank"},
    {"dim order not contiguous",
     [](MiniProgram& m) {
       m.tensors[1].dim_order = {1, 0};
     },
     Error::NotSupported, "dim order"},
    {"dim order of the wrong rank", [](MiniProgram& m) { m.tensors[1].dim_order = {0}; }, Error::InvalidProgram,
     "dim order"},
    {"unknown dtype", [](MiniProgram& m) { m.tensors[1].dtype = fb::DType(9); }, Error::InvalidProgram, "dtype"},
    {"unknown storage", [](MiniProgram& m) { m.tensors[1].storage = fb::Storage(7); }, Error::InvalidProgram,
     "storage"},
    {"scale 0", [](MiniProgram& m) { m.tensors[1].scale = {0.0f}; }, Error::InvalidProgram, "scale"},
    {"scale NaN", [](MiniProgram& m) { m.tensors[1].scale = {std::nanf("")}; }, Error::InvalidProgram, "scale"},
    {"negative scale", [](MiniProgram& m) { m.tensors[1].scale = {-0.5f}; }, Error::InvalidProgram, "scale"},
    {"zero point 200 on int8", [](MiniProgram& m) { m.tensors[1].zero_point = {200}; }, Error::InvalidProgram,
     "zero point"},
    {"per-channel Quantize",
     [](MiniProgram& m) {
       m.tensors[1].scale = {0.5f, 0.25f};
       m.tensors[1].zero_point = {0, 0};
     },
     Error::InvalidProgram, "scale"},
    {"scales and zero points differ in count",
     [](MiniProgram& m) {
       m.tensors[1].scale = {0.5f, 0.25f};
       m.tensors[1].zero_point = {0};
     },
     Error::InvalidProgram, "zero points"},
    {"Quantize to f32",
     [](MiniProgram& m) {
       m.tensors[1].dtype = fb::DType::Float32;
       m.tensors[1].bytes = 24;
     },
     Error::NotSupported, "Quantize"},
    {"element counts differ",
     [](MiniProgram& m) {
       m.tensors[2].shape = {1, 3};
       m.tensors[2].bytes = 12;
     },
     Error::InvalidProgram, "element count"},
    {"output overlaps input",
     [](MiniProgram& m) {
       m.tensors[2].offset = 32;
       m.arena = 64;
     },
     Error::InvalidProgram, "overlaps"},
    {"instruction names tensor 3 of 3", [](MiniProgram& m) { m.instructions[1].out = 3; }, Error::InvalidProgram,
     "does not exist"},
    {"writes a constant",
     [](MiniProgram& m) {
       m.buffers.push_back(std::vector<uint8_t>(32, 0));
       m.tensors[2].storage = fb::Storage::Constant;
     },
     Error::InvalidProgram, "arena"},
    {"constant larger than its buffer",
     [](MiniProgram& m) {
       m.buffers.push_back(std::vector<uint8_t>(16, 0));
       m.tensors[0].storage = fb::Storage::Constant;
     },
     Error::InvalidProgram, "buffer"},
    {"constant names a missing buffer", [](MiniProgram& m) { m.tensors[0].storage = fb::Storage::Constant; },
     Error::InvalidProgram, "buffer"},
    {"program input out of range", [](MiniProgram& m) { m.inputs = {5}; }, Error::InvalidProgram, "input"},
    {"program output is a constant",
     [](MiniProgram& m) {
       m.buffers.push_back(std::vector<uint8_t>(32, 0));
       m.tensors.push_back(MiniTensor{"k", fb::DType::Float32, {2, 3}, {}, {}, {}, fb::Storage::Constant, 0, 0, 24});
       m.outputs = {3};
     },
     Error::InvalidProgram, "output"},
    {"instruction without an operation", [](MiniProgram& m) { m.instructions[1].type = fb::Operation::NONE; },
     Error::InvalidProgram, "operation"},
    {"unknown backend",
     [](MiniProgram& m) {
       m.payloads.push_back(std::vector<uint8_t>(64, 0));
       m.instructions.push_back(MiniInstruction{fb::Operation::DelegateCall, 0, 0, "vendor-x", 0, {1}, {2}});
     },
     Error::NotSupported, "backend"},
    {"delegate payload missing",
     [](MiniProgram& m) {
       m.instructions.push_back(MiniInstruction{fb::Operation::DelegateCall, 0, 0, "neutron", 0, {1}, {2}});
     },
     Error::InvalidProgram, "payload"},
    {"delegate payload of zeros",  // the payload parser's reason, not a generic "rejected"
     [](MiniProgram& m) {
       m.payloads.push_back(std::vector<uint8_t>(256, 0));
       m.instructions.push_back(MiniInstruction{fb::Operation::DelegateCall, 0, 0, "neutron", 0, {1}, {2}});
     },
     Error::InvalidProgram, "unknown payload version"},
    {"delegate writes a constant",
     [](MiniProgram& m) {
       m.buffers.push_back(std::vector<uint8_t>(32, 0));
       m.tensors.push_back(MiniTensor{"k", fb::DType::Float32, {2, 3}, {}, {}, {}, fb::Storage::Constant, 0, 0, 24});
       m.payloads.push_back(std::vector<uint8_t>(256, 0));
       m.instructions.push_back(MiniInstruction{fb::Operation::DelegateCall, 0, 0, "neutron", 0, {1}, {3}});
     },
     Error::InvalidProgram, "not in the arena"},
    {"CPU kernels naming tensor 9",
     [](MiniProgram& m) {
       m.payloads.push_back(std::vector<uint8_t>(256, 0));
       m.instructions.push_back(MiniInstruction{fb::Operation::CpuKernels, 0, 0, "", 0, {9}, {2}});
     },
     Error::InvalidProgram, "does not exist"},
    {"CPU kernels payload of zeros",
     [](MiniProgram& m) {
       m.payloads.push_back(std::vector<uint8_t>(256, 0));
       m.instructions.push_back(MiniInstruction{fb::Operation::CpuKernels, 0, 0, "", 0, {1}, {2}});
     },
     Error::InvalidProgram, ""},
};

TEST(ProgramMini, EachBrokenRuleIsReported) {
  testing::init_neutron_driver();
  for (const BadCase& c : kBadCases) {
    SCOPED_TRACE(c.what);
    MiniProgram m;
    c.edit(m);
    const std::vector<uint8_t> bytes = m.build();
    ExactBuffer file(bytes.data(), bytes.size());
    const ProgramStatus s = ProgramRunner::verify(file.data(), file.size());
    EXPECT_EQ(s.error, c.error) << testing::describe(s);
    EXPECT_NE(std::string(s.message).find(c.message), std::string::npos) << s.message;
    expect_no_problems(exercise(bytes.data(), bytes.size(), TensorData(DType::F32, {2, 3}), c.what));
  }
}

// ---- The checksum trailer (src/program/program_format.h). ----

TEST(ProgramChecksum, Crc32KnownValues) {
  EXPECT_EQ(program::crc32("123456789", 9), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(program::crc32("", 0), 0u);
  EXPECT_EQ(program::crc32("56789", 5, program::crc32("1234", 4)), 0xCBF43926u);  // continues
}

TEST(ProgramChecksum, WriterAppendsTheTrailer) {
  for (const Corpus& c : corpus()) {
    ASSERT_TRUE(program::has_trailer(c.bytes.data(), c.bytes.size())) << c.name;
    const uint8_t* t = c.bytes.data() + c.bytes.size() - program::kTrailerBytes;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(t), 4), "NPCK");
    EXPECT_EQ(program::load_le32(t + 4), program::kChecksumCrc32);
    EXPECT_EQ(program::load_le32(t + 8), c.bytes.size() - program::kTrailerBytes);
    EXPECT_EQ(program::load_le32(t + 12), program::crc32(c.bytes.data(), c.bytes.size() - 4));
  }
}

// Any change of 1 to 4 bytes anywhere (weights, microcode, tables, the trailer) is an error at
// load, never a program that runs: outside the identifier and the trailer's magic it is the
// checksum that says so.
TEST(ProgramChecksum, FlippedBytesAreCaught) {
  testing::init_neutron_driver();
  std::mt19937 rng(fuzz_seed());
  const int count = testing::kSanitized ? 300 : 3000;
  int by_checksum = 0;
  for (int m = 0; m < count; ++m) {
    const Corpus& c = corpus()[size_t(m) % corpus().size()];
    std::vector<uint8_t> bytes = c.bytes;
    const size_t n = bytes.size();
    const int edits = 1 + int(rng() % 4);
    const size_t at = rng() % (n - size_t(edits) + 1);  // edits at..at+edits-1, each byte changed
    std::string what = str_cat(c.name, " mutation ", m, ":");
    for (int e = 0; e < edits; ++e) {
      const size_t pos = at + size_t(e);
      const uint8_t old = bytes[pos];
      bytes[pos] = (rng() % 2) ? uint8_t(old ^ (1u << (rng() % 8))) : uint8_t(old ^ (1 + rng() % 255));
      what += str_cat(" byte ", pos, " ", int(old), "->", int(bytes[pos]));
    }
    ExactBuffer file(bytes.data(), bytes.size());
    const ProgramStatus s = ProgramRunner::verify(file.data(), file.size());
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_EQ(s.error, Error::InvalidProgram) << what << ": " << testing::describe(s);
    const bool identifier = at < 8 && at + size_t(edits) > 4;
    const bool magic = at + size_t(edits) > n - program::kTrailerBytes && at < n - program::kTrailerBytes + 4;
    const std::string msg = s.message;
    if (!identifier && !magic) {
      EXPECT_TRUE(msg.find("checksum") != std::string::npos) << what << ": " << msg;
      by_checksum += msg == "program checksum mismatch: file is corrupted";
    }
  }
  std::printf("%d mutations, %d caught by the checksum itself\n", count, by_checksum);
  EXPECT_GT(by_checksum, count / 2);
}

// A flipped bit in the weights: with the default options an error at load; with
// LoadOptions::verify_checksum = false (a device that verified its flash itself) the runtime
// loads it — the option skips the CRC and nothing else.
TEST(ProgramChecksum, FlippedWeightIsAnErrorUnlessVerificationIsOff) {
  testing::init_neutron_driver();
  const Corpus& c = corpus()[0];  // cifarnet for imxrt700
  const fb::Program* p = fb::GetProgram(c.bytes.data());
  ASSERT_TRUE(p->payloads() && p->payloads()->size() > 0);
  const fb::Payload* pl = p->payloads()->Get(0);
  runtime::PayloadView v;
  ASSERT_TRUE(runtime::parse_payload(pl->data()->data(), pl->data()->size(), &v).ok());
  ASSERT_GT(v.weights_size, 0u);
  std::vector<uint8_t> bytes = c.bytes;
  bytes[size_t(v.weights - c.bytes.data())] ^= 0x10;

  auto checked = testing::load_program(bytes);
  EXPECT_EQ(checked->status.error, Error::InvalidProgram);
  EXPECT_STREQ(checked->status.message, "program checksum mismatch: file is corrupted");
  EXPECT_FALSE(checked->runner.loaded());

  runtime::LoadOptions trusting;
  trusting.verify_checksum = false;
  auto unchecked = testing::load_program(bytes, trusting);
  EXPECT_TRUE(unchecked->status.ok()) << testing::describe(unchecked->status);
  // The trailer's shape is still checked without the CRC.
  std::vector<uint8_t> no_trailer = testing::program_content(c.bytes);
  auto bare = testing::load_program(no_trailer, trusting);
  EXPECT_EQ(bare->status.error, Error::InvalidProgram);
  EXPECT_NE(std::string(bare->status.message).find("trailer"), std::string::npos) << bare->status.message;
}

// Files cut short or with bytes appended lose their trailer: rejected, never loaded.
TEST(ProgramChecksum, TruncatedOrExtendedFilesAreCaught) {
  for (const Corpus& c : corpus()) {
    SCOPED_TRACE(c.name);
    const size_t n = c.bytes.size();
    for (size_t len : {size_t(8), size_t(24), n / 2, n - 17, n - 16, n - 15, n - 4, n - 1}) {
      ExactBuffer file(c.bytes.data(), len);
      const ProgramStatus s = ProgramRunner::verify(file.data(), len);
      EXPECT_EQ(s.error, Error::InvalidProgram) << len;
      EXPECT_NE(std::string(s.message).find("checksum"), std::string::npos) << len << ": " << s.message;
    }
    for (size_t extra : {size_t(1), size_t(16), size_t(4096)}) {
      std::vector<uint8_t> longer = c.bytes;
      longer.resize(n + extra, 0);
      ExactBuffer file(longer.data(), longer.size());
      const ProgramStatus s = ProgramRunner::verify(file.data(), file.size());
      EXPECT_EQ(s.error, Error::InvalidProgram) << extra;
      EXPECT_NE(std::string(s.message).find("checksum"), std::string::npos) << extra << ": " << s.message;
    }
  }
}

// A program written before the checksum (format version 1, no trailer) says "recompile"; a
// current one without its trailer says it is damaged.
TEST(ProgramChecksum, OlderProgramsSayRecompile) {
  MiniProgram old;
  old.version = 1;
  old.sealed = false;
  std::vector<uint8_t> bytes = old.build();
  ExactBuffer file(bytes.data(), bytes.size());
  ProgramStatus s = ProgramRunner::verify(file.data(), file.size());
  EXPECT_EQ(s.error, Error::InvalidProgram);
  EXPECT_NE(std::string(s.message).find("older"), std::string::npos) << s.message;
  EXPECT_NE(std::string(s.message).find("recompile"), std::string::npos) << s.message;

  MiniProgram bare;
  bare.sealed = false;
  bytes = bare.build();
  ExactBuffer file2(bytes.data(), bytes.size());
  s = ProgramRunner::verify(file2.data(), file2.size());
  EXPECT_EQ(s.error, Error::InvalidProgram);
  EXPECT_STREQ(s.message, "program checksum trailer missing: file is truncated or corrupted");

  MiniProgram newer;
  newer.version = program::kProgramVersion + 1;
  bytes = newer.build();
  ExactBuffer file3(bytes.data(), bytes.size());
  s = ProgramRunner::verify(file3.data(), file3.size());
  EXPECT_NE(std::string(s.message).find("newer"), std::string::npos) << s.message;
}

}  // namespace
}  // namespace neutron
