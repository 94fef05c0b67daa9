// Board support for QEMU's mps2-an505 (Cortex-M33): console output and exit through Arm
// semihosting, a cycle counter, and the embedded blobs. Everything a firmware main() may use;
// nothing here allocates, and there is no printf.
//
//   board_print("logits ");  board_print_int(-3);  board_print_hex(0xab, 8);  board_print("\n");
//   uint64_t t0 = board_cycles();  ...;  uint64_t dt = board_cycles() - t0;  // ticks of board_cycles_hz()
//   return 0;  // main's return value becomes QEMU's exit code (board_exit)
//
// Output goes to QEMU's stdout (semihosting SYS_WRITE to ":tt", -semihosting-config target=native).
#pragma once
#include <cstddef>
#include <cstdint>

extern "C" {

// Writes a NUL-terminated string.
void board_print(const char* s);
// Writes `n` bytes of `s` (no terminator needed).
void board_write(const char* s, size_t n);
// Signed decimal.
void board_print_int(int64_t v);
// Unsigned decimal.
void board_print_uint(uint64_t v);
// "0x" and `digits` hex digits (1..16; more significant digits are kept, never cut), lowercase.
void board_print_hex(uint64_t v, int digits = 8);
// A real number with `decimals` digits after the point (0..9), rounded half away from zero;
// "nan", "inf", "-inf"; magnitudes >= 1e18 print as "big".
void board_print_fixed(double v, int decimals);

// A 64-bit counter of the core clock (SysTick, extended by its wrap interrupt). Under QEMU this is
// emulated time at board_cycles_hz() (20 MHz), which tracks host time unless QEMU runs with
// -icount (then it counts instructions: 2^shift ns each). QEMU does not model DWT CYCCNT.
uint64_t board_cycles();
uint32_t board_cycles_hz();

// Main stack high-water mark: bytes ever used (Reset_Handler paints the stack), and its size
// (NEUTRON_FW_STACK_SIZE; overflowing it is a UsageFault, reported with CFSR bit 20 STKOF).
size_t board_stack_used();
size_t board_stack_size();

// Ends the program: semihosting SYS_EXIT_EXTENDED with `code` (QEMU exits with it).
[[noreturn]] void board_exit(int code);

// Embedded blobs (firmware options NEUTRON_FW_PROGRAM and NEUTRON_FW_INPUT): 16-byte aligned,
// in the code region; size 0 when the option was not given.
struct BoardBlob {
  const uint8_t* data;
  size_t size;
};
BoardBlob board_program();
BoardBlob board_input();

}  // extern "C"
