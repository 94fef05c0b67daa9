// Every NPU kernel, built with the microcode writer in the NPU's weight formats (int8, channels
// padded to num_macs = 8), run through the driver and the simulator, must equal the CPU int8
// kernel (or, for kernels with no CPU int8 counterpart, a naive integer reference) bit for bit.
// Random shapes include channel counts that are not multiples of 8, odd sizes, paddings, strides
// and dilations. Failures print the seed and the parameters.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <sstream>

#include "kernels/conv_int8.h"
#include "kernels/elementwise.h"
#include "kernels/elementwise_int8.h"
#include "kernels/gemm_int8.h"
#include "kernels/pool_int8.h"
#include "kernels/requantize.h"
#include "kernels/resize.h"
#include "kernels/softmax_int8.h"
#include "kernels/unary_int8.h"
#include "npu/npu_test_util.h"

namespace neutron::testing {
namespace {

using npu::ElemType;
using npu::MicrocodeImage;
using npu::MicrocodeWriter;
using npu::Opcode;
using npu::Region;

constexpr int kMacs = 8;
int round_up(int v, int m) { return (v + m - 1) / m * m; }

struct Case {
  MicrocodeImage img;
  std::vector<std::vector<uint8_t>> inputs;
  std::vector<int8_t> expected;
  std::string params;
};

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<int32_t> multiplier_words(const std::vector<FixedMultiplier>& m) {
  std::vector<int32_t> w;
  for (const auto& x : m) {
    w.push_back(x.multiplier);
    w.push_back(x.shift);
  }
  return w;
}

FixedMultiplier make_multiplier(double real) {
  FixedMultiplier m;
  EXPECT_TRUE(quantize_multiplier(real, &m)) << real;
  return m;
}

void random_act(std::mt19937& rng, int32_t* lo, int32_t* hi) {
  if (rng() % 2) {
    *lo = -128;
    *hi = 127;
  } else {
    *lo = rand_int(rng, -128, 0);
    *hi = rand_int(rng, *lo, 127);
  }
}

void finish(MicrocodeWriter& w, Case* c, uint32_t n_in, uint32_t scratch = 0) {
  w.set_num_inputs(n_in);
  w.set_num_outputs(1);
  w.set_scratch_size(scratch);
  auto img = w.finish();
  ASSERT_TRUE(img.ok()) << img.status().to_string() << c->params;
  c->img = std::move(img).value();
}

void expect_match(const Case& c, uint32_t seed, const RunOptions& opt = RunOptions()) {
  const DriverResult r = run_on_driver(c.img, c.inputs, opt);
  ASSERT_EQ(r.prepare, ENONE) << error_text(r.prepare) << "\nseed " << seed << " " << c.params;
  ASSERT_EQ(r.run, ENONE) << error_text(r.run) << "\nseed " << seed << " " << c.params;
  ASSERT_EQ(r.outputs.size(), 1u);
  ASSERT_EQ(r.outputs[0].size(), c.expected.size()) << "seed " << seed << " " << c.params;
  for (size_t i = 0; i < c.expected.size(); ++i)
    ASSERT_EQ(int(int8_t(r.outputs[0][i])), int(c.expected[i]))
        << "element " << i << " of " << c.expected.size() << ", seed " << seed << " " << c.params;
}

// ----------------------------------------------------------------------------------------------
// Conv2D / DepthwiseConv2D.

enum class ConvKind { kStandard, kDepthwise, kGrouped };

Case conv_case(std::mt19937& rng, ConvKind kind, bool via_scratch) {
  Case c;
  int N, H, W, cin, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow;
  do {
    N = rand_int(rng, 1, 2);
    H = rand_int(rng, 1, 11);
    W = rand_int(rng, 1, 11);
    switch (kind) {
      case ConvKind::kStandard:
        groups = 1;
        cin = rand_int(rng, 1, 19);
        cout = rand_int(rng, 1, 19);
        break;
      case ConvKind::kDepthwise:
        cin = rand_int(rng, 2, 19);
        groups = cin;
        cout = cin * rand_int(rng, 1, 2);
        break;
      default:
        groups = rand_int(rng, 2, 3);
        cin = groups * rand_int(rng, 1, 5);
        cout = groups * rand_int(rng, 1, 5);
        break;
    }
    kh = rand_int(rng, 1, 3);
    kw = rng() % 5 == 0 ? 5 : rand_int(rng, 1, 3);
    sh = rand_int(rng, 1, 3);
    sw = rand_int(rng, 1, 3);
    dh = rand_int(rng, 1, 2);
    dw = rand_int(rng, 1, 2);
    pt = rand_int(rng, 0, 2);
    pl = rand_int(rng, 0, 2);
    pb = rand_int(rng, 0, 2);
    pr = rand_int(rng, 0, 2);
    const int nh = H + pt + pb - dh * (kh - 1) - 1, nw = W + pl + pr - dw * (kw - 1) - 1;
    oh = nh < 0 ? 0 : nh / sh + 1;
    ow = nw < 0 ? 0 : nw / sw + 1;
  } while (oh < 1 || ow < 1);
  const int cin_g = cin / groups;
  const int K = kh * kw * cin_g;
  const int32_t zi = rand_int(rng, -20, 20), zo = rand_int(rng, -20, 20);
  int32_t qmin, qmax;
  random_act(rng, &qmin, &qmax);
  std::ostringstream os;
  os << "conv N" << N << " H" << H << " W" << W << " cin" << cin << " cout" << cout << " groups" << groups << " k"
     << kh << "x" << kw << " s" << sh << "x" << sw << " d" << dh << "x" << dw << " pads " << pt << "," << pl << ","
     << pb << "," << pr << " zi" << zi << " zo" << zo << " act [" << qmin << "," << qmax << "]"
     << (via_scratch ? " via scratch" : "");
  c.params = os.str();

  const std::vector<int8_t> in = random_int8(rng, size_t(N) * H * W * cin);
  const std::vector<int8_t> oihw = random_int8(rng, size_t(cout) * cin_g * kh * kw, -127, 127);
  std::vector<int32_t> bias(static_cast<size_t>(cout));
  for (auto& b : bias) b = rand_int(rng, -5000, 5000);
  std::vector<FixedMultiplier> mult(static_cast<size_t>(cout));
  for (auto& m : mult) m = make_multiplier(rand_real(rng, 0.5, 2.0) / (64.0 * std::sqrt(double(K))));

  // CPU reference.
  Conv2DInt8Params p;
  p.batch = N;
  p.in_h = H;
  p.in_w = W;
  p.in_c = cin;
  p.out_h = oh;
  p.out_w = ow;
  p.out_c = cout;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = sh;
  p.stride_w = sw;
  p.dilation_h = dh;
  p.dilation_w = dw;
  p.pad_top = pt;
  p.pad_left = pl;
  p.groups = groups;
  p.input_zero_point = zi;
  p.output_zero_point = zo;
  p.qmin = qmin;
  p.qmax = qmax;
  conv2d_int8_choose_path(&p);
  std::vector<int16_t> packed(conv2d_int8_packed_weights_size(p));
  std::vector<int32_t> packed_bias(static_cast<size_t>(cout));
  conv2d_int8_pack(p, oihw.data(), bias.data(), packed.data(), packed_bias.data());
  p.weights = packed.data();
  p.bias = packed_bias.data();
  p.multipliers = mult.data();
  std::vector<uint8_t> scratch(conv2d_int8_scratch_bytes(p) + 64);
  c.expected.resize(size_t(N) * oh * ow * cout);
  conv2d_int8_nhwc(p, in.data(), c.expected.data(), scratch.data());

  // NPU: weights [out_c_padded][kh][kw][in_c_padded], zero padded.
  const int icp = kind == ConvKind::kDepthwise ? 1 : round_up(cin_g, kMacs);
  const int ocp = round_up(cout, kMacs);
  std::vector<int8_t> npu_w(size_t(ocp) * kh * kw * icp, 0);
  for (int oc = 0; oc < cout; ++oc)
    for (int ic = 0; ic < cin_g; ++ic)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
          npu_w[((size_t(oc) * kh + y) * kw + x) * icp + ic] = oihw[((size_t(oc) * cin_g + ic) * kh + y) * kw + x];
  MicrocodeWriter w;
  npu::ConvArgs a{};
  a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {N, H, W, cin}, zi);
  const std::array<int32_t, 4> od = {N, oh, ow, cout};
  const uint32_t out = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, zo);
  a.output = via_scratch ? w.add_tensor(Region::kScratch, 0, 16, ElemType::kInt8, od, zo) : out;
  a.weights_offset = w.add_weights(npu_w);
  a.bias_offset = w.add_weights(bias);
  a.multipliers_offset = w.add_weights(multiplier_words(mult));
  a.kernel_h = kh;
  a.kernel_w = kw;
  a.stride_h = sh;
  a.stride_w = sw;
  a.dilation_h = dh;
  a.dilation_w = dw;
  a.pad_top = pt;
  a.pad_left = pl;
  a.pad_bottom = pb;
  a.pad_right = pr;
  a.groups = groups;
  a.in_c_padded = icp;
  a.out_c_padded = ocp;
  a.act_min = qmin;
  a.act_max = qmax;
  w.append(kind == ConvKind::kDepthwise ? Opcode::kDepthwiseConv2D : Opcode::kConv2D, a);
  if (via_scratch) w.append(Opcode::kCopy, npu::CopyArgs{a.output, out});
  c.inputs = {bytes_of(in)};
  finish(w, &c, 1, via_scratch ? uint32_t(16 + c.expected.size()) : 0);
  return c;
}

