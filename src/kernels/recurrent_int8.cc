#include "kernels/recurrent_int8.h"

#include <cmath>
#include <cstring>

namespace neutron {

namespace {

constexpr int64_t kPreLimit = int64_t(1) << 24;  // Q12 pre-activation terms: +-4096, far past saturation

size_t align16(size_t v) { return (v + 15) & ~size_t(15); }

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// round(a * b / 2^15) for Q15 factors.
int64_t mul_q15(int64_t a, int64_t b) { return round_shift_half_even(a * b, kRecurrentStateShift); }

// Rows [row0, row0 + rows) of m (row-major, `cols` wide) times (v - zero) plus bias, requantized
// to Q12 and bounded.
void gate_rows(const int8_t* m, const int8_t* v, int32_t zero, const int32_t* bias, const FixedMultiplier* mult,
               int64_t row0, int64_t rows, int64_t cols, int32_t* out) {
  for (int64_t g = row0; g < row0 + rows; ++g) {
    const int8_t* row = m + g * cols;
    int32_t acc = bias[g];
    for (int64_t k = 0; k < cols; ++k) acc += int32_t(row[k]) * (int32_t(v[k]) - zero);
    out[g] = int32_t(clamp64(apply_multiplier(acc, mult[g]), -kPreLimit, kPreLimit));
  }
}

int32_t sat16(int64_t v) { return int32_t(clamp64(v, -32768, 32767)); }

}  // namespace

int32_t recurrent_activation(const int16_t* table, int32_t pre_q12) {
  const int32_t u = sat16(pre_q12) + 32768;  // [0, 65535]
  const int32_t i = u >> 7, f = u & 127;
  const int64_t v = int64_t(table[i]) * 128 + int64_t(table[i + 1] - table[i]) * f;
  return int32_t(round_shift_half_even(v, 7));
}

void recurrent_int8_tables(int16_t sigmoid[kRecurrentTableSize], int16_t tanh[kRecurrentTableSize]) {
  for (int i = 0; i < kRecurrentTableSize; ++i) {
    const double x = double(i - 256) / 32.0;
    const double s = std::nearbyint(32768.0 / (1.0 + std::exp(-x)));
    const double t = std::nearbyint(32768.0 * std::tanh(x));
    sigmoid[i] = int16_t(s > 32767 ? 32767 : s);
    tanh[i] = int16_t(t > 32767 ? 32767 : (t < -32768 ? -32768 : t));
  }
}

size_t recurrent_int8_scratch_bytes(const RecurrentInt8Params& p) {
  const size_t G = size_t(recurrent_gates(p)), H = size_t(p.hidden), B = size_t(p.batch);
  return align16(B * H) + align16(B * H * 4) + 2 * align16(G * H * 4) + align16(H * 4);
}

void recurrent_int8(const RecurrentInt8Params& p, const int8_t* x, int8_t* y, int8_t* y_c, int32_t* c_out,
                    void* scratch) {
  const int64_t G = recurrent_gates(p), H = p.hidden, B = p.batch, I = p.input, T = p.seq;
  uint8_t* s = static_cast<uint8_t*>(scratch);
  int8_t* h = reinterpret_cast<int8_t*>(s);                              // [B][H]
  int32_t* c = reinterpret_cast<int32_t*>(s + align16(size_t(B * H)));  // [B][H] Q15
  int32_t* px = c + align16(size_t(B * H) * 4) / 4;                     // [G*H] Q12
  int32_t* ph = px + align16(size_t(G * H) * 4) / 4;                    // [G*H] Q12
  int32_t* rh = ph + align16(size_t(G * H) * 4) / 4;                    // [H] GRU: r (h - z_h) in Q15
  const int32_t zh = p.h_zero_point;
  if (p.h0) {
    std::memcpy(h, p.h0, size_t(B * H));
  } else {
    std::memset(h, zh, size_t(B * H));
  }
  if (p.c0) {
    std::memcpy(c, p.c0, size_t(B * H) * 4);
  } else {
    std::memset(c, 0, size_t(B * H) * 4);
  }
  const auto out_q = [&](int64_t h15) {
    const int64_t v = apply_multiplier(int32_t(clamp64(h15, INT32_MIN, INT32_MAX)), p.q15_to_h) + zh;
    return int8_t(clamp64(v, -128, 127));
  };
  for (int64_t step = 0; step < T; ++step) {
    const int64_t t = p.reverse ? T - 1 - step : step;
    for (int64_t n = 0; n < B; ++n) {
      const int8_t* xt = x + (t * B + n) * I;
      int8_t* hn = h + n * H;
      int32_t* cn = c + n * H;
      gate_rows(p.w, xt, p.x_zero_point, p.bias_x, p.mult_x, 0, G * H, I, px);
      if (p.lstm) {
        gate_rows(p.r, hn, zh, p.bias_h, p.mult_h, 0, G * H, H, ph);
        for (int64_t j = 0; j < H; ++j) {
          const int64_t ig = recurrent_activation(p.sigmoid, sat16(int64_t(px[j]) + ph[j]));
          const int64_t og = recurrent_activation(p.sigmoid, sat16(int64_t(px[H + j]) + ph[H + j]));
          const int64_t fg = recurrent_activation(p.sigmoid, sat16(int64_t(px[2 * H + j]) + ph[2 * H + j]));
          const int64_t gg = recurrent_activation(p.tanh, sat16(int64_t(px[3 * H + j]) + ph[3 * H + j]));
          const int64_t cc = clamp64(mul_q15(fg, cn[j]) + mul_q15(ig, gg), INT32_MIN, INT32_MAX);
          cn[j] = int32_t(cc);
          const int64_t tc = recurrent_activation(p.tanh, sat16(round_shift_half_even(cc, 3)));
          hn[j] = out_q(mul_q15(og, tc));
        }
      } else {
        // z and r rows from h; the candidate rows depend on linear_before_reset.
        gate_rows(p.r, hn, zh, p.bias_h, p.mult_h, 0, 2 * H, H, ph);
        int32_t* z = px;                 // z and r are written over their pre-activations
        int32_t* rg = px + H;
        for (int64_t j = 0; j < 2 * H; ++j) px[j] = recurrent_activation(p.sigmoid, sat16(int64_t(px[j]) + ph[j]));
        if (p.linear_before_reset) {
          gate_rows(p.r, hn, zh, p.bias_h, p.mult_h, 2 * H, H, H, ph);
          for (int64_t j = 0; j < H; ++j) ph[2 * H + j] = int32_t(mul_q15(rg[j], ph[2 * H + j]));
        } else {
          // R_n (r * (h - z_h)): the products r (h - z_h) in Q15 (exact), the sum rounded once.
          int32_t* rq = rh;
          for (int64_t j = 0; j < H; ++j) rq[j] = rg[j] * (int32_t(hn[j]) - zh);
          for (int64_t g = 2 * H; g < 3 * H; ++g) {
            const int8_t* row = p.r + g * H;
            int64_t acc = 0;
            for (int64_t k = 0; k < H; ++k) acc += int64_t(row[k]) * rq[k];
            const int64_t a = round_shift_half_even(acc, kRecurrentStateShift) + p.bias_h[g];
            ph[g] = int32_t(clamp64(apply_multiplier(int32_t(clamp64(a, INT32_MIN, INT32_MAX)), p.mult_h[g]),
                                    -kPreLimit, kPreLimit));
          }
        }
        for (int64_t j = 0; j < H; ++j) {
          const int64_t nn = recurrent_activation(p.tanh, sat16(int64_t(px[2 * H + j]) + ph[2 * H + j]));
          const int64_t h15 = apply_multiplier(int32_t(hn[j]) - zh, p.h_to_q15);
          hn[j] = out_q(nn + mul_q15(z[j], h15 - nn));
        }
      }
      std::memcpy(y + (t * B + n) * H, hn, size_t(H));
    }
  }
  if (c_out) std::memcpy(c_out, c, size_t(B * H) * 4);
  if (y_c)
    for (int64_t i = 0; i < B * H; ++i)
      y_c[i] = int8_t(clamp64(apply_multiplier(c[i], p.q15_to_c) + p.c_zero_point, -128, 127));
}

}  // namespace neutron
