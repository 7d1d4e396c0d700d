"""What a new user meets first: --version, run.sh paths relative to the caller, demo --overwrite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ganflow.sampler.version import __version__
from tests.conftest import ROOT, ganflow


def test_version():
    out = ganflow("--version").stdout.strip()
    assert out == f"ganflow {__version__}" and __version__ != "0+unknown"


def test_demo_refuses_an_existing_demo_without_overwrite(tmp_path):
    (tmp_path / "d" / "run").mkdir(parents=True)
    (tmp_path / "d" / "run" / "config.json").write_text("{}")
    proc = ganflow("demo", "--out", str(tmp_path / "d"), check=False)
    assert proc.returncode != 0 and "pass --overwrite" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_run_sh_demo_writes_where_the_caller_is_and_overwrites(tmp_path):
    """`bash run.sh demo --out X` from another folder writes X there (not in the clone), and a
    second run with --overwrite replaces it."""
    env = {**os.environ, "GANFLOW_VENV": str(ROOT / ".venv")}
    cmd = ["bash", str(ROOT / "run.sh"), "demo", "--out", "d", "--steps", "30", "--device", "cpu"]
    for extra in ([], ["--overwrite"]):
        proc = subprocess.run(cmd + extra, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "d" / "bundle" / "config.json").is_file()
        assert not (ROOT / "d").exists()
        assert "source " in proc.stdout and "activate" in proc.stdout


def test_readme_fresh_shell_snippet_reaches_ganflow():
    """The README's "how to reach ganflow" block, run as written in a new shell whose PATH does
    not know the clone's .venv: activation puts `ganflow` on PATH, the by-path call works."""
    venv = Path(sys.executable).parent.parent
    if venv.resolve() != (ROOT / ".venv").resolve():
        pytest.skip("the README block names the clone's .venv; these tests run from another environment")
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- test: fresh-shell[^\n]*-->\n```bash\n(.*?)```", text, re.S)
    assert block, "README lost its fresh-shell block"
    script = block.group(1) + "ganflow --version\n"
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"ganflow {__version__}"] * 2
