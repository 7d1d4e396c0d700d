"""Array files as data: .npy / .npz holding vectors [N, D] or images [N, H, W], [N, H, W, C] or
[N, C, H, W] (uint8 or float). Layout and value range are inferred (or given), checked, recorded."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from ganflow.sampler.data.lazy import MemoryRows, NpyRows, chunks, open_npy
from ganflow.sampler.data.sources import holdout, label_for, make_dataset, register_source, split_options
from ganflow.sampler.data.spec import IMAGE_CHANNELS, RANGES, DataOptions, Dataset, DataSource
from ganflow.sampler.errors import DataError

SUFFIXES = (".npy", ".npz")
SPLIT_KEYS = (("train", "test"), ("x_train", "x_test"))  # an .npz's own train / test arrays
_NDIM = {"vector": 2, "nhw": 3, "nhwc": 4, "nchw": 4}
SHAPES = "[N, D] vectors or [N, H, W], [N, H, W, C], [N, C, H, W] images"


def _read(path: Path) -> dict[str, MemoryRows | NpyRows]:
    """The file's arrays: {"train": rows, "test": rows} when an .npz holds both, else {"all": rows}."""
    try:
        if path.suffix.lower() == ".npy":
            return {"all": open_npy(path)}
        with np.load(path, allow_pickle=False) as npz:
            keys = npz.files
            pair = next((p for p in SPLIT_KEYS if set(p) <= set(keys)), None)
            if pair is not None:
                return {"train": MemoryRows(npz[pair[0]]), "test": MemoryRows(npz[pair[1]])}
            one = next((k for k in ("train", "x_train") if k in keys), keys[0] if len(keys) == 1 else None)
            if one is None:
                raise DataError(
                    f"{path} holds arrays {', '.join(keys) or '(none)'}: give it one array, or "
                    "'train' and 'test' (or x_train and x_test)"
                )
            return {"all": MemoryRows(npz[one])}
    except DataError:
        raise
    except ValueError as e:
        if "object" in str(e).lower() or "pickle" in str(e).lower():
            raise DataError(
                f"{path} holds Python objects (a ragged list of arrays?), not a numeric array: save "
                f"one array of {SHAPES}"
            ) from None
        raise DataError(f"cannot read {path} as an array file ({_one_line(e)}): save it with numpy") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"cannot read {path} as an array file ({_one_line(e)}): save it with numpy") from None


def _one_line(err: object) -> str:
    return " ".join(str(err).split())[:200]


def _check_dtype(path: Path, rows: MemoryRows | NpyRows) -> None:
    if rows.dtype.kind not in "iuf":
        raise DataError(
            f"{path} holds {rows.dtype} values, not numbers: save uint8 images or an int/float array"
        )


def _scan(path: Path, arrays: dict[str, MemoryRows | NpyRows]) -> tuple[str, float, float]:
    """(sha256 of the arrays' bytes, min, max), refusing NaN or inf; one pass, chunk by chunk."""
    h = hashlib.sha256()
    lo, hi = np.inf, -np.inf
    for key in sorted(arrays):
        rows = arrays[key]
        h.update(f"{key}:{rows.dtype.str}:{[rows.n, *rows.row_shape]}\n".encode())
        for block in chunks(rows):
            h.update(np.ascontiguousarray(block).tobytes())
            if block.size:
                if block.dtype.kind == "f" and not np.isfinite(block).all():
                    raise DataError(f"{path} ({key}) holds NaN or inf values: clean or drop those examples")
                lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
    return h.hexdigest(), lo, hi


