#!/usr/bin/python3
"""Host inference speed against ONNX Runtime, side by side, and docs/host-performance.md.

One command:  bench/host_vs_ort.py            (after scripts/build.sh)
It installs onnxruntime-node 1.30.0 with npm into build/ort if missing, then for every fixture
model (float and int8 QDQ) times `neutron run --repeat --warmup --json` and ONNX Runtime (CPU EP,
1 thread, all graph optimizations) on the fixture's first input, interleaved (ours, ORT, ours,
ORT, ... for --rounds rounds), and writes the table with medians, minimums and ratios.
"""
import argparse
import ast
import datetime
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = ["mobilenet_v2", "resnet18", "mobilenet_v1_025", "cifarnet", "fmnist_cnn"]
VARIANTS = [("int8", "model_int8.onnx"), ("float", "model_f32.onnx")]
ORT_VERSION = "1.30.0"


def first_sample(src, dst):
    """Writes the first item of a batched .npy as a batch of one (no numpy needed)."""
    b = open(src, "rb").read()
    major = b[6]
    hlen = struct.unpack("<H", b[8:10])[0] if major == 1 else struct.unpack("<I", b[8:12])[0]
    off = 10 if major == 1 else 12
    hdr = ast.literal_eval(b[off:off + hlen].decode("latin1"))
    shape, descr = tuple(hdr["shape"]), hdr["descr"]
    item = int(descr[2:])
    n = item
    for d in shape[1:]:
        n *= d
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, str((1,) + shape[1:]))
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    with open(dst, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode("latin1") + b[off + hlen:off + hlen + n])


def ensure_ort(ort_dir):
    lib = os.path.join(ort_dir, "node_modules", "onnxruntime-node", "package.json")
    if os.path.exists(lib) and json.load(open(lib)).get("version") == ORT_VERSION:
        return
    os.makedirs(ort_dir, exist_ok=True)
    print(f"installing onnxruntime-node@{ORT_VERSION} into {ort_dir}", file=sys.stderr)
    subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", ort_dir,
                    f"onnxruntime-node@{ORT_VERSION}"], check=True, stdout=subprocess.DEVNULL)


def time_ours(neutron, model, inp, repeat, warmup, tmp):
    out = os.path.join(tmp, "ours.json")
    subprocess.run([neutron, "run", model, "-i", inp, "--repeat", str(repeat), "--warmup", str(warmup),
                    "--threads", "1", "--json", out], check=True, stdout=subprocess.DEVNULL)
    lat = json.load(open(out))["latency_ms"]
    return lat["median"], lat["min"], lat["cpu_median"]


def time_ort(ort_dir, model, inp, repeat, warmup):
    r = subprocess.run(["node", os.path.join(ROOT, "bench", "ort_time.js"), ort_dir, model, inp, str(repeat),
                        str(warmup)], check=True, capture_output=True, text=True)
    d = json.loads(r.stdout)
    return d["median"], d["min"], d["cpu_median"]


