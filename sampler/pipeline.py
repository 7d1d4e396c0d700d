"""The latent pipeline: propose -> select -> refine -> decode, and the --method presets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganflow.sampler.bundle import Bundle
from ganflow.sampler.errors import ComponentMissingError, InputError, MethodError, NumericsError
from ganflow.sampler.registry import Registry
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import Context, Stage, StageOptions, stage_class
from ganflow.sampler.stages.base import refusal


@dataclass(frozen=True)
class Preset:
    """A named composition of stages (what --method picks)."""

    proposal: str
    select: str | None = None
    refine: str | None = None
    summary: str = ""


METHODS: Registry = Registry("sampling method", MethodError)
METHODS.register("plain")(Preset("gaussian", summary="z ~ N(0, I) (optionally truncated), decode"))
METHODS.register("latent-rs")(
    Preset("gaussian", select="latent-rs", summary="LatentRS: keep z w.p. min(1, w/m)")
)
METHODS.register("flow")(Preset("flow", summary="FIS-GAN: z from the latent flow Q (flow/sample.onnx)"))
METHODS.register("dgflow")(
    Preset("gaussian", refine="dgflow", summary="DGflow: K critic-gradient steps on z (refine/model.onnx)")
)
METHODS.register("drs")(
    Preset("gaussian", select="drs", summary="DRS: keep G(z) w.p. sigmoid(F) from the critic's log ratio")
)
METHODS.register("mh-gan")(
    Preset("gaussian", select="mh-gan", summary="MH-GAN: independent MH chain of K proposals, calibrated D")
)
METHODS.register("ddls")(
    Preset("gaussian", refine="ddls", summary="DDLS: Langevin on ||z||^2/2 - d(G(z)) (ddls/model.onnx)")
)


def _stages(proposal: str, select: str | None, refine: str | None, decode: str) -> list[tuple[str, str]]:
    """(name, stage class) of a composition: the decoder first, then in stage order."""
    pairs = (("decode", decode), ("proposal", proposal), ("select", select), ("refine", refine))
    return [(name, stage_class(kind, name)) for kind, name in pairs if name is not None]


def stage_needs(
    proposal: str, select: str | None, refine: str | None, decode: str = "generator"
) -> list[str]:
    """Bundle components a composition needs (the decoder's first, then in stage order), each once."""
    needs: list[str] = []
    for _, cls in _stages(proposal, select, refine, decode):
        needs += [c for c in cls.needs if c not in needs]
    return needs


def stage_refusals(
    bundle: Bundle, proposal: str, select: str | None, refine: str | None, decode: str = "generator"
) -> list[str]:
    """'stage: why' for each stage of a composition the bundle cannot run despite its components."""
    reasons = [(name, refusal(cls, bundle)) for name, cls in _stages(proposal, select, refine, decode)]
    return [f"{name}: {why}" for name, why in reasons if why is not None]


def supported_methods(bundle: Bundle) -> list[str]:
    out = []
    for name in METHODS.names():
        p = METHODS.get(name)
        has = all(c in bundle.components for c in stage_needs(p.proposal, p.select, p.refine))
        if has and not stage_refusals(bundle, p.proposal, p.select, p.refine):
            out.append(name)
    return out


@dataclass
class Pipeline:
    """The stages of one composition, built once; `generate` runs them batch by batch.

    `options` maps a stage name to its Options (stages/base.py); stages not in it take the
    bundle's defaults. Stage flags (proposal/select/refine) override the method preset's."""

    bundle: Bundle
    runtime: Runtime
    method: str = "plain"
    seed: int = 0
    proposal: str | None = None
    select: str | None = None
    refine: str | None = None
    options: Mapping[str, StageOptions] = field(default_factory=dict)
    decode: str = "generator"
    stats: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        preset = METHODS.get(self.method)
        self.proposal = self.proposal or preset.proposal
        self.select = self.select or preset.select
        self.refine = self.refine or preset.refine
        refused = stage_refusals(self.bundle, self.proposal, self.select, self.refine, self.decode)
        if refused:
            raise MethodError(f"bundle {self.bundle.root} cannot run {self.describe()}: {'; '.join(refused)}")
        needs = stage_needs(self.proposal, self.select, self.refine, self.decode)
        missing = [c for c in needs if c not in self.bundle.components]
        if missing:
            raise ComponentMissingError(
                f"bundle {self.bundle.root} has no {', '.join(map(repr, missing))} component, needed "
                f"for {self.describe()}; it supports: {', '.join(supported_methods(self.bundle)) or 'none'}"
            )
        precision = {c: self._precision(c) for c in needs}
        ctx = Context(self.bundle, self.runtime, self.seed)
        self._propose, self._select, self._refine, self._decode = (
            self._build(kind, name, ctx)
            for kind, name in (
                ("proposal", self.proposal),
                ("select", self.select),
                ("refine", self.refine),
                ("decode", self.decode),
            )
        )
        self.stats = {
            "method": self.describe(),
            "provider": self.runtime.provider,
            "precision": precision,
            "samples": 0,
            "seconds": 0.0,
        }

    def _build(self, kind: str, name: str | None, ctx: Context) -> Stage | None:
        if name is None:
            return None
        cls = stage_class(kind, name)
        opts = self.options.get(name, cls.Options())
        if not isinstance(opts, cls.Options):
            raise InputError(
                f"options for stage {name!r} must be {cls.Options.__name__}, got {type(opts).__name__}"
            )
        return cls(ctx, opts)

    def _precision(self, name: str) -> str:
        """The precision component `name` runs in: --precision where the bundle has that variant."""
        want = self.runtime.precision
        if want == "fp32":
            return "fp32"
        if not any(want in c.variants for c in self.bundle.components.values()):
            raise InputError(
                f"bundle {self.bundle.root} has no {want} graphs: export it with `ganflow export --{want}`, "
                "or drop --precision"
            )
        return want if want in self.bundle.components[name].variants else "fp32"

    def describe(self) -> str:
        stages = [self.proposal, self.select, self.refine, "decode"]
        return " -> ".join(s for s in stages if s)

    def generate(
        self,
        n: int,
        batch_size: int = 256,
        start: int = 0,
        todo: Callable[[int, int], bool] | None = None,
    ) -> Iterator[tuple[int, np.ndarray | None, np.ndarray | None]]:
        """Yield (first index, z [b, d], x [b, *shape]) for samples start .. n-1, in order;
        batches for which `todo(lo, hi)` is False (already done) come as (lo, None, None)."""
        if n <= 0 or batch_size <= 0 or start < 0:
            raise InputError(f"need N > 0 and batch size > 0, got N={n}, batch={batch_size}")
        for lo in range(start, n, batch_size):
            t0 = time.perf_counter()
            hi = min(lo + batch_size, n)
            if todo is not None and not todo(lo, hi):
                yield lo, None, None
                continue
            z = self._propose(lo, hi)
            if self._select is not None:
                z = self._select(z, lo, hi, self._propose)
            if self._refine is not None:
                z = self._refine(z, lo, hi)
            if not np.isfinite(z).all():
                raise NumericsError(
                    f"NaN/inf in the latents after {self.describe()}: lower the step size or check the bundle"
                )
            x = self._decode(z)
            for stage in (self._propose, self._select, self._refine, self._decode):
                if stage is not None:
                    self.stats.update(stage.stats)
            self.stats["samples"] += hi - lo
            self.stats["seconds"] += time.perf_counter() - t0
            yield lo, z, x
