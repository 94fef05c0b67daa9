#!/usr/bin/python3
"""ctest python_api: the Python module (python/, docs/python.md) on the Fashion-MNIST CNN fixture.

quantize -> compile -> run -> compare give what the CLI gives (the same ONNX and program bytes, the
same output arrays, the same JSON documents but for timings and the names of files the Python calls
did not write), from paths and from numpy arrays; bad arguments raise Python exceptions naming the
argument; the GIL is released while a command works. numpy only (no torch).
Usage: api_test.py BUILD/python SOURCE_DIR NEUTRON_BINARY"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipped")
    sys.exit(77)

sys.path.insert(0, sys.argv[1])
import neutron  # noqa: E402

root, cli = sys.argv[2], sys.argv[3]
fixture = os.path.join(root, "fixtures", "fmnist_cnn")
f32 = os.path.join(fixture, "model_f32.onnx")
int8 = os.path.join(fixture, "model_int8.onnx")
samples = os.path.join(fixture, "inputs.npy")
x = np.load(samples)  # [10, 1, 28, 28] float32
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


def neutron_cli(*args):
    r = subprocess.run([cli] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise AssertionError(f"neutron {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r.stdout


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def without(doc, *keys):
    d = dict(doc)
    for k in keys:
        d.pop(k, None)
    return d


def raises(exc, fn, *words):
    try:
        fn()
    except exc as e:
        for w in words:
            check(w in str(e), f"{exc.__name__} message {str(e)!r} lacks {w!r}")
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"expected {exc.__name__}, got {type(e).__name__}: {e}")
    raise AssertionError(f"expected {exc.__name__}, nothing raised")


TIMES = ("load_ms", "run_ms", "latency_ms")

with tempfile.TemporaryDirectory() as tmp:
    t = lambda name: os.path.join(tmp, name)  # noqa: E731
    version = subprocess.run([cli, "--version"], stdout=subprocess.PIPE, text=True, check=True).stdout
    check(neutron.__version__ in version, f"__version__ {neutron.__version__} vs {version}")

    # quantize: the CLI's bytes and document, from the .npy path and from arrays.
    neutron_cli("quantize", f32, "-i", samples, "-o", t("q_cli.onnx"), "--json", t("q_cli.json"))
    q = neutron.quantize(f32, samples, output=t("q_py.onnx"))
    check(read(t("q_cli.onnx")) == q.bytes == read(t("q_py.onnx")), "quantize: ONNX bytes differ from the CLI's")
    cli_q = read_json(t("q_cli.json"))
    check(without(cli_q, "output") == without(q.report, "output"), "quantize: report differs from the CLI's")
    check(q.report["schema"] == "quantize" and q.report["tool_version"] == neutron.__version__, "quantize: schema")
    check(list(q.report) == list(cli_q), "quantize: report keys or their order differ")
    q_arrays = neutron.quantize(f32, x)
    check(q_arrays.bytes == q.bytes, "quantize from an array differs from the .npy path")
    check(q_arrays.path is None and q_arrays.report["output"] is None, "quantize without output writes nothing")
    q_list = neutron.quantize(f32, [x[i:i + 1] for i in range(10)], observer="minmax")
    q_list_cli = t("q_minmax.onnx")
    neutron_cli("quantize", f32, "-i", samples, "-o", q_list_cli, "--observer", "minmax")
    check(q_list.bytes == read(q_list_cli), "quantize from per-sample arrays (minmax) differs from the CLI's")

    # compile: the same program and report as the CLI from the same model path.
    neutron_cli("compile", t("q_cli.onnx"), "--target", "imxrt700", "-o", t("p_cli.nprg"), "--json", t("p_cli.json"))
    prog = neutron.compile(t("q_cli.onnx"), "imxrt700")
    check(prog.bytes == read(t("p_cli.nprg")), "compile: program bytes differ from the CLI's")
    cli_p = read_json(t("p_cli.json"))
    check(cli_p["program"].pop("file") == t("p_cli.nprg") and prog.report["program"].pop("file") is None,
          "compile: program.file")
    check(cli_p == dict(prog.report), "compile: report differs from the CLI's")
    check("NPU" in prog.summary and "partition" in prog.summary, "compile: summary text")
    # From the in-memory quantized model, with calibration in the same call, and for the CPU.
    prog_q = neutron.compile(q, target="imxrt700", output=t("p_py.nprg"), listing=True)
    check(prog_q.bytes == read(t("p_py.nprg")) and prog_q.listing.startswith("# neutron program listing"),
          "compile: output and listing")
    prog_f = neutron.compile(f32, "imxrt700", calibration=x, save_quantized=True)
    check(prog_f.quantized.bytes == q.bytes, "compile with calibration: the quantized model differs from quantize's")
    prog_cpu = neutron.compile(t("q_cli.onnx"), "cpu")
    check(prog_cpu.report["summary"] is None and prog_cpu.report["npu"]["partitions"] == [], "compile cpu: report")

    # run: the CLI's outputs and document; NPU == CPU kernels bit for bit.
    labels = np.load(os.path.join(fixture, "test_labels.npy"))[:10]
    np.save(t("labels.npy"), labels)
    neutron_cli("run", t("p_cli.nprg"), "-i", samples, "-o", t("out_cli"), "--json", t("r_cli.json"), "--labels",
                t("labels.npy"))
    outs = neutron.run(t("p_cli.nprg"), samples, labels=t("labels.npy"))
    cli_out = np.load(os.path.join(tmp, "out_cli", "output_0.npy"))
    check(len(outs) == 1 and outs[0].dtype == cli_out.dtype and np.array_equal(outs[0], cli_out),
          "run: outputs differ from the CLI's")
    cli_r = read_json(t("r_cli.json"))
    check(without(cli_r, *TIMES) == without(outs.report, *TIMES), "run: report differs from the CLI's")
    outs2 = prog.run(x, labels=labels)
    check(np.array_equal(outs2[0], cli_out), "Program.run: outputs differ from the CLI's")
    check(prog.profile["npu_latency_ms"] == cli_r["npu_latency_ms"] > 0, "Program.run: profile (simulated NPU time)")
    check(prog.profile["accuracy"]["correct"] == cli_r["accuracy"]["correct"], "Program.run: accuracy from labels")
    one = prog.run(x[:1])  # one sample of the model's shape
    check(one[0].shape == (1, 10) and np.array_equal(one[0][0], cli_out[0]), "run: one sample")
    cpu = prog.run([x], target="cpu")
    check(np.array_equal(cpu[0], cli_out) and prog.profile["delegates_on_cpu"] is True, "run: target cpu")
    onnx_out = neutron.run(int8, x[:2], threads=2)
    check(onnx_out.report["kind"] == "onnx" and onnx_out[0].shape == (2, 10), "run: an ONNX model")
    check(onnx_out.names == [o["name"] for o in onnx_out.report["outputs"]], "run: output names")

    # compare: the CLI's document, programs and models from paths and memory.
    neutron_cli("compare", f32, t("p_cli.nprg"), "-i", samples, "--json", t("c_cli.json"))
    c = neutron.compare(f32, t("p_cli.nprg"), samples)
    check(read_json(t("c_cli.json")) == dict(c), "compare: report differs from the CLI's")
    c2 = neutron.compare(neutron.Model(f32), prog, x, labels=labels)
    check(c2["outputs"] == c["outputs"] and c2["inputs"] is None, "compare: from memory")
    check(c2["accuracy"]["test"] == cli_r["accuracy"]["top1"], "compare: accuracy")

    # inspect, supported_ops, load.
    neutron_cli("inspect", t("p_cli.nprg"), "--json", t("i_cli.json"))
    check(read_json(t("i_cli.json")) == dict(neutron.inspect(t("p_cli.nprg"))), "inspect: report differs")
    loaded = neutron.load(t("p_cli.nprg"))
    check(isinstance(loaded, neutron.Program) and loaded.bytes == prog.bytes, "load: a program")
    check(isinstance(neutron.load(f32), neutron.Model), "load: an ONNX model")
    neutron_cli("supported-ops", "--target", "imxrt700", "--json", t("s_cli.json"))
    check(read_json(t("s_cli.json")) == dict(neutron.supported_ops("imxrt700")), "supported_ops: report differs")
    check(neutron.supported_ops("imxrt700", markdown=True) == neutron_cli("supported-ops", "--target", "imxrt700"),
          "supported_ops: markdown differs")

    # dump and the memory budget.
    check(neutron.dump(f32) == neutron_cli("dump", f32), "dump: text differs from the CLI's")
    check(neutron.dump(q, after_passes=True) == neutron_cli("dump", t("q_cli.onnx"), "--after-passes"), "dump: passes")
    budget = neutron.max_memory()
    neutron.set_max_memory("1K")
    raises(neutron.NeutronError, lambda: neutron.run(f32, x), "memory budget")
    neutron.set_max_memory(budget)
    check(neutron.max_memory() == budget, "set_max_memory")
    raises(ValueError, lambda: neutron.set_max_memory("lots"), "max_memory")

    # Errors: Python exceptions with the tool's message, naming the argument.
    raises(neutron.NotFoundError, lambda: neutron.quantize(t("missing.onnx"), x), "missing.onnx")
    raises(FileNotFoundError, lambda: neutron.run(t("missing.nprg"), x), "missing.nprg")
    raises(TypeError, lambda: prog.run(x.astype(np.float64)), "inputs[0]", "float64")
    raises(TypeError, lambda: prog.run([[1.0, 2.0]]), "inputs[0]", "list")
    raises(neutron.NotFoundError, lambda: prog.run(t("missing.npy")), "missing.npy")
    raises(ValueError, lambda: prog.run(x.astype(np.int8)), "inputs[0]", "dtype")
    raises(ValueError, lambda: prog.run(np.zeros((3, 28, 28), np.float32)), "inputs[0]", "does not fit")
    raises(ValueError, lambda: prog.run([x, x]), "2 array(s)")
    raises(ValueError, lambda: prog.run(x, labels=labels[:3]), "labels")
    raises(ValueError, lambda: prog.run(x, target="gpu"), "target")
    raises(ValueError, lambda: neutron.compare(f32, prog, x, target="gpu"), "target")
    raises(ValueError, lambda: neutron.compare(f32, int8, x, target="cpu"), "applies to compiled programs")
    raises(neutron.NeutronError, lambda: neutron.compile(q, "no_such_target"), "no_such_target")
    raises(ValueError, lambda: neutron.compile(f32, "imxrt700"), "float model")
    raises(ValueError, lambda: neutron.compile(q, "imxrt700", no_delegate=["Bogus"]), "Bogus")
    raises(ValueError, lambda: neutron.quantize(f32, x, observer="bogus"), "bogus")
    raises(ValueError, lambda: neutron.quantize(f32, x, percentile=99.0), "percentile")
    raises(ValueError, lambda: neutron.quantize(f32, []), "no samples")
    raises(ValueError, lambda: neutron.quantize(f32, x[:, :, :5]), "calibration")
    raises(TypeError, lambda: neutron.quantize(f32, 42), "calibration")
    raises(neutron.NeutronError, lambda: neutron.run(neutron.Program(b"1234NPRG" + bytes(64), "bad.nprg"), x), "bad.nprg")
    raises(ValueError, lambda: neutron.quantize(t("p_cli.nprg"), x), "compiled neutron program")
    raises(ValueError, lambda: neutron.quantize(f32, x, output=f32), "names an input")
    check(issubclass(neutron.InvalidArgumentError, neutron.NeutronError), "exception classes")

    # The GIL is released while a command works: a Python thread keeps running meanwhile (with the
    # GIL held it would stop for the whole call).
    stamps, stop = [], [False]

    def tick():
        while not stop[0]:
            stamps.append(time.monotonic())
            time.sleep(0.002)

    th = threading.Thread(target=tick)
    th.start()
    repeat, held = 500, None
    while held is None:  # a run long enough to tell (timed runs of one sample)
        time.sleep(0.05)
        t0 = time.monotonic()
        neutron.run(f32, x[:1], repeat=repeat)
        t1 = time.monotonic()
        if t1 - t0 > 0.3 or repeat >= 64000:
            inside = [s for s in stamps if t0 <= s <= t1]
            gaps = [b - a for a, b in zip([t0] + inside, inside + [t1])]
            held = max(gaps) >= 0.6 * (t1 - t0)
        repeat *= 4
    stop[0] = True
    th.join()
    check(not held, f"the GIL was held during run ({len(inside)} ticks in {t1 - t0:.2f} s)")

print(f"ok: {checks} checks (a Python thread ticked {len(inside)} times during a {t1 - t0:.2f} s run)")
