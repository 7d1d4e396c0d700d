"""What a data set is (DataSpec, Dataset) and how one of the user's files or folders is read
(DataOptions: what the user asked; DataSource: what was read, recorded in runs and bundles)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from ganflow.sampler.errors import InputError

LAYOUTS = ("vector", "nhw", "nhwc", "nchw")  # [N, D], [N, H, W], [N, H, W, C], [N, C, H, W]
# --range: the values in the file -> the (lo, hi) they are read as ("none": used as they are)
RANGES: dict[str, tuple[float, float] | None] = {
    "-1,1": (-1.0, 1.0),
    "0,1": (0.0, 1.0),
    "0,255": (0.0, 255.0),
    "none": None,
}
IMAGE_CHANNELS = (1, 3)  # grey or RGB
TEST_FRACTION = 0.1  # default --test-fraction of a file or folder without its own test split
SPLIT_SEED = 0  # seed of that hold-out split


@dataclass(frozen=True)
class DataOptions:
    """How to read an array file or an image folder; None: inferred from the data, or the default."""

    layout: str | None = None
    value_range: str | None = None  # a key of RANGES
    test_fraction: float | None = None
    split_seed: int | None = None
    image_size: int | None = None  # folders: resize and center-crop to S x S
    channels: int | None = None  # folders: 1 (grey) or 3 (RGB)

    def __post_init__(self) -> None:
        if self.layout is not None and self.layout not in LAYOUTS:
            raise InputError(f"unknown --layout {self.layout!r}: use one of {', '.join(LAYOUTS)}")
        if self.value_range is not None and self.value_range.replace(" ", "") not in RANGES:
            raise InputError(f"unknown --range {self.value_range!r}: use one of {', '.join(RANGES)}")
        if self.value_range is not None:
            object.__setattr__(self, "value_range", self.value_range.replace(" ", ""))
        if self.test_fraction is not None and not 0.0 < self.test_fraction < 1.0:
            raise InputError(f"--test-fraction must be in (0, 1), got {self.test_fraction}")
        if self.image_size is not None and self.image_size < 1:
            raise InputError(f"--image-size must be >= 1, got {self.image_size}")
        if self.channels is not None and self.channels not in IMAGE_CHANNELS:
            raise InputError(f"--channels must be 1 (grey) or 3 (RGB), got {self.channels}")

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def over(self, saved: DataOptions, strict: bool, what: str) -> DataOptions:
        """`saved` (a run's or a bundle's options) with the values given here; with `strict` a given
        value that differs from a saved one is refused (resuming must read the data the same way)."""
        if strict:
            for name, value in self.given().items():
                old = getattr(saved, name)
                if old is not None and old != value:
                    flag = name.replace("_", "-").replace("value-", "")
                    raise InputError(f"--{flag} {value} differs from {what}'s {old}: drop --{flag}")
        return replace(saved, **self.given())


@dataclass(frozen=True)
class DataSource:
    """One of the user's files or folders as it was read: recorded in config.json and (without the
    path) in the bundle manifest, so that resume and eval read the same examples and split."""

    kind: str  # "array" (.npy / .npz) or "image-folder"
    path: str | None  # absolute; None in a bundle manifest (which records `name`)
    name: str  # the file or folder name
    sha256: str  # of the array bytes, or of the sorted file list and the files' bytes
    layout: str  # of the examples as stored (a folder's decoded cache is nhwc)
    value_range: str  # a key of RANGES
    split: str  # "file" (train and test arrays in the file) or "holdout" (seeded)
    test_fraction: float | None = None  # holdout only
    split_seed: int | None = None  # holdout only
    image_size: tuple[int, int] | None = None  # folders: (H, W) after resize / center crop
    channels: int | None = None  # folders

    def __post_init__(self) -> None:
        if self.image_size is not None:
            object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))

    def to_dict(self, with_path: bool = True) -> dict[str, Any]:
        d = asdict(self)
        d["range"] = d.pop("value_range")
        d["image_size"] = None if self.image_size is None else list(self.image_size)
        if not with_path:
            d.pop("path")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataSource:
        d = {"path": None, **d, "value_range": d.get("range")}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def options(self) -> DataOptions:
        """The options that read this source again the same way."""
        size = self.image_size
        return DataOptions(
            layout=self.layout if self.kind == "array" else None,
            value_range=self.value_range if self.kind == "array" else None,
            test_fraction=self.test_fraction,
            split_seed=self.split_seed,
            image_size=None if size is None or size[0] != size[1] else size[0],
            channels=self.channels,
        )


@dataclass(frozen=True)
class DataSpec:
    """What the sampler needs to know about the data: name, per-example shape, value range; for the
    user's own data also its source (path, layout, split, content hash)."""

    name: str
    shape: tuple[int, ...]
    range: tuple[float, float] | None  # None: unbounded (2-D toys, vectors), no clipping
    source: DataSource | None = None  # None: a named data set (toys, MNIST)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "dataset": self.name,
            "shape": list(self.shape),
            "range": None if self.range is None else list(self.range),
        }
        if self.source is not None:
            d["source"] = self.source.to_dict()
        return d

    def same_data(self, saved: dict[str, Any]) -> bool:
        """Whether `saved` (a run's meta["data"]) describes this data: the same fields, the file's
        path and name aside (the content hash says whether it is the same data)."""

        def key(d: dict[str, Any]) -> dict[str, Any]:
            src = d.get("source")
            return {
                **d,
                **({"source": {k: v for k, v in src.items() if k not in ("path", "name")}} if src else {}),
            }

        return key(self.to_dict()) == key(saved)

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3


@dataclass(frozen=True)
class Dataset:
    spec: DataSpec
    x: Any  # float32 [N, *spec.shape]: an ndarray, or a LazyArray (data/lazy.py) read on access
    labels: np.ndarray | None = None  # [N] class labels where the data has them
    source: str | None = None  # what --data said (a name or a path): reloads other splits
    options: DataOptions | None = None  # how a path was read (the user's own data): reloads other splits
