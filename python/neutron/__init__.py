"""neutron: an open eIQ Neutron NPU backend, from Python.

The same work as the ``neutron`` command line (quantize, compile, run, compare, inspect,
supported-ops), with numpy arrays in and out and the reports as dicts holding the keys of the
CLI's JSON documents (docs/json-schemas.md)::

    import neutron
    q = neutron.quantize("model.onnx", calibration=samples)        # a Model (QDQ ONNX) with .report
    prog = neutron.compile(q, target="imxrt700")                   # a Program with .report, .save(), .bytes
    outs = prog.run(x)                                              # numpy arrays; prog.profile: the run report
    neutron.compare("model.onnx", prog, x)["outputs"][0]["sqnr_db"]

Failures raise :class:`NeutronError` (``InvalidArgumentError`` is also a ``ValueError``,
``NotFoundError`` a ``FileNotFoundError``) with the message the CLI prints. Arrays of a dtype the
tools do not take raise ``TypeError`` naming the argument. The long work runs without the GIL.
See docs/python.md.
"""
import os
import tempfile

import numpy as np

from . import _neutron
from ._neutron import InvalidArgumentError, NeutronError, NotFoundError

__version__ = _neutron.version()

__all__ = [
    "Model", "Program", "Outputs", "Report", "NeutronError", "InvalidArgumentError", "NotFoundError",
    "quantize", "compile", "run", "compare", "inspect", "supported_ops", "dump", "load", "from_torch", "set_verbosity",
    "set_max_memory", "max_memory", "__version__",
]

_DTYPES = (np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_)
_PROGRAM_ID = b"NPRG"  # a program file's identifier, bytes 4..7


def set_verbosity(level, progress=False):
    """What the commands print on stderr: 0 nothing but errors, 1 notes (default), 2 also every step;
    progress=True adds the progress lines of calibration and compare (as the CLI prints them)."""
    _neutron.set_verbosity(int(level), bool(progress))


def set_max_memory(size):
    """The memory budget for what the input decides (a tensor, the calibration set, the activations), as
    the CLI's --max-memory: bytes, or a string with a K, M, G or T suffix ("2G"). Process-wide."""
    _neutron.set_max_memory(str(size))


def max_memory():
    """The memory budget in bytes (default: the smaller of 16 GiB and half the physical memory)."""
    return _neutron.max_memory()


class Report(dict):
    """A command's JSON document as a dict (docs/json-schemas.md); ``text`` is what the CLI prints."""

    def __init__(self, doc, text=""):
        super().__init__(doc)
        self.text = text


class Outputs(list):
    """A model's outputs: a list of numpy arrays (several samples stacked along a leading axis).

    ``names`` are the output tensors' names, ``report`` the ``run`` document (latency, simulated NPU
    time, memory).
    """

    def __init__(self, arrays, names, report):
        super().__init__(arrays)
        self.names = list(names)
        self.report = report


def _write(path, data):
    """Writes bytes or text to `path` through a temporary file renamed over it (no partial files)."""
    path = os.fspath(path)
    mode = "wb" if isinstance(data, (bytes, bytearray)) else "w"
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".neutron-", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _same_file(a, b):
    try:
        return a is not None and b is not None and os.path.samefile(a, b)
    except OSError:
        return False


class Model:
    """An ONNX model: a file (``path``) or bytes in memory (what :func:`quantize` returns).

    ``name`` names it in messages and reports (its path, when it has one); ``report`` is the
    ``quantize`` document of a quantized model, else None.
    """

    def __init__(self, path=None, data=None, name=None, report=None):
        if path is None and data is None:
            raise ValueError("Model: needs a path or the model's bytes")
        self.path = None if path is None else os.fspath(path)
        self._data = None if data is None else bytes(data)
        self.name = name or self.path or "model.onnx"
        self.report = report

    @property
    def bytes(self):
        """The ONNX file's bytes."""
        if self._data is None:
            with open(self.path, "rb") as f:
                return f.read()
        return self._data

    def save(self, path):
        """Writes the ONNX model to `path`; returns the path."""
        return _write(path, self.bytes)

    def __repr__(self):
        where = self.path if self.path else f"{len(self._data)} bytes in memory"
        return f"neutron.Model({self.name!r}, {where})"


