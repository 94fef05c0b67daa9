#!/usr/bin/python3
"""Generate the golden model fixtures under fixtures/.

Run with Debian's interpreter (torch, torchvision, onnx and numpy live there):

    /usr/bin/python3 scripts/make_fixtures.py              # every model
    /usr/bin/python3 scripts/make_fixtures.py --only resnet18

Prerequisites: scripts/setup.sh --fixtures (python3-torch, python3-torchvision,
python3-onnx, dataset-fashion-mnist).

For every model this writes fixtures/<name>/:
    model_f32.onnx       float export (opset 13, batch 1, input "input", output "output")
    model_int8.onnx      onednn FX post-training-quantized model exported as QDQ ONNX
    inputs.npy           float32 [S, C, H, W]; sample i is fed as inputs[i:i+1]
    ref_f32.npy          torch float outputs, float32 [S, ...]
    ref_int8_torch.npy   torch quantized (convert_fx) outputs, float32 [S, ...]
    ref_int8_qdq.npy     exact QDQ evaluation of model_int8.onnx by scripts/qdq_reference.py
and updates fixtures/manifest.json.  Everything is seeded; running the script
twice gives byte-identical files.
"""

import argparse
import copy
import gzip
import hashlib
import json
import math
import os
import platform
import re
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qdq_reference import OnnxReference  # noqa: E402

SCRIPT_VERSION = 1
OPSET = 13
ENGINE = "onednn"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO_ROOT, "fixtures")
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
MODEL_ORDER = ["cifarnet", "fmnist_cnn", "mobilenet_v1_025", "mobilenet_v2", "resnet18"]

warnings.filterwarnings("ignore")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


# ----------------------------------------------------------------------------
# Synthetic inputs: smooth random "images" (low-frequency noise upsampled
# bilinearly, plus a little pixel noise).  Pure numpy, seeded.
# ----------------------------------------------------------------------------
def _linear_upsample_matrix(out_len, in_len):
    pos = np.clip((np.arange(out_len) + 0.5) * in_len / out_len - 0.5, 0, in_len - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, in_len - 1)
    frac = pos - lo
    m = np.zeros((out_len, in_len))
    m[np.arange(out_len), lo] += 1 - frac
    m[np.arange(out_len), hi] += frac
    return m


