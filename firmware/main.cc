// Placeholder firmware main: proves the pipeline (cross build, startup, kernels, semihosting
// output, exit code) by running the smoke workload (smoke.h) and printing its checksum. The
// program runner replaces this file; board code stays in mps2_an505/ (board.h is the whole API).
#include <cstdint>

#include "mps2_an505/board.h"
#include "smoke.h"

int main() {
  board_print("neutron firmware: mps2-an505 Cortex-M33\n");
  const BoardBlob program = board_program();
  const BoardBlob input = board_input();
  board_print("program blob: ");
  board_print_uint(program.size);
  board_print(" bytes, input blob: ");
  board_print_uint(input.size);
  board_print(" bytes\n");

  constexpr int kRepeats = 8;
  neutron::fw::SmokeResult r;
  const uint64_t t0 = board_cycles();
  for (int i = 0; i < kRepeats; ++i) r = neutron::fw::run_smoke();
  const uint64_t ticks = board_cycles() - t0;
  if (r.error != nullptr) {
    board_print("smoke error: ");
    board_print(r.error);
    board_print("\n");
    return 1;
  }
  board_print("smoke macs=");
  board_print_uint(r.macs);
  board_print(" ticks/run=");
  board_print_uint(ticks / kRepeats);
  board_print(" (");
  board_print_fixed(double(ticks) / kRepeats / board_cycles_hz() * 1e3, 3);
  board_print(" ms at ");
  board_print_uint(board_cycles_hz());
  board_print(" Hz)\n");
  board_print("stack used ");
  board_print_uint(board_stack_used());
  board_print(" of ");
  board_print_uint(board_stack_size());
  board_print(" bytes\n");
  board_print("smoke checksum=");
  board_print_hex(r.checksum, 8);
  board_print("\n");
  return 0;
}