class Program:
    """A compiled program (.nprg): what :func:`compile` returns or :func:`load` reads.

    ``bytes`` the program file, ``report`` the ``compile`` document (None when loaded from a file),
    ``summary`` the text ``neutron compile`` prints, ``listing`` the listing (compile with
    listing=True), ``quantized`` the quantized Model (compile with save_quantized), ``profile`` the
    ``run`` document of the last :meth:`run`.
    """

    def __init__(self, data, name, report=None, summary="", listing=None, quantized=None, path=None):
        self.bytes = bytes(data)
        self.name = name
        self.path = path
        self.report = report
        self.summary = summary
        self.listing = listing
        self.quantized = quantized
        self.profile = None

    def save(self, path):
        """Writes the program file to `path`; returns the path."""
        return _write(path, self.bytes)

    def run(self, inputs, *, target=None, labels=None, profile=False, threads=1):
        """Runs the program on `inputs` (see :func:`run`); returns :class:`Outputs` and sets ``profile``."""
        outs = run(self, inputs, target=target, labels=labels, profile=profile, threads=threads)
        self.profile = outs.report
        return outs

    def inspect(self):
        """The ``inspect`` document: instructions, sections, memory plan, source nodes."""
        return inspect(self)

    def __repr__(self):
        return f"neutron.Program({self.name!r}, {len(self.bytes)} bytes)"


