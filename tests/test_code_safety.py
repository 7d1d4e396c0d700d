"""No code path may deserialise with pickle or run strings as code (the bundles are untrusted)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

FOLDERS = ("api", "models", "training", "export", "sampler", "benchmarks", "tests")
BANNED_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}
BANNED_BUILTINS = {"eval", "exec", "compile", "__import__"}


def problems(source: str) -> list[str]:
    """What in `source` could execute data: pickle-family imports, eval/exec, torch.load without
    weights_only=True, np.load(allow_pickle=True), pandas.read_pickle, yaml.load."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in BANNED_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in BANNED_MODULES:
            out.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            f = node.func
            kw = {k.arg: k.value for k in node.keywords}
            if isinstance(f, ast.Name) and f.id in BANNED_BUILTINS:
                out.append(f"{f.id}(...) at line {node.lineno}")
            elif isinstance(f, ast.Attribute):
                owner = ast.unparse(f.value)
                if f.attr == "load" and owner == "torch":
                    ok = isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True
                    if not ok:
                        out.append(f"torch.load without weights_only=True at line {node.lineno}")
                elif f.attr == "load" and owner in ("np", "numpy"):
                    v = kw.get("allow_pickle")
                    if v is not None and not (isinstance(v, ast.Constant) and v.value is False):
                        out.append(f"np.load(allow_pickle=...) at line {node.lineno}")
                elif f.attr in ("read_pickle", "loads") and owner in ("pd", "pandas", "pickle"):
                    out.append(f"{owner}.{f.attr} at line {node.lineno}")
                elif f.attr in ("load", "load_all") and owner == "yaml":
                    out.append(f"yaml.{f.attr} at line {node.lineno}")
    return out


def _files() -> list[Path]:
    return sorted(p for d in FOLDERS for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts)


def test_the_checker_catches_each_pattern():
    bad = [
        "import pickle",
        "from dill import loads",
        "eval('1')",
        "exec('x = 1')",
        "import torch; torch.load('f')",
        "import torch; torch.load('f', weights_only=False)",
        "import numpy as np; np.load('f', allow_pickle=True)",
        "import yaml; yaml.load(s)",
    ]
    for src in bad:
        assert problems(src), src
    assert not problems("import torch; torch.load('f', weights_only=True); m.eval(); np.load('f')")


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unsafe_deserialisation(path):
    if path.name == Path(__file__).name:
        return  # this file spells the patterns out on purpose
    assert problems(path.read_text()) == [], path


# --- size: the trainers stay readable (DESIGN.md section 9) ------------------------------------------
MAX_FUNCTION_LINES = 80
MAX_FILE_LINES = 400


def oversized(source: str, name: str = "<source>") -> list[str]:
    """Functions (methods and nested ones too) longer than MAX_FUNCTION_LINES, measured with `ast`
    from `def` to their last line, and the file itself when it is longer than MAX_FILE_LINES."""
    out = []
    lines = len(source.splitlines())
    if lines > MAX_FILE_LINES:
        out.append(f"{name}: {lines} lines")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                out.append(f"{name}:{node.lineno} {node.name}: {n} lines")
    return out


def test_the_size_checker_catches_long_functions_and_files():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))  # def + 80 lines: 81
    assert oversized(f"def f():\n{body}") == ["<source>:1 f: 81 lines"]
    method = f"class A:\n    async def g(self):\n{textwrap.indent(body, '    ')}"
    assert oversized(method) == ["<source>:2 g: 81 lines"]
    assert oversized(f"def f():\n{body[: body.rindex('    x')]}") == []  # exactly 80 lines
    assert oversized("x = 1\n" * (MAX_FILE_LINES + 1)) == [f"<source>: {MAX_FILE_LINES + 1} lines"]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "training").rglob("*.py") if "__pycache__" not in p.parts),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_training_functions_and_files_are_short(path):
    assert oversized(path.read_text(), str(path.relative_to(ROOT))) == []
