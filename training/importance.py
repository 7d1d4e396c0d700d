"""FIS-GAN's importance density (paper section 2.1, Algorithm 1 lines 9-10): per-example
generator Jacobian norms g_j = ||J_G(z_j)||, p_j = g_j / sum g (eq. 1), and the augmented set of
N_j = N p_j draws from N(z_j, sigma^2 I) (eq. 2) that the flow is then fitted to."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import jacfwd, jvp, vmap

from ganflow.models.registry import Registry

# name -> fn(G, z [N, d], generator, probes) -> g [N] >= 0
NORMS: Registry = Registry("Jacobian norm")


def _per_example(G: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """z [d] -> x [D] (flattened): the generator on one latent (G must be in eval mode)."""
    return lambda z: G(z[None]).reshape(-1)


def jacobians(G: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """J [N, D, d]: d_x G(z_j) / d z_j for each example, forward mode (d JVPs each: cheap when
    d << D), batched with vmap."""
    return vmap(jacfwd(_per_example(G)))(z)


@NORMS.register("frobenius")
def frobenius(
    G: nn.Module, z: torch.Tensor, gen: torch.Generator | None = None, probes: int = 1
) -> torch.Tensor:
    """Exact ||J_j||_F [N] (the paper's default norm)."""
    return jacobians(G, z).flatten(1).norm(dim=1)


@NORMS.register("nuclear")
def nuclear(
    G: nn.Module, z: torch.Tensor, gen: torch.Generator | None = None, probes: int = 1
) -> torch.Tensor:
    """||J_j||_* = sum of singular values [N] (the paper's ablation, section 3.2)."""
    return torch.linalg.svdvals(jacobians(G, z)).sum(dim=1)


@NORMS.register("hutchinson")
def hutchinson(
    G: nn.Module, z: torch.Tensor, gen: torch.Generator | None = None, probes: int = 1
) -> torch.Tensor:
    """sqrt of the unbiased estimate E_v ||J_j v||^2 = ||J_j||_F^2, v ~ N(0, I_d), with `probes`
    draws per example [N]: one JVP of a batch of probes * N instead of d JVPs."""
    n = z.shape[0]
    v = torch.randn((probes * n, z.shape[1]), generator=gen).to(z.device)
    _, jv = jvp(G, (z.repeat(probes, 1),), (v,))  # all probes in one batch (G in eval mode)
    return jv.reshape(probes, n, -1).pow(2).sum(dim=2).mean(dim=0).sqrt()


@torch.no_grad()
def jacobian_norms(
    G: nn.Module,
    z: torch.Tensor,
    norm: str = "frobenius",
    gen: torch.Generator | None = None,
    probes: int = 1,
) -> torch.Tensor:
    """g [N] for latents z [N, d], with G in eval mode (BatchNorm uses its running statistics, so
    each example's Jacobian is its own); G's train/eval mode is restored."""
    was = G.training
    G.eval()
    try:
        return NORMS.get(norm)(G, z.detach(), gen, probes)
    finally:
        G.train(was)


def allocate(p: torch.Tensor, total: int) -> torch.Tensor:
    """N_j = N p_j as integers summing to N (largest remainders): p [n] -> counts [n]."""
    raw = p * total
    counts = raw.floor().long()
    short = total - int(counts.sum())
    if short > 0:
        counts[torch.argsort(raw - counts, descending=True, stable=True)[:short]] += 1
    return counts


def augment(
    z: torch.Tensor, g: torch.Tensor, total: int, sigma: float, gen: torch.Generator | None = None
) -> torch.Tensor:
    """The flow's training set [total, d]: N_j = N g_j / sum g draws from N(z_j, sigma^2 I)
    (Algorithm 1, line 10). Non-finite or all-zero norms fall back to uniform p."""
    g = torch.nan_to_num(g.detach().double(), nan=0.0, posinf=0.0).clamp_min(0)
    p = g / g.sum() if g.sum() > 0 else torch.full_like(g, 1 / len(g))
    counts = allocate(p, total).to(z.device)
    centres = torch.repeat_interleave(z.detach(), counts, dim=0)
    return centres + sigma * torch.randn(centres.shape, generator=gen).to(z.device)
