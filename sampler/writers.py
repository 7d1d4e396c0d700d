"""Sample writers (.npz, .npy, PNG grid, folder of PNGs): streamed, complete or absent."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ganflow.sampler.errors import InputError
from ganflow.sampler.fsio import umask
from ganflow.sampler.images import encode_png, image_grid, scatter_png, to_uint8
from ganflow.sampler.registry import Registry

WRITERS: Registry = Registry("output format")
MAX_GRID = 10_000  # a PNG grid holds at most this many samples


def _fsync_replace(tmp: Path, out: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)


class Writer:
    """write(start, z, x) batches in any order of starts; commit() publishes, abort() cleans."""

    def __init__(
        self,
        out: Path,
        n: int,
        shape: tuple[int, ...],
        latent_dim: int,
        data_range: tuple[float, float] | None,
    ) -> None:
        self.out, self.n, self.shape, self.d, self.range = out, n, shape, latent_dim, data_range
        self.validate()
        self.tmpdir = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))

    def validate(self) -> None:
        """Raise InputError before anything is written if this format cannot hold the samples."""

    def write(self, start: int, z: np.ndarray, x: np.ndarray) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def _uint8(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.range or (float(x.min()), float(x.max()))
        return to_uint8(x, lo, hi)


@WRITERS.register("npy")
class NpyWriter(Writer):
    """samples float32 [N, *shape] in one .npy, filled through a memory map (bounded memory)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.x = np.lib.format.open_memmap(
            self.tmpdir / "samples.npy", "w+", np.float32, (self.n, *self.shape)
        )

    def write(self, start, z, x):
        self.x[start : start + len(x)] = x

    def commit(self):
        self.x.flush()
        del self.x
        _fsync_replace(self.tmpdir / "samples.npy", self.out)
        self.abort()


@WRITERS.register("npz")
class NpzWriter(NpyWriter):
    """`samples` float32 [N, *shape] and `latents` float32 [N, d], stored uncompressed."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.z = np.lib.format.open_memmap(self.tmpdir / "latents.npy", "w+", np.float32, (self.n, self.d))

    def write(self, start, z, x):
        super().write(start, z, x)
        self.z[start : start + len(z)] = z

    def commit(self):
        self.x.flush()
        self.z.flush()
        del self.x, self.z
        tmp = self.tmpdir / "out.npz"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.write(self.tmpdir / "samples.npy", "samples.npy")
            zf.write(self.tmpdir / "latents.npy", "latents.npy")
        _fsync_replace(tmp, self.out)
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

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.x = np.zeros((self.n, *self.shape), np.float32)

    def write(self, start, z, x):
        self.x[start : start + len(x)] = x

    def commit(self):
        if len(self.shape) == 3:
            img = image_grid(self._uint8(self.x))
        else:
            img = scatter_png(self.x.reshape(self.n, -1)[:, :2])
        tmp = self.tmpdir / "out.png"
        tmp.write_bytes(encode_png(img))
        _fsync_replace(tmp, self.out)
        self.abort()


@WRITERS.register("png-dir")
class PngDirWriter(Writer):
    """A folder of PNGs named by sample index (000000000.png ...), published by one rename."""

    def validate(self) -> None:
        if len(self.shape) != 3 or self.shape[0] not in (1, 3):
            raise InputError(
                f"a folder of PNGs needs image data, this bundle makes {self.shape}: "
                "write .npz or .png instead"
            )

    def write(self, start, z, x):
        imgs = self._uint8(x)
        for i, img in enumerate(imgs):
            img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
            (self.tmpdir / f"{start + i:09d}.png").write_bytes(encode_png(img))

    def commit(self):
        old = None
        if self.out.exists():  # --overwrite: swap folders so readers never see a partial one
            old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
            os.replace(self.out, old)
        os.chmod(self.tmpdir, 0o777 & ~umask())  # mkdtemp makes 0700 folders
        os.replace(self.tmpdir, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


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


def open_writer(
    out: str | Path,
    n: int,
    shape: tuple[int, ...],
    latent_dim: int,
    data_range: tuple[float, float] | None,
    fmt: str | None = None,
    overwrite: bool = False,
) -> Writer:
    out = Path(out)
    kind = writer_format(out, fmt)
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists: pass --overwrite or choose another --out")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist: create it or choose another --out")
    if out.exists() and out.is_dir() and kind != "png-dir":
        raise InputError(f"{out} is a folder: choose a file name for format {kind}")
    if out.is_dir() and kind == "png-dir" and any(p.suffix != ".png" for p in out.iterdir()):
        raise InputError(f"{out} holds files other than PNGs: refusing to overwrite it")
    return WRITERS.get(kind)(out, n, shape, latent_dim, data_range)
