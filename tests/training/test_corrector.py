"""DGflow's density-ratio corrector: loss optimum, training over a frozen GAN, export with d = D + C."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from ganflow.export.graph import DERIVED
from ganflow.models import load_modules
from ganflow.models.registry import COMPONENTS, CRITICS
from ganflow.sampler.data import load_dataset
from ganflow.training.corrector import CorrectorConfig, corrector_loss, train_corrector, zero_last_layer
from tests.conftest import ganflow


def test_loss_optimum_is_the_log_density_ratio():
    """For a constant logit d on points where p_data / p_G = r, the loss r softplus(-d) + softplus(d)
    (up to normalisation) is minimised at d = log r: the estimate DGflow needs."""
    r = 3.0
    d = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([d], max_iter=100)

    def closure():
        opt.zero_grad()
        loss = r * corrector_loss(d, torch.full((1,), -1e9)) + corrector_loss(torch.full((1,), 1e9), d)
        loss.backward()
        return loss

    opt.step(closure)
    assert d.item() == pytest.approx(math.log(r), abs=1e-4)


def test_component_is_a_critic_and_starts_at_zero():
    assert COMPONENTS["corrector"] is CRITICS
    c = CRITICS.get("mlp")(CRITICS.get("mlp").Config(data_shape=(2,), hidden=8))
    zero_last_layer(c)
    assert torch.equal(c(torch.randn(5, 2)), torch.zeros(5, 1))


@pytest.mark.parametrize("bad", [{"steps": 0}, {"lr": -1.0}, {"batch_size": 0}, {"nope": 1}])
def test_bad_config(bad):
    with pytest.raises(ValueError):
        CorrectorConfig.from_dict(bad)


def test_train_lowers_the_logistic_loss_and_exports_d_plus_c(tiny_run, tmp_path):
    ds = load_dataset("gaussians25")
    meta = train_corrector(tmp_path / "c", ds, tiny_run, CorrectorConfig(steps=150, log_every=50))
    s = meta["summary"]["corrector"]
    assert s["loss"] < s["critic_loss"]  # the corrected logit classifies better than the critic
    _, mods = load_modules(tmp_path / "c")
    _, base = load_modules(tiny_run)
    assert set(mods) == {"generator", "critic", "corrector"}
    for k in ("generator", "critic"):  # frozen: the base's weights, unchanged
        for a, b in zip(mods[k].state_dict().values(), base[k].state_dict().values(), strict=True):
            assert torch.equal(a, b)
    (graph,) = DERIVED.get("refine")(mods, meta)
    g, d_crit, corr = mods["generator"], mods["critic"], mods["corrector"]
    z = torch.randn(6, g.config.latent_dim).requires_grad_(True)
    total = (d_crit(g(z)) + corr(g(z))).sum()
    (grad,) = torch.autograd.grad(total, z)
    out = graph.module(z.detach(), torch.zeros_like(z), torch.tensor(0.1), torch.tensor(0.0))
    torch.testing.assert_close(out, z.detach() + 0.1 * grad)  # KL: s = 1, d = D + C
    assert not torch.allclose(corr(g(z)), torch.zeros(6, 1))


def test_cli(tiny_run, tmp_path):
    out = tmp_path / "cc"
    proc = ganflow("train", "corrector", "--base", str(tiny_run), "--out", str(out), "--steps", "20")
    assert "trained corrector for 20 steps" in proc.stdout
    assert np.isfinite(load_modules(out)[1]["corrector"](torch.zeros(1, 2)).item())
    bad = ganflow(
        "train", "corrector", "--base", str(tmp_path / "none"), "--out", str(tmp_path / "x"), check=False
    )
    assert bad.returncode != 0 and bad.stderr.startswith("error: ")
    again = ganflow("train", "corrector", "--base", str(tiny_run), "--out", str(out), check=False)
    assert again.returncode != 0 and "already holds a run" in again.stderr


def _weights(run):
    from safetensors.numpy import load_file

    return load_file(run / "model.safetensors")


def test_resume_gives_the_uninterrupted_weights(tiny_run, tmp_path):
    """Stopped at a checkpoint (step 40 of 70), resumed from the run alone (no base), it ends on the
    weights and log of a run that was never stopped; the step count of the run is its own."""
    ds = load_dataset("gaussians25")
    ref, run = tmp_path / "ref", tmp_path / "run"
    cfg = CorrectorConfig(steps=70, log_every=10, ckpt_every=20)
    train_corrector(ref, ds, tiny_run, cfg)
    train_corrector(run, ds, tiny_run, CorrectorConfig(steps=40, log_every=10, ckpt_every=20))
    meta = train_corrector(run, ds, None, CorrectorConfig(steps=70), resume=True)
    assert meta["summary"]["step"] == 70 and meta["corrector"] == cfg.to_dict()
    a, b = _weights(ref), _weights(run)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert (ref / "metrics.jsonl").read_text().count('"train"') == 7
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == list(range(10, 71, 10))  # each step once


def test_cli_resume(tiny_run, tmp_path):
    out = tmp_path / "c"
    ganflow(
        "train", "corrector", "--base", str(tiny_run), "--out", str(out), "--steps", "20", "--ckpt-every", "5"
    )
    proc = ganflow("train", "corrector", "--out", str(out), "--resume", "--steps", "30")
    assert "trained corrector for 30 steps" in proc.stdout
    assert load_modules(out)[0]["summary"]["step"] == 30
    no_base = ganflow("train", "corrector", "--out", str(tmp_path / "new"), check=False)
    assert no_base.returncode == 2 and no_base.stderr.startswith("error: ") and "--base" in no_base.stderr
    nothing = ganflow("train", "corrector", "--out", str(tmp_path / "new"), "--resume", check=False)
    assert nothing.returncode != 0 and "holds no run" in nothing.stderr
