#!/usr/bin/python3
"""The Python API end to end: quantize a float ONNX model, compile it for the i.MX RT700's Neutron
NPU, run it on the simulated NPU and measure what quantization cost (docs/python.md).

    PYTHONPATH=build/python /usr/bin/python3 examples/python_api.py [--fixture fixtures/fmnist_cnn]
        [--target imxrt700] [--out DIR]

The fixture folder holds model_f32.onnx and inputs.npy (samples along the first axis; they serve as
calibration and test samples here). With --out, the quantized model, the program and the reports
are written there. numpy and the neutron module only.
"""
import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import neutron
except ImportError:  # not installed: the build tree's module
    sys.path.insert(0, os.path.join(ROOT, "build", "python"))
    import neutron


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture", default=os.path.join(ROOT, "fixtures", "fmnist_cnn"))
    ap.add_argument("--target", default="imxrt700")
    ap.add_argument("--out", help="write the quantized model, the program and the reports here")
    args = ap.parse_args()

    model = os.path.join(args.fixture, "model_f32.onnx")
    x = np.load(os.path.join(args.fixture, "inputs.npy"))
    print(f"neutron {neutron.__version__}: {model}, {len(x)} samples {x.shape[1:]}")

    q = neutron.quantize(model, calibration=x)                      # float -> int8 QDQ ONNX, in memory
    print(f"quantized: {len(q.report['groups'])} activation groups, bias correction {q.report['bias_correction']}")

    prog = neutron.compile(q, target=args.target)                   # partition + compile for the NPU
    s = prog.report["summary"]
    print(f"compiled for {prog.report['target']}: {s['npu_nodes']} of {s['nodes']} ops on the NPU "
          f"({100 * s['npu_mac_share']:.1f} % of the MACs), program {len(prog.bytes)} bytes")

    outs = prog.run(x)                                              # runtime + simulated NPU
    print(f"ran {prog.profile['samples']} samples: outputs {[o.shape for o in outs]}, simulated NPU "
          f"{prog.profile['npu_latency_ms']:.3f} ms per inference, arena {prog.profile['arena_bytes']} bytes")

    cpu = prog.run(x, target="cpu")                                 # the NPU partitions on the CPU kernels
    assert all(np.array_equal(a, b) for a, b in zip(outs, cpu)), "the simulated NPU differs from the CPU kernels"
    print("the simulated NPU and the CPU kernels agree bit for bit")

    c = neutron.compare(model, prog, x)                             # float model vs the deployed program
    for o in c["outputs"]:
        print(f"float vs program, output {o['name']}: SQNR {o['sqnr_db']:.2f} dB, "
              f"top-1 agreement {100 * o['top1_agreement']:.1f} %")

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        q.save(os.path.join(args.out, "model_int8.onnx"))
        prog.save(os.path.join(args.out, "model.nprg"))
        for name, doc in (("quantize", q.report), ("compile", prog.report), ("run", prog.profile), ("compare", c)):
            with open(os.path.join(args.out, name + ".json"), "w") as f:
                json.dump(doc, f, indent=2)
        print(f"wrote {args.out}/model_int8.onnx, model.nprg and the reports")


if __name__ == "__main__":
    main()
