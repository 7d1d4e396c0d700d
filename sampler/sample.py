"""High-level sampling: bundle + pipeline + writer, with a report of what ran."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import typer

from ganflow.sampler.api import Sampler
from ganflow.sampler.bundle import MANIFEST, Bundle, sha256_file
from ganflow.sampler.errors import InputError
from ganflow.sampler.runtime import CUDA, RuntimeOptions
from ganflow.sampler.stages import StageOptions
from ganflow.sampler.writers import open_writer, shard_path, writer_format


def shard_range(n: int, shards: int, shard: int) -> tuple[int, int]:
    """Sample indices [start, stop) of shard `shard` of `shards` (contiguous, disjoint, covering)."""
    if shards < 1 or not 0 <= shard < shards:
        raise InputError(f"--shard-index must be in [0, {shards}) and --num-shards >= 1")
    return shard * n // shards, (shard + 1) * n // shards


@dataclass(frozen=True)
class SampleOptions:
    """Everything that decides a sampling run besides the bundle, the output and N.

    `stages`: {stage name: its Options} (stages/base.py; see `options_from_flat` for flat keys
    such as {"rs_m": 2.0}); stages not named take the bundle's defaults. Sample i depends only on
    the bundle, the composition, the stage options, `seed` and i: `batch_size` and the shard
    (`num_shards`, `shard_index`) split the work without changing any sample."""

    method: str = "plain"
    proposal: str | None = None  # stage flags override the method preset's stages
    select: str | None = None
    refine: str | None = None
    seed: int = 0
    batch_size: int = 256
    stages: Mapping[str, StageOptions] = field(default_factory=dict)
    runtime: RuntimeOptions = RuntimeOptions()
    fmt: str | None = None  # output format; None: from the suffix of `out`
    overwrite: bool = False
    num_shards: int = 1
    shard_index: int = 0
    progress: bool = False


def sample_to(
    bundle: str | Path | Bundle, out: str | Path, n: int, options: SampleOptions = SampleOptions()
) -> dict[str, Any]:
    """Draw samples [start, stop) of `n` (this shard's part; all of them by default) into `out`.

    File outputs are complete or absent; a folder of PNGs fills up image by image and resumes.
    Sample i is the same whatever the shard, batch size or run, so shards together equal one run.
    The pipeline is the Python API's (`Sampler.pipeline`): `Sampler.sample` gives the same samples.
    """
    o = options
    if n <= 0:
        raise InputError(f"-n must be > 0, got {n}")
    start, stop = shard_range(n, o.num_shards, o.shard_index)
    sampler = Sampler(bundle, o.runtime)  # a Bundle, a folder or a Hub id; then the sessions' runtime
    b, runtime = sampler.bundle, sampler.runtime
    pipe = sampler.pipeline(o.method, o.seed, o.proposal, o.select, o.refine, o.stages)
    used = [pipe.proposal, pipe.select, pipe.refine]
    given = {
        k: {f: x for f, x in asdict(v).items() if x is not None} for k, v in o.stages.items() if k in used
    }
    stage_opts = {k: v for k, v in given.items() if v}  # recorded with the samples
    kind = writer_format(Path(out), o.fmt)
    path = shard_path(Path(out), kind, o.shard_index, o.num_shards)
    run = {
        "bundle": sha256_file(b.root / MANIFEST),
        "pipeline": pipe.describe(),
        "seed": o.seed,
        "n": n,
        "options": stage_opts,
    }
    writer = open_writer(
        path, stop - start, b.data_shape, b.latent_dim, b.data_range, o.fmt, o.overwrite, first=start, run=run
    )
    try:
        # the bar starts only once the bundle, pipeline and output are known to be good
        with typer.progressbar(
            length=stop - start, label="sampling", file=sys.stderr, hidden=not o.progress
        ) as bar:
            for lo, z, x in pipe.generate(stop, o.batch_size, start=start, todo=writer.todo):
                if x is not None:
                    writer.write(lo, z, x)
                bar.update(min(o.batch_size, stop - lo))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    notes = [runtime.note] if runtime.note else []
    if o.runtime.precision != "fp32" and runtime.provider != CUDA:
        notes.append("fp16 graphs run on the CPU through fp32 kernels (slower than fp32); fp16 is for CUDA")
    report = dict(pipe.stats)
    report.update(
        out=str(path),
        shard=f"{o.shard_index}/{o.num_shards}: samples [{start}, {stop})",
        provider=runtime.provider,
        device_note="; ".join(notes),
        samples_per_s=report["samples"] / max(report["seconds"], 1e-9),
    )
    return report
