"""MH-GAN selection (Turner et al., ICML 2019): independent Metropolis-Hastings over generator proposals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganflow.sampler.data import load_dataset, reference_data
from ganflow.sampler.errors import DataError, InputError
from ganflow.sampler.ratio import LogRatio, ratio_refusal
from ganflow.sampler.stages.base import BLOCK, SELECTORS, BlockCache, Context, NoOptions, StageOptions, span
from ganflow.sampler.stages.decode import Decoder
from ganflow.sampler.stages.rejection import HELD_OUT, STRIDE

STREAM = 6  # (gaussian 0, latent-rs 1, flow 3, dgflow 4, drs 5)
START, CHAIN, RESTART = 0, 1, 2  # sub-streams: the real start's index, the chain's and the restart's uniforms


@dataclass(frozen=True)
class MHGANOptions(StageOptions):
    prefix = "mh"
    k: int | None = None  # chain length K: generator proposals per kept sample
    data: str | None = None  # real data (a dataset name or MNIST-layout path); None: the bundle's dataset
    calibration: int | None = None  # real (test split) and generated examples the calibration is fit on


def fit_calibration(d_real: np.ndarray, d_fake: np.ndarray, ridge: float = 1e-6) -> tuple[float, float]:
    """(a, b) of the logistic calibration P(real | x) = sigmoid(a d(x) + b) (Turner et al. 2019,
    calibration on held-out real vs generated samples, here by logistic regression): Newton's
    method on the mean log-loss (+ ridge |w|^2 so separable data stays finite), from (1, 0)."""
    x = np.stack([np.concatenate([d_real, d_fake]), np.ones(len(d_real) + len(d_fake))], axis=1)
    y = np.concatenate([np.ones(len(d_real)), np.zeros(len(d_fake))])
    w = np.array([1.0, 0.0])
    for _ in range(100):
        p = 0.5 * (1.0 + np.tanh(0.5 * (x @ w)))
        grad = x.T @ (p - y) / len(y) + 2 * ridge * w
        hess = (x * (p * (1 - p))[:, None]).T @ x / len(y) + 2 * ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])


@SELECTORS.register("mh-gan")
class MHGAN:
    """For sample i, an independent MH chain over K proposals z_k (index i + k 2^40 of the proposal
    stage), started at a real example x_0 (test split, index from rng([seed, 6, block(i), 0])):
    x' replaces x_k w.p. min(1, (1/D(x_k) - 1) / (1/D(x') - 1)) = min(1, exp(l' - l_k)) with
    l = a d(x) + b the calibrated logit (Turner et al. 2019, the MH-GAN acceptance rule of their
    Algorithm 1: independent proposals from G, target p_data).
    If the chain never leaves x_0, the paper restarts from a generated sample: here a second chain
    over the same proposals, started at z_0, runs beside it (fresh uniforms, no extra network
    cost) and is returned instead. The calibration (a, b) is fit once, on the first call, on the
    first `calibration` test examples and as many proposals at indices 2^62 + j, and stays fixed,
    so sample i depends only on the seed and i."""

    needs = ("generator", "critic")
    Options = MHGANOptions
    unsupported = staticmethod(ratio_refusal)

    def __init__(self, ctx: Context, options: MHGANOptions) -> None:
        self.ctx = ctx
        opts = options.resolved(ctx.bundle.defaults("mh-gan"))
        self.k, n_cal = int(opts["k"]), int(opts["calibration"])
        if self.k < 1 or n_cal < 2:
            raise InputError(f"mh-gan needs --mh-k >= 1 and --mh-calibration >= 2, got {self.k}, {n_cal}")
        self.real = _real_data(opts["data"], ctx.bundle.manifest["data"], ctx.bundle.data_shape)
        self.n_cal = min(n_cal, len(self.real))
        self.ratio = LogRatio(ctx.bundle, ctx.runtime, Decoder(ctx, NoOptions()), "mh-gan")
        self.ab: tuple[float, float] | None = None
        self.stats = {"selection": f"mh-gan (K = {self.k})", "proposals": 0, "accepted": 0}
        self.stats.update(mh_k=self.k, mh_moves=0, mh_restarts=0)
        self.cache = BlockCache(max_entries=2 * self.k + 2)  # (sub-stream, block, step) -> uniforms

    def _calibrate(self, propose) -> None:
        n = self.n_cal
        fake = [
            self.ratio.of_z(propose(HELD_OUT + lo, HELD_OUT + min(lo + BLOCK, n)))
            for lo in range(0, n, BLOCK)
        ]
        self.ab = fit_calibration(self.ratio.of_x(self.real[:n]), np.concatenate(fake))
        self.stats.update(mh_calibration_a=self.ab[0], mh_calibration_b=self.ab[1])

    def _draws(self, sub: int, lo: int, hi: int, k: int = 0) -> np.ndarray:
        """Uniforms (or, for START, real-example indices) [hi - lo] of one sub-stream and step."""

        def block(b: int) -> np.ndarray:
            def make() -> np.ndarray:
                rng = self.ctx.block_rng(STREAM, b, sub, k)
                return rng.integers(len(self.real), size=BLOCK) if sub == START else rng.random(BLOCK)

            return self.cache.get((sub, b, k), make)

        return span(lo, hi, block)

    def _logit(self, z: np.ndarray) -> np.ndarray:
        return self.ab[0] * self.ratio.of_z(z) + self.ab[1]

    def __call__(self, z: np.ndarray, lo: int, hi: int, propose) -> np.ndarray:
        """z [hi - lo, d]: the first proposals for samples lo..hi-1 -> each chain's final latent."""
        if self.ab is None:
            self._calibrate(propose)
        a, b = self.ab
        chain, chain_l = np.empty_like(z), a * self.ratio.of_x(self.real[self._draws(START, lo, hi)]) + b
        moved = np.zeros(hi - lo, dtype=bool)
        restart, restart_l = z, self._logit(z)
        for k in range(self.k):
            cand = z if k == 0 else propose(lo + k * STRIDE, hi + k * STRIDE)
            logit = restart_l if k == 0 else self._logit(cand)
            take = np.log(self._draws(CHAIN, lo, hi, k)) < logit - chain_l
            chain[take], chain_l[take], moved[take] = cand[take], logit[take], True
            self.stats["mh_moves"] += int(take.sum())
            if k > 0:
                take = np.log(self._draws(RESTART, lo, hi, k)) < logit - restart_l
                restart, restart_l = np.where(take[:, None], cand, restart), np.where(take, logit, restart_l)
        self.stats["proposals"] += self.k * (hi - lo)
        self.stats["accepted"] += hi - lo
        self.stats["mh_restarts"] += int((~moved).sum())
        return np.where(moved[:, None], chain, restart).astype(z.dtype)


def _real_data(data: str | None, trained: dict, shape: tuple[int, ...]) -> np.ndarray:
    """The test split [M, *shape] of `data` (default: what the bundle was trained on; the user's
    own data is read as in training): the chains' starts and the calibration's real side."""
    try:
        data, name, read = reference_data(data, None, None, trained["dataset"], trained.get("source"))
        x = load_dataset(data, dataset=name, split="test", options=read).x
    except (DataError, InputError) as e:
        raise DataError(f"mh-gan needs real data: pass --mh-data NAME or PATH ({e})") from None
    if tuple(x.shape[1:]) != tuple(shape):
        raise InputError(
            f"--mh-data {data}: examples of shape {list(x.shape[1:])}, the bundle makes {list(shape)}"
        )
    return x
