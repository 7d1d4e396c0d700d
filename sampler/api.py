"""The Python API: `Sampler` (a bundle with its sessions; samples as arrays) and `evaluate`.

    from ganflow import Sampler
    s = Sampler.from_pretrained("ganflow-demo/bundle")       # a folder or a Hub id owner/name[@rev]
    x = s.sample(1000, method="dgflow", seed=1, dg_eta=0.05)  # float32 [1000, *data shape]

`Sampler.sample(n, seed=s, method=m, ...)` gives, bit for bit, the samples that
`ganflow sample BUNDLE -n n --seed s --method m --out x.npz` writes: both build their Pipeline
through `Sampler.pipeline` (sample.py's `sample_to` is the CLI's path). Torch-free.
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganflow.sampler.bundle import Bundle
from ganflow.sampler.errors import InputError
from ganflow.sampler.hub import open_bundle
from ganflow.sampler.pipeline import Pipeline, supported_methods
from ganflow.sampler.runtime import Runtime, RuntimeOptions
from ganflow.sampler.stages import StageOptions, options_from_flat


class Sampler:
    """A verified bundle and the onnxruntime sessions that sample it (created once, reused by
    every `sample` call). Build it with `Sampler.from_pretrained(folder or Hub id)`."""

    def __init__(self, bundle: str | Path | Bundle, runtime: RuntimeOptions | Runtime | None = None) -> None:
        self.bundle = bundle if isinstance(bundle, Bundle) else open_bundle(bundle)  # verified
        if runtime is None:
            runtime = RuntimeOptions()
        self.runtime: Runtime = runtime.create() if isinstance(runtime, RuntimeOptions) else runtime
        self.stats: dict[str, Any] = {}  # what the last `sample` call did (the pipeline's stats)

    @classmethod
    def from_pretrained(
        cls,
        ref: str | Path,
        device: str = "auto",
        *,
        local_files_only: bool = False,
        threads: int | None = None,
        tf32: bool = False,
        precision: str = "fp32",
        cuda_graph: bool = False,
        allow_cpu_fallback: bool = False,
    ) -> Sampler:
        """The bundle at `ref` (a folder written by `ganflow export`, or a Hub id
        "owner/name[@revision]", downloaded and verified) on `device` (auto | cuda | cpu; auto
        falls back to the CPU with a RuntimeWarning). The other options are `ganflow sample`'s:
        `threads` per session, `tf32`, `precision` ("fp16": the bundle's fp16 graphs),
        `cuda_graph`, `allow_cpu_fallback`."""
        bundle = open_bundle(ref, local_files_only=local_files_only)
        options = RuntimeOptions(device, threads, tf32, precision, cuda_graph, allow_cpu_fallback)
        sampler = cls(bundle, options)
        if sampler.runtime.note:
            warnings.warn(sampler.runtime.note, RuntimeWarning, stacklevel=2)
        return sampler

    # --- what the bundle is ----------------------------------------------------------------------

    @property
    def methods(self) -> list[str]:
        """The sampling methods this bundle supports (it has the components each needs)."""
        return supported_methods(self.bundle)

    @property
    def device(self) -> str:
        """Where the sessions run: "cuda" or "cpu"."""
        return self.runtime.ort_device

    @property
    def info(self) -> dict[str, Any]:
        """The bundle as a plain dict: family, latent_dim, data (shape, range, dataset), data_shape,
        data_range, methods, components, per-method defaults, provenance, provider."""
        b, m = self.bundle, self.bundle.manifest
        return {
            "bundle": str(b.root),
            "family": m.get("family"),
            "latent_dim": b.latent_dim,
            "data": copy.deepcopy(m["data"]),
            "data_shape": b.data_shape,
            "data_range": b.data_range,
            "methods": self.methods,
            "components": sorted(b.components),
            "defaults": copy.deepcopy(m.get("defaults", {})),
            "provenance": copy.deepcopy(m.get("provenance", {})),
            "provider": self.runtime.provider,
        }

    def __repr__(self) -> str:
        b = self.bundle
        return (
            f"Sampler({str(b.root)!r}, family={b.manifest.get('family')!r}, latent_dim={b.latent_dim}, "
            f"data_shape={b.data_shape}, methods={self.methods}, device={self.device!r})"
        )

    # --- sampling --------------------------------------------------------------------------------

    def pipeline(
        self,
        method: str = "plain",
        seed: int = 0,
        proposal: str | None = None,
        select: str | None = None,
        refine: str | None = None,
        stages: Mapping[str, StageOptions] | None = None,
    ) -> Pipeline:
        """The Pipeline of one composition on this sampler's sessions: what `sample` and the CLI
        (`sample_to`) both run. `stages`: {stage name: its Options} (see `options_from_flat`)."""
        return Pipeline(self.bundle, self.runtime, method, seed, proposal, select, refine, stages or {})

    def sample(
        self,
        n: int,
        method: str = "plain",
        seed: int = 0,
        batch_size: int = 256,
        return_latents: bool = False,
        proposal: str | None = None,
        select: str | None = None,
        refine: str | None = None,
        **stage_options: Any,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """`n` samples, float32 [n, *data shape] (with `return_latents`: and their latents, float32
        [n, latent_dim]). `method` is a preset (see `.methods`); `proposal`, `select`, `refine`
        override its stages. Stage options take the CLI's flat names (`truncation=0.7`, `rs_m=2.0`,
        `dg_steps=10`, `dg_eta=0.05`, `mh_k=40`, ...); unset ones take the bundle's defaults. Sample
        i depends only on the bundle, the composition, the options, `seed` and i, not on
        `batch_size`. `.stats` then holds what the stages did (acceptance, steps, seconds)."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
            raise InputError(f"n must be an integer > 0, got {n!r}")
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise InputError(f"batch_size must be an integer > 0, got {batch_size!r}")
        stages = options_from_flat(stage_options)  # unknown names: a one-line InputError
        pipe = self.pipeline(method, seed, proposal, select, refine, stages)
        n, b = int(n), self.bundle
        x = np.empty((n, *b.data_shape), np.float32)
        z = np.empty((n, b.latent_dim), np.float32) if return_latents else None
        for lo, zb, xb in pipe.generate(n, int(batch_size)):
            x[lo : lo + len(xb)] = xb
            if z is not None:
                z[lo : lo + len(zb)] = zb
        self.stats = dict(pipe.stats)
        return (x, z) if z is not None else x