def smooth_images(seed, n, c, h, w):
    rng = np.random.default_rng(seed)
    ch, cw = max(h // 8, 2), max(w // 8, 2)
    coarse = rng.standard_normal((n, c, ch, cw))
    uy, ux = _linear_upsample_matrix(h, ch), _linear_upsample_matrix(w, cw)
    smooth = np.einsum("yi,ncij,xj->ncyx", uy, coarse, ux)
    img = 1.2 * smooth + 0.3 * rng.standard_normal((n, c, h, w))
    return img.astype(np.float32)


def imagenet_like(seed, n, size):
    """Roughly the range of ImageNet-normalized pixels."""
    return np.clip(smooth_images(seed, n, 3, size, size), -2.5, 2.5).astype(np.float32)


# ----------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------
class CifarNet(nn.Module):
    """Same layer stack as the CifarNet of ExecuTorch's NXP example
    (examples/nxp/experimental/cifar_net/cifar_net.py): three 5x5 convolutions
    with explicit zero padding of 2, no activation functions, max pooling after
    each convolution, a 1024->10 fully connected layer and a softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5)
        self.conv2 = nn.Conv2d(32, 32, 5)
        self.conv3 = nn.Conv2d(32, 64, 5)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.pool2 = nn.MaxPool2d(1, 2)
        self.fc = nn.Linear(1024, 10)

    def features(self, x):
        x = self.pool1(self.conv1(F.pad(x, (2, 2, 2, 2))))
        x = self.pool1(self.conv2(F.pad(x, (2, 2, 2, 2))))
        x = self.pool2(self.conv3(F.pad(x, (2, 2, 2, 2))))
        return torch.reshape(x, (-1, 1024))

    def forward(self, x):
        return F.softmax(self.fc(self.features(x)), dim=1)


class FixedOutputQuant(nn.Module):
    """Wraps a converted model whose last op (softmax) stays float and
    quantizes its output with fixed parameters (scale 1/256, zero point 0),
    the usual convention for a quantized softmax."""

    def __init__(self, inner, scale=1.0 / 256.0, zero_point=0):
        super().__init__()
        self.inner = inner
        self.scale = scale
        self.zero_point = zero_point

    def forward(self, x):
        y = self.inner(x)
        return torch.quantize_per_tensor(y, self.scale, self.zero_point, torch.quint8).dequantize()


class FmnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 10))

    def forward(self, x):
        return self.body(x)


def _conv_bn_relu6(cin, cout, kernel, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU6()]


class MobileNetV1(nn.Module):
    """MobileNetV1 (Howard et al. 2017): a 3x3 stride-2 stem followed by 13
    depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, each with
    BatchNorm and ReLU6), global average pooling and a linear classifier.
    Channel counts are max(8, int(c * alpha))."""

    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, alpha=0.25, num_classes=1000):
        super().__init__()
        depth = lambda c: max(8, int(c * alpha))  # noqa: E731
        cin = depth(32)
        layers = _conv_bn_relu6(3, cin, 3, 2)
        for c, s in self.BLOCKS:
            layers += _conv_bn_relu6(cin, cin, 3, s, groups=cin)   # depthwise 3x3
            layers += _conv_bn_relu6(cin, depth(c), 1)             # pointwise 1x1
            cin = depth(c)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def recalibrate_batchnorm(model, size, passes=10, batch=8):
    """Random-init networks with default BN statistics have vanishing
    activations; re-estimate the running statistics on random data."""
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(torch.randn(batch, 3, size, size))
    model.eval()


# ----------------------------------------------------------------------------
# Fashion-MNIST
# ----------------------------------------------------------------------------
def _read_idx(name, offset):
    with gzip.open(os.path.join(FMNIST_DIR, name), "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_fmnist():
    tr_x = _read_idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    tr_y = _read_idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    te_x = _read_idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    te_y = _read_idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return tr_x, tr_y, te_x, te_y


def to_unit(u8):
    return (u8.astype(np.float32) / np.float32(255.0)).astype(np.float32)


# ----------------------------------------------------------------------------
# Per-model recipes.  Each returns a dict with the float model (eval mode),
# the test inputs, the calibration batches and human-readable descriptions.
# ----------------------------------------------------------------------------
def cifar_like(u8_images):
    """Fashion-MNIST uint8 [N,28,28] -> CIFAR-shaped float [N,3,32,32]: zero-pad to 32x32,
    replicate to 3 channels, normalize as CIFAR examples do ((x - 0.5) / 0.5)."""
    x = to_unit(u8_images)
    x = np.pad(x.reshape(-1, 28, 28), ((0, 0), (2, 2), (2, 2)))
    x = np.repeat(x[:, None], 3, axis=1)
    return ((x - 0.5) / 0.5).astype(np.float32)


def recipe_cifarnet():
    # No CIFAR-10 in Debian: train the CifarNet architecture on real images from
    # Fashion-MNIST, shaped like CIFAR (3x32x32). A trained classifier has peaked
    # softmax outputs, as a deployed CifarNet does; random weights would make the
    # softmax amplify every 1-LSB rounding tie of the logits into several output steps.
    seed_everything(1)
    tr_x, tr_y, te_x, _ = load_fmnist()
    model = CifarNet()
    xtr = torch.from_numpy(cifar_like(tr_x[:20000]))
    ytr = torch.from_numpy(tr_y[:20000])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    t0 = time.perf_counter()
    model.train()
    order = torch.randperm(len(xtr), generator=gen)
    for i in range(0, len(xtr), 100):
        idx = order[i:i + 100]
        # log-softmax of the model's softmax output: the model ends in softmax, as upstream's does.
        loss = F.nll_loss(torch.log(model(xtr[idx]) + 1e-9), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    log("  cifarnet: trained 1 epoch on 20000 images in %.1f s (final batch loss %.3f)" % (time.perf_counter() - t0, loss.item()))
    inputs = cifar_like(te_x[:100])
    calib = cifar_like(tr_x[20000:20256])
    return dict(
        model=model,
        inputs=inputs,
        calib=[calib[i:i + 64] for i in range(0, 256, 64)],
        wrap_int8=FixedOutputQuant,
        description="CifarNet of ExecuTorch's NXP example (pad-conv5x5-maxpool x3, reshape, fc, softmax), "
                    "trained 1 epoch (Adam lr 1e-3, batch 100, seed 1) on the first 20000 Fashion-MNIST "
                    "training images shaped like CIFAR (zero-padded to 32x32, 3 channels, (x-0.5)/0.5). "
                    "Output = softmax probabilities.",
        inputs_description="first 100 Fashion-MNIST test images, shaped like CIFAR as above",
        calibration="Fashion-MNIST training images 20000..20255, shaped like CIFAR, 4 batches of 64",
        int8_notes="F.softmax is not quantized by FX (it stays float after the last DequantizeLinear); "
                   "the int8 model appends a fixed QuantizeLinear/DequantizeLinear (scale 1/256, zero point 0) "
                   "after the softmax. The F.pad ops run in float between DequantizeLinear and QuantizeLinear.",
    )


def recipe_fmnist_cnn(state):
    seed_everything(4)
    tr_x, tr_y, te_x, te_y = load_fmnist()
    state.update(te_x=te_x, te_y=te_y)
    xtr, ytr = torch.from_numpy(to_unit(tr_x)), torch.from_numpy(tr_y)
    model = FmnistCnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(4)
    t0 = time.perf_counter()
    model.train()
    for _ in range(2):
        order = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), 128):
            idx = order[i:i + 128]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    log("  fmnist_cnn: trained 2 epochs in %.1f s (final batch loss %.3f)" % (time.perf_counter() - t0, loss.item()))
    calib = to_unit(tr_x[:1000])
    return dict(
        model=model,
        inputs=to_unit(te_x[:10]),
        calib=[calib[i:i + 100] for i in range(0, 1000, 100)],
        description="conv3x3(16)-bn-relu-maxpool2, conv3x3(32)-bn-relu-maxpool2, flatten, linear(10); "
                    "trained on the Fashion-MNIST training set, 2 epochs, Adam lr 1e-3, batch 128, seed 4.",
        inputs_description="first 10 Fashion-MNIST test images, pixel/255 (no other normalization)",
        calibration="first 1000 Fashion-MNIST training images (pixel/255), 10 batches of 100",
    )


def recipe_mobilenet_v2():
    seed_everything(2)
    model = torchvision.models.mobilenet_v2(weights=None)
    recalibrate_batchnorm(model, 224)
    calib = imagenet_like(22, 16, 224)
    return dict(
        model=model,
        inputs=imagenet_like(21, 4, 224),
        calib=[calib[:8], calib[8:]],
        description="torchvision mobilenet_v2(weights=None), seed 2, BatchNorm statistics re-estimated "
                    "with 10 train-mode passes of torch.randn(8,3,224,224).",
        inputs_description="4 smooth random images seed 21, clipped to [-2.5, 2.5] (ImageNet-normalized range)",
        calibration="16 smooth random images seed 22 (clipped to [-2.5, 2.5]), 2 batches of 8",
    )


def recipe_resnet18():
    seed_everything(3)
    model = torchvision.models.resnet18(weights=None).eval()
    calib = imagenet_like(32, 16, 224)
    return dict(
        model=model,
        inputs=imagenet_like(31, 4, 224),
        calib=[calib[:8], calib[8:]],
        description="torchvision resnet18(weights=None), seed 3, default BatchNorm statistics.",
        inputs_description="4 smooth random images seed 31, clipped to [-2.5, 2.5] (ImageNet-normalized range)",
        calibration="16 smooth random images seed 32 (clipped to [-2.5, 2.5]), 2 batches of 8",
    )


def recipe_mobilenet_v1_025():
    seed_everything(5)
    model = MobileNetV1(alpha=0.25, num_classes=1000)
    recalibrate_batchnorm(model, 128)
    calib = imagenet_like(52, 32, 128)
    return dict(
        model=model,
        inputs=imagenet_like(51, 4, 128),
        calib=[calib[i:i + 8] for i in range(0, 32, 8)],
        description="MobileNetV1 alpha=0.25, 128x128 input, 1000 classes (stem conv3x3 s2 + 13 depthwise-separable "
                    "blocks, BN+ReLU6, global average pool, linear), random init seed 5, BatchNorm statistics "
                    "re-estimated with 10 train-mode passes of torch.randn(8,3,128,128).",
        inputs_description="4 smooth random images seed 51, clipped to [-2.5, 2.5]",
        calibration="32 smooth random images seed 52 (clipped to [-2.5, 2.5]), 4 batches of 8",
    )


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------
def torch_outputs(model, inputs):
    """Run sample by sample (batch 1), exactly as the fixtures are consumed."""
    outs = []
    with torch.no_grad():
        for i in range(len(inputs)):
            outs.append(model(torch.from_numpy(inputs[i:i + 1])).numpy()[0])
    return np.stack(outs).astype(np.float32)


def reference_outputs(ref, inputs):
    outs = []
    for i in range(len(inputs)):
        (y,) = ref.run({"input": inputs[i:i + 1]})
        outs.append(y[0])
    return np.stack(outs)


def export_onnx(model, example, path):
    torch.onnx.export(model, example, path, opset_version=OPSET, input_names=["input"],
                      output_names=["output"], do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def op_counts(model):
    counts = {}
    for n in model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return dict(sorted(counts.items()))


def output_quantization(model):
    """Scale and zero point of the DequantizeLinear that produces the graph output."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = onnx.numpy_helper.to_array(n.attribute[0].t)

    def value(name):
        while name not in consts and producer[name].op_type == "Identity":
            name = producer[name].input[0]
        return consts[name]

    node = producer[g.output[0].name]
    while node.op_type in ("Identity", "Reshape", "Flatten"):
        node = producer[node.input[0]]
    assert node.op_type == "DequantizeLinear", node.op_type
    scale = value(node.input[1])
    zp = value(node.input[2]) if len(node.input) > 2 and node.input[2] else np.zeros((), np.uint8)
    assert scale.size == 1 and zp.size == 1
    return dict(scale=float(np.float32(scale.reshape(-1)[0])), zero_point=int(zp.reshape(-1)[0]),
                dtype=str(zp.dtype))