TEST(NpuKernels, Conv2DMatchesCpu) {
  const uint32_t seed = 1001;
  std::mt19937 rng(seed);
  for (int i = 0; i < 60; ++i) {
    const Case c = conv_case(rng, ConvKind::kStandard, i % 4 == 0);
    expect_match(c, seed, RunOptions{i % 3 != 0, i % 5 != 0});
  }
}

TEST(NpuKernels, DepthwiseConv2DMatchesCpu) {
  const uint32_t seed = 1002;
  std::mt19937 rng(seed);
  for (int i = 0; i < 60; ++i) expect_match(conv_case(rng, ConvKind::kDepthwise, i % 5 == 0), seed);
}

TEST(NpuKernels, GroupedConv2DMatchesCpu) {
  const uint32_t seed = 1003;
  std::mt19937 rng(seed);
  for (int i = 0; i < 40; ++i) expect_match(conv_case(rng, ConvKind::kGrouped, false), seed);
}

// ----------------------------------------------------------------------------------------------
// FullyConnected and BatchMatMul.

Case fc_case(std::mt19937& rng) {
  Case c;
  const int rows = rand_int(rng, 1, 5), K = rand_int(rng, 1, 45), N = rand_int(rng, 1, 37);
  const bool per_channel = rng() % 2;
  const int32_t za = rand_int(rng, -30, 30), zo = rand_int(rng, -30, 30);
  int32_t qmin, qmax;
  random_act(rng, &qmin, &qmax);
  std::ostringstream os;
  os << "fc rows" << rows << " K" << K << " N" << N << (per_channel ? " per-channel" : " per-tensor") << " za" << za
     << " zo" << zo;
  c.params = os.str();
  const std::vector<int8_t> a = random_int8(rng, size_t(rows) * K);
  const std::vector<int8_t> wnk = random_int8(rng, size_t(N) * K, -127, 127);
  std::vector<int32_t> bias(static_cast<size_t>(N));
  for (auto& b : bias) b = rand_int(rng, -3000, 3000);
  std::vector<FixedMultiplier> mult(per_channel ? size_t(N) : 1);
  for (auto& m : mult) m = make_multiplier(rand_real(rng, 0.5, 2.0) / (64.0 * std::sqrt(double(K))));
  std::vector<FixedMultiplier> all(size_t(N), mult[0]);
  if (per_channel) all = mult;

  QGemmInt8Params p;
  p.rows = rows;
  p.cols = N;
  p.depth = K;
  std::vector<int16_t> packed(qgemm_int8_packed_size(K, N));
  pack_weights_nk_int8(wnk.data(), K, N, false, packed.data());
  std::vector<int32_t> folded(static_cast<size_t>(N));
  fold_zero_point_into_bias(packed.data(), K, N, bias.data(), za, folded.data());
  std::vector<int16_t> scratch(qgemm_int8_scratch_bytes(K));
  p.weights = packed.data();
  p.bias = folded.data();
  p.multipliers = all.data();
  p.output_zero_point = zo;
  p.qmin = qmin;
  p.qmax = qmax;
  p.scratch = scratch.data();
  c.expected.resize(size_t(rows) * N);
  qgemm_int8(p, a.data(), size_t(K), c.expected.data(), size_t(N));

  const int kp = round_up(K, kMacs), np = round_up(N, kMacs);
  std::vector<int8_t> npu_w(size_t(np) * kp, 0);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) npu_w[size_t(n) * kp + k] = wnk[size_t(n) * K + k];
  MicrocodeWriter w;
  npu::FullyConnectedArgs f{};
  f.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 1, rows, K}, za);
  f.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 1, rows, N}, zo);
  f.weights_offset = w.add_weights(npu_w);
  f.bias_offset = w.add_weights(bias);
  f.multipliers_offset = w.add_weights(multiplier_words(mult));
  f.rows = rows;
  f.in_features = K;
  f.out_features = N;
  f.in_features_padded = kp;
  f.out_features_padded = np;
  f.per_channel = per_channel;
  f.act_min = qmin;
  f.act_max = qmax;
  w.append(Opcode::kFullyConnected, f);
  c.inputs = {bytes_of(a)};
  finish(w, &c, 1);
  return c;
}

