"""The stage contract: what every latent-pipeline stage is, takes, needs and reports.

A stage is a class registered under a name in the registry of its kind:

    kind       registry    call                                  does
    proposal   PROPOSALS   (lo, hi) -> z [hi - lo, d]            draws z for sample indices [lo, hi)
    select     SELECTORS   (z, lo, hi, propose) -> z             keeps z or draws again (propose)
    refine     REFINERS    (z, lo, hi) -> z                      moves z (e.g. DGflow)
    decode     DECODERS    (z) -> x [N, *shape]                  maps z to data (the generator)

and it declares, as class attributes,
- `needs`: the bundle components it runs (the pipeline refuses a bundle that lacks one, with a
  one-line error that names the methods the bundle supports);
- `Options`: a frozen dataclass of its options, each None meaning "the bundle's default"
  (manifest `defaults`, then sampler/bundle.METHOD_DEFAULTS); `Options.prefix` is the CLI flag
  prefix (`rs` -> --rs-m) and the key prefix of `options_from_flat`;
- optionally `unsupported(bundle) -> str | None`: why a bundle that has the components still
  cannot run the stage (e.g. a critic that is not a density-ratio estimate, sampler/ratio.py); the
  pipeline refuses it with that reason, and the bundle's supported methods leave it out;
and it is built as `Stage(ctx, options)` and keeps what it did in `stats` (a dict merged into
the sampling report). Randomness comes only from `ctx.block_rng(stream, block, ...)`, so sample i
depends on the seed and i alone: not on the batch size, the shard or the run.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Protocol

import numpy as np

from ganflow.sampler.bundle import Bundle
from ganflow.sampler.errors import InputError, MethodError
from ganflow.sampler.registry import Registry
from ganflow.sampler.runtime import Runtime

PROPOSALS: Registry = Registry("proposal stage", MethodError)  # draw z for sample indices
SELECTORS: Registry = Registry("selection stage", MethodError)  # keep a subset of proposals
REFINERS: Registry = Registry("refinement stage", MethodError)  # move z (e.g. DGflow)
DECODERS: Registry = Registry("decoding stage", MethodError)  # z -> x
KINDS: dict[str, Registry] = {
    "proposal": PROPOSALS,
    "select": SELECTORS,
    "refine": REFINERS,
    "decode": DECODERS,
}

BLOCK = 1024  # latents come in seeded blocks of this size: samples do not depend on --batch-size


@dataclass(frozen=True)
class StageOptions:
    """Base of every stage's options: a frozen dataclass whose None fields take the bundle's
    defaults. `prefix` names the stage's flags (--PREFIX-FIELD) and flat keys (PREFIX_FIELD)."""

    prefix: ClassVar[str] = ""

    @classmethod
    def flat_keys(cls) -> dict[str, str]:
        """{flat key: field}, e.g. {"rs_m": "m"}; without a prefix the key is the field."""
        return {(f"{cls.prefix}_{f.name}" if cls.prefix else f.name): f.name for f in fields(cls)}

    def resolved(self, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """The options with each None replaced by defaults[field]."""
        return {k: (defaults.get(k) if v is None else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class NoOptions(StageOptions):
    """For stages without options."""


class Stage(Protocol):
    """The protocol every registered stage class follows (see the module docstring)."""

    needs: ClassVar[tuple[str, ...]]
    Options: ClassVar[type[StageOptions]]
    stats: dict[str, Any]

    def __init__(self, ctx: Context, options: StageOptions) -> None: ...


def refusal(cls: type[Stage], bundle: Bundle) -> str | None:
    """Why the bundle cannot run stage class `cls` though it has its components (None: it can)."""
    hook = getattr(cls, "unsupported", None)
    return None if hook is None else hook(bundle)


def stage_class(kind: str, name: str) -> type[Stage]:
    """The class registered as `name` in the registry of `kind` (MethodError if unknown)."""
    return KINDS[kind].get(name)


def options_from_flat(
    flat: Mapping[str, Any], stages: Mapping[str, str] | None = None
) -> dict[str, StageOptions]:
    """Flat keys (e.g. {"rs_m": 2, "dg_steps": 5, "truncation": 0.7}; None values are skipped) ->
    {stage name: its Options}, for the registered stages (or only `stages`: {name: kind}). An
    unknown key raises a one-line InputError listing the valid ones."""
    every = {name: kind for kind, reg in KINDS.items() for name in reg.names()}
    owners: dict[str, tuple[str, str]] = {}  # flat key -> (stage name, field)
    for name, kind in every.items():
        for key, fld in stage_class(kind, name).Options.flat_keys().items():
            owners[key] = (name, fld)
    per_stage: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        if key not in owners:
            raise InputError(f"unknown sampling option {key!r}; valid: {', '.join(sorted(owners))}")
        if value is not None:
            name, fld = owners[key]
            per_stage.setdefault(name, {})[fld] = value
    wanted = every if stages is None else stages
    return {
        name: stage_class(every[name], name).Options(**per_stage.get(name, {}))
        for name in wanted
        if name in every
    }


@dataclass
class Context:
    """What a stage may use: the bundle, the runtime (sessions) and the seed."""

    bundle: Bundle
    runtime: Runtime
    seed: int

    def block_rng(self, stream: int, block: int, *more: int) -> np.random.Generator:
        """The random stream for one block of sample indices, for one stage (`stream`)."""
        return np.random.default_rng([self.seed, stream, block, *more])


class BlockCache:
    """The seeded blocks a stage drew last, most recently used first, at most `max_entries` and
    `max_bytes`. Small batches slice the same block again and again, and latent-rs rounds and
    DGflow steps interleave several blocks (one per round or step): without it, a batch of one
    would draw a whole block of BLOCK rows per round or step."""

    def __init__(self, max_entries: int = 32, max_bytes: int = 64 << 20) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._blocks: OrderedDict[Hashable, np.ndarray] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], np.ndarray]) -> np.ndarray:
        """The block for `key`, drawn by `make()` if not cached. Callers must not write into it."""
        if key in self._blocks:
            self._blocks.move_to_end(key)
            return self._blocks[key]
        block = make()
        self._blocks[key] = block
        while len(self._blocks) > self.max_entries or (
            len(self._blocks) > 1 and sum(b.nbytes for b in self._blocks.values()) > self.max_bytes
        ):
            self._blocks.popitem(last=False)
        return block


def span(start: int, stop: int, block: Callable[[int], np.ndarray]) -> np.ndarray:
    """Rows [start, stop) of the concatenated blocks block(b) of BLOCK rows each, as a new array
    (stages may write into what they are given; the cached blocks stay untouched)."""
    first, last = start // BLOCK, (stop - 1) // BLOCK
    if first == last:
        return block(first)[start - first * BLOCK : stop - first * BLOCK].copy()
    return np.concatenate([block(b) for b in range(first, last + 1)])[
        start - first * BLOCK : stop - first * BLOCK
    ]
