#!/usr/bin/env bash
# The main job for now: build, then run a bundled example model (int8 CifarNet) on the host CPU
# kernels and print its outputs next to PyTorch's reference.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(scripts/build.sh)
model=fixtures/cifarnet/model_int8.onnx
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
x = np.load("fixtures/cifarnet/inputs.npy")[:1]
np.save(sys.argv[1] + "/input.npy", np.ascontiguousarray(x))
PY
"$dir/neutron" run "$model" -i "$out/input.npy" -o "$out"
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
ours = np.load(sys.argv[1] + "/output_0.npy")[0]
torch_int8 = np.load("fixtures/cifarnet/ref_int8_torch.npy")[0]
np.set_printoptions(precision=4, suppress=True)
print("neutron int8 output :", ours)
print("torch int8 reference:", torch_int8)
print("argmax: neutron", int(ours.argmax()), "torch", int(torch_int8.argmax()))
PY

# From the float model: quantize with the bundled samples, partition for the i.MX RT700's
# Neutron N3-64 and print what runs on the NPU (the NPU compiler and simulator come next).
echo
"$dir/neutron" compile fixtures/cifarnet/model_f32.onnx --calib fixtures/cifarnet/inputs.npy \
  --target imxrt700 -o "$out/cifarnet.program" --report-json "$out/report.json"
