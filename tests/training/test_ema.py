"""EMA of the generator: the update rule, resume with EMA, and the best-by-FID checkpoint."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from torch import nn

from ganflow.models import load_checkpoint
from ganflow.sampler.data import load_dataset
from ganflow.training import TrainConfig, default_components, train_gan
from ganflow.training.ema import EMA


def test_ema_is_the_exponential_average_and_copies_buffers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = EMA(model, 0.9)
    expected = [p.detach().clone() for p in model.parameters()]
    for _ in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        model(torch.randn(8, 3))  # moves BatchNorm's running statistics
        ema.update()
        expected = [0.9 * e + 0.1 * p.detach() for e, p in zip(expected, model.parameters(), strict=True)]
    for e, a in zip(expected, ema.module.parameters(), strict=True):
        torch.testing.assert_close(a, e)
        assert not a.requires_grad
    for b_ema, b in zip(ema.module.buffers(), model.buffers(), strict=True):
        assert torch.equal(b_ema, b)
    assert not any(
        torch.equal(a, p) for a, p in zip(ema.module.parameters(), model.parameters(), strict=True)
    )


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_bad_decay_refused(decay):
    with pytest.raises(ValueError, match="ema"):
        TrainConfig(ema=decay)


def _cfg(steps: int) -> TrainConfig:
    return TrainConfig(
        steps=steps, batch_size=32, log_every=5, eval_every=10, sample_every=10, ckpt_every=10,
        eval_samples=128, seed=4, ema=0.9,
    )  # fmt: skip


def test_ema_run_resumes_exactly_and_exports_the_average(tmp_path):
    ds = load_dataset("gaussians8")
    comps = default_components(ds.spec)
    full, part, plain = tmp_path / "full", tmp_path / "part", tmp_path / "plain"
    train_gan(full, ds, comps, _cfg(30), progress=False)
    train_gan(part, ds, comps, _cfg(20), progress=False)
    train_gan(part, ds, config=_cfg(30), resume=True, progress=False)
    _, a = load_checkpoint(full)
    _, b = load_checkpoint(part)
    for comp in ("generator", "critic"):
        for k in a[comp]:
            assert torch.equal(a[comp][k], b[comp][k]), f"{comp}.{k} differs after resume"
    # the checkpointed generator is the average, not the last iterate of an EMA-free run
    train_gan(plain, ds, comps, dataclasses.replace(_cfg(30), ema=None), progress=False)
    _, c = load_checkpoint(plain)
    assert not torch.equal(a["generator"]["net.0.weight"], c["generator"]["net.0.weight"])
    from safetensors import safe_open

    with safe_open(str(full / "state.safetensors"), "pt") as f:
        assert any(k.startswith("module.generator_train.") for k in f.keys())


def test_best_checkpoint_is_selected_on_the_training_split(tmp_path):
    ds = load_dataset("gaussians8")
    run = tmp_path / "run"
    train_gan(run, ds, default_components(ds.spec), _cfg(30), progress=False)
    best = json.loads((run / "best" / "config.json").read_text())
    evals = [
        r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "eval"
    ]
    key = best["selected_by"]
    assert key.startswith("fid") and "train" in key
    assert best["summary"]["metrics"][key] == min(r[key] for r in evals)
    assert best["summary"]["step"] in [r["step"] for r in evals]
    meta, states = load_checkpoint(run / "best")
    assert set(states) == {"generator", "critic"}


def test_ttur_learning_rates_reach_their_optimizers(tmp_path):
    """TTUR (Heusel et al. 2017): the critic and the generator keep their own learning rates,
    through a resume too (read back from the optimizers' saved state)."""
    from safetensors import safe_open

    ds = load_dataset("gaussians8")
    cfg = dataclasses.replace(_cfg(10), lr_g=1e-4, lr_d=4e-4, ema=None)
    train_gan(tmp_path / "r", ds, default_components(ds.spec), cfg, progress=False)
    train_gan(tmp_path / "r", ds, config=dataclasses.replace(cfg, steps=20), resume=True, progress=False)
    with safe_open(str(tmp_path / "r" / "state.safetensors"), "pt") as f:
        opts = json.loads(f.metadata()["ganflow_state"])["optimizers"]
    assert [g["lr"] for g in opts["generator"]["param_groups"]] == [1e-4]
    assert [g["lr"] for g in opts["critic"]["param_groups"]] == [4e-4]
