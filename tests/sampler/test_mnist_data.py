"""MNIST loading: the shared npz, IDX files (plain and gzipped), folder lookup, errors, download."""

from __future__ import annotations

import functools
import gzip
import http.server
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ganflow.sampler.data.mnist import FILES, MIRRORS, load_mnist_arrays, read_idx
from ganflow.sampler.errors import DataError

SHARED_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist.npz"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
_CODES = {
    np.dtype("u1"): 0x08,
    np.dtype("i1"): 0x09,
    np.dtype(">i2"): 0x0B,
    np.dtype(">i4"): 0x0C,
    np.dtype(">f4"): 0x0D,
    np.dtype(">f8"): 0x0E,
}


def idx_bytes(arr: np.ndarray) -> bytes:
    """The IDX encoding of arr: magic (0, 0, type code, ndim), big-endian dims, big-endian data."""
    big = arr.astype(arr.dtype.newbyteorder(">"))
    head = bytes([0, 0, _CODES[big.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + big.tobytes()


def small_set(n: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8))


def write_idx_pair(folder: Path, split: str, images, labels, gz: bool = True, dotted: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for base, arr in zip(FILES[split], (images, labels), strict=True):
        name = base.replace("-idx", ".idx") if dotted else base
        data = idx_bytes(arr)
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)


def assert_one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert msg and "\n" not in msg
    return msg


# --- the shared npz ---------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_MNIST.is_file(), reason="shared mnist.npz absent")
def test_shared_npz_train_and_test():
    x, y = load_mnist_arrays(SHARED_MNIST, split="train")
    assert x.shape == (60000, 28, 28) and y.shape == (60000,)
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == TRAIN_COUNTS
    assert 0 < x.mean() < 255
    xt, yt = load_mnist_arrays(str(SHARED_MNIST), split="test")
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert xt.dtype == np.uint8 and yt.dtype == np.uint8
    assert not np.array_equal(xt[:100], x[:100])


@pytest.mark.skipif(not SHARED_MNIST.is_file(), reason="shared mnist.npz absent")
def test_folder_with_mnist_npz(tmp_path):
    (tmp_path / "mnist.npz").symlink_to(SHARED_MNIST)
    x, y = load_mnist_arrays(tmp_path, split="test")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)


# --- IDX files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fname,gz", [("plain-idx3-ubyte", False), ("packed-idx3-ubyte.gz", True), ("packed-without-suffix", True)]
)
def test_read_idx_roundtrip(tmp_path, fname, gz):
    images, _ = small_set()
    data = idx_bytes(images)
    (tmp_path / fname).write_bytes(gzip.compress(data) if gz else data)
    out = read_idx(tmp_path / fname)
    assert out.dtype == np.uint8 and out.shape == images.shape
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("dtype", ["i1", ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_other_types_native_order(tmp_path, dtype):
    arr = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    (tmp_path / "a.idx").write_bytes(idx_bytes(arr))
    out = read_idx(str(tmp_path / "a.idx"))
    assert out.dtype.isnative and out.shape == (3, 4)
    np.testing.assert_array_equal(out, arr)


def _corrupt(kind: str) -> bytes:
    good = idx_bytes(small_set()[0])
    return {
        "bad-magic": b"\x01\x02" + good[2:],
        "bad-type-code": good[:2] + b"\x07" + good[3:],
        "zero-dims": good[:3] + b"\x00" + good[4:],
        "truncated-header": good[:9],
        "truncated-data": good[:-5],
        "trailing-bytes": good + b"\x00",
        "empty": b"",
        "truncated-gzip": gzip.compress(good)[:200],
        "html-page": b"<html>Not Found</html>",
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "bad-magic",
        "bad-type-code",
        "zero-dims",
        "truncated-header",
        "truncated-data",
        "trailing-bytes",
        "empty",
        "truncated-gzip",
        "html-page",
    ],
)
def test_corrupt_idx_raises_data_error(tmp_path, kind):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(_corrupt(kind))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(path) in assert_one_line(err)


def test_corrupt_idx_in_folder_raises_data_error(tmp_path):
    images, labels = small_set()
    write_idx_pair(tmp_path, "train", images, labels, gz=False)
    path = tmp_path / FILES["train"][0]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated"):
        load_mnist_arrays(tmp_path)


# --- folder lookup ------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("gz,dotted", [(False, False), (True, False), (False, True), (True, True)])
def test_folder_lookup(tmp_path, split, gz, dotted):
    images, labels = small_set(seed=1)
    write_idx_pair(tmp_path, split, images, labels, gz=gz, dotted=dotted)
    x, y = load_mnist_arrays(tmp_path, split=split)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    other = "test" if split == "train" else "train"
    with pytest.raises(DataError, match="no mnist data"):
        load_mnist_arrays(tmp_path, split=other)


def test_folder_with_named_npz_and_npz_file(tmp_path):
    images, labels = small_set(seed=2)
    np.savez(
        tmp_path / "fashion-mnist.npz", x_train=images, y_train=labels, x_test=images[:3], y_test=labels[:3]
    )
    x, y = load_mnist_arrays(tmp_path, name="fashion-mnist")
    np.testing.assert_array_equal(x, images)
    x, y = load_mnist_arrays(tmp_path / "fashion-mnist.npz", split="test")
    np.testing.assert_array_equal(y, labels[:3])


def test_folder_missing_one_file(tmp_path):
    images, labels = small_set()
    write_idx_pair(tmp_path, "train", images, labels)
    (tmp_path / (FILES["train"][1] + ".gz")).unlink()
    with pytest.raises(DataError, match=FILES["train"][1]):
        load_mnist_arrays(tmp_path)


# --- user errors --------------------------------------------------------------------------------


def test_missing_path_one_line_message(tmp_path):
    missing = tmp_path / "nowhere" / "mnist.npz"
    with pytest.raises(DataError) as err:
        load_mnist_arrays(missing)
    msg = assert_one_line(err)
    assert str(missing) in msg and "--data" in msg


def test_empty_folder(tmp_path):
    with pytest.raises(DataError) as err:
        load_mnist_arrays(tmp_path)
    assert "--data" in assert_one_line(err)


def test_npz_missing_keys(tmp_path):
    images, labels = small_set()
    np.savez(tmp_path / "d.npz", x_train=images, y_train=labels)
    with pytest.raises(DataError, match="x_test") as err:
        load_mnist_arrays(tmp_path / "d.npz", split="test")
    assert_one_line(err)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="npz"):
        load_mnist_arrays(tmp_path / "junk.npz")


