#!/usr/bin/python3
"""Collects the parameters of upstream's NXP converter tests (facts only) into a JSON file.

  /usr/bin/python3 scripts/extract_upstream_params.py UPSTREAM_TEST_DIR OUT.json

UPSTREAM_TEST_DIR holds copies of pytorch/executorch's
backends/nxp/tests/ir/converter/node_converter/test_*_converter.py and backends/nxp/tests/models.py.
Each test module is imported with executorch, pytest and friends replaced by stand-ins (only
torch is real), and the pytest.mark.parametrize lists of every test function are expanded into
one dict per case (upstream's parameter id in "id"). Nothing upstream is run. The result is
tests/conformance/upstream/upstream_params.json, read by scripts/make_conformance.py.
"""
import sys, types, importlib.util, json, itertools, inspect, glob, os
from unittest import mock
SRC = sys.argv[1]
import torch
torch.ops.higher_order = mock.MagicMock()
class Finder:
    def find_spec(self, name, path, target=None):
        if name == 'torch.export' or name.startswith('torch.export.') or name.split('.')[0] in ('executorch','kgb','parameterized','pytest_mock','_pytest') or name.startswith('executorch'):
            if name == 'executorch.backends.nxp.tests.models':
                return importlib.util.spec_from_file_location(name, os.path.join(SRC, 'models.py'))
            from importlib.machinery import ModuleSpec
            return ModuleSpec(name, Loader())
        return None
class Loader:
    def create_module(self, spec):
        m = types.ModuleType(spec.name); m.__path__ = []; m.__all__ = []
        m.__getattr__ = lambda attr: mock.MagicMock(name=spec.name+'.'+attr)
        if spec.name.endswith('executorch_pipeline'):
            class ModelInputSpec:  # upstream's dataclass: a shape (and dtype)
                def __init__(self, shape, dtype=torch.float32, dim_order=None): self.shape, self.dtype = tuple(shape), dtype
            m.ModelInputSpec = ModelInputSpec
        return m
    def exec_module(self, m): pass
sys.meta_path.insert(0, Finder())

# A minimal stand-in for pytest: records parametrize marks and params (no pytest needed).
class _Mark:
    def __init__(self, name, args, kwargs): self.name, self.args, self.kwargs = name, args, kwargs
class _MarkGen:
    def __getattr__(self, name):
        def deco(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs and name != 'parametrize':
                return args[0]
            def apply(fn):
                fn.pytestmark = getattr(fn, 'pytestmark', []) + [_Mark(name, args, kwargs)]
                return fn
            return apply
        return deco
class _Param:
    def __init__(self, *values, id=None, marks=()):
        self.values, self.id = values, id
        self.marks = marks if isinstance(marks, (list, tuple)) else [marks]
pytest = types.ModuleType('pytest'); pytest.mark = _MarkGen(); pytest.param = _Param
pytest.fixture = lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f))
pytest.raises = mock.MagicMock()
sys.modules['pytest'] = pytest
out = {}
def params_of(fn):
    marks = [m for m in getattr(fn, 'pytestmark', []) if m.name == 'parametrize']
    if not marks: return [dict(id='')]
    lists = []
    for m in marks:
        names = m.args[0]; names = [n.strip() for n in names.split(',')] if isinstance(names, str) else list(names)
        vals = m.args[1]; ids = m.kwargs.get('ids')
        entries = []
        for k, v in enumerate(vals):
            pid = None; xfail = False
            if hasattr(v, 'values') and hasattr(v, 'marks'):
                pid = v.id; xfail = any(getattr(mm,'name','')=='xfail' for mm in v.marks); v = v.values
            else:
                v = (v,) if len(names) == 1 else v
            if len(names) == 1 and not isinstance(v, tuple): v = (v,)
            if pid is None:
                pid = ids(v[0] if len(names)==1 else v) if callable(ids) else (ids[k] if ids else repr(v if len(names)>1 else v[0]))
            entries.append((dict(zip(names, v)), pid, xfail))
        lists.append(entries)
    res = []
    for combo in itertools.product(*reversed(lists)):
        d = {}; ids = []; xf = False
        for p, pid, x in combo: d.update(p); ids.append(str(pid)); xf |= x
        d['id'] = '-'.join(ids)
        if xf: d['xfail'] = True
        res.append(d)
    return res
def conv(v):
    if isinstance(v, float) and v in (float('inf'), float('-inf')): return 'inf' if v > 0 else '-inf'
    if isinstance(v, (list, tuple)): return [conv(x) for x in v]
    if isinstance(v, torch.Size): return list(v)
    if isinstance(v, (int, float, str, bool)) or v is None: return v
    if hasattr(v, 'shape') and hasattr(v,'dtype'): return {'spec': list(v.shape)}
    if callable(v): return '<callable>'  # a module factory; the case's id names it
    return repr(v)
for f in sorted(glob.glob(os.path.join(SRC, 'test_*.py'))):
    name = os.path.basename(f)[:-3]
    spec = importlib.util.spec_from_file_location('up_'+name, f)
    mod = importlib.util.module_from_spec(spec)
    try: spec.loader.exec_module(mod)
    except Exception as e: print('FAIL', name, e); continue
    def walk(obj, prefix):
        for k, v in vars(obj).items():
            if inspect.isclass(v) and v.__module__ == mod.__name__ and k.startswith('Test'): walk(v, prefix + k + '.')
            elif k.startswith('test') and callable(v):
                fn = v.__func__ if isinstance(v, staticmethod) else v
                out[name + '::' + prefix + k] = [{kk: conv(vv) for kk, vv in p.items()} for p in params_of(fn)]
    walk(mod, '')
out['_source'] = 'pytorch/executorch@' + os.popen('git -C /work/.mirror/pytorch+executorch/repo rev-parse HEAD 2>/dev/null').read().strip() + ' backends/nxp/tests/ir/converter/node_converter'
json.dump(out, open(sys.argv[2], 'w'), indent=0)
print(sum(len(v) for v in out.values()), 'param sets in', len(out), 'functions')
