#!/usr/bin/python3
"""Autoregressive token loop of a small GPT-style decoder on the simulated Neutron NPU (issue 15).

    /usr/bin/python3 examples/decoder_loop.py [--neutron build/neutron] [--program DEC.nprg]
        [--prompt 5,17,42] [--tokens 8] [--target cpu] [--json OUT.json]

Without --program, the decoder fixture (fixtures/gpt_decoder, random weights) is quantized with its
calib.npy and compiled for imxrt700 first. The program takes int64 token ids [1, T] (T = the fixed
context) and returns logits [1, T, vocab]; the embedding lookup runs as a CPU gather kernel call
that checks the ids against the table, the rest on the NPU. Each step writes the context (the last
T tokens, left-aligned, the unused tail 0: the causal mask keeps later positions from affecting
earlier ones) and takes the argmax of the logits at the last real position (greedy decoding).
Without a KV cache every step recomputes the whole context, so the simulated latency per token is
that of one full inference. Uses only numpy and the `neutron` CLI.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def neutron(binary, *args):
    r = subprocess.run([binary] + list(args), capture_output=True, text=True)
    if r.returncode:
        sys.exit("neutron %s failed: %s" % (args[0], r.stderr.strip()))
    return r.stdout


def build_program(binary, tmp, opset):
    d = os.path.join(ROOT, "fixtures", "gpt_decoder")
    q = os.path.join(tmp, "decoder_int8.onnx")
    p = os.path.join(tmp, "decoder.nprg")
    neutron(binary, "quantize", os.path.join(d, "model_f32_opset%d.onnx" % opset), "--calib",
            os.path.join(d, "calib.npy"), "-o", q, "-q")
    neutron(binary, "compile", q, "--target", "imxrt700", "-o", p, "-q")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--neutron", default=os.path.join(ROOT, "build", "neutron"))
    ap.add_argument("--program", help="a compiled decoder program (default: build one from fixtures/gpt_decoder)")
    ap.add_argument("--opset", type=int, default=17, choices=(13, 17), help="fixture export to build from")
    ap.add_argument("--prompt", default="1,2,3", help="comma-separated token ids")
    ap.add_argument("--tokens", type=int, default=8, help="tokens to generate")
    ap.add_argument("--context", type=int, default=16, help="the program's fixed context length T")
    ap.add_argument("--target", choices=("cpu",), help="run the NPU partitions on the CPU kernels instead")
    ap.add_argument("--json", help="write the prompt, generated tokens and per-token latencies here")
    a = ap.parse_args()
    prompt = [int(t) for t in a.prompt.split(",") if t.strip()]
    if not prompt:
        sys.exit("--prompt needs at least one token id")
    T = a.context
    with tempfile.TemporaryDirectory() as tmp:
        program = a.program or build_program(a.neutron, tmp, a.opset)
        tokens = list(prompt)
        steps = []
        print("prompt: %s" % " ".join(map(str, prompt)))
        print("%5s %6s %12s %12s" % ("step", "token", "npu ms", "host ms"))
        for step in range(a.tokens):
            window = tokens[-T:]
            x = np.zeros((1, T), dtype=np.int64)
            x[0, :len(window)] = window
            np.save(os.path.join(tmp, "tokens.npy"), x)
            out = os.path.join(tmp, "out")
            report = os.path.join(tmp, "run.json")
            args = ["run", program, "-i", os.path.join(tmp, "tokens.npy"), "-o", out, "--json", report, "-q"]
            if a.target:
                args += ["--target", a.target]
            neutron(a.neutron, *args)
            logits = np.load(os.path.join(out, "output_0.npy"))
            nxt = int(np.argmax(logits[0, len(window) - 1]))
            with open(report) as f:
                r = json.load(f)
            npu_ms = r.get("npu_latency_ms", 0.0)
            tokens.append(nxt)
            steps.append({"token": nxt, "npu_latency_ms": npu_ms, "host_run_ms": r["run_ms"]})
            print("%5d %6d %12.3f %12.3f" % (step, nxt, npu_ms, r["run_ms"]))
        gen = tokens[len(prompt):]
        print("generated: %s" % " ".join(map(str, gen)))
        if steps:
            print("simulated NPU time per token: %.3f ms (context %d, no KV cache)" %
                  (sum(s["npu_latency_ms"] for s in steps) / len(steps), T))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"prompt": prompt, "generated": gen, "context": T, "steps": steps}, f, indent=2)


if __name__ == "__main__":
    main()