def median(v):
    v = sorted(v)
    m = len(v) // 2
    return v[m] if len(v) % 2 else 0.5 * (v[m - 1] + v[m])


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni")
                        if f in flags]
    except OSError:
        pass
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--neutron", default=os.path.join(ROOT, "build", "neutron"))
    ap.add_argument("--ort-dir", default=os.path.join(ROOT, "build", "ort"))
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", default=",".join(FIXTURES))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "host-performance.md"))
    args = ap.parse_args()
    if not os.path.exists(args.neutron):
        sys.exit(f"{args.neutron} not found: run scripts/build.sh first")
    ensure_ort(args.ort_dir)
    load_before = os.getloadavg()
    started = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for fx in args.models.split(","):
            inp = os.path.join(tmp, fx + ".npy")
            first_sample(os.path.join(ROOT, "fixtures", fx, "inputs.npy"), inp)
            for variant, file in VARIANTS:
                cases.append((fx, variant, os.path.join(ROOT, "fixtures", fx, file), inp))
        results = {(fx, v): {"ours": [], "ort": []} for fx, v, _, _ in cases}
        for rnd in range(args.rounds):
            for fx, variant, model, inp in cases:
                r = results[(fx, variant)]
                r["ours"].append(time_ours(args.neutron, model, inp, args.repeat, args.warmup, tmp))
                r["ort"].append(time_ort(args.ort_dir, model, inp, args.repeat, args.warmup))
                print(f"round {rnd + 1}: {fx} {variant}: ours {r['ours'][-1][0]:.2f} ms, "
                      f"ORT {r['ort'][-1][0]:.2f} ms", file=sys.stderr)
        for fx, variant, _, _ in cases:
            r = results[(fx, variant)]
            om, omin, oc = (median([t[0] for t in r["ours"]]), min(t[1] for t in r["ours"]),
                            median([t[2] for t in r["ours"]]))
            rm, rmin, rc = (median([t[0] for t in r["ort"]]), min(t[1] for t in r["ort"]),
                            median([t[2] for t in r["ort"]]))
            rows.append((fx, variant, om, omin, oc, rm, rmin, rc))
    load_after = os.getloadavg()
    targets = {("mobilenet_v2", "int8"): 0.8, ("resnet18", "int8"): 0.8, ("mobilenet_v2", "float"): 1.2,
               ("resnet18", "float"): 1.2}
    lines = [
        "# Host inference speed against ONNX Runtime",
        "",
        "Generated by `bench/host_vs_ort.py`; do not edit by hand. One thread, batch 1, the first input of each",
        "fixture. Ours: `neutron run MODEL -i X.npy --repeat R --warmup W --threads 1 --json J` (latency_ms).",
        f"ONNX Runtime {ORT_VERSION} (npm onnxruntime-node, CPU execution provider, intraOpNumThreads 1,",
        "graphOptimizationLevel all) through `bench/ort_time.js`. Both are timed in the same run, interleaved",
        f"model by model, {args.rounds} rounds of {args.repeat} timed runs after {args.warmup} warm-up runs;",
        "the table gives the median of the rounds' medians and the minimum over all runs.",
        "Ratio = ours / ONNX Runtime (below 1: we are faster). CPU ms: median CPU time per run (ours: the",
        "running thread; ORT: its process), which other load on the machine distorts much less than wall time.",
        "",
        f"- Machine: {cpu_name()}, {os.cpu_count()} CPUs, flags {' '.join(cpu_flags())}; {platform.platform()}",
        f"- Run: {started}; load average before {load_before[0]:.1f}, after {load_after[0]:.1f}"
        + (" (other work was running: medians are noisy, minimums are the better guide)"
           if max(load_before[0], load_after[0]) > 1.5 else ""),
        "",
        "| model | variant | ours median ms | ours min ms | ours CPU ms | ORT median ms | ORT min ms | ORT CPU ms "
        "| ratio (median) | ratio (min) | ratio (CPU) | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    quiet = max(load_before[0], load_after[0]) <= 1.5
    for fx, variant, om, omin, oc, rm, rmin, rc in rows:
        t = targets.get((fx, variant))
        judged = om / rm if quiet else oc / rc
        tgt = "" if t is None else (f"<= {t} " + ("met" if judged <= t else "not met"))
        lines.append(f"| {fx} | {variant} | {om:.2f} | {omin:.2f} | {oc:.2f} | {rm:.2f} | {rmin:.2f} | {rc:.2f} | "
                     f"{om / rm:.2f} | {omin / rmin:.2f} | {oc / rc:.2f} | {tgt} |")
    lines += [
        "",
        "Targets (issue 14): int8 MobileNetV2 and ResNet-18 at most 0.8x ONNX Runtime's time, float at most 1.2x;",
        "'met' is judged on the median wall-time ratio on a quiet machine (load average <= 1.5), else on the",
        "CPU-time ratio.",
        "",
        "## What runs",
        "",
        "One portable binary: the kernels check the CPU at run time (`src/kernels/cpu_isa.h`) and take the",
        "AVX-512 (int8: VNNI `vpdpbusd`), AVX2 or scalar path; on CPUs with AMX (Sapphire Rapids and later;",
        "Linux grants the tile state per process, asked once) the int8 convolutions run their GEMM on AMX",
        "tiles (`tdpbusd`, 16 x 16 x 64 per instruction). All int8 paths give identical bytes (tests/kernels/",
        "int8_isa_test.cc runs scalar, avx2, avx512 and avx512+amx), and float paths differ only by FMA",
        "contraction. The int8 GEMM feeds activations as u8 (x + 128) with the compensation folded into the",
        "bias; weights are packed once at load time (straight from the program's layout). int8 convolutions",
        "read their A operand in place from a zero-point-padded u8 copy of the image (implicit im2col; over",
        "the padded width for stride 1, so that the AMX tile loads see equally spaced rows), pointwise and",
        "other shapes from 64-row chunks. Float convolutions with one group run an implicit GEMM too (A read",
        "in place from a zero-padded copy, stride 1 over the padded width or one output row at a time);",
        "the rest make their im2col one GEMM cache block (120 x 256) at a time. On the float path the",
        "fuse-activation pass folds Relu/Clip into the preceding Conv/Gemm's output clamp, and into a",
        "same-shape Add/Sub (ResNet's residual Add + Relu: one vectorized pass); same floats. Max pooling",
        "and the fused Add/Sub run per ISA too. When the weights outgrow L2 (ResNet-18's 14 x 14 and 7 x 7",
        "layers: 2.4 to 9.4 MB each, only 196 or 49 output rows to reuse them) the first register tile of",
        "each pass over a weight slice prefetches it ahead; per thread CPU time those layers went from",
        "about 110-150 to 135-185 GFLOP/s.",
        "Known gaps: the float GEMM reaches 75-95 % of the FMA peak per layer, less for MobileNetV2's",
        "pointwise convolutions at 112 x 112 and 56 x 56 (K = 16 or 24: bound by writing their outputs)",
        "and the depthwise kernel (20-45 GFLOP/s); exact int64 requantization costs about 1.5",
        "instructions per output, where ONNX Runtime rounds in float.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "scripts/setup.sh && scripts/build.sh",
        f"bench/host_vs_ort.py --repeat {args.repeat} --warmup {args.warmup} --rounds {args.rounds}",
        "```",
        "",
        "Kernel microbenchmarks (Google Benchmark, per path: scalar / avx2 / avx512 / avx512+amx; counters",
        "in MAC/s of the layer):",
        "",
        "```sh",
        "build/bench/kernel_bench --benchmark_min_time=0.2",
        "```",
        "",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
