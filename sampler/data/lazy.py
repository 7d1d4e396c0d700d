"""Examples read on access: rows of an array (in memory, or of an .npy file read with positioned
reads, so that pages never count as the process's memory) seen as float32 [N, *shape] in [-1, 1]."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ganflow.sampler.errors import DataError

# Data sets of at most this many float32 bytes are decoded into memory once; larger ones stay lazy.
IN_MEMORY_MAX_BYTES = 1 << 30
SCAN_BYTES = 1 << 26  # rows per chunk when a whole array is scanned (hash, finiteness, range)


class MemoryRows:
    """Rows of an array held in memory."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.dtype, self.n, self.row_shape = array.dtype, len(array), tuple(array.shape[1:])

    def read(self, idx: np.ndarray) -> np.ndarray:
        return self.array[idx]

    def span(self, lo: int, hi: int) -> np.ndarray:
        return self.array[lo:hi]


class NpyRows:
    """Rows of a C-order .npy file, read with os.pread (the page cache holds them, not the process)."""

    def __init__(self, path: str | Path, offset: int, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        self.path, self.offset, self.dtype = Path(path), offset, np.dtype(dtype)
        self.n, self.row_shape = shape[0], tuple(shape[1:])
        self.row_bytes = self.dtype.itemsize * math.prod(self.row_shape)
        self._fd: int | None = None
        self._pid = -1

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
            self._fd, self._pid = os.open(self.path, os.O_RDONLY), os.getpid()
        return self._fd

    def _pread(self, lo: int, hi: int) -> bytes:
        want = (hi - lo) * self.row_bytes
        buf = os.pread(self._file(), want, self.offset + lo * self.row_bytes)
        if len(buf) != want:
            raise DataError(f"{self.path} is shorter than its header says: it changed or is truncated")
        return buf

    def span(self, lo: int, hi: int) -> np.ndarray:
        return np.frombuffer(self._pread(lo, hi), self.dtype).reshape(hi - lo, *self.row_shape)

    def read(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty((len(idx), *self.row_shape), self.dtype)
        order = np.argsort(idx, kind="stable")
        srt = idx[order]
        # runs of consecutive rows are read at once
        breaks = np.flatnonzero(np.diff(srt) != 1) + 1
        for run in np.split(np.arange(len(srt)), breaks):
            if len(run):
                out[order[run]] = self.span(int(srt[run[0]]), int(srt[run[-1]]) + 1)
        return out

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None, "_pid": -1}

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None and self._pid == os.getpid():
            os.close(self._fd)


def open_npy(path: str | Path) -> NpyRows | MemoryRows:
    """The rows of an .npy file (a Fortran-order file is read into memory). Raises ValueError for
    a file that is not an .npy or holds Python objects."""
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise ValueError("not an .npy file (bad magic bytes)")
    m = np.load(path, mmap_mode="r", allow_pickle=False)  # reads the header only
    if m.ndim == 0 or not m.flags.c_contiguous:
        return MemoryRows(np.atleast_1d(np.ascontiguousarray(m)))
    return NpyRows(path, m.offset, m.dtype, m.shape)


def chunks(rows: MemoryRows | NpyRows) -> Iterator[np.ndarray]:
    """The rows in order, a few tens of MB at a time."""
    step = max(1, SCAN_BYTES // max(1, rows.dtype.itemsize * math.prod(rows.row_shape)))
    for lo in range(0, rows.n, step):
        yield rows.span(lo, min(rows.n, lo + step))


def to_model(raw: np.ndarray, layout: str, lo_hi: tuple[float, float] | None) -> np.ndarray:
    """Stored rows [k, ...] in `layout` -> float32 [k, D] or [k, C, H, W], mapped from lo_hi to
    [-1, 1] (None: values kept)."""
    if layout == "nhw":
        raw = raw[:, None]
    elif layout == "nhwc":
        raw = raw.transpose(0, 3, 1, 2)
    x = np.ascontiguousarray(raw, dtype=np.float32)
    if lo_hi is None or lo_hi == (-1.0, 1.0):
        return x
    lo, hi = lo_hi
    if lo:
        x -= np.float32(lo)
    x /= np.float32((hi - lo) / 2.0)  # 0..255 -> x / 127.5, exact at both ends
    x -= np.float32(1.0)
    return x


class LazyArray:
    """float32 examples [N, *shape]: rows `index` of `rows`, converted by `to_model` on access.
    Indexing as a numpy array (an int, a slice, an int array) returns float32 ndarrays."""

    dtype = np.dtype(np.float32)

    def __init__(
        self,
        rows: MemoryRows | NpyRows,
        index: np.ndarray,
        layout: str,
        lo_hi: tuple[float, float] | None,
        shape: tuple[int, ...],
    ) -> None:
        self.rows, self.index, self.layout, self.lo_hi = rows, np.asarray(index, np.int64), layout, lo_hi
        self.shape = (len(self.index), *shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def _rows(self, key) -> np.ndarray:
        if isinstance(key, slice):
            return self.index[key]
        idx = np.asarray(key)
        if idx.dtype.kind not in "iu":
            raise IndexError(f"a LazyArray takes ints, slices or int arrays, got {idx.dtype}")
        return self.index[idx]

    def __getitem__(self, key) -> np.ndarray:
        rows = self._rows(key)
        one = rows.ndim == 0
        x = to_model(self.rows.read(np.atleast_1d(rows)), self.layout, self.lo_hi)
        return x[0] if one else x

    def take(self, key) -> LazyArray:
        """A lazy view of some of the examples (key as in __getitem__)."""
        return LazyArray(self.rows, np.atleast_1d(self._rows(key)), self.layout, self.lo_hi, self.shape[1:])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        x = self[:]
        return x if dtype is None else x.astype(dtype, copy=False)


def in_memory_if_small(x: LazyArray) -> np.ndarray | LazyArray:
    """The examples decoded into one float32 array when that is small, else `x` itself."""
    return np.asarray(x) if 4 * math.prod(x.shape) <= IN_MEMORY_MAX_BYTES else x
