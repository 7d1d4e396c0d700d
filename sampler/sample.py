"""High-level sampling: bundle + pipeline + writer, with a report of what ran."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ganflow.sampler.bundle import MANIFEST, Bundle, sha256_file
from ganflow.sampler.errors import InputError
from ganflow.sampler.hub import open_bundle
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import CUDA, Runtime
from ganflow.sampler.writers import open_writer, shard_path, writer_format


def shard_range(n: int, shards: int, shard: int) -> tuple[int, int]:
    """Sample indices [start, stop) of shard `shard` of `shards` (contiguous, disjoint, covering)."""
    if shards < 1 or not 0 <= shard < shards:
        raise InputError(f"--shard-index must be in [0, {shards}) and --num-shards >= 1")
    return shard * n // shards, (shard + 1) * n // shards


def sample_to(
    bundle: str | Path | Bundle,
    out: str | Path,
    n: int,
    *,
    method: str = "plain",
    proposal: str | None = None,
    select: str | None = None,
    refine: str | None = None,
    seed: int = 0,
    batch_size: int = 256,
    device: str = "auto",
    tf32: bool = False,
    threads: int | None = None,
    precision: str = "fp32",
    cuda_graph: bool = False,
    allow_cpu_fallback: bool = False,
    fmt: str | None = None,
    overwrite: bool = False,
    options: dict[str, Any] | None = None,
    progress: bool = False,
    num_shards: int = 1,
    shard_index: int = 0,
) -> dict[str, Any]:
    """Draw samples [start, stop) of `n` (this shard's part; all of them by default) into `out`.

    File outputs are complete or absent; a folder of PNGs fills up image by image and resumes.
    Sample i is the same whatever the shard, batch size or run, so shards together equal one run.
    """
    if n <= 0:
        raise InputError(f"-n must be > 0, got {n}")
    if threads is not None and threads <= 0:
        raise InputError(f"--threads must be > 0, got {threads}")
    start, stop = shard_range(n, num_shards, shard_index)
    b = bundle if isinstance(bundle, Bundle) else open_bundle(bundle)  # a folder or a Hub id
    runtime = Runtime(
        device,
        threads=threads,
        tf32=tf32,
        precision=precision,
        cuda_graph=cuda_graph,
        allow_cpu_fallback=allow_cpu_fallback,
    )
    pipe = Pipeline(
        b,
        runtime,
        method=method,
        seed=seed,
        proposal=proposal,
        select=select,
        refine=refine,
        options=options or {},
    )
    kind = writer_format(Path(out), fmt)
    path = shard_path(Path(out), kind, shard_index, num_shards)
    run = {
        "bundle": sha256_file(b.root / MANIFEST),
        "pipeline": pipe.describe(),
        "seed": seed,
        "n": n,
        "options": options or {},
    }
    writer = open_writer(
        path, stop - start, b.data_shape, b.latent_dim, b.data_range, fmt, overwrite, first=start, run=run
    )
    try:
        # the bar starts only once the bundle, pipeline and output are known to be good
        with typer.progressbar(
            length=stop - start, label="sampling", file=sys.stderr, hidden=not progress
        ) as bar:
            for lo, z, x in pipe.generate(stop, batch_size, start=start, todo=writer.todo):
                if x is not None:
                    writer.write(lo, z, x)
                bar.update(min(batch_size, stop - lo))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    notes = [runtime.note] if runtime.note else []
    if precision != "fp32" and runtime.provider != CUDA:
        notes.append("fp16 graphs run on the CPU through fp32 kernels (slower than fp32); fp16 is for CUDA")
    report = dict(pipe.stats)
    report.update(
        out=str(path),
        shard=f"{shard_index}/{num_shards}: samples [{start}, {stop})",
        provider=runtime.provider,
        device_note="; ".join(notes),
        samples_per_s=report["samples"] / max(report["seconds"], 1e-9),
    )
    return report
