#!/usr/bin/python3
"""Checks the Cortex-M33 CPU model (docs/cpu-model.md) against the firmware under QEMU.

Builds tiny single-op models with torch (random weights), compiles each with `--target cpu` (every op
as CPU kernel calls), runs it in the mps2-an505 firmware with `-icount shift=0` (one instruction per
ns; the firmware's ticks are 20 MHz, so 50 instructions per tick) and prints, per model, the CPU
model's cycles against the instructions this project's portable C kernels execute on the M33.
The baseline (a Relu on the same input) is subtracted from each: it holds the edge
Quantize/Dequantize and the runner. QEMU counts instructions, not cycles: the ratio is the
portable kernels' instruction count per modelled (CMSIS-NN class) cycle.

Usage: scripts/cpu_model_qemu_check.py [BUILD_DIR] [FW_BUILD_DIR]   (defaults build, build-fw-cpucheck)
Needs torch and numpy (/usr/bin/python3 on Debian), gcc-arm-none-eabi and qemu-system-arm.
"""
import json, os, re, subprocess, sys, tempfile

import numpy as np
import torch

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build")
fw = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "build-fw-cpucheck")
neutron = os.path.join(build, "neutron")
torch.manual_seed(0)

class Flat(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(32 * 16 * 16, 64)
    def forward(self, x):
        return self.fc(torch.flatten(x, 1))

MODELS = {
    "relu (baseline)": torch.nn.ReLU(),
    "conv 3x3 32->32": torch.nn.Conv2d(32, 32, 3, padding=1),
    "conv 1x1 32->64": torch.nn.Conv2d(32, 64, 1),
    "depthwise 3x3 x32": torch.nn.Conv2d(32, 32, 3, padding=1, groups=32),
    "fully connected 8192->64": Flat(),
    "maxpool 2x2": torch.nn.MaxPool2d(2),
    "avgpool 2x2": torch.nn.AvgPool2d(2),
}

def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout

def main():
    tmp = tempfile.mkdtemp(prefix="cpu_model_check")
    x = np.random.default_rng(0).standard_normal((8, 32, 16, 16)).astype(np.float32)
    np.save(os.path.join(tmp, "calib.npy"), x)
    sample = os.path.join(tmp, "in.bin")
    open(sample, "wb").write(x[:1].astype("<f4").tobytes())
    rows = []
    for name, m in MODELS.items():
        stem = re.sub(r"[^a-z0-9]+", "_", name)
        onnx = os.path.join(tmp, stem + ".onnx")
        torch.onnx.export(m.eval(), torch.from_numpy(x[:1]), onnx, input_names=["x"], output_names=["y"],
                          opset_version=17)
        prog, js = os.path.join(tmp, stem + ".nprg"), os.path.join(tmp, stem + ".json")
        run([neutron, "compile", onnx, "--target", "cpu", "-i", os.path.join(tmp, "calib.npy"), "-o", prog,
             "--json", js, "-q"])
        perf = json.load(open(js))["performance"]
        out = run([os.path.join(root, "scripts", "firmware.sh"), fw, "--program", prog, "--input", sample,
                   "--elf", "neutron_fw_runner", "--icount", "0", "--timeout", "600"])
        ticks = int(re.search(r"run ticks per sample (\d+)", out).group(1))
        rows.append((name, perf["macs"], perf["cpu_cycles"], ticks * 50))
    base = rows[0]
    print("| model | MACs | model cycles | firmware instructions (QEMU) | model cycles - baseline | "
          "instructions - baseline | instructions / model cycle |")
    print("|---|---|---|---|---|---|---|")
    for name, macs, cyc, ins in rows:
        dc, di = cyc - base[2], ins - base[3]
        ratio = f"{di / dc:.2f}" if name != base[0] and dc > 0 else "-"
        print(f"| {name} | {macs} | {cyc} | {ins} | {dc if name != base[0] else '-'} | "
              f"{di if name != base[0] else '-'} | {ratio} |")

if __name__ == "__main__":
    main()
