"""`ganflow eval`: samples (from a bundle or a file) against a dataset split, with registered metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ganflow.sampler.data import DataOptions, Dataset, DataSpec, load_dataset, other_split, reference_data
from ganflow.sampler.errors import InputError
from ganflow.sampler.hub import open_bundle
from ganflow.sampler.metrics import METRICS, Evaluator, FeatureNet, IdentityFeatures
from ganflow.sampler.metrics.modes import Modes, estimate_std, load_centers
from ganflow.sampler.metrics.toy2d import TOY_MODES
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.progress import Progress
from ganflow.sampler.sample import SampleOptions

REAL_N = 10_000  # reference examples used from the split (the first ones), unless --real-n
VALID_N = 1_000  # Parzen bandwidth selection: the last examples of the train split


def _features(spec: DataSpec, features: str | Path | None) -> FeatureNet | IdentityFeatures:
    """--features if given; else the coordinates of points, the ganflow MNIST classifier for the
    MNIST data sets, the pixels of other images."""
    if features is not None:
        net = FeatureNet(features)
        net.check_shape(spec.shape)  # e.g. the MNIST classifier on 3x32x32 images: refused now
        return net
    if not spec.is_image:
        return IdentityFeatures()
    return FeatureNet() if spec.source is None else IdentityFeatures("-pixels")


def _modes(spec: DataSpec, real: np.ndarray, centers: str | Path | None, std: float | None) -> Modes | None:
    """The modes of the mode metrics: --centers (std: --center-std, else estimated from the reference
    examples), else a 2-D toy's own."""
    if centers is None:
        if std is not None:
            raise InputError("--center-std needs --centers: pass the mode centers as an .npy [M, D]")
        return TOY_MODES.get(spec.name) if spec.source is None else None
    if spec.is_image:
        raise InputError("--centers applies to vector data, not to images: drop it")
    c = load_centers(centers, int(np.prod(spec.shape)))
    if std is not None and not std > 0:
        raise InputError(f"--center-std must be > 0, got {std}")
    std = estimate_std(real.reshape(len(real), -1), c) if std is None else float(std)
    name = Path(centers).stem
    return Modes(name, c, std, tag="_" + "".join(ch if ch.isalnum() or ch in "_.-" else "-" for ch in name))


def make_evaluator(
    data: str | Dataset,
    split: str = "test",
    dataset: str | None = None,
    features: str | Path | None = None,
    real_n: int | None = REAL_N,
    with_valid: bool = False,
    options: DataOptions | None = None,
    centers: str | Path | None = None,
    center_std: float | None = None,
) -> Evaluator:
    """An Evaluator for one split of `data`: a dataset name or path (read as `options` say), or a
    loaded Dataset (its other split is read the same way). `centers`: an .npy [M, D] of mode centers
    for the mode metrics of vector data."""
    if isinstance(data, Dataset):
        ds = other_split(data, split)
    else:
        ds = load_dataset(data, dataset=dataset, split=split, options=options)
    net = _features(ds.spec, features)
    valid = None
    if with_valid:
        valid = np.asarray(other_split(ds, "train" if split != "train" else "test").x[-VALID_N:])
    real = np.asarray(ds.x[:real_n] if real_n else ds.x, dtype=np.float32)
    kind = "images" if ds.spec.is_image else "points"
    modes = _modes(ds.spec, real, centers, center_std)
    return Evaluator(real, ds.spec.name, split, kind, net, valid=valid, modes=modes, spec=ds.spec)


