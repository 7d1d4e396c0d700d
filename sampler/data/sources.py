"""The registry of data *sources*: what a --data path is (MNIST files, an array file, an image
folder) is decided by the first registered source that claims it, not by an if-chain; and what
every source of the user's own data shares (label, hold-out split, the Dataset it makes)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganflow.sampler.data.lazy import LazyArray, MemoryRows, NpyRows, in_memory_if_small
from ganflow.sampler.data.spec import SPLIT_SEED, TEST_FRACTION, DataOptions, Dataset, DataSource, DataSpec
from ganflow.sampler.errors import DataError

Loader = Callable[[Path, str, str | None, DataOptions], Dataset]  # (path, split, label, options)


@dataclass(frozen=True)
class Source:
    """A kind of --data path: `claims(path)` says whether it is one, `load` reads one split."""

    name: str
    claims: Callable[[Path], bool]
    load: Loader
    accepts: str  # what it reads, for messages


SOURCES: list[Source] = []  # in the order they are asked


def register_source(name: str, claims: Callable[[Path], bool], accepts: str) -> Callable[[Loader], Loader]:
    def deco(load: Loader) -> Loader:
        if any(s.name == name for s in SOURCES):
            raise ValueError(f"data source {name!r} is registered twice")
        SOURCES.append(Source(name, claims, load, accepts))
        return load

    return deco


def find_source(path: Path) -> Source:
    for source in SOURCES:
        if source.claims(path):
            return source
    raise DataError(
        f"{path} is neither {' nor '.join(s.accepts for s in SOURCES)}: pass --data PATH to one of them"
    )


def cache_root() -> Path:
    """Where ganflow keeps downloaded and decoded data: $GANFLOW_CACHE, else ~/.cache/ganflow."""
    return Path(os.environ.get("GANFLOW_CACHE") or "~/.cache/ganflow").expanduser()


_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def label_for(path: Path, dataset: str | None) -> str:
    """The data's name in metric names: --dataset, else the file or folder name."""
    if dataset is not None:
        if not _LABEL.match(dataset):
            raise DataError(f"--dataset {dataset!r}: use letters, digits, '_', '.' and '-' only")
        return dataset
    stem = path.stem if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "data"


def holdout(n: int, fraction: float, seed: int) -> dict[str, np.ndarray]:
    """{"train": rows, "test": rows} of n examples: a seeded random `fraction` held out for testing,
    both sorted (file order)."""
    n_test = max(1, round(n * fraction))
    if n < 2 or n_test >= n:
        raise DataError(
            f"{n} example(s) cannot be split into train and test with --test-fraction {fraction}: "
            "give more data or another --test-fraction"
        )
    perm = np.random.default_rng(seed).permutation(n)
    return {"test": np.sort(perm[:n_test]), "train": np.sort(perm[n_test:])}


def split_options(options: DataOptions) -> tuple[float, int]:
    """(test fraction, split seed) of a hold-out split: the given ones or the defaults."""
    fraction = TEST_FRACTION if options.test_fraction is None else options.test_fraction
    return fraction, SPLIT_SEED if options.split_seed is None else options.split_seed


def make_dataset(
    rows: MemoryRows | NpyRows,
    index: np.ndarray,
    source: DataSource,
    label: str,
    shape: tuple[int, ...],
    lo_hi: tuple[float, float] | None,
    lazy: bool = False,
) -> Dataset:
    """A split of the user's own data: examples `index` of `rows`, float32 [N, *shape] mapped from
    the source's value range `lo_hi` to [-1, 1] for images (vectors keep their values). `lazy`:
    always read on access, else decoded into memory when small."""
    image = len(shape) == 3
    x = LazyArray(rows, index, source.layout, lo_hi if image else None, shape)
    spec_range = (-1.0, 1.0) if image and lo_hi is not None else (None if image else lo_hi)
    spec = DataSpec(label, shape, spec_range, source)
    path = source.path or source.name
    return Dataset(spec, x if lazy else in_memory_if_small(x), None, path, source.options())
