"""Latent reweighting (report section III, Algorithm 1): learn w(z) >= 0 over a frozen generator.

A WGAN-GP critic D and the weight network w play min_w max_D E_data[D(x)] - E_z[w(z) D(G(z))]
with w regularised towards mean 1 (R_norm) and below m (R_clip). LatentRS then accepts z with
probability min(1, w(z) / m) (Algorithm 2, in the sampler).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ganflow.models import build_component, config_to_dict, load_checkpoint, load_modules, save_checkpoint
from ganflow.sampler.fsio import atomic_write_bytes
from ganflow.sampler.version import __version__
from ganflow.training.data import Dataset
from ganflow.training.distributed import BatchRNG, setup
from ganflow.training.evaluate import TrainingEval, sample_figure
from ganflow.training.jsonl import JsonlLog
from ganflow.training.losses.wgan_gp import gradient_penalty
from ganflow.training.progress import Progress
from ganflow.training.state import load_state, save_state

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
    run_dir = Path(run_dir)
    d = setup(device)
    if resume:
        meta, states = load_checkpoint(run_dir)
        saved = ReweightConfig.from_dict(meta["reweight"])
        config = ReweightConfig.from_dict({**saved.to_dict(), "steps": (config or saved).steps})
        comps = meta["components"]
        G, C = (build_component(k, comps[k]) for k in ("generator", "critic"))
        G.load_state_dict(states["generator"])
        C.load_state_dict(states["critic"])
        carried = {k: build_component(k, comps[k]) for k in comps if k not in OWN}
        for k, m in carried.items():
            m.load_state_dict(states[k])
        base_info, base_defaults = meta["base"], meta.get("sampling_defaults", {})
    else:
        if base is None or config is None:
            raise ValueError("a new reweighting run needs a base model and a config")
        base_meta, mods = load_modules(base)
        if "generator" not in mods or "critic" not in mods:
            raise ValueError(f"{base} has no generator and critic to reweight")
        G, C = mods["generator"], mods["critic"]
        # the base's other components (a FIS-GAN flow, a DGflow corrector...) stay in the bundle
        carried = {k: m for k, m in mods.items() if k not in OWN}
        base_defaults = base_meta.get("sampling_defaults", {})
        base_info = {
            "path": str(base),
            "summary": base_meta.get("summary", {}),
            "train": base_meta.get("train", {}),
            "family": base_meta.get("family", "gan"),
        }
    if config.batch_size % d.world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by {d.world} processes")
    local = config.batch_size // d.world
    G.eval().requires_grad_(False)  # frozen (BatchNorm in eval mode)
    latent_dim = G.config.latent_dim
    proposal = config.proposal
    if proposal == "auto":
        proposal = "flow" if "flow" in carried else "gaussian"
    if proposal == "flow" and "flow" not in carried:
        raise ValueError("--proposal flow: the base model has no flow prior; use --proposal gaussian")
    flow = carried["flow"].eval().requires_grad_(False) if proposal == "flow" else None

    @torch.no_grad()
    def propose(h: torch.Tensor) -> torch.Tensor:
        """h ~ N(0, I) [n, d] -> the proposal's z [n, d]: h itself, or the flow's F^-1(h)."""
        return h if flow is None else flow.sample_from(h)[0]

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
    pool = torch.Generator().manual_seed(config.seed + 10_000)  # evaluation pool: its own stream
    z_pool = torch.randn(8 * config.eval_samples, latent_dim, generator=pool)
    z_pool = torch.cat([propose(c.to(d.device)).cpu() for c in z_pool.split(1024)])
    u_pool = torch.rand(8 * config.eval_samples, generator=pool)
    start = 0
    if resume:
        W.load_state_dict(states["weight"])
        Dw.load_state_dict(states["weight_critic"])
        start = load_state(run_dir, {"weight": opt_w, "weight_critic": opt_d}, {"train": rng})
    d.sync_parameters(W, Dw)
    components = {
        "generator": config_to_dict(G),
        "critic": config_to_dict(C),
        "weight": config_to_dict(W),
        "weight_critic": config_to_dict(Dw),
        **{k: config_to_dict(m) for k, m in carried.items()},
    }
    meta = {
        "ganflow_version": __version__,
        "family": base_info["family"],
        "components": components,
        "data": data.spec.to_dict(),
        "train": base_info["train"],
        "reweight": config.to_dict(),
        "reweight_proposal": proposal,  # what "auto" resolved to
        "base": base_info,
        "sampling_defaults": {**base_defaults, "latent-rs": {"m": config.m}},
        "summary": {"step": start, "metrics": {}},
    }
    if d.main:
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
        log = JsonlLog(run_dir / "metrics.jsonl", resume_step=start)
    x_train = torch.from_numpy(data.x).to(d.device)
    evaluator = TrainingEval(data)
    bar = Progress(config.steps, start, enabled=progress if d.main else False, desc="reweight ")
    t0, last = time.perf_counter(), {}
    if d.main and start == 0:  # the base generator's own numbers, for comparison
        with torch.no_grad():
            x_base = torch.cat([G(z.to(d.device)).cpu() for z in z_pool[: config.eval_samples].split(1024)])
        log.write(
            {"step": 0, "kind": "eval", **{f"base_{k}": v for k, v in evaluator(x_base.numpy()).items()}}
        )
    W.train()
    Dw.train()
    for step in range(start, config.steps):
        for _ in range(config.n_critic):
            real = x_train[draw.randint(len(x_train), local)]
            z = propose(draw.randn(local, latent_dim))
            with torch.no_grad():
                fake = G(z)
                w = W(z)
            emd = Dw(real).mean() - (w * Dw(fake).reshape(-1)).mean()
            loss_d = -emd + config.gp_weight * gradient_penalty(Dw, real, fake, draw)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            d.average_gradients(Dw)
            opt_d.step()

        z = propose(draw.randn(local, latent_dim))
        with torch.no_grad():
            d_fake = Dw(G(z)).reshape(-1)
        loss_w, stats = weight_loss(W(z), d_fake, config)
        opt_w.zero_grad(set_to_none=True)
        loss_w.backward()
        d.average_gradients(W)
        opt_w.step()

        done = step + 1
        final = done == config.steps
        if not d.main:
            if done % config.ckpt_every == 0 or final:
                d.barrier()
            continue
        stats = {"loss_d": loss_d.item(), "loss_w": loss_w.item(), "critic_emd": emd.item(), **stats}
        bar.update(done, stats)
        if done % config.log_every == 0:
            log.write({"step": done, "kind": "train", "time_s": time.perf_counter() - t0, **stats})
        if done % config.eval_every == 0 or final:
            x_rs, pool_stats = _accepted(G, W, z_pool, u_pool, config.m, config.eval_samples)
            last = {**pool_stats, **{f"rs_{k}": v for k, v in evaluator(x_rs.numpy()).items()}}
            log.write({"step": done, "kind": "eval", **last})
            atomic_write_bytes(
                run_dir / "samples" / f"step_{done:06d}.png", sample_figure(data.spec, x_rs.numpy())
            )
        if done % config.ckpt_every == 0 or final:
            meta["summary"] = {"step": done, "metrics": last}
            save_state(run_dir, done, {"weight": opt_w, "weight_critic": opt_d}, {"train": rng})
            modules = {"generator": G, "critic": C, "weight": W, "weight_critic": Dw, **carried}
            save_checkpoint(run_dir, modules, meta)
            d.barrier()
    bar.update(config.steps, force=True)
    bar.close()
    return meta
