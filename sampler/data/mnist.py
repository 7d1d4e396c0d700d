"""MNIST / Fashion-MNIST as uint8 arrays: from an npz, a folder of IDX files, or a download."""

from __future__ import annotations

import gzip
import math
import os
import tempfile
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ganflow.sampler.data.sources import cache_root
from ganflow.sampler.errors import DataError

MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
HINT = "pass --data PATH to mnist.npz or a folder of IDX files"
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


def _one_line(err: object) -> str:
    return " ".join(str(err).split())


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped or not, detected by its magic bytes) into a native-endian array."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read IDX file {path}: {_one_line(e)}; {HINT}") from e
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(
                f"corrupt gzip in {path} ({_one_line(e)}): delete it and download it again, or {HINT}"
            ) from e
    bad = f"not a valid IDX file: {path}"
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{bad} (bad magic number): delete it and download it again, or {HINT}")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise DataError(f"{bad} (unknown type code 0x{code:02x}); {HINT}")
    if ndim == 0:
        raise DataError(f"{bad} (zero dimensions); {HINT}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{bad} (truncated header): delete it and download it again, or {HINT}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = math.prod(dims) * dtype.itemsize
    if len(raw) - header != expected:
        what = "truncated" if len(raw) - header < expected else "trailing bytes"
        raise DataError(
            f"{bad} ({what}: {len(raw) - header} data bytes, expected {expected} "
            f"for shape {dims}): delete it and download it again, or {HINT}"
        )
    arr = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _checked(images: np.ndarray, labels: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"images in {where} have shape {images.shape}, expected [N, 28, 28]: "
            f"not MNIST-layout data; {HINT}"
        )
    if labels.ndim != 1:
        raise DataError(f"labels in {where} have shape {labels.shape}, expected [N]; {HINT}")
    if len(images) != len(labels):
        raise DataError(f"{where} has {len(images)} images but {len(labels)} labels; {HINT}")
    for arr, what, hi in ((images, "images", 255), (labels, "labels", 9)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"{what} in {where} are {arr.dtype}, expected uint8; {HINT}")
        if arr.size and (arr.min() < 0 or arr.max() > hi):
            raise DataError(
                f"{what} in {where} have values {arr.min()}..{arr.max()}, expected 0..{hi}; {HINT}"
            )
    return images.astype(np.uint8, copy=False), labels.astype(np.uint8, copy=False)


def _load_npz(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    keys = (f"x_{split}", f"y_{split}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in keys if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path} lacks {', '.join(missing)} (has {', '.join(npz.files)}): "
                    f"expected keys x_train/y_train/x_test/y_test; {HINT}"
                )
            images, labels = npz[keys[0]], npz[keys[1]]
    except DataError:
        raise
    except Exception as e:  # zipfile.BadZipFile, ValueError, OSError, pickled arrays...
        raise DataError(f"cannot read {path} as npz ({_one_line(e)}); {HINT}") from e
    return _checked(images, labels, str(path))


def _find_idx(folder: Path, base: str) -> Path | None:
    dotted = base.replace("-idx", ".idx")
    for cand in (base, base + ".gz", dotted, dotted + ".gz"):
        if (folder / cand).is_file():
            return folder / cand
    return None


def _load_folder(folder: Path, name: str, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    img_path, lbl_path = (_find_idx(folder, base) for base in FILES[split])
    if img_path and lbl_path:
        return _checked(read_idx(img_path), read_idx(lbl_path), str(folder))
    for npz_name in dict.fromkeys((f"{name}.npz", "mnist.npz")):
        if (folder / npz_name).is_file():
            return _load_npz(folder / npz_name, split)
    if img_path or lbl_path:
        missing = FILES[split][1] if img_path else FILES[split][0]
        have = (img_path or lbl_path).name
        raise DataError(f"{folder} has {have} but not {missing}[.gz]: add it, or {HINT}")
    return None


def _npz_shape(path: Path, key: str) -> tuple[int, ...] | None:
    """The shape of array `key` in the .npz at `path`, from its header (None: absent or unreadable)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as f:
            reader = readers.get(np.lib.format.read_magic(f))
            return None if reader is None else tuple(reader(f)[0])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def is_mnist_path(path: Path) -> bool:
    """Whether `path` holds MNIST-layout data: a folder of IDX files (or with mnist.npz), or an .npz
    with x_train [N, 28, 28] and y_train (other arrays are read as the user's own data)."""
    if path.is_dir():
        bases = FILES["train"] + FILES["test"]
        return any(_find_idx(path, b) for b in bases) or any(
            (path / n).is_file() for n in (f"{name}.npz" for name in MIRRORS)
        )
    if not (path.is_file() and path.suffix.lower() == ".npz"):
        return False
    shape = _npz_shape(path, "x_train")
    return shape is not None and shape[1:] == (28, 28) and _npz_shape(path, "y_train") is not None


def _download(url: str, dest: Path, timeout: float) -> None:
    """Fetch url into dest atomically: a temp file in the same folder, then os.replace."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while chunk := resp.read(1 << 16):
                out.write(chunk)
        with open(tmp, "rb") as f:
            if f.read(2) != _GZIP_MAGIC:
                raise ValueError("response is not a gzip file")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch(folder: Path, name: str, split: str, mirrors: list[str], timeout: float) -> None:
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create cache folder {folder} ({_one_line(e)}); {HINT}") from e
    for base in FILES[split]:
        if _find_idx(folder, base):
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + f"/{base}.gz"
            try:
                _download(url, folder / f"{base}.gz", timeout)
                break
            except Exception as e:  # URLError, HTTPError, timeouts, bad content
                errors.append(f"{url}: {_one_line(e)}")
        else:
            if created and not any(folder.iterdir()):
                folder.rmdir()
            tried = "; ".join(errors) or "no mirrors given"
            raise DataError(
                f"{name} not found at {folder} and could not be downloaded (offline?) [{tried}]: {HINT}"
            )


def load_mnist_arrays(
    source: str | Path | None,
    *,
    name: str = "mnist",
    split: str = "train",
    cache_dir: str | Path | None = None,
    download: bool = True,
    mirrors: list[str] | None = None,
    timeout: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """images uint8 [N, 28, 28], labels uint8 [N]."""
    if name not in MIRRORS:
        raise DataError(f"unknown dataset {name!r}: use one of {', '.join(MIRRORS)}")
    if split not in FILES:
        raise DataError(f"unknown split {split!r}: use one of {', '.join(FILES)}")
    if source is not None:
        path = Path(source).expanduser()
        if not path.exists():
            raise DataError(f"{name} not found at {path}: {HINT}")
        if path.is_dir():
            found = _load_folder(path, name, split)
            if found is None:
                a, b = FILES[split]
                raise DataError(
                    f"no {name} data in {path} (looked for {a}[.gz], {b}[.gz], mnist.npz, {name}.npz): {HINT}"
                )
            return found
        if path.suffix.lower() == ".npz":
            return _load_npz(path, split)
        raise DataError(f"{path} is neither an .npz file nor a folder: {HINT}")
    root = Path(cache_dir).expanduser() if cache_dir else cache_root()
    folder = root / name
    has_idx = all(_find_idx(folder, base) for base in FILES[split])
    has_npz = any((folder / n).is_file() for n in (f"{name}.npz", "mnist.npz"))
    if not (has_idx or has_npz):
        if not download:
            raise DataError(f"{name} not found at {folder} and download is off: {HINT}")
        _fetch(folder, name, split, MIRRORS[name] if mirrors is None else mirrors, timeout)
    found = _load_folder(folder, name, split)
    if found is None:  # only if the folder changed under us
        raise DataError(f"{name} not found at {folder}: {HINT}")
    return found
