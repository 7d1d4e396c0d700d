"""FIS-GAN: Jacobian norms, augmentation, the flow prior, and the trainer's checkpoint/resume."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from ganflow.models import FLOWS, build_component, load_checkpoint
from ganflow.sampler.data import load_dataset
from ganflow.training import TrainConfig, default_components
from ganflow.training.distributed import BatchRNG, Dist
from ganflow.training.fisgan import FISConfig, FlowPrior, flow_component, train_fisgan
from ganflow.training.importance import NORMS, allocate, augment, jacobian_norms


class Toy(nn.Module):
    """x = tanh(A z) * s(z) with a BatchNorm: a nonlinear generator with per-example Jacobians."""

    def __init__(self, d: int = 3, out: int = 5) -> None:
        super().__init__()
        self.lin = nn.Linear(d, out)
        self.bn = nn.BatchNorm1d(out)

    def forward(self, z):
        return torch.tanh(self.bn(self.lin(z))) * (1 + z[:, :1] ** 2)


def _autograd_jacobians(G, z):
    G.eval()
    return torch.stack([torch.autograd.functional.jacobian(lambda v: G(v[None])[0], x) for x in z])


def test_exact_norms_match_autograd():
    torch.manual_seed(0)
    G, z = Toy(), torch.randn(6, 3)
    G.bn.running_mean.normal_()
    J = _autograd_jacobians(G, z)
    G.train()
    fro = jacobian_norms(G, z, "frobenius")
    nuc = jacobian_norms(G, z, "nuclear")
    assert G.training, "the generator's mode is restored"
    assert torch.allclose(fro, J.flatten(1).norm(dim=1), atol=1e-5)
    assert torch.allclose(nuc, torch.linalg.svdvals(J).sum(1), atol=1e-5)


def test_hutchinson_is_unbiased_for_the_squared_frobenius_norm():
    torch.manual_seed(0)
    G, z = Toy(), torch.randn(4, 3)
    exact = jacobian_norms(G, z, "frobenius") ** 2
    est = jacobian_norms(G, z, "hutchinson", torch.Generator().manual_seed(0), probes=4000) ** 2
    assert torch.allclose(est, exact, rtol=0.1)


@pytest.mark.parametrize("norm", NORMS.names())
def test_norms_positive_and_scale_with_the_generator(norm):
    torch.manual_seed(0)
    G, z = Toy(), torch.randn(8, 3)
    gen = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    a = jacobian_norms(G, z, norm, gen(), probes=2)
    G.lin.weight.data *= 1e-3  # a flatter generator has smaller Jacobians
    b = jacobian_norms(G, z, norm, gen(), probes=2)
    assert (a > 0).all() and (b < a).all()


def test_allocation_sums_to_n_and_follows_p():
    p = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64)
    counts = allocate(p, 101)
    assert int(counts.sum()) == 101 and (counts - 101 * p).abs().max() < 1
    z, g = torch.randn(4, 2), torch.tensor([1.0, 0.0, 3.0, 0.0])
    aug = augment(z, g, 400, 0.1, torch.Generator().manual_seed(0))
    assert aug.shape == (400, 2)
    near = torch.cdist(aug, z).argmin(1)
    assert (near == 0).sum() == 100 and (near == 2).sum() == 300


def test_refit_moves_the_flow_towards_large_jacobians():
    """G is 10x steeper for z_1 > 0, so p puts 10/11 of the mass there and the refitted Q follows
    (Algorithm 1 lines 9-11); a new flow is N(0, I) with half of it there."""

    class Steep(nn.Module):
        def forward(self, z):
            return z * torch.where(z[:, :1] > 0, 10.0, 1.0)

    torch.manual_seed(0)
    flow = build_component("flow", {"arch": "realnvp", "latent_dim": 2, "hidden": 16, "layers": 3})
    prior = FlowPrior(
        flow, FISConfig(n_aug=1024, refit_epochs=25, sigma=0.3, flow_batch=256, lr_flow=3e-3), 0
    )
    z = torch.randn(256, 2, generator=torch.Generator().manual_seed(1))
    prior.update(0, Steep(), z)
    zs, _ = flow.sample(4000, torch.Generator().manual_seed(2))
    assert (zs[:, 0] > 0).float().mean() > 0.75
    assert prior.stats["jac_norm_cv"] > 0.5
    prior.update(1, Steep(), z)  # not a refit step (t = 10): nothing changes
    assert torch.equal(flow.sample(4000, torch.Generator().manual_seed(2))[0], zs)


@pytest.mark.parametrize("arch", FLOWS.names())
def test_unbiased_weights_are_self_normalised_p_over_q(arch):
    torch.manual_seed(0)
    flow = build_component("flow", {"arch": arch, "latent_dim": 3, "hidden": 8, "layers": 2})
    with torch.no_grad():
        for p in flow.parameters():
            p.normal_(0, 0.2)
    for alpha in (0.0, 0.3):
        prior = FlowPrior(flow, FISConfig(weighting="unbiased", mixture=alpha), 0)
        z, w = prior.sample(32, BatchRNG(torch.Generator().manual_seed(0), Dist()))
        assert torch.isclose(w.mean(), torch.tensor(1.0), atol=1e-5)
        log_q = prior.log_density(z)
        log_p = -0.5 * (z**2).sum(1)
        ratio = (log_p - log_q).exp()
        assert torch.allclose(w, ratio / ratio.mean(), rtol=1e-4)
    z, w = FlowPrior(flow, FISConfig(mixture=1.0), 0).sample(
        8, BatchRNG(torch.Generator().manual_seed(0), Dist())
    )
    assert w is None and torch.equal(z, torch.randn(8, 3, generator=torch.Generator().manual_seed(0)))


def test_bad_options():
    for bad in ({"norm": "spectral"}, {"weighting": "x"}, {"mixture": 1.5}, {"refit_every": 0}, {"sigma": 0}):
        with pytest.raises(ValueError):
            FISConfig(**bad)


def _cfg(steps: int) -> TrainConfig:
    return TrainConfig(
        steps=steps,
        batch_size=32,
        log_every=5,
        eval_every=10,
        sample_every=30,
        ckpt_every=10,
        eval_samples=64,
        seed=3,
    )


def test_fisgan_checkpoint_and_resume_bit_exact(tmp_path):
    ds = load_dataset("gaussians8")
    comps = default_components(ds.spec)
    comps["flow"] = flow_component("realnvp", 2, layers=2, hidden=16)
    fis = FISConfig(
        refit_every=4, refit_epochs=2, n_aug=128, flow_batch=64, weighting="unbiased", mixture=0.2
    )
    full, part = tmp_path / "full", tmp_path / "part"
    train_fisgan(full, ds, comps, _cfg(20), fis, progress=False)
    train_fisgan(part, ds, comps, _cfg(10), fis, progress=False)
    meta = train_fisgan(part, ds, config=_cfg(20), resume=True, progress=False)
    assert meta["family"] == "fisgan" and meta["fisgan"] == fis.to_dict()
    assert json.loads((part / "config.json").read_text())["components"]["flow"]["arch"] == "realnvp"
    _, a = load_checkpoint(full)
    _, b = load_checkpoint(part)
    assert set(a) == {"generator", "critic", "flow"}
    for comp in a:
        for k in a[comp]:
            assert torch.equal(a[comp][k], b[comp][k]), f"{comp}.{k} differs after resume"
    fresh = build_component("flow", comps["flow"]).state_dict()
    assert any(not torch.equal(fresh[k], a["flow"][k]) for k in fresh), "the flow was never refitted"
    from safetensors import safe_open

    with safe_open(str(full / "state.safetensors"), "pt") as f:
        assert any(k.startswith("opt.flow.state.") for k in f.keys()) and "rng.flow" in f.keys()
    logged = [json.loads(line) for line in (full / "metrics.jsonl").read_text().splitlines()]
    assert any("flow_nll" in r for r in logged)


def test_cli_train_fisgan_rejects_bad_input(tmp_path):
    from tests.conftest import ganflow

    r = ganflow(
        "train", "fisgan", "--data", "gaussians8", "--out", str(tmp_path / "r"), "--flow", "glow", check=False
    )
    assert r.returncode != 0 and "error: unknown latent flow architecture 'glow'" in r.stderr


def test_refits_drift_outwards_unless_anchored():
    """Algorithm 1 as written refits Q on Q's own draws plus N(0, sigma^2 I) noise: with a
    generator of constant Jacobian norm, Q's variance grows ~sigma^2 per refit. Anchored, the
    augmented set targets p ||J|| * noise, so the variance stays near 1 + sigma^2 = 2."""
    var = {}
    for anchor in (False, True):
        torch.manual_seed(0)
        flow = build_component("flow", {"arch": "realnvp", "latent_dim": 2, "hidden": 16, "layers": 3})
        cfg = FISConfig(n_aug=1024, refit_epochs=10, flow_batch=256, lr_flow=3e-3, anchor=anchor)
        prior = FlowPrior(flow, cfg, 0)
        draw = BatchRNG(torch.Generator().manual_seed(1), Dist())
        for _ in range(4):
            prior.update(0, nn.Identity(), prior.sample(256, draw)[0])
        var[anchor] = prior.sample(4000, draw)[0].var(0).mean().item()
    assert var[False] > 4.0 and 1.5 < var[True] < 2.6, var
