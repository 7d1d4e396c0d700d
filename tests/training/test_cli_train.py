"""`ganflow train gan` and `ganflow demo` from the command line: resume, refusals, outputs."""

from __future__ import annotations

import json

import numpy as np
import torch

from ganflow.models import load_checkpoint
from tests.conftest import ganflow

ARGS = [
    "--data",
    "gaussians8",
    "--steps",
    "{steps}",
    "--batch-size",
    "32",
    "--log-every",
    "5",
    "--eval-every",
    "10",
    "--sample-every",
    "10",
    "--ckpt-every",
    "10",
    "--seed",
    "5",
]


def _train(out, steps):
    args = [a.format(steps=steps) for a in ARGS]
    return ganflow("train", "gan", "--out", str(out), *args)


def test_cli_resume_matches_uninterrupted(tmp_path):
    _train(tmp_path / "full", 30)
    _train(tmp_path / "part", 20)
    again = ganflow("train", "gan", "--out", str(tmp_path / "part"), "--data", "gaussians8", check=False)
    assert again.returncode == 2 and "pass --resume" in again.stderr
    proc = ganflow(
        "train", "gan", "--out", str(tmp_path / "part"), "--data", "gaussians8", "--resume", "--steps", "30"
    )
    assert "to step 30" in proc.stdout
    _, a = load_checkpoint(tmp_path / "full")
    _, b = load_checkpoint(tmp_path / "part")
    for comp in a:
        for k in a[comp]:
            assert torch.equal(a[comp][k], b[comp][k]), (comp, k)
    wrong = ganflow(
        "train", "gan", "--out", str(tmp_path / "part"), "--data", "gaussians25", "--resume", check=False
    )
    assert wrong.returncode == 2 and "is not the data of the run" in wrong.stderr


def test_demo_2d(tmp_path):
    out = tmp_path / "demo"
    proc = ganflow("demo", "--out", str(out), "--steps", "200", "--device", "cpu")
    for line in ("bundle: ", "sample grid: ", "samples: "):
        assert line in proc.stdout
    assert (out / "bundle" / "config.json").is_file() and (out / "samples.png").is_file()
    assert np.load(out / "samples.npz")["samples"].shape == (10_000, 2)
    meta = json.loads((out / "run" / "config.json").read_text())
    assert meta["summary"]["step"] == 200
    again = ganflow("demo", "--out", str(out), "--steps", "10", check=False)
    assert again.returncode == 2 and "already holds a demo" in again.stderr
