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


def _launch(target: list[str], nproc: int) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(nproc),
        "--standalone",
        *target,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    """`ganflow *args` under torchrun (must succeed)."""
    return _launch(["-m", "ganflow.sampler.cli", *args], nproc)


def torchrun_script(script, nproc: int = 2) -> subprocess.CompletedProcess:
    """A Python script under torchrun (must succeed)."""
    return _launch([str(script)], nproc)


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
    torchrun_script(script)
    meta = json.loads((tmp_path / "c" / "config.json").read_text())
    assert meta["summary"]["step"] == 8 and 0 <= meta["summary"]["metrics"]["test_accuracy"] <= 1


def _same_weights(one, two, rtol=1e-4, atol=1e-5) -> None:
    _, a = load_checkpoint(one)
    _, b = load_checkpoint(two)
    assert a.keys() == b.keys()
    for comp in a:
        for k in a[comp]:
            torch.testing.assert_close(b[comp][k], a[comp][k], rtol=rtol, atol=atol, msg=f"{comp}.{k}")


TINY = ["--data", "gaussians25", "--batch-size", "64", "--steps", "12", "--log-every", "4"]
TINY += ["--eval-every", "12", "--sample-every", "12", "--ckpt-every", "6", "--device", "cpu"]
FISGAN = ["--arch", "mlp", "--width", "32", "--refit-every", "3", "--refit-epochs", "2", "--n-aug", "128"]
FISGAN += ["--flow-batch", "64", "--flow-layers", "2", "--flow-hidden", "16", "--norm", "hutchinson"]
FLOWGAN = ["--arch", "realnvp-mlp", "--hidden", "8", "--couplings", "2", "--critic-width", "8"]
FLOWGAN += ["--val-size", "256", "--val-n", "128", "--eval-samples", "256"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["fisgan", *FISGAN, "--weighting", "unbiased", "--mixture", "0.2"],  # global self-normalisation
        ["flowgan", *FLOWGAN, "--objective", "hybrid", "--n-critic", "2"],
    ],
    ids=["fisgan", "flowgan"],
)
def test_every_trainer_two_processes_equal_one(tmp_path, command):
    """FIS-GAN (flow refit on the gathered global batch) and Flow-GAN (likelihood and WGAN-GP
    terms) under torchrun with 2 gloo processes end on the weights of one process."""
    one, two = tmp_path / "one", tmp_path / "two"
    ganflow("train", *command, *TINY, "--out", str(one))
    proc = torchrun("train", *command, *TINY, "--out", str(two))
    assert proc.stdout.count("to step 12") == 1  # rank 0 reports
    _same_weights(one, two)
    steps = [json.loads(line)["step"] for line in (two / "metrics.jsonl").read_text().splitlines()]
    assert steps == [json.loads(line)["step"] for line in (one / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_post_hoc_trainers_two_processes_equal_one(tiny_run, tmp_path):
    """Reweighting and the DGflow corrector over a frozen GAN, 2 gloo processes = 1 process."""
    rw = ["reweight", "--base", str(tiny_run), "--steps", "8", "--n-critic", "2", "--hidden", "16"]
    rw += ["--eval-every", "8", "--ckpt-every", "4", "--device", "cpu", "--no-progress"]
    corr = ["corrector", "--base", str(tiny_run), "--steps", "20", "--ckpt-every", "10", "--device", "cpu"]
    for name, args in (("rw", rw), ("corr", corr)):
        one, two = tmp_path / f"{name}1", tmp_path / f"{name}2"
        ganflow("train", *args, "--out", str(one))
        torchrun("train", *args, "--out", str(two))
        _same_weights(one, two)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_process_group_is_torn_down_before_interpreter_shutdown(tmp_path):
    """After setup() and an optimizer (whose import pulls torch modules that take dist.group.WORLD
    as a default argument), destroy_process_group joins gloo's worker threads. Before the fix the
    group outlived it and a worker still freeing a finished collective at interpreter shutdown
    aborted ~1 torchrun in 15 ("terminate called without an active exception")."""
    script = tmp_path / "teardown.py"
    script.write_text(
        "import os, sys, torch, torch.distributed as dist\n"
        "from ganflow.training.distributed import setup\n"
        "threads = lambda: len(os.listdir('/proc/self/task'))\n"
        "before = threads()\n"
        "d = setup('cpu')\n"
        "assert d.world == 2 and threads() > before\n"
        "torch.optim.Adam(torch.nn.Linear(2, 2).parameters())\n"
        "x = torch.ones(4)\n"
        "dist.all_reduce(x)\n"
        "d.barrier()\n"
        "assert x.tolist() == [2.0] * 4\n"
        "dist.destroy_process_group()\n"
        "assert threads() == before, f'{threads()} threads after destroy, {before} before init'\n"
    )
    torchrun_script(script)
