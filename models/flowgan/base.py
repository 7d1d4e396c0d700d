"""Flow-GAN generator base: an invertible data-space flow used as a generator z -> x with exact log p(x).

Directions: `encode` maps data to latent (x -> h = logit(...) -> z, the density direction);
`decode` is its inverse (z -> x). Layers implement forward(h) -> (h', log|det dh'/dh| [N]) in the
data -> latent direction and inverse(h') -> h. The generator interface is G(g) = decode(T(g)) with
g ~ N(0, I) and T the prior's from_gaussian map (priors.py), so every sampler stage that draws a
Gaussian latent works unchanged; `log_prob(x)` [N] is the exact log-density of G's outputs in the
data space (nats), Flow-GAN's likelihood (Grover et al. 2018, eq. 1: change of variables).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ganflow.models.flowgan.preprocess import ALPHA, IdentityPreprocess, LogitPreprocess
from ganflow.models.flowgan.priors import PRIORS
from ganflow.models.flows.base import mlp  # zero-initialised output: couplings start as identity


@dataclass(frozen=True)
class FlowGANConfig:
    """Shared fields. latent_dim is prod(data_shape) (derived when omitted, checked when given)."""

    data_shape: tuple[int, ...]
    latent_dim: int | None = None
    prior: str = "gaussian"
    data_range: tuple[float, float] | None = (-1.0, 1.0)  # DataSpec.range (MNIST [-1, 1]); None: R^D
    alpha: float = ALPHA

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", tuple(int(s) for s in self.data_shape))
        if self.data_range is not None:
            object.__setattr__(self, "data_range", tuple(float(r) for r in self.data_range))
        if not self.data_shape or any(s <= 0 for s in self.data_shape):
            raise ValueError(f"data_shape must be non-empty positive ints, got {self.data_shape}")
        size = math.prod(self.data_shape)
        if self.latent_dim is None:
            object.__setattr__(self, "latent_dim", size)
        if self.latent_dim != size:
            raise ValueError(
                f"an invertible generator needs latent_dim = prod(data_shape) = {size}, "
                f"got {self.latent_dim}; omit latent_dim"
            )
        if self.prior not in PRIORS:
            raise ValueError(f"unknown prior {self.prior!r}; choose one of: {', '.join(PRIORS.names())}")
        r = self.data_range
        if r is not None and (len(r) != 2 or not r[0] < r[1]):
            raise ValueError(f"data_range must be [lo, hi] with lo < hi, got {self.data_range}")
        if not 0 <= self.alpha < 0.5:
            raise ValueError(f"alpha must be in [0, 0.5), got {self.alpha}")

    @property
    def data_size(self) -> int:
        return math.prod(self.data_shape)


class FlatCoupling(nn.Module):
    """Coupling on flat h [N, D] with even/odd masks: the `parity` half (A) is kept and conditions
    the other half (B). Additive (NICE, Dinh et al. 2015, eq. 5): h_B' = h_B + m(h_A); affine
    (Real NVP, Dinh et al. 2017, eq. 7): h_B' = h_B exp(s(h_A)) + t(h_A), s = tanh(.) bounded."""

    def __init__(self, dim: int, parity: int, hidden: int, depth: int, affine: bool) -> None:
        super().__init__()
        idx = torch.arange(dim)
        keep, change = idx[idx % 2 == parity], idx[idx % 2 != parity]
        self.dim, self.parity, self.affine = dim, parity, affine
        if dim % 2:  # one-hot selection matrices [D, |A|], [D, |B|] (products with them are exact copies)
            eye = torch.eye(dim)
            self.register_buffer("pick_a", eye[:, keep].contiguous(), persistent=False)
            self.register_buffer("pick_b", eye[:, change].contiguous(), persistent=False)
        self.net = mlp(len(keep), hidden, len(change) * (2 if affine else 1), depth)

    def _split(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h [N, D] -> (h_A, h_B). Written without gathers: their gradients scatter into zeros of
        the batch's size, which the exported DGflow step would compute from the shape on the CPU."""
        if self.dim % 2 == 0:  # columns come in (even, odd) pairs
            pair = h.reshape(-1, self.dim // 2, 2).unbind(-1)
            return pair[self.parity], pair[1 - self.parity]
        return h @ self.pick_a, h @ self.pick_b

    def _merge(self, h_a: torch.Tensor, h_b: torch.Tensor) -> torch.Tensor:
        """The inverse of _split."""
        if self.dim % 2 == 0:
            pair = (h_a, h_b) if self.parity == 0 else (h_b, h_a)
            return torch.stack(pair, dim=-1).reshape(-1, self.dim)
        return h_a @ self.pick_a.T + h_b @ self.pick_b.T

    def _params(self, h_a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(h_a)
        if not self.affine:
            return torch.zeros_like(out), out
        s, t = out.chunk(2, dim=1)
        return torch.tanh(s), t

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h [N, D] -> (h' [N, D], log|det| [N])."""
        h_a, h_b = self._split(h)
        s, t = self._params(h_a)
        return self._merge(h_a, h_b * torch.exp(s) + t), s.sum(dim=1)

    def inverse(self, h: torch.Tensor) -> torch.Tensor:
        h_a, h_b = self._split(h)
        s, t = self._params(h_a)
        return self._merge(h_a, (h_b - t) * torch.exp(-s))


class DiagonalScale(nn.Module):
    """h' = h exp(s) elementwise, s a learned vector (NICE, section 3.3): log|det| = sum s."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(shape))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = self.log_scale.sum().expand(h.shape[0])
        return h * torch.exp(self.log_scale), logdet

    def inverse(self, h: torch.Tensor) -> torch.Tensor:
        return h * torch.exp(-self.log_scale)


class FlowGenerator(nn.Module):
    """Base of the invertible generators: subclasses set self.layers (a ModuleList of flow layers
    acting on h of shape [N, *flow_shape]) and may override `_to_latent` / `_from_latent`."""

    invertible = True  # marks a generator with an exact log_prob

    def __init__(self, config: FlowGANConfig) -> None:
        super().__init__()
        self.config = config
        self.prior = PRIORS.get(config.prior)()
        bounded = config.data_range is not None
        self.preprocess = (
            LogitPreprocess(config.data_range, config.alpha) if bounded else IdentityPreprocess()
        )
        self.layers = nn.ModuleList()

    @classmethod
    def example_config(cls) -> dict:
        """A small valid config (invariant tests over every registered generator)."""
        return {"arch": cls.registry_name, "latent_dim": 8, "data_shape": [8]}

    # flow-space h [N, *data_shape] <-> latent z [N, D]; multi-scale flows override these
    def _to_latent(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(h.shape[0], dtype=h.dtype, device=h.device)
        h = h.reshape(h.shape[0], -1)
        for layer in self.layers:
            h, ld = layer(h)
            logdet = logdet + ld
        return h, logdet

    def _from_latent(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z.reshape(z.shape[0], *self.config.data_shape)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [N, *data_shape] -> (z [N, D], log|det dz/dx| [N])."""
        h, ld_pre = self.preprocess(x)
        z, ld_flow = self._to_latent(h)
        return z, ld_pre + ld_flow

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, D] (a draw of the prior) -> x [N, *data_shape]."""
        return self.preprocess.inverse(self._from_latent(z))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, *data_shape] -> log p(x) [N], nats of the density on the data range."""
        z, logdet = self.encode(x)
        return self.prior.log_prob(z) + logdet

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        """g [N, D] ~ N(0, I) -> x [N, *data_shape]: x = decode(T(g)), T the prior's map."""
        return self.decode(self.prior.from_gaussian(g))


@dataclass(frozen=True)
class FlatCouplingConfig(FlowGANConfig):
    """Couplings on the flattened data (NICE, Real NVP with MLP nets); subclasses set defaults."""

    couplings: int = 4
    hidden: int = 256
    depth: int = 2  # hidden layers per coupling net

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.couplings < 1 or self.hidden <= 0 or self.depth < 1:
            raise ValueError("couplings and depth must be >= 1 and hidden > 0")
        if self.data_size < 2:
            raise ValueError("a coupling flow needs at least 2 dimensions")


class FlatCouplingGenerator(FlowGenerator):
    """`couplings` FlatCoupling layers with alternating masks, then a diagonal scaling; `affine`
    chooses additive (NICE) or affine (Real NVP) couplings."""

    affine: bool = True

    def __init__(self, config: FlatCouplingConfig) -> None:
        super().__init__(config)
        d = config.data_size
        for i in range(config.couplings):
            self.layers.append(FlatCoupling(d, i % 2, config.hidden, config.depth, affine=self.affine))
        self.layers.append(DiagonalScale((d,)))
