"""`ganflow eval`: samples (from a bundle or a file) against a dataset split, with registered metrics."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ganflow.sampler.data import load_dataset
from ganflow.sampler.errors import InputError
from ganflow.sampler.hub import open_bundle
from ganflow.sampler.metrics import METRICS, Evaluator, FeatureNet, IdentityFeatures
from ganflow.sampler.metrics.toy2d import TOY_MODES
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import Runtime

REAL_N = 10_000  # reference examples used from the split (the first ones), unless --real-n
VALID_N = 1_000  # Parzen bandwidth selection: the last examples of the train split


def make_evaluator(
    data: str,
    split: str = "test",
    dataset: str | None = None,
    features: str | Path | None = None,
    real_n: int | None = REAL_N,
    with_valid: bool = False,
) -> Evaluator:
    """An Evaluator for `data` (a dataset name or MNIST-layout path) and one split."""
    ds = load_dataset(data, dataset=dataset, split=split)
    kind = "images" if len(ds.spec.shape) == 3 else "points"
    net = FeatureNet(features) if (kind == "images" or features is not None) else IdentityFeatures()
    valid = None
    if with_valid:
        other = load_dataset(data, dataset=dataset, split="train" if split != "train" else "test")
        valid = other.x[-VALID_N:]
    real = ds.x[:real_n] if real_n else ds.x
    return Evaluator(real, ds.spec.name, split, kind, net, valid=valid, modes=TOY_MODES.get(ds.spec.name))


def load_samples(source: str | Path, n: int | None, **sample_kw: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Samples [N, *shape] from a .npz/.npy file, or drawn from a bundle; and what they are."""
    path = Path(source)
    if path.is_file():
        if path.suffix == ".npz":
            with np.load(path) as f:
                if "samples" not in f:
                    raise InputError(f"{path} has no 'samples' array (it has {list(f.keys())})")
                x = f["samples"]
        elif path.suffix == ".npy":
            x = np.load(path, mmap_mode="r")
        else:
            raise InputError(f"{path}: evaluate a bundle folder, a .npz with 'samples' or a .npy")
        x = np.asarray(x[:n] if n else x, dtype=np.float32)
        return x, {"source": str(path), "kind": "file", "n": len(x)}
    bundle = open_bundle(source)  # a folder or a Hub id
    if not n or n <= 0:
        raise InputError("-n must be > 0 to draw samples from a bundle")
    pipe = Pipeline(bundle, Runtime(sample_kw.pop("device", "auto")), **sample_kw)
    x = np.empty((n, *bundle.data_shape), np.float32)
    for lo, _, batch in pipe.generate(n, 1024):
        x[lo : lo + len(batch)] = batch
    info = {
        "source": str(path),
        "kind": "bundle",
        "n": n,
        "dataset": bundle.manifest["data"]["dataset"],
        **{k: pipe.stats[k] for k in ("method", "provider")},
    }
    return x, info


def evaluate(
    source: str | Path,
    data: str | None = None,
    split: str = "test",
    n: int | None = 10_000,
    metrics: list[str] | None = None,
    features: str | None = None,
    real_n: int | None = REAL_N,
    dataset: str | None = None,
    **sample_kw: Any,
) -> dict[str, Any]:
    """Metrics of the samples in `source`; the result holds the metrics and what was compared."""
    t0 = time.perf_counter()
    device = sample_kw.get("device", "auto")
    x, info = load_samples(source, n, **sample_kw)
    data = data or info.get("dataset")
    if data is None:
        raise InputError("which data do these samples belong to? pass --data")
    for m in metrics or []:
        METRICS.get(m)
    ev = make_evaluator(data, split, dataset, features, real_n, with_valid="parzen" in (metrics or []))
    if info["kind"] == "bundle" and any(METRICS.get(m).needs_bundle for m in metrics or []):
        ev.bundle, ev.device = open_bundle(source), device  # e.g. nll: the bundle's likelihood graph
    t1 = time.perf_counter()
    values = ev(x, metrics)
    return {
        **info,
        "data": data,
        "split": split,
        "real_n": len(ev.real),
        "metrics": values,
        "sample_seconds": t1 - t0,
        "metric_seconds": time.perf_counter() - t1,
    }
