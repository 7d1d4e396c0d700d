"""Data parallel training under torchrun: 2 CPU processes (gloo) equal one process, same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from ganflow.models import load_checkpoint
from tests.conftest import MNIST, ganflow

GAN = [
    "--data",
    "gaussians25",
    "--arch",
    "mlp",
    "--width",
    "64",
    "--batch-size",
    "64",
    "--steps",
    "20",
    "--log-every",
    "5",
    "--eval-every",
    "10",
    "--sample-every",
    "20",
    "--ckpt-every",
    "10",
    "--device",
    "cpu",
]


def torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(nproc),
        "--standalone",
        "-m",
        "ganflow.sampler.cli",
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_two_processes_equal_one(tmp_path, loss):
    one, two = tmp_path / "one", tmp_path / "two"
    ganflow("train", "gan", "--out", str(one), "--loss", loss, *GAN)
    proc = torchrun("train", "gan", "--out", str(two), "--loss", loss, *GAN)
    assert proc.stdout.count("trained gan to step 20") == 1  # rank 0 reports
    _, a = load_checkpoint(one)
    _, b = load_checkpoint(two)
    for comp in a:
        for k in a[comp]:
            torch.testing.assert_close(b[comp][k], a[comp][k], rtol=1e-4, atol=1e-5)
    steps = [json.loads(line)["step"] for line in (two / "metrics.jsonl").read_text().splitlines()]
    assert steps == [json.loads(line)["step"] for line in (one / "metrics.jsonl").read_text().splitlines()]


def test_odd_batch_is_refused(tmp_path):
    args = [a if a != "64" else "63" for a in GAN]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--standalone",
        "-m",
        "ganflow.sampler.cli",
        "train",
        "gan",
        "--out",
        str(tmp_path / "r"),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "not divisible by 2 processes" in proc.stderr


def test_classifier_under_torchrun(tmp_path):
    if not MNIST.is_file():
        pytest.skip("MNIST absent")
    from ganflow.training.classifier import train_classifier  # noqa: F401  (torch available)

    code = (
        "from ganflow.training.classifier import train_classifier\n"
        f"train_classifier({str(tmp_path / 'c')!r}, {str(MNIST)!r}, epochs=1, batch_size=64, limit=512,"
        " channels=4, hidden=16, device='cpu')\n"
    )
    script = tmp_path / "train.py"
    script.write_text(code)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--standalone",
        str(script),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((tmp_path / "c" / "config.json").read_text())
    assert meta["summary"]["step"] == 8 and 0 <= meta["summary"]["metrics"]["test_accuracy"] <= 1
