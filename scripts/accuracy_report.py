#!/usr/bin/python3
"""Accuracy of `neutron quantize` against PyTorch's FX post-training quantization.

Run with Debian's interpreter (torch lives there), after building the CLI:

    /usr/bin/python3 scripts/accuracy_report.py [build/neutron] [--models fmnist_cnn,resnet18]

For every model this

  * rebuilds the float model with the recipe of scripts/make_fixtures.py and checks that it
    reproduces fixtures/<name>/ref_f32.npy (the committed model_f32.onnx is that model),
  * builds one calibration set and one evaluation set (seeded), used by both quantizers,
  * PyTorch: onednn engine, get_default_qconfig_mapping("onednn") (HistogramObserver activations,
    per-channel symmetric weights), prepare_fx / convert_fx; int8 outputs vs float outputs (torch's
    own int8 kernels). The converted model is also exported as QDQ ONNX and evaluated on our int8
    kernels with `neutron compare` (torch's parameters, our arithmetic),
  * ours: `neutron quantize` with each observer (default bias correction), and the default observer
    without bias correction and with the sequential one, then `neutron compare model_f32.onnx ours.onnx`,
  * sanity checks: our float run matches torch's float outputs; our int8 run of our QDQ file
    matches scripts/qdq_reference.py's exact evaluation of the same file,

and writes docs/accuracy-report.md and docs/accuracy-report.json. Progress goes to stderr.

Metrics, over all evaluation samples and output elements:
    SQNR dB = 10 log10(sum ref^2 / sum (test - ref)^2)     ref = float output of the same network
    cosine  = <ref, test> / (|ref| |test|)
    top-1   = fraction of samples whose argmax equals the float argmax
"""

import argparse
import copy
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
import torchvision
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402
from qdq_reference import OnnxReference  # noqa: E402

REPO_ROOT = mf.REPO_ROOT
ENGINE = "onednn"
ALL_MODELS = ["fmnist_cnn", "mobilenet_v2", "resnet18", "cifarnet", "mobilenet_v1_025"]
DEFAULT_MODELS = ALL_MODELS

# Our settings: (label, observer, extra `neutron quantize` arguments). Without a --bias-correction
# argument the quantizer's default applies (DEFAULT_BIAS_CORRECTION, checked in each run's report).
OURS = [
    ("histogram", "histogram", ["--observer", "histogram"]),
    ("histogram, no bias correction", "histogram", ["--observer", "histogram", "--no-bias-correction"]),
    ("histogram, sequential bias correction", "histogram",
     ["--observer", "histogram", "--bias-correction", "empirical"]),
    ("minmax", "minmax", ["--observer", "minmax"]),
    ("percentile 99.99", "percentile 99.99", ["--observer", "percentile", "--percentile", "99.99"]),
    ("percentile 99.999", "percentile 99.999", ["--observer", "percentile", "--percentile", "99.999"]),
]
DEFAULT_OBSERVER = "histogram"
DEFAULT_BIAS_CORRECTION = "float"  # neutron quantize's default (QuantizeOptions::bias_correction)
NO_BC = "histogram, no bias correction"
SEQ_BC = "histogram, sequential bias correction"


def tag_of(label):
    return label.replace(", ", "_").replace(" ", "_")

# Synthetic-image models: the recipe's generator (make_fixtures.imagenet_like) with the recipe's
# calibration seed; the evaluation seed is one no fixture uses. `recipe_calib` is the recipe's own
# calibration count (checked against the recipe's batches below).
IMAGE_MODELS = {
    "mobilenet_v2": dict(size=224, calib_seed=22, recipe_calib=16, eval_seed=23),
    "resnet18": dict(size=224, calib_seed=32, recipe_calib=16, eval_seed=33),
    "mobilenet_v1_025": dict(size=128, calib_seed=52, recipe_calib=32, eval_seed=53),
}
IMAGE_CALIB_BATCH = 8  # torch calibration batch size, as in the recipes

TARGETS = {
    "fmnist_cnn": dict(kind="accuracy_drop", max_points=0.5,
                       text="int8 test accuracy within 0.5 points of float"),
    "mobilenet_v2": dict(kind="sqnr_vs_torch", max_db_below=0.5,
                         text="SQNR no more than 0.5 dB below PyTorch's"),
    "resnet18": dict(kind="sqnr_vs_torch", max_db_below=0.5,
                     text="SQNR no more than 0.5 dB below PyTorch's"),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# Metrics (same definitions as src/quantize/accuracy_metrics.cc)
# ----------------------------------------------------------------------------
def metrics(ref, test, labels=None):
    ref = ref.astype(np.float64).reshape(len(ref), -1)
    test = test.astype(np.float64).reshape(len(test), -1)
    err = test - ref
    sq_ref, sq_err, sq_test = float((ref ** 2).sum()), float((err ** 2).sum()), float((test ** 2).sum())
    m = dict(
        max_abs_error=float(np.abs(err).max()),
        mse=sq_err / err.size,
        sqnr_db=float("inf") if sq_err == 0 else 10.0 * np.log10(sq_ref / sq_err),
        cosine=float((ref * test).sum() / np.sqrt(sq_ref * sq_test)),
        top1_agreement=float(np.mean(ref.argmax(1) == test.argmax(1))),
    )
    if labels is not None:
        m["accuracy"] = float(np.mean(test.argmax(1) == labels))
        m["accuracy_float"] = float(np.mean(ref.argmax(1) == labels))
    return m


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------
def make_data(name, recipe, state, args):
    """Returns calib (float32 [N,...]), torch calibration batches, eval inputs, labels or None, and
    descriptions."""
    recipe_calib = np.concatenate(recipe["calib"])
    if name == "fmnist_cnn":
        te_x, te_y = state["te_x"], state["te_y"]
        n = args.fmnist_eval or len(te_x)
        return dict(calib=recipe_calib, calib_batches=recipe["calib"],
                    calib_text=recipe["calibration"] + " (the recipe's calibration batches)",
                    eval=mf.to_unit(te_x[:n]), labels=te_y[:n].astype(np.int64),
                    eval_text="Fashion-MNIST test images 0..%d (pixel/255), with labels" % (n - 1))
    if name == "cifarnet":
        _, _, te_x, te_y = mf.load_fmnist()
        n = args.fmnist_eval or len(te_x)
        return dict(calib=recipe_calib, calib_batches=recipe["calib"],
                    calib_text=recipe["calibration"] + " (the recipe's calibration batches)",
                    eval=mf.cifar_like(te_x[:n]), labels=te_y[:n].astype(np.int64),
                    eval_text="Fashion-MNIST test images 0..%d shaped like CIFAR (32x32, 3 channels, "
                              "(x-0.5)/0.5), with labels" % (n - 1))
    spec = IMAGE_MODELS[name]
    size, cs, es = spec["size"], spec["calib_seed"], spec["eval_seed"]
    # The seed table must reproduce the recipe's own calibration set.
    assert np.array_equal(mf.imagenet_like(cs, spec["recipe_calib"], size), recipe_calib), \
        "%s: calibration seed %d does not reproduce the recipe's calibration batches" % (name, cs)
    n_calib = args.image_calib or spec["recipe_calib"]
    calib = recipe_calib if n_calib == spec["recipe_calib"] else mf.imagenet_like(cs, n_calib, size)
    batches = [calib[i:i + IMAGE_CALIB_BATCH] for i in range(0, len(calib), IMAGE_CALIB_BATCH)]
    same = " (exactly the recipe's calibration batches)" if n_calib == spec["recipe_calib"] else \
        " (the recipe's generator and seed; the recipe itself uses %d)" % spec["recipe_calib"]
    return dict(calib=calib, calib_batches=batches,
                calib_text="%d smooth random images seed %d (make_fixtures.imagenet_like, clipped to "
                           "[-2.5, 2.5]), torch batches of %d%s" % (n_calib, cs, IMAGE_CALIB_BATCH, same),
                eval=mf.imagenet_like(es, args.image_eval, size), labels=None,
                eval_text="%d smooth random images seed %d (make_fixtures.imagenet_like)" % (args.image_eval, es))


def save_npy(path, arr):
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr), allow_pickle=False)


