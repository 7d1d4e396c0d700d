"""High-level sampling: bundle + pipeline + writer, with a report of what ran."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ganflow.sampler.bundle import Bundle, load_bundle
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.writers import open_writer


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
    fmt: str | None = None,
    overwrite: bool = False,
    options: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Draw `n` samples into `out` (complete or absent); returns the pipeline's report."""
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    runtime = Runtime(device, tf32=tf32)
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
    writer = open_writer(out, n, b.data_shape, b.latent_dim, b.data_range, fmt, overwrite)
    try:
        # the bar starts only once the bundle, pipeline and output are known to be good
        with typer.progressbar(length=n, label="sampling", file=sys.stderr, hidden=not progress) as bar:
            for lo, z, x in pipe.generate(n, batch_size):
                writer.write(lo, z, x)
                bar.update(len(x))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    report = dict(pipe.stats)
    report.update(
        out=str(out),
        provider=runtime.provider,
        device_note=runtime.note,
        samples_per_s=report["samples"] / max(report["seconds"], 1e-9),
    )
    return report
