// libFuzzer harness: bytes -> ProgramRunner verify / arena_bytes_needed / load (an arena of at most
// 8 MiB) / run on zero inputs, with the delegates on their backend and again on the CPU
// (LoadOptions::delegates_on_cpu). The steps must agree (tests/runtime/program_fuzz_test.cc
// checks the same on mutants of the fixtures' programs); outputs are read in full.
#include <algorithm>

#include "driver/neutron_driver.h"
#include "fuzz_util.h"
#include "runtime/program_runner.h"

namespace {

using neutron::Error;
using neutron::fuzz::AlignedBytes;
using neutron::runtime::LoadOptions;
using neutron::runtime::ProgramRunner;
using neutron::runtime::ProgramStatus;

constexpr size_t kMaxArena = size_t(8) << 20;

// Verify, load and run one way; returns whether it loaded.
bool exercise(AlignedBytes& file, const LoadOptions& options) {
  const ProgramStatus v = ProgramRunner::verify(file.data(), file.size(), options);
  FUZZ_CHECK(v.message != nullptr, "verify() gave a null message");
  size_t need = 0;
  const ProgramStatus a = ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need, options);
  FUZZ_CHECK(a.ok() == v.ok(), "verify says %s, arena_bytes_needed says %s", v.message, a.message);
  if (!a.ok()) return false;
  AlignedBytes arena(std::min(need, kMaxArena));
  ProgramRunner r;
  const ProgramStatus s = r.load(file.data(), file.size(), arena.data(), arena.size(), options);
  FUZZ_CHECK(s.message != nullptr, "load() gave a null message");
  FUZZ_CHECK(s.ok() == r.loaded(), "load() says %s but loaded() is %d", s.message, int(r.loaded()));
  if (need > kMaxArena) FUZZ_CHECK(!s.ok() && s.error == Error::OutOfMemory, "a short arena gave %s", s.message);
  if (!s.ok()) {
    FUZZ_CHECK(!r.run().ok(), "run() after a failed load succeeded");
    return false;
  }
  for (size_t i = 0; i < r.num_inputs(); ++i) {
    const neutron::runtime::TensorInfo t = r.input(i);
    if (t.data != nullptr) std::memset(t.data, 0, t.bytes);
  }
  const ProgramStatus run = r.run();
  FUZZ_CHECK(run.message != nullptr, "run() gave a null message");
  for (size_t k = 0; k < r.num_outputs(); ++k) {
    const neutron::runtime::TensorInfo t = r.output(k);
    if (t.data != nullptr) neutron::fuzz::touch(t.data, t.bytes);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool initialized = neutronInit() == ENONE;  // the application's job, once
  FUZZ_CHECK(initialized, "neutronInit failed");
  AlignedBytes file(size, data);
  LoadOptions options;
  // A mutated file would otherwise stop at the checksum and never reach the structural checks.
  options.verify_checksum = false;
  if (!exercise(file, options)) return 0;
  options.delegates_on_cpu = true;
  exercise(file, options);
  return 0;
}