# ----------------------------------------------------------------------------
# torch
# ----------------------------------------------------------------------------
def torch_batched(model, x, chunk):
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + chunk])).numpy()
                               for i in range(0, len(x), chunk)]).astype(np.float32)


def torch_ptq(model, recipe, batches, example):
    torch.backends.quantized.engine = ENGINE
    prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping(ENGINE), example_inputs=(example,))
    with torch.no_grad():
        for b in batches:
            prepared(torch.from_numpy(b))
    q = convert_fx(prepared)
    if recipe.get("wrap_int8"):
        q = recipe["wrap_int8"](q)
    return q.eval()


# ----------------------------------------------------------------------------
# neutron CLI
# ----------------------------------------------------------------------------
def run_cli(cmd, what):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s\n%s%s" % (what, r.returncode, " ".join(cmd), r.stdout, r.stderr))
    return r.stdout, time.perf_counter() - t0


def neutron_compare(neutron, ref_onnx, test_onnx, inputs, labels, out_json):
    cmd = [neutron, "compare", ref_onnx, test_onnx, "-i", inputs, "--json", out_json]
    if labels:
        cmd += ["--labels", labels]
    _, secs = run_cli(cmd, "neutron compare")
    with open(out_json) as f:
        j = json.load(f)
    (o,) = j["outputs"]
    m = {k: o[k] for k in ("max_abs_error", "mse", "sqnr_db", "cosine", "top1_agreement")}
    if j.get("accuracy"):  # null without --labels
        m["accuracy"] = j["accuracy"]["test"]
        m["accuracy_float"] = j["accuracy"]["reference"]
    return m, secs


def neutron_run(neutron, model, x, tmp, tag):
    """Our CPU output for one sample (batch 1)."""
    inp = os.path.join(tmp, "run_%s_in.npy" % tag)
    out_dir = os.path.join(tmp, "run_%s_out" % tag)
    save_npy(inp, x)
    run_cli([neutron, "run", model, "-i", inp, "-o", out_dir], "neutron run")
    return np.load(os.path.join(out_dir, "output_0.npy"))


def output_scale(quant_report, output_name="output"):
    for g in quant_report["groups"]:
        if output_name in g["tensors"]:
            return g["scale"]
    return None


# ----------------------------------------------------------------------------
# Analysis: variants of our QDQ file, to explain a gap to torch (nothing here changes the quantizer)
# ----------------------------------------------------------------------------
def _initializers(m):
    return {t.name: t for t in m.graph.initializer}


def _f32_weights(f32_model):
    """node name -> (weight, bias or None) of the Conv/Gemm nodes of the float model."""
    g = f32_model.graph
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    prod = {o: n for n in g.node for o in n.output}

    def value(x):
        while x not in consts:
            x = prod[x].input[0]  # Identity on an initializer
        return consts[x]
    return {n.name: (value(n.input[1]), value(n.input[2]) if len(n.input) > 2 and n.input[2] else None)
            for n in g.node if n.op_type in ("Conv", "Gemm")}


def variant_fuse_add_relu(m):
    """Drops the QuantizeLinear/DequantizeLinear pair between an Add and a ReLU that is its only
    consumer: the ReLU output's parameters (already calibrated on the post-ReLU range) then quantize
    the fused add+relu, as torch's quantized add_relu does. Returns the number of pairs removed."""
    g = m.graph
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    drop, count = set(), 0
    for n in g.node:
        if n.op_type != "Add":
            continue
        c = consumers.get(n.output[0], [])
        if len(c) != 1 or c[0].op_type != "QuantizeLinear":
            continue
        c2 = consumers.get(c[0].output[0], [])
        if len(c2) != 1 or c2[0].op_type != "DequantizeLinear":
            continue
        c3 = consumers.get(c2[0].output[0], [])
        if len(c3) != 1 or c3[0].op_type != "Relu":
            continue
        c3[0].input[0] = n.output[0]
        drop |= {id(c[0]), id(c2[0])}
        count += 1
    keep = [n for n in g.node if id(n) not in drop]
    del g.node[:]
    g.node.extend(keep)
    return count


def torch_layer_input_means(model, batches, f32_model):
    """E[x] of every Conv/Gemm of the float ONNX model as the layer reads it, from the torch model
    run on the calibration batches: Conv [Cin, kH, kW] means over samples and output positions of
    the input under each tap (F.unfold: zero padding counts as 0), Gemm [K]. The torch Conv2d /
    Linear modules are matched to the ONNX nodes in execution order (BatchNorm is folded into the
    ONNX Conv after it, so the inputs are the same); None if they do not match."""
    nodes = [n for n in f32_model.graph.node if n.op_type in ("Conv", "Gemm")]
    weights = _f32_weights(f32_model)
    sums, order = {}, []

    def hook(mod, inputs, _out):
        x = inputs[0].detach().double()
        if isinstance(mod, torch.nn.Conv2d):
            cols = torch.nn.functional.unfold(x, mod.kernel_size, mod.dilation, mod.padding, mod.stride)
            s, n = cols.sum((0, 2)).numpy().reshape(x.shape[1], *mod.kernel_size), cols.shape[0] * cols.shape[2]
        else:
            s, n = x.reshape(-1, x.shape[-1]).sum(0).numpy(), x.numel() // x.shape[-1]
        if mod not in sums:
            order.append(mod)
            sums[mod] = [0.0, 0]
        sums[mod][0] = sums[mod][0] + s
        sums[mod][1] += n

    handles = [mod.register_forward_hook(hook) for mod in model.modules()
               if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))]
    try:
        with torch.no_grad():
            for b in batches:
                model(torch.from_numpy(b))
    finally:
        for h in handles:
            h.remove()
    if len(order) != len(nodes):
        return None
    means = {}
    for node, mod in zip(nodes, order):
        if tuple(weights[node.name][0].shape) != tuple(mod.weight.shape):
            return None
        means[node.name] = sums[mod][0] / sums[mod][1]
    return means


