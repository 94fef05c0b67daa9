#include "kernels/cpu_isa.h"

#if NEUTRON_X86_KERNELS
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

namespace neutron {
namespace {

bool detect(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar: return true;
#if NEUTRON_X86_KERNELS
    case KernelIsa::kAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KernelIsa::kAvx512:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
#endif
    default: return false;
  }
}

KernelIsa best() {
#if NEUTRON_X86_KERNELS
  __builtin_cpu_init();  // harmless if done; needed when the first kernel runs from a static constructor
#endif
  if (detect(KernelIsa::kAvx512)) return KernelIsa::kAvx512;
  if (detect(KernelIsa::kAvx2)) return KernelIsa::kAvx2;
  return KernelIsa::kScalar;
}

// The best path, detected once (a function-local static: safe when threads start kernels at once).
KernelIsa best_once() {
  static const KernelIsa b = best();
  return b;
}

#if NEUTRON_X86_KERNELS
NEUTRON_TARGET_AVX512 unsigned long long xcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}
#endif

// AMX: cpuid leaf 7 EDX bits 24 (AMX-TILE) and 25 (AMX-INT8), OSXSAVE, and on Linux the
// permission to use the tile data state (XFEATURE 18), which the kernel grants per process.
bool detect_amx() {
#if NEUTRON_X86_KERNELS && defined(__linux__)
  if (!detect(KernelIsa::kAvx512)) return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  if (!(d & (1u << 24)) || !(d & (1u << 25))) return false;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE: xgetbv works
  constexpr long kReqXcompPerm = 0x1023, kXtileData = 18;
  if (syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) != 0) return false;
  return (xcr0() & (3ull << 17)) == (3ull << 17);  // TILECFG and TILEDATA enabled
#else
  return false;
#endif
}

bool amx_once() {
  static const bool ok = detect_amx();
  return ok;
}

bool g_amx_off = false;

// -1: the best path; otherwise forced by set_kernel_isa() (tests, benchmarks), written only
// while no kernel runs.
int g_isa = -1;

}  // namespace

bool kernel_isa_supported(KernelIsa isa) { return detect(isa); }

KernelIsa kernel_isa() { return g_isa < 0 ? best_once() : KernelIsa(g_isa); }

bool set_kernel_isa(KernelIsa isa) {
  if (!detect(isa)) return false;
  g_isa = int(isa);
  return true;
}

void reset_kernel_isa() {
  g_isa = -1;
  g_amx_off = false;
}

bool kernel_amx_supported() { return amx_once(); }

bool kernel_amx() { return !g_amx_off && kernel_isa() == KernelIsa::kAvx512 && amx_once(); }

bool set_kernel_amx(bool enabled) {
  if (enabled && !amx_once()) return false;
  g_amx_off = !enabled;
  return true;
}

const char* kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar: return "scalar";
    case KernelIsa::kAvx2: return "avx2";
    case KernelIsa::kAvx512: return "avx512";
  }
  return "?";
}

}  // namespace neutron