def test_count_mismatch(tmp_path):
    images, labels = small_set(n=7)
    write_idx_pair(tmp_path, "train", images, labels[:6])
    with pytest.raises(DataError, match="7 images but 6 labels") as err:
        load_mnist_arrays(tmp_path)
    assert_one_line(err)


@pytest.mark.parametrize("shape", [(4, 32, 32), (4, 784)])
def test_not_28x28(tmp_path, shape):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros(shape, np.uint8), y_train=np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="28, 28"):
        load_mnist_arrays(tmp_path / "mnist.npz")


def test_bad_label_values(tmp_path):
    images, labels = small_set()
    labels[0] = 12
    write_idx_pair(tmp_path, "train", images, labels)
    with pytest.raises(DataError, match="labels"):
        load_mnist_arrays(tmp_path)


def test_bad_name_and_split(tmp_path):
    with pytest.raises(DataError, match="unknown dataset"):
        load_mnist_arrays(tmp_path, name="cifar10")
    with pytest.raises(DataError, match="unknown split"):
        load_mnist_arrays(tmp_path, split="valid")


def test_not_npz_file(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="neither"):
        load_mnist_arrays(tmp_path / "x.txt")


def test_mirrors_table():
    assert set(MIRRORS) == {"mnist", "fashion-mnist"}
    assert all(url.endswith("/") for urls in MIRRORS.values() for url in urls)


# --- cache and download -------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def serve(tmp_path):
    """serve(folder) -> base URL of an HTTP server on 127.0.0.1 serving that folder."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_download_to_cache_then_offline(tmp_path, serve):
    images, labels = small_set(seed=3)
    write_idx_pair(tmp_path / "site", "test", images, labels)
    url = serve(tmp_path / "site")
    cache = tmp_path / "cache"
    # a dead mirror first: the loader falls back to the next one
    x, y = load_mnist_arrays(
        None, split="test", cache_dir=cache, mirrors=["http://127.0.0.1:1/", url.rstrip("/")], timeout=5
    )
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert [p.name for p in _files(cache)] == sorted(f + ".gz" for f in FILES["test"])
    assert all(p.parent == cache / "mnist" for p in _files(cache))
    # cached: loads with download off and no mirror
    x2, _ = load_mnist_arrays(None, split="test", cache_dir=cache, download=False, mirrors=[])
    np.testing.assert_array_equal(x2, images)


def test_download_only_missing_file(tmp_path, serve):
    images, labels = small_set(seed=4)
    write_idx_pair(tmp_path / "site", "train", images, labels)
    cache = tmp_path / "cache"
    write_idx_pair(cache / "fashion-mnist", "train", images, labels)
    (cache / "fashion-mnist" / (FILES["train"][1] + ".gz")).unlink()
    (tmp_path / "site" / (FILES["train"][0] + ".gz")).unlink()  # only labels on the mirror
    _, y = load_mnist_arrays(None, name="fashion-mnist", cache_dir=cache, mirrors=[serve(tmp_path / "site")])
    np.testing.assert_array_equal(y, labels)


def test_cache_from_env(tmp_path, monkeypatch):
    images, labels = small_set(seed=5)
    write_idx_pair(tmp_path / "envcache" / "mnist", "train", images, labels, gz=False)
    monkeypatch.setenv("GANFLOW_CACHE", str(tmp_path / "envcache"))
    x, _ = load_mnist_arrays(None, download=False)
    np.testing.assert_array_equal(x, images)


def test_download_off_and_absent(tmp_path):
    with pytest.raises(DataError, match="download is off"):
        load_mnist_arrays(None, cache_dir=tmp_path, download=False)


def test_closed_port_fails_fast_leaving_nothing(tmp_path):
    cache = tmp_path / "cache"
    start = time.monotonic()
    with pytest.raises(DataError) as err:
        load_mnist_arrays(None, cache_dir=cache, mirrors=["http://127.0.0.1:1/"], timeout=2)
    assert time.monotonic() - start < 5
    msg = assert_one_line(err)
    assert "could not be downloaded" in msg and "--data" in msg
    assert _files(cache) == []


@pytest.mark.parametrize("content", [None, b"<html>oops</html>"])
def test_bad_mirror_leaves_no_partial_file(tmp_path, serve, content):
    site = tmp_path / "site"
    site.mkdir()
    if content is not None:  # 200 with a non-gzip body; else 404
        for base in FILES["train"]:
            (site / (base + ".gz")).write_bytes(content)
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    with pytest.raises(DataError, match="could not be downloaded"):
        load_mnist_arrays(None, cache_dir=cache, mirrors=[serve(site)])
    assert _files(cache) == []
