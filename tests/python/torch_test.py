#!/usr/bin/python3
"""ctest python_torch: neutron.from_torch exports a small torch.nn.Module to ONNX, quantizes and
compiles it for imxrt700 in one call; the program's outputs on the simulated NPU track PyTorch's.
Skipped (77) when torch is not installed (CI installs no torch).
Usage: torch_test.py BUILD/python"""
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"{e.name} is not installed: skipped")
    sys.exit(77)

sys.path.insert(0, sys.argv[1])
import neutron  # noqa: E402

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 8, 10))
calib = torch.randn(32, 1, 16, 16)

# The three lines of docs/python.md.
prog = neutron.from_torch(net, torch.randn(1, 1, 16, 16), "imxrt700", calibration=calib)
x = torch.randn(8, 1, 16, 16)
outs = prog.run(x)

with torch.no_grad():
    ref = net(x).numpy()
err = outs[0] - ref
sqnr = 10 * np.log10(np.sum(ref ** 2) / np.sum(err ** 2))
assert outs[0].shape == (8, 10), outs[0].shape
assert prog.report["summary"]["npu_mac_share"] > 0.99, prog.report["summary"]
assert sqnr > 20, f"SQNR {sqnr:.1f} dB against PyTorch"
assert prog.source.bytes[:2] and prog.profile["npu_latency_ms"] > 0
print(f"ok: SQNR {sqnr:.1f} dB against PyTorch, {100 * prog.report['summary']['npu_mac_share']:.0f} % of the MACs "
      f"on the NPU, {prog.profile['npu_latency_ms']:.3f} ms simulated")
