"""Checkpoints and resume: a run resumed at step k ends with the weights of an uninterrupted run."""

from __future__ import annotations

import json

import pytest
import torch

from ganflow.models import load_checkpoint
from ganflow.sampler.data import load_dataset
from ganflow.training import TrainConfig, default_components, train_gan


def _cfg(loss: str, steps: int) -> TrainConfig:
    return TrainConfig(
        loss=loss,
        steps=steps,
        batch_size=32,
        log_every=5,
        eval_every=10,
        sample_every=10,
        ckpt_every=10,
        eval_samples=128,
        seed=3,
    )


@pytest.mark.parametrize("loss,spectral_norm", [("bce", False), ("wgan-gp", False), ("hinge", True)])
def test_resume_equals_uninterrupted(tmp_path, loss, spectral_norm):
    ds = load_dataset("gaussians8")
    comps = default_components(ds.spec, spectral_norm=spectral_norm)
    full, part = tmp_path / "full", tmp_path / "part"
    train_gan(full, ds, comps, _cfg(loss, 30), progress=False)
    train_gan(part, ds, comps, _cfg(loss, 20), progress=False)  # "interrupted" at step 20
    meta = train_gan(part, ds, config=_cfg(loss, 30), resume=True, progress=False)
    assert meta["summary"]["step"] == 30
    _, a = load_checkpoint(full)
    _, b = load_checkpoint(part)
    for comp in ("generator", "critic"):
        assert a[comp].keys() == b[comp].keys()
        for k in a[comp]:
            assert torch.equal(a[comp][k], b[comp][k]), f"{comp}.{k} differs after resume"
    # metrics.jsonl of the resumed run has the same steps as the uninterrupted one
    steps = [
        [json.loads(line)["step"] for line in (r / "metrics.jsonl").read_text().splitlines()]
        for r in (full, part)
    ]
    assert steps[0] == steps[1]


def test_run_directory_layout(tiny_run):
    for name in ("model.safetensors", "config.json", "state.safetensors", "metrics.jsonl"):
        assert (tiny_run / name).is_file(), name
    assert (tiny_run / "samples" / "step_000030.png").is_file()
    meta, states = load_checkpoint(tiny_run)
    assert meta == json.loads((tiny_run / "config.json").read_text())
    assert set(states) == {"generator", "critic"}
    assert meta["summary"]["step"] == 30 and "hq_rate256" in meta["summary"]["metrics"]
    from safetensors import safe_open

    with safe_open(str(tiny_run / "model.safetensors"), "pt") as f:
        assert f.metadata()["format"] == "pt"
        assert json.loads(f.metadata()["ganflow"]) == meta
    records = [json.loads(line) for line in (tiny_run / "metrics.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in records} == {"train", "eval"}


def test_no_pickle_in_state(tiny_run):
    # state.safetensors must be plain safetensors (no pickle): it loads with safe_open
    from safetensors import safe_open

    with safe_open(str(tiny_run / "state.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert any(k.startswith("opt.generator.state.") for k in keys)
    assert "rng.train" in keys
