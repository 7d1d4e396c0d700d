"""A regular (non-editable) wheel install carries every subpackage and the console script."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

TOP = ("models", "training", "export", "sampler")
# every folder with an __init__.py under the four roots is a subpackage the wheel must carry
SUBPACKAGES = sorted(
    "ganflow." + ".".join(init.parent.relative_to(ROOT).parts)
    for top in TOP
    for init in (ROOT / top).rglob("__init__.py")
    if "__pycache__" not in init.parts
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (whl,) = out.glob("ganflow-*.whl")
    return whl


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for pkg in SUBPACKAGES:
        assert pkg.replace(".", "/") + "/__init__.py" in names, pkg
    assert "ganflow/__init__.py" in names  # the top-level package (api/): from ganflow import Sampler
    # the feature network ships as package data, so `ganflow eval` works after a plain install
    assert {"ganflow/sampler/assets/mnist_cnn.onnx", "ganflow/sampler/assets/mnist_cnn.json"} <= set(names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ganflow = ganflow.sampler.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_wheel_imports_every_subpackage(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    code = (
        "import importlib, sys\n"
        f"for name in {SUBPACKAGES!r}:\n"
        "    m = importlib.import_module(name)\n"
        f"    assert m.__file__.startswith({str(target)!r}), (name, m.__file__)\n"
        "from ganflow.sampler.cli import main\n"
        "import ganflow\n"
        f"assert ganflow.__file__.startswith({str(target)!r}), ganflow.__file__\n"
        "from ganflow import Sampler, __version__, evaluate\n"
        "assert Sampler.__module__ == 'ganflow.sampler.api' and callable(evaluate) and __version__\n"
    )
    # run from tmp_path with only the wheel's folder (plus site-packages) on the path
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n" + code],
        check=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