def _num(v, digits=6):
    return float("%.*g" % (digits, v))


def cosine(a, b):
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def compare_in_steps(a, b, scale):
    """a and b lie on the same quantization grid; measure in LSB steps."""
    d = np.abs(a.astype(np.float64) - b.astype(np.float64)) / scale
    steps = np.rint(d)
    top_a, top_b = a.reshape(len(a), -1).argmax(1), b.reshape(len(b), -1).argmax(1)
    return dict(
        max_abs_diff_steps=int(steps.max()),
        pct_elements_diff_gt0_steps=_num(100.0 * np.mean(steps > 0)),
        pct_elements_diff_gt2_steps=_num(100.0 * np.mean(steps > 2)),
        mean_abs_diff_steps=_num(float(d.mean())),
        max_off_grid=_num(float(np.abs(d - steps).max()), 3),
        cosine=_num(cosine(a, b), 9),
        top1_agreement=_num(float(np.mean(top_a == top_b))),
    )


def compare_float(a, b):
    top_a, top_b = a.reshape(len(a), -1).argmax(1), b.reshape(len(b), -1).argmax(1)
    return dict(
        max_abs_diff=_num(float(np.abs(a.astype(np.float64) - b).max())),
        max_abs_reference=_num(float(np.abs(b).max())),
        cosine=_num(cosine(a, b), 9),
        top1_agreement=_num(float(np.mean(top_a == top_b))),
    )