def open_samples(
    source: str | Path, n: int | None, sampling: SampleOptions = SampleOptions()
) -> tuple[Callable[[bool | None], np.ndarray], dict[str, Any]]:
    """(draw, info) for a .npz/.npy file or a bundle: draw(progress) returns the samples [N, *shape]
    (read from the file, or drawn from the bundle: the slow part), info says what they are. Bad
    files, bundles and options fail here, before anything is drawn. `progress` (a bundle's sampling,
    stderr): True a bar, None a bar on a terminal and a few lines otherwise, False nothing."""
    path = Path(source)
    if path.is_file():
        x = _read_samples(path, n)
        return (lambda progress=False: x), {
            "source": str(path),
            "kind": "file",
            "n": len(x),
            "shape": x.shape[1:],
        }
    bundle = open_bundle(source)  # a folder or a Hub id
    if not n or n <= 0:
        raise InputError("-n must be > 0 to draw samples from a bundle")
    o = sampling
    pipe = Pipeline(bundle, o.runtime.create(), o.method, o.seed, o.proposal, o.select, o.refine, o.stages)

    def draw(progress: bool | None = False) -> np.ndarray:
        x = np.empty((n, *bundle.data_shape), np.float32)
        bar = Progress(
            n, enabled=progress, desc="sampling ", unit="samples", line_seconds=5, line_fraction=0.25
        )
        for lo, _, batch in pipe.generate(n, max(o.batch_size, 1024)):
            x[lo : lo + len(batch)] = batch
            bar.update(lo + len(batch), force=lo + len(batch) == n)
        bar.close()
        return x

    info = {"source": str(path), "kind": "bundle", "n": n, "dataset": bundle.manifest["data"]["dataset"]}
    info.update({k: pipe.stats[k] for k in ("method", "provider")}, shape=bundle.data_shape)
    if bundle.manifest["data"].get("source"):  # trained on the user's own data
        info["data_source"] = bundle.manifest["data"]["source"]
    return draw, info


def _read_samples(path: Path, n: int | None) -> np.ndarray:
    """The first n samples (all if n is None) of a .npz ('samples') or .npy file, float32."""
    if path.suffix == ".npz":
        with np.load(path) as f:
            if "samples" not in f:
                raise InputError(f"{path} has no 'samples' array (it has {list(f.keys())})")
            x = f["samples"]
    elif path.suffix == ".npy":
        x = np.load(path, mmap_mode="r")
    else:
        raise InputError(f"{path}: evaluate a bundle folder, a .npz with 'samples' or a .npy")
    return np.asarray(x[:n] if n else x, dtype=np.float32)


def load_samples(
    source: str | Path,
    n: int | None,
    sampling: SampleOptions = SampleOptions(),
    progress: bool | None = False,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Samples [N, *shape] from a .npz/.npy file, or drawn from a bundle; and what they are."""
    draw, info = open_samples(source, n, sampling)
    return draw(progress), info


def evaluate(
    source: str | Path,
    data: str | None = None,
    split: str = "test",
    n: int | None = 10_000,
    metrics: list[str] | None = None,
    features: str | None = None,
    real_n: int | None = REAL_N,
    dataset: str | None = None,
    sampling: SampleOptions = SampleOptions(),
    options: DataOptions | None = None,
    centers: str | Path | None = None,
    center_std: float | None = None,
    progress: bool | None = False,
) -> dict[str, Any]:
    """Metrics of the samples in `source` (a file, or a bundle sampled with `sampling`); the
    result holds the metrics and what was compared. `options`: how to read --data (your own data);
    `centers`, `center_std`: mode centers [M, D] (.npy) and their std for the mode metrics;
    `progress`: of the sampling, as in load_samples."""
    device = sampling.runtime.device
    draw, info = open_samples(source, n, sampling)
    shape = tuple(info.pop("shape"))
    data, dataset, options = reference_data(
        data, dataset, options, info.get("dataset"), info.get("data_source")
    )
    for m in metrics or []:
        METRICS.get(m)
    with_valid = "parzen" in (metrics or [])
    ev = make_evaluator(data, split, dataset, features, real_n, with_valid, options, centers, center_std)
    if info["kind"] == "bundle" and any(METRICS.get(m).needs_bundle for m in metrics or []):
        ev.bundle, ev.device = open_bundle(source), device  # e.g. nll: the bundle's likelihood graph
    ev.check(shape, metrics)  # wrong data or metrics fail before the samples are drawn
    t0 = time.perf_counter()
    x = draw(progress)
    t1 = time.perf_counter()
    values = ev(x, metrics)
    extra: dict[str, Any] = {}
    if ev.spec.source is not None:
        extra["data_sha256"] = ev.spec.source.sha256
        if "data_source" in info:
            extra["data_is_training_data"] = ev.spec.source.sha256 == info["data_source"]["sha256"]
    if centers is not None:
        extra["modes"] = {"centers": str(centers), "n": len(ev.modes.centers), "std": ev.modes.std}
        extra["modes"]["std_from"] = "--center-std" if center_std is not None else "the reference data"
    return {
        **info,
        "data": data,
        "split": split,
        "real_n": len(ev.real),
        **extra,
        "metrics": values,
        "sample_seconds": t1 - t0,
        "metric_seconds": time.perf_counter() - t1,
    }