TEST(NpuKernels, FullyConnectedMatchesCpu) {
  const uint32_t seed = 1004;
  std::mt19937 rng(seed);
  for (int i = 0; i < 60; ++i) expect_match(fc_case(rng), seed);
}

TEST(NpuKernels, BatchMatMulMatchesReference) {
  const uint32_t seed = 1005;
  std::mt19937 rng(seed);
  for (int it = 0; it < 40; ++it) {
    Case c;
    const int B = rand_int(rng, 1, 3), M = rand_int(rng, 1, 9), K = rand_int(rng, 1, 21), N = rand_int(rng, 1, 13);
    const int32_t za = rand_int(rng, -20, 20), zo = rand_int(rng, -20, 20);
    int32_t qmin, qmax;
    random_act(rng, &qmin, &qmax);
    const FixedMultiplier m = make_multiplier(rand_real(rng, 0.5, 2.0) / (64.0 * std::sqrt(double(K))));
    c.params = "bmm B" + std::to_string(B) + " M" + std::to_string(M) + " K" + std::to_string(K) + " N" + std::to_string(N);
    const auto a = random_int8(rng, size_t(B) * M * K), b = random_int8(rng, size_t(B) * K * N);
    c.expected.resize(size_t(B) * M * N);
    for (int bb = 0; bb < B; ++bb)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
          int64_t acc = 0;
          for (int k = 0; k < K; ++k)
            acc += int64_t(a[(size_t(bb) * M + i) * K + k] - za) * b[(size_t(bb) * K + k) * N + j];
          c.expected[(size_t(bb) * M + i) * N + j] = requantize_to_int8(int32_t(acc), m, zo, qmin, qmax);
        }
    MicrocodeWriter w;
    npu::BatchMatMulArgs ar{};
    ar.a = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, B, M, K}, za);
    ar.b = w.add_tensor(Region::kInput, 1, 0, ElemType::kInt8, {1, B, K, N}, 0);
    ar.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, B, M, N}, zo);
    ar.batch = B;
    ar.m = M;
    ar.k = K;
    ar.n = N;
    ar.multiplier = m.multiplier;
    ar.shift = m.shift;
    ar.act_min = qmin;
    ar.act_max = qmax;
    w.append(Opcode::kBatchMatMul, ar);
    c.inputs = {bytes_of(a), bytes_of(b)};
    finish(w, &c, 2);
    expect_match(c, seed);
  }
}

// ----------------------------------------------------------------------------------------------
// Pools.

TEST(NpuKernels, PoolsMatchCpu) {
  const uint32_t seed = 1006;
  std::mt19937 rng(seed);
  for (int it = 0; it < 90; ++it) {
    Case c;
    const Opcode op = it % 3 == 0 ? Opcode::kMaxPool2D : it % 3 == 1 ? Opcode::kAvgPool2D : Opcode::kGlobalAvgPool;
    int N = rand_int(rng, 1, 2), H = rand_int(rng, 1, 10), W = rand_int(rng, 1, 10), C = rand_int(rng, 1, 19);
    int kh = rand_int(rng, 1, 3), kw = rand_int(rng, 1, 3), sh = rand_int(rng, 1, 3), sw = rand_int(rng, 1, 3);
    int pt = rand_int(rng, 0, kh - 1), pl = rand_int(rng, 0, kw - 1), pb = rand_int(rng, 0, kh - 1),
        pr = rand_int(rng, 0, kw - 1);
    if (H + pt + pb < kh) H = kh;
    if (W + pl + pr < kw) W = kw;
    const bool ceil_mode = rng() % 3 == 0;
    auto out_len = [&](int in, int k, int s, int pad) {
      const int span = in + pad - k;
      return (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    };
    int oh = out_len(H, kh, sh, pt + pb), ow = out_len(W, kw, sw, pl + pr);
    const int32_t zi = rand_int(rng, -20, 20);
    const bool same_q = op == Opcode::kMaxPool2D && rng() % 2;
    const int32_t zo = same_q ? zi : rand_int(rng, -20, 20);
    const double si = rand_real(rng, 0.01, 0.1), so = same_q ? si : rand_real(rng, 0.01, 0.1);
    int32_t qmin, qmax;
    random_act(rng, &qmin, &qmax);
    PoolInt8Params p;
    p.batch = N;
    p.in_h = H;
    p.in_w = W;
    p.channels = C;
    p.input_zero_point = zi;
    p.output_zero_point = zo;
    p.qmin = qmin;
    p.qmax = qmax;
    npu::PoolArgs a{};
    a.act_min = qmin;
    a.act_max = qmax;
    std::vector<FixedMultiplier> counts;
    if (op == Opcode::kGlobalAvgPool) {
      oh = ow = 1;
      p.kernel_h = H;
      p.kernel_w = W;
      p.multiplier = make_multiplier(si / (so * H * W));
      a.multiplier = p.multiplier.multiplier;
      a.shift = p.multiplier.shift;
    } else {
      p.kernel_h = a.kernel_h = kh;
      p.kernel_w = a.kernel_w = kw;
      p.stride_h = a.stride_h = sh;
      p.stride_w = a.stride_w = sw;
      p.pad_top = a.pad_top = pt;
      p.pad_left = a.pad_left = pl;
      p.pad_bottom = a.pad_bottom = pb;
      p.pad_right = a.pad_right = pr;
      if (op == Opcode::kMaxPool2D) {
        p.requantize = !same_q;
        if (p.requantize) {
          p.multiplier = make_multiplier(si / so);
          a.multiplier = p.multiplier.multiplier;
          a.shift = p.multiplier.shift;
        }
      } else {
        a.count_include_pad = int32_t(rng() % 2);
        p.count_include_pad = a.count_include_pad != 0;
        counts.resize(size_t(kh * kw) + 1);
        counts[0] = FixedMultiplier{0, 1};
        for (int k = 1; k <= kh * kw; ++k) counts[size_t(k)] = make_multiplier(si / (so * k));
        p.count_multipliers = counts.data();
      }
    }
    p.out_h = oh;
    p.out_w = ow;
    std::ostringstream os;
    os << npu::opcode_name(op) << " N" << N << " H" << H << " W" << W << " C" << C << " k" << kh << "x" << kw << " s"
       << sh << "x" << sw << " pads " << pt << "," << pl << "," << pb << "," << pr << " out " << oh << "x" << ow
       << (ceil_mode ? " ceil" : "") << " count_include_pad " << p.count_include_pad;
    c.params = os.str();
    const auto in = random_int8(rng, size_t(N) * H * W * C);
    c.expected.resize(size_t(N) * oh * ow * C);
    std::vector<uint8_t> scratch(pool_int8_scratch_bytes(p) + 16);
    if (op == Opcode::kMaxPool2D)
      max_pool_int8_nhwc(p, in.data(), c.expected.data());
    else if (op == Opcode::kAvgPool2D)
      average_pool_int8_nhwc(p, in.data(), c.expected.data(), scratch.data());
    else
      global_average_pool_int8_nhwc(p, in.data(), c.expected.data(), scratch.data());
    MicrocodeWriter w;
    a.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {N, H, W, C}, zi);
    a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {N, oh, ow, C}, zo);
    if (op == Opcode::kAvgPool2D) a.multipliers_offset = w.add_weights(multiplier_words(counts));
    w.append(op, a);
    c.inputs = {bytes_of(in)};
    finish(w, &c, 1);
    expect_match(c, seed);
  }
}

