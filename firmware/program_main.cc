// Firmware main: runs the embedded program (board_program(), a `neutron compile` output) on the
// embedded input samples (board_input(): the raw bytes of the program's input tensor, one sample
// after another) through the portable runtime — CPU kernel calls on the M33, Neutron partitions
// through NeutronBackend -> driver -> the software NPU — and prints every output element as the
// hex of its bytes (exact comparison with the host) and in decimal.
#include <cstdint>
#include <cstring>

#include "driver/neutron_driver.h"
#include "mps2_an505/board.h"
#include "runtime/program_runner.h"

#ifndef NEUTRON_FW_ARENA_BYTES
#define NEUTRON_FW_ARENA_BYTES (8u << 20)
#endif

namespace {

// The caller-supplied arena: planned activations and the runtime state (in DDR, not zeroed).
alignas(16) uint8_t g_arena[NEUTRON_FW_ARENA_BYTES] __attribute__((section(".ddr_bss")));

void print_status(const char* what, const neutron::runtime::ProgramStatus& s) {
  board_print(what);
  board_print(": ");
  board_print(s.message);
  board_print(" (");
  board_print(neutron::to_string(s.error));
  board_print(")");
  if (s.instruction >= 0) {
    board_print(" instruction ");
    board_print_int(s.instruction);
  }
  if (s.tensor >= 0) {
    board_print(" tensor ");
    board_print_int(s.tensor);
  }
  board_print("\n");
}

}  // namespace

int main() {
  using neutron::runtime::ProgramRunner;
  using neutron::runtime::ProgramStatus;
  board_print("neutron firmware: mps2-an505 Cortex-M33, program runner\n");
  const BoardBlob program = board_program();
  const BoardBlob input = board_input();
  if (program.size == 0) {
    board_print("no program embedded (NEUTRON_FW_PROGRAM)\n");
    return 2;
  }
  if (neutronInit() != ENONE) {
    board_print("neutronInit failed\n");
    return 1;
  }
  // Weights are read in place from the program (flash): the arena is the compile-time plan plus
  // the runtime state, and there is no host-only state on the device.
  neutron::runtime::MemoryFigures mem;
  ProgramStatus s = ProgramRunner::memory_needed(program.data, program.size, &mem);
  if (!s.ok()) {
    print_status("program rejected", s);
    return 1;
  }
  board_print("program ");
  board_print_uint(program.size);
  board_print(" bytes, arena needed ");
  board_print_uint(mem.arena_bytes);
  board_print(" of ");
  board_print_uint(sizeof(g_arena));
  board_print("\n");
  board_print("memory: plan ");
  board_print_uint(mem.plan_bytes);
  board_print(" runtime state ");
  board_print_uint(mem.runtime_bytes);
  board_print(" arena ");
  board_print_uint(mem.arena_bytes);
  board_print("\n");

  static ProgramRunner runner;  // no heap: the runner is a few words, its state is in the arena
  const uint64_t t0 = board_cycles();
  s = runner.load(program.data, program.size, g_arena, sizeof(g_arena));
  const uint64_t t_load = board_cycles() - t0;
  if (!s.ok()) {
    print_status("load failed", s);
    return 1;
  }
  if (runner.num_inputs() != 1) {
    board_print("this firmware feeds programs with one input\n");
    return 2;
  }
  const neutron::runtime::TensorInfo in = runner.input(0);
  if (in.bytes == 0 || input.size % in.bytes != 0 || input.size == 0) {
    board_print("input blob is not a whole number of samples of ");
    board_print_uint(in.bytes);
    board_print(" bytes\n");
    return 2;
  }
  const size_t samples = input.size / in.bytes;
  board_print("samples ");
  board_print_uint(samples);
  board_print(", load ticks ");
  board_print_uint(t_load);
  board_print("\n");

  uint64_t run_ticks = 0;
  for (size_t k = 0; k < samples; ++k) {
    std::memcpy(in.data, input.data + k * in.bytes, in.bytes);
    const uint64_t t1 = board_cycles();
    s = runner.run();
    run_ticks += board_cycles() - t1;
    if (!s.ok()) {
      print_status("run failed", s);
      return 1;
    }
    for (size_t o = 0; o < runner.num_outputs(); ++o) {
      const neutron::runtime::TensorInfo out = runner.output(o);
      board_print("output ");
      board_print_uint(o);
      board_print(" sample ");
      board_print_uint(k);
      board_print(":");
      const auto* bytes = static_cast<const uint8_t*>(out.data);
      // Little-endian words of the element size (f32: the float's bits).
      const size_t elem = out.dtype == neutron::fb::DType::Float32 || out.dtype == neutron::fb::DType::Int32 ? 4 : 1;
      for (size_t i = 0; i + elem <= out.bytes; i += elem) {
        uint32_t v = 0;
        for (size_t b = 0; b < elem; ++b) v |= uint32_t(bytes[i + b]) << (8 * b);
        board_print(" ");
        board_print_hex(v, int(2 * elem));
      }
      board_print("\n");
      if (out.dtype == neutron::fb::DType::Float32) {
        board_print("  (");
        for (size_t i = 0; i + 4 <= out.bytes && i < 4 * 10; i += 4) {
          float f;
          std::memcpy(&f, bytes + i, 4);
          board_print(i ? " " : "");
          board_print_fixed(double(f), 4);
        }
        board_print(out.bytes > 40 ? " ...)\n" : ")\n");
      }
    }
  }
  board_print("run ticks per sample ");
  board_print_uint(samples ? run_ticks / samples : 0);
  board_print(" at ");
  board_print_uint(board_cycles_hz());
  board_print(" Hz; stack used ");
  board_print_uint(board_stack_used());
  board_print(" bytes; arena used ");
  board_print_uint(runner.arena_used());
  board_print(" bytes\n");
  runner.unload();
  neutronDeinit();
  board_print("done\n");
  return 0;
}
