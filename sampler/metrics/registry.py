"""Metric registry and the Evaluator that runs metrics of generated samples against real data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganflow.sampler.errors import InputError, NumericsError
from ganflow.sampler.registry import Registry


@dataclass(frozen=True)
class Metric:
    """fn(ev, fake) -> {protocol-carrying name: value}; `kinds` are the data kinds it applies to."""

    fn: Callable[[Evaluator, dict[str, Any]], dict[str, float]]
    kinds: tuple[str, ...]
    needs_logits: bool = False
    needs_modes: bool = False
    needs_bundle: bool = False  # scores the evaluator's bundle (e.g. its likelihood graph), not samples
    component: tuple[str, str] | None = None  # (bundle component it reads, why): checked before sampling
    default: bool = True  # part of the default set for its data kinds
    max_dim: int | None = None  # left out of the default set on data-space features of more dims
    summary: str = ""


METRICS: Registry = Registry("metric")


def register(name: str, **kw: Any) -> Callable:
    def deco(fn: Callable) -> Callable:
        METRICS.register(name)(Metric(fn, **kw))
        return fn

    return deco


def count_tag(n: int) -> str:
    """10000 -> '10k', 2500 -> '2500': the sample count in a metric's name."""
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


@dataclass
class Evaluator:
    """Real data of one split, its cached feature-side statistics, and the feature network.

    real: [M, *shape] reference samples; valid: [V, *shape] held-out samples (Parzen bandwidth).
    """

    real: np.ndarray
    dataset: str
    split: str
    kind: str  # "images" or "points"
    features: Any  # FeatureNet or IdentityFeatures
    valid: np.ndarray | None = None
    modes: Any = None  # Modes (metrics/modes.py) for the mode metrics: a toy's, or --centers
    cache: dict[str, Any] = field(default_factory=dict)
    bundle: Any = None  # the evaluated bundle, for metrics with needs_bundle
    device: str = "auto"  # where those metrics run the bundle's graphs
    spec: Any = None  # the DataSpec of the reference data, where known

    def real_out(self) -> dict[str, np.ndarray]:
        if "real" not in self.cache:
            self.cache["real"] = self.features(self.real)
        return self.cache["real"]

    def real_stats(self) -> tuple[np.ndarray, np.ndarray]:
        from ganflow.sampler.metrics.fid import feature_stats

        if "real_stats" not in self.cache:
            self.cache["real_stats"] = feature_stats(self.real_out()["features"])
        return self.cache["real_stats"]

    def against(self) -> str:
        """The reference part of a metric name, e.g. 'mnist-test' (+ '-<features>' if custom)."""
        return f"{self.dataset}-{self.split}{self.features.tag}"

    def applicable(self) -> list[str]:
        return [
            n
            for n in METRICS.names()
            if self.kind in METRICS.get(n).kinds
            and (not METRICS.get(n).needs_logits or self.features.has_logits)
            and (not METRICS.get(n).needs_modes or self.modes is not None)
            and (not METRICS.get(n).needs_bundle or self.bundle is not None)
        ]

    def defaults(self) -> list[str]:
        dim = int(np.prod(self.real.shape[1:])) if getattr(self.features, "in_data_space", False) else 0
        return [
            n for n in self.applicable() if METRICS.get(n).default and (METRICS.get(n).max_dim or dim) >= dim
        ]

    def __call__(self, fake: np.ndarray, metrics: list[str] | None = None) -> dict[str, float]:
        """Evaluate fake [N, *shape] with the named metrics (default: this data's default set)."""
        names = self.check(fake.shape[1:], metrics)
        if not np.isfinite(fake).all():
            raise NumericsError("the samples contain NaN/inf: they cannot be evaluated")
        out_fake = self.features(fake)
        result: dict[str, float] = {}
        for n in names:
            result.update(METRICS.get(n).fn(self, {"x": fake, **out_fake}))
        return result

    def check(self, shape: tuple[int, ...], metrics: list[str] | None = None) -> list[str]:
        """The metric names to run on samples of `shape` (InputError if the shape or a name does
        not fit this data): callers check before they draw samples."""
        if tuple(shape) != self.real.shape[1:]:
            raise InputError(
                f"samples have shape {list(shape)}, the {self.dataset} data "
                f"{list(self.real.shape[1:])}: evaluate against the right --data"
            )
        names = metrics or self.defaults()
        usable = self.applicable()
        for n in names:
            METRICS.get(n)
            spec = METRICS.get(n)
            if spec.needs_bundle and self.bundle is None:
                raise InputError(f"metric {n!r} scores a bundle's graphs: evaluate a bundle, not a file")
            if spec.component and self.bundle is not None:
                self.bundle.component(*spec.component)  # a missing graph fails now, not after sampling
            if n not in usable:
                raise InputError(
                    f"metric {n!r} does not apply here ({self.kind} data"
                    f"{'' if self.features.has_logits else ', no classifier logits'}); "
                    f"usable: {', '.join(usable)}"
                )
        return names