// ----------------------------------------------------------------------------------------------
// Elementwise with broadcasting.

TEST(NpuKernels, ElementwiseMatchesCpu) {
  const uint32_t seed = 1007;
  std::mt19937 rng(seed);
  for (int it = 0; it < 100; ++it) {
    Case c;
    const int opi = it % 5;
    const BinaryInt8Op cpu_op[] = {BinaryInt8Op::Add, BinaryInt8Op::Sub, BinaryInt8Op::Mul, BinaryInt8Op::Max,
                                   BinaryInt8Op::Min};
    std::array<int32_t, 4> od = {rand_int(rng, 1, 2), rand_int(rng, 1, 6), rand_int(rng, 1, 6), rand_int(rng, 1, 13)};
    std::array<int32_t, 4> ad = od, bd = od;
    for (int k = 0; k < 4; ++k) {
      if (rng() % 3 == 0) ad[size_t(k)] = 1;
      if (rng() % 3 == 0) bd[size_t(k)] = 1;
    }
    for (int k = 0; k < 4; ++k)
      if (ad[size_t(k)] == 1 && bd[size_t(k)] == 1) od[size_t(k)] = 1;
    const double sa = rand_real(rng, 0.01, 0.2), sb = rand_real(rng, 0.01, 0.2), so = rand_real(rng, 0.02, 0.3);
    const int32_t za = rand_int(rng, -30, 30), zb = rand_int(rng, -30, 30), zo = rand_int(rng, -30, 30);
    int32_t qmin, qmax;
    random_act(rng, &qmin, &qmax);
    BinaryInt8Params p;
    ASSERT_TRUE(prepare_binary_int8(cpu_op[opi], sa, za, sb, zb, opi == 2 ? so * 20 : so, zo, qmin, qmax, &p));
    const int64_t a64[4] = {ad[0], ad[1], ad[2], ad[3]}, b64[4] = {bd[0], bd[1], bd[2], bd[3]};
    BroadcastParams bp;
    ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(a64, 4), Span<const int64_t>(b64, 4), &bp));
    const auto a = random_int8(rng, size_t(ad[0]) * ad[1] * ad[2] * ad[3]);
    const auto b = random_int8(rng, size_t(bd[0]) * bd[1] * bd[2] * bd[3]);
    c.expected.resize(size_t(bp.out_count));
    binary_int8(p, bp, a.data(), b.data(), c.expected.data());
    std::ostringstream os;
    os << "elementwise op " << opi << " a [" << ad[0] << "," << ad[1] << "," << ad[2] << "," << ad[3] << "] b [" << bd[0]
       << "," << bd[1] << "," << bd[2] << "," << bd[3] << "]";
    c.params = os.str();

    MicrocodeWriter w;
    npu::ElementwiseArgs e{};
    e.a = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, ad, za);
    e.b = w.add_tensor(Region::kInput, 1, 0, ElemType::kInt8, bd, zb);
    e.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, zo);
    e.op = opi;
    e.act_min = qmin;
    e.act_max = qmax;
    if (opi <= 1) {
      FixedMultiplierPair m;
      ASSERT_TRUE(quantize_multiplier_pair(sa / so, sb / so, &m));
      e.multiplier_a = m.multiplier_a;
      e.multiplier_b = m.multiplier_b;
      e.shift = m.shift;
    } else if (opi == 2) {
      const FixedMultiplier m = make_multiplier(sa * sb / (so * 20));
      e.multiplier_a = m.multiplier;
      e.shift = m.shift;
    } else {
      std::vector<int8_t> tables(512);
      for (int q = -128; q < 128; ++q) {
        tables[size_t(q + 128)] = int8_t(quantize_real(double(q - za) * sa, so, zo, -128, 127));
        tables[size_t(q + 128 + 256)] = int8_t(quantize_real(double(q - zb) * sb, so, zo, -128, 127));
      }
      e.table_offset = w.add_weights(tables);
    }
    w.append(Opcode::kElementwise, e);
    c.inputs = {bytes_of(a), bytes_of(b)};
    finish(w, &c, 2);
    expect_match(c, seed);
  }
}

// ----------------------------------------------------------------------------------------------
// Table and Softmax.

TEST(NpuKernels, TableMatchesCpu) {
  const uint32_t seed = 1008;
  std::mt19937 rng(seed);
  for (int it = 0; it < 10; ++it) {
    Case c;
    UnaryParams up;
    up.op = it % 2 ? UnaryOp::Sigmoid : UnaryOp::Tanh;
    int8_t table[256];
    build_unary_int8_table(up, rand_real(rng, 0.01, 0.1), rand_int(rng, -10, 10), 1.0 / 256, -128, table);
    const int n = rand_int(rng, 1, 300);
    const auto in = random_int8(rng, size_t(n));
    c.expected.resize(size_t(n));
    unary_int8_lut(table, in.data(), c.expected.data(), size_t(n));
    MicrocodeWriter w;
    npu::TableArgs t{};
    const bool in_place = it % 3 == 0;
    t.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 1, 1, n});
    t.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 1, 1, n});
    t.table_offset = w.add_weights(table, 256);
    if (in_place) {
      // input -> scratch, table in place on scratch, scratch -> output.
      const uint32_t s = w.add_tensor(Region::kScratch, 0, 0, ElemType::kInt8, {1, 1, 1, n});
      w.append(Opcode::kCopy, npu::CopyArgs{t.input, s});
      w.append(Opcode::kTable, npu::TableArgs{s, s, t.table_offset});
      w.append(Opcode::kCopy, npu::CopyArgs{s, t.output});
    } else {
      w.append(Opcode::kTable, t);
    }
    c.params = "table n" + std::to_string(n) + (in_place ? " in place" : "");
    c.inputs = {bytes_of(in)};
    finish(w, &c, 1, in_place ? uint32_t(n) : 0);
    expect_match(c, seed);
  }
}