def file_info(path):
    with open(path, "rb") as f:
        data = f.read()
    return dict(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def save_npy(path, arr):
    with open(path, "wb") as f:
        np.save(f, arr, allow_pickle=False)


# ----------------------------------------------------------------------------
# Fixture builder
# ----------------------------------------------------------------------------
def build(name):
    t_start = time.perf_counter()
    log("== %s" % name)
    state = {}
    recipe = recipe_fmnist_cnn(state) if name == "fmnist_cnn" else globals()["recipe_" + name]()
    model, inputs = recipe["model"].eval(), recipe["inputs"]
    out_dir = os.path.join(FIXTURES, name)
    os.makedirs(out_dir, exist_ok=True)
    example = torch.from_numpy(inputs[:1])

    # float reference and export
    ref_f32 = torch_outputs(model, inputs)
    f32_path = os.path.join(out_dir, "model_f32.onnx")
    f32_onnx = export_onnx(model, example, f32_path)

    # onednn FX post-training quantization
    torch.backends.quantized.engine = ENGINE
    prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping(ENGINE), example_inputs=(example,))
    with torch.no_grad():
        for batch in recipe["calib"]:
            prepared(torch.from_numpy(batch))
    qmodel = convert_fx(prepared)
    if recipe.get("wrap_int8"):
        qmodel = recipe["wrap_int8"](qmodel)
    qmodel.eval()
    ref_int8_torch = torch_outputs(qmodel, inputs)
    int8_path = os.path.join(out_dir, "model_int8.onnx")
    int8_onnx = export_onnx(qmodel, example, int8_path)

    # independent float64 evaluation of both exported graphs
    f32_eval = reference_outputs(OnnxReference(f32_onnx), inputs)
    err = np.abs(f32_eval - ref_f32.astype(np.float64)).max()
    tol = 1e-4 * np.abs(ref_f32).max()
    log("  evaluator on model_f32.onnx vs torch float: max abs diff %.3g (tolerance %.3g)" % (err, tol))
    assert err <= tol, "qdq_reference disagrees with torch on the float model"
    qdq_ref = OnnxReference(int8_onnx)
    ref_int8_qdq = reference_outputs(qdq_ref, inputs).astype(np.float32)

    oq = output_quantization(int8_onnx)
    out_shape = list(ref_f32.shape[1:])
    entry = dict(
        description=recipe["description"],
        input_name="input",
        output_name="output",
        input_shape=[1] + list(inputs.shape[1:]),
        output_shape=[1] + out_shape,
        sample_count=int(len(inputs)),
        inputs=recipe["inputs_description"],
        input_range=[_num(float(inputs.min())), _num(float(inputs.max()))],
        calibration=recipe["calibration"],
        quantization="torch %s FX PTQ: get_default_qconfig_mapping('%s'), prepare_fx/convert_fx; "
                     "uint8 activations (HistogramObserver), int8 symmetric per-channel weights, int32 bias; "
                     "exported with torch.onnx.export(opset_version=%d) as QuantizeLinear/DequantizeLinear"
                     % (ENGINE, ENGINE, OPSET),
        output_quantization=oq,
        onnx_ops=dict(model_f32=op_counts(f32_onnx), model_int8=op_counts(int8_onnx)),
        stats=dict(
            int8_qdq_vs_int8_torch=compare_in_steps(ref_int8_qdq, ref_int8_torch, oq["scale"]),
            int8_torch_vs_f32=compare_float(ref_int8_torch, ref_f32),
            int8_qdq_vs_f32=compare_float(ref_int8_qdq, ref_f32),
            evaluator_f32_vs_torch_f32=dict(max_abs_diff=_num(float(err)),
                                            max_abs_reference=_num(float(np.abs(ref_f32).max()))),
        ),
    )
    if recipe.get("int8_notes"):
        entry["int8_notes"] = recipe["int8_notes"]

    save_npy(os.path.join(out_dir, "inputs.npy"), inputs.astype(np.float32))
    save_npy(os.path.join(out_dir, "ref_f32.npy"), ref_f32)
    save_npy(os.path.join(out_dir, "ref_int8_torch.npy"), ref_int8_torch)
    save_npy(os.path.join(out_dir, "ref_int8_qdq.npy"), ref_int8_qdq)

    if name == "fmnist_cnn":
        entry["test_set"] = fmnist_test_set(out_dir, model, qmodel, qdq_ref, state, oq["scale"],
                                            ref_int8_torch, ref_int8_qdq)

    entry["files"] = {f: file_info(os.path.join(out_dir, f)) for f in sorted(os.listdir(out_dir))}
    log_summary(name, entry, time.perf_counter() - t_start)
    return entry


