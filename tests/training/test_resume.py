"""Checkpoints and resume: a run resumed at step k ends with the weights of an uninterrupted run."""

from __future__ import annotations

import json

import pytest
import torch

from ganflow.models import build_component, load_checkpoint
from ganflow.sampler.data import load_dataset
from ganflow.sampler.errors import NumericsError
from ganflow.training import TrainConfig, default_components, train_gan
from ganflow.training.run import Run
from tests.conftest import ganflow


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


def test_a_diverging_run_stops_with_one_line_and_finite_weights(tmp_path):
    """A non-finite loss stops the run before the optimizer step: one line naming the network, the
    step and what to do; the last checkpoint stays finite and loadable."""
    critic = default_components(load_dataset("gaussians8").spec)["critic"]
    run = Run(tmp_path / "r", device="cpu")
    net = build_component("critic", critic)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    run.begin({"critic": net}, {"critic": opt}, {}, samples=False)
    run.describe({"components": {"critic": critic}})
    run.checkpoint({})
    before = [p.detach().clone() for p in net.parameters()]
    loss = (net(torch.ones(4, 2)) * float("nan")).sum()
    with pytest.raises(
        NumericsError, match=r"the critic's loss is nan at step 0; .* keeps its last checkpoint"
    ):
        run.descend(loss, opt, net)
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), before, strict=True))
    _, weights = load_checkpoint(tmp_path / "r")
    assert all(torch.isfinite(t).all() for comp in weights.values() for t in comp.values())


def test_cli_divergence_is_one_line(tmp_path):

    args = ["train", "gan", "--data", "gaussians8", "--out", str(tmp_path / "d"), "--loss", "f:kl"]
    args += ["--lr-d", "1000", "--lr-g", "1000", "--steps", "20", "--batch-size", "32"]
    r = ganflow(*args, check=False)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: training diverged: the critic's loss is")
    assert "no checkpoint was written" in lines[0]