// Gather (embedding lookup): an int8 table in the weights, int32 or int64 indices from input 1;
// random shapes against a plain reference; a hostile index fails the run, bad args the prepare.
TEST(NpuKernels, GatherMatchesReferenceAndChecksIndices) {
  const uint32_t seed = 1020;
  std::mt19937 rng(seed);
  for (int it = 0; it < 12; ++it) {
    const bool i64 = it % 2 == 0;
    const int rows = rand_int(rng, 1, 40), inner = rand_int(rng, 1, 33), count = rand_int(rng, 1, 17);
    const auto table = random_int8(rng, size_t(rows) * inner);
    std::vector<int64_t> idx(static_cast<size_t>(count));
    for (auto& v : idx) v = rand_int(rng, -rows, rows - 1);
    auto build = [&](const std::vector<int64_t>& ids, int32_t count_arg, Case* c) {
      MicrocodeWriter w;
      npu::GatherArgs a{};
      const uint32_t off = w.add_weights(table.data(), table.size());
      a.input = w.add_tensor(Region::kWeights, 0, off, ElemType::kInt8, {1, 1, rows, inner});
      a.indices = w.add_tensor(Region::kInput, 0, 0, i64 ? ElemType::kInt64 : ElemType::kInt32, {1, 1, 1, count});
      a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 1, count, inner});
      a.outer = 1;
      a.axis_dim = rows;
      a.inner = inner;
      a.count = count_arg;
      w.append(Opcode::kGather, a);
      if (i64) {
        c->inputs = {bytes_of(ids)};
      } else {
        std::vector<int32_t> i32(ids.begin(), ids.end());
        c->inputs = {bytes_of(i32)};
      }
      finish(w, c, 1);
    };
    Case c;
    c.params = "gather rows " + std::to_string(rows) + " inner " + std::to_string(inner) + " count " +
               std::to_string(count) + (i64 ? " i64" : " i32");
    for (int64_t k : idx) {
      const int64_t r = k < 0 ? k + rows : k;
      for (int j = 0; j < inner; ++j) c.expected.push_back(table[size_t(r * inner + j)]);
    }
    build(idx, count, &c);
    expect_match(c, seed);
    // Out of range (one past either end): the run fails.
    std::vector<int64_t> bad = idx;
    bad[size_t(rand_int(rng, 0, count - 1))] = it % 4 < 2 ? rows : -rows - 1;
    Case b;
    build(bad, count, &b);
    const DriverResult rb = run_on_driver(b.img, b.inputs);
    EXPECT_EQ(rb.prepare, ENONE) << c.params;
    EXPECT_NE(rb.run, ENONE) << c.params;
    // A count that disagrees with the tensors: refused at prepare.
    Case m;
    build(idx, count + 1, &m);
    EXPECT_NE(run_on_driver(m.img, m.inputs).prepare, ENONE) << c.params;
  }
}

TEST(NpuKernels, SoftmaxMatchesCpu) {
  const uint32_t seed = 1009;
  std::mt19937 rng(seed);
  for (int it = 0; it < 20; ++it) {
    Case c;
    const std::array<int32_t, 4> d = {1, rand_int(rng, 1, 3), rand_int(rng, 1, 3), rand_int(rng, 1, 40)};
    const double si = rand_real(rng, 0.02, 0.3);
    const int32_t zi = rand_int(rng, -20, 20);
    SoftmaxInt8Params p;
    double table[256];
    prepare_softmax_int8(si, 1.0 / 256, -128, table, &p);
    p.outer = int64_t(d[0]) * d[1] * d[2];
    p.axis = d[3];
    p.inner = 1;
    const auto in = random_int8(rng, size_t(p.outer * p.axis));
    c.expected.resize(in.size());
    softmax_int8(p, in.data(), c.expected.data());
    std::vector<double> blob(p.exp_table, p.exp_table + 256);
    blob.push_back(p.out_scale);
    MicrocodeWriter w;
    npu::SoftmaxArgs s{};
    s.input = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, d, zi);
    s.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, d, -128);
    s.table_offset = w.add_weights(blob);
    w.append(Opcode::kSoftmax, s);
    c.params = "softmax C" + std::to_string(d[3]);
    c.inputs = {bytes_of(in)};
    finish(w, &c, 1);
    expect_match(c, seed);
  }
}

// ----------------------------------------------------------------------------------------------
// Data movement: Pad, Slice, Concat, Transpose, Resize, Reduce.

size_t idx4(const std::array<int32_t, 4>& d, int n, int h, int w, int c) {
  return ((size_t(n) * d[1] + h) * d[2] + w) * d[3] + c;
}
std::array<int32_t, 4> rand_dims(std::mt19937& rng, int max_c = 11) {
  return {rand_int(rng, 1, 2), rand_int(rng, 1, 5), rand_int(rng, 1, 5), rand_int(rng, 1, max_c)};
}