def _layout(path: Path, shape: tuple[int, ...], given: str | None) -> str:
    """The layout of examples stored with `shape` ([N, ...]): `given`, or inferred; refused when
    ambiguous."""
    if given is not None:
        if len(shape) != _NDIM[given]:
            raise DataError(f"{path} has shape {list(shape)}, not what --layout {given} reads ({SHAPES})")
        return given
    if len(shape) == 2:
        return "vector"
    if len(shape) == 3:
        if shape[2] in (3, 4) and shape[1] > shape[2]:
            raise DataError(
                f"{path} has shape {list(shape)}: that looks like one H x W x C image, not a data set; "
                "save a stack [N, H, W, C] (or pass --layout nhw for N images of that size)"
            )
        return "nhw"
    if len(shape) == 4:
        last, first = shape[3] in IMAGE_CHANNELS, shape[1] in IMAGE_CHANNELS
        if last != first:
            return "nhwc" if last else "nchw"
        what = "could be either" if last else "has no axis of 1 or 3"
        raise DataError(
            f"{path} has shape {list(shape)}: its channel axis {what} (1 or 3, first or last): "
            "pass --layout nhwc or --layout nchw"
        )
    raise DataError(f"{path} has shape {list(shape)}: save {SHAPES}")


def _range(path: Path, layout: str, dtype: np.dtype, lo: float, hi: float, given: str | None) -> str:
    """The value range the examples are read in: `given` (checked), none for vectors, else inferred
    from the dtype and the values."""
    if given is not None:
        r = RANGES[given]
        if r is not None and (lo < r[0] or hi > r[1]):
            raise DataError(
                f"{path} has values {lo:g}..{hi:g}, outside --range {given}: pass another --range"
            )
        return given
    if layout == "vector":
        return "none"
    for key in ("-1,1", "0,1", "0,255") if dtype.kind == "f" else ("0,255",):
        r = RANGES[key]
        if r[0] <= lo and hi <= r[1] and (key != "-1,1" or lo < 0):
            return key
    raise DataError(
        f"{path} holds {dtype} images with values {lo:g}..{hi:g}: pass --range none to use them as "
        "they are, or the range they are in (-1,1 / 0,1 / 0,255)"
    )


def _shape(layout: str, row: tuple[int, ...]) -> tuple[int, ...]:
    """An example's shape as the models see it: [D] or [C, H, W]."""
    if layout == "vector":
        return row
    shape = {"nhw": (1, *row), "nhwc": (row[-1], *row[:-1]), "nchw": row}[layout]
    if shape[0] not in IMAGE_CHANNELS and shape[0] not in IMAGE_CHANNELS:
        raise DataError(f"images of {shape[0]} channels are not supported: use 1 (grey) or 3 (RGB)")
    return shape


def _claims(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES


@register_source("array", _claims, "an .npy/.npz array file")
def load_array_file(path: Path, split: str, dataset: str | None, options: DataOptions) -> Dataset:
    """One split of the examples in an array file, read as `options` says: the file's own test
    array, else a seeded hold-out of --test-fraction."""
    if options.image_size is not None or options.channels is not None:
        raise DataError(f"--image-size and --channels apply to image folders, not to {path.name}")
    arrays = _read(path)
    for key, rows in arrays.items():
        _check_dtype(path, rows)
        if rows.n < (2 if key == "all" else 1):
            what = "" if key == "all" else f" ({key})"
            raise DataError(f"{path}{what} holds {rows.n} example(s): a data set needs at least 2")
        if rows.row_shape != next(iter(arrays.values())).row_shape:
            raise DataError(f"{path}: the train and test arrays have different example shapes")
    first = next(iter(arrays.values()))
    layout = _layout(path, (first.n, *first.row_shape), options.layout)
    sha, lo, hi = _scan(path, arrays)
    value_range = _range(path, layout, first.dtype, lo, hi, options.value_range)
    fraction = seed = None
    if "all" in arrays:
        fraction, seed = split_options(options)
        rows, index = first, holdout(first.n, fraction, seed)[split]
    else:
        rows = arrays[split]
        index = np.arange(rows.n)
    source = DataSource(
        "array", str(path.resolve()), path.name, sha, layout, value_range,
        "holdout" if "all" in arrays else "file", fraction, seed,
    )  # fmt: skip
    shape = _shape(layout, rows.row_shape)
    return make_dataset(rows, index, source, label_for(path, dataset), shape, RANGES[value_range])
