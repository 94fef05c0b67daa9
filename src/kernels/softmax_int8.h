// Quantized int8 Softmax along one axis, evaluated as its QDQ meaning in double:
//   y_i = quantize_real(exp(x_i - x_max) / sum_j exp(x_j - x_max), s_out, z_out)
// with x = s_in * (q - z_in). exp(x_i - x_max) = exp(-s_in * (q_max - q_i)) depends only on the
// integer difference d = q_max - q_i in [0, 255], so it is tabulated once (256 doubles). Each row
// then costs one table lookup and add per element for the sum and one multiply and rounding per
// output. The only departure from the exact evaluation is double rounding (~1e-16 relative), which
// can move a result by 1 LSB only at an exact .5 tie.
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

struct SoftmaxInt8Params {
  int64_t outer = 1;  // product of dims before the axis
  int64_t axis = 1;   // size of the softmax axis
  int64_t inner = 1;  // product of dims after the axis (stride of the axis)
  double out_scale = 1.0 / 256;
  int32_t out_zero_point = -128;
  const double* exp_table = nullptr;  // [256]: exp(-s_in * d); read where it lies (a program's
                                      // weights section), never copied into the kernel's state
};

// Fills `table` (256 entries, which must outlive `p`'s use) and points `p` at it.
void prepare_softmax_int8(double in_scale, double out_scale, int32_t out_zero_point, double* table,
                          SoftmaxInt8Params* p);

void softmax_int8(const SoftmaxInt8Params& p, const int8_t* in, int8_t* out);

}  // namespace neutron
