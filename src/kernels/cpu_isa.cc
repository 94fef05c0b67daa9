#include "kernels/cpu_isa.h"

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

void reset_kernel_isa() { g_isa = -1; }

const char* kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar: return "scalar";
    case KernelIsa::kAvx2: return "avx2";
    case KernelIsa::kAvx512: return "avx512";
  }
  return "?";
}

}  // namespace neutron
