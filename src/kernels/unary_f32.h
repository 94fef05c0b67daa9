// Unary elementwise kernels: float32 for every unary op, plus the integer versions of the ops
// ONNX defines on plain integers (Relu, Clip, Abs, Neg; no quantization involved).
//
//   Relu         max(x, 0)
//   Clip         min(max(x, min), max)             (bounds default to -inf / +inf; max wins if min > max)
//   LeakyRelu    x < 0 ? alpha * x : x
//   Sigmoid      1 / (1 + exp(-x))
//   HardSigmoid  max(0, min(1, alpha * x + beta))
//   HardSwish    x * max(0, min(1, x / 6 + 1/2))   (ONNX: alpha = 1/6, beta = 0.5)
//   Tanh, Abs, Neg, Exp, Log, Sqrt, Reciprocal, Erf   as in <cmath>; NaN/inf as IEEE gives them
//   Gelu         0.5 * x * (1 + erf(x / sqrt(2)))
//   GeluTanh     0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
//   Pow          pow(x, alpha)   (ONNX Pow with a constant exponent)
#pragma once
#include <cstddef>
#include <cstdint>

namespace neutron {

enum class UnaryOp : uint8_t {
  Relu,
  Clip,
  LeakyRelu,
  Sigmoid,
  HardSigmoid,
  HardSwish,
  Tanh,
  Abs,
  Neg,
  Exp,
  Log,
  Sqrt,
  Reciprocal,
  Erf,
  Gelu,
  GeluTanh,
  Pow
};

struct UnaryParams {
  UnaryOp op = UnaryOp::Relu;
  float alpha = 0;  // LeakyRelu, HardSigmoid, Pow (the exponent)
  float beta = 0;   // HardSigmoid
  float min = 0;    // Clip (use -INFINITY / +INFINITY for an absent bound)
  float max = 0;
};

// y[i] = op(x[i]) for i < n. x and y may be the same buffer.
void unary_f32(const UnaryParams& p, const float* x, float* y, size_t n);

// True for the ops unary_int() implements.
constexpr bool unary_op_has_integer_version(UnaryOp op) {
  return op == UnaryOp::Relu || op == UnaryOp::Clip || op == UnaryOp::Abs || op == UnaryOp::Neg;
}

// Integer clip bounds, already converted to the element type by the caller.
template <typename T>
struct UnaryIntParams {
  UnaryOp op = UnaryOp::Relu;
  T min = 0;  // Clip
  T max = 0;
};

// Relu, Clip, Abs, Neg on plain integers (T = int8_t, uint8_t, int16_t, int32_t, int64_t).
// Abs and Neg wrap around on the most negative value, as two's complement does.
template <typename T>
void unary_int(const UnaryIntParams<T>& p, const T* x, T* y, size_t n);

}  // namespace neutron
