// Board support for QEMU mps2-an505: vector table, SysTick cycle counter, semihosting console and
// exit, fault reports, and the number formatter (no printf). See board.h.
#include "board.h"

#include <cstdint>

extern "C" {
void Reset_Handler();
void Fault_Handler();
void board_init();
void board_fault(const uint32_t* frame, uint32_t exc_return);
void SysTick_Handler();
extern uint32_t __stack_top;
using InitFn = void (*)();
extern InitFn __preinit_array_start[], __preinit_array_end[];
extern InitFn __init_array_start[], __init_array_end[];
}

namespace {

// ---- semihosting (Arm "Semihosting for AArch32 and AArch64", BKPT 0xAB on M-profile) ----
constexpr uint32_t kSysOpen = 0x01;
constexpr uint32_t kSysWrite = 0x05;
constexpr uint32_t kSysExitExtended = 0x20;
constexpr uint32_t kAdpStoppedApplicationExit = 0x20026;

inline uint32_t semihost(uint32_t op, const void* arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

// ---- SysTick: 24-bit down counter at the core clock, extended to 64 bits by its interrupt ----
struct SysTickRegs {
  volatile uint32_t csr, rvr, cvr, calib;
};
SysTickRegs* const kSysTick = reinterpret_cast<SysTickRegs*>(0xE000E010u);
constexpr uint32_t kSysTickReload = 0x00FFFFFFu;
constexpr uint32_t kCoreClockHz = 20000000u;  // mps2-tz.c: sysclk_frq for AN505
volatile uint32_t g_systick_wraps = 0;

void default_handler() { board_fault(nullptr, 0); }

}  // namespace

// ---- vector table (placed at 0x10000000, the reset value of the secure VTOR) ----
extern "C" __attribute__((section(".vectors"), used)) void (*const g_vector_table[16])() = {
    reinterpret_cast<void (*)()>(&__stack_top),  // initial MSP
    Reset_Handler,
    Fault_Handler,  // NMI
    Fault_Handler,  // HardFault
    Fault_Handler,  // MemManage
    Fault_Handler,  // BusFault
    Fault_Handler,  // UsageFault
    Fault_Handler,  // SecureFault
    nullptr,
    nullptr,
    nullptr,
    default_handler,  // SVCall
    default_handler,  // DebugMonitor
    nullptr,
    default_handler,  // PendSV
    SysTick_Handler,
};

extern "C" void SysTick_Handler() { g_systick_wraps = g_systick_wraps + 1; }

extern "C" void board_init() {
  volatile uint32_t* const scb = reinterpret_cast<volatile uint32_t*>(0xE000ED00u);
  scb[0x24 / 4] |= 0xFu << 16;  // SHCSR: MemManage, BusFault, UsageFault, SecureFault reported as such
  scb[0x14 / 4] |= 1u << 4;     // CCR.DIV_0_TRP: integer division by zero faults (as on the host)
  kSysTick->csr = 0;
  kSysTick->rvr = kSysTickReload;
  kSysTick->cvr = 0;
  kSysTick->csr = 0x7;  // CLKSOURCE = core clock, TICKINT, ENABLE
  // The counter reads 0 until its first reload (under QEMU without -icount that takes a while of
  // host time); board_cycles() would count that 0 as a full period and then step back.
  for (uint32_t spin = 0; kSysTick->cvr == 0 && spin < 100000000u; ++spin) {
  }
  for (InitFn* f = __preinit_array_start; f != __preinit_array_end; ++f) (*f)();
  for (InitFn* f = __init_array_start; f != __init_array_end; ++f) (*f)();
}

uint64_t board_cycles() {
  volatile const uint32_t* const icsr = reinterpret_cast<volatile const uint32_t*>(0xE000ED04u);
  uint32_t wraps, value, pending;
  do {
    wraps = g_systick_wraps;
    value = kSysTick->cvr & kSysTickReload;
    pending = *icsr & (1u << 26);  // PENDSTSET: wrapped, the interrupt not taken yet
  } while (wraps != g_systick_wraps);
  // A pending wrap with a high count happened before `value` was read: count it. (QEMU takes
  // interrupts only between translation blocks, so this window is real there.)
  if (pending != 0 && value > kSysTickReload / 2) ++wraps;
  return (uint64_t(wraps) << 24) + (kSysTickReload - value);
}

uint32_t board_cycles_hz() { return kCoreClockHz; }

extern "C" uint32_t __stack_limit;
size_t board_stack_used() {
  const uint32_t* p = &__stack_limit;
  const uint32_t* const top = &__stack_top;
  while (p < top && *p == 0x5EEDC0DEu) ++p;  // painted by Reset_Handler
  return size_t(top - p) * sizeof(uint32_t);
}
size_t board_stack_size() { return size_t(&__stack_top - &__stack_limit) * sizeof(uint32_t); }

void board_exit(int code) {
  const uint32_t block[2] = {kAdpStoppedApplicationExit, uint32_t(code)};
  semihost(kSysExitExtended, block);
  for (;;) __asm__ volatile("wfi");
}

// ---- console: SYS_WRITE to ":tt" opened for writing, which QEMU maps to its own stdout
// (SYS_WRITE0 would go to QEMU's stderr) ----
namespace {
int32_t g_stdout = -2;  // -2: not opened yet, -1: SYS_OPEN failed

int32_t console() {
  if (g_stdout == -2) {
    static const char kTt[] = ":tt";
    const uint32_t args[3] = {reinterpret_cast<uint32_t>(kTt), 4 /* "w" */, sizeof(kTt) - 1};
    g_stdout = int32_t(semihost(kSysOpen, args));
  }
  return g_stdout;
}
}  // namespace

void board_write(const char* s, size_t n) {
  const int32_t fd = console();
  if (fd < 0 || n == 0) return;
  const uint32_t args[3] = {uint32_t(fd), reinterpret_cast<uint32_t>(s), uint32_t(n)};
  semihost(kSysWrite, args);
}

void board_print(const char* s) {
  if (s == nullptr) return;
  size_t n = 0;
  while (s[n] != '\0') ++n;
  board_write(s, n);
}

namespace {
// Writes the decimal digits of v at the end of buf[0..24) and returns the first one.
char* format_uint(uint64_t v, char* end) {
  char* p = end;
  *--p = '\0';
  do {
    *--p = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return p;
}
}  // namespace

void board_print_uint(uint64_t v) {
  char buf[24];
  board_print(format_uint(v, buf + sizeof(buf)));
}

void board_print_int(int64_t v) {
  char buf[24];
  const uint64_t mag = v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  char* p = format_uint(mag, buf + sizeof(buf));
  if (v < 0) *--p = '-';
  board_print(p);
}

void board_print_hex(uint64_t v, int digits) {
  if (digits < 1) digits = 1;
  if (digits > 16) digits = 16;
  int needed = 1;
  while (needed < 16 && (v >> (4 * needed)) != 0) ++needed;
  if (needed > digits) digits = needed;
  char buf[20];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < digits; ++i) buf[2 + i] = "0123456789abcdef"[(v >> (4 * (digits - 1 - i))) & 0xF];
  buf[2 + digits] = '\0';
  board_print(buf);
}

void board_print_fixed(double v, int decimals) {
  if (v != v) return board_print("nan");
  const bool neg = v < 0;
  const double mag = neg ? -v : v;
  if (mag > 1.0e300) return board_print(neg ? "-inf" : "inf");
  if (mag >= 1.0e18) return board_print(neg ? "-big" : "big");
  if (decimals < 0) decimals = 0;
  if (decimals > 9) decimals = 9;
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  // Integer and fraction parts separately so that the scaled value never overflows.
  uint64_t ip = uint64_t(mag);
  uint64_t fp = uint64_t((mag - double(ip)) * double(scale) + 0.5);
  if (fp >= scale) {
    ++ip;
    fp -= scale;
  }
  char buf[48];
  char* p = buf;
  if (neg && (ip != 0 || fp != 0)) *p++ = '-';
  char digits[24];
  for (const char* d = format_uint(ip, digits + sizeof(digits)); *d != '\0';) *p++ = *d++;
  if (decimals > 0) {
    *p++ = '.';
    for (int i = decimals - 1; i >= 0; --i) {
      p[i] = char('0' + fp % 10);
      fp /= 10;
    }
    p += decimals;
  }
  *p = '\0';
  board_print(buf);
}

// ---- faults ----
extern "C" void board_fault(const uint32_t* frame, uint32_t exc_return) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  volatile const uint32_t* const scb = reinterpret_cast<volatile const uint32_t*>(0xE000ED00u);
  board_print("\n*** fault: exception ");
  board_print_uint(ipsr & 0x1FF);
  static const char* const kNames[] = {"", "reset", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault"};
  if ((ipsr & 0x1FF) < 8) {
    board_print(" (");
    board_print(kNames[ipsr & 0x1FF]);
    board_print(")");
  }
  if (frame != nullptr) {
    board_print(" pc=");
    board_print_hex(frame[6], 8);
    board_print(" lr=");
    board_print_hex(frame[5], 8);
    board_print(" exc_return=");
    board_print_hex(exc_return, 8);
  }
  board_print(" CFSR=");
  board_print_hex(scb[0x28 / 4], 8);  // UFSR (STKOF = bit 20, i.e. 0x00100000) | BFSR | MMFSR
  board_print(" HFSR=");
  board_print_hex(scb[0x2C / 4], 8);
  board_print(" BFAR=");
  board_print_hex(scb[0x38 / 4], 8);
  board_print(" SFSR=");
  board_print_hex(scb[0xE4 / 4], 8);
  board_print("\n");
  board_exit(139);
}

// ---- embedded blobs (blobs.S) ----
extern "C" {
extern const uint8_t neutron_fw_program[];
extern const uint32_t neutron_fw_program_size;
extern const uint8_t neutron_fw_input[];
extern const uint32_t neutron_fw_input_size;
}

BoardBlob board_program() { return {neutron_fw_program, neutron_fw_program_size}; }
BoardBlob board_input() { return {neutron_fw_input, neutron_fw_input_size}; }