def evaluate(
    samples_or_bundle: np.ndarray | str | Path | Sampler,
    data: str | Path | None = None,
    split: str = "test",
    n: int | None = 10_000,
    metrics: Sequence[str] | str | None = None,
    *,
    features: str | Path | None = None,
    real_n: int | None = 10_000,
    dataset: str | None = None,
    centers: str | Path | None = None,
    center_std: float | None = None,
    method: str = "plain",
    seed: int = 0,
    device: str = "auto",
    **stage_options: Any,
) -> dict[str, Any]:
    """`ganflow eval` as a function: metrics of samples against a split of `data` (a data set
    name, or a path to MNIST files, your own .npy/.npz or an image folder; default: the bundle's
    data set). `samples_or_bundle`: an array [N, *shape], a .npz (with 'samples') or .npy file, a
    bundle folder or Hub id (sampled with `method`, `seed`, `device` and the flat stage options),
    or a Sampler. `metrics`: names or "fid,prdc" (default: all that apply but parzen); at most `n`
    samples are used. Returns the result dict; its "metrics" holds the values by protocol name."""
    from ganflow.sampler.evaluate import evaluate as run_eval  # imports the metrics: on call only
    from ganflow.sampler.sample import SampleOptions

    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    kwargs: dict[str, Any] = dict(
        data=None if data is None else str(data),
        split=split,
        n=n,
        metrics=None if metrics is None else list(metrics),
        features=features,
        real_n=real_n,
        dataset=dataset,
        centers=centers,
        center_std=center_std,
    )
    source = samples_or_bundle
    runtime = RuntimeOptions(device)
    if isinstance(source, Sampler):
        source, runtime = str(source.bundle.root), _options_of(source.runtime)
    stages = options_from_flat(stage_options)
    kwargs["sampling"] = SampleOptions(method=method, seed=seed, stages=stages, runtime=runtime)
    if isinstance(source, (str, Path)):
        return run_eval(source, **kwargs)
    x = _as_samples(source)
    if data is None:
        raise InputError("evaluate(array) needs data=: the data set name or path the samples are compared to")
    with tempfile.TemporaryDirectory(prefix="ganflow-eval-") as tmp:
        path = Path(tmp) / "samples.npy"
        np.save(path, x, allow_pickle=False)
        result = run_eval(path, **kwargs)
    result["source"] = "array"
    return result


def _as_samples(samples: Any) -> np.ndarray:
    """`samples` as a float32 array [N, ...] (InputError if it is not a numeric array of N >= 1)."""
    try:
        x = np.asarray(samples)
    except (TypeError, ValueError) as e:  # e.g. a ragged list
        raise InputError(f"samples must be an array [N, *shape]: {e}") from None
    if x.dtype.kind not in "biuf" or x.ndim < 2 or len(x) == 0:
        raise InputError(
            f"samples must be a numeric array [N, *shape] with N >= 1, got {x.dtype} of shape {x.shape}; "
            "or pass a .npz/.npy path or a bundle"
        )
    return np.ascontiguousarray(x, dtype=np.float32)


def _options_of(runtime: Runtime) -> RuntimeOptions:
    """The RuntimeOptions a Runtime was created with."""
    return RuntimeOptions(
        runtime.device,
        runtime.threads,
        runtime.tf32,
        runtime.precision,
        runtime.cuda_graph,
        runtime.allow_cpu_fallback,
    )
