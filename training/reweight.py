"""Latent reweighting (report section III, Algorithm 1): learn w(z) >= 0 over a frozen generator.

A WGAN-GP critic D and the weight network w play min_w max_D E_data[D(x)] - E_z[w(z) D(G(z))]
with w regularised towards mean 1 (R_norm) and below m (R_clip). LatentRS then accepts z with
probability min(1, w(z) / m) (Algorithm 2, in the sampler).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganflow.models import build_component, config_to_dict, load_modules
from ganflow.sampler.data import Dataset
from ganflow.training.batches import real_examples
from ganflow.training.distributed import BatchRNG
from ganflow.training.evaluate import TrainingEval, fixed_latents, generate, sample_figure
from ganflow.training.losses.wgan_gp import gradient_penalty
from ganflow.training.run import Cadence, Run

Proposal = Callable[[torch.Tensor], torch.Tensor]
OWN = ("generator", "critic", "weight", "weight_critic")  # what this trainer builds or reweights
PROPOSALS = ("auto", "gaussian", "flow")


@dataclass(frozen=True)
class ReweightConfig:
    """Defaults: lambda1 = 10, lambda2 = 3, m = 3 (REFERENCES.md), 5 critic steps, GP weight 10."""

    steps: int = 2000
    batch_size: int = 64
    n_critic: int = 5
    lr_w: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)
    gp_weight: float = 10.0
    lambda1: float = 10.0  # R_norm weight: (mean w - 1)^2
    lambda2: float = 3.0  # R_clip weight: mean max(0, w - m)^2
    m: float = 3.0  # soft clip of w, and LatentRS's maximum weight
    hidden: int = 256
    normalize_emd: bool = False  # divide D - Delta by its batch mean (a ganflow option, not the paper's)
    seed: int = 0
    log_every: int = 50
    eval_every: int = 500
    ckpt_every: int = 500
    eval_samples: int = 2000
    # the latents w(z) is trained on: those the sampler will propose. "auto": the base's flow
    # prior Q(z) when it has one (a FIS-GAN, sampled with --proposal flow), else N(0, I)
    proposal: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.proposal not in PROPOSALS:
            raise ValueError(f"proposal must be one of {', '.join(PROPOSALS)}, got {self.proposal!r}")
        for name in (
            "steps",
            "batch_size",
            "n_critic",
            "hidden",
            "log_every",
            "eval_every",
            "ckpt_every",
            "eval_samples",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.m <= 1:
            raise ValueError(f"m must be > 1 (the weights have mean 1), got {self.m}")
        if min(self.lr_w, self.lr_d) <= 0 or min(self.lambda1, self.lambda2, self.gp_weight) < 0:
            raise ValueError("learning rates must be > 0 and the penalty weights >= 0")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "betas": list(self.betas)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReweightConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown reweighting options {sorted(unknown)}")
        return cls(**d)


def weight_loss(w: torch.Tensor, d_fake: torch.Tensor, cfg: ReweightConfig) -> tuple[torch.Tensor, dict]:
    """EMD with the Delta shift, R_norm and R_clip (Algorithm 1) for w [N], D(G(z)) [N].

    Our critic is high on data (its loss is -(E D(x) - E w D(G(z))) + GP), so w is pushed up where
    D(G(z)) is high: loss = -mean(w (D - Delta)) with Delta = min_i D(G(z_i)), which makes every
    term's sign the same. (Algorithm 1 writes +mean(w D) - Delta for a critic of the opposite sign.)
    """
    delta = d_fake.min()
    gap = d_fake - delta
    if cfg.normalize_emd:  # scale-free: the EMD term no longer grows with the critic's output range
        gap = gap / gap.mean().clamp_min(1e-8)
    emd = (w * gap).mean()
    r_norm = (w.mean() - 1.0) ** 2
    r_clip = (F.relu(w - cfg.m) ** 2).mean()
    loss = -emd + cfg.lambda1 * r_norm + cfg.lambda2 * r_clip
    return loss, {"emd": emd.item(), "r_norm": r_norm.item(), "r_clip": r_clip.item()}


@torch.no_grad()
def _accepted(G, W, z: torch.Tensor, u: torch.Tensor, m: float, n: int) -> tuple[torch.Tensor, dict]:
    """LatentRS on a fixed pool (z [P, d], u [P]): the first n accepted samples, and pool stats."""
    G.eval()
    W.eval()
    dev = next(W.parameters()).device
    w = torch.cat([W(z[i : i + 1024].to(dev)).cpu() for i in range(0, len(z), 1024)])
    keep = z[u < w / m][:n]
    x = torch.cat([G(keep[i : i + 1024].to(dev)).cpu() for i in range(0, len(keep), 1024)])
    W.train()
    stats = {
        "w_mean": w.mean().item(),
        "w_clip_frac": (w > m).float().mean().item(),
        "acceptance": torch.clamp(w / m, max=1).mean().item(),
    }
    return x, stats


def _base(run: Run, base: str | Path | None) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """(modules, the meta a reweighting run takes from its base: family, train, base, sampling
    defaults) of the model to reweight: `base` for a new run, on resume the run's own copies (the
    base need not exist any more)."""
    if run.resume:
        mods, info, defaults = run.saved_modules(), run.saved["base"], run.saved.get("sampling_defaults", {})
    else:
        base_meta, mods = load_modules(base)
        if "generator" not in mods or "critic" not in mods:
            raise ValueError(f"{base} has no generator and critic to reweight")
        info = {
            "path": str(base),
            "summary": base_meta.get("summary", {}),
            "train": base_meta.get("train", {}),
            "family": base_meta.get("family", "gan"),
        }
        defaults = base_meta.get("sampling_defaults", {})
    return mods, {
        "family": info["family"],
        "train": info["train"],
        "base": info,
        "sampling_defaults": defaults,
    }


def _proposal(config: ReweightConfig, carried: dict[str, nn.Module]) -> tuple[str, Proposal]:
    """(what the proposal "auto" resolves to, h ~ N(0, I) [n, d] -> the proposal's z [n, d]: h
    itself, or F^-1(h) through the base's flow prior)."""
    proposal = config.proposal
    if proposal == "auto":
        proposal = "flow" if "flow" in carried else "gaussian"
    if proposal == "gaussian":
        return proposal, lambda h: h
    if "flow" not in carried:
        raise ValueError("--proposal flow: the base model has no flow prior; use --proposal gaussian")
    flow = carried["flow"].eval().requires_grad_(False)
    return proposal, torch.no_grad()(lambda h: flow.sample_from(h)[0])


def train_reweight(
    run_dir: str | Path,
    data: Dataset,
    base: str | Path | None = None,
    config: ReweightConfig | None = None,
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Learn w(z) for the generator of `base` (a run directory or a bundle) in `run_dir`."""
    run = Run(run_dir, device, resume)
    config = run.options(ReweightConfig, "reweight", config)
    if not resume and (base is None or config is None):
        raise ValueError("a new reweighting run needs a base model and a config")
    mods, inherited = _base(run, base)
    G, C = mods["generator"], mods["critic"]
    # the base's other components (a FIS-GAN flow, a DGflow corrector...) stay in the bundle
    carried = {k: m for k, m in mods.items() if k not in OWN}
    d, local = run.dist, run.local_batch(config.batch_size)
    G.eval().requires_grad_(False)  # frozen (BatchNorm in eval mode)
    latent_dim = G.config.latent_dim
    proposal, propose = _proposal(config, carried)

    torch.manual_seed(config.seed)
    W = build_component("weight", {"arch": "mlp", "latent_dim": latent_dim, "hidden": config.hidden})
    critic_cfg = {**config_to_dict(C), "spectral_norm": False}  # a fresh WGAN-GP critic
    Dw = build_component("weight_critic", critic_cfg)
    for m in (G, C, W, Dw, *carried.values()):
        m.to(d.device)
    opt_w = torch.optim.Adam(W.parameters(), lr=config.lr_w, betas=config.betas)
    opt_d = torch.optim.Adam(Dw.parameters(), lr=config.lr_d, betas=config.betas)
    rng = torch.Generator().manual_seed(config.seed)
    draw = BatchRNG(rng, d)
    z_pool, pool = fixed_latents(8 * config.eval_samples, latent_dim, config.seed)  # LatentRS's pool
    z_pool = torch.cat([propose(c.to(d.device)).cpu() for c in z_pool.split(1024)])
    u_pool = torch.rand(8 * config.eval_samples, generator=pool)
    modules = {"generator": G, "critic": C, "weight": W, "weight_critic": Dw, **carried}
    run.begin(modules, {"weight": opt_w, "weight_critic": opt_d}, {"train": rng})
    own = {"reweight": config.to_dict(), "reweight_proposal": proposal, "data": data.spec.to_dict()}
    defaults = {**inherited["sampling_defaults"], "latent-rs": {"m": config.m}}
    comps = {k: config_to_dict(m) for k, m in modules.items()}
    run.describe({**inherited, **own, "components": comps, "sampling_defaults": defaults})
    x_train = real_examples(data.x, d.device)
    evaluator, metrics = TrainingEval(data), {}
    if d.main and run.step == 0:  # the base generator's own numbers, for comparison
        x_base = generate(G, z_pool[: config.eval_samples])
        run.log("eval", {f"base_{k}": v for k, v in evaluator(x_base).items()})

    cadence = Cadence(config.log_every, config.eval_every, None, config.ckpt_every)
    for _ in run.steps(config.steps, cadence, progress, desc="reweight "):
        for _ in range(config.n_critic):
            real = x_train[draw.randint(len(x_train), local)]
            z = propose(draw.randn(local, latent_dim))
            with torch.no_grad():
                fake = G(z)
                w = W(z)
            emd = Dw(real).mean() - (w * Dw(fake).reshape(-1)).mean()
            loss_d = -emd + config.gp_weight * gradient_penalty(Dw, real, fake, draw)
            run.descend(loss_d, opt_d, Dw)

        z = propose(draw.randn(local, latent_dim))
        with torch.no_grad():
            d_fake = Dw(G(z)).reshape(-1)
        loss_w, stats = weight_loss(W(z), d_fake, config)
        run.descend(loss_w, opt_w, W)

        due = run.after_step(
            {"loss_d": loss_d.item(), "loss_w": loss_w.item(), "critic_emd": emd.item(), **stats}
        )
        if due.eval:  # LatentRS on the fixed pool: its acceptance and the accepted samples' metrics
            x_rs, pool_stats = _accepted(G, W, z_pool, u_pool, config.m, config.eval_samples)
            metrics = {**pool_stats, **{f"rs_{k}": v for k, v in evaluator(x_rs.numpy()).items()}}
            run.log("eval", metrics)
            run.figure(sample_figure(data.spec, x_rs.numpy()))
        if due.checkpoint:
            run.checkpoint({"metrics": metrics})
    return run.meta
