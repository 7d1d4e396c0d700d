"""Sample writers (.npz, .npy, PNG grid, folder of PNGs): streamed; files complete or absent.

A writer holds the samples with global indices [first, first + n) (one shard of a run). File
formats publish one file at the end; a folder of PNGs publishes each image atomically and can
resume an interrupted run, since sample i is the same whichever worker or run draws it.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from ganflow.sampler.errors import InputError
from ganflow.sampler.fsio import (
    atomic_write_bytes,
    atomic_write_text,
    is_temp,
    make_temp_dir,
    publish_file,
    remove_stale_temps,
)
from ganflow.sampler.images import encode_png, image_grid, outside_plot, scatter_png, to_uint8
from ganflow.sampler.registry import Registry

WRITERS: Registry = Registry("output format")
MAX_GRID = 10_000  # a PNG grid holds at most this many samples
OUTSIDE_NOTE = "Comment"  # tEXt key of a scatter plot's note on the points it leaves out


class Writer:
    """write(start, z, x) batches (global indices); commit() publishes, abort() cleans up."""

    def __init__(
        self,
        out: Path,
        n: int,
        shape: tuple[int, ...],
        latent_dim: int,
        data_range: tuple[float, float] | None,
        first: int = 0,
        run: dict | None = None,
        overwrite: bool = False,
    ) -> None:
        self.out, self.n, self.shape, self.d, self.range = out, n, shape, latent_dim, data_range
        self.first, self.run, self.overwrite = first, run or {}, overwrite
        remove_stale_temps(out.parent)  # left by a killed run on this host
        self.validate()
        self.tmpdir = make_temp_dir(out)
        try:
            self.open()
        except BaseException:  # e.g. the disk is full already: leave nothing behind
            self.abort()
            raise

    def open(self) -> None:
        """Allocate what the format needs, inside self.tmpdir."""

    def validate(self) -> None:
        """Raise InputError before anything is written if this format cannot hold the samples."""

    def todo(self, start: int, stop: int) -> bool:
        """Whether samples [start, stop) still have to be drawn (False: already on disk)."""
        return True

    def write(self, start: int, z: np.ndarray, x: np.ndarray) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def _uint8(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.range or (float(x.min()), float(x.max()))
        return to_uint8(x, lo, hi)


class NpyStream:
    """An .npy file (float32 unless `dtype`) of shape [n, *shape] written row block by row block
    with positioned writes: memory stays bounded by one batch (no memory map whose pages count as
    RSS)."""

    def __init__(self, path: Path, n: int, shape: tuple[int, ...], dtype: str = "<f4") -> None:
        self.dtype = np.dtype(dtype)
        self.path, self.row = path, int(np.prod(shape, dtype=np.int64)) * self.dtype.itemsize
        self.f = open(path, "wb")
        np.lib.format.write_array_header_1_0(
            self.f, {"descr": self.dtype.str, "fortran_order": False, "shape": (n, *shape)}
        )
        self.header = self.f.tell()
        self.size = self.header + n * self.row
        self.f.truncate(self.size)

    def write(self, row: int, a: np.ndarray) -> None:
        data = np.ascontiguousarray(a, dtype=self.dtype).tobytes()
        os.pwrite(self.f.fileno(), data, self.header + row * self.row)

    def close(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()


@WRITERS.register("npy")
class NpyWriter(Writer):
    """samples float32 [N, *shape] in one .npy, streamed to disk (bounded memory)."""

    def open(self) -> None:
        self.x = NpyStream(self.tmpdir / "samples.npy", self.n, self.shape)

    def write(self, start, z, x):
        self.x.write(start - self.first, x)

    def commit(self):
        self.x.close()
        publish_file(self.tmpdir / "samples.npy", self.out)
        self.abort()

    def abort(self):
        for stream in (getattr(self, "x", None), getattr(self, "z", None)):
            if stream is not None and not stream.f.closed:
                stream.f.close()
        super().abort()


def _zip_add(zf: zipfile.ZipFile, src: Path, name: str) -> None:
    """Store `src` as `name` with a fixed timestamp and mode, so that the same samples give a
    byte-identical .npz whenever they are written (zf.write would stamp the file's mtime)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    with open(src, "rb") as f, zf.open(info, "w", force_zip64=src.stat().st_size >= 1 << 31) as out:
        shutil.copyfileobj(f, out, 1 << 20)


@WRITERS.register("npz")
class NpzWriter(NpyWriter):
    """`samples` float32 [N, *shape] and `latents` float32 [N, d], stored uncompressed."""

    def open(self) -> None:
        super().open()
        self.z = NpyStream(self.tmpdir / "latents.npy", self.n, (self.d,))

    def write(self, start, z, x):
        super().write(start, z, x)
        self.z.write(start - self.first, z)

    def commit(self):
        self.x.close()
        self.z.close()
        tmp = self.tmpdir / "out.npz"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name in ("samples.npy", "latents.npy"):
                _zip_add(zf, self.tmpdir / name, name)
        publish_file(tmp, self.out)
        self.abort()


@WRITERS.register("png")
class GridWriter(Writer):
    """One PNG: an image grid for images, a scatter plot for 2-D points."""

    def validate(self) -> None:
        if self.n > MAX_GRID:
            raise InputError(
                f"a PNG grid holds at most {MAX_GRID} samples, asked for {self.n}: "
                "write .npz or a folder instead"
            )

    def open(self) -> None:
        self.x = np.zeros((self.n, *self.shape), np.float32)

    def write(self, start, z, x):
        self.x[start - self.first : start - self.first + len(x)] = x

    def commit(self):
        text = {}
        if len(self.shape) == 3:
            img = image_grid(self._uint8(self.x))
        else:
            pts = self.x.reshape(self.n, -1)[:, :2]
            img = scatter_png(pts)
            left_out = outside_plot(pts)
            if left_out:  # said in the PNG itself, and by `ganflow sample` (cli/report.py)
                text[OUTSIDE_NOTE] = f"{left_out} of {self.n} points lie outside the plotted range"
        tmp = self.tmpdir / "out.png"
        tmp.write_bytes(encode_png(img, text))
        publish_file(tmp, self.out)
        self.abort()


@WRITERS.register("png-dir")
class PngDirWriter(Writer):
    """A folder of PNGs named by global sample index (000000000.png ...), each written atomically.

    `.ganflow-sample.json` in the folder describes the run (bundle, method, seed, N); a later run
    with the same description skips the images already there, so shards share one folder and an
    interrupted run resumes.
    """

    DESCRIPTOR = ".ganflow-sample.json"

    def validate(self) -> None:
        if len(self.shape) != 3 or self.shape[0] not in (1, 3):
            raise InputError(
                f"a folder of PNGs needs image data, this bundle makes {self.shape}: "
                "write .npz or .png instead"
            )
        desc = self.out / self.DESCRIPTOR
        if self.out.is_dir():
            remove_stale_temps(self.out)
            files = [p for p in self.out.iterdir() if p.name != self.DESCRIPTOR and not is_temp(p)]
            if any(p.suffix != ".png" for p in files):
                raise InputError(f"{self.out} holds files other than PNGs: choose another --out")
            same = desc.is_file() and json.loads(desc.read_text()) == self.run
            if files and not same:
                if not self.overwrite:
                    raise InputError(
                        f"{self.out} holds samples of another run: pass --overwrite "
                        "(deletes them) or choose another --out"
                    )
                for p in files:
                    p.unlink()
        self.out.mkdir(exist_ok=True)
        atomic_write_text(desc, json.dumps(self.run, sort_keys=True))

    def _path(self, i: int) -> Path:
        return self.out / f"{i:09d}.png"

    def todo(self, start, stop):
        return not all(self._path(i).is_file() for i in range(start, stop))

    def write(self, start, z, x):
        imgs = self._uint8(x)
        for i, img in enumerate(imgs):
            img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
            if not self._path(start + i).is_file():
                atomic_write_bytes(self._path(start + i), encode_png(img))

    def commit(self):
        self.abort()


def writer_format(out: Path, fmt: str | None) -> str:
    """The format named by --format, else by the output's suffix (none: a folder of PNGs)."""
    if fmt is not None:
        WRITERS.get(fmt)
        return fmt
    suffix = out.suffix.lower().lstrip(".")
    if suffix in WRITERS:
        return suffix
    if suffix == "":
        return "png-dir"
    raise InputError(f"cannot tell the format of {out}: use .npz, .npy, .png, a folder, or --format")


def shard_path(out: Path, kind: str, shard: int, shards: int) -> Path:
    """A file per shard (name-00002-of-00008.npz); a folder of PNGs is shared by all shards."""
    if shards == 1 or kind == "png-dir":
        return out
    return out.with_name(f"{out.stem}-{shard:05d}-of-{shards:05d}{out.suffix}")


def open_writer(
    out: str | Path,
    n: int,
    shape: tuple[int, ...],
    latent_dim: int,
    data_range: tuple[float, float] | None,
    fmt: str | None = None,
    overwrite: bool = False,
    first: int = 0,
    run: dict | None = None,
) -> Writer:
    """A writer for samples [first, first + n) at `out` (a folder of PNGs when it has no suffix)."""
    out = Path(out)
    kind = writer_format(out, fmt)
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist: create it or choose another --out")
    if kind != "png-dir":
        if out.is_dir():
            raise InputError(f"{out} is a folder: choose a file name for format {kind}")
        if out.exists() and not overwrite:
            raise InputError(f"{out} already exists: pass --overwrite or choose another --out")
    return WRITERS.get(kind)(out, n, shape, latent_dim, data_range, first, run, overwrite)
