// int8 GRU and LSTM over a whole sequence (ONNX semantics as recurrent_f32.h: layout 0, default
// activations, one direction), THE integer semantics of the recurrent kernel call, defined once:
//
//   state        h: int8 with the output Y's parameters (s_h, z_h), re-quantized every step (it is
//                Y[t]); LSTM's cell c: int32 in Q15 (real c = c / 2^15), never quantized to int8.
//   gate rows    for each of the G*H rows g (ONNX gate order: GRU z, r, h; LSTM i, o, f, c):
//                  ax = sum_k W[g][k] (x_k - z_x) + bx[g]    bx in units s_x * s_w[g]
//                  ah = sum_k R[g][k] (h_k - z_h) + bh[g]    bh in units s_h * s_r[g]
//                  px = round(ax * Mx[g]), ph = round(ah * Mh[g])   in Q12 (Mx = s_x s_w[g] 2^12, Mh alike)
//   activations  a pre-activation p (Q12, saturated to int16, i.e. [-8, 8)) goes through a
//                513-entry int16 table T of f((i - 256) / 32) in Q15 with linear interpolation:
//                  i = (p + 32768) >> 7, f = (p + 32768) & 127,
//                  act(p) = round((T[i] * 128 + (T[i+1] - T[i]) * f) / 128)   (Q15)
//                (recurrent_int8_tables() makes T for sigmoid and tanh; the lowering stores them.)
//   GRU          z = sig(px_z + ph_z), r = sig(px_r + ph_r)
//                n = tanh(px_n + round(r * ph_n / 2^15))                     linear_before_reset 1
//                n = tanh(px_n + ph_n), ph_n = round((round(sum_k R_n[k] r_k (h_k - z_h) / 2^15) + bh_n)
//                                                     * Mh_n)                   linear_before_reset 0
//                h' = n + round(z * (h15 - n) / 2^15), h15 = round((h - z_h) * H15), H15 = s_h 2^15
//   LSTM         i, o, f = sig(.), g = tanh(.);  c' = round(f c / 2^15) + round(i g / 2^15)
//                h' = round(o * tanh(sat16(round(c' / 8))) / 2^15)
//   output       Y[t] = clamp(round(h' * Mo) + z_h), Mo = 2^-15 / s_h; LSTM's Y_c (optional) =
//                clamp(round(c_T * Mc) + z_c), Mc = 2^-15 / s_c
// Every rounding is half to even (requantize.h). Embedded-grade: no allocation, no exceptions.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/requantize.h"

namespace neutron {

constexpr int kRecurrentTableSize = 513;  // entries of each activation table
constexpr int kRecurrentPreShift = 12;    // pre-activations in Q12
constexpr int kRecurrentStateShift = 15;  // gates, cell state and h' in Q15

struct RecurrentInt8Params {
  bool lstm = false;
  bool reverse = false;              // runs t = T-1 .. 0
  bool linear_before_reset = false;  // GRU
  int64_t seq = 1, batch = 1, input = 1, hidden = 1;
  int32_t x_zero_point = 0, h_zero_point = 0, c_zero_point = 0;
  const int8_t* w = nullptr;              // [G*H][input]
  const int8_t* r = nullptr;              // [G*H][hidden]
  const int32_t* bias_x = nullptr;        // [G*H]
  const int32_t* bias_h = nullptr;        // [G*H]
  const FixedMultiplier* mult_x = nullptr;  // [G*H] to Q12
  const FixedMultiplier* mult_h = nullptr;  // [G*H] to Q12
  FixedMultiplier h_to_q15;               // s_h * 2^15
  FixedMultiplier q15_to_h;               // 2^-15 / s_h
  FixedMultiplier q15_to_c;               // 2^-15 / s_c (Y_c)
  const int16_t* sigmoid = nullptr;       // [513] Q15
  const int16_t* tanh = nullptr;          // [513] Q15
  const int8_t* h0 = nullptr;             // [batch][hidden]; null: the zero point (h = 0)
  const int32_t* c0 = nullptr;            // [batch][hidden] Q15; null: zeros
};

inline int64_t recurrent_gates(const RecurrentInt8Params& p) { return p.lstm ? 4 : 3; }

// Bytes of working memory recurrent_int8() needs (16-byte aligned pieces).
size_t recurrent_int8_scratch_bytes(const RecurrentInt8Params& p);

// x [seq][batch][input] -> y [seq][batch][hidden] (Y of one direction). y_c (may be null): LSTM's
// final cell state [batch][hidden] as int8; c_out (may be null): the same in Q15.
void recurrent_int8(const RecurrentInt8Params& p, const int8_t* x, int8_t* y, int8_t* y_c, int32_t* c_out,
                    void* scratch);

// The activation tables (host side: the lowering stores them in the weights).
void recurrent_int8_tables(int16_t sigmoid[kRecurrentTableSize], int16_t tanh[kRecurrentTableSize]);

// act(p) of the interpolated table (exposed for tests).
int32_t recurrent_activation(const int16_t* table, int32_t pre_q12);

}  // namespace neutron
