#!/usr/bin/python3
"""ctest decoder_loop_example: examples/decoder_loop.py generates a few tokens of the decoder fixture
on the simulated NPU and with --target cpu; the tokens agree, every NPU step reports a positive
simulated latency, and a prompt longer than the context slides its window. Skips (77) without numpy."""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy  # noqa: F401  (the example needs it)
except ImportError:
    print("numpy is not installed: skipped")
    sys.exit(77)

root, neutron = sys.argv[1], sys.argv[2]
example = os.path.join(root, "examples", "decoder_loop.py")


def loop(tmp, name, *extra):
    out = os.path.join(tmp, name + ".json")
    subprocess.run([sys.executable, example, "--neutron", neutron, "--json", out] + list(extra), check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


with tempfile.TemporaryDirectory() as tmp:
    npu = loop(tmp, "npu", "--prompt", "5,17,42", "--tokens", "3")
    cpu = loop(tmp, "cpu", "--prompt", "5,17,42", "--tokens", "3", "--target", "cpu")
    assert len(npu["generated"]) == 3, npu
    assert npu["generated"] == cpu["generated"], (npu["generated"], cpu["generated"])
    assert all(0 <= t < 128 for t in npu["generated"]), npu
    assert all(s["npu_latency_ms"] > 0 for s in npu["steps"]), npu
    long = loop(tmp, "long", "--prompt", ",".join(str(i) for i in range(20)), "--tokens", "2", "--opset", "13")
    assert len(long["generated"]) == 2, long
print("ok")
