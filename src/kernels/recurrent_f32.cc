#include "kernels/recurrent_f32.h"

#include <cmath>
#include <cstring>

namespace neutron {

namespace {

float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// out[g] = sum_k v[k] * m[g][k] (+ bias[g]), m row-major [rows][cols].
void matvec(const float* m, const float* v, const float* bias, int64_t rows, int64_t cols, float* out) {
  for (int64_t g = 0; g < rows; ++g) {
    const float* row = m + g * cols;
    float s = bias ? bias[g] : 0.0f;
    for (int64_t k = 0; k < cols; ++k) s += row[k] * v[k];
    out[g] = s;
  }
}

}  // namespace

size_t recurrent_f32_scratch_floats(const RecurrentF32Params& p) {
  const int64_t G = p.lstm ? 4 : 3;
  return size_t(2 * p.batch * p.hidden + 2 * G * p.hidden + p.hidden);
}

void recurrent_f32(const RecurrentF32Params& p, const float* x, const float* w, const float* r, const float* b,
                   const float* h0, const float* c0, float* y, float* y_h, float* y_c, float* scratch,
                   const float* peepholes) {
  const int64_t G = p.lstm ? 4 : 3, H = p.hidden, B = p.batch, I = p.input, T = p.seq;
  float* h = scratch;              // [B][H]
  float* c = h + B * H;            // [B][H]
  float* gx = c + B * H;           // [G*H]
  float* gh = gx + G * H;          // [G*H]
  float* rh = gh + G * H;          // [H] (GRU: r * h)
  for (int64_t d = 0; d < p.directions; ++d) {
    const float* W = w + d * G * H * I;
    const float* R = r + d * G * H * H;
    const float* Wb = b ? b + d * 2 * G * H : nullptr;
    const float* Rb = b ? Wb + G * H : nullptr;
    const float* P = peepholes ? peepholes + d * 3 * H : nullptr;  // i, o, f
    const size_t state = size_t(B * H) * sizeof(float);
    if (h0) std::memcpy(h, h0 + d * B * H, state); else std::memset(h, 0, state);
    if (c0) std::memcpy(c, c0 + d * B * H, state); else std::memset(c, 0, state);
    const bool backwards = d == 1 || p.reverse;
    for (int64_t step = 0; step < T; ++step) {
      const int64_t t = backwards ? T - 1 - step : step;
      for (int64_t n = 0; n < B; ++n) {
        const float* xt = x + (t * B + n) * I;
        float* hn = h + n * H;
        float* cn = c + n * H;
        matvec(W, xt, Wb, G * H, I, gx);
        if (p.lstm) {
          matvec(R, hn, Rb, G * H, H, gh);
          if (P) {
            for (int64_t j = 0; j < H; ++j) {
              const float ig = sigmoid(gx[j] + gh[j] + P[j] * cn[j]);
              const float fg = sigmoid(gx[2 * H + j] + gh[2 * H + j] + P[2 * H + j] * cn[j]);
              const float cc = std::tanh(gx[3 * H + j] + gh[3 * H + j]);
              cn[j] = fg * cn[j] + ig * cc;
              const float og = sigmoid(gx[H + j] + gh[H + j] + P[H + j] * cn[j]);
              hn[j] = og * std::tanh(cn[j]);
            }
          } else {
            for (int64_t j = 0; j < H; ++j) {
              const float ig = sigmoid(gx[j] + gh[j]);
              const float og = sigmoid(gx[H + j] + gh[H + j]);
              const float fg = sigmoid(gx[2 * H + j] + gh[2 * H + j]);
              const float cc = std::tanh(gx[3 * H + j] + gh[3 * H + j]);
              cn[j] = fg * cn[j] + ig * cc;
              hn[j] = og * std::tanh(cn[j]);
            }
          }
        } else {
          // z and r from h; the candidate's recurrent term depends on linear_before_reset.
          matvec(R, hn, Rb, 2 * H, H, gh);
          float* z = gx;  // reused in place below
          for (int64_t j = 0; j < H; ++j) {
            z[j] = sigmoid(gx[j] + gh[j]);
            gx[H + j] = sigmoid(gx[H + j] + gh[H + j]);  // r
          }
          const float* rg = gx + H;
          if (p.linear_before_reset) {
            matvec(R + 2 * H * H, hn, Rb ? Rb + 2 * H : nullptr, H, H, gh + 2 * H);
            for (int64_t j = 0; j < H; ++j) gh[2 * H + j] *= rg[j];
          } else {
            for (int64_t j = 0; j < H; ++j) rh[j] = rg[j] * hn[j];
            matvec(R + 2 * H * H, rh, Rb ? Rb + 2 * H : nullptr, H, H, gh + 2 * H);
          }
          for (int64_t j = 0; j < H; ++j) {
            const float nn = std::tanh(gx[2 * H + j] + gh[2 * H + j]);
            hn[j] = (1.0f - z[j]) * nn + z[j] * hn[j];
          }
        }
        if (y) std::memcpy(y + ((t * p.directions + d) * B + n) * H, hn, size_t(H) * sizeof(float));
      }
    }
    if (y_h) std::memcpy(y_h + d * B * H, h, state);
    if (y_c) std::memcpy(y_c + d * B * H, c, state);
  }
}

}  // namespace neutron
