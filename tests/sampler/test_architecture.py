"""DESIGN.md section 2: the sampler is a torch-free leaf. No module under sampler/ imports torch,
ganflow.training, ganflow.export or ganflow.models, except the CLI package (sampler/cli/), and that
only inside function bodies (commands import them when invoked, never when the CLI is loaded)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

SAMPLER = ROOT / "sampler"
CLI = SAMPLER / "cli"
UPWARD = ("torch", "ganflow.training", "ganflow.export", "ganflow.models")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return "ganflow." + ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The absolute names `node` imports (for `from a import b`: a and a.b)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: resolve against the importing module's package
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        return [base, *(f"{base}.{a.name}" for a in node.names)]
    if isinstance(node, ast.Call):  # importlib.import_module("torch"), __import__("torch")
        name = ast.unparse(node.func)
        dynamic = name in ("importlib.import_module", "import_module", "__import__")
        if dynamic and node.args and isinstance(node.args[0], ast.Constant):
            return [str(node.args[0].value)]
    return []


def upward_imports(source: str, module: str, is_package: bool = False) -> list[tuple[int, str, bool]]:
    """(line, name, inside a function body) for every import of torch, ganflow.training,
    ganflow.export or ganflow.models in `source` (the code of `module`)."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for name in _imported(node, module, is_package):
            if any(name == u or name.startswith(u + ".") for u in UPWARD):
                found.append((node.lineno, name, in_function))
        for child, inside in _children(node):
            visit(child, in_function or inside)

    visit(ast.parse(source), False)
    return found


def _children(node: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Child nodes, each with whether it runs only when the function is called (a function's body;
    its decorators, defaults and annotations run when it is defined)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        body = node.body if isinstance(node.body, list) else [node.body]
        for child in ast.iter_child_nodes(node):
            yield child, any(child is b for b in body)
    else:
        for child in ast.iter_child_nodes(node):
            yield child, False


def problems(path: Path) -> list[str]:
    """What in `path` breaks the rule: any upward import outside the CLI, one at import time in it."""
    found = upward_imports(path.read_text(), module_name(path), path.name == "__init__.py")
    in_cli = CLI in path.parents
    return [f"line {line}: {name}" for line, name, in_function in found if not (in_cli and in_function)]


def _files() -> list[Path]:
    return sorted(p for p in SAMPLER.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_checker_flags_each_pattern():
    mod = "ganflow.sampler.cli.x"
    at_import = [
        "import torch",
        "import torch.nn as nn",
        "from torch import nn",
        "from ganflow.training.gan import train_gan",
        "from ganflow import export",
        "import ganflow.models.checkpoint",
        "from ...models import checkpoint",  # relative, from ganflow.sampler.cli.x: ganflow.models
        "import importlib\nimportlib.import_module('ganflow.training')",
        "class A:\n    import torch",  # a class body runs at import time
        "def f(x=__import__('torch')):\n    pass",  # so does a default
        "if True:\n    from ganflow.export import export_bundle",
    ]
    for src in at_import:
        found = upward_imports(src, mod)
        assert found and not any(inside for _, _, inside in found), src
    in_function = [
        "def f():\n    import torch",
        "async def f():\n    from ganflow.training.commands import run_gan",
        "def f():\n    def g():\n        from ganflow import models",
        "f = lambda: __import__('torch')",
    ]
    for src in in_function:
        found = upward_imports(src, mod)
        assert found and all(inside for _, _, inside in found), src
    fine = [
        "import numpy",
        "import torchx",
        "from ganflow.sampler.errors import InputError",
        "from ganflow.trainingx import y",
        "from . import models",  # ganflow.sampler.cli.models
        "from .. import training",  # ganflow.sampler.training
    ]
    for src in fine:
        assert upward_imports(src, mod) == [], src
    # relative imports resolve against the package for an __init__.py
    assert upward_imports("from ... import export", "ganflow.sampler.cli", is_package=True)


def test_the_rule_covers_the_cli_and_the_rest():
    files = {p.relative_to(SAMPLER).as_posix() for p in _files()}
    assert {"cli/main.py", "cli/train/gan.py", "sample.py", "bundle.py"} <= files
    assert any(inside for *_, inside in upward_imports((CLI / "train" / "gan.py").read_text(), "x"))


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sampler_imports_nothing_upward(path):
    assert problems(path) == [], path


def test_the_top_level_package_imports_nothing_upward():
    """api/ is `ganflow` itself (`from ganflow import Sampler`): torch-free like the sampler, and lazy."""
    path = ROOT / "api" / "__init__.py"
    assert upward_imports(path.read_text(), "ganflow", is_package=True) == []
