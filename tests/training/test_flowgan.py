"""Flow-GAN trainer: tiny runs of every objective, the NLL bookkeeping, best checkpoint, resume, CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

from ganflow.models import load_checkpoint, load_modules
from ganflow.sampler.data import load_dataset
from ganflow.training.flowgan import (
    OBJECTIVES,
    FlowGANTrainConfig,
    bits_per_dim,
    flowgan_components,
    train_flowgan,
)
from tests.conftest import MNIST, ganflow

TOY = {"hidden": 16, "couplings": 2}


def _cfg(objective: str, steps: int = 6, **kw) -> FlowGANTrainConfig:
    small = dict(batch_size=32, n_critic=2, val_size=500, val_n=200, log_every=2, eval_every=3)
    small.update(sample_every=6, ckpt_every=3, eval_samples=200)
    return FlowGANTrainConfig(objective=objective, steps=steps, **{**small, **kw})


@pytest.fixture(scope="module")
def toy():
    return load_dataset("gaussians8")


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_each_objective_trains_and_logs(tmp_path, toy, objective):
    comps = flowgan_components(toy.spec, "realnvp-mlp", TOY, critic_width=16)
    meta = train_flowgan(tmp_path, toy, comps, _cfg(objective), progress=False, device="cpu")
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r["kind"] == "train"]
    evals = [r for r in rows if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [3, 6]
    assert all(math.isfinite(r["val_nll_nats"]) for r in evals)
    w_adv, w_nll = OBJECTIVES[objective](0.1)
    assert ("nll_nats" in train[0]) == (w_nll > 0) and ("wasserstein" in train[0]) == (w_adv > 0)
    best = meta["summary"]["best"]
    assert best["val_nll_nats"] == min(r["val_nll_nats"] for r in evals)
    best_meta, _ = load_checkpoint(tmp_path / "best")
    assert best_meta["summary"]["step"] == best["step"]
    assert meta["family"] == "flowgan" and (tmp_path / "samples" / "step_000006.png").is_file()
    assert ("critic" in meta["components"]) == (w_adv > 0)  # MLE trains (and ships) no critic


def test_mle_lowers_the_validation_nll(tmp_path, toy):
    comps = flowgan_components(toy.spec, "realnvp-mlp", {"hidden": 32, "couplings": 4})
    cfg = FlowGANTrainConfig(
        objective="mle", steps=150, batch_size=64, lr=3e-3, val_size=1000, val_n=500, eval_every=150
    )
    meta = train_flowgan(tmp_path, toy, comps, cfg, progress=False, device="cpu")
    _, mods = load_modules(tmp_path)
    x_val = torch.from_numpy(toy.x[-1000:][:500])
    start = 0.5 * (x_val**2).sum(1).mean().item() + math.log(2 * math.pi)  # the identity flow
    assert meta["summary"]["metrics"]["val_nll_nats"] < start - 0.3
    assert -mods["generator"].log_prob(x_val).mean().item() == pytest.approx(
        meta["summary"]["metrics"]["val_nll_nats"], rel=1e-5
    )


def test_resume_equals_one_run(tmp_path, toy):
    comps = flowgan_components(toy.spec, "realnvp-mlp", TOY, critic_width=16)
    train_flowgan(tmp_path / "full", toy, comps, _cfg("hybrid", 6), progress=False, device="cpu")
    train_flowgan(tmp_path / "part", toy, comps, _cfg("hybrid", 3), progress=False, device="cpu")
    train_flowgan(tmp_path / "part", toy, config=_cfg("hybrid", 6), resume=True, progress=False, device="cpu")
    _, a = load_checkpoint(tmp_path / "full")
    _, b = load_checkpoint(tmp_path / "part")
    for comp in a:
        for k in a[comp]:
            assert torch.equal(a[comp][k], b[comp][k]), (comp, k)


def test_mnist_hybrid_dequantises_and_reports_both_units(tmp_path, monkeypatch):
    """The image path (range [-1, 1], dequantisation, both units); sample metrics stubbed out
    (the 10k-image feature pass would dominate the suite's time)."""
    import ganflow.training.flowgan as fg

    monkeypatch.setattr(fg, "TrainingEval", lambda data: lambda x: {"x_min": float(x.min())})
    if not MNIST.is_file():
        pytest.skip(f"{MNIST} is absent")
    ds = load_dataset(str(MNIST))
    comps = flowgan_components(ds.spec, "nice", {"hidden": 8, "depth": 1}, critic_width=4)
    assert tuple(comps["generator"]["data_range"]) == (-1.0, 1.0)  # DataSpec.range, not [0, 1]
    cfg = _cfg("hybrid", 3, eval_samples=100)
    meta = train_flowgan(tmp_path, ds, comps, cfg, progress=False, device="cpu")
    m = meta["summary"]["metrics"]
    # an identity-initialised NICE is nearly uniform on [0, 1]^784: NLL ~ 0 nats, ~8 bits/dim
    assert abs(m["val_nll_nats"]) < 200 and m["val_nll_bpd"] == pytest.approx(
        bits_per_dim(m["val_nll_nats"], 784, True)
    )
    assert 7.5 < m["val_nll_bpd"] < 8.5 and m["x_min"] >= -1.0


@pytest.mark.parametrize(
    "bad", [{"objective": "kl"}, {"lam": -1.0}, {"steps": 0}, {"betas": (0.5, 1.0)}, {"colour": 1}]
)
def test_config_validation(bad):
    with pytest.raises(ValueError):
        FlowGANTrainConfig.from_dict(bad)


def test_cli_rejects_a_bad_objective(tmp_path):
    proc = ganflow(
        "train",
        "flowgan",
        "--data",
        "gaussians8",
        "--objective",
        "kl",
        "--out",
        str(tmp_path / "r"),
        check=False,
    )
    assert proc.returncode != 0 and "error: unknown objective 'kl'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_trains_a_toy_flowgan(tmp_path):
    out = tmp_path / "run"
    args = ["train", "flowgan", "--data", "gaussians8", "--arch", "realnvp-mlp", "--hidden", "8"]
    args += [
        "--couplings",
        "2",
        "--critic-width",
        "8",
        "--objective",
        "adv",
        "--steps",
        "2",
        "--n-critic",
        "1",
    ]
    args += ["--val-size", "500", "--val-n", "100", "--eval-samples", "100", "--out", str(out)]
    proc = ganflow(*args)
    assert "trained flowgan-adv to step 2" in proc.stdout and (out / "best" / "model.safetensors").is_file()