def bias_shift(node, w, wq, mean):
    """The bias correction (W - Wq) E[x] per output channel (Gemm: times alpha / beta)."""
    attr = {a.name: a for a in node.attribute}
    dw = w.astype(np.float64) - wq
    if node.op_type == "Conv":
        group = attr["group"].i if "group" in attr else 1
        cout, cin_g = dw.shape[0], dw.shape[1]
        m = mean.reshape(group, cin_g, *mean.shape[1:])
        return np.einsum("gockl,gckl->go", dw.reshape(group, cout // group, *dw.shape[1:]), m).reshape(cout)
    trans_b = "transB" in attr and attr["transB"].i == 1
    alpha = attr["alpha"].f if "alpha" in attr else 1.0
    beta = attr["beta"].f if "beta" in attr else 1.0
    return (dw @ mean if trans_b else mean @ dw) * alpha / beta


def variant_requantize_weights(m, f32_model, divisor=127.0, gemm_per_channel=False, means=None):
    """Requantizes every Conv/Gemm weight of our QDQ model from the float weights: symmetric
    [-127, 127] with scale = max|w| / divisor (per output channel for Conv, per tensor for Gemm
    unless gemm_per_channel), and the int32 bias with scale = input scale x weight scale.
    divisor 127 reproduces neutron quantize's weights; 127 < divisor < 127.5 keeps every weight in
    [-127, 127] but moves the rounding grid by < 0.4 %. With `means` (torch_layer_input_means) the
    bias is corrected for the new weights' error, as `neutron quantize --bias-correction float`
    does. Returns the number of nodes changed."""
    g = m.graph
    inits = _initializers(m)
    prod = {o: n for n in g.node for o in n.output}
    f32 = _f32_weights(f32_model)
    arr = lambda name: onnx.numpy_helper.to_array(inits[name])  # noqa: E731

    def put(name, a):
        inits[name].CopyFrom(onnx.numpy_helper.from_array(a, name))

    def set_axis(node, axis):
        for a in node.attribute:
            if a.name == "axis":
                a.i = axis
                return
        node.attribute.extend([onnx.helper.make_attribute("axis", axis)])

    count = 0
    for n in g.node:
        if n.op_type not in ("Conv", "Gemm") or n.name not in f32:
            continue
        w, b = f32[n.name]
        w = w.astype(np.float32)
        wdq, xdq = prod.get(n.input[1]), prod.get(n.input[0])
        if wdq is None or wdq.op_type != "DequantizeLinear" or xdq is None or xdq.op_type != "DequantizeLinear":
            continue
        if n.op_type == "Conv" or gemm_per_channel:
            trans_b = [a.i for a in n.attribute if a.name == "transB"]
            axis = 0 if n.op_type == "Conv" or (trans_b and trans_b[0] == 1) else 1
            amax = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(1)
            shape = [1] * w.ndim
            shape[axis] = -1
        else:
            axis, amax, shape = None, np.abs(w).max().reshape(1), [1] * w.ndim
        scale = np.maximum(amax / np.float32(divisor), np.float32(2.0 ** -12)).astype(np.float32)
        # float64 division, as neutron quantize does
        q = np.clip(np.rint(w.astype(np.float64) / scale.reshape(shape).astype(np.float64)), -127, 127).astype(np.int8)
        put(wdq.input[0], q)
        put(wdq.input[1], scale if axis is not None else scale.reshape(()))
        put(wdq.input[2], np.zeros(scale.shape if axis is not None else (), np.int8))
        if axis is not None:
            set_axis(wdq, axis)
        if b is not None and len(n.input) > 2 and n.input[2] in prod and prod[n.input[2]].op_type == "DequantizeLinear":
            bdq = prod[n.input[2]]
            if means is not None:
                wq = q.astype(np.float64) * scale.reshape(shape).astype(np.float64)
                b = (b.astype(np.float64) + bias_shift(n, w, wq, means[n.name])).astype(np.float32)
            s_in = np.float32(arr(xdq.input[1]).reshape(-1)[0])
            bscale = (s_in * scale).astype(np.float32)
            bq = np.clip(np.rint(b.astype(np.float64) / bscale.astype(np.float64)), -2 ** 31 + 1, 2 ** 31 - 1)
            put(bdq.input[0], bq.astype(np.int32))
            if axis is None:
                bscale = bscale.reshape(())
            put(bdq.input[1], bscale)
            put(bdq.input[2], np.zeros(bscale.shape, np.int32))
            if axis is not None:
                set_axis(bdq, b.ndim - 1)
        count += 1
    return count


def weight_sqnr_db(m, f32_model):
    """10 log10(sum w^2 / sum (dequantized w - w)^2) over the Conv/Gemm weights of a QDQ model."""
    inits = _initializers(m)
    prod = {o: n for n in m.graph.node for o in n.output}
    f32 = _f32_weights(f32_model)
    sw = se = 0.0
    for n in m.graph.node:
        if n.op_type not in ("Conv", "Gemm") or n.name not in f32 or n.input[1] not in prod:
            continue
        dq = prod[n.input[1]]
        q = onnx.numpy_helper.to_array(inits[dq.input[0]]).astype(np.float64)
        sc = onnx.numpy_helper.to_array(inits[dq.input[1]]).astype(np.float64)
        if sc.size > 1:
            axis = [a.i for a in dq.attribute if a.name == "axis"]
            shape = [1] * q.ndim
            shape[axis[0] if axis else 1] = -1
            sc = sc.reshape(shape)
        w = f32[n.name][0].astype(np.float64)
        sw += float((w ** 2).sum())
        se += float(((q * sc - w) ** 2).sum())
    return 10.0 * np.log10(sw / se)


def analysis(args, tmp, f32_onnx, ours_onnx, eval_npy, base_sqnr, bc_onnx=None, bc_sqnr=None, means=None):
    """SQNR of variants of our QDQ file without bias correction (`ours_onnx`) on the same inputs (our
    kernels); with `means`, also the weight-grid variants of our bias-corrected file (`bc_onnx`),
    their biases corrected for their own weights."""
    f32_model = onnx.load(f32_onnx)
    rows = []
    # The requantization with divisor 127 must reproduce neutron quantize's own weights and biases.
    orig = onnx.load(ours_onnx)
    redo = onnx.load(ours_onnx)
    variant_requantize_weights(redo, f32_model, 127.0)
    a, b = _initializers(orig), _initializers(redo)
    mismatched = [k for k in a if not np.array_equal(onnx.numpy_helper.to_array(a[k]), onnx.numpy_helper.to_array(b[k]))]
    log("  analysis: requantizing with max|w|/127 reproduces our file: %s" % (not mismatched or mismatched[:5]))

    def run(label, what, edit):
        m = onnx.load(ours_onnx)
        changed = edit(m)
        if not changed:
            return None
        path = os.path.join(tmp, "variant_%d.onnx" % len(rows))
        onnx.save(m, path)
        r, _ = neutron_compare(args.neutron, f32_onnx, path, eval_npy, None, path + ".json")
        row = dict(variant=label, description=what, changed=changed, sqnr_db=r["sqnr_db"], cosine=r["cosine"],
                   top1_agreement=r["top1_agreement"], delta_db=r["sqnr_db"] - base_sqnr,
                   weight_sqnr_db=weight_sqnr_db(m, f32_model))
        rows.append(row)
        log("  analysis: %-34s SQNR %.2f dB (%+.2f)" % (label, r["sqnr_db"], row["delta_db"]))
        return row

    run("Add+ReLU fused", "the Q/DQ between each Add and its ReLU removed (ReLU output parameters kept)",
        variant_fuse_add_relu)
    run("Gemm weights per channel", "Gemm (fully connected) weights per output channel instead of per tensor",
        lambda m: variant_requantize_weights(m, f32_model, 127.0, gemm_per_channel=True))
    for d in args.grid_divisors:
        run("weight grid D = %g" % d, "all weights requantized in [-127, 127] with scale max(abs(w)) / %g "
            "(rounding grid %.2f %% finer)" % (d, 100 * (d / 127.0 - 1)),
            lambda m, d=d: variant_requantize_weights(m, f32_model, d))
    grid = [r["sqnr_db"] for r in rows if r["variant"].startswith("weight grid")] + [base_sqnr]
    result = dict(requantize_127_reproduces_ours=not mismatched, requantize_127_mismatched=mismatched[:20],
                  weight_sqnr_db_ours=weight_sqnr_db(orig, f32_model),
                  variants=rows,
                  weight_grid_sqnr_db=dict(min=min(grid), max=max(grid), divisors=[127.0] + list(args.grid_divisors)))
    if means is None or bc_onnx is None:
        return result
    # The same grids with bias correction: each variant's biases corrected for its own weights'
    # error with E[x] from torch (the same float network and calibration set). D = 127 redone this
    # way must give our bias-corrected file's biases (up to float rounding: a few int32 LSB).
    ours_bc = onnx.load(bc_onnx)
    redo = onnx.load(bc_onnx)
    variant_requantize_weights(redo, f32_model, 127.0, means=means)
    a, b = _initializers(ours_bc), _initializers(redo)
    lsb = max((int(np.abs(onnx.numpy_helper.to_array(a[k]).astype(np.int64) -
                          onnx.numpy_helper.to_array(b[k]).astype(np.int64)).max())
               for k in a if a[k].data_type == onnx.TensorProto.INT32), default=0)
    same_w = all(np.array_equal(onnx.numpy_helper.to_array(a[k]), onnx.numpy_helper.to_array(b[k]))
                 for k in a if a[k].data_type == onnx.TensorProto.INT8)
    log("  analysis: bias-corrected requantization with max|w|/127: weights equal %s, biases within %d LSB"
        % (same_w, lsb))
    corrected = []
    for d in [127.0] + list(args.grid_divisors):
        m = onnx.load(bc_onnx)
        variant_requantize_weights(m, f32_model, d, means=means)
        path = os.path.join(tmp, "variant_bc_%g.onnx" % d)
        onnx.save(m, path)
        r, _ = neutron_compare(args.neutron, f32_onnx, path, eval_npy, None, path + ".json")
        corrected.append(dict(divisor=d, sqnr_db=r["sqnr_db"], cosine=r["cosine"], weight_sqnr_db=weight_sqnr_db(m, f32_model)))
        log("  analysis: weight grid D = %-6g bias corrected   SQNR %.2f dB" % (d, r["sqnr_db"]))
    result["bias_corrected_grid"] = dict(ours_sqnr_db=bc_sqnr, redo_127_weights_equal=same_w,
                                         redo_127_bias_max_lsb=lsb, rows=corrected)
    return result


# ----------------------------------------------------------------------------
# One model
# ----------------------------------------------------------------------------
def evaluate_model(name, args, tmp_root):
    t_model = time.perf_counter()
    log("== %s" % name)
    tmp = os.path.join(tmp_root, name)
    os.makedirs(tmp)
    fixture_dir = os.path.join(mf.FIXTURES, name)
    f32_onnx = os.path.join(fixture_dir, "model_f32.onnx")

    # 1. the float model, rebuilt by the fixture recipe
    state = {}
    t0 = time.perf_counter()
    recipe = mf.recipe_fmnist_cnn(state) if name == "fmnist_cnn" else getattr(mf, "recipe_" + name)()
    model = recipe["model"].eval()
    ref_f32 = np.load(os.path.join(fixture_dir, "ref_f32.npy"))
    rebuilt = mf.torch_outputs(model, recipe["inputs"])
    rebuild_diff = float(np.abs(rebuilt.astype(np.float64) - ref_f32).max())
    log("  recipe rebuilt in %.1f s; outputs vs fixtures/%s/ref_f32.npy: max abs diff %.3g"
        % (time.perf_counter() - t0, name, rebuild_diff))
    if rebuild_diff > 1e-5 * max(1.0, float(np.abs(ref_f32).max())):
        raise RuntimeError("%s: the rebuilt model does not reproduce ref_f32.npy (max abs diff %g); "
                           "torch/torchvision versions differ from the fixture generator's?" % (name, rebuild_diff))

    # 2. data shared by both quantizers
    d = make_data(name, recipe, state, args)
    calib_npy, eval_npy = os.path.join(tmp, "calib.npy"), os.path.join(tmp, "eval.npy")
    save_npy(calib_npy, d["calib"].astype(np.float32))
    save_npy(eval_npy, d["eval"].astype(np.float32))
    labels_npy = None
    if d["labels"] is not None:
        labels_npy = os.path.join(tmp, "labels.npy")
        save_npy(labels_npy, d["labels"])
    log("  calibration %s, evaluation %s" % (list(d["calib"].shape), list(d["eval"].shape)))

    # 3. torch float and torch PTQ
    chunk = 500 if d["eval"].shape[-1] <= 32 else 16
    t0 = time.perf_counter()
    y_f32 = torch_batched(model, d["eval"], chunk)
    example = torch.from_numpy(d["eval"][:1])
    qmodel = torch_ptq(model, recipe, d["calib_batches"], example)
    t_ptq = time.perf_counter() - t0
    # Export first, with a batch-1 trace: in torch 1.13 a converted onednn model that ran at one batch
    # size can fail at another ("could not create a primitive descriptor for a reorder primitive",
    # seen with mobilenet_v2), so the 224x224 models are also evaluated at batch 1, as the fixtures are.
    torch_onnx = os.path.join(tmp, "torch_int8.onnx")
    mf.export_onnx(qmodel, example, torch_onnx)
    y_int8 = torch_batched(qmodel, d["eval"], chunk if chunk == 500 else 1)
    torch_m = metrics(y_f32, y_int8, d["labels"])
    log("  torch: float + PTQ in %.1f s; int8 vs float SQNR %.2f dB, cosine %.6f, top-1 %.4f%s"
        % (t_ptq, torch_m["sqnr_db"], torch_m["cosine"], torch_m["top1_agreement"],
           ", accuracy %.4f (float %.4f)" % (torch_m["accuracy"], torch_m["accuracy_float"])
           if "accuracy" in torch_m else ""))
    torch_on_ours, secs = neutron_compare(args.neutron, f32_onnx, torch_onnx, eval_npy, labels_npy,
                                          os.path.join(tmp, "compare_torch.json"))
    log("  torch's QDQ on our kernels: SQNR %.2f dB (%.1f s)" % (torch_on_ours["sqnr_db"], secs))

    methods = [dict(method="PyTorch FX PTQ (onednn, HistogramObserver), torch int8 kernels",
                    key="torch", quantizer="torch", kernels="torch onednn", **torch_m),
               dict(method="PyTorch FX PTQ, exported QDQ run on our int8 kernels",
                    key="torch_qdq_on_ours", quantizer="torch", kernels="neutron", **torch_on_ours)]

    # 4. ours, each setting
    quant_reports = {}
    for label, observer, extra in OURS:
        tag = tag_of(label)
        ours = os.path.join(tmp, "ours_%s.onnx" % tag)
        qjson = os.path.join(tmp, "quant_%s.json" % tag)
        try:
            _, qsecs = run_cli([args.neutron, "quantize", f32_onnx, "-i", calib_npy, "-o", ours,
                                "--json", qjson] + extra, "neutron quantize")
            with open(qjson) as f:
                quant_reports[label] = json.load(f)
            m, csecs = neutron_compare(args.neutron, f32_onnx, ours, eval_npy, labels_npy,
                                       os.path.join(tmp, "compare_%s.json" % tag))
        except RuntimeError as e:
            log("  ours (%s): FAILED: %s" % (label, e))
            methods.append(dict(method="neutron quantize " + " ".join(extra), key="ours_" + tag, quantizer="neutron",
                                kernels="neutron", setting=label, observer=observer, error=str(e)))
            continue
        qr = quant_reports[label]
        m["float_nodes"] = qr["float_nodes"]
        m["activation_groups"] = len(qr["groups"])
        m["bias_correction"] = qr.get("bias_correction", "off")
        m["bias_corrected_layers"] = len(qr.get("corrected_biases", []))
        m["bias_correction_runs"] = qr.get("bias_correction_passes", 0)
        m["quantize_seconds"] = round(qsecs, 1)
        if "--bias-correction" not in extra and "--no-bias-correction" not in extra and \
                m["bias_correction"] != DEFAULT_BIAS_CORRECTION:
            raise RuntimeError("neutron quantize's default bias correction is %s, the report expects %s; update "
                               "DEFAULT_BIAS_CORRECTION" % (m["bias_correction"], DEFAULT_BIAS_CORRECTION))
        methods.append(dict(method="neutron quantize " + " ".join(extra), key="ours_" + tag, quantizer="neutron",
                            kernels="neutron", setting=label, observer=observer, **m))
        log("  ours (%s): SQNR %.2f dB, cosine %.6f, top-1 %.4f%s (quantize %.1f s, compare %.1f s)"
            % (label, m["sqnr_db"], m["cosine"], m["top1_agreement"],
               ", accuracy %.4f" % m["accuracy"] if "accuracy" in m else "", qsecs, csecs))

    # 5. sanity checks on a few samples
    checks = {}
    n_chk = min(2, len(d["eval"]))
    ours_f32 = np.stack([neutron_run(args.neutron, f32_onnx, d["eval"][i:i + 1], tmp, "f%d" % i)[0]
                         for i in range(n_chk)])
    checks["our_float_vs_torch_float"] = dict(
        samples=n_chk, max_abs_diff=float(np.abs(ours_f32.astype(np.float64) - y_f32[:n_chk]).max()),
        max_abs_reference=float(np.abs(y_f32[:n_chk]).max()))
    ours_default = os.path.join(tmp, "ours_%s.onnx" % DEFAULT_OBSERVER.replace(" ", "_"))
    if os.path.exists(ours_default) and not args.skip_qdq_check:
        ref = OnnxReference(ours_default)
        steps = []
        scale = output_scale(quant_reports[DEFAULT_OBSERVER])
        for i in range(min(1, len(d["eval"]))):
            ours_i8 = neutron_run(args.neutron, ours_default, d["eval"][i:i + 1], tmp, "q%d" % i)
            (exact,) = ref.run({"input": d["eval"][i:i + 1]})
            steps.append(float(np.abs(ours_i8.astype(np.float64) - exact).max()) / scale)
        checks["our_int8_vs_exact_qdq_of_our_file"] = dict(
            samples=len(steps), observer=DEFAULT_OBSERVER, output_scale=scale,
            max_abs_diff_steps=float(max(steps)))
    log("  checks: %s" % json.dumps(checks))

    # The analysis varies the weights of our file without bias correction: its bias is the float
    # model's, which the variants can requantize (a corrected bias depends on the weights' error).
    nobc_m = find(methods, "ours_" + tag_of(NO_BC))
    analysis_result = None
    if nobc_m is not None and name in args.analysis:
        means = torch_layer_input_means(model, d["calib_batches"], onnx.load(f32_onnx))
        if means is None:
            log("  analysis: the torch modules do not match the ONNX Conv/Gemm nodes; no bias-corrected grid")
        ours_m = find(methods, "ours_" + DEFAULT_OBSERVER)
        analysis_result = analysis(args, tmp, f32_onnx, os.path.join(tmp, "ours_%s.onnx" % tag_of(NO_BC)), eval_npy,
                                   nobc_m["sqnr_db"], ours_default if ours_m else None,
                                   ours_m["sqnr_db"] if ours_m else None, means)

    entry = dict(
        description=recipe["description"],
        float_model="fixtures/%s/model_f32.onnx" % name,
        rebuilt_vs_ref_f32_max_abs_diff=rebuild_diff,
        calibration=dict(samples=int(len(d["calib"])), description=d["calib_text"],
                         torch_batches=[int(len(b)) for b in d["calib_batches"]]),
        evaluation=dict(samples=int(len(d["eval"])), description=d["eval_text"], labelled=d["labels"] is not None),
        methods=methods,
        checks=checks,
        analysis=analysis_result,
        seconds=round(time.perf_counter() - t_model, 1),
    )
    entry["acceptance"] = acceptance(name, methods)
    log("  %s in %.1f s" % ("done", entry["seconds"]))
    return entry


def find(methods, key):
    for m in methods:
        if m["key"] == key and "error" not in m:
            return m
    return None


def acceptance(name, methods):
    t = TARGETS.get(name)
    torch_m = find(methods, "torch")
    ours = find(methods, "ours_" + DEFAULT_OBSERVER)
    best = max((m for m in methods if m["quantizer"] == "neutron" and "error" not in m),
               key=lambda m: m["sqnr_db"], default=None)
    r = dict(target=t["text"] if t else "none (extra model)", default_observer=DEFAULT_OBSERVER,
             default_bias_correction=DEFAULT_BIAS_CORRECTION, best_setting_by_sqnr=best["setting"] if best else None)
    if ours is None:
        r.update(passed=False if t else None, note="neutron quantize failed")
        return r
    r["sqnr_ours_minus_torch_db"] = ours["sqnr_db"] - torch_m["sqnr_db"]
    nobc = find(methods, "ours_" + tag_of(NO_BC))
    if nobc:
        r["sqnr_ours_no_bias_correction_minus_torch_db"] = nobc["sqnr_db"] - torch_m["sqnr_db"]
        if "accuracy" in nobc:
            r["accuracy_drop_points_ours_no_bias_correction"] = 100.0 * (nobc["accuracy_float"] - nobc["accuracy"])
    if best:
        r["best_sqnr_ours_minus_torch_db"] = best["sqnr_db"] - torch_m["sqnr_db"]
    if "accuracy" in ours:
        r["accuracy_drop_points_ours"] = 100.0 * (ours["accuracy_float"] - ours["accuracy"])
        r["accuracy_drop_points_torch"] = 100.0 * (torch_m["accuracy_float"] - torch_m["accuracy"])
    if not t:
        r["passed"] = None
    elif t["kind"] == "accuracy_drop":
        r["passed"] = bool(r["accuracy_drop_points_ours"] <= t["max_points"])
    else:
        r["passed"] = bool(r["sqnr_ours_minus_torch_db"] >= -t["max_db_below"])
    return r


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------
def fmt_acc(m):
    return "%.2f %%" % (100.0 * m["accuracy"]) if "accuracy" in m else "-"


def write_markdown(path, report):
    g = report["generator"]
    L = []
    L.append("# Post-training quantization accuracy: `neutron quantize` vs PyTorch\n")
    L.append("Generated by `scripts/accuracy_report.py`; do not edit by hand. Regenerate with\n")
    L.append("```sh\n%s\n```\n" % g["command"])
    L.append("Both quantizers start from the same float network (the committed `fixtures/<name>/model_f32.onnx`, "
             "rebuilt in torch by the recipe of `scripts/make_fixtures.py` and checked against `ref_f32.npy`), see "
             "the same calibration samples and are evaluated on the same inputs. Each int8 model is measured "
             "against the float output of the same network: PyTorch's int8 model (its own onednn kernels) against "
             "torch float; ours with `neutron compare model_f32.onnx ours.onnx` (our int8 kernels against our "
             "float kernels, which match torch float, see the checks). The row *PyTorch PTQ on our kernels* "
             "is torch's converted model exported as QDQ ONNX and run by `neutron compare`: torch's quantization "
             "parameters with our integer arithmetic, which separates the choice of parameters from the kernels.\n")
    L.append("* SQNR dB = 10 log10(sum ref^2 / sum (test - ref)^2) over all evaluation samples and output elements; "
             "cosine over the same; top-1 = argmax agrees with the float model's; accuracy against the labels "
             "(Fashion-MNIST models only; the other networks have random weights and no meaningful classes).")
    L.append("* PyTorch: engine `onednn`, `get_default_qconfig_mapping(\"onednn\")` (HistogramObserver uint8 "
             "activations, per-channel symmetric int8 weights), `prepare_fx` / `convert_fx`.")
    L.append("* Ours: `neutron quantize MODEL -i calib.npy -o ours.onnx --observer ...` (Neutron scheme: int8 "
             "activations, symmetric [-127, 127] weights, per channel for Conv, per tensor for Gemm), by default "
             "with bias correction from the float model's statistics (`--bias-correction float`): each Conv/Gemm "
             "bias absorbs the mean output shift that weight rounding causes, -(Wq - W) E[x], E[x] the calibration "
             "mean of the layer's input per channel and kernel tap (Nagel et al. 2019). *no bias correction* is "
             "`--no-bias-correction` (the quantizer before bias correction); *sequential bias correction* is "
             "`--bias-correction empirical`: b' = b + W E[x] - Wq E[xq], E[xq] measured on the quantized graph "
             "layer level by layer level, so that the shift from the layers upstream is corrected too (one run of "
             "the quantized graph per level: slower).")
    L.append("* Versions: python %s, torch %s, torchvision %s, onnx %s, numpy %s; torch threads %d; neutron from "
             "git %s (`%s`).\n" % (g["python"], g["torch"], g["torchvision"], g["onnx"], g["numpy"],
                                   g["torch_threads"], g["git"], g["neutron"]))

    L.append("## Acceptance\n")
    L.append("| model | target | measured (our default: observer %s, bias correction %s) | result |"
             % (g.get("default_observer", DEFAULT_OBSERVER), g.get("default_bias_correction", DEFAULT_BIAS_CORRECTION)))
    L.append("|---|---|---|---|")
    for name, e in report["models"].items():
        a = e["acceptance"]
        if name not in TARGETS:
            continue
        if a.get("note"):
            meas = a["note"]
        elif TARGETS[name]["kind"] == "accuracy_drop":
            meas = "float %.2f %%, ours int8 %.2f %% (drop %.2f points; torch drop %.2f points" % (
                100 * find(e["methods"], "ours_" + DEFAULT_OBSERVER)["accuracy_float"],
                100 * find(e["methods"], "ours_" + DEFAULT_OBSERVER)["accuracy"],
                a["accuracy_drop_points_ours"], a["accuracy_drop_points_torch"])
            if "accuracy_drop_points_ours_no_bias_correction" in a:
                meas += "; ours without bias correction %.2f points" % a["accuracy_drop_points_ours_no_bias_correction"]
            meas += ")"
        else:
            meas = "ours - torch = %+.2f dB (" % a["sqnr_ours_minus_torch_db"]
            if "sqnr_ours_no_bias_correction_minus_torch_db" in a:
                meas += "without bias correction: %+.2f dB; " % a["sqnr_ours_no_bias_correction_minus_torch_db"]
            meas += "best of our settings, %s: %+.2f dB)" % (a["best_setting_by_sqnr"], a["best_sqnr_ours_minus_torch_db"])
        L.append("| %s | %s | %s | **%s** |" % (name, TARGETS[name]["text"], meas,
                                                 "pass" if a["passed"] else "FAIL"))
    L.append("")

    for name, e in report["models"].items():
        L.append("## %s\n" % name)
        L.append("%s\n" % e["description"])
        L.append("* Calibration (both quantizers): %d samples: %s." % (e["calibration"]["samples"],
                                                                        e["calibration"]["description"]))
        L.append("* Evaluation: %d samples: %s." % (e["evaluation"]["samples"], e["evaluation"]["description"]))
        c = e["checks"]
        fc = c["our_float_vs_torch_float"]
        chk = "* Checks: rebuilt torch model vs `ref_f32.npy` max abs diff %.3g; our float run vs torch float on %d " \
              "sample(s) max abs diff %.3g (|output| max %.3g)" % (e["rebuilt_vs_ref_f32_max_abs_diff"], fc["samples"],
                                                                   fc["max_abs_diff"], fc["max_abs_reference"])
        if "our_int8_vs_exact_qdq_of_our_file" in c:
            q = c["our_int8_vs_exact_qdq_of_our_file"]
            chk += "; our int8 run of our QDQ file vs its exact float64 QDQ evaluation (scripts/qdq_reference.py) " \
                   "on %d sample(s): max %.3g output steps" % (q["samples"], q["max_abs_diff_steps"])
        L.append(chk + ".\n")
        torch_db = find(e["methods"], "torch")["sqnr_db"]
        L.append("| method | SQNR dB | vs PyTorch dB | cosine | top-1 vs float | accuracy | max abs err |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        if e["evaluation"]["labelled"]:
            acc_torch = find(e["methods"], "torch")["accuracy_float"]
            ours_ref = [m["accuracy_float"] for m in e["methods"] if m["kernels"] == "neutron" and "accuracy_float" in m]
            if all(a == acc_torch for a in ours_ref):
                L.append("| float (torch and our float kernels alike) | - | - | 1 | 100 %% | %.2f %% | 0 |"
                         % (100 * acc_torch))
            else:
                L.append("| float (torch) | - | - | 1 | 100 %% | %.2f %% | 0 |" % (100 * acc_torch))
                L.append("| float (our float kernels) | - | - | - | - | %s | - |"
                         % ", ".join("%.2f %%" % (100 * a) for a in sorted(set(ours_ref))))
        for m in e["methods"]:
            label = {"torch": "PyTorch PTQ (torch int8 kernels)",
                     "torch_qdq_on_ours": "PyTorch PTQ on our kernels"}.get(
                         m["key"], "ours, " + m.get("setting", m.get("observer", "")))
            if m["key"] == "ours_" + DEFAULT_OBSERVER:
                label += " (default)"
            if "error" in m:
                L.append("| %s | failed: %s | | | | | |" % (label, m["error"].splitlines()[0][:200]))
                continue
            diff = "-" if m["key"] == "torch" else "%+.2f" % (m["sqnr_db"] - torch_db)
            L.append("| %s | %.2f | %s | %.6f | %.2f %% | %s | %.4g |" % (
                label, m["sqnr_db"], diff, m["cosine"], 100 * m["top1_agreement"], fmt_acc(m), m["max_abs_error"]))
        times = [(m["setting"], m["quantize_seconds"], m.get("bias_correction_runs", 0)) for m in e["methods"]
                 if m["key"] in ("ours_" + DEFAULT_OBSERVER, "ours_" + tag_of(NO_BC), "ours_" + tag_of(SEQ_BC))
                 and "quantize_seconds" in m]
        if times:
            L.append("\n`neutron quantize` wall time (calibration included): %s." % "; ".join(
                "%s %.1f s%s" % (label, secs, " (%d runs of the quantized graph)" % runs if runs else "")
                for label, secs, runs in times))
        an = e.get("analysis")
        if an:
            base = find(e["methods"], "ours_" + tag_of(NO_BC))["sqnr_db"]
            L.append("\nWhere the difference without bias correction comes from: variants of our QDQ file without "
                     "bias correction (its biases are the float model's, so a variant can requantize them for new "
                     "weights), run the same way (our kernels, same inputs). Ours without bias correction: %.2f dB; "
                     "PyTorch: %.2f dB.\n" % (base, torch_db))
            L.append("| variant | what changes | SQNR dB | vs ours without bias correction dB | vs PyTorch dB | "
                     "weight SQNR dB |")
            L.append("|---|---|---:|---:|---:|---:|")
            L.append("| ours, %s | - | %.2f | - | %+.2f | %.2f |" % (NO_BC, base, base - torch_db,
                                                                    an["weight_sqnr_db_ours"]))
            for v in an["variants"]:
                L.append("| %s | %s | %.2f | %+.2f | %+.2f | %.2f |" % (
                    v["variant"], v["description"], v["sqnr_db"], v["delta_db"], v["sqnr_db"] - torch_db,
                    v["weight_sqnr_db"]))
            gr = an["weight_grid_sqnr_db"]
            L.append("\n*weight SQNR*: of the dequantized Conv/Gemm weights against the float weights, all layers "
                     "together. The *weight grid* rows move the rounding grid of every weight by less than 0.4 %% "
                     "(scale max(abs(w)) / D, D in %s; every weight stays in [-127, 127]); the weight error "
                     "hardly changes, yet the model's output SQNR spreads over %.2f .. %.2f dB (%.2f dB). Output "
                     "SQNR differences of that size between two quantizers of this network are within the luck of "
                     "where the weights fall on the grid, as long as nothing corrects the mean error that the "
                     "rounding leaves: bias correction does. (Check: requantizing with D = 127 reproduces our file "
                     "exactly: %s.)"
                     % (", ".join("%g" % d for d in gr["divisors"]), gr["min"], gr["max"], gr["max"] - gr["min"],
                        "yes" if an["requantize_127_reproduces_ours"] else "NO"))
            bg = an.get("bias_corrected_grid")
            if bg:
                nob = {127.0: base}
                nob.update({float(v["variant"].split("= ")[1]): v["sqnr_db"] for v in an["variants"]
                            if v["variant"].startswith("weight grid")})
                L.append("\nThe same weight grids with bias correction (default, float statistics): each variant's "
                         "biases corrected for its own weights' rounding error, (W - Wq) E[x], with E[x] from the "
                         "torch model on the same calibration set. Our bias-corrected file: %.2f dB.\n"
                         % bg["ours_sqnr_db"])
                L.append("| weight grid D | SQNR dB without bias correction | SQNR dB with bias correction | "
                         "with vs PyTorch dB |")
                L.append("|---|---:|---:|---:|")
                for v in bg["rows"]:
                    L.append("| %g%s | %s | %.2f | %+.2f |" % (
                        v["divisor"], " (our grid)" if v["divisor"] == 127.0 else "",
                        "%.2f" % nob[v["divisor"]] if v["divisor"] in nob else "-", v["sqnr_db"],
                        v["sqnr_db"] - torch_db))
                with_bc = [v["sqnr_db"] for v in bg["rows"]]
                L.append("\nWith bias correction the output SQNR spreads over %.2f .. %.2f dB (%.2f dB; without: "
                         "%.2f dB); the lowest is %+.2f dB from PyTorch's. (Check: D = 127 redone this way has "
                         "our file's weights: %s; its int32 biases differ from our file's by at most %d LSB, float "
                         "rounding of E[x] computed by torch instead of our kernels.)"
                         % (min(with_bc), max(with_bc), max(with_bc) - min(with_bc), gr["max"] - gr["min"],
                            min(with_bc) - torch_db, "yes" if bg["redo_127_weights_equal"] else "NO",
                            bg["redo_127_bias_max_lsb"]))
        floats = find(e["methods"], "ours_" + DEFAULT_OBSERVER)
        if floats and floats.get("float_nodes"):
            L.append("\nNodes our quantizer left in float: %s" % "; ".join(floats["float_nodes"]))
        L.append("")
    if report.get("issue16"):
        L.extend(issue16_markdown(report["issue16"]))
    load = (", load average %.1f at the end of the run" % g["load_average_end"]) if "load_average_end" in g else ""
    L.append("Total run time %.0f s on %s%s (the 2 training runs of the Fashion-MNIST recipes and torch's "
             "HistogramObserver take most of it)." % (report["seconds"], g["machine"], load))
    # The transformer section belongs to scripts/transformer_report.py: kept as it is.
    begin, end = "<!-- transformers: scripts/transformer_report.py -->", "<!-- /transformers -->"
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if begin in old and end in old:
            L += ["", old[old.index(begin):old.index(end) + len(end)]]
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


# Issue 16's networks (fixtures/<name>/ from make_fixtures.py, random weights): ours only (no torch
# PTQ), quantized with the defaults, compiled for imxrt700 and for the CPU, every sample run through
# both programs and the quantized ONNX model on the host.
ISSUE16 = [
    ("unet_small", "int8 SQNR >= 25 dB", 25.0, None),
    ("vocoder_1d", "int8 SQNR >= 25 dB", 25.0, None),
    ("face_embedder", "normalised embedding SQNR >= 13 dB", 13.0, None),
    ("ssd_head", "box SQNR >= 17 dB", None, 17.0),
    ("gru_kws", "int8 SQNR >= 25 dB", 25.0, None),
    ("lstm_kws", "int8 SQNR >= 25 dB", 25.0, None),
]


def sqnr_db(ref, test):
    ref = np.asarray(ref, np.float64)
    err = np.sum((ref - np.asarray(test, np.float64)) ** 2)
    return float(10 * np.log10(np.sum(ref ** 2) / err)) if err > 0 else float("inf")


def evaluate_issue16(neutron, tmp_root):
    fixtures = os.path.join(REPO_ROOT, "fixtures")
    with open(os.path.join(fixtures, "manifest.json")) as f:
        manifest = json.load(f).get("issue16", {})
    out = {}
    for name, target, min_sqnr, min_box in ISSUE16:
        d = os.path.join(fixtures, name)
        if not os.path.exists(os.path.join(d, "model_f32.onnx")):
            continue
        log("== %s (issue 16)" % name)
        tmp = os.path.join(tmp_root, name)
        os.makedirs(tmp, exist_ok=True)
        q, npu, cpu = (os.path.join(tmp, f) for f in ("q.onnx", "npu.nprg", "cpu.nprg"))
        run_cli([neutron, "quantize", os.path.join(d, "model_f32.onnx"), "--calib", os.path.join(d, "calib.npy"),
                 "-o", q], "neutron quantize")
        # --allow-oversize: ResNet-18's weights exceed the RT700's SRAM without prefetch; accuracy only.
        rep, _ = run_cli([neutron, "compile", q, "--target", "imxrt700", "-o", npu, "--allow-oversize"],
                         "neutron compile")
        run_cli([neutron, "compile", q, "--target", "cpu", "-o", cpu], "neutron compile --target cpu")
        m = re.search(r"MACs on the NPU: (\d+) of (\d+)", rep)
        macs_on, macs_all = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        x = np.load(os.path.join(d, "inputs.npy"))
        ref = np.load(os.path.join(d, "ref_f32.npy"))
        runs = {k: [] for k in ("npu", "cpu", "host")}
        for i in range(len(x)):
            for k, model in (("npu", npu), ("cpu", cpu), ("host", q)):
                runs[k].append(neutron_run(neutron, model, x[i:i + 1], tmp, k))
        o = {k: np.concatenate(v) for k, v in runs.items()}
        e = dict(description=manifest.get(name, {}).get("description", ""), target=target,
                 sqnr_db=round(sqnr_db(ref, o["npu"].reshape(ref.shape)), 2),
                 macs_on_npu=macs_on, macs=macs_all,
                 npu_equals_cpu_program=bool(np.array_equal(o["npu"], o["cpu"])),
                 npu_equals_host=bool(np.array_equal(o["npu"], o["host"])), samples=int(len(x)))
        if min_box is not None:
            e["box_sqnr_db"] = round(sqnr_db(ref[..., :4], o["npu"].reshape(ref.shape)[..., :4]), 2)
            e["passed"] = e["box_sqnr_db"] >= min_box
        else:
            e["passed"] = e["sqnr_db"] >= min_sqnr
        e["passed"] = bool(e["passed"] and macs_on == macs_all and e["npu_equals_cpu_program"] and e["npu_equals_host"])
        out[name] = e
    return out


def issue16_markdown(rows):
    L = ["## Issue 16 networks: segmentation, speech synthesis, face recognition, detection, keyword spotting\n",
         "Plain PyTorch networks with random weights (`fixtures/<name>/`, `scripts/make_fixtures.py`), ours only: "
         "`neutron quantize` with the defaults and the fixture's calib.npy, `neutron compile --target imxrt700` and "
         "`--target cpu`, every sample of inputs.npy run through both programs (NPU partitions on the simulated "
         "NPU) and the quantized ONNX model on the host; SQNR of the NPU program's output against torch's float "
         "output (ref_f32.npy). Also a regression test (tests/tools/issue16_models_cli_test.cc).\n",
         "| model | network | target | int8 vs float SQNR dB | MACs on the NPU | NPU = CPU program = host | result |",
         "|---|---|---|---:|---:|---|---|"]
    for name, e in rows.items():
        sq = "%.2f" % e["sqnr_db"]
        if "box_sqnr_db" in e:
            sq += " (boxes %.2f)" % e["box_sqnr_db"]
        pct = 100.0 * e["macs_on_npu"] / e["macs"] if e["macs"] else 0.0
        L.append("| %s | %s | %s | %s | %d of %d (%.1f %%) | %s | %s |" % (
            name, e["description"], e["target"], sq, e["macs_on_npu"], e["macs"], pct,
            "yes" if e["npu_equals_cpu_program"] and e["npu_equals_host"] else "NO",
            "**pass**" if e["passed"] else "**FAIL**"))
    L.append("")
    return L


def git_describe():
    try:
        return subprocess.run(["git", "-C", REPO_ROOT, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("neutron", nargs="?", default="build/neutron", help="the neutron CLI (default build/neutron)")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help="comma-separated subset of: %s" % ", ".join(ALL_MODELS))
    ap.add_argument("--image-calib", type=int, default=64,
                    help="calibration images for the synthetic-image models (0 = the recipe's own count; default 64)")
    ap.add_argument("--image-eval", type=int, default=64, help="evaluation images for those models (default 64)")
    ap.add_argument("--fmnist-eval", type=int, default=0,
                    help="evaluate the Fashion-MNIST models on the first N test images (0 = all 10000)")
    ap.add_argument("--analysis", default="mobilenet_v2,resnet18",
                    help="models whose gap to torch is analysed with variants of our QDQ file (default "
                         "mobilenet_v2,resnet18; empty for none)")
    ap.add_argument("--grid-divisors", default="127.1,127.2,127.3,127.4",
                    help="weight-grid variants of the analysis: scale = max|w| / D for each D")
    ap.add_argument("--skip-qdq-check", action="store_true", help="skip the float64 QDQ evaluation check")
    ap.add_argument("--md", default=os.path.join(REPO_ROOT, "docs", "accuracy-report.md"))
    ap.add_argument("--json", default=os.path.join(REPO_ROOT, "docs", "accuracy-report.json"))
    ap.add_argument("--render-only", action="store_true",
                    help="only rewrite the Markdown report from the existing JSON report (no runs)")
    ap.add_argument("--keep", metavar="DIR", help="keep the temporary files (calibration, models) in DIR")
    ap.add_argument("--issue16-only", action="store_true",
                    help="only (re)measure the issue-16 networks, keep the rest of the existing JSON report, re-render")
    args = ap.parse_args()
    if args.render_only:
        with open(args.json) as f:
            write_markdown(args.md, json.load(f))
        log("== wrote %s from %s" % (os.path.relpath(args.md), os.path.relpath(args.json)))
        return
    names = [n for n in args.models.split(",") if n]
    args.analysis = [n for n in args.analysis.split(",") if n]
    args.grid_divisors = [float(d) for d in args.grid_divisors.split(",") if d]
    for n in names:
        if n not in ALL_MODELS:
            ap.error("unknown model %s" % n)
    neutron = args.neutron if os.path.isabs(args.neutron) else os.path.join(os.getcwd(), args.neutron)
    if not os.path.exists(neutron):
        neutron = os.path.join(REPO_ROOT, args.neutron)
    if not os.access(neutron, os.X_OK):
        ap.error("%s: no such executable; build it with scripts/build.sh" % args.neutron)
    args.neutron = neutron

    if args.issue16_only:
        with open(args.json) as f:
            report = json.load(f)
        with tempfile.TemporaryDirectory(prefix="accuracy_report_") as tmp:
            report["issue16"] = evaluate_issue16(neutron, tmp)
        with open(args.json, "w") as f:
            f.write(json.dumps(report, indent=1, allow_nan=True) + "\n")
        write_markdown(args.md, report)
        log("== wrote the issue-16 section of %s and %s" % (os.path.relpath(args.md), os.path.relpath(args.json)))
        return

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    command = " ".join(["/usr/bin/python3", "scripts/accuracy_report.py"] + sys.argv[1:])
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        tmp_ctx = None
        tmp_root = args.keep
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="accuracy_report_")
        tmp_root = tmp_ctx.name
    models = {}
    try:
        for n in names:
            models[n] = evaluate_model(n, args, tmp_root)
        issue16 = evaluate_issue16(neutron, tmp_root)
    finally:
        if tmp_ctx:
            tmp_ctx.cleanup()

    report = dict(
        generator=dict(script="scripts/accuracy_report.py", command=command.strip(), python=platform.python_version(),
                       torch=torch.__version__, torchvision=torchvision.__version__, onnx=onnx.__version__,
                       numpy=np.__version__, quantized_engine=ENGINE, torch_threads=torch.get_num_threads(),
                       neutron=os.path.relpath(neutron, REPO_ROOT), git=git_describe(),
                       machine="%s, %d cores" % (platform.machine(), os.cpu_count() or 0),
                       image_calib=args.image_calib, image_eval=args.image_eval,
                       default_observer=DEFAULT_OBSERVER, default_bias_correction=DEFAULT_BIAS_CORRECTION,
                       load_average_end=round(os.getloadavg()[0], 1),
                       settings={label: extra for label, _, extra in OURS}),
        metrics=dict(sqnr_db="10 log10(sum ref^2 / sum (test - ref)^2) over all samples and output elements",
                     cosine="<ref, test> / (|ref| |test|) over all samples and output elements",
                     top1_agreement="fraction of samples whose argmax equals the float model's",
                     accuracy="fraction of samples whose argmax equals the label"),
        targets={k: v["text"] for k, v in TARGETS.items()},
        models=models,
        issue16=issue16,
        seconds=round(time.perf_counter() - t0, 1),
    )
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        f.write(json.dumps(report, indent=1, allow_nan=True) + "\n")
    write_markdown(args.md, report)
    log("== wrote %s and %s in %.1f s" % (os.path.relpath(args.md), os.path.relpath(args.json), report["seconds"]))
    for n, e in models.items():
        a = e["acceptance"]
        log("  %-18s %s" % (n, "pass" if a["passed"] else ("FAIL" if a["passed"] is False else "(no target)")))


if __name__ == "__main__":
    main()
