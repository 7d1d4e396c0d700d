"""Image folders as data: the PNG/JPEG files under a folder (subfolders too, sorted by path),
resized and center-cropped to one size, decoded once into a uint8 [N, H, W, C] .npy cache and read
from it on access, so that a folder larger than memory trains in bounded memory."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from ganflow.sampler.data.lazy import NpyRows, open_npy
from ganflow.sampler.data.sources import (
    cache_root,
    holdout,
    label_for,
    make_dataset,
    register_source,
    split_options,
)
from ganflow.sampler.data.spec import DataOptions, Dataset, DataSource
from ganflow.sampler.errors import DataError, MissingDependencyError
from ganflow.sampler.fsio import atomic_write_text, publish_file, remove_stale_temps, temp_file_beside

SUFFIXES = (".png", ".jpg", ".jpeg")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")  # Pillow modes read as one channel by default
CACHE = "image-folders"  # under the ganflow cache folder ($GANFLOW_CACHE, ~/.cache/ganflow)


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise MissingDependencyError(
            "reading an image folder needs Pillow: pip install 'ganflow[images]'"
        ) from None
    return Image


def list_images(folder: Path) -> list[Path]:
    """The image files under `folder`, sorted by relative path; hidden files and folders skipped."""
    files = [
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def _unreadable(folder: Path, path: Path, err: Exception) -> DataError:
    why = " ".join(str(err).split())[:160] or type(err).__name__
    return DataError(f"cannot read image {path.relative_to(folder)} in {folder} ({why}): fix or remove it")


def _header(folder: Path, path: Path) -> tuple[tuple[int, int], str]:
    """((width, height), Pillow mode) of an image, from its header."""
    try:
        with _pil().open(path) as im:
            return im.size, im.mode
    except Exception as e:  # Pillow raises many types for a bad file
        raise _unreadable(folder, path, e) from None


def _geometry(folder: Path, files: list[Path], options: DataOptions) -> tuple[tuple[int, int], int]:
    """((H, W), channels) of the decoded images: --image-size (square) or the images' one size;
    --channels or the first image's (grey or RGB)."""
    (w, h), mode = _header(folder, files[0])
    channels = options.channels or (1 if mode in GREY_MODES else 3)
    if options.image_size is not None:
        return (options.image_size, options.image_size), channels
    for f in files[1:]:
        (ow, oh), _ = _header(folder, f)
        if (ow, oh) != (w, h):
            raise DataError(
                f"the images in {folder} differ in size ({files[0].name} {w}x{h}, {f.name} {ow}x{oh}): "
                "pass --image-size S to resize and center-crop them to S x S"
            )
    return (h, w), channels


def decode_image(data: bytes, hw: tuple[int, int], channels: int) -> np.ndarray:
    """PNG/JPEG bytes -> uint8 [H, W, C]: converted to grey or RGB, scaled (bicubic) so that it
    covers H x W, then center-cropped."""
    Image = _pil()
    h, w = hw
    with Image.open(io.BytesIO(data)) as im:
        img = im.convert("L" if channels == 1 else "RGB")
    if img.size != (w, h):
        scale = max(w / img.width, h / img.height)
        size = (max(w, round(img.width * scale)), max(h, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.BICUBIC)
        left, top = (img.width - w) // 2, (img.height - h) // 2
        img = img.crop((left, top, left + w, top + h))
    a = np.asarray(img, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


def _fingerprint(folder: Path, files: list[Path], hw: tuple[int, int], channels: int) -> str:
    """Names, sizes and modification times of the files, and the decoded size: the cache key."""
    h = hashlib.sha256(f"{hw[0]}x{hw[1]}x{channels}\n".encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def _build(folder: Path, files: list[Path], hw: tuple[int, int], channels: int, npy: Path) -> str:
    """Decode every image into the .npy cache `npy` (one image in memory at a time); returns the
    sha256 of the sorted file list and the files' bytes."""
    from ganflow.sampler.writers import NpyStream

    digest = hashlib.sha256()
    tmp = temp_file_beside(npy)
    stream = NpyStream(tmp, len(files), (*hw, channels), dtype="|u1")
    try:
        for i, f in enumerate(files):
            data = f.read_bytes()
            digest.update(f"{f.relative_to(folder).as_posix()}\0{len(data)}\n".encode() + data)
            try:
                img = decode_image(data, hw, channels)
            except Exception as e:  # Pillow raises many types for a bad file
                raise _unreadable(folder, f, e) from None
            stream.write(i, img)
        stream.close()
        publish_file(tmp, npy)
    except BaseException:
        stream.f.close()
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def cached_images(folder: Path, files: list[Path], hw: tuple[int, int], channels: int) -> tuple[NpyRows, str]:
    """(rows of the uint8 [N, H, W, C] cache of the folder's images, their content sha256); the
    cache is built on first use and reused while the files are unchanged."""
    root = cache_root() / CACHE
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(root)
    stem = f"{label_for(folder, None)}-{_fingerprint(folder, files, hw, channels)}"
    npy, info = root / f"{stem}.npy", root / f"{stem}.json"
    try:
        sha = json.loads(info.read_text())["sha256"]
        rows = open_npy(npy)
        if isinstance(rows, NpyRows) and (rows.n, *rows.row_shape) == (len(files), *hw, channels):
            return rows, sha
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or damaged: build it again
    sha = _build(folder, files, hw, channels, npy)
    atomic_write_text(info, json.dumps({"folder": str(folder.resolve()), "sha256": sha, "n": len(files)}))
    return open_npy(npy), sha


@register_source("image-folder", Path.is_dir, "a folder of PNG/JPEG images")
def load_image_folder(folder: Path, split: str, dataset: str | None, options: DataOptions) -> Dataset:
    """One split of the images under `folder` (a seeded hold-out of --test-fraction), read lazily."""
    if options.layout is not None or options.value_range is not None:
        raise DataError(f"--layout and --range apply to array files, not to the image folder {folder}")
    files = list_images(folder)
    if not files:
        raise DataError(
            f"no PNG or JPEG images in {folder} (subfolders included): add some, or pass --data PATH "
            "to an .npy/.npz file or MNIST files"
        )
    if len(files) < 2:
        raise DataError(f"{folder} holds 1 image: a data set needs at least 2")
    hw, channels = _geometry(folder, files, options)
    rows, sha = cached_images(folder, files, hw, channels)
    fraction, seed = split_options(options)
    source = DataSource(
        "image-folder", str(folder.resolve()), folder.resolve().name, sha, "nhwc", "0,255",
        "holdout", fraction, seed, hw, channels,
    )  # fmt: skip
    index = holdout(len(files), fraction, seed)[split]
    return make_dataset(
        rows, index, source, label_for(folder, dataset), (channels, *hw), (0.0, 255.0), lazy=True
    )
