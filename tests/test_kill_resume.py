"""Faults: kill -9 a training run or a sharded sampling run at random points, resume, and get
exactly what an uninterrupted run gives, with no partial file left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from ganflow.sampler.fsio import is_temp
from tests.conftest import ganflow

TRAIN = [
    "train", "gan", "--data", "gaussians25", "--steps", "400", "--ckpt-every", "20",
    "--eval-every", "100000", "--sample-every", "100000", "--log-every", "10",
    "--batch-size", "64", "--width", "32", "--no-progress", "--device", "cpu",
]  # fmt: skip


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ganflow.sampler.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines(path) -> int:
    return len(path.read_text().splitlines()) if path.is_file() else 0


def _kill_at_random(
    args_for_attempt, rng: random.Random, kills: int, window: tuple[float, float], progress=None
) -> int:
    """Start, kill -9 after a random delay, repeat `kills` times, then run to the end.
    With `progress` (a count that grows as the process works, e.g. lines in its log), the delay
    starts once the count has grown, so that a slow start (imports on a loaded machine) or a fast
    finish does not decide whether the kill lands mid-run. Returns how many kills hit a live process."""
    hits = 0
    for attempt in range(kills):
        before = progress() if progress else 0
        proc = _start(args_for_attempt(attempt))
        deadline = time.monotonic() + 120
        while progress and progress() <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(*window))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            hits += 1
        proc.wait()
    proc = _start(args_for_attempt(kills))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return hits


def _no_temps(folder) -> list:
    return [p for p in folder.rglob("*") if is_temp(p)]


@pytest.mark.slow
def test_training_killed_at_random_points_resumes_to_the_same_weights(tmp_path):
    ref, run = tmp_path / "ref", tmp_path / "run"
    ganflow(*TRAIN, "--out", str(ref))

    def args(attempt: int) -> list[str]:
        # a run killed before its first checkpoint has nothing to resume: it starts again
        return [*TRAIN, "--out", str(run), *(["--resume"] if (run / "config.json").exists() else [])]

    log = run / "metrics.jsonl"
    hits = _kill_at_random(args, random.Random(0), kills=4, window=(0.0, 0.3), progress=lambda: _lines(log))
    assert hits >= 2, "the kills should interrupt running trainings"
    a, b = load_file(ref / "model.safetensors"), load_file(run / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    steps = [line for line in (run / "metrics.jsonl").read_text().splitlines() if '"train"' in line]
    assert len(steps) == 400 // 10  # the log holds each step once, however often it was resumed
    assert not _no_temps(run)


def test_every_train_command_can_resume():
    """No trainer loses more than one checkpoint interval: each `ganflow train X` has --resume."""
    import inspect

    from ganflow.sampler.cli.train import train_app

    names = {c.name: c.callback for c in train_app.registered_commands}
    assert {"gan", "fisgan", "flowgan", "reweight", "classifier", "corrector"} <= set(names)
    for name, fn in names.items():
        assert "resume" in inspect.signature(fn).parameters, f"ganflow train {name} has no --resume"


@pytest.mark.slow
def test_corrector_killed_at_random_points_resumes_to_the_same_weights(tiny_run, tmp_path):
    cmd = ["train", "corrector", "--base", str(tiny_run), "--steps", "600", "--ckpt-every", "30"]
    ref, run = tmp_path / "ref", tmp_path / "run"
    ganflow(*cmd, "--out", str(ref))

    def args(attempt: int) -> list[str]:
        if (run / "config.json").exists():
            return ["train", "corrector", "--out", str(run), "--resume"]
        return [*cmd, "--out", str(run)]

    log = run / "metrics.jsonl"
    hits = _kill_at_random(args, random.Random(2), kills=3, window=(0.0, 0.3), progress=lambda: _lines(log))
    assert hits >= 2
    a, b = load_file(ref / "model.safetensors"), load_file(run / "model.safetensors")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    steps = [line for line in (run / "metrics.jsonl").read_text().splitlines() if '"train"' in line]
    assert len(steps) == 600 // 50  # each logged step once
    assert not _no_temps(run)


def test_state_kept_when_killed_between_the_two_checkpoint_writes(tmp_path):
    """Simulate the worst moment: state.safetensors written for step 40, weights still at 20."""
    import shutil

    ref, run = tmp_path / "ref", tmp_path / "run"
    base = [a for a in TRAIN]
    base[base.index("400")] = "40"
    ganflow(*base, "--out", str(ref))
    base[base.index("40")] = "20"
    ganflow(*base, "--out", str(run))
    weights_at_20 = (run / "model.safetensors").read_bytes()
    base[base.index("20")] = "40"
    ganflow(*base, "--out", str(run), "--resume")
    (run / "model.safetensors").write_bytes(weights_at_20)  # as if killed before this write
    shutil.rmtree(run / "samples")
    ganflow(*base, "--out", str(run), "--resume")
    a, b = load_file(ref / "model.safetensors"), load_file(run / "model.safetensors")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.slow
def test_sharded_png_sampling_killed_and_resumed(mnist_bundle, tmp_path):
    ref, out = tmp_path / "ref", tmp_path / "out"
    n = "6000"
    for shard in ("0", "1"):
        ganflow("sample", str(mnist_bundle), "-n", n, "--out", str(ref), "--num-shards", "2",
                "--shard-index", shard, "--device", "cpu", "--batch-size", "64")  # fmt: skip

    def args(attempt: int) -> list[str]:
        shard = str(attempt % 2)
        return ["sample", str(mnist_bundle), "-n", n, "--out", str(out), "--num-shards", "2",
                "--shard-index", shard, "--device", "cpu", "--batch-size", "64"]  # fmt: skip

    def pngs() -> int:
        return len(list(out.glob("*.png"))) if out.is_dir() else 0

    hits = _kill_at_random(args, random.Random(1), kills=3, window=(0.0, 0.3), progress=pngs)
    assert hits >= 1
    ganflow(*args(0))  # both shards to completion
    ganflow(*args(1))
    ref_files = sorted(p.name for p in ref.iterdir())
    assert sorted(p.name for p in out.iterdir()) == ref_files
    assert len([f for f in ref_files if f.endswith(".png")]) == int(n)
    for name in ref_files:
        assert (ref / name).read_bytes() == (out / name).read_bytes(), name
    assert not _no_temps(out) and not _no_temps(tmp_path)


def test_resume_removes_what_a_run_killed_mid_write_left(tmp_path):
    """A kill during a checkpoint write leaves `.model.safetensors.HOST~PID...tmp`: the resumed run
    removes it (its owner is dead), whether or not a kill happens to land there in the tests above."""
    from ganflow.sampler.fsio import owner_tag

    run = tmp_path / "run"
    ganflow(*TRAIN, "--steps", "40", "--out", str(run))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    tag = owner_tag().rsplit("~", 1)[0] + f"~{dead.pid}"
    left = [run / f".model.safetensors.{tag}.x1.tmp", run / "best" / f".state.safetensors.{tag}.x2.tmp"]
    for p in left:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"partial")
    assert all(is_temp(p) for p in left)
    ganflow(*TRAIN, "--steps", "60", "--out", str(run), "--resume")
    assert not _no_temps(run)
