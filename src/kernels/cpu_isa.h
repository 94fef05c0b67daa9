// Which vector instruction set the CPU kernels use, chosen at run time (cpuid), so one binary runs
// on any x86-64 and uses AVX2 or AVX-512 VNNI where present. Every path computes the same int8
// results bit for bit (int32 sums are exact in any order); float results differ only by FMA
// contraction and summation order. Other targets (the Cortex-M33 firmware) have only the
// portable scalar path.
#pragma once

namespace neutron {

enum class KernelIsa : int {
  kScalar = 0,  // portable C++ (any target)
  kAvx2 = 1,    // x86-64 AVX2 + FMA
  kAvx512 = 2,  // x86-64 AVX-512 F/BW/VL + VNNI
};

// True when this CPU (and this build) can run `isa`.
bool kernel_isa_supported(KernelIsa isa);

// The path the kernels take: the best supported one, unless set_kernel_isa() chose another.
KernelIsa kernel_isa();

// Forces `isa` (tests compare the paths; benchmarks time each). Returns false and changes nothing
// when the CPU cannot run it. Not thread-safe: call before running kernels.
bool set_kernel_isa(KernelIsa isa);

// Back to the best supported path.
void reset_kernel_isa();

const char* kernel_isa_name(KernelIsa isa);

// AMX int8 tiles (Intel AMX-TILE + AMX-INT8, Sapphire Rapids and later) on top of the AVX-512 path:
// the int8 convolution runs its GEMM on them where the shapes allow. Used only when kernel_isa()
// is kAvx512, the CPU has AMX and the OS grants its state (Linux arch_prctl, asked once).
bool kernel_amx_supported();
bool kernel_amx();
// Turns the AMX tiles off or back on (tests compare both; benchmarks time both). Returns false and
// changes nothing when enabling is not supported. Not thread-safe; reset_kernel_isa() re-enables.
bool set_kernel_amx(bool enabled);

}  // namespace neutron

// Per-function target attributes: only the marked functions use the instructions, so nothing
// else in the binary (inline functions from headers included) assumes them.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NEUTRON_X86_KERNELS 1
#define NEUTRON_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define NEUTRON_TARGET_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#define NEUTRON_TARGET_AMX \
  __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8")))
#else
#define NEUTRON_X86_KERNELS 0
#endif
