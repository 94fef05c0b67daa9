#!/usr/bin/env python3
"""Golden values for tests/quantize/observers_test.cc, computed by torch's own observers.

Needs torch 1.13 (Debian's python3-torch):

    /usr/bin/python3 scripts/observer_golden.py                  # rewrites tests/quantize/golden/
    /usr/bin/python3 scripts/observer_golden.py --fuzz 300 /tmp/g   # many random datasets, for a
        NEUTRON_OBSERVER_GOLDEN_DIR=/tmp/g build/tests/quantize_tests --gtest_filter='*Golden*'

Writes OUTDIR/<dataset>.npy (float32, shape [updates, values]: each row is one observer update) and
OUTDIR/observers.json:
  histogram:   per dataset and flavor, the range HistogramObserver picks (_non_linear_param_search),
               its scale and zero point for int8 affine [-128, 127] with eps 2^-12 (the Neutron
               activation spec), and the histogram's own [min, max] and total count.
               flavor "torch113" is torch's HistogramObserver as is; "float_range" is the same code
               with torch.histc given the float bounds instead of int(bound) (see
               FloatRangeHistogramObserver below), which is what the C++ kFloatRange flavor does.
  minmax:      per dataset, MinMaxObserver's [min, max].
  per_channel: PerChannelMinMaxObserver on a weight-like tensor, per-channel symmetric [-127, 127].
  qparams:     _calculate_qparams(min, max) for edge-case ranges and several specs.
Every float is a float32 value written exactly (Python repr of the float64 holding it).
The C++ tests do not need torch.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from torch.ao.quantization.observer import HistogramObserver, MinMaxObserver, PerChannelMinMaxObserver

EPS = 2.0 ** -12
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "quantize", "golden")


class FloatRangeHistogramObserver(HistogramObserver):
    """torch 1.13 HistogramObserver.forward with two changes (C++ HistogramObserver::kFloatRange):
    torch.histc gets the float bounds (1.13 passes int(bound), truncating toward zero), and after an
    all-equal history the earlier values are kept as a point mass instead of being forgotten."""

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        is_uninitialized = self.min_val == float("inf") and self.max_val == float("-inf")
        if is_uninitialized:
            min_val, max_val = torch.aminmax(x)
            self.min_val.copy_(min_val)
            self.max_val.copy_(max_val)
            torch.histc(x, self.bins, min=min_val.item(), max=max_val.item(), out=self.histogram)
            return x_orig
        if self.min_val.item() == self.max_val.item():
            v = self.min_val.clone()
            new_min, new_max = torch.aminmax(x)
            cmin, cmax = torch.min(new_min, v), torch.max(new_max, v)
            if cmin == cmax:
                self.histogram += torch.histc(x, self.bins, min=cmin.item(), max=cmax.item())
                return x_orig
            old_total = self.histogram.sum()
            hist = torch.histc(x, self.bins, min=cmin.item(), max=cmax.item())
            pos = int(((v - cmin) * float(self.bins) / (cmax - cmin)).item())
            hist[min(max(pos, 0), self.bins - 1)] += old_total
            self.histogram.copy_(hist)
            self.min_val.copy_(cmin)
            self.max_val.copy_(cmax)
            return x_orig
        new_min, new_max = torch.aminmax(x)
        combined_min = torch.min(new_min, self.min_val)
        combined_max = torch.max(new_max, self.max_val)
        combined_min, combined_max, downsample_rate, start_idx = self._adjust_min_max(
            combined_min, combined_max, self.upsample_rate)
        combined_histogram = torch.histc(x, self.bins, min=combined_min.item(), max=combined_max.item())
        if combined_min == self.min_val and combined_max == self.max_val:
            combined_histogram += self.histogram
        else:
            combined_histogram = self._combine_histograms(
                combined_histogram, self.histogram, self.upsample_rate, downsample_rate, start_idx, self.bins)
        self.histogram.copy_(combined_histogram)
        self.min_val.copy_(combined_min)
        self.max_val.copy_(combined_max)
        return x_orig


def act_observer(cls):
    return cls(dtype=torch.qint8, qscheme=torch.per_tensor_affine, quant_min=-128, quant_max=127, eps=EPS)


def f32(v):
    return float(np.float32(v))


# ---------------------------------------------------------------------------------------------
# Datasets: a list of updates (all the same length so they stack into one [updates, values] array).

def fixed_datasets():
    rng = np.random.default_rng(1234)
    d = {}
    d["normal_one_batch"] = [rng.normal(0.3, 1.7, 4096)]
    d["relu_growing"] = [np.maximum(rng.normal(0.0, s, 2048), 0) for s in (0.5, 1.0, 3.0)]
    d["heavy_tail"] = [rng.standard_t(2.0, 4096) * 0.8 for _ in range(2)]
    d["small_range"] = [rng.uniform(-0.8, 0.6, 1024) * f for f in (1.0, 0.5, 1.1, 0.9)]
    d["shrinking"] = [rng.normal(0, 4.0, 2048), rng.normal(0, 1.0, 2048), rng.normal(0, 0.5, 2048)]
    d["constant_then_data"] = [np.full(512, 2.5), rng.normal(1.0, 0.7, 512)]
    d["all_zero"] = [np.zeros(256)]
    d["uniform_positive"] = [rng.uniform(1.0, 9.0, 3000)]
    d["all_negative"] = [-rng.gamma(2.0, 1.5, 2000), -rng.gamma(2.0, 1.7, 2000)]
    d["bimodal_wide"] = [np.concatenate([rng.normal(-30, 4, 1000), rng.normal(90, 10, 1000)]) * s
                         for s in (0.6, 1.0, 1.3)]
    d["image_like"] = [np.tanh(rng.normal(0.2, 1.0, 3072)) * 2.5 for _ in range(4)]
    return d


def fuzz_datasets(n, seed):
    rng = np.random.default_rng(seed)
    d = {}
    for i in range(n):
        updates = int(rng.integers(1, 6))
        size = int(rng.choice([1, 7, 100, 1000, 5000]))
        kind = rng.integers(0, 6)
        loc, scale = rng.normal(0, 3), 10 ** rng.uniform(-3, 2)
        batches = []
        for _ in range(updates):
            s = scale * 10 ** rng.uniform(-0.5, 0.5)
            if kind == 0:
                b = rng.normal(loc, s, size)
            elif kind == 1:
                b = np.maximum(rng.normal(loc, s, size), 0)
            elif kind == 2:
                b = rng.standard_t(1.5, size) * s + loc
            elif kind == 3:
                b = rng.uniform(loc - s, loc + s, size)
            elif kind == 4:
                b = np.round(rng.normal(loc, s, size) * 4) / 4  # many ties on a coarse grid
            else:
                b = rng.laplace(loc, s, size)
            batches.append(b)
        d["fuzz_%04d" % i] = batches
    return d


def histogram_record(name, flavor, cls, batches):
    obs = act_observer(cls)
    for b in batches:
        obs(torch.from_numpy(b))
    new_min, new_max = obs._non_linear_param_search()
    scale, zp = obs.calculate_qparams()
    return dict(dataset=name, flavor=flavor, min=f32(new_min), max=f32(new_max), scale=f32(scale[0]),
                zero_point=int(zp[0]), hist_min=f32(obs.min_val), hist_max=f32(obs.max_val),
                hist_total=float(obs.histogram.double().sum()))


def qparams_records():
    specs = {
        "act": dict(dtype=torch.qint8, qscheme=torch.per_tensor_affine, quant_min=-128, quant_max=127, eps=EPS),
        "weight": dict(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=-127, quant_max=127, eps=EPS),
        "u8_default": dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine),
        "u8_reduce_range": dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=0, quant_max=127),
        "i8_symmetric": dict(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric),
    }
    rng = np.random.default_rng(99)
    ranges = [(0.0, 0.0), (0.0, 5.3), (1.0, 9.0), (-3.0, -1.0), (2.5, 2.5), (-2.5, -2.5), (-1e-9, 1e-9),
              (-0.5, 0.5), (-1.0, 1.0), (-128.0, 127.0), (-0.0078125, 1.9921875), (-6.0, 6.0), (-1.0, 254.0),
              (-3.0, 4.0), (-1e6, 3.0), (-2.0, 1e7), (0.001, 0.002)]
    for _ in range(40):
        a, b = sorted(rng.normal(0, 10 ** rng.uniform(-3, 3), 2))
        ranges.append((a, b))
    # zero-point ties: min / scale lands exactly on k + 0.5
    for k in range(1, 6):
        ranges.append((-(k + 0.5), 255.0 - (k + 0.5)))
    out = []
    for lo, hi in ranges:
        lo, hi = f32(lo), f32(hi)
        for name, kw in specs.items():
            obs = MinMaxObserver(**kw)
            scale, zp = obs._calculate_qparams(torch.tensor(lo), torch.tensor(hi))
            out.append(dict(spec=name, min=lo, max=hi, scale=f32(scale.reshape(-1)[0]), zero_point=int(zp.reshape(-1)[0])))
    return out


def per_channel_records(outdir):
    rng = np.random.default_rng(7)
    w = (rng.normal(0, 1, (6, 3, 3, 3)) * rng.uniform(0.01, 2, (6, 1, 1, 1))).astype(np.float32)
    w[2] = 0.0  # an all-zero channel gets scale eps
    w[4] = np.abs(w[4])  # a positive-only channel
    np.save(os.path.join(outdir, "weight_6x3x3x3.npy"), w)
    out = []
    for axis in (0, 1):
        obs = PerChannelMinMaxObserver(ch_axis=axis, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                       quant_min=-127, quant_max=127, eps=EPS)
        obs(torch.from_numpy(w))
        scale, zp = obs.calculate_qparams()
        out.append(dict(file="weight_6x3x3x3.npy", axis=axis, min=[f32(v) for v in obs.min_val],
                        max=[f32(v) for v in obs.max_val], scale=[f32(v) for v in scale],
                        zero_point=[int(v) for v in zp]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--fuzz", type=int, default=0, help="write this many random datasets instead of the fixed ones")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    datasets = fuzz_datasets(args.fuzz, args.seed) if args.fuzz else fixed_datasets()
    doc = dict(generator="scripts/observer_golden.py", torch_version=torch.__version__, histogram=[], minmax=[])
    for name, batches in datasets.items():
        batches = [np.asarray(b, dtype=np.float32) for b in batches]
        np.save(os.path.join(args.outdir, name + ".npy"), np.stack(batches))
        for flavor, cls in (("torch113", HistogramObserver), ("float_range", FloatRangeHistogramObserver)):
            doc["histogram"].append(histogram_record(name, flavor, cls, batches))
        mm = act_observer(MinMaxObserver)
        for b in batches:
            mm(torch.from_numpy(b))
        doc["minmax"].append(dict(dataset=name, min=f32(mm.min_val), max=f32(mm.max_val)))
    if not args.fuzz:
        doc["per_channel"] = per_channel_records(args.outdir)
        doc["qparams"] = qparams_records()
    with open(os.path.join(args.outdir, "observers.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %d datasets to %s" % (len(datasets), args.outdir), file=sys.stderr)


if __name__ == "__main__":
    main()