def fmnist_test_set(out_dir, model, qmodel, qdq_ref, state, scale, ref_int8_torch, ref_int8_qdq):
    te_x, te_y = state["te_x"], state["te_y"]
    x = to_unit(te_x)
    chunk = 500
    with torch.no_grad():
        logits_f32 = np.concatenate([model(torch.from_numpy(x[i:i + chunk])).numpy()
                                     for i in range(0, len(x), chunk)])
        logits_int8 = np.concatenate([qmodel(torch.from_numpy(x[i:i + chunk])).numpy()
                                      for i in range(0, len(x), chunk)])
    logits_qdq = np.concatenate([qdq_ref.run({"input": x[i:i + chunk]})[0]
                                 for i in range(0, len(x), chunk)]).astype(np.float32)
    # batched evaluation must agree with the batch-1 reference files
    n = len(ref_int8_torch)
    batch_consistent = dict(int8_torch=bool(np.array_equal(logits_int8[:n], ref_int8_torch)),
                            int8_qdq=bool(np.array_equal(logits_qdq[:n], ref_int8_qdq)))
    pred_f32 = logits_f32.argmax(1).astype(np.int64)
    pred_torch = logits_int8.argmax(1).astype(np.int64)
    pred_qdq = logits_qdq.argmax(1).astype(np.int64)
    save_npy(os.path.join(out_dir, "test_images_u8.npy"), np.ascontiguousarray(te_x, dtype=np.uint8))
    save_npy(os.path.join(out_dir, "test_labels.npy"), te_y.astype(np.int64))
    save_npy(os.path.join(out_dir, "pred_int8_torch.npy"), pred_torch)
    save_npy(os.path.join(out_dir, "pred_int8_qdq.npy"), pred_qdq)
    return dict(
        images=len(te_y),
        files="test_images_u8.npy (uint8 [10000,1,28,28]), test_labels.npy (int64 [10000]), "
              "pred_int8_torch.npy / pred_int8_qdq.npy (int64 [10000] argmax predictions); "
              "the model input is test_images_u8 / 255 as float32",
        accuracy_f32=_num(float(np.mean(pred_f32 == te_y))),
        accuracy_int8_torch=_num(float(np.mean(pred_torch == te_y))),
        accuracy_int8_qdq=_num(float(np.mean(pred_qdq == te_y))),
        pred_agreement_int8_torch_vs_qdq=_num(float(np.mean(pred_torch == pred_qdq))),
        pred_agreement_int8_torch_vs_f32=_num(float(np.mean(pred_torch == pred_f32))),
        logits_int8_qdq_vs_int8_torch=compare_in_steps(logits_qdq, logits_int8, scale),
        batched_equals_batch1=batch_consistent,
    )


def log_summary(name, e, seconds):
    s = e["stats"]
    q = s["int8_qdq_vs_int8_torch"]
    log("  input %s, %d samples, output %s, output quant scale %.6g zp %d"
        % (e["input_shape"], e["sample_count"], e["output_shape"],
           e["output_quantization"]["scale"], e["output_quantization"]["zero_point"]))
    log("  qdq vs torch int8: max %d steps, %.3g%% elems > 0 steps, %.3g%% > 2 steps, cosine %.6f, top-1 agree %.3g"
        % (q["max_abs_diff_steps"], q["pct_elements_diff_gt0_steps"], q["pct_elements_diff_gt2_steps"],
           q["cosine"], q["top1_agreement"]))
    t = s["int8_torch_vs_f32"]
    log("  torch int8 vs float: cosine %.6f, max abs diff %.4g (|ref| max %.4g), top-1 agree %.3g"
        % (t["cosine"], t["max_abs_diff"], t["max_abs_reference"], t["top1_agreement"]))
    if "test_set" in e:
        ts = e["test_set"]
        log("  test set: acc f32 %.4f, int8 torch %.4f, int8 qdq %.4f, torch/qdq pred agreement %.4f"
            % (ts["accuracy_f32"], ts["accuracy_int8_torch"], ts["accuracy_int8_qdq"],
               ts["pred_agreement_int8_torch_vs_qdq"]))
    log("  ops f32:  %s" % ", ".join("%s %d" % kv for kv in e["onnx_ops"]["model_f32"].items()))
    log("  ops int8: %s" % ", ".join("%s %d" % kv for kv in e["onnx_ops"]["model_int8"].items()))
    log("  files: %s" % ", ".join("%s %d" % (k, v["bytes"]) for k, v in e["files"].items()))
    log("  done in %.1f s" % seconds)


# ----------------------------------------------------------------------------
# Transformers (issue 15): plain PyTorch (nn.LayerNorm, nn.GELU, attention with @ and softmax,
# nn.Embedding, a causal masked_fill(-inf)), random weights, exported at opsets 13 and 17.
# ----------------------------------------------------------------------------

class Attention(nn.Module):
    def __init__(self, dim, heads, causal=False, ctx=0):
        super().__init__()
        self.h = heads; self.d = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.causal = causal
        if causal:
            self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx))
    def forward(self, x):
        B, T, C = x.shape
        qkv = self.qkv(x).reshape(B, T, 3, self.h, self.d).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.d))
        if self.causal:
            att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = att.softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)

class Block(nn.Module):
    def __init__(self, dim, heads, mlp, causal=False, ctx=0):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim); self.attn = Attention(dim, heads, causal, ctx)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))
    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))

