#!/usr/bin/env bash
# The main job: build, compile the bundled float CifarNet for the i.MX RT700's Neutron N3-64
# (int8 post-training quantization with its calibration samples, partitioning, NPU compilation),
# run the program through the runtime on the simulated NPU, and compare it with the same program
# compiled for the CPU kernels alone and with PyTorch's float output.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(scripts/build.sh)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
x = np.load("fixtures/cifarnet/inputs.npy")[:10]
np.save(sys.argv[1] + "/inputs.npy", np.ascontiguousarray(x))
PY
echo "== compile for imxrt700 (quantize, partition, compile to a program file)"
"$dir/neutron" compile fixtures/cifarnet/model_f32.onnx -i fixtures/cifarnet/inputs.npy \
  --target imxrt700 -o "$out/cifarnet.nprg" --json "$out/report.json"
echo
echo "== run the program: NPU partitions on the simulated Neutron N3-64, the rest on CPU kernels"
"$dir/neutron" run "$out/cifarnet.nprg" -i "$out/inputs.npy" -o "$out/npu" --profile
echo
echo "== the same model as CPU kernel calls only (--target cpu), for comparison"
"$dir/neutron" compile fixtures/cifarnet/model_f32.onnx -i fixtures/cifarnet/inputs.npy \
  --target cpu -o "$out/cifarnet_cpu.nprg" > /dev/null
"$dir/neutron" run "$out/cifarnet_cpu.nprg" -i "$out/inputs.npy" -o "$out/cpu"
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
npu = np.load(sys.argv[1] + "/npu/output_0.npy")
cpu = np.load(sys.argv[1] + "/cpu/output_0.npy")
ref = np.load("fixtures/cifarnet/ref_f32.npy")[:10]
np.set_printoptions(precision=4, suppress=True)
print()
print("sample 0, NPU program:", npu[0])
print("sample 0, torch float:", ref[0])
print("NPU program == CPU program bit for bit on 10 samples:", bool(np.array_equal(npu, cpu)))
print("top-1 agreement with torch float: %d/10" % int((npu.argmax(1) == ref.argmax(1)).sum()))
PY