TEST(NpuKernels, DataMovementMatchesReference) {
  const uint32_t seed = 1010;
  std::mt19937 rng(seed);
  for (int it = 0; it < 120; ++it) {
    Case c;
    MicrocodeWriter w;
    const int kind = it % 6;
    const auto id = rand_dims(rng);
    const auto in = random_int8(rng, size_t(id[0]) * id[1] * id[2] * id[3]);
    const uint32_t tin = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, id, 3);
    std::array<int32_t, 4> od = id;
    std::ostringstream os;
    os << "kind " << kind << " in [" << id[0] << "," << id[1] << "," << id[2] << "," << id[3] << "]";
    if (kind == 0) {  // Pad
      npu::PadArgs a{};
      a.mode = int32_t(rng() % 2);
      a.value = rand_int(rng, -128, 127);
      for (int k = 0; k < 4; ++k) {
        const int lim = a.mode == 1 ? id[size_t(k)] - 1 : 2;
        a.pad_before[k] = rand_int(rng, 0, std::min(lim, 2));
        a.pad_after[k] = rand_int(rng, 0, std::min(lim, 2));
        od[size_t(k)] = id[size_t(k)] + a.pad_before[k] + a.pad_after[k];
      }
      c.expected.resize(size_t(od[0]) * od[1] * od[2] * od[3]);
      for (int n = 0; n < od[0]; ++n)
        for (int h = 0; h < od[1]; ++h)
          for (int x = 0; x < od[2]; ++x)
            for (int ch = 0; ch < od[3]; ++ch) {
              int src[4] = {n - a.pad_before[0], h - a.pad_before[1], x - a.pad_before[2], ch - a.pad_before[3]};
              bool inside = true;
              for (int k = 0; k < 4; ++k) {
                if (src[k] < 0 || src[k] >= id[size_t(k)]) {
                  if (a.mode == 0) inside = false;
                  else src[k] = src[k] < 0 ? -src[k] : 2 * (id[size_t(k)] - 1) - src[k];
                }
              }
              c.expected[idx4(od, n, h, x, ch)] = inside ? in[idx4(id, src[0], src[1], src[2], src[3])] : int8_t(a.value);
            }
      a.input = tin;
      a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, 3);
      w.append(Opcode::kPad, a);
      os << " pad mode " << a.mode;
    } else if (kind == 1) {  // Slice
      npu::SliceArgs a{};
      for (int k = 0; k < 4; ++k) {
        od[size_t(k)] = rand_int(rng, 1, id[size_t(k)]);
        a.begin[k] = rand_int(rng, 0, id[size_t(k)] - od[size_t(k)]);
      }
      c.expected.resize(size_t(od[0]) * od[1] * od[2] * od[3]);
      for (int n = 0; n < od[0]; ++n)
        for (int h = 0; h < od[1]; ++h)
          for (int x = 0; x < od[2]; ++x)
            for (int ch = 0; ch < od[3]; ++ch)
              c.expected[idx4(od, n, h, x, ch)] =
                  in[idx4(id, n + a.begin[0], h + a.begin[1], x + a.begin[2], ch + a.begin[3])];
      a.input = tin;
      a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, 3);
      w.append(Opcode::kSlice, a);
    } else if (kind == 2) {  // Concat of 1..4 inputs (the input itself plus slices of a second input)
      npu::ConcatArgs a{};
      a.axis = rand_int(rng, 0, 3);
      a.num_inputs = uint32_t(rand_int(rng, 1, 4));
      std::vector<std::array<int32_t, 4>> dims;
      std::vector<std::vector<int8_t>> datas;
      for (uint32_t i = 0; i < a.num_inputs; ++i) {
        std::array<int32_t, 4> d = id;
        d[size_t(a.axis)] = rand_int(rng, 1, 4);
        dims.push_back(d);
        datas.push_back(random_int8(rng, size_t(d[0]) * d[1] * d[2] * d[3]));
      }
      // Inputs live in input 1 at increasing offsets (input 0 is unused here).
      std::vector<uint8_t> packed_in;
      od[size_t(a.axis)] = 0;
      for (uint32_t i = 0; i < a.num_inputs; ++i) {
        a.inputs[i] = w.add_tensor(Region::kInput, 1, uint32_t(packed_in.size()), ElemType::kInt8, dims[i], 3);
        packed_in.insert(packed_in.end(), datas[i].begin(), datas[i].end());
        od[size_t(a.axis)] += dims[i][size_t(a.axis)];
      }
      c.expected.resize(size_t(od[0]) * od[1] * od[2] * od[3]);
      for (int n = 0; n < od[0]; ++n)
        for (int h = 0; h < od[1]; ++h)
          for (int x = 0; x < od[2]; ++x)
            for (int ch = 0; ch < od[3]; ++ch) {
              int pos[4] = {n, h, x, ch};
              uint32_t i = 0;
              while (pos[a.axis] >= dims[i][size_t(a.axis)]) pos[a.axis] -= dims[i++][size_t(a.axis)];
              c.expected[idx4(od, n, h, x, ch)] = datas[i][idx4(dims[i], pos[0], pos[1], pos[2], pos[3])];
            }
      a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, 3);
      w.append(Opcode::kConcat, a);
      c.inputs = {bytes_of(in), packed_in};
      os << " concat axis " << a.axis << " inputs " << a.num_inputs;
    } else if (kind == 3) {  // Transpose
      npu::TransposeArgs a{};
      int perm[4] = {0, 1, 2, 3};
      std::shuffle(perm, perm + 4, rng);
      for (int k = 0; k < 4; ++k) {
        a.perm[k] = perm[k];
        od[size_t(k)] = id[size_t(perm[k])];
      }
      c.expected.resize(in.size());
      for (int n = 0; n < od[0]; ++n)
        for (int h = 0; h < od[1]; ++h)
          for (int x = 0; x < od[2]; ++x)
            for (int ch = 0; ch < od[3]; ++ch) {
              const int o[4] = {n, h, x, ch};
              int s[4];
              for (int k = 0; k < 4; ++k) s[perm[k]] = o[k];
              c.expected[idx4(od, n, h, x, ch)] = in[idx4(id, s[0], s[1], s[2], s[3])];
            }
      a.input = tin;
      a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, 3);
      w.append(Opcode::kTranspose, a);
      os << " perm " << perm[0] << perm[1] << perm[2] << perm[3];
    } else if (kind == 4) {  // Resize nearest (asymmetric, floor: PyTorch's upsample nearest)
      od[1] = id[1] * rand_int(rng, 1, 3) + (rng() % 3 == 0 ? 1 : 0);
      od[2] = id[2] * rand_int(rng, 1, 3);
      std::vector<int64_t> th(static_cast<size_t>(od[1])), tw(static_cast<size_t>(od[2]));
      resize_nearest_table(ResizeCoordMode::kAsymmetric, ResizeNearestMode::kFloor, id[1], od[1],
                           double(od[1]) / id[1], th.data());
      resize_nearest_table(ResizeCoordMode::kAsymmetric, ResizeNearestMode::kFloor, id[2], od[2],
                           double(od[2]) / id[2], tw.data());
      std::vector<int32_t> tables;
      for (int64_t v : th) tables.push_back(int32_t(v));
      for (int64_t v : tw) tables.push_back(int32_t(v));
      c.expected.resize(size_t(od[0]) * od[1] * od[2] * od[3]);
      for (int n = 0; n < od[0]; ++n)
        for (int h = 0; h < od[1]; ++h)
          for (int x = 0; x < od[2]; ++x)
            for (int ch = 0; ch < od[3]; ++ch)
              c.expected[idx4(od, n, h, x, ch)] = in[idx4(id, n, int(th[size_t(h)]), int(tw[size_t(x)]), ch)];
      npu::ResizeArgs a{};
      a.input = tin;
      a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, 3);
      a.mode = 0;
      a.table_offset = w.add_weights(tables);
      w.append(Opcode::kResize, a);
    } else {  // Reduce
      npu::ReduceArgs a{};
      a.op = rand_int(rng, 0, 3);
      a.axes_mask = rand_int(rng, 0, 15);
      int64_t count = 1;
      for (int k = 0; k < 4; ++k)
        if ((a.axes_mask >> k) & 1) {
          od[size_t(k)] = 1;
          count *= id[size_t(k)];
        }
      const int32_t zo = a.op == 1 || a.op == 2 ? 3 : rand_int(rng, -10, 10);
      const FixedMultiplier m = make_multiplier(a.op == 0 ? 1.3 / double(count) : 0.7);
      a.multiplier = m.multiplier;
      a.shift = m.shift;
      std::vector<int64_t> acc(size_t(od[0]) * od[1] * od[2] * od[3], 0);
      std::vector<int> best(acc.size(), a.op == 1 ? -1000 : 1000);
      for (int n = 0; n < id[0]; ++n)
        for (int h = 0; h < id[1]; ++h)
          for (int x = 0; x < id[2]; ++x)
            for (int ch = 0; ch < id[3]; ++ch) {
              const int o[4] = {n, h, x, ch};
              int q[4];
              for (int k = 0; k < 4; ++k) q[k] = ((a.axes_mask >> k) & 1) ? 0 : o[k];
              const size_t oi = idx4(od, q[0], q[1], q[2], q[3]);
              const int v = in[idx4(id, n, h, x, ch)];
              acc[oi] += v - 3;
              best[oi] = a.op == 1 ? std::max(best[oi], v) : std::min(best[oi], v);
            }
      c.expected.resize(acc.size());
      for (size_t i = 0; i < acc.size(); ++i)
        c.expected[i] = a.op == 1 || a.op == 2 ? int8_t(best[i]) : requantize_to_int8(int32_t(acc[i]), m, zo);
      a.input = tin;
      a.output = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, od, zo);
      w.append(Opcode::kReduce, a);
      os << " reduce op " << a.op << " mask " << a.axes_mask;
    }
    if (c.inputs.empty()) c.inputs = {bytes_of(in)};
    c.params = os.str();
    finish(w, &c, uint32_t(c.inputs.size()));
    expect_match(c, seed);
  }
}