class ViT(nn.Module):
    def __init__(self, img=32, patch=8, ch=3, dim=64, depth=2, heads=4, mlp=128, classes=10):
        super().__init__()
        n = (img // patch) ** 2
        self.patch = nn.Conv2d(ch, dim, patch, patch)
        # N(0, 1) like nn.Embedding (the GPT's position table): with timm's 0.02 the cls token is a
        # few LSBs of the residual stream's int8 scale (docs/accuracy-report.md)
        self.cls = nn.Parameter(torch.randn(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim); self.head = nn.Linear(dim, classes)
    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.ln(self.blocks(x))
        return self.head(x[:, 0])

class KWS(nn.Module):
    # keyword spotting on MFCC frames [B, 1, T, F]: frame embedding, transformer, mean pool
    def __init__(self, frames=49, feats=10, dim=64, depth=2, heads=4, mlp=128, classes=12):
        super().__init__()
        self.embed = nn.Linear(feats, dim)
        self.pos = nn.Parameter(torch.randn(1, frames, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim); self.head = nn.Linear(dim, classes)
    def forward(self, x):
        x = self.embed(x.squeeze(1)) + self.pos
        x = self.ln(self.blocks(x))
        return self.head(x.mean(dim=1))

class GPT(nn.Module):
    def __init__(self, vocab=128, ctx=16, dim=64, depth=2, heads=4, mlp=128):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim); self.pos = nn.Embedding(ctx, dim)
        self.register_buffer("positions", torch.arange(ctx).unsqueeze(0))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp, True, ctx) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim); self.head = nn.Linear(dim, vocab, bias=False)
    def forward(self, idx):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(self.positions[:, :T])
        return self.head(self.ln(self.blocks(x)))


TRANSFORMER_ORDER = ["vit_tiny", "kws_transformer", "gpt_decoder"]
TRANSFORMER_OPSETS = [13, 17]


def recipe_transformer(name):
    seed_everything(15)
    if name == "vit_tiny":
        model = ViT()
        inputs = smooth_images(150, 8, 3, 32, 32)
        calib = smooth_images(151, 16, 3, 32, 32)
        desc = "ViT: 8x8 patches of a 32x32 RGB image, dim 64, 2 blocks, 4 heads, MLP 128, cls token, 10 classes"
    elif name == "kws_transformer":
        model = KWS()
        rng = np.random.RandomState(152)
        inputs = rng.randn(8, 1, 49, 10).astype(np.float32)
        calib = rng.randn(16, 1, 49, 10).astype(np.float32)
        desc = ("keyword-spotting transformer: 49 frames of 10 MFCC-like features (standard normal), linear "
                "embedding, dim 64, 2 blocks, 4 heads, MLP 128, mean pool, 12 classes")
    else:
        model = GPT()
        rng = np.random.RandomState(153)
        inputs = rng.randint(0, 128, size=(8, 16)).astype(np.int64)
        calib = rng.randint(0, 128, size=(16, 16)).astype(np.int64)
        desc = ("GPT-style decoder: vocabulary 128, context 16, token and position nn.Embedding, dim 64, 2 blocks "
                "with causal masked_fill(-inf), 4 heads, MLP 128, final LayerNorm, logits [1, 16, 128]")
    return dict(model=model.eval(), inputs=inputs, calib=calib, description=desc)


def build_transformer(name):
    t_start = time.perf_counter()
    log("== %s" % name)
    r = recipe_transformer(name)
    model, inputs = r["model"], r["inputs"]
    out_dir = os.path.join(FIXTURES, name)
    os.makedirs(out_dir, exist_ok=True)
    ref_f32 = torch_outputs(model, inputs)
    example = torch.from_numpy(inputs[:1])
    ops = {}
    for opset in TRANSFORMER_OPSETS:
        path = os.path.join(out_dir, "model_f32_opset%d.onnx" % opset)
        torch.onnx.export(model, example, path, opset_version=opset, input_names=["input"],
                          output_names=["output"], do_constant_folding=True)
        m = onnx.load(path)
        onnx.checker.check_model(m)
        ops["opset%d" % opset] = op_counts(m)
    save_npy(os.path.join(out_dir, "inputs.npy"), inputs)
    save_npy(os.path.join(out_dir, "calib.npy"), r["calib"])
    save_npy(os.path.join(out_dir, "ref_f32.npy"), ref_f32)
    entry = dict(
        description=r["description"],
        input_name="input",
        output_name="output",
        input_shape=[1] + list(inputs.shape[1:]),
        input_dtype=str(inputs.dtype),
        output_shape=[1] + list(ref_f32.shape[1:]),
        sample_count=int(len(inputs)),
        calibration="calib.npy, %d samples drawn like inputs.npy" % len(r["calib"]),
        onnx_ops=ops,
    )
    entry["files"] = {f: file_info(os.path.join(out_dir, f)) for f in sorted(os.listdir(out_dir))}
    log("  ops: %s" % ops)
    log("  files: %s" % ", ".join("%s %d" % (k, v["bytes"]) for k, v in entry["files"].items()))
    log("  done in %.1f s" % (time.perf_counter() - t_start))
    return entry


# ----------------------------------------------------------------------------
# Issue 16: segmentation, speech synthesis, face recognition and detection networks as plain
# PyTorch writes them (ConvTranspose2d/1d, PReLU, F.normalize, a mixed Concat output), random
# weights, exported at opset 13. The tests quantize them with calib.npy, compile them for
# imxrt700 and compare with ref_f32.npy.
# ----------------------------------------------------------------------------

