"""Latent reweighting trainer: the weight loss, a short run, resume, and export with a weight graph."""

from __future__ import annotations

import json

import pytest
import torch

from ganflow.export import export_bundle
from ganflow.models import load_checkpoint
from ganflow.sampler.data import load_dataset
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to
from ganflow.training.reweight import ReweightConfig, train_reweight, weight_loss


def test_weight_loss_terms():
    cfg = ReweightConfig(m=2.0, lambda1=10.0, lambda2=3.0)
    w = torch.tensor([1.0, 3.0], requires_grad=True)
    d = torch.tensor([0.5, 1.5])
    loss, stats = weight_loss(w, d, cfg)
    # Delta = 0.5: EMD = mean(w (d - 0.5)) = (0 + 3) / 2; R_norm = (2 - 1)^2; R_clip = mean([0, 1])
    assert stats == {"emd": 1.5, "r_norm": 1.0, "r_clip": 0.5}
    assert loss.item() == pytest.approx(-1.5 + 10 * 1.0 + 3 * 0.5)
    loss.backward()
    assert w.grad[1] < w.grad[0] + 10  # the higher-scoring sample is pushed up more


@pytest.mark.parametrize("bad", [{"m": 1.0}, {"steps": 0}, {"lr_w": -1.0}, {"colour": 1}])
def test_config_validation(bad):
    with pytest.raises(ValueError):
        ReweightConfig.from_dict(bad)


def _cfg(steps):
    return ReweightConfig(
        steps=steps,
        batch_size=32,
        n_critic=2,
        hidden=32,
        log_every=5,
        eval_every=10,
        ckpt_every=10,
        eval_samples=200,
        seed=1,
    )


def test_run_resume_export(tiny_run, tmp_path):
    ds = load_dataset("gaussians25")
    full, part = tmp_path / "full", tmp_path / "part"
    train_reweight(full, ds, tiny_run, _cfg(20), device="cpu")
    train_reweight(part, ds, tiny_run, _cfg(10), device="cpu")
    train_reweight(part, ds, config=_cfg(20), resume=True, device="cpu")
    _, a = load_checkpoint(full)
    _, b = load_checkpoint(part)
    assert set(a) == {"generator", "critic", "weight", "weight_critic"}
    for comp in a:
        for k in a[comp]:
            assert torch.equal(a[comp][k], b[comp][k]), (comp, k)
    _, base = load_checkpoint(tiny_run)
    for k in base["generator"]:  # the generator is frozen, the base critic kept
        assert torch.equal(a["generator"][k], base["generator"][k])
    records = [json.loads(line) for line in (full / "metrics.jsonl").read_text().splitlines()]
    assert "base_hq_rate200" in records[0] and any("w_mean" in r and "acceptance" in r for r in records)
    bundle = tmp_path / "bundle"
    manifest = export_bundle(full, bundle, log=lambda *a: None)
    assert {"generator", "critic", "weight"} <= set(manifest["components"])  # (+ refine: DGflow)
    assert manifest["defaults"]["latent-rs"] == {"m": 3.0}
    assert manifest["components"]["weight"]["outputs"][0]["shape"] == ["batch"]
    report = sample_to(
        bundle,
        tmp_path / "s.npz",
        500,
        SampleOptions(method="latent-rs", runtime=RuntimeOptions(device="cpu")),
    )
    assert report["accepted"] == 500 and report["proposals"] >= 500


def test_cli_options_reach_the_config(tiny_run, tmp_path):
    """Every `train reweight` option lands in the run's config (normalize_emd once did not)."""
    from tests.conftest import ganflow

    out = tmp_path / "rw"
    ganflow(
        "train", "reweight", "--base", str(tiny_run), "--data", "gaussians25", "--out", str(out),
        "--steps", "2", "--batch-size", "16", "--n-critic", "1", "--lr-w", "2e-4", "--lr-d", "3e-4",
        "--lambda1", "7", "--lambda2", "2", "--m", "4", "--hidden", "8", "--normalize-emd", "--seed", "5",
        "--eval-every", "1000", "--ckpt-every", "2", "--no-progress", "--device", "cpu",
        "--proposal", "gaussian",
    )  # fmt: skip
    cfg = json.loads((out / "config.json").read_text())["reweight"]
    assert cfg["proposal"] == "gaussian"
    bad = ganflow(
        "train", "reweight", "--base", str(tiny_run), "--out", str(tmp_path / "x"), "--proposal", "flow",
        "--steps", "2", "--device", "cpu", check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "has no flow prior" in bad.stderr and "\n" not in bad.stderr.strip()
    want = dict(steps=2, batch_size=16, n_critic=1, lr_w=2e-4, lr_d=3e-4, lambda1=7.0, lambda2=2.0, m=4.0)
    want.update(hidden=8, normalize_emd=True, seed=5, eval_every=1000, ckpt_every=2)
    assert {k: cfg[k] for k in want} == want
