// Microbenchmarks of the int8 and float conv / GEMM / BatchMatMul kernels on MobileNetV2 and
// ResNet-18 layer shapes (batch 1, NHWC), for each code path this CPU has (scalar, avx2, avx512,
// avx512+amx).
// Counters: MAC/s of the layer.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/batch_matmul_int8.h"
#include "kernels/conv2d_f32.h"
#include "kernels/conv_int8.h"
#include "kernels/cpu_isa.h"
#include "kernels/gemm_f32.h"
#include "kernels/gemm_int8.h"

namespace neutron {
namespace {

struct ConvShape {
  const char* name;
  int32_t hw, cin, cout, k, stride, groups;
};

// MobileNetV2 and ResNet-18 layers (input height = width).
const ConvShape kConvs[] = {
    {"mnv2_conv0_3x3s2", 224, 3, 32, 3, 2, 1},     {"mnv2_dw_112x32", 112, 32, 32, 3, 1, 32},
    {"mnv2_pw_112_32to16", 112, 32, 16, 1, 1, 1},   {"mnv2_pw_56_24to144", 56, 24, 144, 1, 1, 1},
    {"mnv2_dw_56x144", 56, 144, 144, 3, 1, 144},    {"mnv2_dw_14x576", 14, 576, 576, 3, 1, 576},
    {"mnv2_pw_14_576to96", 14, 576, 96, 1, 1, 1},   {"mnv2_pw_7_320to1280", 7, 320, 1280, 1, 1, 1},
    {"mnv2_pw_112_16to96", 112, 16, 96, 1, 1, 1},   {"mnv2_pw_28_32to192", 28, 32, 192, 1, 1, 1},
    {"mnv2_pw_14_96to576", 14, 96, 576, 1, 1, 1},   {"mnv2_pw_7_960to160", 7, 960, 160, 1, 1, 1},
    {"r18_conv1_7x7s2", 224, 3, 64, 7, 2, 1},       {"r18_56_3x3_64", 56, 64, 64, 3, 1, 1},
    {"r18_28_3x3_128", 28, 128, 128, 3, 1, 1},      {"r18_14_3x3_256", 14, 256, 256, 3, 1, 1},
    {"r18_7_3x3_512", 7, 512, 512, 3, 1, 1},
};

const KernelIsa kIsas[] = {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512};

std::vector<int8_t> random_i8(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(int(rng() % 256) - 128);
  return v;
}
std::vector<float> random_f32(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

int32_t out_size(int32_t in, int32_t k, int32_t stride) { return (in + 2 * (k / 2) - k) / stride + 1; }

void conv_int8(benchmark::State& state, ConvShape s, KernelIsa isa, bool amx) {
  if (!set_kernel_isa(isa) || !set_kernel_amx(amx)) return state.SkipWithError("ISA not supported on this CPU");
  Conv2DInt8Params p;
  p.in_h = p.in_w = s.hw;
  p.in_c = s.cin;
  p.out_c = s.cout;
  p.kernel_h = p.kernel_w = s.k;
  p.stride_h = p.stride_w = s.stride;
  p.pad_top = p.pad_left = s.k / 2;
  p.out_h = p.out_w = out_size(s.hw, s.k, s.stride);
  p.groups = s.groups;
  p.input_zero_point = 3;
  p.output_zero_point = -5;
  conv2d_int8_choose_path(&p);
  const auto w = random_i8(size_t(s.cout) * (s.cin / s.groups) * s.k * s.k, 1);
  const auto x = random_i8(size_t(s.hw) * s.hw * s.cin, 2);
  std::vector<int16_t> packed(conv2d_int8_packed_weights_size(p));
  std::vector<int32_t> bias(size_t(s.cout), 100), packed_bias(size_t(s.cout));
  std::vector<FixedMultiplier> mult(size_t(s.cout));
  for (auto& m : mult) quantize_multiplier(0.0007, &m);
  conv2d_int8_pack(p, w.data(), bias.data(), packed.data(), packed_bias.data());
  p.weights = packed.data();
  p.bias = packed_bias.data();
  p.multipliers = mult.data();
  std::vector<uint8_t> scratch(conv2d_int8_scratch_bytes(p));
  std::vector<int8_t> y(size_t(p.out_h) * p.out_w * p.out_c);
  for (auto _ : state) {
    conv2d_int8_nhwc(p, x.data(), y.data(), scratch.data());
    benchmark::DoNotOptimize(y.data());
  }
  const double macs = double(p.out_h) * p.out_w * p.out_c * (s.cin / s.groups) * s.k * s.k;
  state.counters["MAC/s"] = benchmark::Counter(macs, benchmark::Counter::kIsIterationInvariantRate);
  reset_kernel_isa();
}

void conv_f32(benchmark::State& state, ConvShape s) {
  Conv2DF32Params p;
  p.in_h = p.in_w = s.hw;
  p.in_c = s.cin;
  p.out_c = s.cout;
  p.kernel_h = p.kernel_w = s.k;
  p.stride_h = p.stride_w = s.stride;
  p.pad_top = p.pad_left = s.k / 2;
  p.out_h = p.out_w = out_size(s.hw, s.k, s.stride);
  p.groups = s.groups;
  p.act_min = 0;
  p.act_max = 6;
  if (conv2d_f32_prepare(&p) != Error::Ok) return state.SkipWithError("bad shape");
  const auto w = random_f32(size_t(s.cout) * (s.cin / s.groups) * s.k * s.k, 1);
  const auto x = random_f32(size_t(s.hw) * s.hw * s.cin, 2);
  const auto bias = random_f32(size_t(s.cout), 3);
  std::vector<float> packed(conv2d_f32_packed_weights_floats(p));
  conv2d_f32_pack_weights(p, w.data(), packed.data());
  std::vector<float> scratch(conv2d_f32_scratch_bytes(p) / sizeof(float) + 1);
  std::vector<float> y(size_t(p.out_h) * p.out_w * p.out_c);
  for (auto _ : state) {
    conv2d_f32(p, x.data(), packed.data(), bias.data(), y.data(), scratch.data());
    benchmark::DoNotOptimize(y.data());
  }
  const double macs = double(p.out_h) * p.out_w * p.out_c * (s.cin / s.groups) * s.k * s.k;
  state.counters["MAC/s"] = benchmark::Counter(macs, benchmark::Counter::kIsIterationInvariantRate);
}

// FullyConnected: ResNet-18 / MobileNetV2 classifiers (M = 1) and a batched one.
void gemm_int8(benchmark::State& state, KernelIsa isa) {
  if (!set_kernel_isa(isa)) return state.SkipWithError("ISA not supported on this CPU");
  const int32_t M = int32_t(state.range(0)), K = int32_t(state.range(1)), N = int32_t(state.range(2));
  const auto a = random_i8(size_t(M) * K, 1), b = random_i8(size_t(K) * N, 2);
  std::vector<int16_t> packed(qgemm_int8_packed_size(K, N));
  pack_weights_nk_int8(b.data(), K, N, true, packed.data());
  std::vector<int32_t> bias(static_cast<size_t>(N));
  fold_zero_point_into_bias(packed.data(), K, N, nullptr, 4, bias.data());
  std::vector<FixedMultiplier> mult(static_cast<size_t>(N));
  for (auto& m : mult) quantize_multiplier(0.0005, &m);
  std::vector<uint8_t> scratch(qgemm_int8_scratch_bytes(K));
  QGemmInt8Params p;
  p.rows = M;
  p.cols = N;
  p.depth = K;
  p.weights = packed.data();
  p.bias = bias.data();
  p.multipliers = mult.data();
  p.scratch = reinterpret_cast<int16_t*>(scratch.data());
  std::vector<int8_t> c(size_t(M) * N);
  for (auto _ : state) {
    qgemm_int8(p, a.data(), size_t(K), c.data(), size_t(N));
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(double(M) * N * K, benchmark::Counter::kIsIterationInvariantRate);
  reset_kernel_isa();
}

void gemm_f32_bench(benchmark::State& state) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto a = random_f32(size_t(M * K), 1), b = random_f32(size_t(K * N), 2);
  std::vector<float> packed(gemm_f32_packed_b_floats(K, N));
  gemm_f32_pack_b(b.data(), N, false, K, N, 1.0f, packed.data());
  std::vector<float> c(size_t(M * N));
  for (auto _ : state) {
    gemm_f32(M, N, K, a.data(), K, packed.data(), c.data(), N, GemmF32Epilogue{});
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(double(M) * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

// Attention-style batched product of two activations: [8][128][64] x [8][64][128].
void batch_matmul_int8_bench(benchmark::State& state, KernelIsa isa) {
  if (!set_kernel_isa(isa)) return state.SkipWithError("ISA not supported on this CPU");
  BatchMatMulInt8Params p;
  p.batch = 8;
  p.m = 128;
  p.k = 64;
  p.n = 128;
  p.a_batch_stride = int64_t(p.m) * p.k;
  p.b_batch_stride = int64_t(p.k) * p.n;
  p.a_zero_point = 2;
  p.b_zero_point = -3;
  quantize_multiplier(0.001, &p.multiplier);
  const auto a = random_i8(size_t(p.batch) * p.m * p.k, 1), b = random_i8(size_t(p.batch) * p.k * p.n, 2);
  std::vector<uint64_t> scratch(batch_matmul_int8_scratch_bytes(p) / 8 + 1);
  std::vector<int8_t> y(size_t(p.batch) * p.m * p.n);
  for (auto _ : state) {
    batch_matmul_int8(p, a.data(), b.data(), y.data(), scratch.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["MAC/s"] =
      benchmark::Counter(double(p.batch) * p.m * p.n * p.k, benchmark::Counter::kIsIterationInvariantRate);
  reset_kernel_isa();
}

void register_all() {
  for (const ConvShape& s : kConvs) {
    for (KernelIsa isa : kIsas)
      for (bool amx : {false, true}) {
        if (amx && isa != KernelIsa::kAvx512) continue;  // AMX tiles: only on top of the AVX-512 path
        benchmark::RegisterBenchmark(
            (std::string("conv_int8/") + s.name + "/" + kernel_isa_name(isa) + (amx ? "+amx" : "")).c_str(), conv_int8,
            s, isa, amx)
            ->Unit(benchmark::kMicrosecond);
      }
    benchmark::RegisterBenchmark((std::string("conv_f32/") + s.name).c_str(), conv_f32, s)->Unit(benchmark::kMicrosecond);
  }
  for (KernelIsa isa : kIsas) {
    benchmark::RegisterBenchmark((std::string("gemm_int8/") + kernel_isa_name(isa)).c_str(), gemm_int8, isa)
        ->Args({1, 512, 1000})
        ->Args({1, 1280, 1000})
        ->Args({196, 256, 256})
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("batch_matmul_int8/") + kernel_isa_name(isa)).c_str(),
                                 batch_matmul_int8_bench, isa)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("gemm_f32", gemm_f32_bench)
      ->Args({1, 512, 1000})
      ->Args({1, 1280, 1000})
      ->Args({196, 256, 256})
      ->Args({960, 256, 512})  // the register tiles alone: A block and B slices in cache
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace neutron

int main(int argc, char** argv) {
  neutron::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
