// The normalized operands of every IR op. The importer turns ONNX's constant operands into these
// attributes, so kernels, passes and rules never see opset differences. Tensor inputs are listed
// in order; "?" marks an optional input (kNoTensor when absent). All axes are non-negative.
// Attribute names follow ONNX where ONNX has one.
//
// Quantization is carried by tensors, not ops: QuantizeLinear's output tensor and
// DequantizeLinear's input tensor hold the (scale, zero_point, axis) in Tensor::quant; the ONNX
// scale and zero-point inputs are dropped on import. An op whose data tensors are i8 with
// quantization parameters is the integer version of that op (see docs/integer-semantics.md).
//
// act_min, act_max (float, optional; absent = unbounded): a fused activation on int8 Conv, Gemm,
// MatMul, Add, Sub, Mul, Max, Min and the pools, set by the fold-qdq pass when a Relu/Clip is
// folded into its producer. The real output is clamped to [act_min, act_max], i.e. the int8 output
// to [quantize(act_min), quantize(act_max)] in the output's quantization (activation_range_int8()
// in kernels/requantize.h). Exact: quantization is monotone, so it commutes with the clamp.
// On float Conv, Gemm and same-shape Add/Sub the fuse-activation pass (host CPU pipeline) sets act_min/act_max for a
// following Clip (same comparisons as the Clip kernel, so the same floats) and act_relu (int, 1)
// for a Relu: v > 0 ? v : 0, which maps NaN and -0 to +0 as the Relu op does.
//
// keep_float (int, default 0): 1 on a float node the user kept in float (QuantizeOptions::keep_float,
// --keep-float), set by the quantizer; fold-qdq never folds it into an int8 op, so it runs as float
// kernel calls in programs (and in float on the host). Not written to ONNX files.
//
// channels_last (int, default 0): on spatial ops, 1 means data tensors are NHWC instead of NCHW.
// Weights keep ONNX layouts (Conv OIHW, ConvTranspose IOHW) in the IR regardless.
//
//   Conv              X, W[Cout, Cin/group, kH, kW], B?[Cout]
//                     kernel_shape[2], strides[2], dilations[2], pads[4]=(top,left,bottom,right),
//                     group, channels_last. 2-D only; auto_pad is resolved into pads on import.
//   ConvTranspose     X, W[Cin, Cout/group, kH, kW], B?   same attrs as Conv + output_padding[2];
//                     output_shape is resolved into pads on import.
//   Gemm              A, B, C?    alpha, beta, transA, transB
//   MatMul            A, B        (numpy matmul broadcasting)
//   BatchNormalization X, scale, B, mean, var   epsilon, channels_last
//   Relu, Sigmoid, Tanh, Abs, Neg, Exp, Log, Sqrt, Reciprocal, HardSwish, Erf   X
//   Gelu              X           approximate ("none": 0.5x(1+erf(x/sqrt2)), "tanh")
//   Pow               X           exponent (float; ONNX Pow with a constant scalar exponent)
//   LayerNormalization X, Scale, B?   axis (first normalized axis), epsilon; Scale and B broadcast
//                     to X's trailing dims from axis (ONNX opset 17; the float output only)
//   Clip              X           min, max (float; absent = unbounded)
//   LeakyRelu         X           alpha
//   HardSigmoid       X           alpha, beta
//   GRU               X[T,B,I], W[D,3H,I], R[D,3H,H], B?[D,6H], -, initial_h?[D,B,H] -> Y[T,D,B,H], Y_h[D,B,H]
//                     hidden_size, direction (forward|reverse|bidirectional), linear_before_reset; gates
//                     z, r, h in ONNX order; default activations only, no clip, layout 0, no sequence_lens
//   LSTM              X, W[D,4H,I], R[D,4H,H], B?[D,8H], -, initial_h?, initial_c? -> Y, Y_h, Y_c[D,B,H]
//                     hidden_size, direction; gates i, o, f, c; no peepholes, input_forget 0
//   PRelu             X, slope    (slope broadcasts to X)
//   Softmax           X           axis (opset-13 meaning: one axis)
//   LpNormalization   X           axis, p (2 only), eps (ours, default 0): x / max(||x||_2, eps) along
//                                 axis (F.normalize; fuse-l2-normalize builds it); a zero vector gives 0
//   MaxPool, AveragePool  X       kernel_shape[2], strides[2], pads[4], dilations[2] (MaxPool),
//                     ceil_mode, count_include_pad (AveragePool), channels_last
//   GlobalAveragePool, GlobalMaxPool  X   channels_last
//   Add, Sub, Mul, Div, Max, Min     A, B (numpy broadcasting; variadic ONNX Max/Min become chains)
//   Concat            X0, X1, ...  axis
//   Reshape           X           shape (fully resolved, no 0 or -1). Flatten, Squeeze and Unsqueeze
//                     import as Reshape.
//   Transpose         X           perm
//   Slice             X           starts, ends, axes, steps (clamped to the dims, one per axis)
//   Split             X -> Y0..Yn  axis, split (sizes)
//   Pad               X           pads[2*rank] (ONNX order: all begins, then all ends), mode
//                     ("constant", "reflect", "edge"), value (float)
//   Resize            X           mode ("nearest", "linear"), coordinate_transformation_mode,
//                     nearest_mode, scales[rank] (float); output shape is the tensor's shape.
//   ReduceL2, ReduceMean, ReduceMax, ReduceMin, ReduceSum   X   axes (empty = all), keepdims
//   Cast              X           to (DType as int)
//   Expand            X           shape (the output shape, fully resolved)
//   Gather            X, indices (i32|i64, run-time or constant)   axis
//   Where             condition (bool), X, Y   (numpy broadcasting of all three)
//   Identity, Dropout X           (inference: copy)
//   QuantizeLinear    X(f32) -> Y(i8|u8 with quant)
//   DequantizeLinear  X(i8|u8|i32 with quant) -> Y(f32)
#pragma once