class UNetSmall(nn.Module):
    # two-level U-Net: conv encoder, ConvTranspose2d(k=2, s=2) decoder, skip concat, 2 classes
    def __init__(self):
        super().__init__()
        self.e1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.e2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.mid = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.d = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))
    def forward(self, x):
        a = self.e1(x)
        u = torch.relu(self.up(self.mid(self.e2(a))))
        return self.d(torch.cat([a, u], 1))

class Vocoder1d(nn.Module):
    # mel [B, 16, T] -> waveform [B, 1, 16 T]: two ConvTranspose1d(k=8, s=4, p=2) upsamplers with
    # LeakyReLU(0.1), a depthwise ConvTranspose1d, tanh output (a tiny MelGAN-style generator)
    def __init__(self):
        super().__init__()
        self.pre = nn.Conv1d(16, 32, 7, padding=3)
        self.up1 = nn.ConvTranspose1d(32, 16, 8, stride=4, padding=2)
        self.up2 = nn.ConvTranspose1d(16, 8, 8, stride=4, padding=2)
        self.dw = nn.ConvTranspose1d(8, 8, 3, stride=1, padding=1, groups=8)
        self.post = nn.Conv1d(8, 1, 7, padding=3)
    def forward(self, x):
        x = F.leaky_relu(self.pre(x), 0.1)
        x = F.leaky_relu(self.up1(x), 0.1)
        x = F.leaky_relu(self.up2(x), 0.1)
        x = F.leaky_relu(self.dw(x), 0.1)
        return torch.tanh(self.post(x))

class FaceEmbedder(nn.Module):
    # MobileFaceNet-style: conv/depthwise blocks with per-channel PReLU, linear embedding, F.normalize
    def __init__(self):
        super().__init__()
        def block(cin, cout, stride, groups=1):
            return [nn.Conv2d(cin, cout, 3 if groups > 1 or cin == 3 else 1, stride=stride,
                              padding=1 if groups > 1 or cin == 3 else 0, groups=groups, bias=False),
                    nn.BatchNorm2d(cout), nn.PReLU(cout)]
        self.f = nn.Sequential(*block(3, 16, 2), *block(16, 16, 1, 16), *block(16, 32, 1),
                               *block(32, 32, 2, 32), *block(32, 64, 1))
        self.emb = nn.Linear(64 * 4 * 4, 32)
    def forward(self, x):
        return F.normalize(self.emb(torch.flatten(self.f(x), 1)), dim=1)

class SsdLiteHead(nn.Module):
    # backbone + box and class heads: cat([boxes, sigmoid(scores)]) as the one output [1, N, 4 + K]
    def __init__(self, c=32, anchors=3, classes=4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU6(),
                                      nn.Conv2d(16, c, 3, stride=2, padding=1), nn.ReLU6())
        self.box = nn.Conv2d(c, anchors * 4, 3, padding=1)
        self.cls = nn.Conv2d(c, anchors * classes, 3, padding=1)
        self.k = classes
    def forward(self, x):
        f = self.backbone(x)
        b = self.box(f).permute(0, 2, 3, 1).reshape(1, -1, 4)
        c = self.cls(f).permute(0, 2, 3, 1).reshape(1, -1, self.k)
        return torch.cat([b, torch.sigmoid(c)], 2)


class RnnKws(nn.Module):
    # keyword spotting on MFCC frames [B, T, F] (batch_first): nn.GRU or nn.LSTM, the last step, Linear
    def __init__(self, cell, feats=10, hidden=64, classes=12):
        super().__init__()
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(feats, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)
    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])


ISSUE16_ORDER = ["unet_small", "vocoder_1d", "face_embedder", "ssd_head", "gru_kws", "lstm_kws"]


def recipe_issue16(name):
    seed_everything(16)
    if name == "unet_small":
        model = UNetSmall()
        inputs, calib = smooth_images(160, 4, 3, 32, 32), smooth_images(161, 8, 3, 32, 32)
        desc = "U-Net: 32x32 RGB, encoder 8/16 channels, ConvTranspose2d(16, 8, k=2, s=2) decoder, skip concat, 2 classes"
    elif name == "vocoder_1d":
        model = Vocoder1d()
        rng = np.random.RandomState(162)
        inputs = rng.randn(4, 16, 32).astype(np.float32)
        calib = rng.randn(16, 16, 32).astype(np.float32)
        desc = ("1-D vocoder: mel [16, 32] (standard normal) -> waveform [1, 512] through ConvTranspose1d(k=8, s=4, p=2) "
                "x2 and a depthwise ConvTranspose1d, LeakyReLU(0.1), tanh")
    elif name == "face_embedder":
        model = FaceEmbedder()
        inputs, calib = smooth_images(163, 4, 3, 16, 16), smooth_images(164, 32, 3, 16, 16)
        desc = "face embedder: 16x16 RGB, conv/depthwise blocks with per-channel PReLU, Linear 1024 -> 32, F.normalize"
    elif name in ("gru_kws", "lstm_kws"):
        cell = name.split("_")[0]
        model = RnnKws(cell)
        rng = np.random.RandomState(167 if cell == "gru" else 168)
        inputs = rng.randn(4, 49, 10).astype(np.float32)
        calib = rng.randn(16, 49, 10).astype(np.float32)
        desc = ("keyword spotter: 49 frames of 10 MFCC-like features (standard normal), nn.%s(10, 64, batch_first), "
                "last step, Linear 64 -> 12" % cell.upper())
    else:
        model = SsdLiteHead()
        inputs, calib = smooth_images(165, 4, 3, 32, 32), smooth_images(166, 8, 3, 32, 32)
        desc = "SSD-lite head: 32x32 RGB, 2-conv backbone, 3 anchors x (4 box offsets, 4 classes), cat([boxes, sigmoid(scores)])"
    if name in ("unet_small", "face_embedder"):
        recalibrate_batchnorm(model, inputs.shape[2])
    model.eval()
    return dict(model=model, inputs=inputs, calib=calib, description=desc)