def load(path):
    """A :class:`Program` or an ONNX :class:`Model` from a file, by its contents."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[4:8] == _PROGRAM_ID:
        return Program(data, path, path=path)
    return Model(path=path)


def _source(model, what):
    """(name, bytes or None) of a path, Model, Program or bytes."""
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model), None
    if isinstance(model, Model):
        return model.name, model._data
    if isinstance(model, Program):
        return model.name, model.bytes
    if isinstance(model, (bytes, bytearray)):
        return f"<{what}>", bytes(model)
    raise TypeError(f"{what}: expected a path, a neutron.Model, a neutron.Program or bytes, got {type(model).__name__}")


def _array(x, what):
    """`x` (a numpy array, an array-like such as a torch tensor, or a .npy path) as an array the tools take."""
    if isinstance(x, (str, os.PathLike)):
        path = os.fspath(x)
        if not os.path.exists(path):
            raise NotFoundError(f"{what}: {path}: no such file")
        x = np.load(path, allow_pickle=False)
    elif not isinstance(x, np.ndarray):
        if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch.Tensor
            x = x.detach().cpu().numpy()
        elif hasattr(x, "__array__"):
            x = np.asarray(x)
        else:
            raise TypeError(f"{what}: expected a numpy array (or a .npy path), got {type(x).__name__}")
    if x.dtype.type not in _DTYPES:
        raise TypeError(f"{what}: dtype {x.dtype} is not supported: use float32, int8, uint8, int16, int32, int64 "
                        f"or bool (e.g. {what}.astype(numpy.float32))")
    if not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))
    return np.ascontiguousarray(x)


def _is_array(x):
    return isinstance(x, (np.ndarray, str, os.PathLike)) or (hasattr(x, "__array__") and not isinstance(x, (list, tuple)))


def _samples(data, what):
    """Calibration or compare samples: (per-input lists of (name, array), path).

    A path (a .npy file or a folder, as the CLI's -i) is passed on; an array holds the samples of a
    one-input model along its leading axis; a list or any iterable holds samples (or batches) one
    by one, each an array or .npy path, or for several inputs a tuple of them.
    """
    if data is None:
        return None, ""
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if os.path.isdir(path) or path.endswith(".npy"):
            return None, path
    if _is_array(data):
        return [[(what, _array(data, what))]], ""
    if isinstance(data, dict):
        raise TypeError(f"{what}: give the samples as a list (a tuple per sample for several inputs), not a dict")
    try:
        items = list(data)
    except TypeError:
        raise TypeError(f"{what}: expected an array, a .npy path or folder, or an iterable of samples, "
                        f"got {type(data).__name__}") from None
    if not items:
        raise ValueError(f"{what}: no samples")
    if all(_is_array(i) for i in items):
        return [[(f"{what}[{i}]", _array(x, f"{what}[{i}]")) for i, x in enumerate(items)]], ""
    if all(isinstance(i, (tuple, list)) for i in items):
        n = len(items[0])
        if any(len(i) != n for i in items):
            raise ValueError(f"{what}: every sample needs one array per model input ({n} in the first)")
        return [[(f"{what}[{i}][{k}]", _array(s[k], f"{what}[{i}][{k}]")) for i, s in enumerate(items)]
                for k in range(n)], ""
    raise TypeError(f"{what}: each sample must be an array or .npy path, or for several inputs a tuple of them")


def _inputs(inputs):
    """run's inputs: one array per model input (a single array for a one-input model)."""
    if _is_array(inputs):
        inputs = [inputs]
    elif not isinstance(inputs, (list, tuple)):
        raise TypeError(f"inputs: expected an array or a list of arrays (one per model input), got "
                        f"{type(inputs).__name__}")
    return [(f"inputs[{i}]", _array(x, f"inputs[{i}]")) for i, x in enumerate(inputs)]


def _check_target(command, target):
    if target not in (None, "", "npu", "cpu"):
        raise InvalidArgumentError(f"{command}: target takes None (programs: the simulated NPU) or 'cpu', got "
                                   f"{target!r}")


def _labels(labels):
    """(array or None, name): labels as an array, or a .npy path the tool reads."""
    if labels is None:
        return None, ""
    if isinstance(labels, (str, os.PathLike)):
        return None, os.fspath(labels)
    return _array(labels, "labels"), "labels"


def _check_output(path, what, *sources):
    if path is None:
        return ""
    path = os.fspath(path)
    for s in sources:
        if isinstance(s, (str, os.PathLike)) and _same_file(os.fspath(s), path):
            raise InvalidArgumentError(f"{what} {path} names an input; it would be overwritten")
    return path


def quantize(model, calibration, *, output=None, observer="histogram", percentile=None, bias_correction="float",
             threads=1):
    """Post-training int8 quantization in the Neutron scheme: float ONNX -> QDQ ONNX (``neutron quantize``).

    model: an ONNX path, Model or bytes. calibration: samples (an array with samples along the
    leading axis, a list or iterable of arrays or .npy paths, tuples of them for several inputs, or
    a .npy file or folder as the CLI's -i). observer: minmax, histogram or percentile; percentile:
    the percentile kept (observer percentile, default 99.99); bias_correction: off, float or
    empirical; threads: calibration threads (results are the same for any number).
    Returns a :class:`Model` in memory whose ``report`` is the ``quantize`` document; with
    `output` it is also written there.
    """
    name, data = _source(model, "model")
    samples, path = _samples(calibration, "calibration")
    out = _check_output(output, "output", model, path or None)
    onnx, report, text = _neutron.quantize(name, data, samples, path, out, observer, percentile, bias_correction,
                                           int(threads))
    if out:
        _write(out, onnx)
    return Model(path=out or None, data=onnx, name=out or _quantized_name(name), report=Report(report, text))


def _quantized_name(name):
    base, ext = os.path.splitext(name)
    return base + "_int8" + (ext or ".onnx")


def compile(model, target, *, calibration=None, output=None, no_delegate=(), fetch_constants_to_sram=False,
            weights_sram_budget=None, allow_oversize=False, profile=False, listing=False, save_quantized=None, observer="histogram", percentile=None,
            bias_correction="float", threads=1):
    """Partitions a model for the Neutron NPU and compiles it to a program (``neutron compile``).

    model: an int8 QDQ ONNX model (path, Model or bytes), or a float one with `calibration`
    (quantized first as :func:`quantize` with observer, percentile, bias_correction, threads).
    target: a target name (imxrt700, ...), a target .json file or folder, or "cpu" (every op as
    CPU kernel calls). no_delegate: IR op types kept on the CPU (a list or "Softmax,Add").
    fetch_constants_to_sram: weights stay in flash and are copied to SRAM one kernel ahead.
    weights_sram_budget: SRAM bytes (an int, or a string such as "512K") for each partition's NPU
    weights: all resident if they fit, else the fastest prefetch plan whose buffer fits.
    allow_oversize: a program above the target's SRAM is a warning (stderr), not an error.
    profile: the summary lists the simulated time of every kernel. listing: True keeps the listing
    in ``Program.listing``, a path also writes it there. save_quantized: with calibration, True keeps
    the quantized model in ``Program.quantized``, a path also writes it there. output: also write
    the program file there.
    Returns a :class:`Program` whose ``report`` is the ``compile`` document.
    """
    name, data = _source(model, "model")
    samples, path = _samples(calibration, "calibration")
    if isinstance(no_delegate, (list, tuple)):
        no_delegate = ",".join(no_delegate)
    out = _check_output(output, "output", model, path or None)
    listing_path = _check_output(None if isinstance(listing, bool) else listing, "listing", model, path or None)
    sq_path = _check_output(None if isinstance(save_quantized, bool) or save_quantized is None else save_quantized,
                            "save_quantized", model, path or None)
    program, quantized, listing_text, report, text = _neutron.compile(
        name, data, str(target), out, samples, path, no_delegate, bool(fetch_constants_to_sram),
        "" if weights_sram_budget is None else str(weights_sram_budget), bool(allow_oversize),
        bool(profile),
        bool(listing), sq_path or ("quantized" if save_quantized else ""), observer, percentile, bias_correction,
        int(threads))
    q = None
    if save_quantized:
        q = Model(path=sq_path or None, data=quantized, name=sq_path or _quantized_name(name))
    if out:
        _write(out, program)
    if listing_path:
        _write(listing_path, listing_text)
    if sq_path:
        _write(sq_path, quantized)
    prog_name = out or os.path.splitext(name)[0] + ".nprg"
    return Program(program, prog_name, report=Report(report, text), summary=text,
                   listing=listing_text if listing else None, quantized=q, path=out or None)


def run(model, inputs, *, target=None, labels=None, profile=False, repeat=1, warmup=0, threads=1):
    """Runs an ONNX model on the host CPU kernels, or a program through the runtime (``neutron run``).

    inputs: one array per model input (a single array for one input; numpy arrays, torch tensors or
    .npy paths), each one sample or several along a leading axis. A program's NPU partitions run
    on the simulated NPU, or with target="cpu" on the CPU kernels. labels: one integer class per
    sample (top-1 accuracy of the first output in the report). profile: per-kernel NPU times in
    ``report.text``. repeat, warmup: ONNX models, one sample: timed and untimed runs. threads:
    samples in parallel (the outputs are the same for any number).
    Returns :class:`Outputs`: the output arrays, with ``report`` the ``run`` document.
    """
    name, data = _source(model, "model")
    _check_target("run", target)
    label_array, labels_name = _labels(labels)
    outs, names, report, text = _neutron.run(name, data, _inputs(inputs), "cpu" if target == "cpu" else "",
                                             label_array, labels_name, bool(profile), int(repeat), int(warmup),
                                             int(threads))
    return Outputs(outs, names, Report(report, text))


def compare(reference, test, inputs, *, labels=None, target=None, threads=1):
    """Runs two models or programs on the same samples: error metrics per output (``neutron compare``).

    reference, test: ONNX models or programs (paths, Model, Program or bytes). inputs: samples as
    for :func:`quantize`'s calibration. labels: one integer class per sample (top-1 accuracy of
    both). target="cpu": programs' NPU partitions on the CPU kernels. threads: samples in parallel.
    Returns the ``compare`` document (max_abs_error, mse, sqnr_db, cosine, top1_agreement per output).
    """
    _check_target("compare", target)
    ref_name, ref_data = _source(reference, "reference")
    test_name, test_data = _source(test, "test")
    samples, path = _samples(inputs, "inputs")
    label_array, labels_name = _labels(labels)
    report, text = _neutron.compare(ref_name, ref_data, test_name, test_data, samples, path, label_array,
                                    labels_name, "" if target in (None, "npu") else str(target), int(threads))
    return Report(report, text)


def inspect(program):
    """The ``inspect`` document of a program (path, Program or bytes): instructions, sections, memory plan."""
    name, data = _source(program, "program")
    report, text = _neutron.inspect(name, data)
    return Report(report, text)


def supported_ops(target, *, markdown=False):
    """The NPU delegation rules of a target: the ``supported-ops`` document, or with markdown=True the
    markdown of docs/supported-ops.md."""
    report, md = _neutron.supported_ops(str(target))
    return md if markdown else Report(report)


def dump(model, *, after_passes=False):
    """The graph IR of an ONNX model as text (``neutron dump``); after_passes: after the CPU pipeline."""
    name, data = _source(model, "model")
    return _neutron.dump(name, data, bool(after_passes))


def from_torch(module, example_inputs, target, *, calibration=None, opset=17, input_names=None, output_names=None,
               **compile_options):
    """Exports a torch.nn.Module to ONNX and compiles it: the three-line PyTorch path.

    example_inputs: a tensor or a tuple of tensors (one per forward() argument). calibration:
    samples for the int8 quantization as for :func:`quantize` (default: the example inputs alone,
    which calibrates poorly; give a few hundred real samples). The other keywords are
    :func:`compile`'s. Returns the :class:`Program`; ``Program.source`` is the exported float Model.
    """
    import torch  # only this function needs torch

    if not isinstance(example_inputs, (tuple, list)):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    name = type(module).__name__ + ".onnx"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name)
        kwargs = dict(opset_version=opset, input_names=input_names, output_names=output_names)
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                try:
                    torch.onnx.export(module, example_inputs, path, dynamo=False, **kwargs)
                except TypeError:  # a torch without the dynamo argument
                    torch.onnx.export(module, example_inputs, path, **kwargs)
        finally:
            module.train(was_training)
        with open(path, "rb") as f:
            source = Model(data=f.read(), name=name)
    if calibration is None:
        calibration = [tuple(example_inputs)] if len(example_inputs) > 1 else [example_inputs[0]]
    prog = compile(source, target, calibration=calibration, **compile_options)
    prog.source = source
    return prog
