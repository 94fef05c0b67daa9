"""Float64 reference evaluator for the ONNX graphs in fixtures/.

This is a deliberately small, readable interpreter written with numpy only.
It does not call torch at all, so its int8 results are independent of torch's
quantized kernels.  Every floating-point tensor is held in float64; integer
tensors keep their ONNX integer type.

QDQ semantics (ONNX opset 13):
  DequantizeLinear(q, s, zp)  = (q - zp) * s                     (float64, per-tensor or per-axis)
  QuantizeLinear(x, s, zp)    = saturate(round_half_even(x / s) + zp)
                                with x / s evaluated in float64 and saturation to the
                                range of the zero point's type (uint8 when zp is absent).
Any float operator between a DequantizeLinear and a QuantizeLinear (Conv, Gemm,
Clip, MaxPool, Softmax, ...) is evaluated in float64 on the dequantized values,
which is exactly the "simulated quantization" meaning of a QDQ graph.

Usage:
    from qdq_reference import OnnxReference
    ref = OnnxReference("model_int8.onnx")
    (y,) = ref.run({"input": x})          # y is float64 (or an integer array)
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

_FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}
_INT_TYPES = {
    TensorProto.UINT8: np.uint8, TensorProto.INT8: np.int8,
    TensorProto.UINT16: np.uint16, TensorProto.INT16: np.int16,
    TensorProto.INT32: np.int32, TensorProto.INT64: np.int64,
    TensorProto.UINT32: np.uint32, TensorProto.UINT64: np.uint64,
    TensorProto.BOOL: np.bool_,
}


def _widen(a):
    """Hold every floating tensor in float64; leave integer tensors alone."""
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.floating):
        return a.astype(np.float64)
    return a


def _along_axis(v, ndim, axis):
    """Reshape a per-axis parameter (1-D) so that it broadcasts along `axis`."""
    v = np.asarray(v)
    if v.ndim == 0:
        return v
    shape = [1] * ndim
    shape[axis % ndim] = v.size
    return v.reshape(shape)


def dequantize_linear(q, scale, zero_point=None, axis=1):
    s = _along_axis(np.asarray(scale, dtype=np.float64), q.ndim, axis)
    z = 0 if zero_point is None else _along_axis(np.asarray(zero_point).astype(np.int64), q.ndim, axis)
    return (q.astype(np.int64) - z).astype(np.float64) * s


def quantize_linear(x, scale, zero_point=None, axis=1):
    out_type = np.uint8 if zero_point is None else np.asarray(zero_point).dtype
    s = _along_axis(np.asarray(scale, dtype=np.float64), x.ndim, axis)
    z = 0 if zero_point is None else _along_axis(np.asarray(zero_point).astype(np.int64), x.ndim, axis)
    y = np.rint(np.asarray(x, dtype=np.float64) / s) + z   # np.rint: round half to even
    info = np.iinfo(out_type)
    return np.clip(y, info.min, info.max).astype(out_type)


def _conv2d(x, w, b, strides, pads, dilations, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    g = group
    mg = m // g
    assert c == cg * g, "channel/group mismatch"
    depthwise = cg == 1 and mg == 1
    out = np.zeros((n, m, oh, ow)) if depthwise else np.zeros((g, n * oh * ow, mg))
    wg = w.reshape(g, mg, cg, kh, kw)
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dh, j * dw
            patch = xp[:, :, y0:y0 + sh * (oh - 1) + 1:sh, x0:x0 + sw * (ow - 1) + 1:sw]
            if depthwise:
                out += patch * w[:, 0, i, j].reshape(1, m, 1, 1)
            else:
                cols = patch.reshape(n, g, cg, oh, ow).transpose(1, 0, 3, 4, 2).reshape(g, n * oh * ow, cg)
                out += np.matmul(cols, wg[:, :, :, i, j].transpose(0, 2, 1))
    if not depthwise:
        out = out.reshape(g, n, oh, ow, mg).transpose(1, 0, 4, 2, 3).reshape(n, m, oh, ow)
    if b is not None:
        out = out + b.reshape(1, m, 1, 1)
    return out


def _pool2d(x, kernel, strides, pads, dilations, kind, count_include_pad=0):
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=fill)
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    acc = np.full((n, c, oh, ow), fill)
    if kind == "avg":
        ones = np.pad(np.ones((1, 1, h, w)), ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        cnt = np.zeros((1, 1, oh, ow))
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dh, j * dw
            win = xp[:, :, y0:y0 + sh * (oh - 1) + 1:sh, x0:x0 + sw * (ow - 1) + 1:sw]
            if kind == "max":
                acc = np.maximum(acc, win)
            else:
                acc = acc + win
                cnt = cnt + ones[:, :, y0:y0 + sh * (oh - 1) + 1:sh, x0:x0 + sw * (ow - 1) + 1:sw]
    if kind == "avg":
        acc = acc / (kh * kw if count_include_pad else cnt)
    return acc


def _pads2d(a, default_len=4):
    p = list(a.get("pads", [0] * default_len))
    assert len(p) == 4, "only 2-D pooling/convolution is supported"
    return p


class OnnxReference:
    """Interprets an ONNX graph node by node (nodes are topologically sorted by spec)."""

    def __init__(self, path_or_model):
        self.model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
        g = self.model.graph
        self.constants = {t.name: _widen(numpy_helper.to_array(t)) for t in g.initializer}
        self.output_names = [o.name for o in g.output]
        self.input_names = [i.name for i in g.input if i.name not in self.constants]

    def op_types(self):
        return sorted({n.op_type for n in self.model.graph.node})

    def run(self, feeds):
        env = dict(self.constants)
        for k, v in feeds.items():
            env[k] = _widen(v)
        for node in self.model.graph.node:
            ins = [env[name] if name else None for name in node.input]
            outs = self._eval(node, ins, {a.name: helper.get_attribute_value(a) for a in node.attribute})
            for name, val in zip(node.output, outs):
                if name:
                    env[name] = val
        return [env[name] for name in self.output_names]

    # ------------------------------------------------------------------
    def _eval(self, node, I, a):
        t = node.op_type
        x = I[0] if I else None
        if t == "Constant":
            if "value" in a:
                return [_widen(numpy_helper.to_array(a["value"]))]
            for key, dt in (("value_float", np.float64), ("value_floats", np.float64),
                            ("value_int", np.int64), ("value_ints", np.int64)):
                if key in a:
                    return [np.asarray(a[key], dtype=dt)]
            raise NotImplementedError("Constant attribute " + str(list(a)))
        if t == "Identity":
            return [x]
        if t == "Cast":
            to = a["to"]
            if to in _FLOAT_TYPES:
                return [x.astype(np.float64)]
            return [x.astype(_INT_TYPES[to])]
        if t == "ConstantOfShape":
            v = _widen(numpy_helper.to_array(a["value"])) if "value" in a else np.zeros(1, np.float64)
            return [np.full(tuple(int(d) for d in x), v.reshape(-1)[0], dtype=v.dtype)]
        if t == "Shape":
            return [np.asarray(x.shape, dtype=np.int64)]
        if t == "QuantizeLinear":
            return [quantize_linear(x, I[1], I[2] if len(I) > 2 else None, a.get("axis", 1))]
        if t == "DequantizeLinear":
            return [dequantize_linear(x, I[1], I[2] if len(I) > 2 else None, a.get("axis", 1))]
        if t == "Conv":
            assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), "auto_pad not supported"
            k = len(I[1].shape) - 2
            assert k == 2, "only Conv2d is supported"
            return [_conv2d(x, I[1], I[2] if len(I) > 2 else None,
                            a.get("strides", [1, 1]), _pads2d(a), a.get("dilations", [1, 1]), a.get("group", 1))]
        if t in ("MaxPool", "AveragePool"):
            assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), "auto_pad not supported"
            assert a.get("ceil_mode", 0) == 0, "ceil_mode not supported"
            assert len(node.output) == 1 or not node.output[1], "MaxPool indices not supported"
            kind = "max" if t == "MaxPool" else "avg"
            return [_pool2d(x, a["kernel_shape"], a.get("strides", [1, 1]), _pads2d(a),
                            a.get("dilations", [1, 1]), kind, a.get("count_include_pad", 0))]
        if t == "GlobalAveragePool":
            return [x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)]
        if t == "GlobalMaxPool":
            return [x.max(axis=tuple(range(2, x.ndim)), keepdims=True)]
        if t == "Gemm":
            A = x.T if a.get("transA", 0) else x
            B = I[1].T if a.get("transB", 0) else I[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(I) > 2 and I[2] is not None:
                y = y + a.get("beta", 1.0) * I[2]
            return [y]
        if t == "MatMul":
            return [np.matmul(x, I[1])]
        if t == "Add":
            return [x + I[1]]
        if t == "Sub":
            return [x - I[1]]
        if t == "Mul":
            return [x * I[1]]
        if t == "Div":
            if np.issubdtype(x.dtype, np.integer):
                return [(x // I[1]).astype(x.dtype)]
            return [x / I[1]]
        if t == "Relu":
            return [np.maximum(x, 0)]
        if t == "Clip":
            lo = I[1] if len(I) > 1 and I[1] is not None else a.get("min", None)
            hi = I[2] if len(I) > 2 and I[2] is not None else a.get("max", None)
            y = x
            if lo is not None:
                y = np.maximum(y, lo)
            if hi is not None:
                y = np.minimum(y, hi)
            return [y.astype(x.dtype)]
        if t == "Sigmoid":
            return [1.0 / (1.0 + np.exp(-x))]
        if t == "HardSigmoid":
            return [np.clip(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0.0, 1.0)]
        if t == "Softmax":
            ax = a.get("axis", -1)
            e = np.exp(x - x.max(axis=ax, keepdims=True))
            return [e / e.sum(axis=ax, keepdims=True)]
        if t == "Flatten":
            ax = a.get("axis", 1)
            ax = ax + x.ndim if ax < 0 else ax
            return [x.reshape(int(np.prod(x.shape[:ax], dtype=np.int64)), -1)]
        if t == "Reshape":
            shape = [int(d) for d in I[1]]
            if not a.get("allowzero", 0):
                shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
            return [x.reshape(shape)]
        if t == "Transpose":
            perm = a.get("perm", list(range(x.ndim))[::-1])
            return [x.transpose(perm)]
        if t == "Concat":
            return [np.concatenate([v for v in I if v is not None], axis=a["axis"])]
        if t == "Unsqueeze":
            axes = sorted(int(v) % (x.ndim + len(I[1])) for v in I[1])
            y = x
            for ax in axes:
                y = np.expand_dims(y, ax)
            return [y]
        if t == "Squeeze":
            axes = None if len(I) < 2 or I[1] is None else tuple(int(v) % x.ndim for v in I[1])
            return [np.squeeze(x, axis=axes)]
        if t == "Gather":
            return [np.take(x, I[1].astype(np.int64), axis=a.get("axis", 0))]
        if t == "Slice":
            starts, ends = I[1], I[2]
            axes = I[3] if len(I) > 3 and I[3] is not None else np.arange(len(starts))
            steps = I[4] if len(I) > 4 and I[4] is not None else np.ones(len(starts), np.int64)
            sl = [slice(None)] * x.ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                # Python's slice clamping rules are the ones ONNX specifies.
                sl[int(ax) % x.ndim] = slice(int(s), int(e), int(st))
            return [x[tuple(sl)]]
        if t == "Pad":
            mode = a.get("mode", b"constant")
            mode = mode.decode() if isinstance(mode, bytes) else mode
            pads = [int(v) for v in I[1]]
            r = x.ndim
            assert all(p >= 0 for p in pads), "negative pads not supported"
            width = [(pads[i], pads[i + r]) for i in range(r)]
            if mode == "constant":
                cval = I[2].reshape(-1)[0] if len(I) > 2 and I[2] is not None else 0
                return [np.pad(x, width, mode="constant", constant_values=cval)]
            return [np.pad(x, width, mode={"reflect": "reflect", "edge": "edge"}[mode])]
        raise NotImplementedError("ONNX op %s is not implemented in qdq_reference" % t)