def build_issue16(name):
    t_start = time.perf_counter()
    log("== %s" % name)
    r = recipe_issue16(name)
    model, inputs = r["model"], r["inputs"]
    out_dir = os.path.join(FIXTURES, name)
    os.makedirs(out_dir, exist_ok=True)
    ref_f32 = torch_outputs(model, inputs)
    path = os.path.join(out_dir, "model_f32.onnx")
    torch.onnx.export(model, torch.from_numpy(inputs[:1]), path, opset_version=OPSET, input_names=["input"],
                      output_names=["output"], do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    save_npy(os.path.join(out_dir, "inputs.npy"), inputs)
    save_npy(os.path.join(out_dir, "calib.npy"), r["calib"])
    save_npy(os.path.join(out_dir, "ref_f32.npy"), ref_f32)
    entry = dict(
        description=r["description"],
        input_name="input",
        output_name="output",
        input_shape=[1] + list(inputs.shape[1:]),
        output_shape=[1] + list(ref_f32.shape[1:]),
        sample_count=int(len(inputs)),
        calibration="calib.npy, %d samples drawn like inputs.npy" % len(r["calib"]),
        onnx_ops=op_counts(m),
    )
    entry["files"] = {f: file_info(os.path.join(out_dir, f)) for f in sorted(os.listdir(out_dir))}
    log("  ops: %s" % entry["onnx_ops"])
    log("  files: %s" % ", ".join("%s %d" % (k, v["bytes"]) for k, v in entry["files"].items()))
    log("  done in %.1f s" % (time.perf_counter() - t_start))
    return entry


def script_sha256(fname):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), fname), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=MODEL_ORDER + TRANSFORMER_ORDER + ISSUE16_ORDER, action="append",
                    help="regenerate only this model (repeatable); the manifest keeps the other entries")
    args = ap.parse_args()
    names = [n for n in MODEL_ORDER if not args.only or n in args.only]
    tnames = [n for n in TRANSFORMER_ORDER if not args.only or n in args.only]
    inames = [n for n in ISSUE16_ORDER if not args.only or n in args.only]

    torch.set_num_threads(2)
    os.makedirs(FIXTURES, exist_ok=True)
    manifest_path = os.path.join(FIXTURES, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    models = manifest.get("models", {})
    transformers = manifest.get("transformers", {})
    issue16 = manifest.get("issue16", {})

    t0 = time.perf_counter()
    for name in names:
        models[name] = build(name)
    for name in tnames:
        transformers[name] = build_transformer(name)
    for name in inames:
        issue16[name] = build_issue16(name)

    manifest = dict(
        generator=dict(
            script="scripts/make_fixtures.py",
            script_version=SCRIPT_VERSION,
            command="/usr/bin/python3 scripts/make_fixtures.py [--only NAME]",
            evaluator="scripts/qdq_reference.py",
            script_sha256=script_sha256("make_fixtures.py"),
            evaluator_sha256=script_sha256("qdq_reference.py"),
            python=platform.python_version(),
            torch=torch.__version__,
            torchvision=torchvision.__version__,
            onnx=onnx.__version__,
            numpy=np.__version__,
            quantized_engine=ENGINE,
            opset=OPSET,
            torch_threads=2,
        ),
        conventions=dict(
            inputs="inputs.npy is float32 [S, C, H, W]; sample i is fed as inputs[i:i+1] (batch 1)",
            steps="differences between int8 outputs are given in LSB steps of the final DequantizeLinear "
                  "(output_quantization.scale)",
            ref_int8_qdq="float64 evaluation of model_int8.onnx by scripts/qdq_reference.py: "
                         "DequantizeLinear = (q - zp) * scale, QuantizeLinear = "
                         "saturate(round_half_to_even(x / scale) + zp), float ops in between in float64",
        ),
        models={k: models[k] for k in MODEL_ORDER if k in models},
        transformers={k: transformers[k] for k in TRANSFORMER_ORDER if k in transformers},
        issue16={k: issue16[k] for k in ISSUE16_ORDER if k in issue16},
    )
    text = json.dumps(manifest, indent=1)
    # keep short numeric lists (shapes, ranges) on one line
    text = re.sub(r"\[\s+([-0-9.e, \n]*?)\s+\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
    with open(manifest_path, "w") as f:
        f.write(text + "\n")
    with open(manifest_path) as f:
        assert json.load(f) == json.loads(json.dumps(manifest)), "manifest formatting changed its content"
    total = 0
    for root, _, files in os.walk(FIXTURES):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    log("== all done in %.1f s; fixtures/ holds %.1f MB (%d bytes)" % (time.perf_counter() - t0, total / 1e6, total))
    if total > 85e6:
        log("   note: more than the 85 MB budget; see fixtures/README.md")


if __name__ == "__main__":
    main()
