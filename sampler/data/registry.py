"""Dataset registry: a name (or a path to MNIST-layout files) -> Dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ganflow.sampler.data.mnist import load_mnist_arrays
from ganflow.sampler.errors import DataError
from ganflow.sampler.metrics.toy2d import TOY_NAMES, sample_toy
from ganflow.sampler.registry import Registry

DATASETS: Registry = Registry("dataset", DataError)
TOY_POINTS = 100_000  # size of the fixed training set drawn for a 2-D toy


@dataclass(frozen=True)
class DataSpec:
    """What the sampler needs to know about the data: name, per-example shape, value range."""

    name: str
    shape: tuple[int, ...]
    range: tuple[float, float] | None  # None: unbounded (2-D toys), no clipping

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "shape": list(self.shape),
            "range": None if self.range is None else list(self.range),
        }


@dataclass(frozen=True)
class Dataset:
    spec: DataSpec
    x: np.ndarray  # float32 [N, *spec.shape]
    labels: np.ndarray | None = None  # [N] class labels where the data has them
    source: str | None = None  # what --data said (a name or a path): reloads other splits


def _toy_loader(name: str):
    def load(source: str | None, split: str, seed: int) -> Dataset:
        # a different stream per split so that test points are not training points
        rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        x = sample_toy(name, TOY_POINTS, rng).astype(np.float32)
        return Dataset(DataSpec(name, (2,), None), x, source=name)

    return load


for _name in TOY_NAMES:
    DATASETS.register(_name)(_toy_loader(_name))


def _image_loader(name: str):
    def load(source: str | None, split: str, seed: int) -> Dataset:
        images, labels = load_mnist_arrays(source, name=name, split=split)
        x = (images.astype(np.float32) / 127.5 - 1.0)[:, None, :, :]  # [N, 1, 28, 28] in [-1, 1]
        return Dataset(DataSpec(name, (1, 28, 28), (-1.0, 1.0)), x, labels, source or name)

    return load


for _name in ("mnist", "fashion-mnist"):
    DATASETS.register(_name)(_image_loader(_name))


def load_dataset(data: str, *, dataset: str | None = None, split: str = "train", seed: int = 0) -> Dataset:
    """Load `data`: a registered name (downloads MNIST when absent) or a path to MNIST-layout
    files (npz or IDX), labelled `dataset` (default "mnist")."""
    if split not in ("train", "test"):
        raise DataError(f"unknown split {split!r}: use 'train' or 'test'")
    if data in DATASETS:
        if dataset not in (None, data):
            raise DataError(f"--data {data} and --dataset {dataset} disagree: give only --data")
        return DATASETS.get(data)(None, split, seed)
    if not Path(data).exists():
        raise DataError(
            f"--data {data!r} is neither a dataset ({', '.join(DATASETS.names())}) nor an "
            "existing path: check the spelling or the path"
        )
    name = dataset or "mnist"
    if name not in ("mnist", "fashion-mnist"):
        raise DataError(
            f"a data path holds MNIST-layout images: --dataset must be mnist or fashion-mnist, got {name!r}"
        )
    return DATASETS.get(name)(data, split, seed)
