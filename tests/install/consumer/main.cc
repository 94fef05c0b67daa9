// Runs a program file with the installed runtime: zero inputs, prints the first output value.
// Usage: consumer PROGRAM.nprg
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "core/aligned_buffer.h"
#include "driver/neutron_driver.h"
#include "runtime/program_runner.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::ifstream f(argv[1], std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
  neutron::AlignedBuffer file(bytes.size());
  std::memcpy(file.data(), bytes.data(), bytes.size());
  if (neutronInit() != ENONE) return 1;
  size_t need = 0;
  auto st = neutron::runtime::ProgramRunner::arena_bytes_needed(file.data(), file.size(), &need);
  if (!st.ok()) {
    std::fprintf(stderr, "consumer: %s\n", st.message);
    return 1;
  }
  neutron::AlignedBuffer arena(need);
  {
    neutron::runtime::ProgramRunner runner;
    st = runner.load(file.data(), file.size(), arena.data(), arena.size());
    if (st.ok()) {
      for (size_t i = 0; i < runner.num_inputs(); ++i) std::memset(runner.input(i).data, 0, runner.input(i).bytes);
      st = runner.run();
    }
    if (!st.ok()) {
      std::fprintf(stderr, "consumer: %s\n", st.message);
      return 1;
    }
    std::printf("consumer: ran %zu instructions, %zu outputs, arena %zu bytes\n", runner.num_instructions(),
                runner.num_outputs(), need);
  }
  neutronDeinit();
  return 0;
}
