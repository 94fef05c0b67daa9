// Float32 GRU and LSTM (ONNX semantics, layout 0, default activations: sigmoid for the gates, tanh
// for the candidate and the cell output), forward, reverse or bidirectional.
//
//   X [T, B, I], W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] (W's biases then R's), initial h and c
//   [D, B, H] (null: zeros); Y [T, D, B, H] (may be null), Y_h and Y_c [D, B, H] (may be null).
//   GRU (G = 3, gates z, r, h):  z = s(x Wz + h Rz + bz), r = s(x Wr + h Rr + br),
//     n = tanh(x Wh + (r * h) Rh + Rbh + Wbh)          linear_before_reset = 0
//     n = tanh(x Wh + r * (h Rh + Rbh) + Wbh)          linear_before_reset = 1 (PyTorch's)
//     h' = (1 - z) * n + z * h
//   LSTM (G = 4, gates i, o, f, c):  c' = f * c + i * tanh(x Wc + h Rc + bc), h' = o * tanh(c')
//     with peepholes P [D, 3*H] (gates i, o, f; null: none): i and f add Pi * c, Pf * c (the old
//     cell), o adds Po * c' (the new one).
// Direction 1 of a bidirectional op (or the only one of a reverse op) runs t = T-1 .. 0.
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

struct RecurrentF32Params {
  bool lstm = false;
  int64_t seq = 1, batch = 1, input = 1, hidden = 1, directions = 1;
  bool reverse = false;  // direction 0 runs backwards (direction "reverse")
  bool linear_before_reset = false;
};

// Floats of scratch run_recurrent_f32 needs.
size_t recurrent_f32_scratch_floats(const RecurrentF32Params& p);

void recurrent_f32(const RecurrentF32Params& p, const float* x, const float* w, const float* r, const float* b,
                   const float* h0, const float* c0, float* y, float* y_h, float* y_c, float* scratch,
                   const float* peepholes = nullptr);

}  // namespace neutron