// ----------------------------------------------------------------------------------------------
// Prefetch through the application's copy/wait callbacks.

int g_copies = 0, g_waits = 0;
uint32_t g_copy_bytes = 0;
void count_copy(void* dst, void* src, uint32_t size, uint32_t) {
  std::memcpy(dst, src, size);
  ++g_copies;
  g_copy_bytes += size;
}
void count_wait(uint32_t) { ++g_waits; }

TEST(NpuKernels, PrefetchGoesThroughTheCallbacks) {
  const uint32_t seed = 1011;
  std::mt19937 rng(seed);
  Case c = conv_case(rng, ConvKind::kStandard, false);
  // Rebuild with a prefetch of the whole weights section in front.
  npu::MicrocodeView v;
  ASSERT_TRUE(npu::validate_microcode(c.img.microcode.data(), c.img.microcode.size(), c.img.weights.size(), &v).ok());
  MicrocodeWriter w;
  for (uint32_t i = 0; i < v.num_tensors(); ++i) w.add_tensor(v.tensor(i));
  w.add_weights(c.img.weights.data(), c.img.weights.size());
  w.append(Opcode::kPrefetch, npu::PrefetchArgs{0, uint32_t(c.img.weights.size()), 0, 1});
  w.append(Opcode::kWaitPrefetch, npu::WaitPrefetchArgs{1});
  npu::InstructionCursor cur(v);
  npu::Instruction inst;
  while (cur.next(&inst)) w.append_raw(inst.opcode, inst.args, size_t(inst.arg_words) * 4);
  w.set_sram_scratch_size(uint32_t(c.img.weights.size()));
  finish(w, &c, 1);
  NeutronConfig cfg = {&count_copy, &count_wait};
  neutronInit();
  ASSERT_EQ(neutronSetConfig(&cfg), ENONE);
  g_copies = g_waits = 0;
  g_copy_bytes = 0;
  expect_match(c, seed);
  EXPECT_EQ(g_copies, 1);
  EXPECT_EQ(g_waits, 1);
  EXPECT_EQ(g_copy_bytes, c.img.weights.size());
  NeutronConfig none = {nullptr, nullptr};
  neutronSetConfig(&none);
}

// ----------------------------------------------------------------------------------------------
// A small network through scratch: conv -> dwconv -> add (residual) -> global pool -> fc -> softmax.

TEST(NpuKernels, ChainThroughScratchMatchesCpu) {
  const uint32_t seed = 1012;
  std::mt19937 rng(seed);
  const int H = 9, W = 7, C0 = 3, C1 = 12, NC = 10;
  const auto x = random_int8(rng, size_t(H) * W * C0);
  MicrocodeWriter w;
  const uint32_t tin = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, H, W, C0}, 5);
  const uint32_t t1 = w.add_tensor(Region::kScratch, 0, 0, ElemType::kInt8, {1, H, W, C1}, -3);
  const uint32_t t2 = w.add_tensor(Region::kScratch, 0, 1024, ElemType::kInt8, {1, H, W, C1}, 2);
  const uint32_t t3 = w.add_tensor(Region::kScratch, 0, 2048, ElemType::kInt8, {1, H, W, C1}, 0);
  const uint32_t t4 = w.add_tensor(Region::kScratch, 0, 0, ElemType::kInt8, {1, 1, 1, C1}, -1);
  const uint32_t t5 = w.add_tensor(Region::kScratch, 0, 64, ElemType::kInt8, {1, 1, 1, NC}, 4);
  const uint32_t tout = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 1, 1, NC}, -128);

  // CPU side, step by step.
  auto conv = [&](const std::vector<int8_t>& in, int cin, int cout, int groups, int k, int32_t zi, int32_t zo,
                  uint32_t tensor_in, uint32_t tensor_out) {
    Conv2DInt8Params p;
    p.in_h = H;
    p.in_w = W;
    p.in_c = cin;
    p.out_h = H;
    p.out_w = W;
    p.out_c = cout;
    p.kernel_h = p.kernel_w = k;
    p.pad_top = p.pad_left = k / 2;
    p.groups = groups;
    p.input_zero_point = zi;
    p.output_zero_point = zo;
    p.qmin = zo;  // fused ReLU
    conv2d_int8_choose_path(&p);
    const int cin_g = cin / groups;
    const auto oihw = random_int8(rng, size_t(cout) * cin_g * k * k, -127, 127);
    std::vector<int32_t> bias(static_cast<size_t>(cout));
    for (auto& b : bias) b = rand_int(rng, -2000, 2000);
    std::vector<FixedMultiplier> mult(static_cast<size_t>(cout));
    for (auto& m : mult) m = make_multiplier(rand_real(rng, 0.5, 2) / (48.0 * std::sqrt(double(k * k * cin_g))));
    std::vector<int16_t> packed(conv2d_int8_packed_weights_size(p));
    std::vector<int32_t> pb(static_cast<size_t>(cout));
    conv2d_int8_pack(p, oihw.data(), bias.data(), packed.data(), pb.data());
    p.weights = packed.data();
    p.bias = pb.data();
    p.multipliers = mult.data();
    std::vector<uint8_t> scratch(conv2d_int8_scratch_bytes(p) + 64);
    std::vector<int8_t> out(size_t(H) * W * cout);
    conv2d_int8_nhwc(p, in.data(), out.data(), scratch.data());
    const int icp = groups > 1 ? 1 : round_up(cin_g, kMacs), ocp = round_up(cout, kMacs);
    std::vector<int8_t> nw(size_t(ocp) * k * k * icp, 0);
    for (int oc = 0; oc < cout; ++oc)
      for (int ic = 0; ic < cin_g; ++ic)
        for (int y = 0; y < k; ++y)
          for (int xx = 0; xx < k; ++xx)
            nw[((size_t(oc) * k + y) * k + xx) * icp + ic] = oihw[((size_t(oc) * cin_g + ic) * k + y) * k + xx];
    npu::ConvArgs a{};
    a.input = tensor_in;
    a.output = tensor_out;
    a.weights_offset = w.add_weights(nw);
    a.bias_offset = w.add_weights(bias);
    a.multipliers_offset = w.add_weights(multiplier_words(mult));
    a.kernel_h = a.kernel_w = k;
    a.stride_h = a.stride_w = a.dilation_h = a.dilation_w = 1;
    a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = k / 2;
    a.groups = groups;
    a.in_c_padded = icp;
    a.out_c_padded = ocp;
    a.act_min = zo;
    a.act_max = 127;
    w.append(groups > 1 ? Opcode::kDepthwiseConv2D : Opcode::kConv2D, a);
    return out;
  };
  const auto y1 = conv(x, C0, C1, 1, 3, 5, -3, tin, t1);
  const auto y2 = conv(y1, C1, C1, C1, 3, -3, 2, t1, t2);
  // Residual add.
  BinaryInt8Params ap;
  ASSERT_TRUE(prepare_binary_int8(BinaryInt8Op::Add, 0.05, -3, 0.04, 2, 0.07, 0, -128, 127, &ap));
  const int64_t d[4] = {1, H, W, C1};
  BroadcastParams bp;
  ASSERT_TRUE(prepare_broadcast(Span<const int64_t>(d, 4), Span<const int64_t>(d, 4), &bp));
  std::vector<int8_t> y3(y1.size());
  binary_int8(ap, bp, y1.data(), y2.data(), y3.data());
  FixedMultiplierPair mp;
  ASSERT_TRUE(quantize_multiplier_pair(0.05 / 0.07, 0.04 / 0.07, &mp));
  npu::ElementwiseArgs e{};
  e.a = t1;
  e.b = t2;
  e.output = t3;
  e.op = 0;
  e.multiplier_a = mp.multiplier_a;
  e.multiplier_b = mp.multiplier_b;
  e.shift = mp.shift;
  e.act_min = -128;
  e.act_max = 127;
  w.append(Opcode::kElementwise, e);
  // Global average pool.
  PoolInt8Params pp;
  pp.in_h = H;
  pp.in_w = W;
  pp.channels = C1;
  pp.out_h = pp.out_w = 1;
  pp.kernel_h = H;
  pp.kernel_w = W;
  pp.input_zero_point = 0;
  pp.output_zero_point = -1;
  pp.multiplier = make_multiplier(0.07 / (0.05 * H * W));
  std::vector<int8_t> y4(static_cast<size_t>(C1));
  std::vector<uint8_t> ps(pool_int8_scratch_bytes(pp));
  global_average_pool_int8_nhwc(pp, y3.data(), y4.data(), ps.data());
  npu::PoolArgs ga{};
  ga.input = t3;
  ga.output = t4;
  ga.multiplier = pp.multiplier.multiplier;
  ga.shift = pp.multiplier.shift;
  ga.act_min = -128;
  ga.act_max = 127;
  w.append(Opcode::kGlobalAvgPool, ga);
  // FC.
  const auto fw = random_int8(rng, size_t(NC) * C1, -127, 127);
  std::vector<int32_t> fb(size_t(NC), 100);
  const FixedMultiplier fm = make_multiplier(0.01);
  std::vector<FixedMultiplier> fms(size_t(NC), fm);
  std::vector<int16_t> fpk(size_t(NC) * C1);
  pack_weights_nk_int8(fw.data(), C1, NC, false, fpk.data());
  std::vector<int32_t> ffold(static_cast<size_t>(NC));
  fold_zero_point_into_bias(fpk.data(), C1, NC, fb.data(), -1, ffold.data());
  std::vector<int16_t> gs(qgemm_int8_scratch_bytes(C1));
  QGemmInt8Params gp;
  gp.rows = 1;
  gp.cols = NC;
  gp.depth = C1;
  gp.weights = fpk.data();
  gp.bias = ffold.data();
  gp.multipliers = fms.data();
  gp.output_zero_point = 4;
  gp.scratch = gs.data();
  std::vector<int8_t> y5(static_cast<size_t>(NC));
  qgemm_int8(gp, y4.data(), size_t(C1), y5.data(), size_t(NC));
  std::vector<int8_t> fpad(size_t(16) * 16, 0);
  for (int n = 0; n < NC; ++n)
    for (int k = 0; k < C1; ++k) fpad[size_t(n) * 16 + k] = fw[size_t(n) * C1 + k];
  npu::FullyConnectedArgs fa{};
  fa.input = t4;
  fa.output = t5;
  fa.weights_offset = w.add_weights(fpad);
  fa.bias_offset = w.add_weights(fb);
  fa.multipliers_offset = w.add_weights(multiplier_words({fm}));
  fa.rows = 1;
  fa.in_features = C1;
  fa.out_features = NC;
  fa.in_features_padded = 16;
  fa.out_features_padded = 16;
  fa.per_channel = 0;
  fa.act_min = -128;
  fa.act_max = 127;
  w.append(Opcode::kFullyConnected, fa);
  // Softmax.
  SoftmaxInt8Params sp;
  double sp_table[256];
  prepare_softmax_int8(0.1, 1.0 / 256, -128, sp_table, &sp);
  sp.outer = 1;
  sp.axis = NC;
  Case c;
  c.expected.resize(size_t(NC));
  softmax_int8(sp, y5.data(), c.expected.data());
  std::vector<double> blob(sp.exp_table, sp.exp_table + 256);
  blob.push_back(sp.out_scale);
  npu::SoftmaxArgs sa{};
  sa.input = t5;
  sa.output = tout;
  sa.table_offset = w.add_weights(blob);
  w.append(Opcode::kSoftmax, sa);
  c.inputs = {bytes_of(x)};
  c.params = "chain";
  finish(w, &c, 1, 4096);
  expect_match(c, seed);
  expect_match(c, seed, RunOptions{false, false});  // heap context, sizes from the header
}

}  // namespace
}  // namespace neutron::testing
